import './lib/env';
import { type SectionResult, usd } from './lib/report';
import { benchUser, requestStore, startStack } from './lib/stack';
import { summarize } from './lib/stats';

// 5. Throughput under AWS quotas: N requests submitted at once (StartExecution through the
// product's Step Functions adapter), each for its own Identity Center user so each is its own
// assignment; the Identity Center stand-in enforces its quotas (token bucket ≈ 20 calls per
// second shared by sso-admin and identitystore, 10 creations in flight, 1 s provisioning).
//
// Time is the stand-in's model clock (see bench/lib/stack.ts): with timeScale 3, one model
// second lasts 333 real ms for every part of the model (quota refill, provisioning, the
// workflow's Waits, Retry backoffs, the window), while the product's own processing runs at
// real speed. Every figure here is in model seconds, comparable with AWS seconds.

export const IDENTITY_CENTER_QUOTA = {
  callsPerSecond: 20,
  burst: 20,
  creationsInFlight: 10,
  provisioningSeconds: 1,
};
/** Concurrent callers that submit the burst (see runThroughput). */
const SUBMITTERS = 50;
/** Fewest Identity Center calls a request can make: GetUserId, ListAccountAssignments, Create, Describe (grant); Delete, Describe (revoke). */
export const MIN_CALLS = { grant: 4, revoke: 2 };

export interface ThroughputOptions {
  quick: boolean;
  requests?: number;
  /** Model seconds per real second (1 = real time). */
  timeScale?: number;
  windowMinutes?: number;
}

export interface ThroughputFloor {
  /** Seconds until the last grant can be confirmed: every grant's calls through the bucket. */
  allGrantedSeconds: number;
  /** Seconds until the last revoke can be confirmed: every call of every request through the bucket. */
  allRevokedSeconds: number;
  explanation: string;
}

/**
 * The theoretical floor the quota sets. Calls drain a token bucket of `burst` tokens refilled at
 * `callsPerSecond`, so C calls need at least (C − burst) / rate seconds. Each grant needs at least
 * 4 calls and each revoke 2; creations are also capped at 10 in flight for ≥ 1 s each
 * (≤ 10 creations/s), which binds only if fewer than 2 calls per creation hit the bucket.
 */
export function throughputFloor(requests: number, windowSeconds: number): ThroughputFloor {
  const q = IDENTITY_CENTER_QUOTA;
  const bucketSeconds = (calls: number) => Math.max(0, calls - q.burst) / q.callsPerSecond;
  const creationSeconds = (requests / q.creationsInFlight) * q.provisioningSeconds;
  const allGranted = Math.max(bucketSeconds(MIN_CALLS.grant * requests), creationSeconds);
  // All revokes confirmed: every call through the bucket, and no earlier than the last window's end.
  const allRevoked = Math.max(
    bucketSeconds((MIN_CALLS.grant + MIN_CALLS.revoke) * requests),
    allGranted + windowSeconds + q.provisioningSeconds,
  );
  return {
    allGrantedSeconds: allGranted,
    allRevokedSeconds: allRevoked,
    explanation:
      `${requests} grants x ${MIN_CALLS.grant} calls (GetUserId, List, Create, Describe) at ${q.callsPerSecond}/s ` +
      `after a burst of ${q.burst} = ${bucketSeconds(MIN_CALLS.grant * requests).toFixed(0)} s ` +
      `(the 10-in-flight creation limit alone allows ${creationSeconds.toFixed(0)} s); ` +
      `all ${requests} x ${MIN_CALLS.grant + MIN_CALLS.revoke} calls = ` +
      `${bucketSeconds((MIN_CALLS.grant + MIN_CALLS.revoke) * requests).toFixed(0)} s`,
  };
}

export async function runThroughput(options: ThroughputOptions): Promise<SectionResult> {
  const started = Date.now();
  const requests = options.requests ?? (options.quick ? 50 : 1000);
  const timeScale = options.timeScale ?? (options.quick ? 6 : 3);
  const windowMinutes = options.windowMinutes ?? 1;
  const msPerSecond = 1000 / timeScale;
  const stack = await startStack({
    msPerSecond,
    productOnModelClock: true,
    slackRateLimits: true,
    users: requests,
    identityCenter: {
      requestsPerSecond: IDENTITY_CENTER_QUOTA.callsPerSecond,
      burst: IDENTITY_CENTER_QUOTA.burst,
      maxCreationsInFlight: IDENTITY_CENTER_QUOTA.creationsInFlight,
      provisioningDelayMs: IDENTITY_CENTER_QUOTA.provisioningSeconds * 1000,
    },
  });
  const toModelSeconds = (realMs: number) => realMs / msPerSecond;
  try {
    const ids = Array.from({ length: requests }, (_, i) => `req-tp-${i + 1}-${Date.now().toString(36)}`);
    const t0 = Date.now();
    const modelT0 = stack.clock.now();
    // History timestamps are model time (productOnModelClock): model ms since the burst began.
    const sinceStart = (at: Date) => at.getTime() - modelT0;
    // In production each StartExecution comes from its own Slack function invocation; one
    // process opening a thousand sockets at once would miss the SFN client's connect timeout, so
    // the burst is submitted by SUBMITTERS concurrent callers (all of it within seconds).
    const submitted: PromiseSettledResult<string>[] = new Array(requests);
    let next = 0;
    await Promise.all(
      Array.from({ length: SUBMITTERS }, async () => {
        for (let i = next++; i < requests; i = next++) {
          const [result] = await Promise.allSettled([
            stack.submit({ requestId: ids[i] ?? '', durationMinutes: windowMinutes }, benchUser(i + 1)),
          ]);
          submitted[i] = result as PromiseSettledResult<string>;
        }
      }),
    );
    const submittedAt = Date.now();
    // Each started execution with its own request id (a refused submission drops out of both).
    const executions = submitted.flatMap((s, i) =>
      s.status === 'fulfilled' ? [{ arn: s.value, id: ids[i] ?? '' }] : [],
    );
    const arns = executions.map((s) => s.arn);
    const rejectedSubmissions = submitted.length - arns.length;
    const submitErrors = submitted.flatMap((s) =>
      s.status === 'rejected' ? [String(s.reason).slice(0, 80)] : [],
    );
    await Promise.all(arns.map((arn) => stack.host.waitForExecution(arn)));
    const finishedAt = Date.now();

    let lost = rejectedSubmissions;
    let lastGranted = 0;
    let lastRevoked = 0;
    const transitions: number[] = [];
    const retries: number[] = [];
    const grantedAfter: number[] = [];
    const lostReasons: Record<string, number> = {};
    const retriesByState: Record<string, number> = {};
    if (submitErrors.length) lostReasons[`submission refused: ${submitErrors[0]}`] = submitErrors.length;
    for (const { arn, id } of executions) {
      const description = stack.host.describeExecution(arn);
      const history = stack.host.history(arn);
      const granted = history.find((e) => e.type === 'StateEntered' && e.stateName === 'AccessWindow');
      const revoked = history.find((e) => e.type === 'StateEntered' && e.stateName === 'RevokeOutcome');
      const status = (await requestStore().getRequest(id))?.status;
      transitions.push(stack.host.transitionCount(arn));
      const retried = history.filter((e) => e.type === 'StateRetried');
      retries.push(retried.length);
      for (const e of retried)
        retriesByState[e.stateName ?? '?'] = (retriesByState[e.stateName ?? '?'] ?? 0) + 1;
      if (description.status !== 'SUCCEEDED' || status !== 'REVOKED' || !granted || !revoked) {
        lost += 1;
        // The error the workflow caught on its way to the failure path, e.g. Grant's retries exhausted.
        const caughtAt = history.findIndex(
          (e) =>
            e.type === 'StateEntered' &&
            (e.stateName === 'RevokeAfterFailure' || e.stateName === 'ValidationFailedNotify'),
        );
        const caught = history[caughtAt];
        const caughtError = (caught?.input as { error?: { Error?: string } } | undefined)?.error?.Error;
        // The Task whose Catch sent it there: the last state entered before.
        const caughtIn = history
          .slice(0, Math.max(0, caughtAt))
          .filter((e) => e.type === 'StateEntered')
          .at(-1)?.stateName;
        const failedState = history.filter((e) => e.type === 'StateFailed' || e.error).at(-1)?.stateName;
        const where = caughtError ? `${caughtError} in ${caughtIn ?? '?'}` : (failedState ?? '-');
        const reason = `${description.status}/${status ?? 'no record'}/${description.error ?? '-'}/${where}`;
        lostReasons[reason] = (lostReasons[reason] ?? 0) + 1;
        continue;
      }
      grantedAfter.push(sinceStart(granted.timestamp) / 1000);
      lastGranted = Math.max(lastGranted, sinceStart(granted.timestamp) / 1000);
      lastRevoked = Math.max(lastRevoked, sinceStart(revoked.timestamp) / 1000);
    }
    const counters = stack.identityCenter.standIn.counters();
    const leaked = stack.identityCenter.standIn.listAssignments().length;
    const floor = throughputFloor(requests, windowMinutes * 60);
    const grantedSeconds = lastGranted;
    const revokedSeconds = lastRevoked;
    const grantRatio = grantedSeconds / floor.allGrantedSeconds;
    const revokeRatio = revokedSeconds / floor.allRevokedSeconds;
    const transitionSummary = summarize(transitions);
    const meanTransitions = transitionSummary.mean;
    const grantedP50 = summarize(grantedAfter).p50;
    return {
      id: 'throughput',
      title: 'Throughput under quotas',
      rows: [
        {
          measure: `${requests} at once: all granted (median)`,
          result: `${grantedSeconds.toFixed(0)} s (${grantedP50.toFixed(0)} s); floor ${floor.allGrantedSeconds.toFixed(0)} s; ratio ${grantRatio.toFixed(2)}`,
          status: 'INFO',
        },
        {
          measure: `${requests} at once: all revoked`,
          result: `${revokedSeconds.toFixed(0)} s; floor ${floor.allRevokedSeconds.toFixed(0)} s; ratio ${revokeRatio.toFixed(2)}`,
          status: 'INFO',
        },
        {
          // How much of the quota the burst used while it lasted: calls Identity Center answered
          // (every List page, every revoke) per second of the burst, against its 20/s.
          measure: 'Identity Center calls answered / quota used while the burst lasted',
          result: `${counters.calls - counters.errors} calls in ${revokedSeconds.toFixed(0)} s = ${((counters.calls - counters.errors) / revokedSeconds).toFixed(1)}/s of ${IDENTITY_CENTER_QUOTA.callsPerSecond}/s`,
          status: 'INFO',
        },
        {
          measure: 'throttling answers absorbed / Step Functions retries',
          result: `${counters.throttled} / ${retries.reduce((a, b) => a + b, 0)} (peak ${counters.peakCreationsInFlight} creations in flight)`,
          status: 'INFO',
        },
        {
          measure: 'requests lost / assignments left behind',
          result: `${lost} / ${leaked}`,
          target: '0 / 0',
          status: lost === 0 && leaked === 0 ? 'PASS' : 'MISS',
        },
        ...(lost > 0
          ? [
              {
                // execution status / request record / execution error / error caught on the way
                measure: 'lost requests by cause (count)',
                result: Object.entries(lostReasons)
                  .sort((a, b) => b[1] - a[1])
                  .map(([reason, count]) => `${reason} (${count})`)
                  .join('; '),
                status: 'INFO' as const,
              },
            ]
          : []),
        {
          measure: 'transitions per request under load (mean / max)',
          result: `${meanTransitions.toFixed(1)} / ${transitionSummary.max} = ${usd(meanTransitions * 0.000025)} mean`,
          status: 'INFO',
        },
      ],
      details: {
        requests,
        timeScale,
        msPerSecond,
        windowMinutes,
        submitSeconds: toModelSeconds(submittedAt - t0),
        retriesByState,
        throttledByOperation: stack.identityCenter.standIn
          .operationLog()
          .filter((e) => e.outcome === 'ThrottlingException')
          .reduce<Record<string, number>>((by, e) => {
            by[e.operation] = (by[e.operation] ?? 0) + 1;
            return by;
          }, {}),
        realDurationSeconds: (finishedAt - t0) / 1000,
        allGrantedSeconds: grantedSeconds,
        grantedP50Seconds: grantedP50,
        allRevokedSeconds: revokedSeconds,
        floor,
        grantRatio,
        revokeRatio,
        lost,
        lostReasons,
        leakedAssignments: leaked,
        identityCenter: counters,
        identityCenterCallsPerRequest: counters.calls / requests,
        transitions: transitionSummary,
        stepFunctionsRetries: summarize(retries),
      },
      notes: [
        `Throughput: ${requests} auto-approved ${windowMinutes}-minute requests started at once; time scale ${timeScale} (1 model second = ${msPerSecond.toFixed(0)} real ms for quotas, provisioning, Waits, Retry backoff and windows; the product's processing is not scaled); figures in model seconds. Floor: ${floor.explanation}.`,
      ],
      durationMs: Date.now() - started,
    };
  } finally {
    await stack.close();
  }
}
