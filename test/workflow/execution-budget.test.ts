import { readFileSync } from 'node:fs';
import { MAX_ADMISSION_WAIT_MINUTES, MAX_DURATION_MINUTES } from '../../functions/core/policy';
import { MAX_START_DAYS_AHEAD } from '../../functions/core/policy-file';
import { FUNCTION_TIMEOUT_SECONDS } from '../../functions/shared/clients';
import { DEFINITION_PATH } from '../../local/step-functions/product-workflow';

// An execution that reaches the top-level TimeoutSeconds ends TIMED_OUT and runs no Catch:
// Revoke and Finish are skipped. So TimeoutSeconds must cover the longest path the policy allows,
// derived here from the ASL's own retry budgets and polling bounds, the policy schema's limits
// and the workers' Lambda timeout. Changing any of them without the others fails this test.

interface Retrier {
  ErrorEquals: string[];
  IntervalSeconds?: number;
  BackoffRate?: number;
  MaxAttempts?: number;
  MaxDelaySeconds?: number;
}
interface State {
  Type: string;
  Next?: string;
  Default?: string;
  Seconds?: number;
  Choices?: Array<{ Next: string } & Record<string, unknown>>;
  Catch?: Array<{ Next: string }>;
  Retry?: Retrier[];
  Resource?: string;
  Parameters?: { FunctionName?: string };
  TimeoutSecondsPath?: string;
}
const definition = JSON.parse(readFileSync(DEFINITION_PATH, 'utf8')) as {
  TimeoutSeconds: number;
  States: Record<string, State>;
};
const states = definition.States;
const state = (name: string): State => {
  const found = states[name];
  if (!found) throw new Error(`No state ${name}`);
  return found;
};

/** A failed attempt lasts at most the Lambda's timeout (the function is then killed). */
const ATTEMPT_SECONDS = FUNCTION_TIMEOUT_SECONDS.worker;
const MAX_POLICY_SECONDS = MAX_DURATION_MINUTES * 60;
/** An admission slot is at most admission.maxWait ahead, rounded up to the second. */
const MAX_ADMISSION_WAIT_SECONDS = MAX_ADMISSION_WAIT_MINUTES * 60 + 1;

/** Failed attempts a state's Retry allows, and the longest total wait between them (ASL defaults). */
function retryBudget(name: string): { failedAttempts: number; waitSeconds: number } {
  let failedAttempts = 0;
  let waitSeconds = 0;
  for (const retrier of state(name).Retry ?? []) {
    const attempts = retrier.MaxAttempts ?? 3;
    failedAttempts += attempts;
    for (let retry = 0; retry < attempts; retry++) {
      const wait = (retrier.IntervalSeconds ?? 1) * (retrier.BackoffRate ?? 2) ** retry;
      waitSeconds += Math.min(wait, retrier.MaxDelaySeconds ?? Number.POSITIVE_INFINITY);
    }
  }
  return { failedAttempts, waitSeconds };
}

/** A task: every allowed attempt failing at the Lambda timeout, the last one succeeding as late. */
function taskSeconds(name: string): number {
  const { failedAttempts, waitSeconds } = retryBudget(name);
  return (failedAttempts + 1) * ATTEMPT_SECONDS + waitSeconds;
}

/** A callback task: failed invocations, then a last attempt that waits out its whole timeout. */
function callbackSeconds(name: string, timeoutSeconds: number): number {
  const { failedAttempts, waitSeconds } = retryBudget(name);
  return failedAttempts * ATTEMPT_SECONDS + waitSeconds + timeoutSeconds;
}

/** The polling bound of a status Choice: its `attempt NumericLessThan N` rule. */
function pollBound(choice: string): number {
  const bounds = JSON.stringify(state(choice).Choices).match(/"NumericLessThan":(\d+)/g) ?? [];
  const values = bounds.map((b) => Number(b.split(':')[1])).filter((n) => n > 1);
  expect(values).toHaveLength(1);
  return values[0] ?? 0;
}

/** Admissions a grant may take: the first, then one per `n NumericLessThan N` of GrantRoundsLeft. */
function grantRounds(): number {
  const rule = state('GrantRoundsLeft').Choices?.[0] as
    | { Variable?: string; NumericLessThan?: number }
    | undefined;
  expect(rule?.Variable).toBe('$.validation.grantRound.n');
  expect(state('Validate')).toMatchObject({
    ResultSelector: { grantRound: { n: 0 } },
    ResultPath: '$.validation',
  });
  return (rule?.NumericLessThan ?? 0) + 1;
}

function successors(name: string): string[] {
  const s = state(name);
  return [
    s.Next,
    s.Default,
    ...(s.Choices ?? []).map((c) => c.Next),
    ...(s.Catch ?? []).map((c) => c.Next),
  ].filter((next): next is string => typeof next === 'string');
}

// The longest lifecycle: approval waited out to its limit, a grant and a revoke each polled to
// their bound, the longest window the policy allows, and the request closed.
const LONGEST_PATH = [
  'AdmitValidation',
  'ValidationSlot',
  'WaitForValidationSlot',
  'Validate',
  'Route',
  'WaitForApprovalSlot',
  'AwaitApproval',
  // A scheduled start: deferred, waited for, then admitted.
  'AdmitGrant',
  'GrantSlot',
  'WaitForStart',
  'AdmitGrant',
  'GrantSlot',
  'WaitForGrantSlot',
  'Grant',
  'GrantStatus',
  'WaitForGrant',
  'CheckGrant',
  'GrantStatus',
  'WindowGuard',
  'AccessWindow',
  'WindowAction',
  'EndedEarly',
  'Revoke',
  'RevokeStatus',
  'WaitForRevoke',
  'CheckRevoke',
  'RevokeStatus',
  // A permission set that ends sessions at revoke: provisioning polled to its bound, then reported.
  'EndSessions',
  'EndSessionsStatus',
  'WaitForEndSessions',
  'CheckEndSessions',
  'EndSessionsStatus',
  'EndSessionsStuck',
  'SessionsNotEnded',
  'RevokeOutcome',
  'Revoked',
  'RequestClosed',
];

function longestPathSeconds(): { total: number; perExtensionSeconds: number } {
  const grantPolls = pollBound('GrantStatus');
  const revokePolls = pollBound('RevokeStatus');
  let total = 0;
  total += taskSeconds('AdmitValidation') + MAX_ADMISSION_WAIT_SECONDS;
  total += taskSeconds('Validate') + MAX_ADMISSION_WAIT_SECONDS; // then the approval channel's slot
  total += callbackSeconds('AwaitApproval', MAX_POLICY_SECONDS);
  // The start may be as far ahead as any rule allows (counted, generously, after the approval).
  total += taskSeconds('AdmitGrant') + MAX_START_DAYS_AHEAD * 86_400;
  // A grant throttled anyway is admitted again (IdentityCenterBusy), each round waiting its slot.
  total += grantRounds() * (taskSeconds('AdmitGrant') + MAX_ADMISSION_WAIT_SECONDS + taskSeconds('Grant'));
  total += grantPolls * ((state('WaitForGrant').Seconds ?? 0) + taskSeconds('CheckGrant'));
  total += callbackSeconds('AccessWindow', MAX_POLICY_SECONDS);
  total += taskSeconds('Revoke');
  total += revokePolls * ((state('WaitForRevoke').Seconds ?? 0) + taskSeconds('CheckRevoke'));
  total += taskSeconds('EndSessions');
  total +=
    pollBound('EndSessionsStatus') *
    ((state('WaitForEndSessions').Seconds ?? 0) + taskSeconds('CheckEndSessions'));
  total += taskSeconds('SessionsNotEnded');
  total += taskSeconds('Revoked');
  // An extension: ExtendWindow plans an absolute end (its own retries come out of the window), but
  // a retried AccessWindow restarts its timer, and the window lasts at least 1 s more.
  const perExtensionSeconds = callbackSeconds('AccessWindow', 1);
  return { total, perExtensionSeconds };
}

describe('the execution timeout', () => {
  it('follows a real path through the definition', () => {
    for (let i = 0; i + 1 < LONGEST_PATH.length; i++) {
      const [from, to] = [LONGEST_PATH[i] ?? '', LONGEST_PATH[i + 1] ?? ''];
      expect({ from, to: successors(from).includes(to) ? to : successors(from) }).toEqual({ from, to });
    }
    // The callbacks wait as long as the policy lets them, through these paths.
    expect(state('AwaitApproval').TimeoutSecondsPath).toBe('$.validation.approvalTimeoutSeconds');
    expect(state('WaitForStart')).toMatchObject({ Type: 'Wait', TimestampPath: '$.validation.startAt' });
    expect(state('AccessWindow').TimeoutSecondsPath).toBe('$.grant.window.seconds');
    // Every Finish has the budget counted for `Revoked`.
    const finishes = Object.entries(states).filter(
      // biome-ignore lint/suspicious/noTemplateCurlyInString: the ASL's own substitution placeholder
      ([, s]) => s.Parameters?.FunctionName === '${FinishFunctionArn}',
    );
    expect(finishes.length).toBeGreaterThanOrEqual(5);
    for (const [name] of finishes) expect(taskSeconds(name)).toBeLessThanOrEqual(taskSeconds('Revoked'));
  });

  it('counts every round of a grant Identity Center throttled', () => {
    expect(grantRounds()).toBe(4);
    // Each round goes back through AdmitGrant with one more; the last goes to the revoke path.
    expect(successors('GrantRoundsLeft')).toEqual(['RevokeAfterFailure', 'NextGrantRound']);
    expect(state('NextGrantRound').Next).toBe('AdmitGrant');
    expect(JSON.stringify(state('NextGrantRound'))).toContain('States.MathAdd($.validation.grantRound.n, 1)');
  });

  it('covers the longest path the policy allows, with every retry and poll', () => {
    const { total } = longestPathSeconds();
    expect(total).toBeGreaterThan(2 * MAX_POLICY_SECONDS);
    expect(definition.TimeoutSeconds).toBeGreaterThanOrEqual(total);
  });

  it('leaves room for hundreds of extensions whose AccessWindow callback was retried to its limit', () => {
    const { total, perExtensionSeconds } = longestPathSeconds();
    const extensionsCovered = Math.floor((definition.TimeoutSeconds - total) / perExtensionSeconds);
    expect(extensionsCovered).toBeGreaterThanOrEqual(500);
  });

  it('stays within what Step Functions Standard allows (one year)', () => {
    expect(definition.TimeoutSeconds).toBeLessThanOrEqual(365 * 24 * 3600);
  });
});
