import { IdentitystoreClient } from '@aws-sdk/client-identitystore';
import { IdentityStoreUsers } from '../../functions/adapters/identity-store-users';
import { directoryFileSchema, readDirectoryFile } from '../../functions/core/directory-file';
import { AccessError, RetryableError } from '../../functions/core/errors';
import { noUserError, type UserMapping } from '../../functions/core/identity-mapping';
import { resolvePrincipal } from '../../functions/core/principal';
import { AWS_CALLS, awsClientConfig } from '../../functions/shared/clients';
import {
  deriveUserId,
  IdentityCenterStandIn,
  type RunningIdentityCenter,
  startIdentityCenterStandIn,
} from '../../local/identity-center';

// How a Slack person is found in Identity Center (identityCenter.userMapping), against the
// stand-in through the real SDK client.

const IDENTITY_STORE = 'd-9067a1b2c3';
const id = (userName: string) => deriveUserId(IDENTITY_STORE, userName);
const users = [
  // By email: her Slack email. By local part: userName alice at example.com.
  { userName: 'alice', email: 'alice@example.com', displayName: 'Alice' },
  // By userName: the userName is the Slack email; her Identity Center email is another one.
  { userName: 'bob@example.com', email: 'robert@corp.example', displayName: 'Bob' },
];
const sandbox = directoryFileSchema.parse({
  instanceArn: 'arn:aws:sso:::instance/ssoins-7223a1b2c3d4e5f6',
  identityStoreId: IDENTITY_STORE,
  users,
});

let running: RunningIdentityCenter;
let client: IdentitystoreClient;

beforeAll(async () => {
  running = await startIdentityCenterStandIn({ sandbox, requestsPerSecond: Infinity });
  client = new IdentitystoreClient({
    endpoint: running.url,
    region: 'us-east-1',
    credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
    ...awsClientConfig(AWS_CALLS.identityStore),
  });
});
afterAll(async () => {
  client.destroy();
  await running.close();
});
beforeEach(() => running.standIn.reset());

const directory = (mapping: UserMapping) => new IdentityStoreUsers(client, IDENTITY_STORE, mapping);
const lookups = () =>
  running.standIn
    .operationLog()
    .filter((e) => e.operation === 'GetUserId')
    .map(
      (e) =>
        (e.params as { AlternateIdentifier: { UniqueAttribute: unknown } }).AlternateIdentifier
          .UniqueAttribute,
    );

describe('by email (the default)', () => {
  it('asks GetUserId for emails.value', async () => {
    expect(await directory({ by: 'email' }).findUserIdByEmail('Alice@Example.com')).toBe(id('alice'));
    expect(lookups()).toEqual([{ AttributePath: 'emails.value', AttributeValue: 'alice@example.com' }]);
  });

  it('finds no user for an email nobody has, and the error names the person and the attribute', async () => {
    expect(await directory({ by: 'email' }).findUserIdByEmail('bob@example.com')).toBeUndefined();
    expect(noUserError({ by: 'email' }, 'bob@example.com').message).toBe(
      'No Identity Center user has emails.value matching bob@example.com (identityCenter.userMapping: email)',
    );
  });
});

describe('by userName', () => {
  it('finds the user whose userName is the Slack email, whatever their own email', async () => {
    expect(await directory({ by: 'userName' }).findUserIdByEmail('bob@example.com')).toBe(
      id('bob@example.com'),
    );
    expect(lookups()).toEqual([{ AttributePath: 'userName', AttributeValue: 'bob@example.com' }]);
  });

  it('does not match on email under this mapping', async () => {
    expect(await directory({ by: 'userName' }).findUserIdByEmail('alice@example.com')).toBeUndefined();
    expect(noUserError({ by: 'userName' }, 'alice@example.com').message).toContain('userName matching');
  });
});

describe('by the local part at one domain', () => {
  const mapping: UserMapping = { by: 'userNameLocalPart', domain: 'example.com' };

  it('looks the local part up as the userName', async () => {
    expect(await directory(mapping).findUserIdByEmail('Alice@Example.COM')).toBe(id('alice'));
    expect(lookups()).toEqual([{ AttributePath: 'userName', AttributeValue: 'alice' }]);
  });

  it('refuses an email at another domain, naming the person and the mapping, without a call', async () => {
    const error = await directory(mapping)
      .findUserIdByEmail('alice@corp.example')
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AccessError);
    expect((error as AccessError).code).toBe('no-identity-center-user');
    expect((error as Error).message).toMatch(/alice@corp\.example is not at example\.com.*userNameLocalPart/);
    expect(lookups()).toEqual([]);
  });

  it('is what resolvePrincipal (the Slack form) asks, once for a lower-case email', async () => {
    expect(await resolvePrincipal(directory(mapping), 'alice@example.com')).toEqual({
      principalId: id('alice'),
      email: 'alice@example.com',
    });
    expect(lookups()).toHaveLength(1);
  });
});

describe('two users with one email', () => {
  // Identity Center requires user names and emails to be unique and a user has one email, so the
  // write that would make a second is refused: the stand-in and the directory file refuse it too,
  // and GetUserId never has two users to choose from.
  const twins = [...users, { userName: 'alice2', email: 'ALICE@example.com', displayName: 'Alice 2' }];

  it('cannot be seeded into the stand-in', () => {
    const file = directoryFileSchema.parse({ ...sandbox, users: twins });
    expect(() => new IdentityCenterStandIn({ sandbox: file })).toThrow(
      'two sandbox users have the email ALICE@example.com',
    );
  });

  it('is refused by the directory file with the path', () => {
    const text = JSON.stringify({ ...sandbox, users: twins });
    expect(() => readDirectoryFile(text, 'twins.json')).toThrow(/users\[2\]\.email/);
  });
});

it('turns throttling into RetryableError', async () => {
  running.standIn.setFaults({ failNext: [{ operation: 'GetUserId', error: 'ThrottlingException' }] });
  await expect(directory({ by: 'email' }).findUserIdByEmail('alice@example.com')).rejects.toThrow(
    RetryableError,
  );
});
