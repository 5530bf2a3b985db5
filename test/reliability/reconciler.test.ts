import { readFileSync } from 'node:fs';
import path from 'node:path';
import { RetryableError } from '../../functions/core/errors';
import type { AssignmentKey, HoldersRecord, RequestRecord, RequestStatus } from '../../functions/core/model';
import type { Policy } from '../../functions/core/policy';
import { parsePolicy } from '../../functions/core/policy-file';
import { assignmentAuditId, RECONCILER_CLAIM, Reconciler } from '../../functions/core/reconciler';
import { LifecycleSteps } from '../../functions/core/steps';
import {
  FakeDirectory,
  FakeWorkflow,
  ManualClock,
  type MemoryAuditLog,
  MemoryStore,
  memoryAudit,
  RecordingNotifier,
} from './fakes';

// The reconciler core against in-memory ports: what it cleans up, what it never touches, and
// that two passes (or a pass and the workflow) at once do not trip over each other.

const policy: Policy = parsePolicy(
  readFileSync(path.join(__dirname, '../fixtures/email-groups-policy.yaml'), 'utf8'),
);
const STAGING = '222222222222';
const READ_ONLY = 'arn:aws:sso:::permissionSet/ssoins-7223a1b2c3d4e5f6/ps-1a2b3c4d5e6f7a8b';
const ALICE = 'user-alice';
const key: AssignmentKey = { accountId: STAGING, permissionSetArn: READ_ONLY, principalId: ALICE };

interface World {
  clock: ManualClock;
  store: MemoryStore;
  directory: FakeDirectory;
  workflow: FakeWorkflow;
  notifier: RecordingNotifier;
  log: MemoryAuditLog;
  reconciler: (overrides?: { policy?: Policy }) => Reconciler;
  steps: LifecycleSteps;
}

function world(): World {
  const clock = new ManualClock();
  const store = new MemoryStore(clock);
  const directory = new FakeDirectory();
  const workflow = new FakeWorkflow();
  const notifier = new RecordingNotifier();
  const { log, trail } = memoryAudit(clock);
  const reconciler = (overrides: { policy?: Policy } = {}) =>
    new Reconciler(
      {
        policy: overrides.policy ?? policy,
        store,
        assignments: directory,
        workflow,
        audit: trail,
        notifier,
        clock,
        wait: async () => undefined,
      },
      {},
    );
  const steps = new LifecycleSteps({
    policy,
    store,
    audit: trail,
    assignments: directory,
    users: { findUserIdByEmail: async () => ALICE },
    notifier,
    clock,
  });
  return { clock, store, directory, workflow, notifier, log, reconciler, steps };
}

let sequence = 0;
function request(
  w: World,
  status: RequestStatus,
  extra: Partial<RequestRecord> & { minutesAgo?: number; durationMinutes?: number } = {},
): string {
  const requestId = `req-rec-${++sequence}`;
  const { minutesAgo = 90, durationMinutes = 60, ...rest } = extra;
  const requestedAt = new Date(w.clock.now().getTime() - minutesAgo * 60_000).toISOString();
  const record: RequestRecord = {
    version: 1,
    request: {
      requestId,
      requester: { email: 'alice@example.com', slackUserId: 'U0ALICE' },
      accountId: STAGING,
      permissionSetArn: READ_ONLY,
      durationMinutes,
      reason: 'incident',
      requestedAt,
    },
    status,
    ruleName: 'staging-self-service',
    principalId: ALICE,
    approvals: [],
    updatedAt: requestedAt,
    ...rest,
  };
  // An active window as openWindow records it: started its own duration (and extensions) before it ends.
  if (status === 'ACTIVE' && rest.expiresAt && !('windowStartedAt' in rest))
    record.windowStartedAt = new Date(
      Date.parse(rest.expiresAt) - (durationMinutes + (rest.extendedMinutes ?? 0)) * 60_000,
    ).toISOString();
  w.store.requests.set(requestId, record);
  return requestId;
}

function holders(w: World, record: Partial<HoldersRecord> & { minutesAgo?: number }): void {
  const { minutesAgo = 90, ...rest } = record;
  const full: HoldersRecord = {
    ...key,
    preExisting: false,
    holders: [],
    state: 'PRESENT',
    revision: 3,
    updatedAt: new Date(w.clock.now().getTime() - minutesAgo * 60_000).toISOString(),
    ...rest,
  };
  w.store.holders.set(`${key.accountId}|${key.permissionSetArn}|${key.principalId}`, full);
}

const current = (w: World) =>
  w.store.holders.get(`${key.accountId}|${key.permissionSetArn}|${key.principalId}`);

describe('reconciler: grants left behind', () => {
  it('removes the assignment of a request whose revoke crashed, on the next pass', async () => {
    const w = world();
    const id = request(w, 'REVOKE_FAILED', { closedAt: new Date().toISOString() });
    w.directory.assign(key);
    holders(w, { holders: [id], state: 'PRESENT' });

    const report = await w.reconciler().run();

    expect(w.directory.has(key)).toBe(false);
    expect(w.directory.count('delete')).toBe(1);
    expect(current(w)).toMatchObject({ state: 'ABSENT', holders: [] });
    expect(report).toMatchObject({ orphansFound: 1, deletionsRequested: 1, deletionsConfirmed: 1 });
    expect(w.log.actions(id)).toEqual(['reconciler.orphan-found', 'reconciler.revoked']);
    expect(w.notifier.alerts.join('\n')).toContain('still assigned with no live request');
  });

  it('deletes again when the revoke crashed between its claim and its DeleteAccountAssignment', async () => {
    const w = world();
    const id = request(w, 'REVOKING', { minutesAgo: 120 });
    w.directory.assign(key);
    holders(w, { state: 'DELETING', deletingBy: id, minutesAgo: 60 });

    await w.reconciler().run();

    expect(w.directory.has(key)).toBe(false);
    expect(current(w)?.state).toBe('ABSENT');
    // The request's execution is gone: it is closed, with the event its Finish never wrote.
    expect(w.store.requests.get(id)).toMatchObject({ status: 'REVOKED', closedAt: expect.any(String) });
    expect(w.log.actions(id)).toEqual(['reconciler.revoked', 'request.closed']);
    expect(w.notifier.noticesFor(id)).toEqual(['revoked']);
  });

  it('repairs a record stuck in DELETING: gone → ABSENT; a FAILED deletion is retried', async () => {
    const gone = world();
    const first = request(gone, 'REVOKE_FAILED', { closedAt: 'x' });
    holders(gone, { state: 'DELETING', deletingBy: first, minutesAgo: 1 });
    // A deletion that did finish although the revoke reported failure.
    gone.directory.assign(key);
    const op = await gone.directory.delete(key);
    holders(gone, { state: 'DELETING', deletingBy: first, deletionRequestId: op.requestId, minutesAgo: 1 });
    await gone.reconciler().run();
    expect(current(gone)?.state).toBe('ABSENT');
    expect(gone.log.actions(first)).toEqual(['revoke.succeeded']);
    expect(gone.directory.count('delete')).toBe(1); // only the original one

    const failed = world();
    const second = request(failed, 'REVOKE_FAILED', { closedAt: 'x' });
    failed.directory.assign(key);
    failed.directory.failDeletions.push('Received a 500 status error: internal');
    const failedOp = await failed.directory.delete(key);
    holders(failed, { state: 'DELETING', deletingBy: second, deletionRequestId: failedOp.requestId });
    await failed.reconciler().run();
    expect(failed.directory.has(key)).toBe(false);
    expect(current(failed)?.state).toBe('ABSENT');
    expect(failed.directory.count('delete')).toBe(2);
  });

  it('stops an execution still waiting past its window, then revokes', async () => {
    const w = world();
    const expiresAt = new Date(w.clock.now().getTime() - 10 * 60_000).toISOString();
    const id = request(w, 'ACTIVE', { expiresAt });
    w.workflow.running.add(id);
    w.directory.assign(key);
    holders(w, { holders: [id] });

    const report = await w.reconciler().run();

    expect(w.workflow.stopped).toEqual([id]);
    expect(w.directory.has(key)).toBe(false);
    expect(report.stoppedExecutions).toBe(1);
    expect(w.store.requests.get(id)?.status).toBe('REVOKED');
    expect(w.log.actions(id)).toEqual([
      'reconciler.stopped-execution',
      'reconciler.orphan-found',
      'reconciler.revoked',
      'request.closed',
    ]);
  });

  it('leaves a request inside its grace period to the workflow', async () => {
    const w = world();
    const expiresAt = new Date(w.clock.now().getTime() - 30_000).toISOString();
    const id = request(w, 'ACTIVE', { expiresAt });
    w.workflow.running.add(id);
    w.directory.assign(key);
    holders(w, { holders: [id] });

    await w.reconciler().run();

    expect(w.workflow.stopped).toEqual([]);
    expect(w.directory.has(key)).toBe(true);
    expect(current(w)?.holders).toEqual([id]);
  });
});

describe('reconciler: access it must not remove', () => {
  it('never touches a permanent assignment it has no record of', async () => {
    const w = world();
    w.directory.assign(key);
    w.directory.assign({ ...key, principalId: 'user-bob' });

    await w.reconciler().run();
    w.clock.advanceMinutes(24 * 60);
    await w.reconciler().run();

    expect(w.directory.count('delete')).toBe(0);
    expect(w.directory.has(key)).toBe(true);
    expect(w.store.holders.size).toBe(0);
  });

  it('releases a dead holder of a pre-existing assignment and keeps the assignment', async () => {
    const w = world();
    const id = request(w, 'REVOKE_FAILED', { closedAt: 'x' });
    w.directory.assign(key);
    holders(w, { holders: [id], preExisting: true });

    await w.reconciler().run();

    expect(w.directory.count('delete')).toBe(0);
    expect(w.directory.has(key)).toBe(true);
    expect(current(w)).toMatchObject({ state: 'PRESENT', preExisting: true, holders: [] });
    expect(w.log.actions(id)).toEqual(['revoke.kept']);
  });

  it('keeps the assignment another live request still holds', async () => {
    const w = world();
    const dead = request(w, 'REVOKE_FAILED', { closedAt: 'x' });
    const live = request(w, 'ACTIVE', {
      expiresAt: new Date(w.clock.now().getTime() + 3_600_000).toISOString(),
    });
    w.workflow.running.add(live);
    w.directory.assign(key);
    holders(w, { holders: [dead, live] });

    await w.reconciler().run();

    expect(w.directory.count('delete')).toBe(0);
    expect(current(w)?.holders).toEqual([live]);
  });

  it('waits for a recent CREATING record (a grant Lambda may still be creating it)', async () => {
    const w = world();
    const id = request(w, 'GRANTING', { minutesAgo: 1 });
    holders(w, { holders: [id], state: 'CREATING', minutesAgo: 1 });
    await w.reconciler().run();
    expect(w.directory.count('delete')).toBe(0);
    expect(current(w)?.state).toBe('CREATING');

    w.clock.advanceMinutes(20);
    await w.reconciler().run();
    expect(w.directory.count('delete')).toBe(1);
    expect(current(w)?.state).toBe('ABSENT');
  });

  it('honours an active window whose execution is gone until the window ends', async () => {
    const w = world();
    const expiresAt = new Date(w.clock.now().getTime() + 30 * 60_000).toISOString();
    const id = request(w, 'ACTIVE', { expiresAt });
    w.directory.assign(key);
    holders(w, { holders: [id] });

    await w.reconciler().run();
    expect(w.directory.has(key)).toBe(true);

    w.clock.advanceMinutes(33);
    await w.reconciler().run();
    expect(w.directory.has(key)).toBe(false);
    expect(w.store.requests.get(id)?.status).toBe('REVOKED');
  });

  it('alerts once about an assignment made again outside the product, and keeps it unless policy says revoke', async () => {
    const w = world();
    w.directory.assign(key);
    holders(w, { state: 'ABSENT' });

    await w.reconciler().run();
    await w.reconciler().run();
    expect(w.directory.count('delete')).toBe(0);
    expect(current(w)).toMatchObject({ state: 'PRESENT', preExisting: true });
    expect(w.notifier.alerts).toHaveLength(1);
    expect(w.log.actions(assignmentAuditId(key))).toEqual(['reconciler.orphan-found']);

    const strict = world();
    strict.directory.assign(key);
    holders(strict, { state: 'ABSENT' });
    await strict.reconciler({ policy: { ...policy, reconciler: { revokeUntracked: true } } }).run();
    expect(strict.directory.has(key)).toBe(false);
  });
});

describe('reconciler: late creations (a creation landing after its request let go)', () => {
  const step = (requestId: string) => ({ requestId, ...key });
  /** A grant whose CreateAccountAssignment is still in flight while its request is revoked. */
  async function createLandsAfterRevoke(w: World) {
    const id = request(w, 'APPROVED', { minutesAgo: 1 });
    let land: () => void = () => {};
    w.directory.createGate = new Promise<void>((resolve) => {
      land = resolve;
    });
    const granting = w.steps.grant(step(id));
    // The grant has fenced its creation and is inside the call when its execution is given up.
    for (let i = 0; i < 50 && w.directory.count('create') === 0; i++)
      await new Promise((r) => setImmediate(r));
    expect(current(w)).toMatchObject({ state: 'CREATING', creationsInFlight: [{ requestId: id }] });
    expect(await w.steps.revoke({ ...step(id), reason: 'failure' })).toMatchObject({ status: 'SUCCEEDED' });
    expect(current(w)).toMatchObject({ state: 'ABSENT', holders: [] });
    land();
    w.directory.createGate = undefined;
    await granting.catch(() => undefined);
    expect(w.directory.has(key)).toBe(true); // the late creation landed: standing access, unheld
    return id;
  }

  it('deletes the assignment its own late creation left, and audits it on the request', async () => {
    const w = world();
    const id = await createLandsAfterRevoke(w);
    expect(current(w)?.creationsInFlight?.[0]?.operationId).toBeDefined();

    const report = await w.reconciler().run();

    expect(w.directory.has(key)).toBe(false);
    expect(report.orphansFound).toBe(1);
    expect(current(w)).toMatchObject({ state: 'ABSENT', preExisting: false, creationsInFlight: [] });
    expect(w.log.actions(id)).toEqual(
      expect.arrayContaining(['reconciler.orphan-found', 'reconciler.revoked']),
    );
    const finding = w.log.events.find((e) => e.requestId === id && e.action === 'reconciler.orphan-found');
    expect(finding?.details.finding).toBe('late-creation');
  });

  it('lets a later grant hold a late creation as its own, never as pre-existing, and its revoke deletes it', async () => {
    const w = world();
    await createLandsAfterRevoke(w);
    const next = request(w, 'APPROVED', { minutesAgo: 1 });

    expect(await w.steps.grant(step(next))).toMatchObject({ status: 'SUCCEEDED' });
    expect(current(w)).toMatchObject({ state: 'PRESENT', preExisting: false, holders: [next] });
    expect(await w.steps.revoke({ ...step(next), reason: 'expired' })).toMatchObject({ status: 'SUCCEEDED' });

    expect(w.directory.has(key)).toBe(false);
  });

  it('waits out a creation whose call never returned, then deletes what it left', async () => {
    const w = world();
    const id = request(w, 'REVOKED', { closedAt: w.clock.now().toISOString() });
    w.directory.assign(key); // it landed; the grant died before recording its operation id
    holders(w, {
      state: 'ABSENT',
      minutesAgo: 1,
      creationsInFlight: [{ requestId: id, issuedAt: w.clock.now().toISOString() }],
    });

    await w.reconciler().run();
    expect(w.directory.has(key)).toBe(true); // it may still be in progress: not yet
    w.clock.advanceMinutes(20);
    await w.reconciler().run();

    expect(w.directory.has(key)).toBe(false);
  });

  it('closes the fence of a FAILED creation and leaves an assignment someone else made to the usual rules', async () => {
    const w = world();
    const id = request(w, 'GRANT_FAILED', { closedAt: w.clock.now().toISOString() });
    w.directory.failCreations.push('Permission set is not provisioned');
    const failed = await w.directory.create(key);
    w.directory.assign(key); // an administrator assigns it by hand afterwards
    holders(w, {
      state: 'ABSENT',
      creationsInFlight: [
        { requestId: id, issuedAt: w.clock.now().toISOString(), operationId: failed.requestId },
      ],
    });

    await w.reconciler().run();
    expect(current(w)).toMatchObject({ state: 'ABSENT', creationsInFlight: [] });
    w.clock.advanceMinutes(20);
    await w.reconciler().run();

    expect(w.directory.has(key)).toBe(true);
    expect(w.directory.count('delete')).toBe(0);
    expect(current(w)).toMatchObject({ state: 'PRESENT', preExisting: true, creationsInFlight: [] });
  });
});

describe('reconciler: concurrency', () => {
  it('two passes at once delete an orphan once', async () => {
    const w = world();
    const id = request(w, 'REVOKE_FAILED', { closedAt: 'x' });
    w.directory.assign(key);
    holders(w, { holders: [id] });
    let open!: () => void;
    w.directory.deleteGate = new Promise<void>((resolve) => {
      open = resolve;
    });

    const both = Promise.all([w.reconciler().run(), w.reconciler().run()]);
    await new Promise((resolve) => setTimeout(resolve, 20));
    open();
    const [a, b] = await both;

    expect(w.directory.count('delete')).toBe(1);
    expect(a.deletionsRequested + b.deletionsRequested).toBe(1);
    expect(w.directory.has(key)).toBe(false);
    expect(current(w)?.state).toBe('ABSENT');
    expect(w.log.actions(id).filter((a) => a === 'reconciler.revoked')).toHaveLength(1);
  });

  it('a pass honours another pass’s fresh claim and takes over a stale one', async () => {
    const w = world();
    w.directory.assign(key);
    holders(w, { state: 'DELETING', deletingBy: RECONCILER_CLAIM, minutesAgo: 1 });
    await w.reconciler().run();
    expect(w.directory.count('delete')).toBe(0);

    w.clock.advanceMinutes(10);
    await w.reconciler().run();
    expect(w.directory.count('delete')).toBe(1);
    expect(current(w)?.state).toBe('ABSENT');
  });

  it('leaves a claim in place when Identity Center refuses the deletion, and retries after the lease', async () => {
    const w = world();
    const id = request(w, 'REVOKE_FAILED', { closedAt: 'x' });
    w.directory.assign(key);
    holders(w, { holders: [id] });
    for (let i = 0; i < 4; i++)
      w.directory.deleteErrors.push(new RetryableError('DeleteAccountAssignment: ThrottlingException'));

    const first = await w.reconciler().run();
    expect(first.errors.join()).toContain('ThrottlingException');
    expect(current(w)).toMatchObject({ state: 'DELETING', deletingBy: RECONCILER_CLAIM });

    w.clock.advanceMinutes(6);
    await w.reconciler().run();
    expect(w.directory.has(key)).toBe(false);
  });

  it('retries a throttled deletion within the pass', async () => {
    const w = world();
    const id = request(w, 'REVOKE_FAILED', { closedAt: 'x' });
    w.directory.assign(key);
    holders(w, { holders: [id] });
    w.directory.deleteErrors.push(new RetryableError('DeleteAccountAssignment: ThrottlingException'));

    const report = await w.reconciler().run();

    expect(report.errors).toEqual([]);
    expect(w.directory.has(key)).toBe(false);
    expect(w.directory.count('delete')).toBe(2);
  });

  it('runs alongside the workflow: a grant waits for the reconciler’s deletion, then creates anew', async () => {
    const w = world();
    const dead = request(w, 'REVOKE_FAILED', { closedAt: 'x' });
    w.directory.assign(key);
    holders(w, { holders: [dead] });
    const fresh = request(w, 'APPROVED', { minutesAgo: 0 });
    w.workflow.running.add(fresh);
    w.directory.pollsBeforeDone = 1;

    const grantStep = { requestId: fresh, ...key };
    const [grantOutcome] = await Promise.allSettled([w.steps.grant(grantStep), w.reconciler().run()]);
    // Either the grant joined first (the pass then keeps the assignment for it) or it found the
    // record DELETING and asked Step Functions to retry.
    if (grantOutcome.status === 'rejected') expect(grantOutcome.reason).toBeInstanceOf(RetryableError);
    await w.reconciler().run(); // confirms the deletion if it was in progress
    const retried = await w.steps.grant(grantStep).catch((error: unknown) => error);
    expect(retried).not.toBeInstanceOf(Error);
    const record = current(w);
    expect(record?.holders).toEqual([fresh]);
    expect(record?.preExisting).toBe(false);
  });
});

describe('reconciler: requests', () => {
  it('sends the 10-minute notice once per window end, again after an extension', async () => {
    const w = world();
    const expiresAt = new Date(w.clock.now().getTime() + 8 * 60_000).toISOString();
    const id = request(w, 'ACTIVE', { expiresAt });
    w.workflow.running.add(id);
    holders(w, { holders: [id] });

    await Promise.all([w.reconciler().run(), w.reconciler().run()]);
    await w.reconciler().run();
    expect(w.notifier.noticesFor(id)).toEqual(['expiring-soon']);
    expect(w.log.actions(id)).toEqual(['window.expiring-soon']);

    const extended = new Date(Date.parse(expiresAt) + 30 * 60_000).toISOString();
    await w.store.updateRequest(id, ['ACTIVE'], { expiresAt: extended, extendedMinutes: 30 });
    await w.reconciler().run();
    expect(w.notifier.noticesFor(id)).toEqual(['expiring-soon']);
    w.clock.advanceMinutes(30);
    await w.reconciler().run();
    expect(w.notifier.noticesFor(id)).toEqual(['expiring-soon', 'expiring-soon']);
  });

  it('does not send the notice for a window of 10 minutes or less', async () => {
    const w = world();
    const id = request(w, 'ACTIVE', {
      durationMinutes: 10,
      expiresAt: new Date(w.clock.now().getTime() + 5 * 60_000).toISOString(),
    });
    w.workflow.running.add(id);
    await w.reconciler().run();
    expect(w.notifier.noticesFor(id)).toEqual([]);
  });

  it('closes a request whose Finish crashed, once', async () => {
    const w = world();
    const id = request(w, 'DENIED');
    await w.reconciler().run();
    await w.reconciler().run();
    expect(w.log.actions(id)).toEqual(['request.closed']);
    expect(w.store.requests.get(id)?.closedAt).toBeDefined();
    expect(w.notifier.noticesFor(id)).toEqual([]);
  });

  it('leaves a request whose Finish wrote request.closed but crashed before closedAt with one closing event', async () => {
    const w = world();
    const id = request(w, 'REVOKED');
    await w.log.append({
      version: 1,
      requestId: id,
      eventId: 'e1',
      at: w.clock.now().toISOString(),
      actor: 'system:workflow',
      action: 'request.closed',
      outcome: 'success',
      details: {},
    });
    await w.reconciler().run();
    expect(w.log.actions(id)).toEqual(['request.closed']);
    expect(w.store.requests.get(id)?.closedAt).toBeDefined();
  });

  it('stops an execution stuck in GRANTING for an hour and releases its grant', async () => {
    const w = world();
    const id = request(w, 'GRANTING', { minutesAgo: 70 });
    w.workflow.running.add(id);
    w.directory.assign(key);
    holders(w, { holders: [id], state: 'CREATING', minutesAgo: 70 });

    await w.reconciler().run();

    expect(w.workflow.stopped).toEqual([id]);
    expect(w.directory.has(key)).toBe(false);
    expect(w.store.requests.get(id)).toMatchObject({ status: 'GRANT_FAILED', closedAt: expect.any(String) });
  });

  it('leaves an approved request waiting for its scheduled start alone, and stops it an hour past its start', async () => {
    const w = world();
    // Approved 70 minutes ago, to start tomorrow: waiting (WaitForStart), not stuck.
    const tomorrow = new Date(w.clock.now().getTime() + 24 * 3_600_000).toISOString();
    const id = request(w, 'APPROVED', { minutesAgo: 70 });
    const record = w.store.requests.get(id);
    if (record) record.request = { ...record.request, startAt: tomorrow };
    w.workflow.running.add(id);

    await w.reconciler().run();
    expect(w.workflow.stopped).toEqual([]);
    expect(w.store.requests.get(id)?.status).toBe('APPROVED');

    // Still APPROVED 70 minutes after its start: its grant never began, so it is stuck after all.
    w.clock.advance(24 * 3_600_000 + 70 * 60_000);
    await w.reconciler().run();
    expect(w.workflow.stopped).toEqual([id]);
    expect(w.store.requests.get(id)).toMatchObject({ status: 'GRANT_FAILED', closedAt: expect.any(String) });
  });

  describe('a window never outlives the policy, whatever the stored expiresAt says', () => {
    const minutesFromNow = (w: World, minutes: number) =>
      new Date(w.clock.now().getTime() + minutes * 60_000).toISOString();
    const FORGED = '2099-01-01T00:00:00.000Z';

    it('ends a window whose stored expiresAt was forged past its start plus the allowed total', async () => {
      const w = world();
      // Started 70 minutes ago for 60 minutes; the store claims it runs until 2099.
      const id = request(w, 'ACTIVE', { expiresAt: FORGED, windowStartedAt: minutesFromNow(w, -70) });
      w.workflow.running.add(id);
      w.directory.assign(key);
      holders(w, { holders: [id] });

      const report = await w.reconciler().run();

      expect(report).toMatchObject({ stoppedExecutions: 1, errors: [] });
      expect(w.directory.has(key)).toBe(false);
      const stopped = w.log.events.find((e) => e.action === 'reconciler.stopped-execution');
      expect(String(stopped?.details.reason)).toContain('the longest the policy allows');
      expect(String(stopped?.details.reason)).toContain(minutesFromNow(w, -10));
    });

    it('caps forged extension minutes at the longest maxDuration of the policy', async () => {
      const w = world();
      // staging-self-service allows 8 h: started 9 hours ago, whatever extendedMinutes claims.
      const id = request(w, 'ACTIVE', {
        expiresAt: FORGED,
        extendedMinutes: 100_000,
        windowStartedAt: minutesFromNow(w, -9 * 60),
      });
      w.workflow.running.add(id);
      w.directory.assign(key);
      holders(w, { holders: [id] });

      expect(await w.reconciler().run()).toMatchObject({ stoppedExecutions: 1 });
      expect(w.directory.has(key)).toBe(false);
    });

    it('leaves a window alone while it is within the allowed total', async () => {
      const w = world();
      const id = request(w, 'ACTIVE', {
        expiresAt: minutesFromNow(w, 90),
        extendedMinutes: 120,
        windowStartedAt: minutesFromNow(w, -90),
      });
      w.workflow.running.add(id);
      w.directory.assign(key);
      holders(w, { holders: [id] });

      expect(await w.reconciler().run()).toMatchObject({ stoppedExecutions: 0, releasedHolders: 0 });
      expect(w.directory.has(key)).toBe(true);
    });

    it('takes the start of a record of an earlier version from its grant.succeeded event', async () => {
      const w = world();
      const grantedFor = async (id: string, plannedEnd: string) =>
        w.log.append({
          version: 1,
          requestId: id,
          eventId: `grant-${id}`,
          at: w.clock.now().toISOString(),
          actor: 'system:workflow',
          action: 'grant.succeeded',
          outcome: 'success',
          details: { alreadyAssigned: false, preExisting: false, expiresAt: plannedEnd },
        });
      // No windowStartedAt; the trail says the 60-minute window was planned to end 10 minutes ago.
      const over = request(w, 'ACTIVE', { expiresAt: FORGED, windowStartedAt: undefined });
      await grantedFor(over, minutesFromNow(w, -10));
      const within = request(w, 'ACTIVE', { expiresAt: FORGED, windowStartedAt: undefined });
      await grantedFor(within, minutesFromNow(w, 30));
      for (const id of [over, within]) w.workflow.running.add(id);

      await w.reconciler().run();

      expect(w.workflow.stopped).toEqual([over]);
    });
  });

  it('leaves running, in-window requests and their assignments alone', async () => {
    const w = world();
    const id = request(w, 'ACTIVE', {
      expiresAt: new Date(w.clock.now().getTime() + 3_600_000).toISOString(),
    });
    w.workflow.running.add(id);
    w.directory.assign(key);
    holders(w, { holders: [id] });
    const writesBefore = w.store.holderWrites;

    const report = await w.reconciler().run();

    expect(report).toMatchObject({ stoppedExecutions: 0, closedRequests: 0, releasedHolders: 0, errors: [] });
    expect(w.store.holderWrites).toBe(writesBefore);
    expect(w.log.events).toEqual([]);
  });
});

describe('reconciler: approval reminders', () => {
  it('reminds the approvers who have not approved once, at half the timeout, and never a rule that says no', async () => {
    const w = world();
    // production-engineers: 1 h timeout, approvers group:sre (carol, dave); 20 minutes in.
    const id = request(w, 'PENDING_APPROVAL', {
      minutesAgo: 20,
      ruleName: 'production-engineers',
      approvalsRequired: 1,
      approvalMessage: { channel: 'C0APPROVALS', ts: '1.000' },
    });
    w.workflow.running.add(id);
    expect((await w.reconciler().run()).reminders).toBe(0);
    w.clock.advanceMinutes(10);
    expect((await w.reconciler().run()).reminders).toBe(1);
    expect(w.notifier.reminders).toEqual([
      { requestId: id, approvers: ['carol@example.com', 'dave@example.com'] },
    ]);
    expect((await w.reconciler().run()).reminders).toBe(0);
    expect(w.log.events.filter((e) => e.requestId === id).map((e) => e.action)).toEqual([
      'approval.reminded',
    ]);

    // reminder: false on the rule: never.
    const quiet = structuredClone(policy);
    const rule = quiet.rules.find((r) => r.name === 'production-engineers');
    if (!rule || rule.approval === 'none') throw new Error('no approval rule');
    rule.approval.reminder = false;
    const other = request(w, 'PENDING_APPROVAL', { minutesAgo: 50, ruleName: 'production-engineers' });
    w.workflow.running.add(other);
    expect((await w.reconciler({ policy: quiet }).run()).reminders).toBe(0);
    // A decided request is not reminded.
    const decided = request(w, 'APPROVED', { minutesAgo: 50, ruleName: 'production-engineers' });
    w.workflow.running.add(decided);
    await w.reconciler().run();
    expect(w.notifier.reminders.map((r) => r.requestId)).toEqual([id, other]);
  });
});
