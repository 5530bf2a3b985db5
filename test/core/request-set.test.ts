import { readFileSync } from 'node:fs';
import path from 'node:path';
import { reminderDue } from '../../functions/core/approval-reminder';
import { RequestDecisions } from '../../functions/core/decisions';
import { accessRequestSchema, type RequestRecord } from '../../functions/core/model';
import { parsePolicy } from '../../functions/core/policy-file';
import { checkRequestForm } from '../../functions/core/request-form';
import {
  checkMoreAccounts,
  memberRequestIds,
  moreAccountsAllowed,
  searchMoreAccounts,
  setOf,
  setProblem,
  setRecords,
  withSetMessages,
} from '../../functions/core/request-set';
import { FakeWorkflow, ManualClock, MemoryStore, memoryAudit, RecordingNotifier } from '../reliability/fakes';

// Several accounts in one request (core/request-set.ts): what the form accepts and how it splits
// by deciding rule, the ids, Validate's limit, and which records a set's message and decision cover.

const ALICE = 'alice@example.com';
const PRODUCTION = '111111111111';
const STAGING = '222222222222';
const SANDBOX = '333333333333';
const NOW = new Date(Date.UTC(2026, 11, 3, 9, 0, 0));
const POLICY_TEXT = readFileSync(path.join(__dirname, '../fixtures/request-set-policy.yaml'), 'utf8');
/** The fixture with one text replaced everywhere (a rule's limit). */
const withLimits = (from: string | RegExp, to: string) =>
  parsePolicy(POLICY_TEXT.replace(typeof from === 'string' ? new RegExp(from, 'g') : from, to));
const policy = parsePolicy(POLICY_TEXT);

function first(accountId: string, permissionSet: string, durationMinutes = 60, under = policy) {
  const checked = checkRequestForm(
    under,
    ALICE,
    { accountId, permissionSet, durationMinutes, reason: 'migration' },
    NOW,
  );
  if (!checked.ok) throw new Error(JSON.stringify(checked.errors));
  return checked.value;
}

describe('checkMoreAccounts', () => {
  it('one rule for every account: one group, in the form order', () => {
    const checked = checkMoreAccounts(policy, ALICE, first(PRODUCTION, 'PowerUser'), [STAGING], NOW);
    expect(checked.ok && checked.groups.map((g) => g.map((f) => [f.accountId, f.verdict.rule.name]))).toEqual(
      [
        [
          [PRODUCTION, 'power-user-pair'],
          [STAGING, 'power-user-pair'],
        ],
      ],
    );
  });

  it('accounts under different rules are split, one group per deciding rule', () => {
    const checked = checkMoreAccounts(policy, ALICE, first(PRODUCTION, 'ReadOnly'), [STAGING, SANDBOX], NOW);
    expect(checked.ok && checked.groups.map((g) => g.map((f) => f.accountId))).toEqual([
      [PRODUCTION],
      [STAGING, SANDBOX],
    ]);
    expect(checked.ok && checked.groups.map((g) => g[0]?.verdict.rule.name)).toEqual([
      'production-read',
      'staging-self-service',
    ]);
  });

  it("refuses more accounts than the deciding rule's maxAccounts", () => {
    const single = withLimits('maxAccounts: 2', 'maxAccounts: 1');
    const checked = checkMoreAccounts(
      single,
      ALICE,
      first(PRODUCTION, 'PowerUser', 60, single),
      [STAGING],
      NOW,
    );
    expect(checked).toEqual({
      ok: false,
      message: 'Rule power-user-pair allows at most 1 account in one request.',
    });
  });

  it('names an account without the permission set for this requester', () => {
    const checked = checkMoreAccounts(policy, ALICE, first(PRODUCTION, 'PowerUser'), [STAGING, SANDBOX], NOW);
    expect(checked).toEqual({ ok: false, message: 'You cannot request PowerUser on sandbox.' });
  });

  it('refuses an account the requester may not have the permission set on, or one not in the policy', () => {
    expect(checkMoreAccounts(policy, ALICE, first(STAGING, 'ReadOnly'), ['999999999999'], NOW)).toEqual({
      ok: false,
      message: 'Account 999999999999 is not in the access policy.',
    });
    expect(checkMoreAccounts(policy, 'bob@other.org', first(STAGING, 'ReadOnly'), [PRODUCTION], NOW).ok).toBe(
      false,
    );
  });

  it('refuses a duration longer than another account allows', () => {
    const checked = checkMoreAccounts(policy, ALICE, first(STAGING, 'ReadOnly', 300), [PRODUCTION], NOW);
    expect(checked).toEqual({
      ok: false,
      message: '5h is longer than you can have ReadOnly on production.',
    });
  });

  it('the first account again, or twice, counts once', () => {
    const checked = checkMoreAccounts(
      policy,
      ALICE,
      first(PRODUCTION, 'PowerUser'),
      [PRODUCTION, STAGING, STAGING],
      NOW,
    );
    expect(checked.ok && checked.groups.flat().map((f) => f.accountId)).toEqual([PRODUCTION, STAGING]);
  });
});

describe('ids and limits', () => {
  it('the first member keeps the form id; the set is named after it', () => {
    const ids = memberRequestIds('req-abc123', 3);
    expect(ids).toEqual(['req-abc123', 'req-abc123-2', 'req-abc123-3']);
    expect(setOf(ids)).toEqual({ id: 'req-abc123', members: ids });
    expect(setOf(['req-abc123'])).toBeUndefined();
  });

  it('the form offers as many more accounts as the largest rule allows, less the first', () => {
    expect(moreAccountsAllowed(policy, ALICE)).toBe(9); // the default of 10 on the rules without maxAccounts
    // Once the pair is picked, its rule's own limit: power-user-pair allows 2.
    expect(moreAccountsAllowed(policy, ALICE, { accountId: PRODUCTION, permissionSet: 'PowerUser' })).toBe(1);
    // Every rule one at a time: no menu.
    const single = { ...policy, rules: policy.rules.map((r) => ({ ...r, maxAccounts: 1 })) };
    expect(single.rules.map((r) => r.maxAccounts)).toEqual([1, 1, 1]);
    expect(moreAccountsAllowed(single, ALICE)).toBe(0);
  });

  it('the "more accounts" menu offers only accounts with the permission set picked, the first left out', () => {
    expect(searchMoreAccounts(policy, ALICE, 'PowerUser', PRODUCTION, '').map((a) => a.id)).toEqual([
      STAGING,
    ]);
    expect(searchMoreAccounts(policy, ALICE, 'ReadOnly', STAGING, '').map((a) => a.name)).toEqual([
      'production',
      'sandbox',
    ]);
  });

  it("Validate's check: the set within its rule's limit", () => {
    const rule = policy.rules.find((r) => r.name === 'power-user-pair');
    if (!rule) throw new Error('fixture');
    const request = (members: string[]) =>
      accessRequestSchema.parse({
        requestId: members[0],
        requester: { slackUserId: 'U0ALICE', email: ALICE },
        accountId: PRODUCTION,
        permissionSetArn: 'arn:aws:sso:::permissionSet/ssoins-7223a1b2c3d4e5f6/ps-9f8e7d6c5b4a3f2e',
        durationMinutes: 60,
        reason: 'migration',
        requestedAt: NOW.toISOString(),
        set: setOf(members),
      });
    expect(setProblem(request(['req-abc123', 'req-abc123-2']), rule)).toBeUndefined();
    expect(setProblem(request(['req-abc123', 'req-abc123-2', 'req-abc123-3']), rule)).toBe(
      'Rule power-user-pair allows at most 2 accounts in one request.',
    );
  });

  it('the schema refuses a set that does not name this request, or names it first wrongly', () => {
    const base = {
      requestId: 'req-abc123-2',
      requester: { slackUserId: 'U0ALICE', email: ALICE },
      accountId: STAGING,
      permissionSetArn: 'arn:aws:sso:::permissionSet/ssoins-7223a1b2c3d4e5f6/ps-9f8e7d6c5b4a3f2e',
      durationMinutes: 60,
      reason: 'migration',
      requestedAt: NOW.toISOString(),
    };
    expect(
      accessRequestSchema.safeParse({ ...base, set: setOf(['req-abc123', 'req-abc123-2']) }).success,
    ).toBe(true);
    expect(accessRequestSchema.safeParse({ ...base, set: setOf(['req-abc123', 'req-other1']) }).success).toBe(
      false,
    );
    expect(
      accessRequestSchema.safeParse({
        ...base,
        set: { id: 'req-abc123-2', members: ['req-abc123', 'req-abc123-2'] },
      }).success,
    ).toBe(false);
    expect(
      accessRequestSchema.safeParse({ ...base, breakGlass: true, set: setOf(['req-abc123', 'req-abc123-2']) })
        .success,
    ).toBe(false);
  });
});

const POWER_USER_ARN = 'arn:aws:sso:::permissionSet/ssoins-7223a1b2c3d4e5f6/ps-9f8e7d6c5b4a3f2e';
const PAIR = ['req-pair01', 'req-pair01-2'];

/** A stored member of a set (`members`, the first its id; none when alone), Alice's unless `slackUserId` says. */
function member(
  requestId: string,
  members: string[],
  over: Partial<RequestRecord> = {},
  request: { accountId?: string; permissionSetArn?: string; slackUserId?: string } = {},
): RequestRecord {
  const slackUserId = request.slackUserId ?? 'U0ALICE';
  return {
    version: 1,
    request: {
      requestId,
      requester: { slackUserId, email: `${slackUserId.slice(2).toLowerCase()}@example.com` },
      accountId: request.accountId ?? PRODUCTION,
      permissionSetArn: request.permissionSetArn ?? POWER_USER_ARN,
      durationMinutes: 60,
      reason: 'migration',
      requestedAt: NOW.toISOString(),
      ...(members.length > 1 ? { set: { id: members[0] ?? '', members } } : {}),
    },
    status: 'PENDING_APPROVAL',
    ruleName: 'power-user-pair',
    approvalsRequired: 1,
    approvals: [],
    updatedAt: NOW.toISOString(),
    ...over,
  };
}

/** The core's decisions on a memory store, with these records stored. */
async function decisionsWith(records: RequestRecord[]) {
  const clock = new ManualClock(NOW.getTime());
  const store = new MemoryStore(clock);
  const notifier = new RecordingNotifier();
  const workflow = new FakeWorkflow();
  const decisions = new RequestDecisions({
    policy,
    store,
    audit: memoryAudit(clock).trail,
    workflow,
    notifier,
    clock,
  });
  for (const record of records) await store.createRequest(record);
  return { store, decisions, notifier, workflow, clock };
}

describe('setRecords', () => {
  it("covers only requests that name the same set and requester: another person's request named as a member is left out", async () => {
    const forged = ['req-forged1', 'req-forged1-2', 'req-victim1'];
    const lead = member('req-forged1', forged);
    // Bob's own request, which the forged set lists among its members.
    const { store } = await decisionsWith([
      lead,
      member('req-forged1-2', forged),
      member('req-victim1', [], {}, { slackUserId: 'U0BOB' }),
    ]);
    expect((await setRecords(store, lead)).map((r) => r.request.requestId)).toEqual([
      'req-forged1',
      'req-forged1-2',
    ]);
  });
});

describe('a decision on a set', () => {
  const setUp = () =>
    decisionsWith([member('req-pair01', PAIR), member('req-pair01-2', PAIR, {}, { accountId: STAGING })]);
  const carol = { email: 'carol@example.com', slackUserId: 'U0CAROL' };
  const dave = { email: 'dave@example.com', slackUserId: 'U0DAVE' };

  it('decides every member, and renders the set once', async () => {
    const { store, decisions, notifier } = await setUp();
    expect((await decisions.decide('req-pair01-2', carol, 'deny', 'no')).kind).toBe('denied');
    for (const id of ['req-pair01', 'req-pair01-2'])
      expect((await store.getRequest(id))?.status).toBe('DENIED');
    expect(notifier.updates).toEqual(['req-pair01']);
  });

  it('stops at a member decided the other way: a racing click that lost the first member decides no other', async () => {
    const { store, decisions } = await setUp();
    // An approval that won the first member and has not reached the second yet.
    await store.updateRequest('req-pair01', ['PENDING_APPROVAL'], {
      status: 'APPROVED',
      approvals: [{ by: carol.email, slackUserId: carol.slackUserId, at: NOW.toISOString() }],
    });
    const outcome = await decisions.decide('req-pair01', dave, 'deny', 'race');
    expect(outcome.kind).toBe('already-decided');
    // The second is left for the approval's own fan-out, never denied by the click that lost.
    expect((await store.getRequest('req-pair01-2'))?.status).toBe('PENDING_APPROVAL');
  });

  it('refuses while an account is not stored yet (its Validate running), then decides them all', async () => {
    const { store, decisions, workflow } = await decisionsWith([member('req-pair01', PAIR)]);
    expect(await decisions.decide('req-pair01', carol, 'approve')).toMatchObject({
      kind: 'set-incomplete',
      missing: 1,
    });
    expect((await store.getRequest('req-pair01'))?.status).toBe('PENDING_APPROVAL');
    expect(workflow.signals).toEqual([]);

    await store.createRequest(member('req-pair01-2', PAIR, {}, { accountId: STAGING }));
    expect((await decisions.decide('req-pair01', carol, 'approve')).kind).toBe('approved');
    for (const id of PAIR) expect((await store.getRequest(id))?.status).toBe('APPROVED');
  });

  it('decides the accounts it has once the set is older than an execution takes to store one', async () => {
    const { store, decisions, clock } = await decisionsWith([member('req-pair01', PAIR)]);
    clock.advance(5 * 60_000 + 1);
    expect((await decisions.decide('req-pair01', carol, 'approve')).kind).toBe('approved');
    expect((await store.getRequest('req-pair01'))?.status).toBe('APPROVED');
  });

  it('passes over a member its requester withdrew and decides the rest', async () => {
    const { store, decisions } = await setUp();
    await store.updateRequest('req-pair01', ['PENDING_APPROVAL'], {
      status: 'CANCELLED',
      cancellation: { by: ALICE, slackUserId: 'U0ALICE', at: NOW.toISOString() },
    });
    expect((await decisions.decide('req-pair01', carol, 'approve')).kind).toBe('approved');
    expect((await store.getRequest('req-pair01'))?.status).toBe('CANCELLED');
    expect((await store.getRequest('req-pair01-2'))?.status).toBe('APPROVED');
  });
});

describe("a set's one message", () => {
  it('ends showing the set as stored, however many times its members changed while it rendered', async () => {
    const { store } = await decisionsWith([member('req-pair01', PAIR), member('req-pair01-2', PAIR)]);
    // Slack keeps the last update; the other member moves on during each of the first 4 renders
    // (as its own steps would, at once), one more change than the renders a writer once stopped at.
    const moves = ['APPROVED', 'GRANTING', 'ACTIVE', 'REVOKING'] as const;
    let shown: readonly RequestRecord[] = [];
    const slack = new (class extends RecordingNotifier {
      override async updateRequestMessages(record: RequestRecord, set?: readonly RequestRecord[]) {
        shown = set ?? [];
        const next = moves[this.updates.length];
        const other = await store.getRequest('req-pair01-2');
        await super.updateRequestMessages(record);
        if (next && other) await store.updateRequest('req-pair01-2', [other.status], { status: next });
      }
    })();
    const lead = await store.getRequest('req-pair01');
    if (!lead) throw new Error('no lead');
    await withSetMessages(slack, store).updateRequestMessages(lead);
    expect(slack.updates).toHaveLength(5);
    expect(shown.map((m) => m.status)).toEqual(['PENDING_APPROVAL', 'REVOKING']);
  });
});

describe('reminders of a set', () => {
  it('are sent once, for the first member: the others are asked through its message', () => {
    const later = new Date(NOW.getTime() + 20 * 60_000);
    expect(reminderDue(policy, member('req-pair01', PAIR), later)).toBe(true);
    expect(reminderDue(policy, member('req-pair01-2', PAIR), later)).toBe(false);
  });
});

describe('"Extend all" on a set', () => {
  it('extends each account on its own: applied at once where its rule needs no approval', async () => {
    const members = ['req-self01', 'req-self01-2'];
    const active = (i: number, accountId: string, accountName: string) =>
      member(
        members[i] ?? '',
        members,
        {
          status: 'ACTIVE',
          ruleName: 'staging-self-service',
          approvalsRequired: 0,
          accountName,
          windowStartedAt: NOW.toISOString(),
          expiresAt: new Date(NOW.getTime() + 3_600_000).toISOString(),
        },
        {
          accountId,
          permissionSetArn: 'arn:aws:sso:::permissionSet/ssoins-7223a1b2c3d4e5f6/ps-1a2b3c4d5e6f7a8b',
        },
      );
    const { store, decisions, workflow } = await decisionsWith([
      active(0, STAGING, 'staging'),
      active(1, SANDBOX, 'sandbox'),
    ]);
    for (const [i, requestId] of members.entries()) {
      await store.putTaskToken(requestId, 'window', `token-${i}`);
      workflow.liveTokens.add(`token-${i}`);
    }
    const outcome = await decisions.onWholeSet(
      'req-self01-2',
      { email: ALICE, slackUserId: 'U0ALICE' },
      {
        kind: 'extend',
        minutes: 30,
        jobId: 'view:V0EXTENDALL',
      },
    );
    expect(outcome.results.map((r) => [r.account, r.outcome.kind])).toEqual([
      ['staging', 'extended'],
      ['sandbox', 'extended'],
    ]);
    for (const id of members) expect((await store.getRequest(id))?.extendedMinutes).toBe(30);
    // Someone else's click extends nothing.
    const stranger = await decisions.onWholeSet(
      'req-self01',
      { email: 'bob@example.com', slackUserId: 'U0BOB' },
      {
        kind: 'extend',
        minutes: 30,
      },
    );
    expect(stranger.results.map((r) => r.outcome.kind)).toEqual(['not-allowed', 'not-allowed']);
  });
});
