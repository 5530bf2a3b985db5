import { readFileSync } from 'node:fs';
import path from 'node:path';
import { OrganizationsClient } from '@aws-sdk/client-organizations';
import { OrganizationsAccounts } from '../../functions/adapters/organizations-accounts';
import { type DirectoryFile, fileDirectory, readDirectoryFile } from '../../functions/core/directory-file';
import { RetryableError } from '../../functions/core/errors';
import { AWS_CALLS, awsClientConfig } from '../../functions/shared/clients';
import { type RunningIdentityCenter, startIdentityCenterStandIn } from '../../local/identity-center';

// The Organizations directory (ou: and tag: selectors) against the Organizations stand-in,
// through the real SDK client with the product's settings for it (AWS_CALLS.organizations).

const SANDBOX_FILE = path.join(__dirname, '../../config/sandbox.yaml');
const ROOT = 'r-ab12';
/** OU ids: `ou-ab12-` and 8 characters of the name. */
const ou = (name: string) => `ou-ab12-${name}`;

/**
 * root ─ workloads ─ prod ─ prod-eu (deepest)
 *      │           └ dev (25 child OUs: ListChildren takes two pages)
 *      └ 3 accounts at the root
 * 30 accounts in prod (two ListAccountsForParent pages), 2 in prod-eu (one SUSPENDED), one in
 * each of dev's children.
 */
function bigOrganization(): DirectoryFile {
  const units = [
    { id: ou('workload'), name: 'Workloads', parent: ROOT },
    { id: ou('prod0000'), name: 'Prod', parent: ou('workload') },
    { id: ou('prodeu00'), name: 'Prod EU', parent: ou('prod0000') },
    { id: ou('devroot0'), name: 'Dev', parent: ou('workload') },
    ...Array.from({ length: 25 }, (_, i) => ({ id: devUnit(i), name: `Dev ${i}`, parent: ou('devroot0') })),
  ];
  let n = 0;
  const account = (parent: string, tags: Record<string, string>, state?: 'SUSPENDED') => ({
    id: String(200000000000 + n),
    name: `acct-${n++}`,
    parent,
    tags,
    ...(state ? { state } : {}),
  });
  const accounts = [
    ...Array.from({ length: 3 }, () => account(ROOT, { env: 'shared' })),
    ...Array.from({ length: 30 }, (_, i) =>
      account(ou('prod0000'), { env: 'prod', team: i % 2 ? 'a' : 'b' }),
    ),
    account(ou('prodeu00'), { env: 'prod' }),
    account(ou('prodeu00'), { env: 'prod' }, 'SUSPENDED'),
    ...Array.from({ length: 25 }, (_, i) => account(devUnit(i), { env: 'dev' })),
  ];
  // Through the file's own checks (ids unique, parents known, no cycles).
  const document = {
    instanceArn: 'arn:aws:sso:::instance/ssoins-7223a1b2c3d4e5f6',
    identityStoreId: 'd-9067a1b2c3',
    organization: { rootId: ROOT, units },
    accounts,
  };
  return readDirectoryFile(JSON.stringify(document), 'big organization');
}
const devUnit = (i: number) => ou(`dev${String(i).padStart(5, '0')}`);

let running: RunningIdentityCenter | undefined;
let client: OrganizationsClient | undefined;

async function start(file: DirectoryFile) {
  running = await startIdentityCenterStandIn({ sandbox: file });
  client = new OrganizationsClient({
    endpoint: running.url,
    region: 'us-east-1',
    credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
    ...awsClientConfig(AWS_CALLS.organizations),
  });
  return { stand: running, directory: new OrganizationsAccounts(client) };
}

afterEach(async () => {
  client?.destroy();
  await running?.close();
  running = undefined;
  client = undefined;
});

const ids = (accounts: { id: string }[]) => accounts.map((a) => a.id);

describe('accountsUnder', () => {
  it('walks nested OUs through every page, leaving out the suspended account', async () => {
    const file = bigOrganization();
    const { stand, directory } = await start(file);
    const under = await directory.accountsUnder(ou('workload'));
    const expected = file.accounts.filter((a) => a.parent !== ROOT && a.state === 'ACTIVE').map((a) => a.id);
    expect(ids(under)).toEqual(expected.sort());
    expect(under).toHaveLength(30 + 1 + 25);
    expect(ids(under)).not.toContain('200000000034'); // the SUSPENDED one in prod-eu
    // Calls: one ListAccountsForParent per parent (prod: two pages) and one ListChildren per
    // parent (dev: two pages): 29 parents.
    const counted = directory.apiCalls();
    expect(counted.byOperation).toEqual({ ListAccountsForParent: 30, ListChildren: 30 });
    expect(counted.total).toBe(60);
    expect(stand.organizations.counters().calls).toBe(60);
  });

  it('counts the root as a parent like any OU, and the deepest OU alone', async () => {
    const { directory } = await start(bigOrganization());
    expect(await directory.accountsUnder(ROOT)).toHaveLength(3 + 30 + 1 + 25);
    expect(ids(await directory.accountsUnder(ou('prodeu00')))).toEqual(['200000000033']);
  });

  it('still finds everything when Organizations answers empty pages with a NextToken', async () => {
    const file = bigOrganization();
    const { stand, directory } = await start(file);
    stand.organizations.setFaults({ emptyPageRate: 0.5, seed: 7 });
    expect(await directory.accountsUnder(ou('workload'))).toHaveLength(56);
    expect(stand.organizations.counters().emptyPages).toBeGreaterThan(0);
  });

  it('names a root or OU the organization does not have', async () => {
    const { directory } = await start(bigOrganization());
    await expect(directory.accountsUnder('ou-ab12-nothere0')).rejects.toThrow(
      'ou-ab12-nothere0: the organization has no root or OU with this id',
    );
  });
});

describe('accountsTagged', () => {
  it('reads each ACTIVE account’s tags once per compile, however many tag selectors ask, and keeps those carrying the value', async () => {
    const file = bigOrganization();
    const { directory } = await start(file);
    const prod = await directory.accountsTagged('env', 'prod');
    expect(prod).toHaveLength(31);
    expect(ids(prod)).not.toContain('200000000034');
    expect(await directory.accountsTagged('team', 'a')).toHaveLength(15);
    expect(await directory.accountsTagged('env', 'PROD')).toEqual([]);
    expect(await directory.accountsTagged('owner', 'x')).toEqual([]);
    const { byOperation } = directory.apiCalls();
    // 60 accounts: 3 ListAccounts pages and one ListTagsForResource for each of the 59 ACTIVE
    // ones, for the four selectors together (one adapter instance serves one compile).
    expect(byOperation).toEqual({ ListAccounts: 3, ListTagsForResource: 59 });
  });
});

describe('account', () => {
  it('answers an ACTIVE account, nothing for a suspended or unknown one', async () => {
    const { stand, directory } = await start(bigOrganization());
    expect(await directory.account('200000000000')).toEqual({ id: '200000000000', name: 'acct-0' });
    expect(await directory.account('200000000034')).toBeUndefined();
    expect(await directory.account('999999999999')).toBeUndefined();
    stand.organizations.setAccountState('200000000000', 'PENDING_CLOSURE');
    expect(await directory.account('200000000000')).toBeUndefined();
  });
});

describe('throttling', () => {
  it('is retried by the SDK while it passes, and counted per request', async () => {
    const { stand, directory } = await start(bigOrganization());
    stand.organizations.setFaults({
      failNext: [{ operation: 'DescribeAccount', error: 'TooManyRequestsException' }],
    });
    expect(await directory.account('200000000001')).toEqual({ id: '200000000001', name: 'acct-1' });
    expect(directory.apiCalls().byOperation).toEqual({ DescribeAccount: 2 });
  });

  it('becomes RetryableError once the SDK’s attempts are spent', async () => {
    const { stand, directory } = await start(bigOrganization());
    stand.organizations.setFaults({ throttleRate: 1 });
    const failure = await directory.accountsUnder(ROOT).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(RetryableError);
    expect(((failure as Error).cause as Error).name).toBe('TooManyRequestsException');
    stand.organizations.setFaults({ throttleRate: 0, internalErrorRate: 1 });
    await expect(directory.account('200000000001')).rejects.toBeInstanceOf(RetryableError);
    expect(directory.apiCalls().byOperation.DescribeAccount).toBe(AWS_CALLS.organizations.attempts);
  });
});

it('answers as the directory file does for every OU and tag of config/sandbox.yaml', async () => {
  const file = readDirectoryFile(readFileSync(SANDBOX_FILE, 'utf8'), 'config/sandbox.yaml');
  const offline = fileDirectory(file, { by: 'email' }).organization;
  const { directory } = await start(file);
  for (const parent of [file.organization.rootId, ...file.organization.units.map((u) => u.id)])
    expect({ parent, accounts: await directory.accountsUnder(parent) }).toEqual({
      parent,
      accounts: await offline.accountsUnder(parent),
    });
  for (const env of ['prod', 'staging', 'sandbox', 'none'])
    expect(await directory.accountsTagged('env', env)).toEqual(await offline.accountsTagged('env', env));
  for (const account of file.accounts)
    expect(await directory.account(account.id)).toEqual(await offline.account(account.id));
  expect(await directory.accountsUnder('ou-sb00-prod0000')).toEqual([
    { id: '111111111111', name: 'production' },
  ]);
});
