import type { RequestRecord } from './model';
import { findRule, type Policy } from './policy';
import { asksThroughLead } from './request-set';

// Approvers are reminded once of a request still waiting for them: by default at half its
// approval timeout, or after the rule's `approval.reminder`, never with `reminder: false`. The
// reconciler (every 5 minutes) asks; so the reminder goes out up to one pass after it is due.

/** Minutes after the request was submitted when its approvers are reminded (undefined: never). */
export function reminderMinutes(policy: Policy, record: RequestRecord): number | undefined {
  const rule = record.ruleName ? findRule(policy, record.ruleName) : undefined;
  if (!rule || rule.approval === 'none' || rule.approval.reminder === false) return undefined;
  const after = rule.approval.reminder ?? rule.approval.timeout / 2;
  // A reminder at or after the timeout would come once nobody can decide any more.
  return after < rule.approval.timeout ? after : undefined;
}

/** Still waiting, past its reminder time, not reminded yet; a set is reminded once, through its first member. */
export function reminderDue(policy: Policy, record: RequestRecord, now: Date): boolean {
  if (record.status !== 'PENDING_APPROVAL' || record.approvalReminderSentAt) return false;
  if (asksThroughLead(record.request)) return false;
  const after = reminderMinutes(policy, record);
  if (after === undefined) return false;
  return now.getTime() >= Date.parse(record.request.requestedAt) + after * 60_000;
}
