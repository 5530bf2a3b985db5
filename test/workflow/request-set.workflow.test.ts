import path from 'node:path';
import type { AccessRequest } from '../../functions/core/model';
import { auditTrailProblems } from '../reliability/invariants';
import {
  ACCOUNTS,
  audited,
  auditTrail,
  type Harness,
  PEOPLE,
  PERMISSION_SETS,
  requestDecisions,
  requestStore,
  startHarness,
  tokenStored,
} from './harness';

// Several accounts in one request through statemachines/access-request.asl.json with the real
// handlers: one execution per account, one approval message for the set (posted by its first
// member), one decision for all, then each account's own grant, window and revoke.

const POLICY = path.join(__dirname, '../fixtures/request-set-policy.yaml');
const alice = PEOPLE.alice;
const aliceActor = { email: alice.email, slackUserId: alice.slackUserId };
const carol = { email: PEOPLE.carol.email, slackUserId: PEOPLE.carol.slackUserId };

let harness: Harness;
let counter = 0;

afterEach(async () => {
  await harness?.close();
});

/** Starts one execution per account, as the Slack form does: the first keeps the base id. */
async function startSet(accounts: string[], extra: Partial<AccessRequest> = {}) {
  const base = `req-set-${++counter}-${Date.now().toString(36)}`;
  const members = accounts.map((_, i) => (i === 0 ? base : `${base}-${i + 1}`));
  const executions: string[] = [];
  for (const [i, accountId] of accounts.entries())
    executions.push(
      await harness.start({
        requestId: members[i] ?? base,
        accountId,
        permissionSetArn: PERMISSION_SETS.powerUser,
        durationMinutes: 15,
        set: { id: base, members },
        ...extra,
      }),
    );
  return { base, members, executions };
}

/** Two accounts for two hours, approved by Carol, each member once in `status`. */
async function approvedSet(status: 'ACTIVE' | 'GRANTING') {
  const set = await startSet([ACCOUNTS.production, ACCOUNTS.staging], { durationMinutes: 120 });
  for (const id of set.members) await tokenStored(harness, id, 'approval');
  const decisions = await requestDecisions(harness.clock);
  await decisions.decide(set.base, carol, 'approve');
  const store = requestStore(harness.clock);
  for (const id of set.members)
    await harness.waitFor(async () => (await store.getRequest(id))?.status === status, `${id} ${status}`);
  return { ...set, decisions, store };
}

const approvalPosts = () =>
  harness.slackCalls('chat.postMessage').filter((c) => c.args.channel === 'C0APPROVALS');
const dmsToAlice = () =>
  harness.slackCalls('chat.postMessage').filter((c) => c.args.channel === alice.slackUserId);

describe('several accounts in one request', () => {
  it('is asked once, decided once for all, then granted and revoked account by account', async () => {
    harness = await startHarness({ policyFile: POLICY });
    const { base, members, executions } = await startSet([ACCOUNTS.production, ACCOUNTS.staging]);
    for (const id of members) await tokenStored(harness, id, 'approval');
    await audited(harness, members[1] ?? '', 'approval.requested');

    // One message in the approval channel, naming both accounts (the second's render included).
    await harness.waitFor(
      async () => JSON.stringify(harness.slackCalls()).includes('(222222222222)'),
      'the set message naming the second account',
    );
    expect(approvalPosts()).toHaveLength(1);
    expect(JSON.stringify(approvalPosts()[0]?.args.blocks)).toContain('for 2 accounts');

    const outcome = await (await requestDecisions(harness.clock)).decide(base, carol, 'approve');
    expect(outcome.kind).toBe('approved');
    for (const execution of executions) expect((await harness.finished(execution)).status).toBe('SUCCEEDED');

    const store = requestStore(harness.clock);
    for (const id of members) {
      const record = await store.getRequest(id);
      expect(record?.status).toBe('REVOKED');
      expect(record?.approvals.map((a) => a.by)).toEqual([carol.email]);
      expect(await harness.auditActions(id)).toEqual([
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
    }
    // Each account its own assignment, created and deleted.
    const writes = harness.writes().map(([op, account]) => `${op} ${account}`);
    expect(writes.sort()).toEqual(
      ['Create 111111111111', 'Create 222222222222', 'Delete 111111111111', 'Delete 222222222222'].sort(),
    );
    // The decision told once, for the set; the access per account.
    const approvedDms = dmsToAlice().filter((c) => String(c.args.text).includes('was approved'));
    expect(approvedDms).toHaveLength(1);
    expect(String(approvedDms[0]?.args.text)).toContain('and 1 more account');
    expect(dmsToAlice().filter((c) => String(c.args.text).includes('Access ready'))).toHaveLength(2);
  });

  it('denied once: every member is denied, nothing is created, the requester is told once', async () => {
    harness = await startHarness({ policyFile: POLICY });
    const { base, members, executions } = await startSet([ACCOUNTS.production, ACCOUNTS.staging]);
    for (const id of members) await tokenStored(harness, id, 'approval');
    const outcome = await (await requestDecisions(harness.clock)).decide(base, carol, 'deny', 'not today');
    expect(outcome.kind).toBe('denied');
    for (const execution of executions) expect((await harness.finished(execution)).status).toBe('SUCCEEDED');
    const store = requestStore(harness.clock);
    for (const id of members) expect((await store.getRequest(id))?.status).toBe('DENIED');
    expect(harness.writes()).toEqual([]);
    expect(dmsToAlice().filter((c) => String(c.args.text).includes('was denied'))).toHaveLength(1);
  });

  it('the requester is no approver of their own set, whichever member the click names', async () => {
    harness = await startHarness({ policyFile: POLICY });
    const { members, executions } = await startSet([ACCOUNTS.production, ACCOUNTS.staging]);
    for (const id of members) await tokenStored(harness, id, 'approval');
    const decisions = await requestDecisions(harness.clock);
    expect((await decisions.decide(members[1] ?? '', aliceActor, 'approve')).kind).toBe('not-authorized');
    // A click on the second member decides the whole set too.
    expect((await decisions.decide(members[1] ?? '', carol, 'approve')).kind).toBe('approved');
    for (const execution of executions) expect((await harness.finished(execution)).status).toBe('SUCCEEDED');
    expect(harness.writes().filter(([op]) => op === 'Create')).toHaveLength(2);
  });

  it('"End all" ends every account; one account ended alone leaves the other live', async () => {
    harness = await startHarness({ policyFile: POLICY });
    const { base, members, executions, decisions, store } = await approvedSet('ACTIVE');

    // One account alone (the Home tab's button).
    expect((await decisions.endAccess(members[1] ?? '', aliceActor)).kind).toBe('ended');
    expect((await harness.finished(executions[1] ?? '')).status).toBe('SUCCEEDED');
    expect((await store.getRequest(members[0] ?? ''))?.status).toBe('ACTIVE');

    // The rest from the DM's one button: each account answered on its own.
    const all = await decisions.onWholeSet(base, aliceActor, { kind: 'end' });
    expect(all.results.map((r) => [r.account, r.outcome.kind])).toEqual([
      ['production', 'ended'],
      ['staging', 'not-active'],
    ]);
    expect((await harness.finished(executions[0] ?? '')).status).toBe('SUCCEEDED');
    for (const id of members) expect((await store.getRequest(id))?.endedBy).toBe(alice.email);
    expect(harness.writes().filter(([op]) => op === 'Delete')).toHaveLength(2);
  });

  it('"End all" while the accounts are still being granted ends each one as its window would open', async () => {
    // Identity Center still provisioning (1.5 s for each creation and deletion): both members stay
    // GRANTING, CheckGrant polling; 20 ms a second, so its polls (and CheckRevoke's) outlast it.
    harness = await startHarness({
      policyFile: POLICY,
      identityCenter: { provisioningDelayMs: 1500 },
      msPerSecond: 20,
    });
    const { base, members, executions, decisions, store } = await approvedSet('GRANTING');

    const all = await decisions.onWholeSet(base, aliceActor, { kind: 'end' });
    expect(all.results.map((r) => r.outcome.kind)).toEqual(['end-requested', 'end-requested']);
    // A second click asks nothing new.
    const again = await decisions.onWholeSet(base, aliceActor, { kind: 'end' });
    expect(again.results.map((r) => r.outcome.kind)).toEqual(['end-requested', 'end-requested']);

    for (const execution of executions) expect((await harness.finished(execution)).status).toBe('SUCCEEDED');
    const events = auditTrail(harness.clock);
    for (const id of members) {
      const record = await store.getRequest(id);
      expect({ id, status: record?.status, endedBy: record?.endedBy }).toEqual({
        id,
        status: 'REVOKED',
        endedBy: alice.email,
      });
      const trail = await events.list(id);
      expect(trail.map((e) => e.action)).toEqual([
        'request.submitted',
        'approval.requested',
        'approval.approved',
        'grant.requested',
        'grant.succeeded',
        'window.ended-early',
        'revoke.requested',
        'revoke.succeeded',
        'request.closed',
      ]);
      expect(trail.find((e) => e.action === 'window.ended-early')).toMatchObject({
        actor: alice.email,
        details: { beforeOpened: true },
      });
      expect(auditTrailProblems(id, trail, record)).toEqual([]);
    }
    // Granted and deleted, never announced as ready.
    expect(harness.writes().filter(([op]) => op === 'Delete')).toHaveLength(2);
    expect(dmsToAlice().filter((c) => String(c.args.text).includes('Access ready'))).toEqual([]);
  });

  it('an approval and a denial racing leave every member decided the same way', async () => {
    harness = await startHarness({ policyFile: POLICY });
    const dave = { email: PEOPLE.dave.email, slackUserId: PEOPLE.dave.slackUserId };
    const store = requestStore(harness.clock);
    for (let round = 0; round < 4; round++) {
      const { base, members, executions } = await startSet([ACCOUNTS.production, ACCOUNTS.staging]);
      for (const id of members) await tokenStored(harness, id, 'approval');
      const decisions = await requestDecisions(harness.clock);
      // Both clicks at once, the denial on the second member's button.
      await Promise.all([
        decisions.decide(base, carol, 'approve'),
        decisions.decide(members[1] ?? '', dave, 'deny', 'race'),
      ]);
      const statuses = await Promise.all(members.map(async (id) => (await store.getRequest(id))?.denial));
      expect(statuses.every((d) => d === undefined) || statuses.every((d) => d?.by === dave.email)).toBe(
        true,
      );
      await Promise.all(
        executions.map(async (execution) => {
          await harness.host.stopExecution(execution).catch(() => undefined);
        }),
      );
    }
  });

  it("Validate refuses a set larger than its rule's maxAccounts", async () => {
    harness = await startHarness({ policyFile: POLICY });
    const { members, executions } = await startSet([
      ACCOUNTS.production,
      ACCOUNTS.staging,
      ACCOUNTS.production,
    ]);
    for (const execution of executions) await harness.finished(execution);
    const record = await requestStore(harness.clock).getRequest(members[0] ?? '');
    expect(record?.status).toBe('REJECTED');
    expect(record?.failureReason).toContain('at most 2 accounts in one request');
    expect(harness.writes()).toEqual([]);
  });
});
