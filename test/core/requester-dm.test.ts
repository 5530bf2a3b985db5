import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { ExecutionInput, RequestRecord } from '../../functions/core/model';
import { parsePolicy } from '../../functions/core/policy-file';
import { Reconciler } from '../../functions/core/reconciler';
import { type GrantResult, LifecycleSteps, type RevokeResult } from '../../functions/core/steps';
import {
  FakeDirectory,
  FakeWorkflow,
  ManualClock,
  MemoryStore,
  memoryAudit,
  RecordingNotifier,
} from '../reliability/fakes';

// The requester's "Access ready" DM (with End access now / Extend): its reference kept on the
// record once (`requesterDm`), and re-rendered without its buttons when the access ends.

const policy = parsePolicy(
  readFileSync(path.join(__dirname, '../fixtures/email-groups-policy.yaml'), 'utf8'),
);
const ALICE = { email: 'alice@example.com', slackUserId: 'U0ALICE' };
const REQUEST_ID = 'req-dm-0001';
const STAGING = '222222222222';
const READ_ONLY = 'arn:aws:sso:::permissionSet/ssoins-7223a1b2c3d4e5f6/ps-1a2b3c4d5e6f7a8b';

const input: ExecutionInput = {
  version: 1,
  request: {
    requestId: REQUEST_ID,
    requester: ALICE,
    accountId: STAGING, // staging-self-service: approval none
    permissionSetArn: READ_ONLY,
    durationMinutes: 60,
    reason: 'Investigating INC-42',
    requestedAt: '2026-11-25T09:00:00.000Z',
  },
};

function world() {
  const clock = new ManualClock();
  const store = new MemoryStore(clock);
  const directory = new FakeDirectory();
  const workflow = new FakeWorkflow();
  const notifier = new RecordingNotifier();
  const { log, trail } = memoryAudit(clock);
  const steps = new LifecycleSteps({
    policy,
    store,
    audit: trail,
    assignments: directory,
    users: { findUserIdByEmail: async (email: string) => `user-${email.split('@')[0]}` },
    notifier,
    clock,
  });
  const reconciler = () =>
    new Reconciler(
      {
        policy,
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
  const record = async () => (await store.getRequest(REQUEST_ID)) as RequestRecord;
  const trailOf = () => log.events.filter((e) => e.requestId === REQUEST_ID);
  return { clock, store, directory, workflow, notifier, log, steps, reconciler, record, trailOf };
}
type World = ReturnType<typeof world>;

const assignment = (principalId: string) => ({
  requestId: REQUEST_ID,
  accountId: STAGING,
  permissionSetArn: READ_ONLY,
  principalId,
});

/** Validated and granted: the window's plan, for AccessWindow. */
async function granted(w: World) {
  const validation = await w.steps.validate(input);
  if (!validation.valid) throw new Error(validation.reason);
  let grant: GrantResult = await w.steps.grant(assignment(validation.principalId));
  while (grant.status === 'IN_PROGRESS')
    grant = await w.steps.checkGrant({ ...assignment(validation.principalId), ...grant });
  if (grant.status !== 'SUCCEEDED') throw new Error(`grant ${grant.status}`);
  return { principalId: validation.principalId, window: grant.window };
}

const windowInput = (
  window: { startedAt: string; expiresAt: string },
  n = 1,
  expiresAt = window.expiresAt,
) => ({
  taskToken: `tok-window-${n}`,
  requestId: REQUEST_ID,
  expiresAt,
  window,
});

/** Revoke (expired), its polls, Finish (revoked). */
async function revokedAndFinished(w: World, principalId: string) {
  let revoke: RevokeResult = await w.steps.revoke({ ...assignment(principalId), reason: 'expired' });
  while (revoke.status === 'IN_PROGRESS')
    revoke = await w.steps.checkRevoke({ ...assignment(principalId), ...revoke });
  return w.steps.finish({ requestId: REQUEST_ID, outcome: 'revoked' });
}

describe('the "Access ready" DM', () => {
  it('is kept on the record once when the window opens; a replay posts nothing and writes nothing', async () => {
    const w = world();
    const { window } = await granted(w);

    await w.steps.openWindow(windowInput(window));

    expect(w.notifier.noticesFor(REQUEST_ID)).toEqual(['granted']);
    expect(w.notifier.postedDms).toHaveLength(1);
    const posted = w.notifier.postedDms[0]?.dm;
    const opened = await w.record();
    expect(opened).toMatchObject({ status: 'ACTIVE', requesterDm: posted });
    const trail = structuredClone(w.trailOf());

    // The same step again (Step Functions retried it, or Lambda redelivered it).
    w.clock.advance(45_000);
    await w.steps.openWindow(windowInput(window));

    expect(w.notifier.noticesFor(REQUEST_ID)).toEqual(['granted']);
    expect(w.notifier.postedDms).toHaveLength(1);
    expect(await w.record()).toEqual(opened);
    expect(w.trailOf()).toEqual(trail);
  });

  it('is posted by a retry whose first run opened the window but kept no DM, and then only once', async () => {
    const w = world();
    const { window } = await granted(w);
    // The first run's DM lost (as a run that died after opening the window loses it).
    jest.spyOn(w.notifier, 'notifyRequester').mockRejectedValueOnce(new Error('Slack: ratelimited'));
    await w.steps.openWindow(windowInput(window));
    expect((await w.record()).requesterDm).toBeUndefined();

    await w.steps.openWindow(windowInput(window));
    await w.steps.openWindow(windowInput(window));

    // Asked twice (the first run's post failed), posted and kept once.
    expect(w.notifier.notifyRequester).toHaveBeenCalledTimes(2);
    expect(w.notifier.noticesFor(REQUEST_ID)).toEqual(['granted']);
    expect(w.notifier.postedDms).toHaveLength(1);
    expect((await w.record()).requesterDm).toEqual(w.notifier.postedDms[0]?.dm);
    // One window.opened, whichever run wrote it.
    expect(w.trailOf().filter((e) => e.action === 'window.opened')).toHaveLength(1);
  });

  it('a failure to keep it never fails the step nor takes the access away', async () => {
    const w = world();
    const { window } = await granted(w);
    const updateRequest = w.store.updateRequest.bind(w.store);
    jest
      .spyOn(w.store, 'updateRequest')
      .mockImplementation((id, from, change, guard) =>
        'requesterDm' in change
          ? Promise.reject(new Error('DynamoDB is down'))
          : updateRequest(id, from, change, guard),
      );

    await expect(w.steps.openWindow(windowInput(window))).resolves.toBeUndefined();

    expect(await w.record()).toMatchObject({ status: 'ACTIVE' });
    expect((await w.record()).requesterDm).toBeUndefined();
    expect(w.notifier.noticesFor(REQUEST_ID)).toEqual(['granted']);
  });

  it('loses its buttons when the access ends: re-rendered from the closed record, once per Finish run', async () => {
    const w = world();
    const { principalId, window } = await granted(w);
    await w.steps.openWindow(windowInput(window));
    const dm = (await w.record()).requesterDm;
    expect(w.notifier.requesterDmUpdates).toEqual([]);

    w.clock.advance(60 * 60_000);
    await revokedAndFinished(w, principalId);

    const closed = await w.record();
    expect(closed).toMatchObject({ status: 'REVOKED', requesterDm: dm, closedAt: expect.any(String) });
    expect(w.notifier.requesterDmUpdates).toEqual([closed]);
    expect(w.notifier.noticesFor(REQUEST_ID)).toEqual(['granted', 'revoked']);

    // A retried Finish renders the same again and changes nothing.
    await w.steps.finish({ requestId: REQUEST_ID, outcome: 'revoked' });
    expect(w.notifier.requesterDmUpdates).toEqual([closed, closed]);
    expect(await w.record()).toEqual(closed);
  });

  it('a Slack error re-rendering it never fails Finish', async () => {
    const w = world();
    const { principalId, window } = await granted(w);
    await w.steps.openWindow(windowInput(window));
    jest.spyOn(w.notifier, 'updateRequesterDm').mockRejectedValue(new Error('message_not_found'));

    await expect(revokedAndFinished(w, principalId)).resolves.toEqual({ status: 'REVOKED' });
    expect(w.notifier.noticesFor(REQUEST_ID)).toEqual(['granted', 'revoked']);
  });

  it('ended while it was posted (its reference refused: no longer ACTIVE) is re-rendered as ended at once', async () => {
    const w = world();
    const { window } = await granted(w);
    const notify = w.notifier.notifyRequester.bind(w.notifier);
    jest.spyOn(w.notifier, 'notifyRequester').mockImplementationOnce(async (record, notice, detail, keep) => {
      // The window's timer fired meanwhile: Revoke moved the request on.
      await w.store.updateRequest(REQUEST_ID, ['ACTIVE'], { status: 'REVOKING' });
      return notify(record, notice, detail, keep);
    });

    await w.steps.openWindow(windowInput(window));

    const stored = await w.record();
    expect(stored.status).toBe('REVOKING');
    expect(stored.requesterDm).toBeUndefined();
    expect(w.notifier.requesterDmUpdates).toEqual([{ ...stored, requesterDm: w.notifier.postedDms[0]?.dm }]);
  });

  it('keeps its buttons after an extension, re-rendered until the new end', async () => {
    const w = world();
    const { window } = await granted(w);
    await w.steps.openWindow(windowInput(window));
    const later = new Date(Date.parse(window.expiresAt) + 30 * 60_000).toISOString();

    // An extension of 30 minutes applied (approval: none), its callback planned.
    await w.store.updateRequest(REQUEST_ID, ['ACTIVE'], { extendedMinutes: 30 });
    w.clock.advance(10 * 60_000);
    await w.steps.openWindow(windowInput(window, 2, later));

    expect(w.notifier.noticesFor(REQUEST_ID)).toEqual(['granted', 'extended']);
    expect(w.notifier.postedDms).toHaveLength(1);
    expect(w.notifier.requesterDmUpdates).toEqual([await w.record()]);
    expect(w.notifier.requesterDmUpdates[0]).toMatchObject({ status: 'ACTIVE', expiresAt: later });
  });

  it('loses its buttons when the reconciler closes a window the workflow abandoned', async () => {
    const w = world();
    const { window } = await granted(w);
    await w.steps.openWindow(windowInput(window));
    const dm = (await w.record()).requesterDm;

    // The execution is gone (not running) and the window long over.
    w.clock.advance(3 * 60 * 60_000);
    await w.reconciler().run();

    const closed = await w.record();
    expect(closed).toMatchObject({ status: 'REVOKED', requesterDm: dm, closedAt: expect.any(String) });
    expect(w.notifier.requesterDmUpdates).toEqual([closed]);
  });
});
