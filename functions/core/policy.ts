import {
  type DirectoryCache,
  type DirectoryRefresh,
  type DirectoryView,
  groupSelector,
  NOTHING_TO_REFRESH,
} from './directory';
import { PolicyError } from './errors';
import type { ParsedPolicy } from './policy-file';

// The access policy as the functions know it: its types and the questions the product asks of
// it. The file format (YAML, its schema, the compiled JSON the bundles carry) is policy-file.ts,
// which runs at synth and in the local stack, never in a Lambda.

/**
 * The longest maxDuration and approval timeout a policy may set: 7 days. The state machine's
 * TimeoutSeconds covers an approval and a window of this length plus every retry
 * (test/workflow/execution-budget.test.ts derives one from the other).
 */
export const MAX_DURATION_MINUTES = 7 * 24 * 60;
/** The longest admission.maxWait: a lifecycle Waits at most this long (+1 s) for each admission slot. */
export const MAX_ADMISSION_WAIT_MINUTES = 60;

/**
 * The policy the functions ask. `directory` answers for its directory groups
 * (identityCenterGroup:, slackUserGroup:), resolved before the questions are asked
 * (core/directory.ts); the compiled file never carries it.
 */
export type Policy = ParsedPolicy & { directory?: DirectoryView };
export type Rule = Policy['rules'][number];
export type Account = Policy['accounts'][number];
export type PermissionSet = Policy['permissionSets'][number];
export type Approval = Exclude<Rule['approval'], 'none'>;
/** An Identity Center group a group rule may add people to (core/group-access.ts). */
export type AccessGroup = Policy['accessGroups'][number];

/** The compiled policy's envelope (policy-file.ts writes it): any other file is refused. */
export const COMPILED_POLICY_FORMAT = 'jit-access-policy/1';

/**
 * The policy from the JSON that synth compiled into the bundle. It was validated there, and the
 * bundle is as trusted as the code beside it, so only the envelope is checked: a YAML file or a
 * file from another version of the product fails here, with its reason, at the first event.
 */
export function readCompiledPolicy(text: string, source: string): Policy {
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch {
    throw new PolicyError([
      `${source}: not a compiled policy (not JSON); compile it with the CDK app or the sandbox`,
    ]);
  }
  const { format, policy } = (document ?? {}) as { format?: unknown; policy?: unknown };
  if (format !== COMPILED_POLICY_FORMAT || !policy || typeof policy !== 'object')
    throw new PolicyError([`${source}: not a compiled policy of format ${COMPILED_POLICY_FORMAT}`]);
  return policy as Policy;
}

// ---------------------------------------------------------------------------------------------
// Questions the product asks of the policy.

export const normalizeEmail = (email: string) => email.trim().toLowerCase();

/** The directory that answers for a directory group (a policy naming one must have it). */
function directoryFor(policy: Policy, ref: string): DirectoryView {
  if (!policy.directory)
    throw new Error(`${ref}: the policy names a directory group and no directory answers for it`);
  return policy.directory;
}

/** The emails a policy group or a directory group stands for (a directory group needs the directory). */
function groupMembers(policy: Policy, ref: string): readonly string[] | undefined {
  if (ref.startsWith('group:')) return policy.groups[ref.slice(6)] ?? [];
  if (!groupSelector(ref)) return undefined;
  return directoryFor(policy, ref).membersOf(ref);
}

/** Every directory group selector the policy names (what a function resolves before asking). */
export function directorySelectors(policy: Policy): string[] {
  const refs = policy.rules.flatMap((rule) => [
    ...rule.requesters,
    ...(rule.approval === 'none' ? [] : rule.approval.approvers),
    ...(rule.breakGlass?.reviewers ?? []),
  ]);
  return [...new Set(refs.filter((ref) => groupSelector(ref)))];
}

/**
 * The policy answering its directory groups from `cache`, and what to run before an event's
 * questions (they are synchronous): a policy without directory groups needs nothing.
 */
export function withDirectory(
  policy: Policy,
  cache: DirectoryCache,
): { policy: Policy; refresh: DirectoryRefresh } {
  const selectors = directorySelectors(policy);
  if (selectors.length === 0) return { policy, refresh: NOTHING_TO_REFRESH };
  return {
    policy: { ...policy, directory: cache },
    refresh: {
      forPeople: (emails) => cache.refreshFor(emails, selectors),
      all: () => cache.refresh(selectors),
    },
  };
}

export function expandPrincipals(policy: Policy, refs: string[]): string[] {
  const emails = refs.flatMap((ref) => groupMembers(policy, ref) ?? (ref.includes('*') ? [] : [ref]));
  return [...new Set(emails.map(normalizeEmail))];
}

export function matchesRequester(policy: Policy, patterns: string[], email: string): boolean {
  const target = normalizeEmail(email);
  return patterns.some((pattern) => {
    if (pattern === '*') return true;
    if (groupSelector(pattern)) return directoryFor(policy, pattern).hasMember(pattern, target);
    const members = groupMembers(policy, pattern);
    if (members) return members.some((m) => normalizeEmail(m) === target);
    if (pattern.includes('*')) {
      const regex = new RegExp(`^${pattern.toLowerCase().split('*').map(escapeRegex).join('[^@]*')}$`);
      return regex.test(target);
    }
    return normalizeEmail(pattern) === target;
  });
}

function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

// A rule reaches hundreds of accounts once OUs are resolved: its account keys as a set, per rule.
const accountKeys = new WeakMap<Rule, ReadonlySet<string>>();
function ruleAccountKeys(rule: Rule): ReadonlySet<string> {
  let keys = accountKeys.get(rule);
  if (!keys) {
    keys = new Set(rule.accounts);
    accountKeys.set(rule, keys);
  }
  return keys;
}

/** Does this rule reach this account (by id or name, or `*`)? */
export function ruleCoversAccount(rule: Rule, account: Account): boolean {
  const keys = ruleAccountKeys(rule);
  return keys.has('*') || keys.has(account.id) || keys.has(account.name);
}

export function ruleAccounts(policy: Policy, rule: Rule): Account[] {
  if (rule.accounts.includes('*')) return policy.accounts;
  return policy.accounts.filter((a) => ruleCoversAccount(rule, a));
}

export function rulePermissionSets(policy: Policy, rule: Rule): PermissionSet[] {
  if (rule.permissionSets.includes('*')) return policy.permissionSets;
  return policy.permissionSets.filter((p) => rule.permissionSets.includes(p.name));
}

export function findAccount(policy: Policy, idOrName: string): Account | undefined {
  return policy.accounts.find((a) => a.id === idOrName || a.name === idOrName);
}

export function findPermissionSet(policy: Policy, nameOrArn: string): PermissionSet | undefined {
  return policy.permissionSets.find((p) => p.name === nameOrArn || p.arn === nameOrArn);
}

/** A group of the policy's accessGroups, by display name or GroupId. */
export function findAccessGroup(policy: Policy, nameOrId: string): AccessGroup | undefined {
  return (policy.accessGroups ?? []).find((g) => g.name === nameOrId || g.id === nameOrId);
}

/** The groups a group rule offers (none for an account rule). */
export function ruleAccessGroups(policy: Policy, rule: Rule): AccessGroup[] {
  const names = rule.accessGroups ?? [];
  return (policy.accessGroups ?? []).filter((g) => names.includes(g.name));
}

export function findRule(policy: Policy, name: string): Rule | undefined {
  return policy.rules.find((r) => r.name === name);
}

export interface RequestOption {
  account: Account;
  permissionSet: PermissionSet;
  maxMinutes: number;
  ruleName: string;
  approvalRequired: boolean;
}

/** Every account × permission set this requester may ask for, with the longest allowed duration. */
export function optionsFor(policy: Policy, requesterEmail: string): RequestOption[] {
  return longestPerTarget(policy, requesterEmail, (rule) =>
    ruleAccounts(policy, rule).flatMap((account) =>
      rulePermissionSets(policy, rule).map((permissionSet) => ({
        key: `${account.id}|${permissionSet.arn}`,
        target: { account, permissionSet },
      })),
    ),
  ).map(({ target, rule }) => ({ ...target, ...offerOf(rule) }));
}

/** Of each target the requester's rules name, the rule allowing the longest (the first on a tie). */
function longestPerTarget<T>(
  policy: Policy,
  requesterEmail: string,
  targetsOf: (rule: Rule) => Array<{ key: string; target: T }>,
  skip: (rule: Rule) => boolean = () => false,
): Array<{ target: T; rule: Rule }> {
  const best = new Map<string, { target: T; rule: Rule }>();
  for (const rule of policy.rules) {
    if (skip(rule) || !matchesRequester(policy, rule.requesters, requesterEmail)) continue;
    for (const { key, target } of targetsOf(rule)) {
      const existing = best.get(key);
      if (!existing || existing.rule.maxDuration < rule.maxDuration) best.set(key, { target, rule });
    }
  }
  return [...best.values()];
}

const offerOf = (rule: Rule) => ({
  maxMinutes: rule.maxDuration,
  ruleName: rule.name,
  approvalRequired: rule.approval !== 'none',
});

/** What a request asks for, as the policy is asked about it: an account and permission set, or a group. */
export type TargetToEvaluate =
  | { accountId: string; permissionSet: string; group?: undefined } // permission set: name or ARN
  | { group: string; accountId?: undefined; permissionSet?: undefined }; // group: name or GroupId

/** The policy's question about a stored request's target. */
export function evaluationTarget(request: {
  accountId: string | null;
  permissionSetArn: string | null;
  groupId?: string;
}): TargetToEvaluate {
  if (request.groupId !== undefined) return { group: request.groupId };
  return { accountId: request.accountId ?? '', permissionSet: request.permissionSetArn ?? '' };
}

/** A request's requester and target, without its duration. */
export type TargetQuestion = TargetToEvaluate & { requesterEmail: string; breakGlass?: boolean };

export type RequestToEvaluate = TargetToEvaluate & {
  requesterEmail: string;
  durationMinutes: number;
  /**
   * Asked as break-glass: only break-glass rules decide it, and they decide nothing else (an
   * ordinary request never lands on a rule that skips approval by being first).
   */
  breakGlass?: boolean;
};

export type RequestVerdict =
  | {
      allowed: true;
      rule: Rule;
      account: Account;
      permissionSet: PermissionSet;
      approvalRequired: boolean;
      group?: undefined;
    }
  | {
      allowed: true;
      rule: Rule;
      group: AccessGroup;
      approvalRequired: boolean;
      account?: undefined;
      permissionSet?: undefined;
    }
  | {
      allowed: false;
      field: 'account' | 'permissionSet' | 'group' | 'duration' | 'requester';
      reason: string;
    };

type ResolvedTarget = { account: Account; permissionSet: PermissionSet } | { group: AccessGroup };

/** The rules, in file order, that match this requester and target (whatever the duration). */
function matchingRules(
  policy: Policy,
  requesterEmail: string,
  target: ResolvedTarget,
  breakGlass: boolean,
): Rule[] {
  return policy.rules.filter(
    (rule) =>
      (rule.breakGlass !== undefined) === breakGlass &&
      matchesRequester(policy, rule.requesters, requesterEmail) &&
      ('group' in target
        ? (rule.accessGroups ?? []).includes(target.group.name)
        : ruleCoversAccount(rule, target.account) &&
          rulePermissionSets(policy, rule).some((p) => p.arn === target.permissionSet.arn)),
  );
}

function resolveTarget(policy: Policy, target: TargetToEvaluate): ResolvedTarget | undefined {
  if (target.group !== undefined) {
    const group = findAccessGroup(policy, target.group);
    return group ? { group } : undefined;
  }
  const account = findAccount(policy, target.accountId);
  const permissionSet = findPermissionSet(policy, target.permissionSet);
  return account && permissionSet ? { account, permissionSet } : undefined;
}

/** The rules that could decide a request of this requester for this target, in file order. */
export function rulesFor(policy: Policy, request: TargetQuestion): Rule[] {
  const target = resolveTarget(policy, request);
  if (!target) return [];
  return matchingRules(policy, request.requesterEmail, target, request.breakGlass ?? false);
}

/** The longest total any rule allows this requester for this account and permission set (undefined: none). */
export function longestAllowedMinutes(policy: Policy, request: TargetQuestion): number | undefined {
  const rules = rulesFor(policy, request);
  return rules.length ? Math.max(...rules.map((r) => r.maxDuration)) : undefined;
}

/**
 * Is this request allowed? The first rule, in file order, that matches requester, account,
 * permission set and duration decides (so a file lists its narrow, stricter rules first).
 */
export function evaluateRequest(policy: Policy, request: RequestToEvaluate): RequestVerdict {
  if (request.group !== undefined) return evaluateGroupRequest(policy, request, request.group);
  const account = findAccount(policy, request.accountId);
  if (!account)
    return { allowed: false, field: 'account', reason: `Account ${request.accountId} is not in the policy.` };
  const permissionSet = findPermissionSet(policy, request.permissionSet);
  if (!permissionSet)
    return {
      allowed: false,
      field: 'permissionSet',
      reason: `Permission set ${request.permissionSet} is not in the policy.`,
    };
  if (!Number.isInteger(request.durationMinutes) || request.durationMinutes <= 0)
    return {
      allowed: false,
      field: 'duration',
      reason: 'Duration must be a whole number of minutes above zero.',
    };
  const candidates = matchingRules(
    policy,
    request.requesterEmail,
    { account, permissionSet },
    request.breakGlass ?? false,
  );
  if (candidates.length === 0)
    return {
      allowed: false,
      field: 'requester',
      reason: `No ${request.breakGlass ? 'break-glass ' : ''}rule lets ${request.requesterEmail} request ${permissionSet.name} on ${account.name}.`,
    };
  const rule = candidates.find((r) => request.durationMinutes <= r.maxDuration);
  if (!rule) return tooLong(candidates, request.durationMinutes, `${permissionSet.name} on ${account.name}`);
  return { allowed: true, rule, account, permissionSet, approvalRequired: rule.approval !== 'none' };
}

/** A duration no matching rule allows: refused, naming the longest one of them allows. */
function tooLong(candidates: readonly Rule[], minutes: number, what: string): RequestVerdict {
  const longest = Math.max(...candidates.map((r) => r.maxDuration));
  return {
    allowed: false,
    field: 'duration',
    reason: `${minutes} minutes is over the ${longest}-minute maximum for ${what}.`,
  };
}

/** A group request: the first group rule, in file order, that matches requester, group and duration decides. */
function evaluateGroupRequest(policy: Policy, request: RequestToEvaluate, groupRef: string): RequestVerdict {
  const group = findAccessGroup(policy, groupRef);
  if (!group) return { allowed: false, field: 'group', reason: `Group ${groupRef} is not in the policy.` };
  if (!Number.isInteger(request.durationMinutes) || request.durationMinutes <= 0)
    return {
      allowed: false,
      field: 'duration',
      reason: 'Duration must be a whole number of minutes above zero.',
    };
  const candidates = matchingRules(policy, request.requesterEmail, { group }, request.breakGlass ?? false);
  if (candidates.length === 0)
    return {
      allowed: false,
      field: 'requester',
      reason: `No ${request.breakGlass ? 'break-glass ' : ''}rule lets ${request.requesterEmail} join the group ${group.name}.`,
    };
  const rule = candidates.find((r) => request.durationMinutes <= r.maxDuration);
  if (!rule) return tooLong(candidates, request.durationMinutes, `the group ${group.name}`);
  return { allowed: true, rule, group, approvalRequired: rule.approval !== 'none' };
}

/**
 * The request form's account menu also offers the requester's groups, as `group:<GroupId>`
 * values: a group request has no permission set to pick.
 */
export const GROUP_CHOICE_PREFIX = 'group:';

/** The GroupId of a `group:<GroupId>` form value, or undefined for an account. */
export function groupChoice(value: string | undefined): string | undefined {
  return value?.startsWith(GROUP_CHOICE_PREFIX) ? value.slice(GROUP_CHOICE_PREFIX.length) : undefined;
}

export interface GroupOption {
  group: AccessGroup;
  maxMinutes: number;
  ruleName: string;
  approvalRequired: boolean;
}

/** Every group this requester may ask to join, with the longest allowed duration. */
export function groupOptionsFor(policy: Policy, requesterEmail: string): GroupOption[] {
  return longestPerTarget(
    policy,
    requesterEmail,
    (rule) => ruleAccessGroups(policy, rule).map((group) => ({ key: group.id, target: group })),
    (rule) => rule.breakGlass !== undefined,
  ).map(({ target, rule }) => ({ group: target, ...offerOf(rule) }));
}

/** Emails of the people who may approve requests under this rule (the requester excluded unless self-approval is allowed). */
export function approversFor(policy: Policy, rule: Rule, requesterEmail: string): string[] {
  if (rule.approval === 'none') return [];
  const approvers = expandPrincipals(policy, rule.approval.approvers);
  if (rule.approval.allowSelfApproval) return approvers;
  return approvers.filter((email) => email !== normalizeEmail(requesterEmail));
}

export type ApproverVerdict =
  | { authorized: true }
  | { authorized: false; reason: 'not-approver' | 'self-approval' | 'no-approval' };

/** Is a click by `approverEmail` on a request under `rule` by `requesterEmail` a valid decision? */
export function checkApprover(
  policy: Policy,
  rule: Rule,
  approverEmail: string,
  requesterEmail: string,
): ApproverVerdict {
  if (rule.approval === 'none') return { authorized: false, reason: 'no-approval' };
  const approver = normalizeEmail(approverEmail);
  // A membership question (never a member list): approvers have no wildcards (policy-file.ts).
  if (!matchesRequester(policy, rule.approval.approvers, approver))
    return { authorized: false, reason: 'not-approver' };
  if (approver === normalizeEmail(requesterEmail) && !rule.approval.allowSelfApproval)
    return { authorized: false, reason: 'self-approval' };
  return { authorized: true };
}

/** Approval channel of a rule (its own, or the policy's default). */
export function approvalChannelFor(policy: Policy, rule: Rule): string {
  return (rule.approval !== 'none' && rule.approval.channel) || policy.slack.approvalChannel;
}
