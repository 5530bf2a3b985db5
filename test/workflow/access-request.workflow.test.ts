import { auditTrail } from '../../local/product-wiring';
import {
  ACCOUNTS,
  audited,
  type Harness,
  PEOPLE,
  PERMISSION_SETS,
  requestDecisions,
  requestStore,
  startHarness,
  tokenStored,
} from './harness';

// Each lifecycle path through statemachines/access-request.asl.json with the real handlers.

const alice = PEOPLE.alice;
const carol = { email: PEOPLE.carol.email, slackUserId: PEOPLE.carol.slackUserId };
const aliceActor = { email: alice.email, slackUserId: alice.slackUserId };
const stagingReadOnly = ['222222222222', PERMISSION_SETS.readOnly, alice.principalId];
const productionReadOnly = ['111111111111', PERMISSION_SETS.readOnly, alice.principalId];

let harness: Harness;
const enteredStates = (execution: string) =>
  harness.host
    .history(execution)
    .filter((e) => e.type === 'StateEntered')
    .map((e) => e.stateName);
let counter = 0;
const newId = () => `req-test-${++counter}-${Date.now().toString(36)}`;

afterEach(async () => {
  await harness?.close();
});

describe('auto-approved request', () => {
  it('grants, holds the window and revokes when it expires', async () => {
    harness = await startHarness();
    const requestId = newId();
    const execution = await harness.start({ requestId, durationMinutes: 1 });
    const result = await harness.finished(execution);

    expect(result.status).toBe('SUCCEEDED');
    expect(harness.writes()).toEqual([
      ['Create', ...stagingReadOnly],
      ['Delete', ...stagingReadOnly],
    ]);
    expect(harness.identityCenter.listAssignments()).toEqual([]);
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
    expect((await requestStore().getRequest(requestId))?.status).toBe('REVOKED');
    const dms = harness.slackCalls('chat.postMessage').filter((c) => c.args.channel === alice.slackUserId);
    expect(dms.map((c) => String(c.args.text))).toEqual([
      expect.stringContaining('Access ready'),
      expect.stringContaining('has been revoked'),
    ]);
  });
});

describe('request that needs approval', () => {
  it('waits for an approver, then grants and revokes', async () => {
    harness = await startHarness();
    const requestId = newId();
    const execution = await harness.start({ requestId, accountId: ACCOUNTS.production, durationMinutes: 1 });
    await tokenStored(harness, requestId, 'approval');
    await audited(harness, requestId, 'approval.requested');
    expect(harness.writes()).toEqual([]);

    const outcome = await (await requestDecisions()).decide(requestId, carol, 'approve');
    expect(outcome.kind).toBe('approved');
    const result = await harness.finished(execution);

    expect(result.status).toBe('SUCCEEDED');
    expect(harness.writes()).toEqual([
      ['Create', ...productionReadOnly],
      ['Delete', ...productionReadOnly],
    ]);
    expect(await harness.auditActions(requestId)).toEqual([
      'request.submitted',
      'approval.requested',
      'approval.approved',
      'grant.requested',
      'grant.succeeded',
      'window.opened',
      'window.expired',
      'revoke.requested',
      'revoke.succeeded',
      'request.closed',
    ]);
    const approvalPost = harness.slackCalls('chat.postMessage').find((c) => c.args.channel === 'C0APPROVALS');
    expect(JSON.stringify(approvalPost?.args.blocks)).toContain('approve_request');
    expect(JSON.stringify(approvalPost?.args.blocks)).not.toMatch(/taskToken|token/i);
  });

  it('ends without any assignment when denied', async () => {
    harness = await startHarness();
    const requestId = newId();
    const execution = await harness.start({ requestId, accountId: ACCOUNTS.production });
    await tokenStored(harness, requestId, 'approval');
    await audited(harness, requestId, 'approval.requested');

    const outcome = await (await requestDecisions()).decide(requestId, carol, 'deny', 'Use staging');
    expect(outcome.kind).toBe('denied');
    const result = await harness.finished(execution);

    expect(result.status).toBe('SUCCEEDED');
    expect(harness.writes()).toEqual([]);
    expect(await harness.auditActions(requestId)).toEqual([
      'request.submitted',
      'approval.requested',
      'approval.denied',
      'request.closed',
    ]);
    const record = await requestStore().getRequest(requestId);
    expect(record).toMatchObject({
      status: 'DENIED',
      denial: { by: 'carol@example.com', reason: 'Use staging' },
    });
  });

  it('ends without any assignment when its requester cancels, through Cancelled to a CANCELLED close', async () => {
    harness = await startHarness();
    const requestId = newId();
    const execution = await harness.start({ requestId, accountId: ACCOUNTS.production });
    await tokenStored(harness, requestId, 'approval');
    await audited(harness, requestId, 'approval.requested');
    const decisions = await requestDecisions();
    const dms = () =>
      harness
        .slackCalls('chat.postMessage')
        .filter((c) => String(c.args.channel) === PEOPLE.carol.slackUserId);
    await harness.waitFor(async () => dms().length > 0, "carol's DM");

    expect(await decisions.cancel(requestId, carol)).toEqual({
      kind: 'not-authorized',
      reason: 'not-requester',
    });
    const outcome = await decisions.cancel(requestId, aliceActor);
    expect(outcome.kind).toBe('cancelled');
    const result = await harness.finished(execution);

    expect(result.status).toBe('SUCCEEDED');
    expect(enteredStates(execution)).toEqual(
      expect.arrayContaining(['AwaitApproval', 'Cancelled', 'RequestClosed']),
    );
    expect(enteredStates(execution)).not.toContain('Denied');
    expect(enteredStates(execution)).not.toContain('AdmitGrant');
    expect(harness.writes()).toEqual([]);
    expect(await harness.auditActions(requestId)).toEqual([
      'request.submitted',
      'approval.requested',
      'request.cancelled',
      'request.closed',
    ]);
    const closed = (await auditTrail().list(requestId)).at(-1);
    expect(closed).toMatchObject({
      action: 'request.closed',
      outcome: 'success',
      details: { outcome: 'cancelled' },
    });
    const record = await requestStore().getRequest(requestId);
    expect(record).toMatchObject({ status: 'CANCELLED', cancellation: { by: alice.email } });
    expect(record?.closedAt).toBeDefined();
    // Every copy of the approval message lost its buttons: the channel's and each approver's DM.
    const copies = [record?.approvalMessage, ...(record?.approvalCopies ?? [])];
    expect(copies).toHaveLength(3);
    for (const copy of copies) {
      const last = harness
        .slackCalls('chat.update')
        .filter((c) => c.args.channel === copy?.channel && c.args.ts === copy?.ts)
        .at(-1);
      expect(String(last?.args.text)).toContain(`Cancelled by ${alice.email}`);
      expect(JSON.stringify(last?.args.blocks)).not.toContain('approve_request');
    }
    const told = harness.slackCalls('chat.postMessage').filter((c) => c.args.channel === alice.slackUserId);
    expect(told.map((c) => String(c.args.text))).toEqual([expect.stringContaining('was cancelled')]);
  });

  it('asks nobody when cancelled while its approval post waits for the channel slot', async () => {
    // Real time: of three requests for one channel at once, at least one waits a second or more
    // in WaitForApprovalSlot (one post a second per channel).
    harness = await startHarness({ msPerSecond: 1000 });
    const ids = [newId(), newId(), newId()];
    const executions = await Promise.all(
      ids.map((requestId) => harness.start({ requestId, accountId: ACCOUNTS.production })),
    );
    const slotOf = (arn: string) =>
      harness.host
        .history(arn)
        .filter((e) => e.type === 'StateEntered' && e.stateName === 'WaitForApprovalSlot')
        .map((e) => (e.input as { validation: { approvalPostAt: string } }).validation.approvalPostAt)[0];
    await harness.waitFor(
      async () => executions.some((arn) => slotOf(arn)),
      'a request waiting for its slot',
    );
    // The one whose slot is furthest: still waiting while it is cancelled.
    const waiting = executions
      .map((arn, index) => ({ index, at: slotOf(arn) ?? '' }))
      .sort((a, b) => b.at.localeCompare(a.at))[0]?.index as number;
    const execution = executions[waiting] as string;
    const requestId = ids[waiting] as string;
    expect((await requestStore().getRequest(requestId))?.status).toBe('PENDING_APPROVAL');

    expect((await (await requestDecisions()).cancel(requestId, aliceActor)).kind).toBe('cancelled');
    const result = await harness.finished(execution);

    expect(result.status).toBe('SUCCEEDED');
    // RequestApproval found it cancelled: the task failed with Cancelled, before any post.
    const failed = harness.host
      .history(execution)
      .find((e) => e.stateName === 'AwaitApproval' && e.error !== undefined);
    expect(failed?.error).toBe('Cancelled');
    expect(enteredStates(execution)).toEqual(expect.arrayContaining(['Cancelled', 'RequestClosed']));
    expect(await harness.auditActions(requestId)).toEqual([
      'request.submitted',
      'request.cancelled',
      'request.closed',
    ]);
    const posts = harness
      .slackCalls('chat.postMessage')
      .filter((c) => JSON.stringify(c.args.blocks ?? []).includes(requestId));
    expect(posts).toEqual([]);
    expect((await requestStore().getRequest(requestId))?.status).toBe('CANCELLED');
    // The others still went to their approvers.
    for (const [index, other] of ids.entries()) {
      if (index === waiting) continue;
      await tokenStored(harness, other, 'approval');
      await (await requestDecisions()).decide(other, carol, 'deny', 'not now');
      expect((await harness.finished(executions[index] as string)).status).toBe('SUCCEEDED');
    }
  });

  it('grants a request approved from the Home tab while its approval post waits for the channel slot, asking nobody', async () => {
    harness = await startHarness({ msPerSecond: 1000 });
    const ids = [newId(), newId(), newId()];
    const executions = await Promise.all(
      ids.map((requestId) =>
        harness.start({ requestId, accountId: ACCOUNTS.production, durationMinutes: 240 }),
      ),
    );
    const slotOf = (arn: string) =>
      harness.host
        .history(arn)
        .filter((e) => e.type === 'StateEntered' && e.stateName === 'WaitForApprovalSlot')
        .map((e) => (e.input as { validation: { approvalPostAt: string } }).validation.approvalPostAt)[0];
    await harness.waitFor(
      async () => executions.some((arn) => slotOf(arn)),
      'a request waiting for its slot',
    );
    const waiting = executions
      .map((arn, index) => ({ index, at: slotOf(arn) ?? '' }))
      .sort((a, b) => b.at.localeCompare(a.at))[0]?.index as number;
    const execution = executions[waiting] as string;
    const requestId = ids[waiting] as string;
    expect((await requestStore().getRequest(requestId))?.status).toBe('PENDING_APPROVAL');

    expect((await (await requestDecisions()).decide(requestId, carol, 'approve')).kind).toBe('approved');
    await tokenStored(harness, requestId, 'window');
    // AccessWindow stores its token before it marks the request ACTIVE: End waits for both.
    await harness.waitFor(
      async () => (await requestStore().getRequest(requestId))?.status === 'ACTIVE',
      'the window to open',
    );
    expect((await (await requestDecisions()).endAccess(requestId, aliceActor)).kind).toBe('ended');
    expect((await harness.finished(execution)).status).toBe('SUCCEEDED');

    const failed = harness.host
      .history(execution)
      .find((e) => e.stateName === 'AwaitApproval' && e.error !== undefined);
    expect(failed?.error).toBe('ApprovedBeforeAsked');
    expect(enteredStates(execution)).toEqual(expect.arrayContaining(['AdmitGrant', 'Grant', 'Revoke']));
    expect(enteredStates(execution)).not.toContain('ApprovalExpired');
    expect(await harness.auditActions(requestId)).toEqual([
      'request.submitted',
      'approval.approved',
      'grant.requested',
      'grant.succeeded',
      'window.opened',
      'window.ended-early',
      'revoke.requested',
      'revoke.succeeded',
      'request.closed',
    ]);
    const posts = harness
      .slackCalls('chat.postMessage')
      .filter(
        (c) =>
          String(c.args.channel).startsWith('C') && JSON.stringify(c.args.blocks ?? []).includes(requestId),
      );
    expect(posts).toEqual([]);
    for (const [index, other] of ids.entries()) {
      if (index === waiting) continue;
      await tokenStored(harness, other, 'approval');
      await (await requestDecisions()).decide(other, carol, 'deny', 'not now');
      expect((await harness.finished(executions[index] as string)).status).toBe('SUCCEEDED');
    }
  });

  it('expires when nobody decides in time, and a late click changes nothing', async () => {
    harness = await startHarness({ msPerSecond: 0.01 }); // the 1 h approval timeout passes in 36 ms
    const requestId = newId();
    const execution = await harness.start({ requestId, accountId: ACCOUNTS.production });
    const result = await harness.finished(execution);

    expect(result.status).toBe('SUCCEEDED');
    expect(harness.writes()).toEqual([]);
    expect(await harness.auditActions(requestId)).toEqual([
      'request.submitted',
      'approval.requested',
      'approval.expired',
      'request.closed',
    ]);
    const late = await (await requestDecisions()).decide(requestId, carol, 'approve');
    expect(late.kind).toBe('expired');
    expect(harness.writes()).toEqual([]);
  });

  it('refuses the requester approving their own request and anyone who is not an approver', async () => {
    harness = await startHarness();
    const requestId = newId();
    const execution = await harness.start({
      requestId,
      accountId: ACCOUNTS.production,
      requester: { email: PEOPLE.carol.email, slackUserId: PEOPLE.carol.slackUserId },
    });
    await tokenStored(harness, requestId, 'approval');
    const decisions = await requestDecisions();

    expect(await decisions.decide(requestId, carol, 'approve')).toEqual({
      kind: 'not-authorized',
      reason: 'self-approval',
    });
    expect(await decisions.decide(requestId, aliceActor, 'approve')).toEqual({
      kind: 'not-authorized',
      reason: 'not-approver',
    });
    expect((await requestStore().getRequest(requestId))?.status).toBe('PENDING_APPROVAL');

    const dave = { email: PEOPLE.dave.email, slackUserId: PEOPLE.dave.slackUserId };
    expect((await decisions.decide(requestId, dave, 'deny', 'no')).kind).toBe('denied');
    const second = await decisions.decide(requestId, dave, 'approve');
    expect(second).toMatchObject({ kind: 'already-decided', by: 'dave@example.com' });
    expect((await harness.finished(execution)).status).toBe('SUCCEEDED');
    expect(harness.writes()).toEqual([]);
  });
});

describe('a burst of requests for one approval channel', () => {
  it('posts the approval messages one a second: all but the first wait for their slot (WaitForApprovalSlot)', async () => {
    harness = await startHarness();
    const ids = Array.from({ length: 4 }, () => newId());
    const executions = await Promise.all(
      ids.map((requestId) => harness.start({ requestId, accountId: ACCOUNTS.production })),
    );
    for (const requestId of ids) await tokenStored(harness, requestId, 'approval');
    const slots = executions.map((arn) =>
      harness.host
        .history(arn)
        .find((e) => e.type === 'StateEntered' && e.stateName === 'WaitForApprovalSlot'),
    );
    // One request posts at once; the other three each wait for a distinct later second.
    expect(slots.filter((s) => s === undefined)).toHaveLength(1);
    const at = slots.flatMap((s) =>
      s ? [(s.input as { validation: { approvalPostAt: string } }).validation.approvalPostAt] : [],
    );
    expect(new Set(at).size).toBe(3);
    const seconds = at.map((t) => Date.parse(t)).sort((a, b) => a - b);
    expect(seconds.slice(1).map((t, i) => t - (seconds[i] ?? 0))).toEqual([1000, 1000]);
    // Every approver was asked, in the channel (the token is stored before the post goes out).
    const posts = () =>
      harness.slackCalls('chat.postMessage').filter((c) => c.args.channel === 'C0APPROVALS');
    await harness.waitFor(async () => posts().length >= 4, 'four approval posts');
    expect(posts()).toHaveLength(4);
    for (const requestId of ids) await (await requestDecisions()).decide(requestId, carol, 'deny', 'Not now');
    for (const arn of executions) expect((await harness.finished(arn)).status).toBe('SUCCEEDED');
  });
});

describe('grant failures', () => {
  it('reports a FAILED creation with AWS\u2019s reason and grants nothing', async () => {
    harness = await startHarness();
    harness.identityCenter.setFaults({
      failNext: [
        {
          operation: 'CreateAccountAssignment',
          error: 'FAILED',
          message: 'Received a 404 status error: Not supported role',
        },
      ],
    });
    const requestId = newId();
    const result = await harness.finished(await harness.start({ requestId }));

    expect(result).toMatchObject({ status: 'FAILED', error: 'GrantFailed' });
    expect(harness.writes()).toEqual([['Create', ...stagingReadOnly]]);
    expect(await harness.auditActions(requestId)).toEqual([
      'request.submitted',
      'approval.auto',
      'grant.requested',
      'grant.failed',
      'request.closed',
    ]);
    const record = await requestStore().getRequest(requestId);
    expect(record).toMatchObject({
      status: 'GRANT_FAILED',
      failureReason: expect.stringContaining('Not supported role'),
    });
    const dm = harness.slackCalls('chat.postMessage').find((c) => c.args.channel === alice.slackUserId);
    expect(String(dm?.args.text)).toContain('Not supported role');
  });

  it('retries throttling and conflicts with backoff (a throttled Grant takes a new number), then succeeds', async () => {
    harness = await startHarness();
    harness.identityCenter.setFaults({
      failNext: [
        { operation: 'ListAccountAssignments', error: 'ThrottlingException' },
        { operation: 'CreateAccountAssignment', error: 'ThrottlingException' },
        { operation: 'CreateAccountAssignment', error: 'ConflictException' },
        { operation: 'DescribeAccountAssignmentCreationStatus', error: 'ThrottlingException' },
        { operation: 'DeleteAccountAssignment', error: 'ThrottlingException' },
      ],
    });
    const requestId = newId();
    const execution = await harness.start({ requestId, durationMinutes: 1 });
    const result = await harness.finished(execution);

    expect(result.status).toBe('SUCCEEDED');
    // Three Create attempts (two refused), one Delete that counted after one refusal (asked again
    // after a pause inside Revoke, not by a Step Functions retry).
    expect(harness.writes()).toEqual([
      ['Create', ...stagingReadOnly],
      ['Create', ...stagingReadOnly],
      ['Create', ...stagingReadOnly],
      ['Delete', ...stagingReadOnly],
      ['Delete', ...stagingReadOnly],
    ]);
    expect(harness.identityCenter.listAssignments()).toEqual([]);
    const retries = harness.host
      .history(execution)
      .filter((e) => e.retryAttempt !== undefined && e.retryAttempt > 0);
    expect(retries.length).toBeGreaterThanOrEqual(2);
    expect(retries.filter((e) => e.stateName === 'Revoke')).toEqual([]);
    const admissions = harness.host
      .history(execution)
      .filter((e) => e.type === 'StateEntered' && e.stateName === 'AdmitGrant');
    expect(admissions).toHaveLength(3);
    expect((await requestStore().getRequest(requestId))?.status).toBe('REVOKED');
  });

  const entered = (execution: string) =>
    harness.host
      .history(execution)
      .filter((e) => e.type === 'StateEntered')
      .map((e) => e.stateName);

  it('sends a throttled Grant back through admission for a new number instead of retrying it blind', async () => {
    harness = await startHarness();
    harness.identityCenter.setFaults({
      failNext: [
        { operation: 'ListAccountAssignments', error: 'ThrottlingException' },
        { operation: 'CreateAccountAssignment', error: 'ThrottlingException' },
      ],
    });
    const requestId = newId();
    const execution = await harness.start({ requestId, durationMinutes: 1 });
    const result = await harness.finished(execution);

    expect(result.status).toBe('SUCCEEDED');
    const states = entered(execution);
    expect(states.filter((s) => s === 'AdmitGrant')).toHaveLength(3);
    expect(states.filter((s) => s === 'NextGrantRound')).toHaveLength(2);
    // Grant itself never retried: each throttled attempt took a new number.
    const grantRetries = harness.host
      .history(execution)
      .filter((e) => e.type === 'StateRetried' && e.stateName === 'Grant');
    expect(grantRetries).toEqual([]);
    expect(harness.writes()).toEqual([
      ['Create', ...stagingReadOnly],
      ['Create', ...stagingReadOnly],
      ['Delete', ...stagingReadOnly],
    ]);
    expect((await requestStore().getRequest(requestId))?.status).toBe('REVOKED');
  });

  it('tells the requester when Identity Center throttles the grant at every round, and leaves nothing', async () => {
    harness = await startHarness();
    harness.identityCenter.setFaults({
      failNext: Array.from({ length: 4 }, () => ({
        operation: 'ListAccountAssignments',
        error: 'ThrottlingException' as const,
      })),
    });
    const requestId = newId();
    const execution = await harness.start({ requestId, durationMinutes: 1 });
    const result = await harness.finished(execution);

    // The revoke path (nothing to delete) closes it, as for any failure once a grant was tried.
    expect(result).toMatchObject({ status: 'FAILED', error: 'FailedAfterGrant' });
    expect(entered(execution).filter((s) => s === 'AdmitGrant')).toHaveLength(4);
    expect(harness.writes()).toEqual([]);
    expect(await requestStore().getRequest(requestId)).toMatchObject({
      status: 'GRANT_FAILED',
      failureReason: expect.stringContaining('too busy'),
    });
    const dm = harness.slackCalls('chat.postMessage').find((c) => c.args.channel === alice.slackUserId);
    expect(String(dm?.args.text)).toContain('too busy');
  });

  it('tells the requester when Validate keeps failing, and grants nothing', async () => {
    harness = await startHarness({
      wrapHandler: (name, handler) =>
        name === 'validate'
          ? async () => {
              throw new Error('policy store unreachable');
            }
          : handler,
    });
    const requestId = newId();
    const result = await harness.finished(await harness.start({ requestId }));

    expect(result).toMatchObject({ status: 'FAILED', error: 'ValidationFailed' });
    expect(harness.writes()).toEqual([]);
    expect(await requestStore().getRequest(requestId)).toMatchObject({
      status: 'REJECTED',
      failureReason: expect.stringContaining('policy store unreachable'),
    });
    expect(await harness.auditActions(requestId)).toEqual([
      'request.submitted',
      'request.rejected',
      'request.closed',
    ]);
    const dm = harness.slackCalls('chat.postMessage').find((c) => c.args.channel === alice.slackUserId);
    expect(String(dm?.args.text)).toContain('was rejected');
  });

  it('revokes when a step after the grant crashes', async () => {
    harness = await startHarness({
      wrapHandler: (name, handler) =>
        name === 'access-window'
          ? async () => {
              throw new Error('crashed after the grant');
            }
          : handler,
    });
    const requestId = newId();
    const result = await harness.finished(await harness.start({ requestId }));

    expect(result).toMatchObject({ status: 'FAILED', error: 'FailedAfterGrant' });
    expect(harness.writes()).toEqual([
      ['Create', ...stagingReadOnly],
      ['Delete', ...stagingReadOnly],
    ]);
    expect(harness.identityCenter.listAssignments()).toEqual([]);
    expect(await harness.auditActions(requestId)).toEqual([
      'request.submitted',
      'approval.auto',
      'grant.requested',
      'grant.succeeded',
      'revoke.requested',
      'revoke.succeeded',
      'request.closed',
    ]);
    expect((await requestStore().getRequest(requestId))?.failureReason).toContain('crashed after the grant');
  });
});

describe('the access window', () => {
  it('ends early when the requester clicks End access now', async () => {
    harness = await startHarness();
    const requestId = newId();
    const execution = await harness.start({ requestId, durationMinutes: 240 });
    await tokenStored(harness, requestId, 'window');
    await audited(harness, requestId, 'window.opened');

    const outcome = await (await requestDecisions()).endAccess(requestId, aliceActor);
    expect(outcome.kind).toBe('ended');
    const result = await harness.finished(execution);

    expect(result.status).toBe('SUCCEEDED');
    expect(harness.writes()).toEqual([
      ['Create', ...stagingReadOnly],
      ['Delete', ...stagingReadOnly],
    ]);
    expect(await harness.auditActions(requestId)).toEqual([
      'request.submitted',
      'approval.auto',
      'grant.requested',
      'grant.succeeded',
      'window.opened',
      'window.ended-early',
      'revoke.requested',
      'revoke.succeeded',
      'request.closed',
    ]);
    expect(await requestStore().getRequest(requestId)).toMatchObject({
      status: 'REVOKED',
      endedBy: alice.email,
    });
  });

  it('extends the window through the token and keeps one assignment', async () => {
    harness = await startHarness();
    const requestId = newId();
    const execution = await harness.start({ requestId, durationMinutes: 120 });
    await tokenStored(harness, requestId, 'window');
    await audited(harness, requestId, 'window.opened');
    const before = await requestStore().getRequest(requestId);

    const extended = await (await requestDecisions()).extend(requestId, aliceActor, 60);
    expect(extended.kind).toBe('extended');
    await audited(harness, requestId, 'window.extended');
    const after = await requestStore().getRequest(requestId);
    expect(new Date(after?.expiresAt ?? 0).getTime() - new Date(before?.expiresAt ?? 0).getTime()).toBe(
      60 * 60_000,
    );
    expect(after?.extendedMinutes).toBe(60);

    // Over the rule's 8 h maximum in total: refused, nothing changes.
    const tooLong = await (await requestDecisions()).extend(requestId, aliceActor, 400);
    expect(tooLong).toEqual({
      kind: 'not-allowed',
      reason: 'No rule allows 9h 40m in total for ReadOnly on staging; the longest allowed is 8h.',
    });

    await tokenStored(harness, requestId, 'window');
    expect((await (await requestDecisions()).endAccess(requestId, aliceActor)).kind).toBe('ended');
    expect((await harness.finished(execution)).status).toBe('SUCCEEDED');
    expect(harness.writes()).toEqual([
      ['Create', ...stagingReadOnly],
      ['Delete', ...stagingReadOnly],
    ]);
    expect(await harness.auditActions(requestId)).toEqual([
      'request.submitted',
      'approval.auto',
      'grant.requested',
      'grant.succeeded',
      'window.opened',
      'window.extend-requested',
      'approval.auto',
      'window.extended',
      'window.extend-refused',
      'window.ended-early',
      'revoke.requested',
      'revoke.succeeded',
      'request.closed',
    ]);
  });
});

describe('assignments this product did not create, or still needs', () => {
  it('keeps a pre-existing assignment after the window ends', async () => {
    harness = await startHarness({
      assignments: [
        {
          accountId: ACCOUNTS.staging,
          permissionSetArn: PERMISSION_SETS.readOnly,
          principalId: alice.principalId,
        },
      ],
    });
    const requestId = newId();
    const result = await harness.finished(await harness.start({ requestId, durationMinutes: 1 }));

    expect(result.status).toBe('SUCCEEDED');
    expect(harness.writes()).toEqual([]);
    expect(
      harness.hasAssignment({
        accountId: ACCOUNTS.staging,
        permissionSetArn: PERMISSION_SETS.readOnly,
        principalId: alice.principalId,
      }),
    ).toBe(true);
    expect(await harness.auditActions(requestId)).toEqual([
      'request.submitted',
      'approval.auto',
      'grant.existing',
      'grant.succeeded',
      'window.opened',
      'window.expired',
      'revoke.kept',
      'request.closed',
    ]);
  });

  it('does not remove the second request\u2019s access when the first ends', async () => {
    harness = await startHarness();
    const first = newId();
    const second = newId();
    const firstExecution = await harness.start({ requestId: first, durationMinutes: 240 });
    await tokenStored(harness, first, 'window');
    const secondExecution = await harness.start({ requestId: second, durationMinutes: 240 });
    await tokenStored(harness, second, 'window');

    expect((await (await requestDecisions()).endAccess(first, aliceActor)).kind).toBe('ended');
    expect((await harness.finished(firstExecution)).status).toBe('SUCCEEDED');
    const key = {
      accountId: ACCOUNTS.staging,
      permissionSetArn: PERMISSION_SETS.readOnly,
      principalId: alice.principalId,
    };
    expect(harness.hasAssignment(key)).toBe(true);
    expect(harness.writes()).toEqual([['Create', ...stagingReadOnly]]);
    expect(await harness.auditActions(first)).toContain('revoke.kept');

    expect((await (await requestDecisions()).endAccess(second, aliceActor)).kind).toBe('ended');
    expect((await harness.finished(secondExecution)).status).toBe('SUCCEEDED');
    expect(harness.hasAssignment(key)).toBe(false);
    expect(harness.writes()).toEqual([
      ['Create', ...stagingReadOnly],
      ['Delete', ...stagingReadOnly],
    ]);
  });
});
