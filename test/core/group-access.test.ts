import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { ExecutionInput } from '../../functions/core/model';
import { parsePolicy } from '../../functions/core/policy-file';
import { LifecycleSteps } from '../../functions/core/steps';
import {
  FakeDirectory,
  FakeMemberships,
  ManualClock,
  MemoryStore,
  memoryAudit,
  RecordingNotifier,
} from '../reliability/fakes';

// Group access's rules (core/group-access.ts) on the in-memory ports: what a retried or replayed
// Grant and Revoke leave, an addition whose answer was lost, a membership fenced but never
// confirmed, a group gone before the grant.

const policy = parsePolicy(
  readFileSync(path.join(__dirname, '../fixtures/group-access-policy.yaml'), 'utf8'),
);
const OPERATORS = '9a1b2c3d-0000-4000-8000-00000000a001';
const ALICE = 'user-alice';

function world() {
  const clock = new ManualClock();
  const store = new MemoryStore(clock);
  const memberships = new FakeMemberships();
  const { log, trail } = memoryAudit(clock);
  const steps = new LifecycleSteps({
    policy,
    store,
    audit: trail,
    assignments: new FakeDirectory(),
    users: { findUserIdByEmail: async () => ALICE },
    notifier: new RecordingNotifier(),
    clock,
    memberships,
  });
  const snapshot = () =>
    JSON.stringify({
      requests: [...store.requests.entries()].sort(),
      memberships: [...store.memberships.entries()].sort(),
      trail: log.events.map(({ at: _at, ...e }) => e),
    });
  return { clock, store, memberships, steps, log, snapshot };
}

const input = (requestId: string): ExecutionInput => ({
  version: 1,
  request: {
    requestId,
    requester: { email: 'alice@example.com', slackUserId: 'U0ALICE' },
    accountId: null,
    permissionSetArn: null,
    groupId: OPERATORS,
    durationMinutes: 30,
    reason: 'On call',
    requestedAt: '2026-01-01T00:00:00.000Z',
  },
});
const step = (requestId: string) => ({
  version: 1,
  requestId,
  accountId: null,
  permissionSetArn: null,
  principalId: ALICE,
});

async function granted(w: ReturnType<typeof world>, requestId: string) {
  expect(await w.steps.validate(input(requestId))).toMatchObject({ valid: true, ruleName: 'operators' });
  return w.steps.grant(step(requestId));
}

describe('group access', () => {
  it('validates a group request under its group rule and names the group on the record', async () => {
    const w = world();
    await w.steps.validate(input('req-group-1'));
    expect(await w.store.getRequest('req-group-1')).toMatchObject({
      status: 'APPROVED',
      groupName: 'Prod-Operators',
      ruleName: 'operators',
    });
    const submitted = w.log.events.find((e) => e.action === 'request.submitted');
    expect(submitted?.details).toMatchObject({ groupId: OPERATORS, accountId: null });
  });

  it('refuses a group request for a group no rule offers', async () => {
    const w = world();
    const other = input('req-group-2');
    other.request.groupId = '9a1b2c3d-0000-4000-8000-00000000ffff';
    expect(await w.steps.validate(other)).toMatchObject({ valid: false });
  });

  it('a replayed Grant or Revoke leaves the same records and trail as one run', async () => {
    const once = world();
    const twice = world();
    for (const w of [once, twice]) await granted(w, 'req-group-3');
    await twice.steps.grant(step('req-group-3'));
    expect(twice.snapshot()).toBe(once.snapshot());
    expect(twice.memberships.calls.filter((c) => c === 'CreateGroupMembership')).toHaveLength(1);

    for (const w of [once, twice]) await w.steps.revoke({ ...step('req-group-3'), reason: 'expired' });
    await twice.steps.revoke({ ...step('req-group-3'), reason: 'expired' });
    expect(twice.snapshot()).toBe(once.snapshot());
    expect(twice.memberships.isMember(OPERATORS, ALICE)).toBe(false);
    expect(twice.memberships.calls.filter((c) => c === 'DeleteGroupMembership')).toHaveLength(1);
  });

  it('holds as its own an addition whose answer was lost: the retry meets the conflict and finds it', async () => {
    const w = world();
    w.memberships.loseNextAnswer = true;
    await w.steps.validate(input('req-group-4'));
    await expect(w.steps.grant(step('req-group-4'))).rejects.toThrow(/TimeoutError/);
    expect(await w.store.getMembershipHolders({ groupId: OPERATORS, principalId: ALICE })).toMatchObject({
      addingBy: 'req-group-4',
    });
    expect(await w.steps.grant(step('req-group-4'))).toMatchObject({
      status: 'SUCCEEDED',
      alreadyAssigned: false,
    });
    const holders = await w.store.getMembershipHolders({ groupId: OPERATORS, principalId: ALICE });
    expect(holders).toMatchObject({ state: 'PRESENT', preExisting: false, holders: ['req-group-4'] });
    expect(holders?.addingBy).toBeUndefined();
    await w.steps.revoke({ ...step('req-group-4'), reason: 'expired' });
    expect(w.memberships.isMember(OPERATORS, ALICE)).toBe(false);
  });

  it('revoking a request whose addition was fenced but never confirmed removes what landed, and only that', async () => {
    const w = world();
    w.memberships.loseNextAnswer = true;
    await w.steps.validate(input('req-group-5'));
    await expect(w.steps.grant(step('req-group-5'))).rejects.toThrow();
    // The workflow gives up on the grant (RevokeAfterFailure): the membership it may have made goes.
    expect(await w.steps.revoke({ ...step('req-group-5'), reason: 'failure' })).toEqual({
      status: 'SUCCEEDED',
    });
    expect(w.memberships.isMember(OPERATORS, ALICE)).toBe(false);
    expect(await w.store.getMembershipHolders({ groupId: OPERATORS, principalId: ALICE })).toMatchObject({
      state: 'ABSENT',
      holders: [],
    });
  });

  it('keeps a membership that existed before the request', async () => {
    const w = world();
    w.memberships.seed(OPERATORS, ALICE);
    expect(await granted(w, 'req-group-6')).toMatchObject({ status: 'SUCCEEDED', alreadyAssigned: true });
    expect(await w.steps.revoke({ ...step('req-group-6'), reason: 'expired' })).toEqual({
      status: 'KEPT',
      keptBecause: 'pre-existing',
    });
    expect(w.memberships.isMember(OPERATORS, ALICE)).toBe(true);
    expect(w.memberships.calls).not.toContain('CreateGroupMembership');
    expect(w.memberships.calls).not.toContain('DeleteGroupMembership');
  });

  it('fails the grant with its reason when the group is gone', async () => {
    const w = world();
    w.memberships.groups = new Set();
    expect(await granted(w, 'req-group-7')).toMatchObject({ status: 'FAILED' });
    expect((await w.store.getRequest('req-group-7'))?.status).toBe('GRANT_FAILED');
    expect(await w.store.getMembershipHolders({ groupId: OPERATORS, principalId: ALICE })).toMatchObject({
      holders: [],
    });
    // A retry answers as the first run did.
    expect(await w.steps.grant(step('req-group-7'))).toMatchObject({ status: 'FAILED' });
  });

  it('refuses a Grant whose payload names an account for a group request', async () => {
    const w = world();
    await w.steps.validate(input('req-group-8'));
    await expect(
      w.steps.grant({ ...step('req-group-8'), accountId: '222222222222', permissionSetArn: 'arn:x' }),
    ).rejects.toThrow(/not for/);
  });
});
