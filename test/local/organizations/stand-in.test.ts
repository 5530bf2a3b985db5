import {
  AccountNotFoundException,
  DescribeAccountCommand,
  DescribeOrganizationalUnitCommand,
  InvalidInputException,
  ListAccountsCommand,
  ListAccountsForParentCommand,
  ListChildrenCommand,
  ListRootsCommand,
  ListTagsForResourceCommand,
  OrganizationalUnitNotFoundException,
  OrganizationsClient,
  ParentNotFoundException,
  ServiceException,
  TargetNotFoundException,
  TooManyRequestsException,
} from '@aws-sdk/client-organizations';
import { directoryFileSchema } from '../../../functions/core/directory-file';
import { type RunningIdentityCenter, startIdentityCenterStandIn } from '../../../local/identity-center';

// The Organizations stand-in (local/organizations), served by the Identity Center stand-in's
// server, through the real SDK client with no SDK retries (each test sees every answer).

const accounts = Array.from({ length: 23 }, (_, i) => ({
  id: String(100000000000 + i),
  name: `acct-${i}`,
  parent: i < 21 ? 'ou-ab12-aaaaaaaa' : 'r-ab12',
  tags: { env: i % 2 ? 'prod' : 'dev' },
  ...(i === 22 ? { state: 'SUSPENDED' as const } : {}),
}));
const sandbox = directoryFileSchema.parse({
  instanceArn: 'arn:aws:sso:::instance/ssoins-7223a1b2c3d4e5f6',
  identityStoreId: 'd-9067a1b2c3',
  organization: {
    rootId: 'r-ab12',
    units: [
      { id: 'ou-ab12-aaaaaaaa', name: 'Workloads', parent: 'r-ab12', tags: { team: 'platform' } },
      { id: 'ou-ab12-bbbbbbbb', name: 'Prod', parent: 'ou-ab12-aaaaaaaa' },
    ],
  },
  accounts,
});

let running: RunningIdentityCenter;
let client: OrganizationsClient;

beforeAll(async () => {
  running = await startIdentityCenterStandIn({ sandbox });
  client = new OrganizationsClient({
    endpoint: running.url,
    region: 'us-east-1',
    credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
    maxAttempts: 1,
  });
});
afterAll(async () => {
  client.destroy();
  await running.close();
});
beforeEach(() => running.organizations.reset());

it('ListRoots answers the file’s root', async () => {
  const roots = await client.send(new ListRootsCommand({}));
  expect(roots.Roots).toEqual([
    expect.objectContaining({
      Id: 'r-ab12',
      Name: 'Root',
      Arn: expect.stringMatching(/:root\/o-[a-z0-9]{10}\/r-ab12$/),
    }),
  ]);
});

it('ListChildren pages at most 20 and refuses more; ParentNotFoundException for an unknown parent', async () => {
  const first = await client.send(
    new ListChildrenCommand({ ParentId: 'ou-ab12-aaaaaaaa', ChildType: 'ACCOUNT' }),
  );
  expect(first.Children).toHaveLength(20);
  expect(first.Children?.[0]).toEqual({ Id: '100000000000', Type: 'ACCOUNT' });
  const rest = await client.send(
    new ListChildrenCommand({
      ParentId: 'ou-ab12-aaaaaaaa',
      ChildType: 'ACCOUNT',
      NextToken: first.NextToken,
    }),
  );
  expect(rest.Children?.map((c) => c.Id)).toEqual(['100000000020']);
  expect(rest.NextToken).toBeUndefined();
  const units = await client.send(
    new ListChildrenCommand({ ParentId: 'ou-ab12-aaaaaaaa', ChildType: 'ORGANIZATIONAL_UNIT' }),
  );
  expect(units.Children).toEqual([{ Id: 'ou-ab12-bbbbbbbb', Type: 'ORGANIZATIONAL_UNIT' }]);
  await expect(
    client.send(
      new ListChildrenCommand({ ParentId: 'ou-ab12-aaaaaaaa', ChildType: 'ACCOUNT', MaxResults: 21 }),
    ),
  ).rejects.toBeInstanceOf(InvalidInputException);
  await expect(
    client.send(new ListChildrenCommand({ ParentId: 'ou-ab12-cccccccc', ChildType: 'ACCOUNT' })),
  ).rejects.toBeInstanceOf(ParentNotFoundException);
  await expect(
    client.send(new ListChildrenCommand({ ParentId: 'prod', ChildType: 'ACCOUNT' })),
  ).rejects.toBeInstanceOf(InvalidInputException);
});

it('ListAccountsForParent lists only the parent’s own accounts, with State and Status', async () => {
  const atRoot = await client.send(new ListAccountsForParentCommand({ ParentId: 'r-ab12' }));
  expect(atRoot.Accounts?.map((a) => [a.Id, a.State, a.Status])).toEqual([
    ['100000000021', 'ACTIVE', 'ACTIVE'],
    ['100000000022', 'SUSPENDED', 'SUSPENDED'],
  ]);
  const prod = await client.send(new ListAccountsForParentCommand({ ParentId: 'ou-ab12-bbbbbbbb' }));
  expect(prod.Accounts).toEqual([]);
  await expect(client.send(new ListAccountsForParentCommand({ ParentId: 'r-zz99' }))).rejects.toBeInstanceOf(
    ParentNotFoundException,
  );
});

it('ListAccounts pages through every account', async () => {
  const ids: string[] = [];
  let token: string | undefined;
  let pages = 0;
  do {
    const page = await client.send(new ListAccountsCommand({ MaxResults: 10, NextToken: token }));
    ids.push(...(page.Accounts ?? []).map((a) => a.Id ?? ''));
    token = page.NextToken;
    pages++;
  } while (token);
  expect(pages).toBe(3);
  expect(ids).toEqual(accounts.map((a) => a.id));
});

it('ListTagsForResource for accounts, OUs and the root; TargetNotFoundException otherwise', async () => {
  expect((await client.send(new ListTagsForResourceCommand({ ResourceId: '100000000001' }))).Tags).toEqual([
    { Key: 'env', Value: 'prod' },
  ]);
  expect(
    (await client.send(new ListTagsForResourceCommand({ ResourceId: 'ou-ab12-aaaaaaaa' }))).Tags,
  ).toEqual([{ Key: 'team', Value: 'platform' }]);
  expect((await client.send(new ListTagsForResourceCommand({ ResourceId: 'r-ab12' }))).Tags).toEqual([]);
  await expect(
    client.send(new ListTagsForResourceCommand({ ResourceId: '999999999999' })),
  ).rejects.toBeInstanceOf(TargetNotFoundException);
});

it('DescribeAccount and DescribeOrganizationalUnit, and their not-found errors', async () => {
  const account = await client.send(new DescribeAccountCommand({ AccountId: '100000000003' }));
  expect(account.Account).toMatchObject({
    Id: '100000000003',
    Name: 'acct-3',
    State: 'ACTIVE',
    JoinedMethod: 'CREATED',
  });
  await expect(client.send(new DescribeAccountCommand({ AccountId: '999999999999' }))).rejects.toBeInstanceOf(
    AccountNotFoundException,
  );
  const unit = await client.send(
    new DescribeOrganizationalUnitCommand({ OrganizationalUnitId: 'ou-ab12-bbbbbbbb' }),
  );
  expect(unit.OrganizationalUnit).toMatchObject({ Id: 'ou-ab12-bbbbbbbb', Name: 'Prod' });
  await expect(
    client.send(new DescribeOrganizationalUnitCommand({ OrganizationalUnitId: 'ou-ab12-cccccccc' })),
  ).rejects.toBeInstanceOf(OrganizationalUnitNotFoundException);
});

it('injects TooManyRequestsException and ServiceException through its own fault knobs', async () => {
  const post = (path: string, body: unknown) =>
    fetch(`${running.url}${path}`, { method: 'POST', body: JSON.stringify(body) });
  await post('/_standin/organizations/faults', {
    failNext: [{ operation: 'ListRoots', error: 'TooManyRequestsException' }],
  });
  await expect(client.send(new ListRootsCommand({}))).rejects.toBeInstanceOf(TooManyRequestsException);
  await expect(client.send(new ListRootsCommand({}))).resolves.toBeDefined();
  running.organizations.setFaults({ internalErrorRate: 1 });
  const failure = await client.send(new ListRootsCommand({})).catch((e: unknown) => e);
  expect(failure).toBeInstanceOf(ServiceException);
  expect((failure as ServiceException).$metadata.httpStatusCode).toBe(500);
  const counters = (await (await fetch(`${running.url}/_standin/organizations/counters`)).json()) as {
    counters: {
      calls: number;
      throttled: number;
      internalErrors: number;
      byOperation: Record<string, number>;
    };
  };
  expect(counters.counters).toMatchObject({
    calls: 3,
    throttled: 1,
    internalErrors: 1,
    byOperation: { ListRoots: 3 },
  });
  // Identity Center's faults are its own.
  expect(running.standIn.counters().calls).toBe(0);
  expect((await post('/_standin/organizations/faults', { throttleRate: 2 })).status).toBe(400);
});

it('answers an empty page with a NextToken when asked to (as Organizations may)', async () => {
  running.organizations.setFaults({ emptyPageRate: 1 });
  const page = await client.send(new ListAccountsForParentCommand({ ParentId: 'r-ab12' }));
  expect(page.Accounts).toEqual([]);
  expect(page.NextToken).toBeDefined();
  running.organizations.setFaults({ emptyPageRate: 0 });
  const next = await client.send(
    new ListAccountsForParentCommand({ ParentId: 'r-ab12', NextToken: page.NextToken }),
  );
  expect(next.Accounts?.map((a) => a.Id)).toEqual(['100000000021', '100000000022']);
});

it('closes an account through the admin endpoint', async () => {
  const response = await fetch(`${running.url}/_standin/organizations/accounts/100000000003/state`, {
    method: 'POST',
    body: JSON.stringify({ state: 'PENDING_CLOSURE' }),
  });
  expect(response.status).toBe(200);
  const account = await client.send(new DescribeAccountCommand({ AccountId: '100000000003' }));
  expect([account.Account?.State, account.Account?.Status]).toEqual(['PENDING_CLOSURE', 'PENDING_CLOSURE']);
  running.organizations.setAccountState('100000000003', 'CLOSED');
  const closed = await client.send(new DescribeAccountCommand({ AccountId: '100000000003' }));
  expect([closed.Account?.State, closed.Account?.Status]).toEqual(['CLOSED', undefined]);
});

it('is reached through AWS_ENDPOINT_URL_ORGANIZATIONS, with no endpoint in code', async () => {
  const saved = process.env.AWS_ENDPOINT_URL_ORGANIZATIONS;
  process.env.AWS_ENDPOINT_URL_ORGANIZATIONS = running.url;
  try {
    const fromEnv = new OrganizationsClient({
      region: 'eu-west-1',
      credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
    });
    expect((await fromEnv.send(new ListRootsCommand({}))).Roots?.[0]?.Id).toBe('r-ab12');
    fromEnv.destroy();
  } finally {
    if (saved === undefined) delete process.env.AWS_ENDPOINT_URL_ORGANIZATIONS;
    else process.env.AWS_ENDPOINT_URL_ORGANIZATIONS = saved;
  }
});
