import { formatMinutes } from './duration';
import {
  type AccessGroup,
  type Account,
  approversFor,
  evaluateRequest,
  expandPrincipals,
  findAccessGroup,
  findAccount,
  findPermissionSet,
  matchesRequester,
  type PermissionSet,
  type Policy,
  type Rule,
  ruleAccounts,
  ruleCoversAccount,
  rulePermissionSets,
} from './policy';
import { type TicketRule, ticketRuleText } from './ticket';

// What a policy grants, for people reviewing it: which rule decides a request and why the earlier
// ones did not (explain), what a change grants and takes away (diff), and rules that can never
// decide (a warning of validate). Computed from the same questions the functions ask
// (core/policy.ts), so the review cannot disagree with what the product does.

/** The terms under which a request is granted for durations up to `upToMinutes`. */
export interface Terms {
  upToMinutes: number;
  rule: string;
  /** 'auto' or "N of [approvers]" (self-approval said when allowed), or the break-glass terms. */
  approval: string;
  /** Terms of a break-glass request (asked for as such; decided by break-glass rules only). */
  breakGlass?: true;
}

/**
 * What one requester may get for one account and permission set: the first matching rule decides
 * each duration, so the offer is a list of duration ranges, each with its deciding rule.
 */
export function offerFor(
  policy: Policy,
  email: string,
  account: Account,
  permissionSet: PermissionSet,
): Terms[] {
  const terms: Terms[] = [];
  // Ordinary requests, then break-glass ones: each kind is decided by its own rules (policy.ts).
  for (const breakGlass of [false, true]) {
    let covered = 0;
    for (const rule of policy.rules) {
      if ((rule.breakGlass !== undefined) !== breakGlass) continue;
      if (!matches(policy, rule, email, account, permissionSet) || rule.maxDuration <= covered) continue;
      terms.push({
        upToMinutes: rule.maxDuration,
        rule: rule.name,
        approval: approvalText(policy, rule, email),
        ...(breakGlass ? { breakGlass: true as const } : {}),
      });
      covered = rule.maxDuration;
    }
  }
  return terms;
}

/** What one requester may get for one group (group rules; never break-glass), as offerFor says for an account. */
export function groupOfferFor(policy: Policy, email: string, group: AccessGroup): Terms[] {
  const terms: Terms[] = [];
  let covered = 0;
  for (const rule of policy.rules) {
    if (rule.breakGlass || !(rule.accessGroups ?? []).includes(group.name)) continue;
    if (!matchesRequester(policy, rule.requesters, email) || rule.maxDuration <= covered) continue;
    terms.push({
      upToMinutes: rule.maxDuration,
      rule: rule.name,
      approval: approvalText(policy, rule, email),
    });
    covered = rule.maxDuration;
  }
  return terms;
}

/** Every offer of a requester: per account × permission set, then per group. */
function everyOffer(policy: Policy, email: string): Terms[] {
  const offers: Terms[] = [];
  for (const account of policy.accounts)
    for (const permissionSet of policy.permissionSets)
      offers.push(...offerFor(policy, email, account, permissionSet));
  for (const group of policy.accessGroups ?? []) offers.push(...groupOfferFor(policy, email, group));
  return offers;
}

function matches(policy: Policy, rule: Rule, email: string, account: Account, permissionSet: PermissionSet) {
  return (
    matchesRequester(policy, rule.requesters, email) &&
    ruleCoversAccount(rule, account) &&
    rulePermissionSets(policy, rule).some((p) => p.name === permissionSet.name)
  );
}

/** How a request is approved, and the ticket it must carry when the rule asks (a diff shows either change). */
function approvalText(policy: Policy, rule: Rule, email: string): string {
  const ticket =
    (rule.ticket?.required || rule.ticket?.pattern ? `, ticket ${ticketRuleText(rule.ticket)}` : '') +
    // A later start is a term too: an approval used days after it was given.
    (rule.scheduledStart ? `, may start up to ${rule.scheduledStart.maxDaysAhead}d later` : '');
  if (rule.breakGlass)
    return `break-glass, no approval, reviewed by [${expandPrincipals(policy, rule.breakGlass.reviewers)
      .filter((reviewer) => reviewer !== email.trim().toLowerCase())
      .sort()
      .join(', ')}] within ${formatMinutes(rule.breakGlass.reviewWindow)}${ticket}`;
  if (rule.approval === 'none') return `auto${ticket}`;
  const approvers = approversFor(policy, rule, email).sort();
  const self = rule.approval.allowSelfApproval ? ', self-approval allowed' : '';
  return `${rule.approval.required} of [${approvers.join(', ')}]${self}${ticket}`;
}

export const offerText = (terms: Terms[]): string =>
  terms.map((t) => `up to ${formatMinutes(t.upToMinutes)}: ${t.approval} (rule ${t.rule})`).join('; ');

// ---------------------------------------------------------------------------------------------
// explain

export interface Explanation {
  requester: string;
  account?: Account;
  permissionSet?: PermissionSet;
  /** A group request's group (core/group-access.ts), instead of an account and permission set. */
  group?: AccessGroup;
  durationMinutes: number;
  /** Every rule before the deciding one (or all, if none decides), with why it did not. */
  passedOver: Array<{ rule: string; why: string }>;
  decision:
    | {
        allowed: true;
        rule: string;
        approval: 'auto' | { approvers: string[]; required: number; selfApproval: boolean; channel?: string };
        /** The deciding rule's ticket requirement (core/ticket.ts). */
        ticket: TicketRule;
      }
    | { allowed: false; reason: string };
  /** The longest duration any rule allows this requester here (undefined: none). */
  longestMinutes?: number;
}

/** Which rule decides this request and why each earlier rule did not. */
export function explain(
  policy: Policy,
  request:
    | { requester: string; account: string; permissionSet: string; durationMinutes: number }
    | { requester: string; group: string; durationMinutes: number },
): Explanation {
  if ('group' in request) return explainGroup(policy, request);
  const account = findAccount(policy, request.account);
  const permissionSet = findPermissionSet(policy, request.permissionSet);
  const base = { requester: request.requester, durationMinutes: request.durationMinutes };
  if (!account || !permissionSet) {
    const what = account ? `Permission set ${request.permissionSet}` : `Account ${request.account}`;
    return { ...base, passedOver: [], decision: { allowed: false, reason: `${what} is not in the policy.` } };
  }
  const verdict = evaluateRequest(policy, {
    requesterEmail: request.requester,
    accountId: account.id,
    permissionSet: permissionSet.name,
    durationMinutes: request.durationMinutes,
  });
  const decidingIndex = verdict.allowed ? policy.rules.indexOf(verdict.rule) : policy.rules.length;
  const passedOver = policy.rules.slice(0, decidingIndex).map((rule) => ({
    rule: rule.name,
    why: whyNot(policy, rule, request.requester, account, permissionSet, request.durationMinutes),
  }));
  const offer = offerFor(policy, request.requester, account, permissionSet).filter((t) => !t.breakGlass);
  const longest = offer.at(-1)?.upToMinutes;
  const found = {
    ...base,
    account,
    permissionSet,
    passedOver,
    ...(longest ? { longestMinutes: longest } : {}),
  };
  if (!verdict.allowed) return { ...found, decision: { allowed: false, reason: verdict.reason } };
  return { ...found, decision: decidedBy(policy, verdict.rule, request.requester) };
}

/** The deciding rule's terms, as explain reports them. */
function decidedBy(policy: Policy, rule: Rule, requester: string): Explanation['decision'] {
  return {
    allowed: true,
    rule: rule.name,
    approval:
      rule.approval === 'none'
        ? 'auto'
        : {
            approvers: approversFor(policy, rule, requester).sort(),
            required: rule.approval.required,
            selfApproval: rule.approval.allowSelfApproval,
            ...(rule.approval.channel ? { channel: rule.approval.channel } : {}),
          },
    ticket: rule.ticket ?? { required: false },
  };
}

/** explain for a group request: the first group rule, in file order, that offers the group and the duration decides. */
function explainGroup(
  policy: Policy,
  request: { requester: string; group: string; durationMinutes: number },
): Explanation {
  const base = { requester: request.requester, durationMinutes: request.durationMinutes };
  const group = findAccessGroup(policy, request.group);
  if (!group)
    return {
      ...base,
      passedOver: [],
      decision: { allowed: false, reason: `Group ${request.group} is not in the policy.` },
    };
  const verdict = evaluateRequest(policy, {
    requesterEmail: request.requester,
    group: group.id,
    durationMinutes: request.durationMinutes,
  });
  const decidingIndex = verdict.allowed ? policy.rules.indexOf(verdict.rule) : policy.rules.length;
  const passedOver = policy.rules.slice(0, decidingIndex).map((rule) => ({
    rule: rule.name,
    why: rule.breakGlass
      ? 'a break-glass rule: it decides only requests asked for as break-glass'
      : !matchesRequester(policy, rule.requesters, request.requester)
        ? `${request.requester} is not among its requesters (${rule.requesters.join(', ')})`
        : !(rule.accessGroups ?? []).includes(group.name)
          ? `it does not offer the group ${group.name}`
          : `its maximum of ${formatMinutes(rule.maxDuration)} is shorter than ${formatMinutes(request.durationMinutes)}`,
  }));
  const longest = groupOfferFor(policy, request.requester, group).at(-1)?.upToMinutes;
  const found = { ...base, group, passedOver, ...(longest ? { longestMinutes: longest } : {}) };
  if (!verdict.allowed) return { ...found, decision: { allowed: false, reason: verdict.reason } };
  return { ...found, decision: decidedBy(policy, verdict.rule, request.requester) };
}

function whyNot(
  policy: Policy,
  rule: Rule,
  email: string,
  account: Account,
  permissionSet: PermissionSet,
  durationMinutes: number,
): string {
  if (rule.breakGlass) return 'a break-glass rule: it decides only requests asked for as break-glass';
  if (!matchesRequester(policy, rule.requesters, email))
    return `${email} is not among its requesters (${rule.requesters.join(', ')})`;
  if (!ruleAccounts(policy, rule).some((a) => a.id === account.id))
    return `it does not cover ${account.name}`;
  if (!rulePermissionSets(policy, rule).some((p) => p.name === permissionSet.name))
    return `it does not offer ${permissionSet.name}`;
  return `its maximum of ${formatMinutes(rule.maxDuration)} is shorter than ${formatMinutes(durationMinutes)}`;
}

// ---------------------------------------------------------------------------------------------
// diff and unreachable rules

/** A requester the review evaluates: a named person, or one standing for everyone a wildcard admits. */
export interface Requester {
  email: string;
  /** How to show it: the email, or "anyone else at @example.com" for a wildcard's representative. */
  label: string;
}

/**
 * Everyone who can tell two policies apart: every person either names (requesters, group members,
 * approvers: being an approver changes what a person may self-approve), and for each wildcard one
 * person it admits that no policy names.
 */
export function requestersOf(...policies: Policy[]): Requester[] {
  const named = new Set<string>();
  const wildcards = new Set<string>();
  for (const policy of policies)
    for (const rule of policy.rules) {
      for (const ref of rule.requesters) {
        if (ref === '*' || (ref.includes('*') && !ref.startsWith('group:'))) wildcards.add(ref.toLowerCase());
        else for (const email of expandPrincipals(policy, [ref])) named.add(email);
      }
      if (rule.approval !== 'none')
        for (const email of expandPrincipals(policy, rule.approval.approvers)) named.add(email);
    }
  const people: Requester[] = [...named].sort().map((email) => ({ email, label: email }));
  for (const pattern of [...wildcards].sort()) {
    const email =
      pattern === '*' ? 'someone-not-named@elsewhere.invalid' : pattern.replaceAll('*', 'someone-not-named');
    if (!named.has(email))
      people.push({ email, label: pattern === '*' ? 'anyone not named' : `anyone else matching ${pattern}` });
  }
  return people;
}

export interface AccessChange {
  requester: string;
  /** The account (`name (id)`), or empty for a group's change. */
  account: string;
  /** The permission set, or empty for a group's change. */
  permissionSet: string;
  /** An access group's change (`name (id)`), instead of an account and permission set. */
  group?: string;
  change: 'gained' | 'lost' | 'changed';
  before: Terms[];
  after: Terms[];
}

/** What `after` grants and takes away compared with `before`, per requester × account × permission set. */
export function diffPolicies(before: Policy, after: Policy): AccessChange[] {
  const accounts = new Map<string, string>();
  for (const a of [...before.accounts, ...after.accounts]) accounts.set(a.id, a.name);
  const permissionSets = [...new Set([...before.permissionSets, ...after.permissionSets].map((p) => p.name))];
  const changes: AccessChange[] = [];
  for (const requester of requestersOf(before, after))
    for (const [accountId, accountName] of accounts)
      for (const name of permissionSets) {
        const offer = (policy: Policy) => {
          const account = findAccount(policy, accountId);
          const permissionSet = findPermissionSet(policy, name);
          return account && permissionSet ? offerFor(policy, requester.email, account, permissionSet) : [];
        };
        const was = offer(before);
        const is = offer(after);
        if (termsKey(was) === termsKey(is)) continue;
        changes.push({
          requester: requester.label,
          account: `${accountName} (${accountId})`,
          permissionSet: name,
          change: was.length === 0 ? 'gained' : is.length === 0 ? 'lost' : 'changed',
          before: was,
          after: is,
        });
      }
  // Group access (core/group-access.ts): per requester × group, by the group's id.
  const groups = new Map<string, string>();
  for (const g of [...(before.accessGroups ?? []), ...(after.accessGroups ?? [])]) groups.set(g.id, g.name);
  for (const requester of requestersOf(before, after))
    for (const [groupId, groupName] of groups) {
      const offer = (policy: Policy) => {
        const group = (policy.accessGroups ?? []).find((g) => g.id === groupId);
        return group ? groupOfferFor(policy, requester.email, group) : [];
      };
      const was = offer(before);
      const is = offer(after);
      if (termsKey(was) === termsKey(is)) continue;
      changes.push({
        requester: requester.label,
        account: '',
        permissionSet: '',
        group: `${groupName} (${groupId})`,
        change: was.length === 0 ? 'gained' : is.length === 0 ? 'lost' : 'changed',
        before: was,
        after: is,
      });
    }
  return changes;
}

/** Terms compared by what they grant; a renamed rule that grants the same is no change. */
const termsKey = (terms: Terms[]) => JSON.stringify(terms.map((t) => [t.upToMinutes, t.approval]));

/** Rules that decide no request of anyone: every request they match is decided by an earlier rule. */
export function unreachableRules(policy: Policy): string[] {
  const deciding = new Set<string>();
  for (const requester of requestersOf(policy))
    for (const terms of everyOffer(policy, requester.email)) deciding.add(terms.rule);
  return policy.rules.filter((r) => !deciding.has(r.name)).map((r) => r.name);
}

/**
 * Requests a rule decides but nobody can approve: fewer approvers other than the requester than
 * the quorum (the policy's own check counts the requester among the approvers).
 */
export function unapprovable(
  policy: Policy,
): Array<{ rule: string; requester: string; approvers: number; required: number }> {
  const found = new Map<string, { rule: string; requester: string; approvers: number; required: number }>();
  for (const requester of requestersOf(policy))
    for (const terms of everyOffer(policy, requester.email)) {
      const rule = policy.rules.find((r) => r.name === terms.rule);
      if (!rule || rule.approval === 'none') continue;
      const approvers = approversFor(policy, rule, requester.email).length;
      if (approvers < rule.approval.required)
        found.set(`${rule.name}|${requester.label}`, {
          rule: rule.name,
          requester: requester.label,
          approvers,
          required: rule.approval.required,
        });
    }
  return [...found.values()];
}
