import {
  ACCOUNTS,
  audited,
  type Harness,
  PEOPLE,
  requestDecisions,
  requestStore,
  startHarness,
  tokenStored,
} from './harness';

// A scheduled start through statemachines/access-request.asl.json with the real handlers, on model
// time (1 ms of real time per model second): approval is asked at once, the grant waits in
// WaitForStart, is admitted at the start, and the window counts from then; withdrawn while it
// waits, nothing is ever created.

const alice = PEOPLE.alice;
const carol = { email: PEOPLE.carol.email, slackUserId: PEOPLE.carol.slackUserId };
const aliceActor = { email: alice.email, slackUserId: alice.slackUserId };
const MINUTE = 60_000;

let harness: Harness;
let counter = 0;
const newId = () => `req-sched-${++counter}-${Date.now().toString(36)}`;
const entered = (execution: string) =>
  harness.host
    .history(execution)
    .filter((e) => e.type === 'StateEntered')
    .map((e) => e.stateName);
/** Model time now (the harness's clock runs 1,000 times faster than real time). */
const modelNow = async (requestId: string) =>
  Date.parse((await requestStore(harness.clock).getRequest(requestId))?.updatedAt ?? '');

afterEach(async () => {
  await harness?.close();
});

describe('scheduled start', () => {
  it('auto-approved: waits for the start, then grants; the window counts from the start', async () => {
    harness = await startHarness({ scaledClock: true });
    const requestId = newId();
    const startAt = new Date(Date.now() + 30 * MINUTE).toISOString();
    const execution = await harness.start({ requestId, durationMinutes: 15, startAt });
    const result = await harness.finished(execution);

    expect(result.status).toBe('SUCCEEDED');
    // Deferred, waited for, admitted again at the start (and its slot, a second or so), granted.
    const states = entered(execution);
    expect(
      states
        .slice(states.indexOf('Route'), states.indexOf('Grant') + 1)
        .filter((x) => x !== 'WaitForGrantSlot'),
    ).toEqual(['Route', 'AdmitGrant', 'GrantSlot', 'WaitForStart', 'AdmitGrant', 'GrantSlot', 'Grant']);
    const record = await requestStore(harness.clock).getRequest(requestId);
    expect(record?.status).toBe('REVOKED');
    // Granted at (not before) the start; the 15 minutes counted from when access went live.
    const started = Date.parse(record?.windowStartedAt ?? '');
    expect(started).toBeGreaterThanOrEqual(Date.parse(startAt) - 1000);
    expect(Date.parse(record?.expiresAt ?? '') - started).toBe(15 * MINUTE);
    expect(harness.writes().map((w) => w[0])).toEqual(['Create', 'Delete']);
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
  });

  it('with approval: asked at once, approved, waits for the start; the requester is told when it starts', async () => {
    harness = await startHarness({ scaledClock: true });
    const requestId = newId();
    const startAt = new Date(Date.now() + 60 * MINUTE).toISOString();
    const execution = await harness.start({
      requestId,
      accountId: ACCOUNTS.production,
      durationMinutes: 15,
      startAt,
    });
    await tokenStored(harness, requestId, 'approval');
    await audited(harness, requestId, 'approval.requested');
    // The approvers see when it starts.
    await harness.waitFor(
      async () =>
        harness
          .slackCalls('chat.postMessage')
          .some((c) => JSON.stringify(c.args.blocks ?? '').includes('*Starts:*')),
      'the approval message saying when it starts',
    );
    expect((await (await requestDecisions(harness.clock)).decide(requestId, carol, 'approve')).kind).toBe(
      'approved',
    );
    await harness.waitFor(async () => entered(execution).includes('WaitForStart'), 'the wait for the start');
    expect(harness.writes()).toEqual([]);
    const told = harness.slackCalls('chat.postMessage').filter((c) => c.args.channel === alice.slackUserId);
    expect(told.map((c) => String(c.args.text))).toContainEqual(expect.stringContaining('Access starts'));

    const result = await harness.finished(execution);
    expect(result.status).toBe('SUCCEEDED');
    const record = await requestStore(harness.clock).getRequest(requestId);
    expect(Date.parse(record?.windowStartedAt ?? '')).toBeGreaterThanOrEqual(Date.parse(startAt) - 1000);
    expect(harness.writes().map((w) => w[0])).toEqual(['Create', 'Delete']);
  });

  it('cancelled while it waits for its start: nothing is created, the request closes CANCELLED', async () => {
    harness = await startHarness({ scaledClock: true });
    const requestId = newId();
    const startAt = new Date(Date.now() + 60 * MINUTE).toISOString();
    const execution = await harness.start({ requestId, durationMinutes: 15, startAt });
    await harness.waitFor(async () => entered(execution).includes('WaitForStart'), 'the wait for the start');
    expect(await modelNow(requestId)).toBeLessThan(Date.parse(startAt));

    const outcome = await (await requestDecisions(harness.clock)).cancel(requestId, aliceActor);
    expect(outcome.kind).toBe('cancelled');
    const result = await harness.finished(execution);

    expect(result.status).toBe('SUCCEEDED');
    const states = entered(execution);
    expect(states.slice(states.indexOf('WaitForStart')).filter((x) => x !== 'WaitForGrantSlot')).toEqual([
      'WaitForStart',
      'AdmitGrant',
      'GrantSlot',
      'Grant',
      'Cancelled',
      'RequestClosed',
    ]);
    expect(harness.writes()).toEqual([]);
    const record = await requestStore(harness.clock).getRequest(requestId);
    expect(record).toMatchObject({ status: 'CANCELLED', cancellation: { by: alice.email } });
    expect(await harness.auditActions(requestId)).toEqual([
      'request.submitted',
      'approval.auto',
      'request.cancelled',
      'request.closed',
    ]);
  });
});
