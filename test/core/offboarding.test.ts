import { readFileSync } from 'node:fs';
import path from 'node:path';
import { mayOffboard, OFFBOARDING_ACTOR } from '../../functions/core/authority';
import { RequestDecisions } from '../../functions/core/decisions';
import type { ExecutionInput, RequestRecord, RequestStatus } from '../../functions/core/model';
import { Offboarding, personAuditId } from '../../functions/core/offboarding';
import { parsePolicy } from '../../functions/core/policy-file';
import { LifecycleSteps } from '../../functions/core/steps';
import {
  FakeDirectory,
  FakeWorkflow,
  ManualClock,
  MemoryStore,
  memoryAudit,
  RecordingNotifier,
} from '../reliability/fakes';

// Offboarding a person: their live grants ended through the window (as "End access now"), their
// pending requests cancelled, every step on the trail, an alert; the same again on a redelivery.

const policy = parsePolicy(
  readFileSync(path.join(__dirname, '../fixtures/email-groups-policy.yaml'), 'utf8'),
);
const ALICE = { email: 'alice@example.com', slackUserId: 'U0ALICE' };
const BOB = { email: 'bob@example.com', slackUserId: 'U0BOB' };

const input = (requestId: string, who = ALICE): ExecutionInput => ({
  version: 1,
  request: {
    requestId,
    requester: who,
    accountId: '111111111111',
    permissionSetArn: 'arn:aws:sso:::permissionSet/ssoins-7223a1b2c3d4e5f6/ps-1a2b3c4d5e6f7a8b',
    durationMinutes: 60,
    reason: 'Investigating INC-42',
    requestedAt: '2026-11-25T09:00:00.000Z',
  },
});

function world() {
  const clock = new ManualClock();
  const store = new MemoryStore(clock);
  const workflow = new FakeWorkflow();
  const notifier = new RecordingNotifier();
  const { log, trail } = memoryAudit(clock);
  const steps = new LifecycleSteps({
    policy,
    store,
    audit: trail,
    assignments: new FakeDirectory(),
    users: { findUserIdByEmail: async (email: string) => `user-${email.split('@')[0]}` },
    notifier,
    clock,
  });
  const decisions = new RequestDecisions({ policy, store, audit: trail, workflow, notifier, clock });
  const offboarding = new Offboarding({ store, audit: trail, decisions, notifier });
  return { clock, store, workflow, notifier, log, steps, decisions, offboarding };
}
type World = ReturnType<typeof world>;

/** A request waiting for approval, its task token live. */
async function pending(w: World, requestId: string, who = ALICE) {
  await w.steps.validate(input(requestId, who));
  await w.steps.requestApproval({ taskToken: `approval-${requestId}`, requestId });
  w.workflow.liveTokens.add(`approval-${requestId}`);
}

/** A request whose window is open: stored ACTIVE, its window token waiting. */
async function live(w: World, requestId: string, who = ALICE) {
  const record: RequestRecord = {
    version: 1,
    request: input(requestId, who).request,
    status: 'ACTIVE',
    ruleName: 'production',
    approvals: [],
    principalId: `user-${who.email.split('@')[0]}`,
    expiresAt: '2026-11-25T10:00:00.000Z',
    updatedAt: '2026-11-25T09:00:00.000Z',
  };
  await w.store.createRequest(record);
  await w.store.putTaskToken(requestId, 'window', `window-${requestId}`);
  w.workflow.liveTokens.add(`window-${requestId}`);
}

async function closed(w: World, requestId: string, status: RequestStatus) {
  await w.store.createRequest({
    version: 1,
    request: input(requestId).request,
    status,
    approvals: [],
    updatedAt: '2026-11-20T09:00:00.000Z',
  });
}

const trailOf = (w: World, requestId: string) =>
  w.log.events
    .filter((e) => e.requestId === requestId)
    .map((e) => ({ id: e.eventId, action: e.action, actor: e.actor, details: e.details }));

describe('Offboarding.offboard', () => {
  it("ends the person's live grants through the window, cancels their pending requests, audits and alerts", async () => {
    const w = world();
    await live(w, 'req-live-0001');
    await pending(w, 'req-pend-0001');
    await closed(w, 'req-done-0001', 'REVOKED');
    await pending(w, 'req-bob-00001', BOB);

    const report = await w.offboarding.offboard(ALICE, 'slack-deactivated');

    expect(report).toEqual({ ended: ['req-live-0001'], cancelled: ['req-pend-0001'], inFlight: [] });
    // The window's callback ended as the End button ends it; the approval task failed as Cancelled.
    expect(w.workflow.signals).toEqual(
      expect.arrayContaining([
        { token: 'window-req-live-0001', kind: 'success', output: { action: 'end', by: OFFBOARDING_ACTOR } },
        { token: 'approval-req-pend-0001', kind: 'failure', error: 'Cancelled' },
      ]),
    );
    expect(await w.store.getRequest('req-live-0001')).toMatchObject({ endedBy: OFFBOARDING_ACTOR });
    expect(await w.store.getRequest('req-pend-0001')).toMatchObject({
      status: 'CANCELLED',
      cancellation: { by: OFFBOARDING_ACTOR, slackUserId: ALICE.slackUserId },
    });
    // Others' requests and closed ones are untouched.
    expect((await w.store.getRequest('req-bob-00001'))?.status).toBe('PENDING_APPROVAL');
    expect(trailOf(w, 'req-done-0001')).toEqual([]);
    expect(trailOf(w, 'req-live-0001').map((e) => [e.action, e.actor])).toEqual([
      ['user.offboarded', OFFBOARDING_ACTOR],
      ['window.ended-early', OFFBOARDING_ACTOR],
    ]);
    expect(
      trailOf(w, 'req-pend-0001')
        .slice(-2)
        .map((e) => e.action),
    ).toEqual(['user.offboarded', 'request.cancelled']);
    expect(trailOf(w, 'req-pend-0001').find((e) => e.action === 'user.offboarded')?.details).toEqual({
      reason: 'slack-deactivated',
      slackUserId: ALICE.slackUserId,
      step: 'cancel',
    });
    expect(trailOf(w, personAuditId(ALICE.slackUserId))).toEqual([
      expect.objectContaining({
        action: 'user.offboarded',
        details: { reason: 'slack-deactivated', slackUserId: ALICE.slackUserId },
      }),
    ]);
    expect(w.notifier.alerts).toHaveLength(1);
    expect(w.notifier.alerts[0]).toContain('req-live-0001');
    expect(w.notifier.alerts[0]).toContain('req-pend-0001');
  });

  it('is idempotent: a redelivered event leaves the same records and trail', async () => {
    const w = world();
    await live(w, 'req-live-0002');
    await pending(w, 'req-pend-0002');
    await w.offboarding.offboard(ALICE, 'slack-deactivated');
    const records = await Promise.all(['req-live-0002', 'req-pend-0002'].map((id) => w.store.getRequest(id)));
    const trails = ['req-live-0002', 'req-pend-0002', personAuditId(ALICE.slackUserId)].map((id) =>
      trailOf(w, id),
    );
    const signals = w.workflow.signals.length;

    const again = await w.offboarding.offboard(ALICE, 'slack-deactivated');

    expect(again).toEqual({ ended: ['req-live-0002'], cancelled: ['req-pend-0002'], inFlight: [] });
    expect(await Promise.all(['req-live-0002', 'req-pend-0002'].map((id) => w.store.getRequest(id)))).toEqual(
      records,
    );
    expect(
      ['req-live-0002', 'req-pend-0002', personAuditId(ALICE.slackUserId)].map((id) => trailOf(w, id)),
    ).toEqual(trails);
    expect(w.workflow.signals).toHaveLength(signals);
  });

  it('reports a request still on its way to access as unfinished, and ends it on a later run once live', async () => {
    const w = world();
    await closed(w, 'req-way-00001', 'GRANTING');

    expect(await w.offboarding.offboard(ALICE, 'slack-deactivated')).toEqual({
      ended: [],
      cancelled: [],
      inFlight: ['req-way-00001'],
    });
    expect(w.notifier.alerts[0]).toContain('Still on their way to access');

    await w.store.updateRequest('req-way-00001', ['GRANTING'], {
      status: 'ACTIVE',
      expiresAt: '2026-11-25T10:00:00.000Z',
    });
    await w.store.putTaskToken('req-way-00001', 'window', 'window-way');
    w.workflow.liveTokens.add('window-way');

    expect((await w.offboarding.offboard(ALICE, 'slack-deactivated')).ended).toEqual(['req-way-00001']);
  });
});

describe('mayOffboard', () => {
  it('lets the product act on the offboarded person’s own requests only, and never a person', async () => {
    const w = world();
    await pending(w, 'req-auth-0001');
    const record = (await w.store.getRequest('req-auth-0001')) as RequestRecord;
    const system = { email: OFFBOARDING_ACTOR, slackUserId: ALICE.slackUserId, offboarding: true as const };
    expect(mayOffboard(record, system)).toBe(true);
    expect(mayOffboard(record, { ...system, slackUserId: BOB.slackUserId })).toBe(false);
    expect(mayOffboard(record, ALICE)).toBe(false);
    // Someone else passing as the system cannot end Alice's access or cancel her request.
    expect(await w.decisions.cancel('req-auth-0001', { ...BOB, offboarding: true })).toEqual({
      kind: 'not-authorized',
      reason: 'not-requester',
    });
  });
});
