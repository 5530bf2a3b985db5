import {
  findAccessGroup,
  groupChoice,
  matchesRequester,
  type Policy,
  type Rule,
  ruleAccounts,
  rulePermissionSets,
} from './policy';

// A rule's ticket requirement (`ticket: { required, pattern, hint }` in the policy), in one place:
// the request form asks it before a submission is accepted, Validate asks it again server-side
// (the Slack function faces the internet and is not trusted to have asked), and the policy
// review prints it.

/** What a rule asks of a request's ticket reference; a rule without `ticket` asks nothing. */
export type TicketRule = NonNullable<Rule['ticket']>;

export type TicketCheck = { ok: true } | { ok: false; problem: 'missing' | 'mismatch'; message: string };

/** The deciding rule's verdict on a ticket reference (trimmed here too: Validate gets the execution input as sent). */
export function checkTicket(rule: Rule, ticket: string | undefined): TicketCheck {
  const wanted = rule.ticket;
  if (!wanted) return { ok: true };
  const given = ticket?.trim() ?? '';
  if (!given) {
    if (!wanted.required) return { ok: true };
    const like = wanted.hint ?? (wanted.pattern ? `matching ${wanted.pattern}` : undefined);
    return {
      ok: false,
      problem: 'missing',
      message: `This access needs a ticket reference${like ? ` (${like})` : ''}.`,
    };
  }
  // Validated as a regular expression when the policy was loaded (policy-file.ts), with the same flags.
  if (wanted.pattern && !new RegExp(wanted.pattern).test(given))
    return {
      ok: false,
      problem: 'mismatch',
      message: `That ticket reference is not one this access accepts (${wanted.hint ?? `it must match ${wanted.pattern}`}).`,
    };
  return { ok: true };
}

/** "required, matching ^(INC|CHG)-\d+$", "not required", …: how `npm run policy -- explain` says it. */
export function ticketRuleText(ticket: TicketRule | undefined): string {
  const matching = ticket?.pattern ? `matching ${ticket.pattern}` : undefined;
  if (ticket?.required) return matching ? `required, ${matching}` : 'required';
  return matching ? `not required; when given, ${matching}` : 'not required';
}

/** What the form says about the ticket input: asked by some rule that could decide, or required by every one. */
export interface TicketPrompt {
  /** always: every rule that could decide what was picked so far requires one; sometimes: some do. */
  required: 'always' | 'sometimes' | 'never';
  /** The hints of the rules that ask, each once. */
  hints: string[];
}

/**
 * The ticket prompt for the rules that could decide a request of this requester, narrowed to the
 * account and permission set picked so far; undefined when none of them asks for a ticket.
 */
export function ticketPromptFor(
  policy: Policy,
  requesterEmail: string,
  picked: { accountId?: string | undefined; permissionSet?: string | undefined } = {},
): TicketPrompt | undefined {
  const group = groupChoice(picked.accountId);
  const groupName = group === undefined ? undefined : findAccessGroup(policy, group)?.name;
  const rules = policy.rules.filter((rule) =>
    group !== undefined
      ? matchesRequester(policy, rule.requesters, requesterEmail) &&
        groupName !== undefined &&
        (rule.accessGroups ?? []).includes(groupName)
      : matchesRequester(policy, rule.requesters, requesterEmail) &&
        (!picked.accountId ||
          ruleAccounts(policy, rule).some((a) => a.id === picked.accountId || a.name === picked.accountId)) &&
        (!picked.permissionSet ||
          rulePermissionSets(policy, rule).some(
            (p) => p.name === picked.permissionSet || p.arn === picked.permissionSet,
          )),
  );
  const asking = rules.filter((rule) => rule.ticket && (rule.ticket.required || rule.ticket.pattern));
  if (asking.length === 0) return undefined;
  return {
    required: rules.every((rule) => rule.ticket?.required)
      ? 'always'
      : rules.some((rule) => rule.ticket?.required)
        ? 'sometimes'
        : 'never',
    hints: [...new Set(asking.flatMap((rule) => (rule.ticket?.hint ? [rule.ticket.hint] : [])))],
  };
}
