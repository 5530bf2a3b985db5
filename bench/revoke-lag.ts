import './lib/env';
import { check, ms, type SectionResult } from './lib/report';
import { benchUser, type Stack, startStack } from './lib/stack';
import { sleep, summarize } from './lib/stats';

// 4. Revoke lag: from the moment a window is scheduled to end to the moment
// DeleteAccountAssignment reaches the Identity Center stand-in, over many short windows.
//
// The path measured is the product's real timer path: the AccessWindow callback task times out
// (its timeout is the window), the engine catches States.Timeout, enters Revoke, the revoke
// Lambda updates DynamoDB and calls sso-admin. Time is scaled (1 model second = MS_PER_SECOND
// real ms, so a 1-minute window lasts 3 s); the lag itself is the machinery's real time and is
// not scaled. The scheduled end, in real time, is when the grant step planned the window
// (expiresAt − seconds) plus the window's length at the model scale.

const MS_PER_SECOND = 50;
export const REVOKE_LAG_TARGET_MS = 2000;

export interface RevokeLagOptions {
  quick: boolean;
  grants?: number;
  /** Real ms between two submissions (5 per second keeps Identity Center well under its quota). */
  spacingMs?: number;
}

interface GrantLag {
  requestId: string;
  /** Scheduled end → DeleteAccountAssignment at the stand-in. */
  lagMs: number;
  /** Grant planned the window → AccessWindow task (its timer) started. */
  timerStartDelayMs: number;
  /** Timer due → Revoke state entered. */
  timerToRevokeMs: number;
  /** Revoke state entered → DeleteAccountAssignment at the stand-in. */
  revokeToDeleteMs: number;
}

export async function runRevokeLag(options: RevokeLagOptions): Promise<SectionResult> {
  const started = Date.now();
  const grants = options.grants ?? (options.quick ? 10 : 100);
  const spacingMs = options.spacingMs ?? 200;
  const stack = await startStack({ msPerSecond: MS_PER_SECOND, users: grants });
  const lags: GrantLag[] = [];
  const failures: string[] = [];
  try {
    const executions: Array<{ requestId: string; index: number; arn: string }> = [];
    for (let index = 1; index <= grants; index++) {
      const requestId = `req-lag-${index}-${Date.now().toString(36)}`;
      executions.push({ requestId, index, arn: await stack.submit({ requestId }, benchUser(index)) });
      await sleep(spacingMs);
    }
    await Promise.all(executions.map((e) => stack.host.waitForExecution(e.arn)));
    const principals = new Map(stack.identityCenter.standIn.users().map((u) => [u.email, u.userId]));
    const deletes = stack.identityCenter.standIn
      .operationLog()
      .filter((entry) => entry.operation === 'DeleteAccountAssignment');
    for (const execution of executions) {
      const lag = measure(stack, execution, principals.get(benchUser(execution.index).email), deletes);
      if (typeof lag === 'string') failures.push(`${execution.requestId}: ${lag}`);
      else lags.push(lag);
    }
  } finally {
    await stack.close();
  }

  const lag = summarize(lags.map((l) => l.lagMs));
  const parts = {
    timerStartDelay: summarize(lags.map((l) => l.timerStartDelayMs)),
    timerToRevoke: summarize(lags.map((l) => l.timerToRevokeMs)),
    revokeToDelete: summarize(lags.map((l) => l.revokeToDeleteMs)),
  };
  const complete = failures.length === 0;
  return {
    id: 'revoke-lag',
    title: 'Revoke lag',
    rows: [
      {
        measure: `window end -> DeleteAccountAssignment, ${lags.length} grants`,
        result: `p50 ${ms(lag.p50)}, p95 ${ms(lag.p95)}, p99 ${ms(lag.p99)}, max ${ms(lag.max)}`,
        target: `p99 < ${REVOKE_LAG_TARGET_MS} ms`,
        status: complete ? check(lag.p99, '<', REVOKE_LAG_TARGET_MS) : 'FAIL',
      },
      {
        measure: 'p99 parts: timer start / timer -> Revoke / Revoke -> Delete',
        result: `${ms(parts.timerStartDelay.p99)} / ${ms(parts.timerToRevoke.p99)} / ${ms(parts.revokeToDelete.p99)}`,
        status: 'INFO',
      },
    ],
    details: { msPerSecond: MS_PER_SECOND, grants, spacingMs, lag, parts, failures, samples: lags },
    notes: [
      `Revoke lag: ${grants} auto-approved 1-minute windows, one every ${spacingMs} ms; 1 model second = ${MS_PER_SECOND} real ms (a window lasts ${(60 * MS_PER_SECOND) / 1000} s); the lag is real, unscaled time; Identity Center stand-in at AWS quotas on the model clock, no added latency.`,
    ],
    durationMs: Date.now() - started,
  };
}

function measure(
  stack: Stack,
  execution: { requestId: string; arn: string },
  principalId: string | undefined,
  deletes: ReturnType<Stack['identityCenter']['standIn']['operationLog']>,
): GrantLag | string {
  const description = stack.host.describeExecution(execution.arn);
  if (description.status !== 'SUCCEEDED') return `execution ${description.status} ${description.error ?? ''}`;
  const history = stack.host.history(execution.arn);
  const windowEntered = history.find((e) => e.type === 'StateEntered' && e.stateName === 'AccessWindow');
  const revokeEntered = history.find((e) => e.type === 'StateEntered' && e.stateName === 'Revoke');
  const expired = history.find((e) => e.type === 'StateEntered' && e.stateName === 'WindowExpired');
  if (!windowEntered || !revokeEntered || !expired) return 'the window did not expire on its timer';
  const window = (windowEntered.input as { grant?: { window?: { expiresAt?: string; seconds?: number } } })
    .grant?.window;
  if (!window?.expiresAt || !window.seconds) return 'no window in the AccessWindow input';
  const planned = Date.parse(window.expiresAt) - window.seconds * 1000;
  const scheduledEnd = planned + window.seconds * MS_PER_SECOND;
  const timerDue = windowEntered.timestamp.getTime() + window.seconds * MS_PER_SECOND;
  const deletion = deletes.find(
    (entry) => (entry.params as { PrincipalId?: string } | undefined)?.PrincipalId === principalId,
  );
  if (!deletion) return 'no DeleteAccountAssignment reached Identity Center';
  const deleteAt = stack.clock.toReal(deletion.at);
  return {
    requestId: execution.requestId,
    lagMs: deleteAt - scheduledEnd,
    timerStartDelayMs: windowEntered.timestamp.getTime() - planned,
    timerToRevokeMs: revokeEntered.timestamp.getTime() - timerDue,
    revokeToDeleteMs: deleteAt - revokeEntered.timestamp.getTime(),
  };
}
