import { createHash } from 'node:crypto';
import * as z from 'zod/mini';
import type { AuditTrail, Occurrence } from './audit';
import { bestEffort, type OnFailed } from './best-effort';
import { AccessError, errorMessage } from './errors';
import type { PermissionSet, Policy } from './policy';
import type { Clock, Notifier, PermissionSetPolicies, ProvisioningStatus, RequestStore } from './ports';

// Ending the role sessions a revoke leaves live, for the permission sets whose policy entry says
// `endSessionsOnRevoke: true`. Deleting an assignment stops new sign-ins, but a role session
// already issued stays valid until the permission set's session duration ends (up to 12 h).
// The remedy IAM Identity Center documents (User Guide, "Revoke active IAM role sessions created
// by permission sets", https://docs.aws.amazon.com/singlesignon/latest/userguide/revoke-user-permissions.html,
// and "Use a Deny policy to revoke active user permissions",
// https://docs.aws.amazon.com/singlesignon/latest/userguide/prereqs-revoking-user-permissions.html):
// a Deny of every action conditioned on `identitystore:userId` in the permission set's inline
// policy, then ProvisionPermissionSet to the account. With `aws:TokenIssueTime` before the revoke
// (the IAM User Guide's "Revoke IAM role temporary security credentials" does the same for a
// role), a session issued later (a new grant) is spared; with `aws:PrincipalAccount` the
// statement binds only the account of the revoke, should the permission set later be provisioned
// to others while it is there.
//
// One statement per user and account, its Sid derived from both, so a replayed step leaves the
// same policy; the permission set owners' statements are kept as they are. The statement is
// removed by the reconciler's sweep (`SessionDenySweep`) once every session it can deny has
// expired: its revoke time plus the permission set's session duration.

export const SESSION_DENY_SID_PREFIX = 'JitAccessEndSessions';
/**
 * IAM Identity Center quotas (https://docs.aws.amazon.com/singlesignon/latest/userguide/limits.html):
 * "Maximum size of inline policy per permission set: 32,768 bytes. Maximum size of non-whitespace
 * characters in the inline policy per permission set is 10,240 bytes." The second is the one a
 * compact policy meets first (the role's inline policy in each account follows IAM's quota).
 */
export const INLINE_POLICY_MAX_BYTES = 32_768;
export const INLINE_POLICY_MAX_NON_WHITESPACE = 10_240;
/** The longest SessionDuration a permission set may have (PT12H), assumed when one is unreadable. */
export const MAX_SESSION_DURATION_MS = 12 * 3600_000;
const POLICY_VERSION = '2012-10-17';
const SYSTEM = 'system:workflow';
const STEP: Occurrence = { step: 'end-sessions' };

/** A deny statement's content: whose sessions, in which account, issued before when. */
export interface SessionDeny {
  userId: string;
  accountId: string;
  /** Sessions issued before this (whole seconds, UTC) are denied. */
  revokedAt: string;
}

/** The permission sets whose sessions end at revoke. */
export function sessionEndingPermissionSets(policy: Policy): PermissionSet[] {
  return policy.permissionSets.filter((ps) => ps.endSessionsOnRevoke === true);
}

export function endsSessionsOnRevoke(policy: Policy, permissionSetArn: string): boolean {
  return sessionEndingPermissionSets(policy).some((ps) => ps.arn === permissionSetArn);
}

/** IAM Sids are alphanumeric: the prefix and 24 hex digits of the user and account. */
export function sessionDenySid(userId: string, accountId: string): string {
  const digest = createHash('sha256').update(`${userId}|${accountId}`).digest('hex');
  return `${SESSION_DENY_SID_PREFIX}${digest.slice(0, 24)}`;
}

/** A revoke time as the statement carries it: rounded up to the second, so the revoke's own second is denied too. */
export function revokeTime(iso: string): string {
  const ms = Date.parse(iso);
  if (!Number.isFinite(ms)) throw new AccessError('invalid-step-input', `Not a time: ${iso}`);
  return new Date(Math.ceil(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

export function sessionDenyStatement(deny: SessionDeny): Record<string, unknown> {
  return {
    Sid: sessionDenySid(deny.userId, deny.accountId),
    Effect: 'Deny',
    Action: '*',
    Resource: '*',
    Condition: {
      StringEquals: { 'identitystore:userId': deny.userId, 'aws:PrincipalAccount': deny.accountId },
      DateLessThan: { 'aws:TokenIssueTime': deny.revokedAt },
    },
  };
}

type JsonObject = Record<string, unknown>;
const isObject = (value: unknown): value is JsonObject =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** One of this product's statements, read back; undefined for anything else (an owner's statement). */
export function readSessionDeny(statement: unknown): SessionDeny | undefined {
  if (!isOurs(statement)) return undefined;
  const condition = isObject(statement.Condition) ? statement.Condition : {};
  const equals = isObject(condition.StringEquals) ? condition.StringEquals : {};
  const before = isObject(condition.DateLessThan) ? condition.DateLessThan : {};
  const userId = equals['identitystore:userId'];
  const accountId = equals['aws:PrincipalAccount'];
  const revokedAt = before['aws:TokenIssueTime'];
  if (typeof userId !== 'string' || typeof accountId !== 'string' || typeof revokedAt !== 'string')
    return undefined;
  if (!Number.isFinite(Date.parse(revokedAt))) return undefined;
  if (statement.Sid !== sessionDenySid(userId, accountId)) return undefined;
  return { userId, accountId, revokedAt };
}

function isOurs(statement: unknown): statement is JsonObject & { Sid: string } {
  return (
    isObject(statement) &&
    typeof statement.Sid === 'string' &&
    statement.Sid.startsWith(SESSION_DENY_SID_PREFIX)
  );
}

/** The inline policy cannot be read as an IAM policy document. */
export class InlinePolicyUnreadableError extends AccessError {
  constructor(permissionSet: string, why: string) {
    super('inline-policy-unreadable', `The inline policy of permission set ${permissionSet} ${why}`);
    this.name = 'InlinePolicyUnreadableError';
  }
}

/** One more statement would take the inline policy past Identity Center's quota. */
export class InlinePolicyOverflowError extends AccessError {
  constructor(
    readonly permissionSet: string,
    readonly bytes: number,
    readonly nonWhitespace: number,
  ) {
    super(
      'inline-policy-overflow',
      `The inline policy of permission set ${permissionSet} would be ${bytes} bytes, ` +
        `${nonWhitespace} of them non-whitespace: over Identity Center's limit of ` +
        `${INLINE_POLICY_MAX_BYTES} bytes and ${INLINE_POLICY_MAX_NON_WHITESPACE} non-whitespace characters`,
    );
    this.name = 'InlinePolicyOverflowError';
  }
}

interface ParsedInlinePolicy {
  document: JsonObject;
  statements: unknown[];
}

function parseInlinePolicy(text: string, permissionSet: string): ParsedInlinePolicy {
  if (text.trim() === '') return { document: { Version: POLICY_VERSION }, statements: [] };
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch {
    throw new InlinePolicyUnreadableError(permissionSet, 'is not JSON');
  }
  if (!isObject(document)) throw new InlinePolicyUnreadableError(permissionSet, 'is not a JSON object');
  const statement = document.Statement;
  return {
    document,
    statements: statement === undefined ? [] : Array.isArray(statement) ? statement : [statement],
  };
}

/** The document with these statements, compact (owners' statements as they were); undefined when none is left. */
function renderInlinePolicy(parsed: ParsedInlinePolicy, statements: unknown[]): string | undefined {
  if (statements.length === 0) return undefined;
  return JSON.stringify({ ...parsed.document, Statement: statements });
}

/** Refuses a policy over Identity Center's quota, naming the permission set and both sizes. */
export function checkInlinePolicySize(text: string, permissionSet: string): void {
  const bytes = new TextEncoder().encode(text).length;
  const nonWhitespace = text.replace(/\s/g, '').length;
  if (bytes > INLINE_POLICY_MAX_BYTES || nonWhitespace > INLINE_POLICY_MAX_NON_WHITESPACE)
    throw new InlinePolicyOverflowError(permissionSet, bytes, nonWhitespace);
}

/** This product's statements in an inline policy. */
export function sessionDenies(text: string, permissionSet: string): SessionDeny[] {
  return parseInlinePolicy(text, permissionSet).statements.flatMap((s) => readSessionDeny(s) ?? []);
}

/** Whether the policy denies this user's sessions in this account issued before `deny.revokedAt`. */
export function hasSessionDeny(text: string, deny: SessionDeny, permissionSet: string): boolean {
  return sessionDenies(text, permissionSet).some(
    (d) =>
      d.userId === deny.userId &&
      d.accountId === deny.accountId &&
      Date.parse(d.revokedAt) >= Date.parse(deny.revokedAt),
  );
}

/**
 * The inline policy with the deny for this user and account: added, or moved to the later revoke
 * time (a later revoke of the same user covers an earlier one's sessions too). Unchanged — the
 * same text — when it already denies as much, so a replayed step writes nothing. Throws
 * InlinePolicyOverflowError past the quota, InlinePolicyUnreadableError for a policy that is not
 * a JSON document.
 */
export function withSessionDeny(
  text: string,
  deny: SessionDeny,
  permissionSet: string,
): { text: string; changed: boolean } {
  const parsed = parseInlinePolicy(text, permissionSet);
  if (hasSessionDeny(text, deny, permissionSet)) return { text, changed: false };
  const sid = sessionDenySid(deny.userId, deny.accountId);
  const statement = sessionDenyStatement(deny);
  const index = parsed.statements.findIndex((s) => isObject(s) && s.Sid === sid);
  const statements =
    index >= 0
      ? parsed.statements.map((s, i) => (i === index ? statement : s))
      : [...parsed.statements, statement];
  const next = renderInlinePolicy(parsed, statements) ?? '';
  checkInlinePolicySize(next, permissionSet);
  return { text: next, changed: true };
}

/**
 * The inline policy without this product's statements whose sessions have all expired: revoke
 * time + session duration (+ margin, for clocks) at or before `nowMs`. `text` undefined: no
 * statement left (the inline policy is to be deleted: IAM refuses a policy without statements).
 */
export function withoutExpiredDenies(
  text: string,
  options: { nowMs: number; sessionDurationMs: number; marginMs?: number },
  permissionSet: string,
): { text: string | undefined; removed: SessionDeny[] } {
  const parsed = parseInlinePolicy(text, permissionSet);
  const removed: SessionDeny[] = [];
  const kept = parsed.statements.filter((statement) => {
    const deny = readSessionDeny(statement);
    if (!deny) return true;
    const expiresAt = Date.parse(deny.revokedAt) + options.sessionDurationMs + (options.marginMs ?? 0);
    if (expiresAt > options.nowMs) return true;
    removed.push(deny);
    return false;
  });
  if (removed.length === 0) return { text, removed };
  return { text: renderInlinePolicy(parsed, kept), removed };
}

/**
 * Milliseconds of an ISO 8601 SessionDuration as DescribePermissionSet answers it (PT1H, PT1H30M,
 * PT12H); an unreadable one counts as the longest a permission set allows, so a statement is
 * never removed early.
 */
export function sessionDurationMs(iso: string | undefined): number {
  const match = /^PT(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?$/.exec(iso ?? '');
  if (!match || iso === 'PT') return MAX_SESSION_DURATION_MS;
  const ms = (Number(match[1] ?? 0) * 3600 + Number(match[2] ?? 0) * 60 + Number(match[3] ?? 0)) * 1000;
  return ms > 0 ? ms : MAX_SESSION_DURATION_MS;
}

// ---------------------------------------------------------------------------------------------
// The workflow's steps (the end-sessions function): EndSessions, CheckEndSessions, SessionsNotEnded.

const stepSchema = z.object({
  version: z.optional(z.int()),
  requestId: z.string().check(z.minLength(1)),
  accountId: z.string().check(z.regex(/^\d{12}$/)),
  permissionSetArn: z.string().check(z.minLength(1)),
  principalId: z.string().check(z.minLength(1)),
});
/** EndSessions: `revokedAt` is the state's `$$.State.EnteredTime`, the same for every retry. */
const startSchema = z.extend(stepSchema, { revokedAt: z.iso.datetime() });
const checkSchema = z.extend(startSchema, {
  operationId: z.string().check(z.minLength(1)),
  attempt: z.catch(z.int().check(z.nonnegative()), 0),
});
const reportSchema = z.extend(stepSchema, {
  error: z.optional(z.object({ Error: z.nullish(z.string()), Cause: z.nullish(z.string()) })),
});
export type EndSessionsInput = z.input<typeof startSchema>;
export type CheckEndSessionsInput = z.input<typeof checkSchema>;
export type SessionsNotEndedInput = z.input<typeof reportSchema>;

export type EndSessionsResult =
  | { status: 'IN_PROGRESS'; operationId: string; attempt: number; revokedAt: string }
  | { status: 'SUCCEEDED'; revokedAt: string }
  /** The permission set does not (any more) end sessions at revoke. */
  | { status: 'SKIPPED' }
  /** Reported already (audit event, alert): the workflow goes on. */
  | { status: 'FAILED'; failureReason: string };

export interface SessionEndingDependencies {
  policy: Policy;
  /** Read for the alert only (its channel is the request's approval channel without ALERT_CHANNEL). */
  store: Pick<RequestStore, 'getRequest'>;
  audit: AuditTrail;
  permissionSets: PermissionSetPolicies;
  notifier: Pick<Notifier, 'alert'>;
  clock: Clock;
  onNotifyFailed?: OnFailed;
  /** Who the events name: the workflow (default), or the reconciler ending its own revokes' sessions. */
  actor?: string;
}

type Step = z.infer<typeof stepSchema>;

function parseStep<T>(schema: z.ZodMiniType<T>, input: unknown, step: string): T {
  const result = schema.safeParse(input);
  if (!result.success)
    throw new AccessError(
      'invalid-step-input',
      `${step}: invalid input: ${result.error.issues[0]?.message ?? 'unknown'}`,
    );
  return result.data;
}

/**
 * The steps after an assignment this product deleted: the deny statement, its provisioning to the
 * account, polled like a creation or a deletion. Never a revoke failure: whatever goes wrong is
 * retried by the state machine, then reported (`sessions.end-failed`, an alert) and the workflow
 * closes the request as it would have. Idempotent like every step: the same input leaves the same
 * inline policy and the same events.
 */
export class SessionEnding {
  constructor(private readonly deps: SessionEndingDependencies) {}

  /** The phase the state machine's payload names (`phase`): start (default), check or report. */
  run(input: unknown): Promise<EndSessionsResult> {
    const phase = isObject(input) ? input.phase : undefined;
    if (phase === 'check') return this.check(input);
    if (phase === 'report') return this.report(input);
    return this.start(input);
  }

  /** EndSessions: the deny statement in the inline policy, then ProvisionPermissionSet to the account. */
  async start(input: unknown): Promise<EndSessionsResult> {
    const step = parseStep(startSchema, input, 'EndSessions');
    if (!endsSessionsOnRevoke(this.deps.policy, step.permissionSetArn)) return { status: 'SKIPPED' };
    return this.denyAndProvision(step, denyOf(step), 0);
  }

  /** CheckEndSessions: polls the provisioning; once it succeeded, the statement must still be there. */
  async check(input: unknown): Promise<EndSessionsResult> {
    const step = parseStep(checkSchema, input, 'CheckEndSessions');
    const deny = denyOf(step);
    const status = await this.deps.permissionSets.provisioningStatus(step.operationId);
    return this.follow(step, deny, status, step.attempt + 1);
  }

  /** SessionsNotEnded: what the state machine caught after its retries, reported. */
  async report(input: unknown): Promise<EndSessionsResult> {
    const step = parseStep(reportSchema, input, 'SessionsNotEnded');
    return this.failed(step, `Ending the sessions failed: ${describeError(step.error)}`);
  }

  private async denyAndProvision(step: Step, deny: SessionDeny, attempt: number): Promise<EndSessionsResult> {
    const { permissionSets, audit } = this.deps;
    const name = this.permissionSetName(step.permissionSetArn);
    const current = await permissionSets.getInlinePolicy(step.permissionSetArn);
    let change: { text: string; changed: boolean };
    try {
      change = withSessionDeny(current, deny, name);
    } catch (error) {
      if (error instanceof InlinePolicyOverflowError || error instanceof InlinePolicyUnreadableError)
        return this.failed(step, error.message);
      throw error;
    }
    if (change.changed) await permissionSets.putInlinePolicy(step.permissionSetArn, change.text);
    const operation = await permissionSets.provision(step.permissionSetArn, step.accountId);
    await audit.record(
      step.requestId,
      'sessions.end-requested',
      this.deps.actor ?? SYSTEM,
      'info',
      provisioningDetails(step, deny, operation.requestId),
      { ...STEP, key: operation.requestId },
    );
    return this.follow(step, deny, operation, attempt);
  }

  private async follow(
    step: Step,
    deny: SessionDeny,
    status: ProvisioningStatus,
    attempt: number,
  ): Promise<EndSessionsResult> {
    if (status.status === 'IN_PROGRESS')
      return { status: 'IN_PROGRESS', operationId: status.requestId, attempt, revokedAt: deny.revokedAt };
    const name = this.permissionSetName(step.permissionSetArn);
    if (status.status === 'FAILED')
      return this.failed(
        step,
        `Provisioning permission set ${name} to account ${step.accountId} failed: ${status.failureReason}`,
      );
    // Provisioned. Nothing makes Identity Center's inline policy conditional: a concurrent
    // read-modify-write (another revoke of this permission set, the reconciler's sweep, an owner's
    // edit) may have put a policy without this statement before the provisioning read it. Read it
    // again: if the statement is gone, put it and provision again (the poll bound still applies).
    const current = await this.deps.permissionSets.getInlinePolicy(step.permissionSetArn);
    if (!hasSessionDeny(current, deny, name)) return this.denyAndProvision(step, deny, attempt);
    await this.deps.audit.record(
      step.requestId,
      'sessions.ended',
      this.deps.actor ?? SYSTEM,
      'success',
      provisioningDetails(step, deny, status.requestId),
      { ...STEP, key: status.requestId },
    );
    return { status: 'SUCCEEDED', revokedAt: deny.revokedAt };
  }

  /** Reported once per reason (a retry writes the same event), alerted; the revoke stands. */
  private async failed(step: Step, failureReason: string): Promise<EndSessionsResult> {
    const { audit, store, notifier, onNotifyFailed } = this.deps;
    const reason = failureReason.slice(0, 4000);
    await audit.record(
      step.requestId,
      'sessions.end-failed',
      this.deps.actor ?? SYSTEM,
      'failure',
      { ...details(step), failureReason: reason },
      { ...STEP, key: `failed:${reason}` },
    );
    await bestEffort(
      'sessions-not-ended alert',
      async () => {
        const record = await store.getRequest(step.requestId).catch(() => undefined);
        await notifier.alert(
          `Could not end the live sessions of request ${step.requestId} ` +
            `(${this.permissionSetName(step.permissionSetArn)} on ${step.accountId}): ${reason}. ` +
            'The assignment is deleted; role sessions issued before the revoke stay valid until ' +
            'their session duration ends.',
          record,
        );
      },
      onNotifyFailed,
    );
    return { status: 'FAILED', failureReason: reason };
  }

  private permissionSetName(arn: string): string {
    return this.deps.policy.permissionSets.find((ps) => ps.arn === arn)?.name ?? arn;
  }
}

function denyOf(step: z.infer<typeof startSchema>): SessionDeny {
  return { userId: step.principalId, accountId: step.accountId, revokedAt: revokeTime(step.revokedAt) };
}

function details(step: Step) {
  return {
    accountId: step.accountId,
    permissionSetArn: step.permissionSetArn,
    principalId: step.principalId,
  };
}

/** What sessions.end-requested and sessions.ended say: the assignment, its deny statement, the provisioning. */
function provisioningDetails(step: Step, deny: SessionDeny, operationId: string) {
  return {
    ...details(step),
    revokedAt: deny.revokedAt,
    statementId: sessionDenySid(deny.userId, deny.accountId),
    operationId,
  };
}

/** A readable reason from a Step Functions error object; Cause may be Lambda's JSON. */
function describeError(error: { Error?: string | null; Cause?: string | null } | undefined): string {
  if (!error) return 'unknown error';
  const cause = error.Cause ?? '';
  try {
    const parsed: unknown = JSON.parse(cause);
    if (isObject(parsed) && typeof parsed.errorMessage === 'string')
      return `${error.Error ?? 'Error'}: ${parsed.errorMessage}`;
  } catch {
    // Cause is plain text.
  }
  return [error.Error, cause].filter(Boolean).join(': ') || 'unknown error';
}

// ---------------------------------------------------------------------------------------------
// The sweep the reconciler runs: statements whose sessions have all expired are removed.

/** The audit trail of a statement's removal: its permission set, account and user (no request: several may have written it). */
export function sessionDenyAuditId(permissionSetArn: string, deny: SessionDeny): string {
  return `sessions:${permissionSetArn.split('/').pop()}:${deny.accountId}:${deny.userId}`;
}

export interface SessionDenySweepDependencies {
  policy: Policy;
  permissionSets: PermissionSetPolicies;
  audit: AuditTrail;
  notifier: Pick<Notifier, 'alert'>;
  clock: Clock;
  /** Waits between provisioning polls (tests pass a no-op). */
  wait?: (ms: number) => Promise<void>;
}

export interface SessionDenySweepOptions {
  /** Kept this long past revoke time + session duration, for clock differences. */
  marginMs: number;
  /** Provisioning status polls per account within a pass. */
  provisioningPolls: number;
  pollIntervalMs: number;
}

export const DEFAULT_SESSION_DENY_SWEEP_OPTIONS: SessionDenySweepOptions = {
  marginMs: 5 * 60_000,
  provisioningPolls: 3,
  pollIntervalMs: 2000,
};

export interface SessionDenySweepReport {
  permissionSetsChecked: number;
  statementsRemoved: number;
  errors: string[];
}

/**
 * Removes the deny statements whose every session has expired, from each permission set that ends
 * sessions at revoke, and provisions the accounts they named (so the roles there match the
 * permission set). One Get per such permission set per pass when there is nothing to remove.
 * An error is reported for its permission set, and the next pass tries again.
 */
export class SessionDenySweep {
  private readonly options: SessionDenySweepOptions;
  private readonly wait: (ms: number) => Promise<void>;

  constructor(
    private readonly deps: SessionDenySweepDependencies,
    options: Partial<SessionDenySweepOptions> = {},
  ) {
    this.options = { ...DEFAULT_SESSION_DENY_SWEEP_OPTIONS, ...options };
    this.wait = deps.wait ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
  }

  async run(): Promise<SessionDenySweepReport> {
    const report: SessionDenySweepReport = { permissionSetsChecked: 0, statementsRemoved: 0, errors: [] };
    for (const permissionSet of sessionEndingPermissionSets(this.deps.policy)) {
      report.permissionSetsChecked++;
      try {
        report.statementsRemoved += await this.sweep(permissionSet, report);
      } catch (error) {
        report.errors.push(`session deny statements of ${permissionSet.name}: ${errorMessage(error)}`);
      }
    }
    return report;
  }

  private async sweep(permissionSet: PermissionSet, report: SessionDenySweepReport): Promise<number> {
    const { permissionSets, audit, clock } = this.deps;
    const current = await permissionSets.getInlinePolicy(permissionSet.arn);
    if (sessionDenies(current, permissionSet.name).length === 0) return 0;
    const duration = await permissionSets.sessionDuration(permissionSet.arn);
    const change = withoutExpiredDenies(
      current,
      {
        nowMs: clock.now().getTime(),
        sessionDurationMs: sessionDurationMs(duration),
        marginMs: this.options.marginMs,
      },
      permissionSet.name,
    );
    if (change.removed.length === 0) return 0;
    if (change.text === undefined) await permissionSets.deleteInlinePolicy(permissionSet.arn);
    else await permissionSets.putInlinePolicy(permissionSet.arn, change.text);
    for (const deny of change.removed)
      await audit.record(
        sessionDenyAuditId(permissionSet.arn, deny),
        'sessions.deny-removed',
        'system:reconciler',
        'success',
        {
          accountId: deny.accountId,
          permissionSetArn: permissionSet.arn,
          principalId: deny.userId,
          revokedAt: deny.revokedAt,
          sessionDuration: duration,
          statementId: sessionDenySid(deny.userId, deny.accountId),
        },
        { step: 'reconciler', key: `${sessionDenySid(deny.userId, deny.accountId)}:${deny.revokedAt}` },
      );
    for (const accountId of new Set(change.removed.map((d) => d.accountId)))
      await this.provision(permissionSet, accountId, report);
    return change.removed.length;
  }

  /** The account's role made to match the permission set again; a failure is reported and alerted. */
  private async provision(
    permissionSet: PermissionSet,
    accountId: string,
    report: SessionDenySweepReport,
  ): Promise<void> {
    const { permissionSets, notifier } = this.deps;
    try {
      let status = await permissionSets.provision(permissionSet.arn, accountId);
      for (let poll = 0; status.status === 'IN_PROGRESS' && poll < this.options.provisioningPolls; poll++) {
        await this.wait(this.options.pollIntervalMs);
        status = await permissionSets.provisioningStatus(status.requestId);
      }
      if (status.status !== 'FAILED') return; // SUCCEEDED, or still in progress: Identity Center finishes it
      throw new Error(status.failureReason);
    } catch (error) {
      const why = `provisioning ${permissionSet.name} to ${accountId} after removing expired session deny statements: ${errorMessage(error)}`;
      report.errors.push(why);
      await bestEffort('sweep alert', () =>
        notifier.alert(
          `Failed ${why}. The account's role still carries the removed statements (they deny only ` +
            'sessions that have expired); provision the permission set to the account again.',
        ),
      );
    }
  }
}
