import { readFileSync } from 'node:fs';
import path from 'node:path';
import { IdentitystoreClient } from '@aws-sdk/client-identitystore';
import { IdentityStoreGroups } from '../../functions/adapters/identity-store-groups';
import { DirectoryCache, GroupNotFoundError } from '../../functions/core/directory';
import {
  type DirectoryFileInput,
  directoryFileSchema,
  fileDirectory,
  readDirectoryFile,
} from '../../functions/core/directory-file';
import { RetryableError } from '../../functions/core/errors';
import type { UserMapping } from '../../functions/core/identity-mapping';
import { AWS_CALLS, awsClientConfig } from '../../functions/shared/clients';
import {
  createManualClock,
  type ManualClock,
  type RunningIdentityCenter,
  startIdentityCenterStandIn,
} from '../../local/identity-center';

// The identitystore group source against the Identity Center stand-in, through the real SDK
// client with the product's settings (one attempt: who retries is the caller's business).

const IDENTITY_STORE = 'd-9067a1b2c3';
const SANDBOX_FILE = path.join(__dirname, '../../config/sandbox.yaml');

function seed(extra: Partial<DirectoryFileInput> = {}) {
  return directoryFileSchema.parse({
    instanceArn: 'arn:aws:sso:::instance/ssoins-7223a1b2c3d4e5f6',
    identityStoreId: IDENTITY_STORE,
    users: [
      { userName: 'alice', email: 'Alice@Example.com', displayName: 'Alice' },
      { userName: 'bob@example.com', email: 'bob@example.com', displayName: 'Bob' },
      { userName: 'carol', email: 'carol@other.example', displayName: 'Carol' },
    ],
    groups: [
      { displayName: 'SRE', members: ['alice', 'bob@example.com', 'carol'] },
      { displayName: 'Empty', members: [] },
    ],
    ...extra,
  });
}

let running: RunningIdentityCenter | undefined;
let client: IdentitystoreClient | undefined;
let clock: ManualClock;

async function start(sandbox = seed(), options: { defaultPageSize?: number } = {}) {
  clock = createManualClock();
  running = await startIdentityCenterStandIn({
    sandbox,
    now: clock.now,
    requestsPerSecond: Infinity,
    ...options,
  });
  client = new IdentitystoreClient({
    endpoint: running.url,
    region: 'us-east-1',
    credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
    ...awsClientConfig(AWS_CALLS.identityStore),
  });
  return running;
}

function groups(mapping: UserMapping = { by: 'email' }, options = {}) {
  if (!client) throw new Error('start first');
  return new IdentityStoreGroups(
    client,
    IDENTITY_STORE,
    mapping,
    { now: () => new Date(clock.now()) },
    options,
  );
}

const calls = (operation: string) =>
  running?.standIn.operationLog().filter((e) => e.operation === operation).length ?? 0;

afterEach(async () => {
  client?.destroy();
  await running?.close();
  running = undefined;
  client = undefined;
});

it('answers the members as Slack emails, through the identity mapping', async () => {
  await start();
  expect(await groups({ by: 'email' }).members('SRE')).toEqual([
    'alice@example.com',
    'bob@example.com',
    'carol@other.example',
  ]);
  expect(await groups({ by: 'userName' }).members('SRE')).toEqual(['bob@example.com']);
  expect(await groups({ by: 'userNameLocalPart', domain: 'example.com' }).members('SRE')).toEqual([
    'alice@example.com',
    'carol@example.com',
  ]);
  expect(await groups().members('Empty')).toEqual([]);
});

it('turns a group Identity Center does not have into GroupNotFoundError (which selects nobody)', async () => {
  await start();
  const error = await groups()
    .members('sre')
    .catch((e: unknown) => e);
  expect(error).toBeInstanceOf(GroupNotFoundError);
  expect((error as GroupNotFoundError).selector).toBe('identityCenterGroup:sre');
  const cache = new DirectoryCache({ identityCenterGroup: groups() }, { now: () => new Date(clock.now()) });
  await cache.refresh(['identityCenterGroup:Nope', 'identityCenterGroup:SRE']);
  expect(cache.membersOf('identityCenterGroup:Nope')).toEqual([]);
  expect(cache.membersOf('identityCenterGroup:SRE')).toHaveLength(3);
});

it('reads every page of ListGroupMemberships', async () => {
  const users = Array.from({ length: 230 }, (_, i) => ({
    userName: `user${i}`,
    email: `user${i}@example.com`,
    displayName: `User ${i}`,
  }));
  await start(seed({ users, groups: [{ displayName: 'Everyone', members: users.map((u) => u.userName) }] }));
  const members = await groups({ by: 'email' }, { concurrency: 8 }).members('Everyone');
  expect(members).toHaveLength(230);
  expect(new Set(members)).toEqual(new Set(users.map((u) => u.email)));
  expect(calls('ListGroupMemberships')).toBe(3); // 100 + 100 + 30
  expect(calls('DescribeUser')).toBe(230);
});

it('reads memberships every time, so a removal shows at the next read; users come from the cache', async () => {
  const stand = await start();
  const source = groups();
  expect(await source.members('SRE')).toContain('carol@other.example');
  expect(calls('DescribeUser')).toBe(3);
  // Carol leaves the group (the IdP's sync), through the stand-in's admin endpoint.
  const response = await fetch(`${stand.url}/_standin/groups/SRE/remove-member`, {
    method: 'POST',
    body: JSON.stringify({ userName: 'carol' }),
  });
  expect(await response.json()).toEqual({ removed: true });
  expect(await source.members('SRE')).toEqual(['alice@example.com', 'bob@example.com']);
  expect(calls('ListGroupMemberships')).toBe(2);
  expect(calls('DescribeUser')).toBe(3); // alice and bob were cached
  await fetch(`${stand.url}/_standin/groups/SRE/add-member`, {
    method: 'POST',
    body: JSON.stringify({ userName: 'carol' }),
  });
  expect(await source.members('SRE')).toContain('carol@other.example');
});

it('keeps a group’s id, and looks the name up again when the id is gone (deleted, created again)', async () => {
  const stand = await start();
  const source = groups();
  await source.members('SRE');
  await source.members('SRE');
  expect(calls('GetGroupId')).toBe(1);
  expect(calls('ListGroupMemberships')).toBe(2);
  // SRE is deleted and created again: a new id, now only alice.
  stand.standIn.reset(
    seed({
      groups: [{ displayName: 'SRE', groupId: '11111111-2222-4333-a444-555555555555', members: ['alice'] }],
    }),
  );
  expect(await source.members('SRE')).toEqual(['alice@example.com']);
  expect(
    stand.standIn
      .operationLog()
      .map((e) => [e.operation, e.outcome])
      .filter(([operation]) => operation !== 'DescribeUser'),
  ).toEqual([
    ['ListGroupMemberships', 'ResourceNotFoundException'],
    ['GetGroupId', 'ok'],
    ['ListGroupMemberships', 'ok'],
  ]);
});

it('asks for a user again once the cached email is older than its TTL (emails change in the IdP)', async () => {
  await start();
  const source = groups({ by: 'email' }, { cacheTtlMs: 60_000 });
  expect(await source.members('SRE')).toContain('alice@example.com');
  // Alice's email changes (same user id: ids derive from the userName).
  const changed = seed({
    users: [
      { userName: 'alice', email: 'alice.new@example.com', displayName: 'Alice' },
      { userName: 'bob@example.com', email: 'bob@example.com', displayName: 'Bob' },
      { userName: 'carol', email: 'carol@other.example', displayName: 'Carol' },
    ],
  });
  running?.standIn.reset(changed);
  clock.advance(59_000);
  expect(await source.members('SRE')).toContain('alice@example.com');
  expect(calls('DescribeUser')).toBe(0); // the reset cleared the log: all three came from the cache
  clock.advance(2_000);
  const members = await source.members('SRE');
  expect(members).toContain('alice.new@example.com');
  expect(members).not.toContain('alice@example.com');
  expect(calls('DescribeUser')).toBe(3);
});

it.each([
  ['GetGroupId', 'ThrottlingException'],
  ['ListGroupMemberships', 'ThrottlingException'],
  ['DescribeUser', 'ThrottlingException'],
  ['ListGroupMemberships', 'InternalServerException'],
] as const)('%s answering %s → RetryableError', async (operation, error) => {
  const stand = await start();
  stand.standIn.setFaults({ failNext: [{ operation, error }] });
  const failure = await groups()
    .members('SRE')
    .catch((e: unknown) => e);
  expect(failure).toBeInstanceOf(RetryableError);
  expect((failure as Error).message).toContain(operation);
  expect(((failure as Error).cause as Error).name).toBe(error);
});

it('lets other errors through as they are (AccessDenied is not retried)', async () => {
  const stand = await start();
  stand.standIn.setFaults({ failNext: [{ operation: 'GetGroupId', error: 'AccessDeniedException' }] });
  const failure = await groups()
    .members('SRE')
    .catch((e: unknown) => e);
  expect(failure).not.toBeInstanceOf(RetryableError);
  expect((failure as Error).name).toBe('AccessDeniedException');
});

it('answers as the directory file does, for every group of config/sandbox.yaml and every mapping', async () => {
  const file = readDirectoryFile(readFileSync(SANDBOX_FILE, 'utf8'), 'config/sandbox.yaml');
  await start(file);
  const mappings: UserMapping[] = [
    { by: 'email' },
    { by: 'userName' },
    { by: 'userNameLocalPart', domain: 'example.com' },
  ];
  for (const mapping of mappings)
    for (const group of file.groups) {
      const offline = await fileDirectory(file, mapping).identityCenterGroups.members(group.displayName);
      expect({
        mapping,
        group: group.displayName,
        members: await groups(mapping).members(group.displayName),
      }).toEqual({ mapping, group: group.displayName, members: offline });
    }
  expect(await groups().members('SRE')).toEqual(['carol@example.com', 'dave@example.com']);
});
