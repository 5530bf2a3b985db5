import './lib/env';
import { check, ms, type SectionResult, usd } from './lib/report';
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
const SUBMITTERS = 20;
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
  /**
   * The same floors counting every ListAccountAssignments page the grants must read: each grant's
   * pre-existing check lists every principal already assigned on the account and permission set
   * (100 per page), and in this workload all of them share one.
   */
  withListPages: { pages: number; allGrantedSeconds: number; allRevokedSeconds: number };
  explanation: string;
}

/**
 * ListAccountAssignments pages (100 principals each, at least one) the grants read at the least:
 * grant i finds the earlier grants' assignments, less the 10 that may still be in flight and,
 * when the grants complete evenly over [0, allGrantedSeconds], less those whose windows have
 * already ended (a revoked assignment is no longer listed).
 */
export function listPages(
  requests: number,
  allGrantedSeconds = 0,
  windowSeconds = Number.POSITIVE_INFINITY,
): number {
  const inFlight = IDENTITY_CENTER_QUOTA.creationsInFlight;
  let pages = 0;
  for (let i = 0; i < requests; i++) {
    const at = allGrantedSeconds > 0 ? (i / requests) * allGrantedSeconds : 0;
    const revoked =
      at > windowSeconds ? Math.floor((requests * (at - windowSeconds)) / allGrantedSeconds) : 0;
    pages += Math.max(1, Math.ceil((i - revoked - inFlight) / 100));
  }
  return pages;
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
  const floors = (grantCallsBy: (allGranted: number) => number) => {
    // Windows shorter than the burst end during it, and their revokes share the bucket: at the
    // floor's pace grants complete evenly over [0, T], so those granted before T − window are
    // revoked before T. The floor is the smallest T by which the calls needed fit the bucket; the
    // grant calls may depend on T (fewer List pages once windows end), which makes them step, so
    // T is found by scanning up from a lower bound and then bisecting the last step.
    const needed = (t: number) =>
      Math.max(
        bucketSeconds(grantCallsBy(t) + (MIN_CALLS.revoke * requests * Math.max(0, t - windowSeconds)) / t),
        creationSeconds,
      );
    const step = 1;
    let high = Math.max(step, Math.min(bucketSeconds(MIN_CALLS.grant * requests), creationSeconds));
    while (needed(high) > high) high += step;
    let low = high - step;
    for (let round = 0; round < 40; round++) {
      const mid = (low + high) / 2;
      if (needed(mid) > mid) low = mid;
      else high = mid;
    }
    const allGranted = high;
    // All revokes confirmed: every call through the bucket, and no earlier than the last window's end.
    const allRevoked = Math.max(
      bucketSeconds(grantCallsBy(allGranted) + MIN_CALLS.revoke * requests),
      allGranted + windowSeconds + q.provisioningSeconds,
    );
    return { allGranted, allRevoked };
  };
  const minimal = floors(() => MIN_CALLS.grant * requests);
  const paged = floors((t) => (MIN_CALLS.grant - 1) * requests + listPages(requests, t, windowSeconds));
  const pages = listPages(requests, paged.allGranted, windowSeconds);
  return {
    allGrantedSeconds: minimal.allGranted,
    allRevokedSeconds: minimal.allRevoked,
    withListPages: { pages, allGrantedSeconds: paged.allGranted, allRevokedSeconds: paged.allRevoked },
    explanation:
      `${requests} grants x ${MIN_CALLS.grant} calls (GetUserId, List, Create, Describe) at ${q.callsPerSecond}/s ` +
      `after a burst of ${q.burst} = ${bucketSeconds(MIN_CALLS.grant * requests).toFixed(0)} s ` +
      `(the 10-in-flight creation limit alone allows ${creationSeconds.toFixed(0)} s); ` +
      `all ${requests} x ${MIN_CALLS.grant + MIN_CALLS.revoke} calls = ` +
      `${bucketSeconds((MIN_CALLS.grant + MIN_CALLS.revoke) * requests).toFixed(0)} s. ` +
      `With the List pages the pre-existing check must read as the ${requests} assignments accumulate on one ` +
      `account and permission set, less those whose windows have ended (${pages} pages instead of ${requests}): ` +
      `${paged.allGranted.toFixed(0)} s granted, ${paged.allRevoked.toFixed(0)} s revoked; windows of ` +
      `${windowSeconds} s that end during the burst put their revokes in the same bucket`,
  };
}

/** Did AdmitGrant refuse this execution (AdmissionRefused caught on its way to the revoke path)? */
function refusedAtAdmission(history: Array<{ type: string; stateName?: string; input?: unknown }>): boolean {
  return history.some(
    (e) =>
      e.type === 'StateEntered' &&
      e.stateName === 'RevokeAfterFailure' &&
      (e.input as { error?: { Error?: string } } | undefined)?.error?.Error === 'AdmissionRefused',
  );
}

export async function runThroughput(options: ThroughputOptions): Promise<SectionResult> {
  const started = Date.now();
  const requests = options.requests ?? (options.quick ? 50 : 1000);
  // Real time by default: at 3x, a thousand executions on two cores stretch the local machinery
  // three times in model terms and its own calls time out (docs/BENCHMARKS.md, section 5).
  const timeScale = options.timeScale ?? (options.quick ? 6 : 1);
  // Five minutes: hundreds of windows are open at once, and the first end while the last grants
  // still queue, so revokes compete with grants as in a real burst; the smoke test keeps one.
  const windowMinutes = options.windowMinutes ?? (options.quick ? 1 : 5);
  const msPerSecond = 1000 / timeScale;
  const stack = await startStack({
    msPerSecond,
    productOnModelClock: true,
    slackRateLimits: true,
    // DynamoDB and the invoked functions on the other core: one process running a thousand
    // executions, their workers and the stand-ins would time out its own calls.
    separateDynamo: true,
    separateLambda: true,
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
    let refused = 0;
    let lastGranted = 0;
    let lastRevoked = 0;
    const transitions: number[] = [];
    const retries: number[] = [];
    const grantedAfter: number[] = [];
    const lostReasons: Record<string, number> = {};
    const retriesByState: Record<string, number> = {};
    // Grants Identity Center throttled anyway and sent back through AdmitGrant (NextGrantRound).
    let readmissions = 0;
    let readmitted = 0;
    // Revoke lag under load: each window's planned end (expiresAt, model time) to its
    // first DeleteAccountAssignment the stand-in accepted; and how many windows were open at once.
    const principals = new Map(stack.identityCenter.standIn.users().map((u) => [u.email, u.userId]));
    const deletions = new Map<string, number>();
    for (const entry of stack.identityCenter.standIn.operationLog())
      if (entry.operation === 'DeleteAccountAssignment' && entry.outcome === 'ok') {
        const principal = (entry.params as { PrincipalId?: string } | undefined)?.PrincipalId ?? '';
        if (!deletions.has(principal)) deletions.set(principal, entry.at);
      }
    const revokeLagsMs: number[] = [];
    // Its two parts: window end -> Revoke entered (the timer and the engine), Revoke -> Delete (the step).
    const toRevokeMs: number[] = [];
    const revokeToDeleteMs: number[] = [];
    const windowEdges: Array<[number, number]> = [];
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
      const rounds = history.filter(
        (e) => e.type === 'StateEntered' && e.stateName === 'NextGrantRound',
      ).length;
      readmissions += rounds;
      if (rounds > 0) readmitted += 1;
      for (const e of retried)
        retriesByState[e.stateName ?? '?'] = (retriesByState[e.stateName ?? '?'] ?? 0) + 1;
      if (description.status !== 'SUCCEEDED' || status !== 'REVOKED' || !granted || !revoked) {
        if (refusedAtAdmission(history) && status === 'GRANT_FAILED') {
          // Not lost: it could not start within admission.maxWait, and its requester was told so.
          refused += 1;
          continue;
        }
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
      const window = (granted.input as { grant?: { window?: { expiresAt?: string } } }).grant?.window;
      const deletedAt = deletions.get(principals.get(benchUser(ids.indexOf(id) + 1).email) ?? '');
      const expired = history.find((e) => e.type === 'StateEntered' && e.stateName === 'WindowExpired');
      if (window?.expiresAt && deletedAt !== undefined && expired) {
        // Model ms → real ms: the machinery's lag is real time, stretched by the model clock.
        const lagMs = ((deletedAt - Date.parse(window.expiresAt)) * msPerSecond) / 1000;
        revokeLagsMs.push(lagMs);
        const revokeEntered = history.find((e) => e.type === 'StateEntered' && e.stateName === 'Revoke');
        if (revokeEntered) {
          const stepMs = stack.clock.toReal(deletedAt) - revokeEntered.timestamp.getTime();
          revokeToDeleteMs.push(stepMs);
          toRevokeMs.push(lagMs - stepMs);
        }
        windowEdges.push([granted.timestamp.getTime(), 1], [expired.timestamp.getTime(), -1]);
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
    const pagedRatio = grantedSeconds / floor.withListPages.allGrantedSeconds;
    const revokeLag = summarize(revokeLagsMs);
    let open = 0;
    let peakOpenWindows = 0;
    for (const [, delta] of windowEdges.sort((a, b) => a[0] - b[0] || a[1] - b[1])) {
      open += delta;
      peakOpenWindows = Math.max(peakOpenWindows, open);
    }
    return {
      id: 'throughput',
      title: 'Throughput under quotas',
      rows: [
        {
          measure: `${requests} at once: all granted (median)`,
          result: `${grantedSeconds.toFixed(0)} s (${grantedP50.toFixed(0)} s); floor ${floor.allGrantedSeconds.toFixed(0)} s at 4 calls a grant; ratio ${grantRatio.toFixed(2)}`,
          status: 'INFO',
        },
        {
          // The floor this workload allows: every List page the pre-existing checks must read.
          measure: `${requests} at once: all granted / floor with the List pages (${floor.withListPages.pages} pages)`,
          result: `${grantedSeconds.toFixed(0)} s / ${floor.withListPages.allGrantedSeconds.toFixed(0)} s = ${pagedRatio.toFixed(2)}`,
          target: '<= 1.15',
          status: lost === 0 ? check(pagedRatio, '<=', 1.15) : 'MISS',
        },
        {
          measure: `revoke lag with ${peakOpenWindows} windows open at once (window end -> Delete, real ms)`,
          result: `p50 ${ms(revokeLag.p50)}, p99 ${ms(revokeLag.p99)}, max ${ms(revokeLag.max)} over ${revokeLagsMs.length}`,
          target: 'p99 < 250 ms',
          status: revokeLagsMs.length ? check(revokeLag.p99, '<', 250) : 'MISS',
        },
        {
          measure: 'revoke lag p50 / p99 parts: window end -> Revoke entered / Revoke -> Delete',
          result: `${ms(summarize(toRevokeMs).p50)} / ${ms(summarize(revokeToDeleteMs).p50)}; ${ms(summarize(toRevokeMs).p99)} / ${ms(summarize(revokeToDeleteMs).p99)}`,
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
          measure: 'grants throttled anyway and admitted again (executions / rounds)',
          result: `${readmitted} / ${readmissions}`,
          status: 'INFO',
        },
        ...(refused > 0
          ? [
              {
                measure: 'refused at admission, requester told (could not start within admission.maxWait)',
                result: `${refused} of ${requests}`,
                status: 'INFO' as const,
              },
            ]
          : []),
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
        pagedRatio,
        revokeLagMs: revokeLag,
        peakOpenWindows,
        lost,
        refused,
        readmitted,
        readmissions,
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
