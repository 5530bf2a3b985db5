import { readFileSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { RequestDecisions } from '../../functions/core/decisions';
import { AccessError } from '../../functions/core/errors';
import type { ExecutionInput } from '../../functions/core/model';
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

// The state machine's inputs and people's clicks, malformed on purpose: every worker step and
// every decision answers with a clear outcome (valid:false, an AccessError with a code, or a
// "not-…" kind) and changes nothing — no record, no audit event, no Identity Center call.

const policy = parsePolicy(
  readFileSync(path.join(__dirname, '../fixtures/email-groups-policy.yaml'), 'utf8'),
);
const STAGING = '222222222222';
const READ_ONLY = 'arn:aws:sso:::permissionSet/ssoins-7223a1b2c3d4e5f6/ps-1a2b3c4d5e6f7a8b';
const POWER_USER = 'arn:aws:sso:::permissionSet/ssoins-7223a1b2c3d4e5f6/ps-9f8e7d6c5b4a3f2e';

function world() {
  const clock = new ManualClock();
  const store = new MemoryStore(clock);
  const directory = new FakeDirectory();
  const workflow = new FakeWorkflow();
  const notifier = new RecordingNotifier();
  const { log, trail } = memoryAudit(clock);
  const users = {
    findUserIdByEmail: async (email: string) => (email === 'alice@example.com' ? 'user-alice' : undefined),
  };
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
  const snapshot = () =>
    JSON.stringify({
      requests: [...store.requests.entries()],
      holders: [...store.holders.entries()],
      tokens: [...store.tokens.entries()],
      events: log.events.length,
      calls: directory.calls.length,
      signals: workflow.signals.length,
      stopped: workflow.stopped.length,
    });
  return { clock, store, directory, workflow, notifier, log, steps, decisions, snapshot };
}

const validInput = (requestId = 'req-valid-000001'): ExecutionInput => ({
  version: 1,
  request: {
    requestId,
    requester: { email: 'alice@example.com', slackUserId: 'U0ALICE' },
    accountId: STAGING,
    permissionSetArn: READ_ONLY,
    durationMinutes: 60,
    reason: 'incident',
    requestedAt: '2026-11-25T09:00:00.000Z',
  },
});

/** Values of every wrong kind, including huge, unicode and injection-looking strings. */
const junk = fc.oneof(
  fc.anything({ maxDepth: 3 }),
  fc.string({ maxLength: 50 }),
  fc.string({ unit: 'grapheme', maxLength: 50 }),
  fc.constantFrom(
    '',
    ' ',
    'x'.repeat(100_000),
    '../../etc/passwd',
    ['$', '{jndi:ldap://evil}'].join(''),
    "'; DROP TABLE x;--",
    '<!channel>',
    '\u0000',
    -1,
    0,
    1.5,
    Number.NaN,
    Number.POSITIVE_INFINITY,
    null,
    true,
    [],
    {},
  ),
);

/** A valid execution input with one field (at any depth) replaced by junk or removed. */
const corruptedInput = fc
  .tuple(
    fc.constantFrom(
      'version',
      'request',
      'request.requestId',
      'request.requester',
      'request.requester.email',
      'request.requester.slackUserId',
      'request.accountId',
      'request.permissionSetArn',
      'request.durationMinutes',
      'request.reason',
      'request.ticket',
      'request.requestedAt',
    ),
    fc.option(junk, { nil: undefined }),
  )
  .map(([where, value]) => {
    type Node = Record<string, unknown>;
    const input = structuredClone(validInput()) as unknown as Node;
    const parts = where.split('.');
    const last = parts.pop() as string;
    const parent = parts.reduce((node, part) => node[part] as Node, input);
    if (value === undefined) delete parent[last];
    else parent[last] = value;
    return { where, input };
  });

type StepName =
  | 'requestApproval'
  | 'grant'
  | 'checkGrant'
  | 'openWindow'
  | 'revoke'
  | 'checkRevoke'
  | 'finish';
const STEP_NAMES: StepName[] = [
  'requestApproval',
  'grant',
  'checkGrant',
  'openWindow',
  'revoke',
  'checkRevoke',
  'finish',
];

describe('bad input: state machine inputs', () => {
  it('Validate answers any malformed execution input with a reason, and stores nothing', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          junk,
          corruptedInput.map((c) => c.input),
        ),
        async (input) => {
          const w = world();
          const result = await w.steps.validate(input);
          if (result.valid) return; // the corruption happened to keep it valid (an optional field removed)
          expect(result.reason.length).toBeGreaterThan(0);
          const stored = [...w.store.requests.values()];
          // Malformed: nothing at all. Well-formed but refused by policy: a REJECTED record, no access.
          for (const record of stored) expect(record.status).toBe('REJECTED');
          expect(w.directory.calls).toEqual([]);
          expect(w.store.holders.size).toBe(0);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('Validate names the field that is wrong', async () => {
    await fc.assert(
      fc.asyncProperty(corruptedInput, async ({ where, input }) => {
        const w = world();
        const result = await w.steps.validate(input);
        const stored = [...w.store.requests.values()];
        if (result.valid) {
          // The corruption kept a valid input (an optional field removed, a value of the right
          // kind): the request is stored as the input says, and goes on.
          expect(stored.map((record) => record.request.requestId)).toEqual([
            (input.request as { requestId: string }).requestId,
          ]);
          expect(stored[0]?.status).not.toBe('REJECTED');
          return;
        }
        const malformed = /^Malformed request: (\S+)/.exec(result.reason);
        if (malformed) {
          // The reason's path is the corrupted field, or a field inside it (a replaced object).
          const named = malformed[1] as string;
          expect({ where, named: named === where || named.startsWith(`${where}.`) }).toEqual({
            where,
            named: true,
          });
          expect(stored).toEqual([]);
        } else {
          // Well-formed but refused by policy: one REJECTED record, carrying the reason given.
          expect(stored.map((record) => [record.status, record.failureReason])).toEqual([
            ['REJECTED', result.reason],
          ]);
        }
      }),
      { numRuns: 200 },
    );
  });

  for (const name of STEP_NAMES) {
    it(`${name} answers arbitrary events with an AccessError and changes nothing`, async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.oneof(junk, fc.dictionary(fc.string({ maxLength: 12 }), junk, { maxKeys: 6 })),
          async (event) => {
            const w = world();
            const before = w.snapshot();
            const outcome = await (w.steps[name] as (input: unknown) => Promise<unknown>)(event).then(
              () => 'answered',
              (error: unknown) => error,
            );
            expect(outcome).toBeInstanceOf(AccessError);
            expect(['invalid-step-input', 'not-found']).toContain((outcome as AccessError).code);
            expect(w.snapshot()).toBe(before);
          },
        ),
        { numRuns: 120 },
      );
    });
  }

  it('Grant refuses a payload for another assignment than the approved request asked for', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          accountId: fc.constantFrom(STAGING, '111111111111', '333333333333'),
          permissionSetArn: fc.constantFrom(READ_ONLY, POWER_USER),
          principalId: fc.constantFrom('user-alice', 'user-mallory'),
        }),
        async (target) => {
          fc.pre(
            !(
              target.accountId === STAGING &&
              target.permissionSetArn === READ_ONLY &&
              target.principalId === 'user-alice'
            ),
          );
          const w = world();
          await w.steps.validate(validInput());
          const before = w.snapshot();
          const outcome = await w.steps
            .grant({ requestId: 'req-valid-000001', ...target })
            .catch((e: unknown) => e);
          expect(outcome).toMatchObject({ code: 'input-mismatch' });
          expect(w.snapshot()).toBe(before);
        },
      ),
      { numRuns: 30 },
    );
  });

  it('Grant refuses a request that is not approved (pending, denied, rejected, unknown)', async () => {
    for (const status of ['PENDING_APPROVAL', 'DENIED', 'REJECTED', 'REVOKED', 'APPROVAL_EXPIRED'] as const) {
      const w = world();
      await w.steps.validate(validInput());
      const record = w.store.requests.get('req-valid-000001');
      if (record) record.status = status;
      const before = w.snapshot();
      const outcome = await w.steps
        .grant({
          requestId: 'req-valid-000001',
          accountId: STAGING,
          permissionSetArn: READ_ONLY,
          principalId: 'user-alice',
        })
        .catch((e: unknown) => e);
      expect(outcome).toMatchObject({ code: 'not-approved' });
      expect(w.snapshot()).toBe(before);
    }
    const w = world();
    const outcome = await w.steps
      .grant({
        requestId: 'req-nobody-00001',
        accountId: STAGING,
        permissionSetArn: READ_ONLY,
        principalId: 'user-alice',
      })
      .catch((e: unknown) => e);
    expect(outcome).toMatchObject({ code: 'not-found' });
    expect(w.directory.calls).toEqual([]);
  });

  it('Revoke refuses a payload naming another assignment than its request’s', async () => {
    const w = world();
    await w.steps.validate(validInput());
    const before = w.snapshot();
    const outcome = await w.steps
      .revoke({
        requestId: 'req-valid-000001',
        accountId: STAGING,
        permissionSetArn: POWER_USER,
        principalId: 'user-bob',
        reason: 'expired',
      })
      .catch((e: unknown) => e);
    expect(outcome).toMatchObject({ code: 'input-mismatch' });
    expect(w.snapshot()).toBe(before);
  });
});

describe('bad input: decisions from Slack clicks', () => {
  const carol = { email: 'carol@example.com', slackUserId: 'U0CAROL' };

  async function pending() {
    const w = world();
    const input = validInput('req-pending-0001');
    input.request.accountId = '111111111111'; // production: needs an approver
    await w.steps.validate(input);
    await w.steps.requestApproval({ taskToken: 'token-1', requestId: 'req-pending-0001' });
    w.workflow.liveTokens.add('token-1');
    return w;
  }

  it('answers clicks on unknown or malformed request ids with not-found, changing nothing', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.string({ maxLength: 3000 }),
        fc.constantFrom('approve', 'deny') as fc.Arbitrary<'approve' | 'deny'>,
        async (requestId, decision) => {
          const w = await pending();
          fc.pre(requestId !== 'req-pending-0001');
          const before = w.snapshot();
          expect(await w.decisions.decide(requestId, carol, decision)).toEqual({ kind: 'not-found' });
          expect((await w.decisions.endAccess(requestId, carol)).kind).toBe('not-found');
          expect((await w.decisions.extend(requestId, carol, 30)).kind).toBe('not-found');
          expect(w.snapshot()).toBe(before);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('refuses anyone the policy does not name as an approver, whatever their email looks like', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.emailAddress(),
          fc.constantFrom(
            'CAROL@EXAMPLE.COM ',
            'carol@example.com\u0000',
            'carol@example.com.evil.org',
            'alice@example.com',
            '*',
            'group:sre',
            '',
          ),
        ),
        async (email) => {
          fc.pre(!['carol@example.com', 'dave@example.com'].includes(email.trim().toLowerCase()));
          const w = await pending();
          const before = w.snapshot();
          const outcome = await w.decisions.decide(
            'req-pending-0001',
            { email, slackUserId: 'U0MALLORY' },
            'approve',
          );
          expect(outcome.kind).toBe('not-authorized');
          expect(w.snapshot()).toBe(before);
        },
      ),
      { numRuns: 80 },
    );
  });

  it('takes a replayed or concurrent decision once', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.constantFrom('approve', 'deny') as fc.Arbitrary<'approve' | 'deny'>, {
          minLength: 2,
          maxLength: 6,
        }),
        async (clicks) => {
          const w = await pending();
          const outcomes = await Promise.all(
            clicks.map((d) => w.decisions.decide('req-pending-0001', carol, d)),
          );
          const decided = outcomes.filter((o) => o.kind === 'approved' || o.kind === 'denied');
          expect(decided).toHaveLength(1);
          expect(w.workflow.signals.filter((s) => s.token === 'token-1')).toHaveLength(1);
          const decisions = w.log.events.filter(
            (e) => e.action === 'approval.approved' || e.action === 'approval.denied',
          );
          expect(new Set(decisions.map((e) => e.action)).size).toBeLessThanOrEqual(2);
        },
      ),
      { numRuns: 40 },
    );
  });

  it('refuses extensions of no, negative, fractional or huge length', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.integer({ max: 0 }),
          fc.double({ noInteger: true }),
          fc.constantFrom(Number.NaN, 1e12, 10_000),
        ),
        async (minutes) => {
          const w = world();
          await w.steps.validate(validInput());
          await w.store.updateRequest('req-valid-000001', ['APPROVED'], {
            status: 'ACTIVE',
            expiresAt: '2026-11-25T10:00:00.000Z',
          });
          await w.store.putTaskToken('req-valid-000001', 'window', 'window-token');
          const before = w.snapshot();
          const eventsBefore = w.log.events.length;
          const outcome = await w.decisions.extend(
            'req-valid-000001',
            { email: 'alice@example.com', slackUserId: 'U0ALICE' },
            minutes,
          );
          expect(outcome.kind).toBe('not-allowed');
          // A well-formed total the policy refuses (10,000 minutes) is audited as refused, once;
          // malformed minutes are not. Nothing else changes.
          const added = w.log.events.splice(eventsBefore);
          expect(added.map((e) => e.action)).toEqual(
            Number.isInteger(minutes) && minutes > 0 && minutes <= 7 * 24 * 60 - 60
              ? ['window.extend-refused']
              : [],
          );
          expect(w.snapshot()).toBe(before);
        },
      ),
      { numRuns: 60 },
    );
  });
});
