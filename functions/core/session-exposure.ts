import type { OnFailed } from './best-effort';
import { formatMinutes } from './duration';
import type { PermissionSet } from './policy';
import type { Clock, SessionDurations } from './ports';

// What a grant really exposes, for the request form. Deleting the assignment at the end of the
// window stops new sign-ins, but a role session signed in during the window stays valid for the
// permission set's SessionDuration (up to 12 h), unless the permission set's policy entry says
// `endSessionsOnRevoke` (core/session-ending.ts). The form says so next to the duration, from
// DescribePermissionSet read through `SessionDurationCache`: best-effort, a failure just leaves
// the line out.

/** How the sessions of a grant end: at revoke (endSessionsOnRevoke), or up to one session duration later. */
export type SessionExposure = { kind: 'ends-at-revoke' } | { kind: 'outlives'; sessionMinutes: number };

/**
 * Minutes of a SessionDuration as DescribePermissionSet answers it (ISO 8601: PT1H, PT1H30M,
 * PT90M, PT3600S; seconds rounded up to the minute), or undefined when it is not one.
 */
export function sessionDurationMinutes(iso: string | undefined): number | undefined {
  const match = /^PT(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?$/.exec(iso ?? '');
  if (!match || iso === 'PT') return undefined;
  const seconds = Number(match[1] ?? 0) * 3600 + Number(match[2] ?? 0) * 60 + Number(match[3] ?? 0);
  return seconds > 0 ? Math.ceil(seconds / 60) : undefined;
}

/**
 * The form's line for a window of `windowMinutes` of `permissionSetName`, e.g. "Access for 1h;
 * sessions signed in during it stay valid up to 4h after it ends (ReadOnly's session duration),
 * so up to 5h in all." Plain text (the renderer escapes it).
 */
export function exposureText(
  windowMinutes: number,
  permissionSetName: string,
  exposure: SessionExposure,
): string {
  const window = `Access for ${formatMinutes(windowMinutes)}`;
  if (exposure.kind === 'ends-at-revoke') return `${window}. Sessions end at revoke.`;
  const session = exposure.sessionMinutes;
  return (
    `${window}; sessions signed in during it stay valid up to ${formatMinutes(session)} after it ends ` +
    `(${permissionSetName}'s session duration), so up to ${formatMinutes(windowMinutes + session)} in all.`
  );
}

/**
 * What the form says about a permission set's sessions: known from the policy when it ends them at
 * revoke, else from its session duration (undefined when that is not known now).
 */
export async function sessionExposureOf(
  permissionSet: PermissionSet,
  durations: Pick<SessionDurationCache, 'minutes'> | undefined,
): Promise<SessionExposure | undefined> {
  if (permissionSet.endSessionsOnRevoke) return { kind: 'ends-at-revoke' };
  const minutes = await durations?.minutes(permissionSet.arn);
  return minutes === undefined ? undefined : { kind: 'outlives', sessionMinutes: minutes };
}

export interface SessionDurationCacheOptions {
  /** How long an answer is used before it is read again. */
  ttlMs: number;
  /** After a failed read, how long until the next try (the last answer, if any, is used meanwhile). */
  retryAfterMs: number;
  /**
   * How long a read may hold its caller (the form's update, inside Slack's 3 s): past it the caller
   * goes on without the answer (or with the last one), and the read still fills the cache when it lands.
   */
  waitMs: number;
}

export const DEFAULT_SESSION_DURATION_CACHE: SessionDurationCacheOptions = {
  ttlMs: 5 * 60_000,
  retryAfterMs: 60_000,
  waitMs: 1000,
};

interface Entry {
  minutes: number | undefined;
  /** Read again from this time (ms since the epoch). */
  until: number;
}

/**
 * Session durations in minutes per permission set ARN, kept per container: read again after the
 * TTL, one read at a time per permission set, never throwing. A warm answer makes no call.
 */
export class SessionDurationCache {
  private readonly entries = new Map<string, Entry>();
  private readonly reading = new Map<string, Promise<void>>();

  constructor(
    private readonly source: SessionDurations,
    private readonly clock: Clock,
    private readonly options: SessionDurationCacheOptions = DEFAULT_SESSION_DURATION_CACHE,
    /** Told of every read that failed or answered something that is not a duration. */
    private readonly onFailed: OnFailed = () => {},
  ) {}

  /** The session duration in minutes, or undefined when it is not known (yet). */
  async minutes(permissionSetArn: string): Promise<number | undefined> {
    const entry = this.entries.get(permissionSetArn);
    if (entry && this.clock.now().getTime() < entry.until) return entry.minutes;
    await within(this.read(permissionSetArn), this.options.waitMs);
    return this.entries.get(permissionSetArn)?.minutes;
  }

  private read(permissionSetArn: string): Promise<void> {
    const pending = this.reading.get(permissionSetArn);
    if (pending) return pending;
    const keep = (minutes: number | undefined, forMs: number) =>
      this.entries.set(permissionSetArn, { minutes, until: this.clock.now().getTime() + forMs });
    const failed = (error: unknown) => {
      this.onFailed(`DescribePermissionSet ${permissionSetArn}`, error);
      keep(this.entries.get(permissionSetArn)?.minutes, this.options.retryAfterMs);
    };
    // Started on a later microtask, so a source that fails at once still finds `reading` set.
    const read = Promise.resolve().then(async () => {
      try {
        const iso = await this.source.sessionDuration(permissionSetArn);
        const minutes = sessionDurationMinutes(iso);
        if (minutes === undefined)
          failed(new Error(`SessionDuration ${JSON.stringify(iso)} is not a duration`));
        else keep(minutes, this.options.ttlMs);
      } catch (error) {
        failed(error);
      } finally {
        this.reading.delete(permissionSetArn);
      }
    });
    this.reading.set(permissionSetArn, read);
    return read;
  }
}

/** Waits for `promise` (which never rejects) at most `ms`. */
async function within(promise: Promise<void>, ms: number): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, ms);
    timer.unref?.();
  });
  try {
    await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
