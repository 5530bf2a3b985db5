import {
  DescribeGroupCommand,
  GetGroupIdCommand,
  GetUserIdCommand,
  IdentitystoreClient,
  IsMemberInGroupsCommand,
  ListGroupMembershipsCommand,
  ListGroupMembershipsForMemberCommand,
  ResourceNotFoundException,
  ThrottlingException,
  ValidationException,
} from '@aws-sdk/client-identitystore';
import { directoryFileSchema } from '../../../functions/core/directory-file';
import { AWS_CALLS, awsClientConfig } from '../../../functions/shared/clients';
import {
  deriveGroupId,
  deriveUserId,
  type RunningIdentityCenter,
  startIdentityCenterStandIn,
} from '../../../local/identity-center';

// The identitystore group calls of the Identity Center stand-in, through the real SDK client.

const STORE = 'd-9067a1b2c3';
const sandbox = directoryFileSchema.parse({
  instanceArn: 'arn:aws:sso:::instance/ssoins-7223a1b2c3d4e5f6',
  identityStoreId: STORE,
  users: [
    { userName: 'alice', email: 'alice@example.com', displayName: 'Alice' },
    {
      userName: 'carol',
      email: 'carol@example.com',
      displayName: 'Carol',
      externalId: { issuer: 'okta', id: 'c-1' },
    },
    { userName: 'dave', email: 'dave@example.com', displayName: 'Dave' },
  ],
  groups: [
    {
      displayName: 'SRE',
      members: ['carol', 'dave'],
      description: 'On call',
      externalId: { issuer: 'okta', id: 'g-sre' },
    },
    { displayName: 'PlatformAdmins', members: ['dave'] },
  ],
});
const SRE = deriveGroupId(STORE, 'SRE');
const ADMINS = deriveGroupId(STORE, 'PlatformAdmins');
const user = (name: string) => deriveUserId(STORE, name);

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

it('GetGroupId by displayName (exactly) or ExternalId; DescribeGroup', async () => {
  const byName = await client.send(
    new GetGroupIdCommand({
      IdentityStoreId: STORE,
      AlternateIdentifier: { UniqueAttribute: { AttributePath: 'displayName', AttributeValue: 'SRE' } },
    }),
  );
  expect(byName.GroupId).toBe(SRE);
  const byExternal = await client.send(
    new GetGroupIdCommand({
      IdentityStoreId: STORE,
      AlternateIdentifier: { ExternalId: { Issuer: 'okta', Id: 'g-sre' } },
    }),
  );
  expect(byExternal.GroupId).toBe(SRE);
  await expect(
    client.send(
      new GetGroupIdCommand({
        IdentityStoreId: STORE,
        AlternateIdentifier: { UniqueAttribute: { AttributePath: 'displayName', AttributeValue: 'sre' } },
      }),
    ),
  ).rejects.toBeInstanceOf(ResourceNotFoundException);
  await expect(
    client.send(
      new GetGroupIdCommand({
        IdentityStoreId: STORE,
        AlternateIdentifier: { UniqueAttribute: { AttributePath: 'userName', AttributeValue: 'SRE' } },
      }),
    ),
  ).rejects.toBeInstanceOf(ValidationException);
  const group = await client.send(new DescribeGroupCommand({ IdentityStoreId: STORE, GroupId: SRE }));
  expect(group).toMatchObject({
    GroupId: SRE,
    DisplayName: 'SRE',
    Description: 'On call',
    IdentityStoreId: STORE,
  });
  await expect(
    client.send(new DescribeGroupCommand({ IdentityStoreId: STORE, GroupId: user('alice') })),
  ).rejects.toMatchObject({ name: 'ResourceNotFoundException', ResourceType: 'GROUP' });
});

it('GetUserId by ExternalId (userName and emails.value: stand-in.test.ts)', async () => {
  const answer = await client.send(
    new GetUserIdCommand({
      IdentityStoreId: STORE,
      AlternateIdentifier: { ExternalId: { Issuer: 'okta', Id: 'c-1' } },
    }),
  );
  expect(answer.UserId).toBe(user('carol'));
});

it('ListGroupMemberships pages with MaxResults and NextToken, and refuses MaxResults over 100', async () => {
  const first = await client.send(
    new ListGroupMembershipsCommand({ IdentityStoreId: STORE, GroupId: SRE, MaxResults: 1 }),
  );
  expect(first.GroupMemberships?.map((m) => m.MemberId?.UserId)).toEqual([user('carol')]);
  expect(first.NextToken).toBeDefined();
  const second = await client.send(
    new ListGroupMembershipsCommand({
      IdentityStoreId: STORE,
      GroupId: SRE,
      MaxResults: 1,
      NextToken: first.NextToken,
    }),
  );
  expect(second.GroupMemberships?.map((m) => m.MemberId?.UserId)).toEqual([user('dave')]);
  expect(second.NextToken).toBeUndefined();
  // A token of another group's listing is not this one's.
  await expect(
    client.send(
      new ListGroupMembershipsCommand({
        IdentityStoreId: STORE,
        GroupId: ADMINS,
        NextToken: first.NextToken,
      }),
    ),
  ).rejects.toBeInstanceOf(ValidationException);
  await expect(
    client.send(new ListGroupMembershipsCommand({ IdentityStoreId: STORE, GroupId: SRE, MaxResults: 101 })),
  ).rejects.toBeInstanceOf(ValidationException);
  await expect(
    client.send(new ListGroupMembershipsCommand({ IdentityStoreId: STORE, GroupId: user('alice') })),
  ).rejects.toBeInstanceOf(ResourceNotFoundException);
});

it('IsMemberInGroups and ListGroupMembershipsForMember', async () => {
  const answer = await client.send(
    new IsMemberInGroupsCommand({
      IdentityStoreId: STORE,
      MemberId: { UserId: user('carol') },
      GroupIds: [SRE, ADMINS],
    }),
  );
  expect(answer.Results?.map((r) => [r.GroupId, r.MembershipExists])).toEqual([
    [SRE, true],
    [ADMINS, false],
  ]);
  const dave = await client.send(
    new ListGroupMembershipsForMemberCommand({ IdentityStoreId: STORE, MemberId: { UserId: user('dave') } }),
  );
  expect(dave.GroupMemberships?.map((m) => m.GroupId)).toEqual([SRE, ADMINS]);
  await expect(
    client.send(
      new IsMemberInGroupsCommand({
        IdentityStoreId: STORE,
        MemberId: { UserId: user('carol') },
        GroupIds: [],
      }),
    ),
  ).rejects.toBeInstanceOf(ValidationException);
});

it('takes people in and out of groups through the admin endpoint', async () => {
  const post = (path: string, body: unknown) =>
    fetch(`${running.url}${path}`, { method: 'POST', body: JSON.stringify(body) });
  const out = await post('/_standin/groups/SRE/remove-member', { userName: 'carol' });
  expect(await out.json()).toEqual({ removed: true });
  const isCarolIn = async () =>
    (
      await client.send(
        new IsMemberInGroupsCommand({
          IdentityStoreId: STORE,
          MemberId: { UserId: user('carol') },
          GroupIds: [SRE],
        }),
      )
    ).Results?.[0]?.MembershipExists;
  expect(await isCarolIn()).toBe(false);
  const back = await post(`/_standin/groups/${SRE}/add-member`, { userName: 'carol' });
  expect(back.status).toBe(200);
  expect(await isCarolIn()).toBe(true);
  expect((await post('/_standin/groups/Nope/add-member', { userName: 'carol' })).status).toBe(404);
  expect((await post('/_standin/groups/SRE/add-member', { user: 'carol' })).status).toBe(400);
  const listed = (await (await fetch(`${running.url}/_standin/groups`)).json()) as {
    groups: { displayName: string; members: { userName: string }[] }[];
  };
  expect(listed.groups.find((g) => g.displayName === 'SRE')?.members.map((m) => m.userName)).toEqual([
    'dave',
    'carol',
  ]);
  // A reset puts the seed's memberships back.
  running.standIn.removeGroupMember('SRE', 'dave');
  running.standIn.reset();
  expect(
    running.standIn
      .groups()
      .find((g) => g.displayName === 'SRE')
      ?.members.map((m) => m.userName),
  ).toEqual(['carol', 'dave']);
});

it('injects faults into the group calls as into the others', async () => {
  running.standIn.setFaults({
    failNext: [{ operation: 'ListGroupMemberships', error: 'ThrottlingException' }],
  });
  await expect(
    client.send(new ListGroupMembershipsCommand({ IdentityStoreId: STORE, GroupId: SRE })),
  ).rejects.toBeInstanceOf(ThrottlingException);
  await expect(
    client.send(new ListGroupMembershipsCommand({ IdentityStoreId: STORE, GroupId: SRE })),
  ).resolves.toBeDefined();
  running.standIn.setFaults({ internalErrorRate: 1 });
  await expect(
    client.send(new DescribeGroupCommand({ IdentityStoreId: STORE, GroupId: SRE })),
  ).rejects.toMatchObject({
    name: 'InternalServerException',
  });
  expect(running.standIn.counters()).toMatchObject({ throttled: 1, internalErrors: 1 });
});
