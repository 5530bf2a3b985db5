import { AUDIT_ACTIONS, type AuditEvent, type RequestRecord } from '../../functions/core/model';
import { checkApprover, findRule, type Policy } from '../../functions/core/policy';

// The campaign's judgement of one run, as pure functions of what the system left behind: audit
// trails, request records, Identity Center's assignments and its log of deletions.

const GRANT_EVENTS = new Set(['grant.requested', 'grant.existing', 'grant.succeeded']);
/** Events after which the request no longer needs its access (its holding interval ends). */
const HOLD_END_EVENTS = new Set([
  'window.expired',
  'window.ended-early',
  'revoke.requested',
  'revoke.kept',
  'revoke.succeeded',
  'revoke.failed',
  'grant.failed',
  'reconciler.stopped-execution',
  'reconciler.orphan-found',
  'reconciler.revoked',
  'request.closed',
]);
/** Events that show the access of a granted request was dealt with. */
const ACCESS_END_EVENTS = new Set(['revoke.succeeded', 'revoke.kept', 'reconciler.revoked', 'grant.failed']);
const KNOWN_ACTIONS = new Set<string>(AUDIT_ACTIONS);

const isExtensionDecision = (event: AuditEvent) => event.details.extensionMinutes !== undefined;

/** Problems with one request's audit trail: complete (opened, closed, access ended) and ordered. */
export function auditTrailProblems(
  requestId: string,
  events: AuditEvent[],
  record?: RequestRecord,
): string[] {
  const problems: string[] = [];
  if (events.length === 0) return record ? ['no audit events for a stored request'] : [];
  const at = events.map((e) => Date.parse(e.at));
  events.forEach((event, i) => {
    if (event.requestId !== requestId) problems.push(`event ${event.eventId} belongs to ${event.requestId}`);
    if (!KNOWN_ACTIONS.has(event.action)) problems.push(`unknown action ${event.action}`);
    if (!event.actor) problems.push(`${event.action} has no actor`);
    if (Number.isNaN(at[i] ?? Number.NaN)) problems.push(`${event.action} has no valid time`);
    if (i > 0 && (at[i] ?? 0) < (at[i - 1] ?? 0)) problems.push(`${event.action} is out of time order`);
  });
  const actions = events.map((e) => e.action);
  const first = (action: string | ((a: string) => boolean), from = 0) => {
    const test = typeof action === 'string' ? (a: string) => a === action : action;
    const index = actions.findIndex((a, i) => i >= from && test(a));
    return index;
  };
  if (actions[0] !== 'request.submitted') problems.push(`starts with ${actions[0]}, not request.submitted`);
  if (actions.filter((a) => a === 'request.submitted').length !== 1) problems.push('request.submitted twice');
  if (first('request.closed') < 0) problems.push('never closed (no request.closed)');
  // Rejected by policy (request.rejected), or because asking for approval failed (Finish "rejected").
  const closedRejected = events.some(
    (e) => e.action === 'request.closed' && e.details.outcome === 'rejected',
  );
  if (record?.status === 'REJECTED' && first('request.rejected') < 0 && !closedRejected)
    problems.push('rejected without request.rejected');

  const before = (a: string, b: string) => {
    const ia = first(a);
    const ib = first(b);
    if (ia >= 0 && ib >= 0 && ib < ia) problems.push(`${b} before ${a}`);
    if (ia < 0 && ib >= 0 && a !== 'approval.requested') problems.push(`${b} without ${a}`);
  };
  before('grant.succeeded', 'window.opened');
  before('window.opened', 'window.extended');
  // The window's timeout starts with the AccessWindow task, concurrently with its Lambda: a window
  // shorter than the Lambda (possible only on compressed time) expires before it is announced.
  // An End click needs the token, which is stored before window.opened; the button that sends it
  // is in the DM sent after it.
  // Unless it was ended before it opened (End all while it was being granted: beforeOpened).
  const endedEarly = events.find((e) => e.action === 'window.ended-early');
  if (endedEarly?.details.beforeOpened === true) {
    if (first('window.opened') >= 0) problems.push('window.ended-early before it opened, yet window.opened');
  } else before('window.opened', 'window.ended-early');
  const requested = first('approval.requested');
  const decided = events.findIndex(
    (e) => (e.action === 'approval.approved' || e.action === 'approval.denied') && !isExtensionDecision(e),
  );
  if (decided >= 0 && requested >= 0 && decided < requested)
    problems.push('decision before approval.requested');

  const firstGrant = first((a) => GRANT_EVENTS.has(a));
  if (firstGrant >= 0) {
    const firstRevoke = first((a) => a.startsWith('revoke.'));
    if (firstRevoke >= 0 && firstRevoke < firstGrant) problems.push('revoke event before any grant event');
    if (first((a) => ACCESS_END_EVENTS.has(a), firstGrant) < 0)
      problems.push('granted, but no revoke/kept/reconciler event ends the access');
  }
  return problems;
}

/** Problems with the approver decisions of one request: authorized approvers, each decision once. */
export function decisionProblems(policy: Policy, events: AuditEvent[], record?: RequestRecord): string[] {
  if (!record?.ruleName) return [];
  const rule = findRule(policy, record.ruleName);
  if (!rule) return [`rule ${record.ruleName} is not in the policy`];
  const problems: string[] = [];
  const decisions = events.filter((e) => e.action === 'approval.approved' || e.action === 'approval.denied');
  const requester = record.request.requester.email;
  // An extension is decided by the rule of its new total, which its events name.
  for (const event of decisions.filter(isExtensionDecision)) {
    const deciding = typeof event.details.rule === 'string' ? findRule(policy, event.details.rule) : rule;
    if (!deciding || !checkApprover(policy, deciding, event.actor, requester).authorized)
      problems.push(`${event.action} of an extension by ${event.actor}, who may not decide it`);
  }
  if (rule.approval === 'none') {
    if (decisions.some((e) => !isExtensionDecision(e)))
      problems.push('a decision on an auto-approved request');
    return problems;
  }
  for (const event of decisions.filter((e) => !isExtensionDecision(e))) {
    if (!checkApprover(policy, rule, event.actor, requester).authorized)
      problems.push(`${event.action} by ${event.actor}, who may not decide`);
  }
  const approvals = decisions.filter((e) => e.action === 'approval.approved' && !isExtensionDecision(e));
  const denials = decisions.filter((e) => e.action === 'approval.denied' && !isExtensionDecision(e));
  const approvers = approvals.map((e) => e.actor);
  if (new Set(approvers).size !== approvers.length) problems.push(`an approver counted twice: ${approvers}`);
  if (denials.length > 1) problems.push(`denied ${denials.length} times`);
  const granted = events.some((e) => GRANT_EVENTS.has(e.action));
  if (granted && approvals.length < rule.approval.required)
    problems.push(`granted with ${approvals.length} of ${rule.approval.required} approvals`);
  if (granted && denials.length > 0) problems.push('granted although denied');
  if (record.status === 'DENIED' && denials.length !== 1) problems.push('DENIED without exactly one denial');
  return problems;
}

export interface HoldingInterval {
  requestId: string;
  key: string;
  start: number;
  end: number;
}

/** When each request held its assignment: from grant.succeeded to the first event that ends it. */
export function holdingInterval(key: string, events: AuditEvent[]): HoldingInterval | undefined {
  const startIndex = events.findIndex((e) => e.action === 'grant.succeeded');
  const start = events[startIndex];
  if (!start) return undefined;
  const end = events.slice(startIndex + 1).find((e) => HOLD_END_EVENTS.has(e.action));
  return {
    requestId: start.requestId,
    key,
    start: Date.parse(start.at),
    end: end ? Date.parse(end.at) : Number.POSITIVE_INFINITY,
  };
}

export interface CompletedDeletion {
  key: string;
  operationId: string;
  completedAt: number;
}

/** Deletions that removed a pre-existing assignment, or one a live request still held. */
export function wrongDeletions(
  deletions: CompletedDeletion[],
  permanentKeys: ReadonlySet<string>,
  intervals: HoldingInterval[],
): Array<CompletedDeletion & { why: string }> {
  const wrong: Array<CompletedDeletion & { why: string }> = [];
  for (const deletion of deletions) {
    if (permanentKeys.has(deletion.key)) {
      wrong.push({ ...deletion, why: 'deleted a pre-existing permanent assignment' });
      continue;
    }
    const victim = intervals.find(
      (i) => i.key === deletion.key && i.start < deletion.completedAt && deletion.completedAt < i.end,
    );
    if (victim) wrong.push({ ...deletion, why: `deleted while ${victim.requestId} still held it` });
  }
  return wrong;
}
