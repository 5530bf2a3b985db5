import { pendingExtensionOf, pendingExtensionRule } from './extensions';
import type { RequestRecord } from './model';
import { type ApproverVerdict, checkApprover, findRule, type Policy, type Rule } from './policy';
import { waitingForStart } from './scheduled-start';

// Who may do what to a request: decide it (or its pending extension), cancel it, end its window,
// extend it; what the product itself may do when its requester is offboarded.
// The core decides with these at the click; the Slack layer asks the same questions first, to
// offer a form or a button only to whoever may use it.

export type DecisionKind = 'request' | 'extension';

/**
 * The rule whose approvers decide: the request's own, or for a pending extension the rule that
 * allows its new total under the policy as deployed (undefined: none).
 */
export function decidingRule(policy: Policy, record: RequestRecord, kind: DecisionKind): Rule | undefined {
  if (kind === 'extension') return pendingExtensionRule(policy, record);
  return record.ruleName ? findRule(policy, record.ruleName) : undefined;
}

/** May this person approve or deny under `rule` (never the requester unless the rule allows self-approval)? */
export function mayDecide(
  policy: Policy,
  rule: Rule | undefined,
  record: RequestRecord,
  email: string,
): ApproverVerdict {
  if (!rule) return { authorized: false, reason: 'no-approval' };
  return checkApprover(policy, rule, email, record.request.requester.email);
}

/** Only the requester extends their own access. */
export function mayExtend(record: RequestRecord, slackUserId: string): boolean {
  return slackUserId === record.request.requester.slackUserId;
}

/**
 * Only the requester withdraws their own request (an approver who does not want it denies it);
 * whether it is still pending is the core's to say at the click (first decision wins).
 */
/**
 * A request its requester may still withdraw: nobody has decided it, or it is approved and waits
 * for its scheduled start (nothing granted: Grant then finds it CANCELLED and creates nothing).
 */
export function isCancellable(record: RequestRecord): boolean {
  return record.status === 'PENDING_APPROVAL' || waitingForStart(record);
}

export function mayCancel(record: RequestRecord, slackUserId: string): boolean {
  return slackUserId === record.request.requester.slackUserId;
}

/** The actor of the product ending a departed person's access (core/offboarding.ts). */
export const OFFBOARDING_ACTOR = 'system:offboarding';

/**
 * The product offboarding a person (core/offboarding.ts) ends their live access and withdraws
 * their pending requests: on their own requests only, and never as an approver (it is not a
 * person; `mayDecide` never sees it). `offboarding` is set by the core only, never read from a
 * Slack payload.
 */
export function mayOffboard(
  record: RequestRecord,
  actor: { email: string; slackUserId: string; offboarding?: true },
): boolean {
  return (
    actor.offboarding === true &&
    actor.email === OFFBOARDING_ACTOR &&
    actor.slackUserId === record.request.requester.slackUserId
  );
}

/** The requester, or an approver of the request's rule, may end the window early. */
export function mayEnd(
  policy: Policy,
  record: RequestRecord,
  actor: { email: string; slackUserId: string },
): boolean {
  if (mayExtend(record, actor.slackUserId)) return true;
  return mayDecide(policy, decidingRule(policy, record, 'request'), record, actor.email).authorized;
}

export type DecisionPrecheck =
  | { ok: true }
  | { ok: false; reason: 'not-found' | 'not-approver' | 'self-approval' | 'no-approval' | 'already-decided' };

/**
 * May this person decide on this request now? (The same rules RequestDecisions applies at the
 * click.) A pending extension is decided by the rule that allows its new total, not the request's.
 */
export function precheckDecision(
  policy: Policy,
  record: RequestRecord | undefined,
  approverEmail: string,
  kind: DecisionKind = 'request',
): DecisionPrecheck {
  if (!record) return { ok: false, reason: 'not-found' };
  if (kind === 'extension') {
    const pending = pendingExtensionOf(record);
    if (!pending || record.status !== 'ACTIVE') return { ok: false, reason: 'already-decided' };
    // No rule allows it any more: the click goes through, and the core refuses and clears it.
    const rule = decidingRule(policy, record, kind);
    if (!rule) return { ok: true };
    const verdict = mayDecide(policy, rule, record, approverEmail);
    return verdict.authorized ? { ok: true } : { ok: false, reason: verdict.reason };
  }
  const verdict = mayDecide(policy, decidingRule(policy, record, kind), record, approverEmail);
  if (!verdict.authorized) return { ok: false, reason: verdict.reason };
  return record.status === 'PENDING_APPROVAL' ? { ok: true } : { ok: false, reason: 'already-decided' };
}

/**
 * May this person approve under the record's rule (used to fill an approver's Home tab)? For
 * `extension`: may they approve its pending extension, under the rule deciding it now, and have
 * they not approved it yet.
 */
export function isApproverOf(
  policy: Policy,
  record: RequestRecord,
  approverEmail: string,
  kind: DecisionKind = 'request',
): boolean {
  if (!mayDecide(policy, decidingRule(policy, record, kind), record, approverEmail).authorized) return false;
  const email = approverEmail.trim().toLowerCase();
  return kind === 'request' || !pendingExtensionOf(record)?.approvals.some((a) => a.by === email);
}
