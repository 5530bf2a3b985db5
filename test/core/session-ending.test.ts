import { readFileSync } from 'node:fs';
import path from 'node:path';
import { PolicyError } from '../../functions/core/errors';
import type { Policy } from '../../functions/core/policy';
import { parsePolicy } from '../../functions/core/policy-file';
import { Reconciler } from '../../functions/core/reconciler';
import {
  checkInlinePolicySize,
  endsSessionsOnRevoke,
  INLINE_POLICY_MAX_NON_WHITESPACE,
  InlinePolicyOverflowError,
  InlinePolicyUnreadableError,
  MAX_SESSION_DURATION_MS,
  revokeTime,
  SESSION_DENY_SID_PREFIX,
  SessionDenySweep,
  SessionEnding,
  sessionDenies,
  sessionDenyAuditId,
  sessionDenySid,
  sessionDurationMs,
  withoutExpiredDenies,
  withSessionDeny,
} from '../../functions/core/session-ending';
import {
  FakeDirectory,
  FakeWorkflow,
  ManualClock,
  MemoryStore,
  memoryAudit,
  RecordingNotifier,
} from '../reliability/fakes';
import { FakePermissionSets } from '../support/permission-sets';

// Ending the sessions a revoke leaves live (functions/core/session-ending.ts): the deny statement
// merged into a permission set's inline policy and taken out again, replays, the quota, the steps
// the workflow runs after a deletion and the reconciler's sweep, on in-memory ports.

const POLICY_TEXT = readFileSync(path.join(__dirname, '../fixtures/email-groups-policy.yaml'), 'utf8');
const READ_ONLY = 'arn:aws:sso:::permissionSet/ssoins-7223a1b2c3d4e5f6/ps-1a2b3c4d5e6f7a8b';
const POWER_USER = 'arn:aws:sso:::permissionSet/ssoins-7223a1b2c3d4e5f6/ps-9f8e7d6c5b4a3f2e';
const STAGING = '222222222222';
const SANDBOX = '333333333333';
const ALICE = '906744a1b2-0123abcd-4567-89ab-cdef-0123456789ab';
const BOB = '906744a1b2-89abcdef-0123-4567-89ab-cdef01234567';
const REVOKED_AT = '2026-11-25T10:00:00Z';

/** The fixture with PowerUser ending sessions at revoke (ReadOnly does not). */
const policy: Policy = parsePolicy(
  POLICY_TEXT.replace(
    /(- name: PowerUser\n\s+arn: [^\n]+\n)/,
    (entry) => `${entry}    endSessionsOnRevoke: true\n`,
  ),
);

/** A statement of the permission set's owners, as they wrote it. */
const OWNERS: Record<string, unknown> = {
  Sid: 'ReadTheLogs',
  Effect: 'Allow',
  Action: ['logs:GetLogEvents', 'logs:FilterLogEvents'],
  Resource: 'arn:aws:logs:*:*:log-group:/app/*',
};
const ownersPolicy = (statement: unknown = [OWNERS]) =>
  JSON.stringify({ Version: '2012-10-17', Id: 'owners', Statement: statement }, null, 2);
const statementsOf = (text: string | undefined) =>
  (JSON.parse(text ?? '{}') as { Statement?: Array<Record<string, unknown>> }).Statement ?? [];
const deny = (userId: string, accountId = STAGING, revokedAt = REVOKED_AT) => ({
  userId,
  accountId,
  revokedAt,
});

describe('the policy option', () => {
  it('is off unless a permission set says endSessionsOnRevoke: true', () => {
    const plain = parsePolicy(POLICY_TEXT);
    expect(plain.permissionSets.map((ps) => ps.endSessionsOnRevoke)).toEqual([false, false, false]);
    expect(endsSessionsOnRevoke(plain, POWER_USER)).toBe(false);
    expect(endsSessionsOnRevoke(policy, POWER_USER)).toBe(true);
    expect(endsSessionsOnRevoke(policy, READ_ONLY)).toBe(false);
  });

  it('refuses anything but a boolean, naming the path', () => {
    const bad = POLICY_TEXT.replace(
      /(- name: PowerUser\n\s+arn: [^\n]+\n)/,
      (entry) => `${entry}    endSessionsOnRevoke: sometimes\n`,
    );
    expect(() => parsePolicy(bad)).toThrow(PolicyError);
    expect(() => parsePolicy(bad)).toThrow(/permissionSets\[1\]\.endSessionsOnRevoke/);
  });
});

describe('the deny statement in an inline policy', () => {
  it('is added to an empty inline policy: every action denied to that user, in that account, for sessions issued before the revoke', () => {
    const { text, changed } = withSessionDeny('', deny(ALICE), 'PowerUser');
    expect(changed).toBe(true);
    expect(JSON.parse(text)).toEqual({
      Version: '2012-10-17',
      Statement: [
        {
          Sid: sessionDenySid(ALICE, STAGING),
          Effect: 'Deny',
          Action: '*',
          Resource: '*',
          Condition: {
            StringEquals: { 'identitystore:userId': ALICE, 'aws:PrincipalAccount': STAGING },
            DateLessThan: { 'aws:TokenIssueTime': REVOKED_AT },
          },
        },
      ],
    });
    expect(sessionDenySid(ALICE, STAGING)).toMatch(new RegExp(`^${SESSION_DENY_SID_PREFIX}[0-9a-f]{24}$`));
  });

  it("keeps the owners' statements as they are, in order, with the document's other members", () => {
    const { text } = withSessionDeny(ownersPolicy(), deny(ALICE), 'PowerUser');
    const document = JSON.parse(text) as Record<string, unknown>;
    expect(document.Version).toBe('2012-10-17');
    expect(document.Id).toBe('owners');
    expect(statementsOf(text)[0]).toEqual(OWNERS);
    expect(statementsOf(text)).toHaveLength(2);
    // A single statement written as an object (IAM allows it) is kept too.
    expect(statementsOf(withSessionDeny(ownersPolicy(OWNERS), deny(ALICE), 'PowerUser').text)[0]).toEqual(
      OWNERS,
    );
  });

  it('is idempotent: a replayed step finds the statement and leaves the same text', () => {
    const first = withSessionDeny(ownersPolicy(), deny(ALICE), 'PowerUser');
    const again = withSessionDeny(first.text, deny(ALICE), 'PowerUser');
    expect(again).toEqual({ text: first.text, changed: false });
  });

  it('is one statement per user and account: a later revoke moves its time, an earlier one (a late replay) leaves it', () => {
    const first = withSessionDeny('', deny(ALICE), 'PowerUser').text;
    const later = withSessionDeny(first, deny(ALICE, STAGING, '2026-11-25T12:00:00Z'), 'PowerUser');
    expect(later.changed).toBe(true);
    expect(sessionDenies(later.text, 'PowerUser')).toEqual([deny(ALICE, STAGING, '2026-11-25T12:00:00Z')]);
    expect(withSessionDeny(later.text, deny(ALICE), 'PowerUser')).toEqual({
      text: later.text,
      changed: false,
    });
  });

  it('lets the statements of several users and accounts coexist', () => {
    let text = ownersPolicy();
    for (const d of [deny(ALICE), deny(BOB), deny(ALICE, SANDBOX)])
      text = withSessionDeny(text, d, 'PowerUser').text;
    expect(sessionDenies(text, 'PowerUser')).toEqual([deny(ALICE), deny(BOB), deny(ALICE, SANDBOX)]);
    expect(new Set(statementsOf(text).map((s) => s.Sid)).size).toBe(4);
  });

  it("fails clearly past Identity Center's inline policy quota (10,240 non-whitespace characters), naming the permission set", () => {
    let text = '';
    let users = 0;
    let overflow: unknown;
    for (; users < 100 && !overflow; users++) {
      try {
        text = withSessionDeny(
          text,
          deny(`${ALICE.slice(0, -4)}${users.toString().padStart(4, '0')}`),
          'PowerUser',
        ).text;
      } catch (error) {
        overflow = error;
      }
    }
    // About thirty users' statements fit beside nothing else.
    expect(sessionDenies(text, 'PowerUser').length).toBeGreaterThanOrEqual(25);
    expect(overflow).toBeInstanceOf(InlinePolicyOverflowError);
    expect((overflow as Error).message).toMatch(
      /permission set PowerUser would be \d+ bytes, \d+ of them non-whitespace/,
    );
    expect((overflow as InlinePolicyOverflowError).nonWhitespace).toBeGreaterThan(
      INLINE_POLICY_MAX_NON_WHITESPACE,
    );
    // Whitespace counts towards the 32,768 bytes only.
    expect(() => checkInlinePolicySize(`${' '.repeat(30_000)}{}`, 'PowerUser')).not.toThrow();
    expect(() => checkInlinePolicySize(`${' '.repeat(32_767)}{}`, 'PowerUser')).toThrow(
      InlinePolicyOverflowError,
    );
  });

  it('refuses to edit an inline policy that is not a JSON document', () => {
    expect(() => withSessionDeny('{"Version": ', deny(ALICE), 'PowerUser')).toThrow(
      InlinePolicyUnreadableError,
    );
    expect(() => withSessionDeny('[]', deny(ALICE), 'PowerUser')).toThrow(/PowerUser is not a JSON object/);
  });

  it('rounds the revoke time up to the second, so sessions of the revoke’s own second are denied', () => {
    expect(revokeTime('2026-11-25T10:00:00.001Z')).toBe('2026-11-25T10:00:01Z');
    expect(revokeTime('2026-11-25T10:00:00.000Z')).toBe('2026-11-25T10:00:00Z');
  });
});

describe('expired statements', () => {
  const HOUR = 3600_000;
  const at = (iso: string) => Date.parse(iso);

  it('are taken out once revoke time + session duration + margin has passed; the others and the owners’ stay', () => {
    let text = ownersPolicy();
    text = withSessionDeny(text, deny(ALICE, STAGING, '2026-11-25T08:00:00Z'), 'PowerUser').text;
    text = withSessionDeny(text, deny(BOB, STAGING, '2026-11-25T09:30:00Z'), 'PowerUser').text;
    const options = { sessionDurationMs: HOUR, marginMs: 5 * 60_000 };
    expect(
      withoutExpiredDenies(text, { ...options, nowMs: at('2026-11-25T09:04:59Z') }, 'PowerUser').removed,
    ).toEqual([]);
    const swept = withoutExpiredDenies(text, { ...options, nowMs: at('2026-11-25T09:05:00Z') }, 'PowerUser');
    expect(swept.removed).toEqual([deny(ALICE, STAGING, '2026-11-25T08:00:00Z')]);
    expect(statementsOf(swept.text)[0]).toEqual(OWNERS);
    expect(sessionDenies(swept.text ?? '', 'PowerUser')).toEqual([
      deny(BOB, STAGING, '2026-11-25T09:30:00Z'),
    ]);
  });

  it('leave no inline policy to put when nothing else was in it (the policy is deleted instead)', () => {
    const text = withSessionDeny('', deny(ALICE), 'PowerUser').text;
    expect(
      withoutExpiredDenies(text, { nowMs: at('2026-11-26T00:00:00Z'), sessionDurationMs: HOUR }, 'PowerUser'),
    ).toEqual({
      text: undefined,
      removed: [deny(ALICE)],
    });
  });

  it('read the session duration as DescribePermissionSet gives it; an unreadable one counts as 12 hours', () => {
    expect(sessionDurationMs('PT1H')).toBe(HOUR);
    expect(sessionDurationMs('PT1H30M')).toBe(1.5 * HOUR);
    expect(sessionDurationMs('PT12H')).toBe(12 * HOUR);
    expect(sessionDurationMs('PT900S')).toBe(15 * 60_000);
    expect(sessionDurationMs('P1D')).toBe(MAX_SESSION_DURATION_MS);
    expect(sessionDurationMs(undefined)).toBe(MAX_SESSION_DURATION_MS);
  });
});

describe('the steps after a deletion (SessionEnding)', () => {
  function world() {
    const clock = new ManualClock(Date.parse('2026-11-25T10:00:00Z'));
    const store = new MemoryStore(clock);
    const { log, trail } = memoryAudit(clock);
    const notifier = new RecordingNotifier();
    const permissionSets = new FakePermissionSets();
    const ending = new SessionEnding({ policy, store, audit: trail, permissionSets, notifier, clock });
    return { clock, log, notifier, permissionSets, ending };
  }
  const input = (extra: Record<string, unknown> = {}) => ({
    version: 1,
    phase: 'start',
    requestId: 'req-end-1',
    accountId: STAGING,
    permissionSetArn: POWER_USER,
    principalId: ALICE,
    revokedAt: '2026-11-25T10:00:00.250Z',
    ...extra,
  });
  const actions = async (w: ReturnType<typeof world>) =>
    (await w.log.list('req-end-1')).map((e) => `${e.action}:${e.outcome}`);

  it('puts the deny statement, provisions the account and polls the provisioning to its end', async () => {
    const w = world();
    w.permissionSets.inlinePolicies.set(POWER_USER, ownersPolicy());
    w.permissionSets.pollsBeforeDone = 2;
    const started = await w.ending.run(input());
    expect(started).toEqual({
      status: 'IN_PROGRESS',
      operationId: 'prov-1',
      attempt: 0,
      revokedAt: '2026-11-25T10:00:01Z',
    });
    const polled = await w.ending.run(input({ phase: 'check', operationId: 'prov-1', attempt: 0 }));
    expect(polled).toMatchObject({ status: 'IN_PROGRESS', attempt: 1 });
    expect(await w.ending.run(input({ phase: 'check', operationId: 'prov-1', attempt: 1 }))).toEqual({
      status: 'SUCCEEDED',
      revokedAt: '2026-11-25T10:00:01Z',
    });
    const provisioned = w.permissionSets.provisionedPolicy(STAGING, POWER_USER);
    expect(sessionDenies(provisioned ?? '', 'PowerUser')).toEqual([
      deny(ALICE, STAGING, '2026-11-25T10:00:01Z'),
    ]);
    expect(statementsOf(provisioned)[0]).toEqual(OWNERS);
    expect(await actions(w)).toEqual(['sessions.end-requested:info', 'sessions.ended:success']);
    expect(w.notifier.alerts).toEqual([]);
  });

  it('leaves the same inline policy when replayed, writing it once', async () => {
    const w = world();
    await w.ending.run(input());
    const after = w.permissionSets.inlinePolicies.get(POWER_USER);
    await w.ending.run(input());
    expect(w.permissionSets.inlinePolicies.get(POWER_USER)).toBe(after);
    expect(w.permissionSets.calls.filter((c) => c === 'putInlinePolicy')).toHaveLength(1);
  });

  it('does nothing for a permission set that does not end sessions (a policy changed since the revoke)', async () => {
    const w = world();
    expect(await w.ending.run(input({ permissionSetArn: READ_ONLY }))).toEqual({ status: 'SKIPPED' });
    expect(w.permissionSets.calls).toEqual([]);
  });

  it('reports an overflow (audited, alerted, the permission set named) and edits nothing', async () => {
    const w = world();
    const huge = { ...OWNERS, Resource: Array.from({ length: 360 }, (_, i) => `arn:aws:s3:::bucket-${i}/*`) };
    w.permissionSets.inlinePolicies.set(POWER_USER, ownersPolicy([huge]));
    const result = await w.ending.run(input());
    expect(result).toMatchObject({
      status: 'FAILED',
      failureReason: expect.stringMatching(/permission set PowerUser would be/),
    });
    expect(w.permissionSets.calls).toEqual(['getInlinePolicy']);
    expect(await actions(w)).toEqual(['sessions.end-failed:failure']);
    const [event] = await w.log.list('req-end-1');
    expect(event?.details).toMatchObject({
      accountId: STAGING,
      permissionSetArn: POWER_USER,
      principalId: ALICE,
    });
    expect(w.notifier.alerts).toEqual([
      expect.stringContaining(
        'Could not end the live sessions of request req-end-1 (PowerUser on 222222222222)',
      ),
    ]);
  });

  it('reports a failed provisioning', async () => {
    const w = world();
    w.permissionSets.failProvisioning.push('Received a 500 status error');
    const result = await w.ending.run(input());
    expect(result).toEqual({
      status: 'FAILED',
      failureReason:
        'Provisioning permission set PowerUser to account 222222222222 failed: Received a 500 status error',
    });
    expect(await actions(w)).toEqual(['sessions.end-requested:info', 'sessions.end-failed:failure']);
    expect(w.notifier.alerts).toHaveLength(1);
  });

  it('puts the statement again when a concurrent write dropped it before the provisioning read it', async () => {
    const w = world();
    w.permissionSets.pollsBeforeDone = 1;
    await w.ending.run(input());
    // Another writer's read-modify-write from before our put lands now: our statement is gone.
    w.permissionSets.inlinePolicies.set(POWER_USER, ownersPolicy());
    const result = await w.ending.run(input({ phase: 'check', operationId: 'prov-1', attempt: 0 }));
    expect(result).toMatchObject({ status: 'IN_PROGRESS', operationId: 'prov-2', attempt: 1 });
    expect(await w.ending.run(input({ phase: 'check', operationId: 'prov-2', attempt: 1 }))).toMatchObject({
      status: 'SUCCEEDED',
    });
    const policyNow = w.permissionSets.inlinePolicies.get(POWER_USER) ?? '';
    expect(statementsOf(policyNow)[0]).toEqual(OWNERS);
    expect(sessionDenies(policyNow, 'PowerUser')).toHaveLength(1);
    expect(
      sessionDenies(w.permissionSets.provisionedPolicy(STAGING, POWER_USER) ?? '', 'PowerUser'),
    ).toHaveLength(1);
  });

  it('reports what the state machine caught, once per reason, and an alert that cannot be sent fails nothing', async () => {
    const w = world();
    w.notifier.alert = async () => {
      throw new Error('Slack is down');
    };
    const report = input({
      phase: 'report',
      error: {
        Error: 'AccessDeniedException',
        Cause: '{"errorMessage":"not authorized to PutInlinePolicyToPermissionSet"}',
      },
    });
    const result = await w.ending.run(report);
    expect(result).toEqual({
      status: 'FAILED',
      failureReason:
        'Ending the sessions failed: AccessDeniedException: not authorized to PutInlinePolicyToPermissionSet',
    });
    await w.ending.run(report);
    expect(await actions(w)).toEqual(['sessions.end-failed:failure']);
  });

  it('lets transient errors through for the state machine to retry', async () => {
    const w = world();
    w.permissionSets.failNext.set('putInlinePolicy', [new Error('ThrottlingException')]);
    await expect(w.ending.run(input())).rejects.toThrow('ThrottlingException');
    expect(await actions(w)).toEqual([]);
    expect(await w.ending.run(input())).toMatchObject({ status: 'SUCCEEDED' });
  });
});

describe('the sweep (SessionDenySweep, run by the reconciler)', () => {
  function world(now = '2026-11-25T12:00:00Z') {
    const clock = new ManualClock(Date.parse(now));
    const { log, trail } = memoryAudit(clock);
    const notifier = new RecordingNotifier();
    const permissionSets = new FakePermissionSets();
    const sweep = new SessionDenySweep(
      { policy, permissionSets, audit: trail, notifier, clock, wait: async () => undefined },
      {},
    );
    return { clock, log, notifier, permissionSets, sweep };
  }

  it('removes the statements whose sessions have all expired, keeps the rest and provisions the accounts they named', async () => {
    const w = world();
    let text = ownersPolicy();
    for (const d of [
      deny(ALICE, STAGING, '2026-11-25T10:00:00Z'),
      deny(ALICE, SANDBOX, '2026-11-25T10:30:00Z'),
      deny(BOB, STAGING, '2026-11-25T11:30:00Z'),
    ])
      text = withSessionDeny(text, d, 'PowerUser').text;
    w.permissionSets.inlinePolicies.set(POWER_USER, text);
    w.permissionSets.sessionDurations.set(POWER_USER, 'PT1H');

    const report = await w.sweep.run();

    expect(report).toEqual({ permissionSetsChecked: 1, statementsRemoved: 2, errors: [] });
    const kept = w.permissionSets.inlinePolicies.get(POWER_USER) ?? '';
    expect(statementsOf(kept)[0]).toEqual(OWNERS);
    expect(sessionDenies(kept, 'PowerUser')).toEqual([deny(BOB, STAGING, '2026-11-25T11:30:00Z')]);
    expect(w.permissionSets.provisionedPolicy(STAGING, POWER_USER)).toBe(kept);
    expect(w.permissionSets.provisionedPolicy(SANDBOX, POWER_USER)).toBe(kept);
    const trail = await w.log.list(sessionDenyAuditId(POWER_USER, deny(ALICE, SANDBOX)));
    expect(trail.map((e) => [e.action, e.details.revokedAt, e.details.sessionDuration])).toEqual([
      ['sessions.deny-removed', '2026-11-25T10:30:00Z', 'PT1H'],
    ]);
    // The next pass finds nothing more to do.
    expect(await w.sweep.run()).toEqual({ permissionSetsChecked: 1, statementsRemoved: 0, errors: [] });
  });

  it('keeps a statement for the permission set’s own session duration', async () => {
    const w = world();
    w.permissionSets.inlinePolicies.set(
      POWER_USER,
      withSessionDeny('', deny(ALICE, STAGING, '2026-11-25T10:00:00Z'), 'PowerUser').text,
    );
    w.permissionSets.sessionDurations.set(POWER_USER, 'PT4H');
    expect((await w.sweep.run()).statementsRemoved).toBe(0);
    w.clock.advance(2 * 3600_000 + 5 * 60_000);
    expect((await w.sweep.run()).statementsRemoved).toBe(1);
    // Nothing else was in it: the inline policy is deleted (IAM refuses one without statements).
    expect(w.permissionSets.inlinePolicies.has(POWER_USER)).toBe(false);
    expect(w.permissionSets.calls).toContain('deleteInlinePolicy');
  });

  it('reads only the inline policy when it holds none of this product’s statements', async () => {
    const w = world();
    w.permissionSets.inlinePolicies.set(POWER_USER, ownersPolicy());
    await w.sweep.run();
    expect(w.permissionSets.calls).toEqual(['getInlinePolicy']);
  });

  it('reports and alerts a provisioning that failed after the removal', async () => {
    const w = world();
    w.permissionSets.inlinePolicies.set(
      POWER_USER,
      withSessionDeny(ownersPolicy(), deny(ALICE, STAGING, '2026-11-25T08:00:00Z'), 'PowerUser').text,
    );
    w.permissionSets.failProvisioning.push('Received a 500 status error');
    const report = await w.sweep.run();
    expect(report.statementsRemoved).toBe(1);
    expect(report.errors).toEqual([
      expect.stringMatching(/provisioning PowerUser to 222222222222 .*500 status error/),
    ]);
    expect(w.notifier.alerts).toHaveLength(1);
  });

  it('runs at the end of a reconciler pass, its errors in the pass report', async () => {
    const w = world();
    w.permissionSets.inlinePolicies.set(
      POWER_USER,
      withSessionDeny('', deny(ALICE, STAGING, '2026-11-25T08:00:00Z'), 'PowerUser').text,
    );
    w.permissionSets.failNext.set('sessionDuration', [new Error('Rate exceeded')]);
    const store = new MemoryStore(w.clock);
    const { trail } = memoryAudit(w.clock);
    const reconciler = new Reconciler({
      policy,
      store,
      assignments: new FakeDirectory(),
      workflow: new FakeWorkflow(),
      audit: trail,
      notifier: w.notifier,
      clock: w.clock,
      wait: async () => undefined,
      sessionDenies: w.sweep,
    });
    const failed = await reconciler.run();
    expect(failed.errors).toEqual(['session deny statements of PowerUser: Rate exceeded']);
    expect((await reconciler.run()).sessionDeniesRemoved).toBe(1);
  });
});
