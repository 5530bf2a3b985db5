import type { ApprovedExtension, RequestRecord } from './model';
import { evaluationTarget, longestAllowedMinutes, type Policy } from './policy';

// How long an access window may last, from server-side facts only: when access went live, the
// request's own duration, the extensions applied to it and the policy as deployed. The workflow's
// ExtendWindow step, the AccessWindow step and the reconciler all ask `allowedWindow`, so no
// callback payload and no stored expiresAt can keep access alive past it.

export interface WindowFacts {
  /** When access went live. */
  startedAtMs: number;
  /** The request's own duration (checked against the policy by Validate). */
  durationMinutes: number;
  /** Minutes added by applied extensions, as stored. */
  extendedMinutes: number;
  /** The extensions behind them, oldest first (records of earlier versions have none). */
  extensions: readonly ApprovedExtension[];
  /** The longest total any current rule allows this requester, account and permission set (undefined: none). */
  policyMaxMinutes: number | undefined;
}

export interface WindowLimit {
  allowedMinutes: number;
  expiresAtMs: number;
  expiresAt: string;
}

const wholeMinutes = (value: unknown) =>
  typeof value === 'number' && Number.isFinite(value) && value > 0 ? Math.floor(value) : 0;

/** The cap arithmetic: the longest window these facts allow, and when it ends. Pure. */
export function allowedWindow(facts: WindowFacts): WindowLimit {
  const base = wholeMinutes(facts.durationMinutes);
  const stored = wholeMinutes(facts.extendedMinutes);
  const recorded = facts.extensions.reduce((sum, e) => sum + wholeMinutes(e.minutes), 0);
  // Minutes an earlier version added (no history) came first; only the policy's maximum bounds them.
  let total = base + Math.max(0, stored - recorded);
  for (const extension of facts.extensions) {
    const minutes = wholeMinutes(extension.minutes);
    // An extension past its own rule's maximum never counts, nor does anything applied after it.
    if (total + minutes > extension.maxTotalMinutes) break;
    total += minutes;
  }
  // Never more than the stored sum, nor than what the policy allows now. The request's own
  // duration was checked when it started: a policy change bounds extensions, it does not cut a
  // running window short (a deliberate choice; revoking for a policy change is another feature).
  const ceiling = Math.max(base, facts.policyMaxMinutes ?? base);
  const allowedMinutes = Math.min(total, base + stored, ceiling);
  const expiresAtMs = facts.startedAtMs + allowedMinutes * 60_000;
  return { allowedMinutes, expiresAtMs, expiresAt: new Date(expiresAtMs).toISOString() };
}

/**
 * `allowedWindow` for a stored request under the policy as deployed. `requesterKnown` false: the
 * directory could not say which groups the requester is in now, so the ceiling is what was
 * approved already (the request's own duration, the extensions' recorded maximums): a directory
 * outage neither widens a window nor cuts one short.
 */
export function windowLimit(
  policy: Policy,
  record: RequestRecord,
  startedAtMs: number,
  durationMinutes = record.request.durationMinutes,
  requesterKnown = true,
): WindowLimit {
  return allowedWindow({
    startedAtMs,
    // The execution input and the record carry the same duration; if they ever differ, the shorter.
    durationMinutes: Math.min(durationMinutes, record.request.durationMinutes),
    extendedMinutes: record.extendedMinutes ?? 0,
    extensions: record.extensions ?? [],
    policyMaxMinutes: requesterKnown
      ? longestAllowedMinutes(policy, {
          requesterEmail: record.request.requester.email,
          ...evaluationTarget(record.request),
        })
      : Math.max(0, ...(record.extensions ?? []).map((e) => e.maxTotalMinutes)) || undefined,
  });
}

/**
 * When the window started: the earliest of the known starts (never later than now). Without
 * any, the earliest moment it can have opened: not before the request was made, nor before its
 * last approval. That bound is never later than the true start, so the cap it gives never grants
 * more than the policy allows (it may end a window a few seconds, the grant's own time, early).
 */
export function windowStartMs(
  record: RequestRecord,
  known: ReadonlyArray<string | undefined>,
  nowMs: number,
): number {
  const starts = known.map((iso) => (iso ? Date.parse(iso) : Number.NaN)).filter(Number.isFinite);
  if (starts.length) return Math.min(nowMs, ...starts);
  const bounds = [record.request.requestedAt, ...record.approvals.map((a) => a.at)]
    .map((iso) => Date.parse(iso))
    .filter(Number.isFinite);
  return bounds.length ? Math.min(nowMs, Math.max(...bounds)) : nowMs;
}

/** A callback task timeout for a window ending at `expiresAtMs`: at least 1 s (a non-positive one is an uncatchable States.Runtime error). */
export function windowSeconds(expiresAtMs: number, nowMs: number): number {
  const seconds = Math.ceil((expiresAtMs - nowMs) / 1000);
  return Number.isFinite(seconds) && seconds >= 1 ? seconds : 1;
}
