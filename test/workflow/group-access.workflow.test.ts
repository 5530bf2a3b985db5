import path from 'node:path';
import {
  audited,
  type Harness,
  type HarnessOptions,
  PEOPLE,
  requestDecisions,
  requestStore,
  startHarness,
  tokenStored,
} from './harness';

// Group access through statemachines/access-request.asl.json with the real handlers: the
// requester is added to an Identity Center group for the window (identitystore
// CreateGroupMembership / DeleteGroupMembership on the stand-in), never removed from a group
// they were in before, and one membership serves overlapping requests.

const policyFile = path.join(__dirname, '../fixtures/group-access-policy.yaml');
const OPERATORS = '9a1b2c3d-0000-4000-8000-00000000a001';
const BILLING = '9a1b2c3d-0000-4000-8000-00000000a002';
const alice = PEOPLE.alice;
const carol = { email: PEOPLE.carol.email, slackUserId: PEOPLE.carol.slackUserId };

let harness: Harness;
afterEach(async () => {
  await harness?.close();
});

let counter = 0;
const newId = () => `grp-${++counter}-${Date.now().toString(36)}`;

function start(options: { operators?: string[]; billing?: string[] } & Omit<HarnessOptions, 'groups'> = {}) {
  const { operators = [], billing = [], ...rest } = options;
  return startHarness({
    policyFile,
    ...rest,
    groups: [
      { groupId: OPERATORS, displayName: 'Prod-Operators', members: operators },
      { groupId: BILLING, displayName: 'Billing-Viewers', members: billing },
    ],
  });
}

// 30 model minutes: 1.8 s, long enough to look at the membership while the window is open.
const groupRequest = (requestId: string, groupId: string, durationMinutes = 30) =>
  harness.start({ requestId, accountId: null, permissionSetArn: null, groupId, durationMinutes });

const isMember = (groupId: string, userId = alice.principalId) =>
  harness.identityCenter
    .groups()
    .some((g) => g.groupId === groupId && g.members.some((m) => m.userId === userId));

/** The membership calls the stand-in received (refused ones included), in order. */
const membershipCalls = () =>
  harness.identityCenter
    .operationLog()
    .filter((e) => e.operation === 'CreateGroupMembership' || e.operation === 'DeleteGroupMembership')
    .map((e) => `${e.operation}:${e.outcome}`);

const entered = (execution: string) =>
  harness.host
    .history(execution)
    .filter((e) => e.type === 'StateEntered')
    .map((e) => e.stateName);

describe('a group request', () => {
  it('adds the requester to the group for the window and removes them at its end, with no polling', async () => {
    harness = await start();
    const requestId = newId();
    const execution = await groupRequest(requestId, OPERATORS);
    const record = await harness.waitFor(async () => {
      const stored = await requestStore().getRequest(requestId);
      return stored?.status === 'ACTIVE' && stored;
    }, 'the window to open');
    expect(isMember(OPERATORS)).toBe(true);
    expect(record).toMatchObject({ status: 'ACTIVE', groupName: 'Prod-Operators', ruleName: 'operators' });

    const result = await harness.finished(execution);
    expect(result.status).toBe('SUCCEEDED');
    expect(isMember(OPERATORS)).toBe(false);
    expect(membershipCalls()).toEqual(['CreateGroupMembership:ok', 'DeleteGroupMembership:ok']);
    expect(harness.writes()).toEqual([]);
    expect(await harness.auditActions(requestId)).toEqual([
      'request.submitted',
      'approval.auto',
      'grant.requested',
      'grant.succeeded',
      'window.opened',
      'window.expired',
      'revoke.requested',
      'revoke.succeeded',
      'request.closed',
    ]);
    const states = entered(execution);
    // Admitted like any grant (no account: no held-grants counter), not run unpaced after an error.
    const grantInput = harness.host
      .history(execution)
      .find((e) => e.type === 'StateEntered' && e.stateName === 'Grant')?.input as
      | { admission?: { calls?: unknown } }
      | undefined;
    expect(grantInput?.admission?.calls).toEqual(expect.any(Number));
    expect(states).not.toContain('CheckGrant');
    expect(states).not.toContain('CheckRevoke');
    expect(states).not.toContain('EndSessions');
    expect((await requestStore().getRequest(requestId))?.status).toBe('REVOKED');
    const holders = await requestStore().getMembershipHolders({
      groupId: OPERATORS,
      principalId: alice.principalId,
    });
    expect(holders).toMatchObject({ state: 'ABSENT', holders: [], preExisting: false });
    const dms = harness.slackCalls('chat.postMessage').filter((c) => c.args.channel === alice.slackUserId);
    expect(JSON.stringify(dms.map((c) => c.args))).toContain('Prod-Operators');
  });

  it('waits for its approver when its rule asks for one', async () => {
    harness = await start();
    const requestId = newId();
    const execution = await groupRequest(requestId, BILLING);
    await tokenStored(harness, requestId, 'approval');
    expect(isMember(BILLING)).toBe(false);
    const approval = await harness.waitFor(
      async () => harness.slackCalls('chat.postMessage').find((c) => c.args.channel === 'C0APPROVALS'),
      'the approval message',
    );
    expect(JSON.stringify(approval.args.blocks)).toContain('Billing-Viewers');

    expect((await (await requestDecisions()).decide(requestId, carol, 'approve')).kind).toBe('approved');
    await tokenStored(harness, requestId, 'window');
    expect(isMember(BILLING)).toBe(true);
    expect((await harness.finished(execution)).status).toBe('SUCCEEDED');
    expect(isMember(BILLING)).toBe(false);
  });

  it('removes the membership when its requester ends the access early', async () => {
    harness = await start();
    const requestId = newId();
    const execution = await groupRequest(requestId, OPERATORS, 120);
    await harness.waitFor(
      async () => (await requestStore().getRequest(requestId))?.status === 'ACTIVE',
      'the window to open',
    );
    const ended = await (await requestDecisions()).endAccess(requestId, {
      email: alice.email,
      slackUserId: alice.slackUserId,
    });
    expect(ended.kind).toBe('ended');
    expect((await harness.finished(execution)).status).toBe('SUCCEEDED');
    expect(isMember(OPERATORS)).toBe(false);
    expect(await harness.auditActions(requestId)).toContain('window.ended-early');
  });

  it('keeps a membership the requester had before the request', async () => {
    harness = await start({ operators: ['alice'] });
    const requestId = newId();
    const execution = await groupRequest(requestId, OPERATORS);
    expect((await harness.finished(execution)).status).toBe('SUCCEEDED');

    expect(isMember(OPERATORS)).toBe(true);
    expect(membershipCalls()).toEqual([]);
    const actions = await harness.auditActions(requestId);
    expect(actions).toEqual(expect.arrayContaining(['grant.existing', 'grant.succeeded', 'revoke.kept']));
    expect(actions).not.toContain('revoke.succeeded');
    expect((await requestStore().getRequest(requestId))?.granted).toMatchObject({ preExisting: true });
  });

  it('shares one membership between overlapping requests: the last revoke removes it', async () => {
    harness = await start();
    const first = newId();
    const second = newId();
    const short = await groupRequest(first, OPERATORS, 30);
    await tokenStored(harness, first, 'window');
    const long = await groupRequest(second, OPERATORS, 60);
    await tokenStored(harness, second, 'window');

    expect((await harness.finished(short)).status).toBe('SUCCEEDED');
    expect(isMember(OPERATORS)).toBe(true);
    expect(await harness.auditActions(first)).toContain('revoke.kept');

    expect((await harness.finished(long)).status).toBe('SUCCEEDED');
    expect(isMember(OPERATORS)).toBe(false);
    expect(membershipCalls()).toEqual(['CreateGroupMembership:ok', 'DeleteGroupMembership:ok']);
    expect((await requestStore().getRequest(second))?.granted).toMatchObject({
      alreadyAssigned: true,
      preExisting: false,
    });
  });

  it('rides out a ConflictException on the addition: the retry adds the member', async () => {
    harness = await start({
      identityCenter: {
        faults: { failNext: [{ operation: 'CreateGroupMembership', error: 'ConflictException' }] },
      },
    });
    const requestId = newId();
    const execution = await groupRequest(requestId, OPERATORS);
    await tokenStored(harness, requestId, 'window');
    expect(isMember(OPERATORS)).toBe(true);
    expect((await harness.finished(execution)).status).toBe('SUCCEEDED');
    expect(isMember(OPERATORS)).toBe(false);
    expect(membershipCalls()).toEqual([
      'CreateGroupMembership:ConflictException',
      'CreateGroupMembership:ok',
      'DeleteGroupMembership:ok',
    ]);
    // One grant.requested: the retry's copy is the first run's.
    expect((await harness.auditActions(requestId)).filter((a) => a === 'grant.requested')).toHaveLength(1);
  });

  it('treats the revoke of a user Identity Center no longer has as done', async () => {
    harness = await start();
    const requestId = newId();
    const execution = await groupRequest(requestId, OPERATORS);
    await tokenStored(harness, requestId, 'window');
    harness.identityCenter.deleteUser('alice');

    expect((await harness.finished(execution)).status).toBe('SUCCEEDED');
    expect((await requestStore().getRequest(requestId))?.status).toBe('REVOKED');
    expect(membershipCalls()).toEqual([
      'CreateGroupMembership:ok',
      'DeleteGroupMembership:ResourceNotFoundException',
    ]);
    const holders = await requestStore().getMembershipHolders({
      groupId: OPERATORS,
      principalId: alice.principalId,
    });
    expect(holders?.state).toBe('ABSENT');
    await audited(harness, requestId, 'revoke.succeeded');
  });
});
