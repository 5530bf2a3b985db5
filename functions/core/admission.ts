import { createHash } from 'node:crypto';
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
// calls to the schedule instead, so the grants reserved after it leave it room; or, for a window
// no longer than maxWait, its grant forecasts when it will run (the revoke calendar, see
// Admission.admit) and the reservation that spans that second leaves it room.

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

/** Windows forecast to end in one second: their revokes will run then (see Admission.admit). */
export interface WindowEnd {
  /** The account and permission set, as `pairTag` names it. */
  pair: string;
  /** The second (Unix epoch) the windows end in. */
  second: number;
  /** How many windows. */
  count: number;
}

/** What a grant's admission reads before reserving. */
export interface ScheduleView {
  /** When the next reserved call may start (undefined: never used). */
  nextFreeMs?: number;
  /** The revoke calendar: windows admitted here whose ends were forecast. */
  ends: WindowEnd[];
}

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
  /** The schedule as it stands (a consistent read). */
  view(): Promise<ScheduleView>;
  /** Adds `end` to the revoke calendar (its count to what is there) and forgets `past` entries. */
  forecastEnd(end: WindowEnd, past: WindowEnd[]): Promise<void>;
}

/** The short name of an account and permission set in the revoke calendar (a held counter's name, hashed). */
export function pairTag(pair: string): string {
  return createHash('sha256').update(pair).digest('hex').slice(0, 12);
}

/**
 * When a window opens after its grant's slot: the grant's calls, then CheckGrant after the
 * definition's 2-second WaitForGrant (a creation takes about a second). Its revoke's calls come
 * the same way: DeleteAccountAssignment when the window ends, CheckRevoke's Describe 2 seconds
 * later (WaitForRevoke). A forecast off by a second or two costs tokens of Identity Center's
 * bucket, not a throttle; off by more, the room is made where nothing uses it.
 */
const WINDOW_OPENS_AFTER_SECONDS = 2;
const REVOKE_POLL_AFTER_SECONDS = 2;

/** How long a calendar entry is kept after its second: its revoke has run, its held grant been counted out. */
const CALENDAR_KEPT_MS = 60_000;
/** Past entries forgotten per write (a write's expression stays small). */
const FORGOTTEN_PER_WRITE = 40;

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
   * assigned there, a page per 100, so it also reserves the pages the grants held there will
   * take when it lists (admitted and not yet revoked, counted with the schedule, less the windows
   * the calendar forecasts to have ended by its slot). A burst of a thousand on one permission
   * set then reserves the pages its last grants read instead of overdrawing Identity Center's
   * quota and retrying blind.
   *
   * The revoke calendar: a grant whose window is no longer than maxWaitSeconds forecasts the
   * second its window ends (its slot plus the window: the earliest its revoke can run), and every
   * grant reserves, on top of its own calls, the forecast revokes' calls inside the span it
   * takes. A revoke never queues, and its window can end while the queue it joined is still being
   * served: without room made for it, its calls would come on top of slots already handed out and
   * overdraw the quota (the revoke then throttled, ending access late). Made where it runs, not
   * with its grant, the room is not taken by revokes that run after the queue has drained (about
   * half of a burst's). A revoke that runs a little later than forecast finds the room as unused
   * tokens in Identity Center's bucket. A longer window ends after the queue it joined; its
   * revoke charges its calls when it runs (measured: 2,000 at once with 15-minute windows,
   * docs/BENCHMARKS.md). Spans of validations do not read the calendar: their revokes' room is
   * the 2 calls/s below the quota.
   *
   * `round` counts a grant's admissions after the first (IdentityCenterBusy): its grant is already
   * counted as held and its end forecast, so a new round only reads the count and reserves its
   * revoke with it, as the forecast was for its first slot.
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
    const rate = this.settings.callsPerSecond;
    const shortWindow = windowSeconds !== undefined && windowSeconds <= this.settings.maxWaitSeconds;
    // An unreadable calendar only makes the reservation what it would be without one.
    const view = phase === 'grant' ? await this.schedule.view().catch(() => undefined) : undefined;
    const ends = (view?.ends ?? []).filter((e) => (e.second + 1 + REVOKE_POLL_AFTER_SECONDS) * 1000 > nowMs);
    const expectedStart = Math.max(nowMs, view?.nextFreeMs ?? nowMs);
    let calls: number = PHASE_CALLS[phase];
    if (phase === 'grant' && pair) {
      // A count that cannot be read only makes the reservation the common case's.
      const held = await this.schedule.count(pair, round > 0 ? 0 : 1).catch(() => 1);
      const tag = pairTag(pair);
      const endedBy = ends
        // Not yet revoked by now (a past one is counted out already), ended by its slot.
        .filter((e) => e.pair === tag && (e.second + 1) * 1000 > nowMs && e.second * 1000 < expectedStart)
        .reduce((n, e) => n + e.count, 0);
      calls += Math.max(0, Math.ceil(Math.max(1, held - endedBy) / PRINCIPALS_PER_PAGE) - 1);
    }
    // Without a readable calendar the revoke is reserved in the grant's own slot, as before it.
    const forecasting = phase === 'grant' && shortWindow && round === 0 && view !== undefined;
    const revokeCalls = phase === 'grant' && shortWindow ? PHASE_CALLS.revoke : 0;
    // The forecast revokes inside the span: it grows by their calls, which may reach more of them.
    const ownCalls = calls + (forecasting ? 0 : revokeCalls);
    let spanCalls = ownCalls;
    for (let i = 0; i < 3; i++)
      spanCalls =
        ownCalls + revokeCallsWithin(ends, expectedStart, expectedStart + (spanCalls * 1000) / rate);
    const start = await this.schedule.reserve((spanCalls * 1000) / rate, nowMs, latest);
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
    if (forecasting && windowSeconds !== undefined) {
      const past = (view?.ends ?? [])
        .filter((e) => (e.second + 1) * 1000 + CALENDAR_KEPT_MS < nowMs)
        .slice(0, FORGOTTEN_PER_WRITE);
      const second = at / 1000 + WINDOW_OPENS_AFTER_SECONDS + windowSeconds;
      const end = { pair: pair ? pairTag(pair) : '-', second, count: 1 };
      // Best effort: without the entry its revoke is one the room below the quota absorbs.
      await this.schedule.forecastEnd(end, past).catch(() => undefined);
    }
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

/**
 * The calls of the revokes the calendar forecasts within [fromMs, toMs): the Delete in the
 * window's last second, the Describe two seconds later, each second's calls taken as spread over
 * it, so spans that follow one another take exactly its calls between them.
 */
function revokeCallsWithin(ends: WindowEnd[], fromMs: number, toMs: number): number {
  const share = (second: number) =>
    Math.max(0, Math.min(toMs, (second + 1) * 1000) - Math.max(fromMs, second * 1000)) / 1000;
  let calls = 0;
  for (const e of ends)
    calls +=
      e.count * (share(e.second) + (PHASE_CALLS.revoke - 1) * share(e.second + REVOKE_POLL_AFTER_SECONDS));
  return calls;
}

function wholeSeconds(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 19)}Z`;
}
