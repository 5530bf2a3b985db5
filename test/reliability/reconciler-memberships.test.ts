import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { ExecutionInput } from '../../functions/core/model';
import { parsePolicy } from '../../functions/core/policy-file';
import { membershipAuditId, Reconciler } from '../../functions/core/reconciler';
import { LifecycleSteps } from '../../functions/core/steps';
import {
  FakeDirectory,
  FakeMemberships,
  FakeWorkflow,
  ManualClock,
  MemoryStore,
  memoryAudit,
  RecordingNotifier,
} from './fakes';

// The reconciler and group access (core/group-access.ts) on in-memory ports: a membership its
// grant left past the window is removed, one this product added that nobody holds is removed, one
// that existed before is never removed, a removal a revoke left half done is finished.

const policy = parsePolicy(
  readFileSync(path.join(__dirname, '../fixtures/group-access-policy.yaml'), 'utf8'),
);
const OPERATORS = '9a1b2c3d-0000-4000-8000-00000000a001';
const ALICE = 'user-alice';
const KEY = { groupId: OPERATORS, principalId: ALICE };

function world() {
  const clock = new ManualClock();
  const store = new MemoryStore(clock);
  const memberships = new FakeMemberships();
  const workflow = new FakeWorkflow();
  const notifier = new RecordingNotifier();
  const { log, trail } = memoryAudit(clock);
  const deps = { policy, store, audit: trail, notifier, clock, memberships };
  const steps = new LifecycleSteps({
    ...deps,
    assignments: new FakeDirectory(),
    users: { findUserIdByEmail: async () => ALICE },
  });
  const reconciler = () =>
    new Reconciler({ ...deps, assignments: new FakeDirectory(), workflow, wait: async () => undefined }, {});
  return { clock, store, memberships, workflow, log, steps, reconciler };
}
type World = ReturnType<typeof world>;

let sequence = 0;
async function activeGrant(w: World, durationMinutes = 30): Promise<string> {
  const requestId = `req-recgrp-${++sequence}`;
  const input: ExecutionInput = {
    version: 1,
    request: {
      requestId,
      requester: { email: 'alice@example.com', slackUserId: 'U0ALICE' },
      accountId: null,
      permissionSetArn: null,
      groupId: OPERATORS,
      durationMinutes,
      reason: 'On call',
      requestedAt: w.clock.now().toISOString(),
    },
  };
  w.workflow.running.add(requestId);
  await w.steps.validate(input);
  const granted = await w.steps.grant({
    requestId,
    accountId: null,
    permissionSetArn: null,
    principalId: ALICE,
  });
  if (granted.status !== 'SUCCEEDED') throw new Error('not granted');
  await w.steps.openWindow({ taskToken: `t-${requestId}`, requestId, expiresAt: granted.window.expiresAt });
  return requestId;
}

const actions = async (w: World, id: string) => (await w.log.list(id)).map((e) => e.action);

describe('the reconciler and group memberships', () => {
  it('removes the membership of a grant whose window ended and whose execution is gone', async () => {
    const w = world();
    const requestId = await activeGrant(w);
    w.workflow.running.delete(requestId); // the execution died before its revoke
    w.clock.advanceMinutes(40);
    const report = await w.reconciler().run();
    expect(report.errors).toEqual([]);
    expect(w.memberships.isMember(OPERATORS, ALICE)).toBe(false);
    expect(await w.store.getMembershipHolders(KEY)).toMatchObject({ state: 'ABSENT', holders: [] });
    expect(await actions(w, requestId)).toEqual(
      expect.arrayContaining(['reconciler.orphan-found', 'reconciler.revoked', 'request.closed']),
    );
  });

  it('stops an execution still running past its window and removes the membership', async () => {
    const w = world();
    const requestId = await activeGrant(w);
    w.clock.advanceMinutes(40);
    await w.reconciler().run();
    expect(w.workflow.stopped).toContain(requestId);
    expect(w.memberships.isMember(OPERATORS, ALICE)).toBe(false);
  });

  it('leaves a live grant alone', async () => {
    const w = world();
    await activeGrant(w);
    w.clock.advanceMinutes(10);
    await w.reconciler().run();
    expect(w.memberships.isMember(OPERATORS, ALICE)).toBe(true);
  });

  it('never removes a membership that existed before the request', async () => {
    const w = world();
    w.memberships.seed(OPERATORS, ALICE);
    const requestId = await activeGrant(w);
    w.workflow.running.delete(requestId);
    w.clock.advanceMinutes(40);
    await w.reconciler().run();
    expect(w.memberships.isMember(OPERATORS, ALICE)).toBe(true);
    expect(w.memberships.calls).not.toContain('DeleteGroupMembership');
    expect(await w.store.getMembershipHolders(KEY)).toMatchObject({ preExisting: true, holders: [] });
    expect(await actions(w, requestId)).toContain('revoke.kept');
  });

  it('removes a membership this product added that no request holds', async () => {
    const w = world();
    const id = w.memberships.seed(OPERATORS, ALICE);
    await w.store.putMembershipHolders(
      {
        ...KEY,
        preExisting: false,
        holders: [],
        state: 'PRESENT',
        membershipId: id,
        revision: 1,
        updatedAt: w.clock.now().toISOString(),
      },
      undefined,
    );
    await w.reconciler().run();
    expect(w.memberships.isMember(OPERATORS, ALICE)).toBe(false);
    expect((await w.log.list(membershipAuditId(KEY))).map((e) => e.action)).toEqual([
      'reconciler.orphan-found',
      'reconciler.revoked',
    ]);
  });

  it('finishes a removal a revoke left half done, once it has settled', async () => {
    const w = world();
    const requestId = await activeGrant(w);
    const held = await w.store.getMembershipHolders(KEY);
    if (!held) throw new Error('no holders record');
    // The revoke claimed the membership and died before DeleteGroupMembership.
    await w.store.putMembershipHolders(
      { ...held, holders: [], removingBy: requestId, revision: held.revision + 1 },
      held.revision,
    );
    w.workflow.running.delete(requestId);
    await w.reconciler().run();
    expect(w.memberships.isMember(OPERATORS, ALICE)).toBe(true); // not settled yet
    w.clock.advanceMinutes(40);
    await w.reconciler().run();
    expect(w.memberships.isMember(OPERATORS, ALICE)).toBe(false);
    expect(await w.store.getMembershipHolders(KEY)).toMatchObject({ state: 'ABSENT' });
  });

  it('keeps a membership another live request still holds when one holder is dead', async () => {
    const w = world();
    const first = await activeGrant(w, 30);
    await activeGrant(w, 120);
    w.workflow.running.delete(first);
    w.clock.advanceMinutes(40);
    await w.reconciler().run();
    expect(w.memberships.isMember(OPERATORS, ALICE)).toBe(true);
    expect((await w.store.getMembershipHolders(KEY))?.holders).toHaveLength(1);
  });
});
