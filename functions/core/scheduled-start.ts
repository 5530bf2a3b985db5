import type { AccessRequest, RequestRecord } from './model';
import type { Rule } from './policy';

// Scheduled start: a request may ask for its access to begin later ("tomorrow 09:00 for 2 h"),
// so an approval obtained in one time zone is not used up before the requester's day starts.
// Approval is asked at once; the grant waits for the start (the state machine's WaitForStart,
// then admission at Identity Center's pace like any grant), and the window counts from the
// moment access goes live. Until the grant begins, the requester may cancel.

/** A start closer than this is no later start: the form asks to leave it empty instead. */
export const MIN_START_LEAD_MS = 60_000;
/** Grant refuses to create anything earlier than the start, by more than this clock skew. */
export const START_SKEW_MS = 1_000;

export type StartCheck = { ok: true } | { ok: false; message: string };

/**
 * May this rule's request start at `startAt`? `fromMs` is when it is asked: the form's "now",
 * or the request's `requestedAt` when Validate checks again (a validation running late must not
 * refuse what the form accepted).
 */
export function checkStart(rule: Rule, startAt: string, fromMs: number, ruleLabel = rule.name): StartCheck {
  const startMs = Date.parse(startAt);
  if (!Number.isFinite(startMs)) return { ok: false, message: 'The start is not a time.' };
  if (!rule.scheduledStart)
    return {
      ok: false,
      message: `Rule ${ruleLabel} does not allow a later start: leave the start empty to begin when approved.`,
    };
  const days = rule.scheduledStart.maxDaysAhead;
  if (startMs > fromMs + days * 86_400_000)
    return {
      ok: false,
      message: `A start can be at most ${days} day${days === 1 ? '' : 's'} ahead under rule ${ruleLabel}.`,
    };
  return { ok: true };
}

/** The form's own check on top: a start in the past, or within the minute, is not a later start. */
export function checkFormStart(startMs: number, nowMs: number): StartCheck {
  if (startMs < nowMs + MIN_START_LEAD_MS)
    return {
      ok: false,
      message: 'Pick a start at least a minute from now, or leave it empty to begin when approved.',
    };
  return { ok: true };
}

/** The start still ahead of `nowMs` (undefined: none, or it has come). */
export function pendingStart(request: AccessRequest, nowMs: number): string | undefined {
  if (!request.startAt) return undefined;
  return Date.parse(request.startAt) > nowMs + START_SKEW_MS ? request.startAt : undefined;
}

/**
 * A scheduled request approved and waiting for its start: nothing is granted yet, so its
 * requester may still cancel it (core/decisions.ts `cancel`). Once Grant has moved it on
 * (GRANTING), it is no longer waiting.
 */
export function waitingForStart(record: RequestRecord): boolean {
  return record.status === 'APPROVED' && record.request.startAt !== undefined;
}

/** The start as an RFC 3339 timestamp in whole seconds, for a Wait state's TimestampPath. */
export function startTimestamp(startAt: string): string {
  return `${new Date(Math.ceil(Date.parse(startAt) / 1000) * 1000).toISOString().slice(0, 19)}Z`;
}
