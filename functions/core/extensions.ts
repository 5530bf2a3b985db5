import { formatMinutes } from './duration';
import type { Decision, PendingExtension, RequestRecord } from './model';
import {
  approversFor,
  checkApprover,
  evaluateRequest,
  evaluationTarget,
  findAccessGroup,
  findAccount,
  findPermissionSet,
  longestAllowedMinutes,
  type Policy,
  type RequestVerdict,
  type Rule,
  rulesFor,
} from './policy';
import { durationChoices } from './request-form';

// Which rule decides an extension. Not the request's own rule: the rule that allows the new
// total (request + applied extensions + the extra minutes), found the way Validate finds one
// (the first matching rule in file order whose maxDuration fits), so an extension can never
// escape into a longer rule under a shorter rule's approvers, quorum or self-approval setting.

/** The pending extension of a record in either format: this version's, or an earlier version's bare minutes. */
export function pendingExtensionOf(record: RequestRecord): PendingExtension | undefined {
  const pending = record.pendingExtension;
  if (pending && pending.minutes > 0) return pending;
  const legacy = record.pendingExtensionMinutes;
  if (!legacy || legacy <= 0) return undefined;
  // Written by an earlier version: under the request's own rule, nothing approved yet. Deciding
  // it re-evaluates the policy like any other pending extension.
  return {
    minutes: legacy,
    ruleName: record.ruleName ?? '',
    approvers: [],
    required: 1,
    allowSelfApproval: false,
    requestedAt: record.updatedAt,
    approvals: [],
  };
}

/** What a guarded write compares: the pending extension as it was read (none, an old one, or which approvals it has). */
export function pendingKey(record: RequestRecord): string {
  const pending = record.pendingExtension;
  if (pending && pending.minutes > 0)
    return JSON.stringify([pending.requestedAt, pending.minutes, pending.approvals.map((a) => a.by)]);
  return record.pendingExtensionMinutes ? `legacy:${record.pendingExtensionMinutes}` : 'none';
}

/** The total window the request would have with `extraMinutes` more. */
export function totalWith(record: RequestRecord, extraMinutes: number): number {
  return record.request.durationMinutes + (record.extendedMinutes ?? 0) + extraMinutes;
}

/** The policy's verdict on the request's total with `extraMinutes` more: its rule decides the extension. */
export function evaluateExtension(
  policy: Policy,
  record: RequestRecord,
  extraMinutes: number,
): RequestVerdict {
  return evaluateRequest(policy, {
    requesterEmail: record.request.requester.email,
    ...evaluationTarget(record.request),
    durationMinutes: totalWith(record, extraMinutes),
  });
}

/** The rule deciding the record's pending extension under the policy as deployed (undefined: none, or no rule allows it now). */
export function pendingExtensionRule(policy: Policy, record: RequestRecord): Rule | undefined {
  const pending = pendingExtensionOf(record);
  if (!pending || record.status !== 'ACTIVE') return undefined;
  const verdict = evaluateExtension(policy, record, pending.minutes);
  return verdict.allowed ? verdict.rule : undefined;
}

/** A pending extension of `minutes` decided by `rule`, with the approvals that still count under it. */
export function pendingUnder(
  policy: Policy,
  rule: Rule,
  record: RequestRecord,
  minutes: number,
  requestedAt: string,
  approvals: Decision[],
): PendingExtension {
  const requester = record.request.requester.email;
  return {
    minutes,
    ruleName: rule.name,
    approvers: approversFor(policy, rule, requester),
    required: rule.approval === 'none' ? 0 : rule.approval.required,
    allowSelfApproval: rule.approval !== 'none' && rule.approval.allowSelfApproval,
    requestedAt,
    approvals: countingApprovals(policy, rule, record, approvals),
  };
}

/**
 * Approvals that count under `rule`: each person once, and only people the rule (as deployed)
 * lets decide: an approver removed by a redeploy, or the requester without self-approval, never counts.
 */
export function countingApprovals(
  policy: Policy,
  rule: Rule,
  record: RequestRecord,
  approvals: readonly Decision[],
): Decision[] {
  const seen = new Set<string>();
  return approvals.filter((approval) => {
    const by = approval.by.trim().toLowerCase();
    if (seen.has(by)) return false;
    seen.add(by);
    return checkApprover(policy, rule, by, record.request.requester.email).authorized;
  });
}

/** Why no rule allows the total, naming the longest one allowed when it is only too long. */
export function extensionRefusal(
  policy: Policy,
  record: RequestRecord,
  extraMinutes: number,
  verdict: Extract<RequestVerdict, { allowed: false }>,
): string {
  const longest = longestAllowedMinutes(policy, {
    requesterEmail: record.request.requester.email,
    ...evaluationTarget(record.request),
  });
  if (verdict.field !== 'duration' || longest === undefined) return verdict.reason;
  return `No rule allows ${formatMinutes(totalWith(record, extraMinutes))} in total for ${targetName(policy, record)}; the longest allowed is ${formatMinutes(longest)}.`;
}

/** "<permission set> on <account>", or "the group <name>", by the names the policy gives them now. */
function targetName(policy: Policy, record: RequestRecord): string {
  const { request } = record;
  if (request.groupId !== undefined)
    return `the group ${findAccessGroup(policy, request.groupId)?.name ?? record.groupName ?? request.groupId}`;
  const arn = request.permissionSetArn ?? '';
  const id = request.accountId ?? '';
  const permissionSet = findPermissionSet(policy, arn)?.name ?? record.permissionSetName ?? arn;
  const account = findAccount(policy, id)?.name ?? record.accountName ?? id;
  return `${permissionSet} on ${account}`;
}

/**
 * Extra minutes the requester may still add to an active grant (empty when at the maximum).
 * Exactly what some rule allows for this requester, account and permission set: every choice
 * keeps the total within the longest rule (so the core accepts it), and each rule's own maximum
 * is offered too, so the longest total a stricter rule (other approvers) allows is never missing.
 */
export function extensionChoices(policy: Policy, record: RequestRecord): number[] {
  const rules = rulesFor(policy, {
    requesterEmail: record.request.requester.email,
    ...evaluationTarget(record.request),
  });
  const used = totalWith(record, 0);
  const room = Math.max(0, ...rules.map((r) => r.maxDuration)) - used;
  if (!Number.isInteger(room) || room <= 0) return [];
  const limits = rules.map((r) => r.maxDuration - used).filter((m) => m > 0);
  return [...new Set([...durationChoices(room), ...limits])].sort((a, b) => a - b);
}
