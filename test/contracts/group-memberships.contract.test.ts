import { IdentitystoreClient } from '@aws-sdk/client-identitystore';
import { IdentityStoreMemberships } from '../../functions/adapters/identity-store-memberships';
import { AccessError, RetryableError } from '../../functions/core/errors';
import type { GroupMemberships } from '../../functions/core/ports';
import { AWS_CALLS, awsClientConfig } from '../../functions/shared/clients';
import {
  deriveUserId,
  type RunningIdentityCenter,
  sandboxFileSchema,
  startIdentityCenterStandIn,
} from '../../local/identity-center';
import { FakeMemberships } from '../reliability/fakes';

// What the core relies on from its GroupMemberships (core/group-access.ts), checked on the
// in-memory fake and on the identitystore adapter against the Identity Center stand-in alike.

const IDENTITY_STORE = 'd-9067a1b2c3';
const OPERATORS = '9a1b2c3d-0000-4000-8000-00000000a001';
const OTHER = '9a1b2c3d-0000-4000-8000-00000000a002';
const MISSING_GROUP = '9a1b2c3d-0000-4000-8000-00000000dead';
const ALICE = deriveUserId(IDENTITY_STORE, 'alice');
const BOB = deriveUserId(IDENTITY_STORE, 'bob');
const NOBODY = deriveUserId(IDENTITY_STORE, 'nobody');

interface UnderTest {
  memberships: GroupMemberships;
  /** Takes a user out of the directory. */
  deleteUser(userId: string): void;
  close(): Promise<void>;
}

function contract(make: () => Promise<UnderTest>): void {
  let under: UnderTest;
  beforeEach(async () => {
    under = await make();
  });
  afterEach(() => under.close());

  it('adds a member at once, answers its membership id, and finds it by group and user', async () => {
    expect(await under.memberships.membershipId(OPERATORS, BOB)).toBeUndefined();
    const added = await under.memberships.add(OPERATORS, BOB);
    expect(added).toEqual({ membershipId: expect.any(String) });
    expect(await under.memberships.membershipId(OPERATORS, BOB)).toBe(
      'membershipId' in added ? added.membershipId : undefined,
    );
    expect(await under.memberships.membershipId(OTHER, BOB)).toBeUndefined();
  });

  it('answers exists for a member already in the group (a conflict), leaving the membership as it was', async () => {
    const before = await under.memberships.membershipId(OPERATORS, ALICE);
    expect(before).toEqual(expect.any(String));
    expect(await under.memberships.add(OPERATORS, ALICE)).toEqual({ exists: true });
    expect(await under.memberships.membershipId(OPERATORS, ALICE)).toBe(before);
  });

  it('removes a membership at once; removing it again answers false', async () => {
    const id = (await under.memberships.membershipId(OPERATORS, ALICE)) as string;
    expect(await under.memberships.remove(id)).toBe(true);
    expect(await under.memberships.membershipId(OPERATORS, ALICE)).toBeUndefined();
    expect(await under.memberships.remove(id)).toBe(false);
  });

  it('refuses to add to a group or a user that does not exist, and finds no membership of them', async () => {
    await expect(under.memberships.add(MISSING_GROUP, BOB)).rejects.toMatchObject({
      code: 'membership-target-gone',
    });
    await expect(under.memberships.add(OPERATORS, NOBODY)).rejects.toBeInstanceOf(AccessError);
    expect(await under.memberships.membershipId(MISSING_GROUP, BOB)).toBeUndefined();
    expect(await under.memberships.membershipId(OPERATORS, NOBODY)).toBeUndefined();
  });

  it("finds no membership of a deleted user, and removing it answers false (the user's memberships went with them)", async () => {
    const id = (await under.memberships.membershipId(OPERATORS, ALICE)) as string;
    under.deleteUser(ALICE);
    expect(await under.memberships.membershipId(OPERATORS, ALICE)).toBeUndefined();
    expect(await under.memberships.remove(id)).toBe(false);
  });
}

describe('FakeMemberships', () => {
  contract(async () => {
    const fake = new FakeMemberships();
    fake.users = new Set([ALICE, BOB]);
    fake.groups = new Set([OPERATORS, OTHER]);
    fake.seed(OPERATORS, ALICE);
    return {
      memberships: fake,
      deleteUser: (userId) => {
        fake.users?.delete(userId);
        for (const [id, v] of fake.members) if (v.endsWith(`|${userId}`)) fake.members.delete(id);
      },
      close: async () => undefined,
    };
  });
});

describe('IdentityStoreMemberships on the Identity Center stand-in', () => {
  let running: RunningIdentityCenter;
  contract(async () => {
    running = await startIdentityCenterStandIn({
      sandbox: sandboxFileSchema.parse({
        instanceArn: 'arn:aws:sso:::instance/ssoins-7223a1b2c3d4e5f6',
        identityStoreId: IDENTITY_STORE,
        users: [
          { userName: 'alice', email: 'alice@example.com', displayName: 'Alice' },
          { userName: 'bob', email: 'bob@example.com', displayName: 'Bob' },
        ],
        groups: [
          { groupId: OPERATORS, displayName: 'Operators', members: ['alice'] },
          { groupId: OTHER, displayName: 'Other', members: [] },
        ],
      }),
      requestsPerSecond: Number.POSITIVE_INFINITY,
    });
    const client = new IdentitystoreClient({
      region: 'us-east-1',
      endpoint: running.url,
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
      ...awsClientConfig(AWS_CALLS.identityStore),
    });
    return {
      memberships: new IdentityStoreMemberships(client, IDENTITY_STORE),
      deleteUser: (userId) => running.standIn.deleteUser(userId),
      close: () => running.close(),
    };
  });

  it('maps throttling to RetryableError', async () => {
    running.standIn.setFaults({
      failNext: [{ operation: 'CreateGroupMembership', error: 'ThrottlingException' }],
    });
    const client = new IdentitystoreClient({
      region: 'us-east-1',
      endpoint: running.url,
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
      ...awsClientConfig(AWS_CALLS.identityStore),
    });
    await expect(new IdentityStoreMemberships(client, IDENTITY_STORE).add(OTHER, BOB)).rejects.toBeInstanceOf(
      RetryableError,
    );
  });
});
