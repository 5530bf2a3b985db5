import { CreateAccountAssignmentCommand, SSOAdminClient } from '@aws-sdk/client-sso-admin';
import { mockClient } from 'aws-sdk-client-mock';
import { SsoAdminDirectory } from '../../functions/adapters/sso-admin-directory';
import { isTransientAwsError } from '../../functions/adapters/transient-errors';
import { RetryableError } from '../../functions/core/errors';

const named = (name: string, extra: Record<string, unknown> = {}) =>
  Object.assign(new Error(name), { name }, extra);

describe('isTransientAwsError', () => {
  it.each([
    ['throttling', named('ThrottlingException')],
    ['a conflict', named('ConflictException')],
    ['a socket timeout', named('TimeoutError')],
    ['a reset connection', named('Error', { code: 'ECONNRESET' })],
    ['any 5xx answer', named('SomethingBroke', { $metadata: { httpStatusCode: 503 } })],
  ])('retries %s', (_label, error) => {
    expect(isTransientAwsError(error)).toBe(true);
  });

  it.each([
    ['access denied', named('AccessDeniedException', { $metadata: { httpStatusCode: 403 } })],
    ['a validation error', named('ValidationException', { $metadata: { httpStatusCode: 400 } })],
    ['a plain bug', new TypeError('x is undefined')],
    ['a non-error', 'ThrottlingException'],
  ])('does not retry %s', (_label, error) => {
    expect(isTransientAwsError(error)).toBe(false);
  });
});

describe('SsoAdminDirectory', () => {
  const sso = mockClient(SSOAdminClient);
  afterEach(() => sso.reset());
  afterAll(() => sso.restore());
  const key = {
    accountId: '222222222222',
    permissionSetArn: 'arn:aws:sso:::permissionSet/ssoins-7223a1b2c3d4e5f6/ps-1a2b3c4d5e6f7a8b',
    principalId: 'user-alice',
  };

  it('turns a socket timeout into RetryableError, which the state machine retries', async () => {
    sso.on(CreateAccountAssignmentCommand).rejects(named('TimeoutError'));
    const directory = new SsoAdminDirectory(
      new SSOAdminClient({ region: 'us-east-1' }),
      'arn:aws:sso:::instance/ssoins-7223a1b2c3d4e5f6',
    );
    await expect(directory.create(key)).rejects.toBeInstanceOf(RetryableError);
  });

  it('passes an access-denied error through unchanged', async () => {
    sso.on(CreateAccountAssignmentCommand).rejects(named('AccessDeniedException'));
    const directory = new SsoAdminDirectory(
      new SSOAdminClient({ region: 'us-east-1' }),
      'arn:aws:sso:::instance/ssoins-7223a1b2c3d4e5f6',
    );
    await expect(directory.create(key)).rejects.toMatchObject({ name: 'AccessDeniedException' });
  });
});
