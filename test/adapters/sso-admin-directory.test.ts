import { SSOAdminClient } from '@aws-sdk/client-sso-admin';
import { SsoAdminDirectory } from '../../functions/adapters/sso-admin-directory';

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
