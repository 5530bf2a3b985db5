import { canonicalJson } from './audit-chain';
import { formatMinutes } from './duration';
import type { AccessRequest, RequestRecord } from './model';
import {
  type Account,
  evaluateRequest,
  findAccount,
  findPermissionSet,
  optionsFor,
  type Policy,
  type Rule,
} from './policy';
import type { Notifier, RequestStore } from './ports';
import { type AcceptedForm, MAX_SELECT_OPTIONS, searchAccounts } from './request-form';
import { checkStart } from './scheduled-start';
import { checkTicket } from './ticket';

// Several accounts in one request: one permission set on up to `maxAccounts` accounts (per rule,
// default 10). Each account is a request of its own, with its own execution, holders record,
// window and trail, so every guarantee of a single assignment holds per account. What they share
// is the asking: the set's first member posts one approval message for all of them, and a
// decision on it is taken for every member (core/decisions.ts).
//
// Accounts that fall under different rules are split, one set per deciding rule, each asked of
// its own rule's approvers: a rule's approvers then decide only what their rule covers, with
// that rule's quorum, timeout and channel, exactly as for a single request. Requiring every
// rule's approvers on one message instead would let one rule's approvers hold up (or speak for)
// accounts another rule governs.

/**
 * How many more accounts than the first the form offers this requester: the largest
 * `maxAccounts` of their account rules, less one (0: the form shows no "more accounts" menu);
 * once an account and permission set are picked, the limit of the rule that decides them.
 */
export function moreAccountsAllowed(
  policy: Policy,
  requesterEmail: string,
  picked?: {
    accountId?: string | undefined;
    permissionSet?: string | undefined;
    durationMinutes?: number | undefined;
  },
): number {
  if (picked?.accountId && picked.permissionSet) {
    const verdict = evaluateRequest(policy, {
      requesterEmail,
      accountId: picked.accountId,
      permissionSet: picked.permissionSet,
      durationMinutes: picked.durationMinutes ?? 1,
    });
    if (verdict.allowed && !verdict.rule.breakGlass) return verdict.rule.maxAccounts - 1;
  }
  const names = new Set(optionsFor(policy, requesterEmail).map((o) => o.ruleName));
  const limits = policy.rules.filter((r) => names.has(r.name) && !r.breakGlass).map((r) => r.maxAccounts);
  return Math.max(0, ...limits) > 1 ? Math.max(...limits) - 1 : 0;
}

/**
 * The "more accounts" menu: accounts matching `query` on which this requester may have the
 * permission set already picked (any of theirs until one is), the first account left out.
 */
export function searchMoreAccounts(
  policy: Policy,
  requesterEmail: string,
  permissionSetName: string | undefined,
  firstAccountId: string | undefined,
  query: string,
): Account[] {
  const permissionSet = permissionSetName ? findPermissionSet(policy, permissionSetName) : undefined;
  const offered = new Set(
    optionsFor(policy, requesterEmail)
      .filter((o) => !permissionSet || o.permissionSet.arn === permissionSet.arn)
      .map((o) => o.account.id),
  );
  return searchAccounts(policy, requesterEmail, query, Number.MAX_SAFE_INTEGER)
    .filter((a) => offered.has(a.id) && a.id !== firstAccountId)
    .slice(0, MAX_SELECT_OPTIONS);
}

export type SetCheck = { ok: true; groups: AcceptedForm[][] } | { ok: false; message: string };

/**
 * The form's further accounts, checked like the first one (same permission set, duration,
 * ticket and start) and grouped by deciding rule; the first group holds the first account.
 */
export function checkMoreAccounts(
  policy: Policy,
  requesterEmail: string,
  first: AcceptedForm,
  moreAccountIds: readonly string[],
  now: Date,
): SetCheck {
  const extra = [...new Set(moreAccountIds)].filter((id) => id !== first.accountId);
  if (extra.length === 0) return { ok: true, groups: [[first]] };
  const permissionSet = first.verdict.permissionSet;
  if (first.accountId === null || !permissionSet)
    return { ok: false, message: 'Several accounts are for account access: a group is asked for alone.' };
  if (first.breakGlass) return { ok: false, message: 'Break glass is for one account at a time.' };
  const forms: AcceptedForm[] = [first];
  for (const id of extra) {
    const account = findAccount(policy, id);
    if (!account) return { ok: false, message: `Account ${id} is not in the access policy.` };
    const verdict = evaluateRequest(policy, {
      requesterEmail,
      accountId: account.id,
      permissionSet: permissionSet.name,
      durationMinutes: first.durationMinutes,
    });
    if (!verdict.allowed)
      return {
        ok: false,
        message:
          verdict.field === 'duration'
            ? `${formatMinutes(first.durationMinutes)} is longer than you can have ${permissionSet.name} on ${account.name}.`
            : `You cannot request ${permissionSet.name} on ${account.name}.`,
      };
    const ticket = checkTicket(verdict.rule, first.ticket ?? '');
    if (!ticket.ok) return { ok: false, message: `${account.name}: ${ticket.message}` };
    if (first.startAt) {
      const start = checkStart(verdict.rule, first.startAt, now.getTime());
      if (!start.ok) return { ok: false, message: `${account.name}: ${start.message}` };
    }
    forms.push({ ...first, accountId: account.id, verdict });
  }
  const groups = new Map<string, AcceptedForm[]>();
  for (const form of forms) {
    const name = form.verdict.rule.name;
    groups.set(name, [...(groups.get(name) ?? []), form]);
  }
  for (const group of groups.values()) {
    const rule = group[0]?.verdict.rule;
    if (rule && group.length > rule.maxAccounts) return { ok: false, message: tooMany(rule) };
  }
  return { ok: true, groups: [...groups.values()] };
}

const tooMany = (rule: Rule) =>
  `Rule ${rule.name} allows at most ${rule.maxAccounts} account${rule.maxAccounts === 1 ? '' : 's'} in one request.`;

/**
 * The request ids of one form's accounts, in the form's order: the first keeps the form's own id
 * (a one-account request is named as it always was), the others add `-2`, `-3`… All derive from
 * the modal's view id, so a resubmitted form names the same executions and starts nothing new.
 */
export function memberRequestIds(baseId: string, count: number): string[] {
  return Array.from({ length: count }, (_, i) => (i === 0 ? baseId : `${baseId}-${i + 1}`));
}

/** The set a member's id belongs to, within its group's ids: none for a group of one. */
export function setOf(ids: readonly string[]): AccessRequest['set'] {
  const [id] = ids;
  return id !== undefined && ids.length > 1 ? { id, members: [...ids] } : undefined;
}

/** Validate's check: the set fits its rule's limit (the form's check, repeated server-side). */
export function setProblem(request: AccessRequest, rule: Rule): string | undefined {
  if (!request.set) return undefined;
  if (rule.breakGlass) return 'Break glass is for one account at a time.';
  return request.set.members.length > rule.maxAccounts ? tooMany(rule) : undefined;
}

/** The member that asks the approvers for the whole set: the set's first (itself when alone). */
export const setLeadOf = (request: AccessRequest): string => request.set?.id ?? request.requestId;

/** A member asked through its set's lead: it keeps its task token but posts nothing itself. */
export const asksThroughLead = (request: AccessRequest): boolean =>
  request.set !== undefined && request.set.id !== request.requestId;

/**
 * Every stored member of this record's set, in the set's order (itself alone when in none): the
 * records its one message shows and its one decision decides. Only requests that name the same
 * set and the same requester count: a request naming someone else's request among its members
 * (a forged execution input) neither shows it to the approver nor gets it decided.
 */
export async function setRecords(
  store: Pick<RequestStore, 'getRequest'>,
  record: RequestRecord,
): Promise<RequestRecord[]> {
  const set = record.request.set;
  if (!set) return [record];
  const records = await Promise.all(
    set.members.map((id) => (id === record.request.requestId ? record : store.getRequest(id))),
  );
  const requester = record.request.requester.slackUserId;
  return records.filter(
    (r): r is RequestRecord =>
      r !== undefined && r.request.set?.id === set.id && r.request.requester.slackUserId === requester,
  );
}

/**
 * Renders of a set's message per member, at most (see withSetMessages): each further render
 * needs a member to have changed since the last read, and a member changes a few times between
 * its approval and its close, so the bound is met only by a set still changing; it stops a
 * writer from following a busy set for ever, and the set's next change renders it again.
 */
const SET_RENDERS_PER_MEMBER = 3;

/**
 * The notifier as the core uses it: a set member's approval message is rendered with every
 * member of its set (read from the store at each render), so each step, decision and reconciler
 * pass updates the set's one message without knowing about sets. Members' steps run at once, and
 * Slack keeps whichever chat.update lands last: so after each update the set is read again, and
 * rendered again if a member changed meanwhile. The update that lands last is followed by its
 * writer's own read, which sees every change before it: the message ends showing the set as stored.
 */
export function withSetMessages(notifier: Notifier, store: Pick<RequestStore, 'getRequest'>): Notifier {
  const setFor = async (record: RequestRecord, given?: readonly RequestRecord[]) =>
    given ?? (record.request.set ? await setRecords(store, record) : undefined);
  // The whole records, keys sorted (a store may return attributes in any order): updatedAt alone
  // misses two writes within one millisecond.
  const shown = (members: readonly RequestRecord[]) => canonicalJson(members);
  return {
    // Called as before when not in a set: the port sees exactly the single request's call.
    requestApproval: async (record, approvers, keep, keepCopy, set) => {
      const members = await setFor(record, set);
      return members
        ? notifier.requestApproval(record, approvers, keep, keepCopy, members)
        : notifier.requestApproval(record, approvers, keep, keepCopy);
    },
    updateRequestMessages: async (record, set) => {
      let members = await setFor(record, set);
      if (!members) return notifier.updateRequestMessages(record);
      let latest = record;
      for (let render = 1; ; render++) {
        await notifier.updateRequestMessages(latest, members);
        if (render >= SET_RENDERS_PER_MEMBER * members.length) return;
        latest = (await store.getRequest(record.request.requestId)) ?? latest;
        const again = await setRecords(store, latest);
        if (shown(again) === shown(members)) return;
        members = again;
      }
    },
    remindApprovers: (...args) => notifier.remindApprovers(...args),
    notifyRequester: (...args) => notifier.notifyRequester(...args),
    updateRequesterDm: (...args) => notifier.updateRequesterDm(...args),
    alert: (...args) => notifier.alert(...args),
    breakGlassAlert: (...args) => notifier.breakGlassAlert(...args),
    breakGlassUpdate: (...args) => notifier.breakGlassUpdate(...args),
  };
}
