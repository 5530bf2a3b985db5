import { AccessError } from './errors';

// Admission control at Identity Center's pace. Identity Center allows about 20 API calls per
// second per account (shared by its APIs) and a burst above that is answered with
// ThrottlingException; retrying blind makes 1,000 executions sleep in exponential backoff while
// the quota goes unused, and some run out of retries. Instead each lifecycle takes a number: it
// reserves the calls its next phase makes on one shared schedule (a DynamoDB item: atomic
// updates, so concurrent executions never get the same slot) and its execution Waits until its
// slot. The schedule hands out `callsPerSecond` calls per second, below the quota so that the
// reconciler, extra polls and administrators keep some room.
//
// Revokes never queue: ending access on time matters more than starting it. A revoke charges its
// calls to the schedule instead, so the grants reserved after it leave it room.

/** Identity Center calls a phase makes in the common case (what it reserves). */
export const PHASE_CALLS = {
  /** Validate: identitystore GetUserId. */
  validate: 1,
  /** Grant: ListAccountAssignments, CreateAccountAssignment; CheckGrant's first Describe. */
  grant: 3,
  /** Revoke: DeleteAccountAssignment; CheckRevoke's first Describe. */
  revoke: 2,
} as const;
export type AdmissionPhase = keyof typeof PHASE_CALLS;

export interface AdmissionSettings {
  /** Calls per second the schedule hands out (Identity Center's quota is about 20). */
  callsPerSecond: number;
  /** The longest a lifecycle queues for a grant before it is refused and its requester told. */
  maxWaitSeconds: number;
}

/**
 * 18 of Identity Center's ~20 calls/s: the rest absorbs what is not paced (a retried step's
 * calls, the reconciler, other tools); revokes are charged when they run, and a grant throttled
 * anyway takes a new number (IdentityCenterBusy). Measured in docs/BENCHMARKS.md.
 */
export const DEFAULT_ADMISSION: AdmissionSettings = { callsPerSecond: 18, maxWaitSeconds: 900 };

/** The shared schedule: when the next call may start, moved forward atomically. */
export interface AdmissionSchedule {
  /**
   * Reserves `durationMs` of schedule at the earliest free point not before `nowMs`, unless that
   * point is after `latestStartMs`; returns the reserved start, or undefined when refused.
   */
  reserve(durationMs: number, nowMs: number, latestStartMs?: number): Promise<number | undefined>;
  /** Adds `delta` to a named counter kept with the schedule; returns its new value. */
  count(name: string, delta: number): Promise<number>;
  /** Raises a named counter to at least `value`. */
  raise(name: string, value: number): Promise<void>;
}

/** Principals per ListAccountAssignments page: the API's most, which the adapter asks for. */
export const PRINCIPALS_PER_PAGE = 100;

/** The counter of grants held on one account and permission set (see Admission.admit). */
export function heldCounter(accountId: string, permissionSetArn: string): string {
  return `held#${accountId}#${permissionSetArn}`;
}

export interface Admitted {
  /** When the phase may start: an RFC 3339 timestamp in whole seconds, for a Wait state. */
  at: string;
  waitSeconds: number;
  /** The Identity Center calls reserved (0 when nothing was): the phase charges only what it makes beyond them. */
  calls: number;
  /** A grant's revoke calls reserved with it (see Admission.admit): that revoke charges only what it makes beyond them. */
  revokeCalls: number;
  /**
   * A scheduled grant whose start is still ahead: nothing was reserved, `at` is the start; the
   * state machine Waits for it (WaitForStart) and is admitted then, at that moment's pace.
   */
  deferred: boolean;
}

export class AdmissionRefused extends AccessError {
  constructor(message: string) {
    super('admission-refused', message);
    this.name = 'AdmissionRefused';
  }
}

/**
 * Identity Center throttled a grant anyway (calls the schedule did not foresee: unreserved
 * revokes, the reconciler, other tools). The state machine sends it back through AdmitGrant for
 * a new number, a bounded number of rounds, instead of retrying blind: blind retries re-read
 * every List page outside any reservation, which feeds the throttling they wait out.
 */
export class IdentityCenterBusy extends AccessError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('identity-center-busy', message, options);
    this.name = 'IdentityCenterBusy';
  }
}

export class Admission {
  constructor(
    private readonly schedule: AdmissionSchedule,
    private readonly settings: AdmissionSettings,
    private readonly now: () => Date,
  ) {}

  /**
   * Reserves a phase's calls; refuses a grant whose slot is further away than maxWaitSeconds. A
   * grant names its account and permission set: its pre-existing check lists every principal
   * assigned there, a page per 100, so it also reserves the pages the grants already held there
   * (admitted and not yet revoked, counted with the schedule) will take. A burst of a thousand on
   * one permission set then reserves the ten pages its last grants read instead of overdrawing
   * Identity Center's quota and retrying blind.
   *
   * A grant whose window is no longer than maxWaitSeconds also reserves its revoke's calls: its
   * window can end while the queue it joined is still being served, and a revoke never queues,
   * so without this its calls would come on top of slots already handed out and overdraw the quota
   * (the revoke would then be throttled, ending access late). A longer window ends after the
   * queue it joined; its revoke charges its calls when it runs (measured: 2,000 at once with
   * 15-minute windows, docs/BENCHMARKS.md).
   *
   * `round` counts a grant's admissions after the first (IdentityCenterBusy): its grant is already
   * counted as held, so a new round only reads the count.
   */
  async admit(
    phase: 'validate' | 'grant',
    pair?: string,
    windowSeconds?: number,
    round = 0,
    startAt?: string,
  ): Promise<Admitted> {
    const nowMs = this.now().getTime();
    // A slot days ahead would hold the schedule for nothing and pass maxWait: reserve at the start.
    const startMs = phase === 'grant' && startAt ? Date.parse(startAt) : Number.NaN;
    if (startMs > nowMs + 1000)
      return {
        at: wholeSeconds(Math.ceil(startMs / 1000) * 1000),
        waitSeconds: Math.round((startMs - nowMs) / 1000),
        calls: 0,
        revokeCalls: 0,
        deferred: true,
      };
    // A validation is never refused: it is bounded by the same wait, then runs unpaced.
    const latest = nowMs + this.settings.maxWaitSeconds * 1000;
    let calls: number = PHASE_CALLS[phase];
    if (phase === 'grant' && pair) {
      // A count that cannot be read only makes the reservation the common case's.
      const held = await this.schedule.count(pair, round > 0 ? 0 : 1).catch(() => 1);
      calls += Math.max(0, Math.ceil(held / PRINCIPALS_PER_PAGE) - 1);
    }
    const revokeCalls =
      phase === 'grant' && windowSeconds !== undefined && windowSeconds <= this.settings.maxWaitSeconds
        ? PHASE_CALLS.revoke
        : 0;
    const start = await this.schedule.reserve(
      ((calls + revokeCalls) * 1000) / this.settings.callsPerSecond,
      nowMs,
      latest,
    );
    if (start === undefined) {
      if (phase === 'validate')
        return { at: wholeSeconds(nowMs), waitSeconds: 0, calls: 0, revokeCalls: 0, deferred: false };
      throw new AdmissionRefused(
        `Identity Center is busy: this grant could not start within ${Math.round(this.settings.maxWaitSeconds / 60)} minutes. Please request again later.`,
      );
    }
    // Rounded up to the second: a Wait timestamp in whole seconds, and the calls of one second
    // (at most callsPerSecond) fit Identity Center's burst.
    const at = Math.ceil(start / 1000) * 1000;
    return {
      at: wholeSeconds(at),
      waitSeconds: Math.max(0, Math.round((at - nowMs) / 1000)),
      calls,
      revokeCalls,
      deferred: false,
    };
  }

  /**
   * Calls charged without waiting: a revoke's (pacing never delays a revoke), or what a phase
   * made beyond its reservation (a long ListAccountAssignments takes a page per 100 principals).
   */
  async charge(calls: number): Promise<void> {
    if (calls <= 0) return;
    await this.schedule.reserve((calls * 1000) / this.settings.callsPerSecond, this.now().getTime());
  }

  /**
   * What a grant's pre-existing check saw: `principals` assigned on the pair besides its own. The
   * count of grants held there is raised to it (assignments made outside the product, a count
   * that drifted low), never lowered: admissions still queued count too.
   */
  async observe(pair: string, principals: number): Promise<void> {
    await this.schedule.raise(pair, principals + 1);
  }

  /** A revoke deleted its assignment: one grant fewer held on the pair. */
  async release(pair: string): Promise<void> {
    await this.schedule.count(pair, -1);
  }
}

/**
 * Slack allows about one chat.postMessage per second per channel ("Rate limits" in Slack's API
 * docs: "generally allows apps to post one message per second to a channel, with short bursts").
 */
export const CHANNEL_POSTS_PER_SECOND = 1;

/**
 * Approval posts to a busy channel take numbers too: a burst of requests for one approval channel
 * is posted one a second instead of answered with 429s until the step's retries run out.
 */
export class ChannelPacing {
  constructor(
    private readonly scheduleOf: (channel: string) => AdmissionSchedule,
    private readonly maxWaitSeconds: number,
    private readonly now: () => Date,
  ) {}

  /**
   * When the approval message may be posted in `channel`: a whole-second RFC 3339 timestamp for a
   * Wait state, or null to post at once (its slot is now; or the channel is busier than
   * maxWait, or the schedule cannot be read, and Slack's own refusals and the step's retries pace it).
   */
  async slotFor(channel: string): Promise<string | null> {
    const nowMs = this.now().getTime();
    let start: number | undefined;
    try {
      start = await this.scheduleOf(channel).reserve(
        1000 / CHANNEL_POSTS_PER_SECOND,
        nowMs,
        nowMs + this.maxWaitSeconds * 1000,
      );
    } catch {
      return null;
    }
    if (start === undefined) return null;
    const at = Math.ceil(start / 1000) * 1000;
    return at - nowMs >= 1000 ? wholeSeconds(at) : null;
  }
}

function wholeSeconds(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 19)}Z`;
}
