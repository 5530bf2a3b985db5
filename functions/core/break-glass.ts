import type { AccessRequest, BreakGlassState, BreakGlassVerdict, RequestRecord } from './model';
import { findRule, matchesRequester, normalizeEmail, type Policy, type Rule } from './policy';

// Break-glass: a rule marked `breakGlass` grants at once without an approver, only when asked for
// as break-glass, and only to its requesters, for at most its short maximum (policy-file.ts). Each
// use is alerted to a security channel and reviewed afterwards by the rule's reviewers; a use left
// unreviewed past the rule's review window escalates (the reconciler asks `dueForEscalation`).
// Every rule of it lives here; steps, decisions, the reconciler and Slack ask.

/** The review state a use starts with, from its rule, at activation. */
export function activation(policy: Policy, rule: Rule, now: Date): BreakGlassState | undefined {
  const settings = rule.breakGlass;
  if (!settings) return undefined;
  return {
    reviewers: settings.reviewers,
    alertChannel: settings.alertChannel ?? policy.slack.securityChannel ?? policy.slack.approvalChannel,
    reviewDueAt: new Date(now.getTime() + settings.reviewWindow * 60_000).toISOString(),
  };
}

/** A use no reviewer has marked yet (whatever became of its access). */
export function reviewPending(record: RequestRecord): boolean {
  return record.breakGlass !== undefined && record.breakGlass.review === undefined;
}

/** Unreviewed past its review window and not escalated yet: the reconciler escalates it once. */
export function dueForEscalation(record: RequestRecord, now: Date): boolean {
  const state = record.breakGlass;
  if (!state || state.review || state.escalatedAt) return false;
  // A use that never went live (refused, grant failed) has nothing to review.
  if (!record.windowStartedAt) return false;
  return now.getTime() >= Date.parse(state.reviewDueAt);
}

export type ReviewPrecheck =
  | { ok: true }
  | { ok: false; reason: 'not-break-glass' | 'not-reviewer' | 'own-use' | 'already-reviewed' };

/** May this person review this use? A reviewer of the rule, never the person who used it. */
export function mayReview(policy: Policy, record: RequestRecord | undefined, email: string): ReviewPrecheck {
  const state = record?.breakGlass;
  if (!record || !state) return { ok: false, reason: 'not-break-glass' };
  const who = normalizeEmail(email);
  if (who === normalizeEmail(record.request.requester.email)) return { ok: false, reason: 'own-use' };
  // The reviewers as the policy says now (a reviewer removed since may not mark it); the
  // activation's list when the rule is gone.
  const rule = record.ruleName ? findRule(policy, record.ruleName) : undefined;
  const reviewers = rule?.breakGlass?.reviewers ?? state.reviewers;
  if (!matchesRequester(policy, reviewers, who)) return { ok: false, reason: 'not-reviewer' };
  if (state.review) return { ok: false, reason: 'already-reviewed' };
  return { ok: true };
}

export const REVIEW_REFUSALS: Record<Exclude<ReviewPrecheck, { ok: true }>['reason'], string> = {
  'not-break-glass': 'That request is not a break-glass use.',
  'not-reviewer': 'Only a reviewer of its break-glass rule can review this use.',
  'own-use': 'You cannot review your own break-glass use.',
  'already-reviewed': 'This use has already been reviewed.',
};

export const VERDICT_TEXT: Record<BreakGlassVerdict, string> = {
  justified: 'justified',
  flagged: 'flagged for follow-up',
};

/** Normalized for comparison: case, spacing and punctuation do not make a reason new. */
const reasonKey = (reason: string) =>
  reason
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]+/gu, ' ')
    .trim();

/**
 * A second break-glass use needs a new reason: the earlier use of this requester (newest first in
 * `earlier`) that gave the same one, if any.
 */
export function reusedReason(earlier: RequestRecord[], request: AccessRequest): RequestRecord | undefined {
  const key = reasonKey(request.reason);
  return earlier.find(
    (record) =>
      record.request.requestId !== request.requestId &&
      record.breakGlass !== undefined &&
      reasonKey(record.request.reason) === key,
  );
}

/** Does any break-glass rule list this person as a requester (the form offers the choice)? */
export function offersBreakGlass(policy: Policy, email: string): boolean {
  return policy.rules.some((rule) => rule.breakGlass && matchesRequester(policy, rule.requesters, email));
}

/** How many of a requester's latest requests are searched for a reused reason. */
export const REASON_HISTORY = 50;
