import { readFileSync } from 'node:fs';
import path from 'node:path';
import { RequestDecisions } from '../../functions/core/decisions';
import type { ExecutionInput } from '../../functions/core/model';
import { keepApprovalCopy } from '../../functions/core/optimistic';
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

// The requester's "Cancel request", decided in the core like a denial (first decision wins),
// and the approval message's copies (approvers' DMs) kept on the record for every re-render.

const policy = parsePolicy(
  readFileSync(path.join(__dirname, '../fixtures/email-groups-policy.yaml'), 'utf8'),
);
const ALICE = { email: 'alice@example.com', slackUserId: 'U0ALICE' };
const CAROL = { email: 'carol@example.com', slackUserId: 'U0CAROL' };
const REQUEST_ID = 'req-cancel-0001';
const TOKEN = 'approval-token-1';

const input = (requestId = REQUEST_ID): ExecutionInput => ({
  version: 1,
  request: {
    requestId,
    requester: { email: ALICE.email, slackUserId: ALICE.slackUserId },
    accountId: '111111111111', // production: an SRE approves (carol or dave), DMs on
    permissionSetArn: 'arn:aws:sso:::permissionSet/ssoins-7223a1b2c3d4e5f6/ps-1a2b3c4d5e6f7a8b',
    durationMinutes: 60,
    reason: 'Investigating INC-42',
    requestedAt: '2026-11-25T09:00:00.000Z',
  },
});

function world() {
  const clock = new ManualClock();
  const store = new MemoryStore(clock);
  const directory = new FakeDirectory();
  const workflow = new FakeWorkflow();
  const notifier = new RecordingNotifier();
  const { log, trail } = memoryAudit(clock);
  const users = { findUserIdByEmail: async (email: string) => `user-${email.split('@')[0]}` };
  const steps = new LifecycleSteps({
    policy,
    store,
    audit: trail,
    assignments: directory,
    users,
    notifier,
    clock,
  });
  const decisions = new RequestDecisions({ policy, store, audit: trail, workflow, notifier, clock });
  const actions = () => log.events.filter((e) => e.requestId === REQUEST_ID).map((e) => e.action);
  return { clock, store, directory, workflow, notifier, log, steps, decisions, actions };
}

/** A request waiting for its approvers: validated, asked, its task token live. */
async function pending(w = world()) {
  const validation = await w.steps.validate(input());
  expect(validation).toMatchObject({ valid: true, approvalRequired: true });
  await w.steps.requestApproval({ taskToken: TOKEN, requestId: REQUEST_ID });
  w.workflow.liveTokens.add(TOKEN);
  return w;
}

describe('RequestDecisions.cancel', () => {
  it('withdraws a pending request for its requester: CANCELLED, audited, the task failed, the messages re-rendered', async () => {
    const w = await pending();

    const outcome = await w.decisions.cancel(REQUEST_ID, ALICE);

    expect(outcome.kind).toBe('cancelled');
    const record = await w.store.getRequest(REQUEST_ID);
    expect(record).toMatchObject({
      status: 'CANCELLED',
      cancellation: { by: 'alice@example.com', slackUserId: 'U0ALICE' },
    });
    const event = w.log.events.find((e) => e.action === 'request.cancelled');
    expect(event).toMatchObject({
      actor: 'alice@example.com',
      outcome: 'success',
      details: { approvals: 0, required: 1 },
    });
    expect(w.workflow.signals).toEqual([{ token: TOKEN, kind: 'failure', error: 'Cancelled' }]);
    expect(await w.store.peekTaskToken(REQUEST_ID, 'approval')).toBeUndefined();
    expect(w.notifier.rendered.at(-1)?.status).toBe('CANCELLED');
    expect(w.directory.calls).toEqual([]);
  });

  it('lets only the requester cancel: an approver is refused and nothing changes', async () => {
    const w = await pending();

    const outcome = await w.decisions.cancel(REQUEST_ID, CAROL);

    expect(outcome).toEqual({ kind: 'not-authorized', reason: 'not-requester' });
    expect((await w.store.getRequest(REQUEST_ID))?.status).toBe('PENDING_APPROVAL');
    expect(w.actions()).not.toContain('request.cancelled');
    expect(w.workflow.signals).toEqual([]);
    expect(await w.store.peekTaskToken(REQUEST_ID, 'approval')).toBe(TOKEN);
  });

  it('answers "already approved" after an approval, and an approval after it "already cancelled"', async () => {
    const approvedFirst = await pending();
    expect((await approvedFirst.decisions.decide(REQUEST_ID, CAROL, 'approve')).kind).toBe('approved');
    expect(await approvedFirst.decisions.cancel(REQUEST_ID, ALICE)).toMatchObject({
      kind: 'already-decided',
      by: 'carol@example.com',
    });
    expect((await approvedFirst.store.getRequest(REQUEST_ID))?.status).toBe('APPROVED');
    expect(approvedFirst.actions()).not.toContain('request.cancelled');

    const cancelledFirst = await pending();
    expect((await cancelledFirst.decisions.cancel(REQUEST_ID, ALICE)).kind).toBe('cancelled');
    expect(await cancelledFirst.decisions.decide(REQUEST_ID, CAROL, 'approve')).toMatchObject({
      kind: 'already-decided',
      by: 'alice@example.com',
    });
    expect(await cancelledFirst.decisions.decide(REQUEST_ID, CAROL, 'deny', 'no')).toMatchObject({
      kind: 'already-decided',
      by: 'alice@example.com',
    });
    expect((await cancelledFirst.store.getRequest(REQUEST_ID))?.status).toBe('CANCELLED');
    expect(cancelledFirst.actions()).not.toContain('approval.approved');
    expect(cancelledFirst.workflow.signals.map((s) => s.kind)).toEqual(['failure']);
  });

  it.each([
    ['approval clicked first', 'approve-first'],
    ['cancel clicked first', 'cancel-first'],
  ] as const)('lets exactly one of a concurrent approval and cancellation win (%s)', async (_, order) => {
    const w = await pending();
    const approve = () => w.decisions.decide(REQUEST_ID, CAROL, 'approve');
    const cancel = () => w.decisions.cancel(REQUEST_ID, ALICE);

    const [first, second] = await Promise.all(
      order === 'approve-first' ? [approve(), cancel()] : [cancel(), approve()],
    );

    const kinds = [first.kind, second.kind].sort();
    const record = await w.store.getRequest(REQUEST_ID);
    // The task is completed once, as the winner says; the loser is told it was decided.
    const signals = w.workflow.signals.filter((s) => s.token === TOKEN);
    expect(signals).toHaveLength(1);
    if (record?.status === 'APPROVED') {
      expect(kinds).toEqual(['already-decided', 'approved']);
      expect(signals[0]?.kind).toBe('success');
      expect(w.actions()).not.toContain('request.cancelled');
    } else {
      expect(record?.status).toBe('CANCELLED');
      expect(kinds).toEqual(['already-decided', 'cancelled']);
      expect(signals[0]).toMatchObject({ kind: 'failure', error: 'Cancelled' });
      expect(w.actions().filter((a) => a === 'request.cancelled')).toHaveLength(1);
    }
  });

  it('completes a redelivered cancellation once: one event, one failure of the task', async () => {
    const w = await pending();
    expect((await w.decisions.cancel(REQUEST_ID, ALICE)).kind).toBe('cancelled');
    const stored = await w.store.getRequest(REQUEST_ID);
    w.clock.advanceMinutes(3); // Lambda redelivers minutes later

    const again = await w.decisions.cancel(REQUEST_ID, ALICE);

    expect(again.kind).toBe('cancelled');
    expect(await w.store.getRequest(REQUEST_ID)).toEqual(stored);
    expect(w.actions().filter((a) => a === 'request.cancelled')).toHaveLength(1);
    expect(w.workflow.signals).toHaveLength(1);
  });
});

describe('a request cancelled before its approvers were asked', () => {
  it('fails its approval task with Cancelled and asks nobody; Finish closes it as cancelled and tells the requester', async () => {
    const w = world();
    await w.steps.validate(input());
    // From the Home tab while the approval post waits for its channel slot: no token yet.
    expect((await w.decisions.cancel(REQUEST_ID, ALICE)).kind).toBe('cancelled');
    expect(w.workflow.signals).toEqual([]);

    const asked = await w.steps
      .requestApproval({ taskToken: TOKEN, requestId: REQUEST_ID })
      .catch((error: unknown) => error);

    expect(asked).toMatchObject({ name: 'Cancelled' });
    expect(w.notifier.approvalRequests).toEqual([]);
    expect(w.actions()).not.toContain('approval.requested');

    expect(await w.steps.finish({ requestId: REQUEST_ID, outcome: 'cancelled' })).toEqual({
      status: 'CANCELLED',
    });
    const record = await w.store.getRequest(REQUEST_ID);
    expect(record?.closedAt).toBeDefined();
    expect(record?.failureReason).toBeUndefined();
    expect(w.notifier.noticesFor(REQUEST_ID)).toEqual(['cancelled']);
    expect(w.actions()).toEqual(['request.submitted', 'request.cancelled', 'request.closed']);
    expect(w.log.events.at(-1)).toMatchObject({ details: { outcome: 'cancelled' }, outcome: 'success' });
  });
});

describe('a request cancelled while its approvers are being asked', () => {
  it('answers the channel message’s keep with the cancelled record, and the click failed the task', async () => {
    const w = world();
    await w.steps.validate(input());
    w.workflow.liveTokens.add(TOKEN);
    const answers: unknown[] = [];
    const post = w.notifier.requestApproval.bind(w.notifier);
    // The click lands after RequestApproval read the record, before the message is kept.
    w.notifier.requestApproval = async (record, approvers, keep, keepCopy) => {
      expect((await w.decisions.cancel(REQUEST_ID, ALICE)).kind).toBe('cancelled');
      return post(
        record,
        approvers,
        async (message) => {
          const stored = await keep(message);
          answers.push(stored?.status);
          return stored;
        },
        keepCopy,
      );
    };

    await w.steps.requestApproval({ taskToken: TOKEN, requestId: REQUEST_ID });

    // The notifier is told it is cancelled (it shows the message so and DMs nobody).
    expect(answers).toEqual(['CANCELLED']);
    const record = await w.store.getRequest(REQUEST_ID);
    expect(record?.status).toBe('CANCELLED');
    expect(record?.approvalMessage).toBeUndefined();
    // The token was stored before the post: the cancellation found it and failed the task.
    expect(w.workflow.signals).toEqual([{ token: TOKEN, kind: 'failure', error: 'Cancelled' }]);
  });
});

describe('copies of the approval message', () => {
  it('keeps each approver DM on the record, so the re-render after a decision reaches every copy', async () => {
    const w = world();
    w.notifier.dmCopies = true;
    await pending(w);
    const asked = w.notifier.approvalRequests[0];
    expect(asked?.approvers.sort()).toEqual(['carol@example.com', 'dave@example.com']);
    expect((await w.store.getRequest(REQUEST_ID))?.approvalCopies).toEqual([
      { channel: 'D-carol@example.com', ts: '1.001' },
      { channel: 'D-dave@example.com', ts: '1.002' },
    ]);

    await w.decisions.decide(REQUEST_ID, CAROL, 'deny', 'Use staging');

    const rendered = w.notifier.rendered.at(-1);
    expect(rendered?.status).toBe('DENIED');
    expect(rendered?.approvalCopies).toHaveLength(2);
  });

  it('never drops a copy kept at the same time as another, and keeps one posted after the decision', async () => {
    const w = await pending();
    // Two runs of RequestApproval at once (a retry beside the first) each post their DMs: four
    // copies kept at the same moment, within the helper's five attempts.
    const copies = Array.from({ length: 4 }, (_, i) => ({ channel: `D${i}`, ts: `9.00${i}` }));

    await Promise.all(copies.map((copy) => keepApprovalCopy(w.store, REQUEST_ID, copy)));
    expect((await w.store.getRequest(REQUEST_ID))?.approvalCopies).toHaveLength(copies.length);
    expect((await w.store.getRequest(REQUEST_ID))?.approvalCopies).toEqual(expect.arrayContaining(copies));

    await w.decisions.cancel(REQUEST_ID, ALICE);
    const late = await keepApprovalCopy(w.store, REQUEST_ID, { channel: 'DLATE', ts: '9.100' });
    // The record as stored answers: the notifier re-renders the late copy from it at once.
    expect(late?.status).toBe('CANCELLED');
    expect(late?.approvalCopies).toContainEqual({ channel: 'DLATE', ts: '9.100' });
    // The same copy again changes nothing.
    const again = await keepApprovalCopy(w.store, REQUEST_ID, { channel: 'DLATE', ts: '9.100' });
    expect(again).toEqual(late);
  });
});

describe('a request approved or denied (from the Home tab) before its approvers were asked', () => {
  it('approved: the click is told approved, and RequestApproval fails its task with ApprovedBeforeAsked and asks nobody', async () => {
    const w = world();
    await w.steps.validate(input());
    // No token yet: the approval post waits for its channel slot.
    const outcome = await w.decisions.decide(REQUEST_ID, CAROL, 'approve');
    expect(outcome.kind).toBe('approved');
    expect(w.workflow.signals).toEqual([]);
    expect(w.notifier.noticesFor(REQUEST_ID)).toEqual(['approved']);

    const asked = await w.steps
      .requestApproval({ taskToken: TOKEN, requestId: REQUEST_ID })
      .catch((error: unknown) => error);

    expect(asked).toMatchObject({ name: 'ApprovedBeforeAsked' });
    expect(w.notifier.approvalRequests).toEqual([]);
    expect(await w.store.takeTaskToken(REQUEST_ID, 'approval')).toBeUndefined();
    expect((await w.store.getRequest(REQUEST_ID))?.status).toBe('APPROVED');
    expect(w.actions()).toEqual(['request.submitted', 'approval.approved']);
  });

  it('denied: RequestApproval fails its task with Denied, and Finish closes it as DENIED with no failure reason', async () => {
    const w = world();
    await w.steps.validate(input());
    expect((await w.decisions.decide(REQUEST_ID, CAROL, 'deny', 'not now')).kind).toBe('denied');
    expect(w.workflow.signals).toEqual([]);

    const asked = await w.steps
      .requestApproval({ taskToken: TOKEN, requestId: REQUEST_ID })
      .catch((error: unknown) => error);
    expect(asked).toMatchObject({ name: 'Denied' });
    expect(w.notifier.approvalRequests).toEqual([]);

    const error = {
      Error: 'Denied',
      Cause: JSON.stringify({ errorMessage: String((asked as Error).message) }),
    };
    expect(await w.steps.finish({ requestId: REQUEST_ID, outcome: 'denied', error })).toEqual({
      status: 'DENIED',
    });
    const record = await w.store.getRequest(REQUEST_ID);
    expect(record?.failureReason).toBeUndefined();
    expect(record?.denial).toMatchObject({ by: CAROL.email, reason: 'not now' });
    expect(w.actions()).toEqual(['request.submitted', 'approval.denied', 'request.closed']);
  });

  it('decided between RequestApproval storing its token and reading the request: the decision signals, RequestApproval asks nobody and ends', async () => {
    const w = world();
    await w.steps.validate(input());
    // The click lands right after RequestApproval's first write (its token), before its read.
    const put = w.store.putTaskToken.bind(w.store);
    let decided: string | undefined;
    w.store.putTaskToken = async (...args: Parameters<typeof put>) => {
      await put(...args);
      w.workflow.liveTokens.add(TOKEN);
      decided = (await w.decisions.decide(REQUEST_ID, CAROL, 'approve')).kind;
    };

    await expect(
      w.steps.requestApproval({ taskToken: TOKEN, requestId: REQUEST_ID }),
    ).resolves.toBeUndefined();

    expect(decided).toBe('approved');
    expect(w.workflow.signals).toEqual([expect.objectContaining({ token: TOKEN, kind: 'success' })]);
    expect(w.notifier.approvalRequests).toEqual([]);
  });
});
