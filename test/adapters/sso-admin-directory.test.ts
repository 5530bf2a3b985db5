import { SSOAdminClient } from '@aws-sdk/client-sso-admin';
import { DELETE_THROTTLE_PAUSES_MS, SsoAdminDirectory } from '../../functions/adapters/sso-admin-directory';
import { RetryableError } from '../../functions/core/errors';

// What admission charges: the Identity Center calls one invocation made. Invocations that share a
// process (the local Step Functions host runs them side by side) must not count each other's.

function directoryWithPages(pagesOf: Record<string, number>): SsoAdminDirectory {
  const client = new SSOAdminClient({ region: 'us-east-1' });
  // Each account answers its number of pages of one principal each, a little later each time.
  client.send = (async (command: { input: { AccountId: string; NextToken?: string } }) => {
    await new Promise((resolve) => setTimeout(resolve, 2));
    const page = Number(command.input.NextToken ?? 0);
    const last = (pagesOf[command.input.AccountId] ?? 1) - 1;
    return {
      AccountAssignments: [{ PrincipalType: 'USER', PrincipalId: `u-${command.input.AccountId}-${page}` }],
      ...(page < last ? { NextToken: String(page + 1) } : {}),
    };
  }) as unknown as SSOAdminClient['send'];
  return new SsoAdminDirectory(client, 'arn:aws:sso:::instance/ssoins-7223a1b2c3d4e5f6');
}

it('tallies only the calls of its own invocation, and what its listing found', async () => {
  const directory = directoryWithPages({ '111111111111': 7, '222222222222': 2 });
  const ps = 'arn:aws:sso:::permissionSet/ssoins-7223a1b2c3d4e5f6/ps-1a2b3c4d5e6f7a8b';
  const [long, short, none] = await Promise.all([
    SsoAdminDirectory.tallying(() => directory.listUserPrincipals('111111111111', ps)),
    SsoAdminDirectory.tallying(() => directory.listUserPrincipals('222222222222', ps)),
    SsoAdminDirectory.tallying(async () => 'no call'),
  ]);
  expect(long?.tally).toEqual({ calls: 7, listed: 7 });
  expect(short?.tally).toEqual({ calls: 2, listed: 2 });
  expect(none?.tally).toEqual({ calls: 0 });
  expect(short?.result).toEqual({ status: 'fulfilled', value: ['u-222222222222-0', 'u-222222222222-1'] });
});

describe('a throttled DeleteAccountAssignment', () => {
  const key = {
    accountId: '222222222222',
    permissionSetArn: 'arn:aws:sso:::permissionSet/ssoins-7223a1b2c3d4e5f6/ps-1a2b3c4d5e6f7a8b',
    principalId: 'user-alice',
  };
  const throttled = () => Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' });

  function directoryAnswering(answers: Array<'throttle' | 'ok' | 'denied'>) {
    const client = new SSOAdminClient({ region: 'us-east-1' });
    const sent: string[] = [];
    client.send = (async (command: { constructor: { name: string } }) => {
      sent.push(command.constructor.name);
      const answer = answers.shift();
      if (answer === 'throttle') throw throttled();
      if (answer === 'denied') throw Object.assign(new Error('no'), { name: 'AccessDeniedException' });
      return { AccountAssignmentDeletionStatus: { Status: 'IN_PROGRESS', RequestId: 'del-1' } };
    }) as unknown as SSOAdminClient['send'];
    const pauses: number[] = [];
    const directory = new SsoAdminDirectory(
      client,
      'arn:aws:sso:::instance/ssoins-7223a1b2c3d4e5f6',
      async (ms) => {
        pauses.push(ms);
      },
    );
    return { directory, sent, pauses };
  }

  it('is asked again after short pauses, and counts one call', async () => {
    const { directory, sent, pauses } = directoryAnswering(['throttle', 'throttle', 'ok']);
    const { tally, result } = await SsoAdminDirectory.tallying(() => directory.delete(key));
    expect(result).toEqual({ status: 'fulfilled', value: { status: 'IN_PROGRESS', requestId: 'del-1' } });
    expect(sent).toEqual(Array(3).fill('DeleteAccountAssignmentCommand'));
    expect(pauses).toEqual([...DELETE_THROTTLE_PAUSES_MS.slice(0, 2)]);
    expect(tally.calls).toBe(1);
  });

  it('gives up to the state machine as RetryableError once the pauses are spent, and never retries another error', async () => {
    const spent = directoryAnswering(Array(DELETE_THROTTLE_PAUSES_MS.length + 1).fill('throttle'));
    await expect(spent.directory.delete(key)).rejects.toBeInstanceOf(RetryableError);
    expect(spent.sent).toHaveLength(DELETE_THROTTLE_PAUSES_MS.length + 1);
    const denied = directoryAnswering(['denied', 'ok']);
    await expect(denied.directory.delete(key)).rejects.toMatchObject({ name: 'AccessDeniedException' });
    expect(denied.sent).toHaveLength(1);
  });
});
