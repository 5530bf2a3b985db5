import { formatMinutes } from './duration';
import type { AccessRequest } from './model';
import {
  type AccessGroup,
  type Account,
  evaluateRequest,
  findAccessGroup,
  findAccount,
  GROUP_CHOICE_PREFIX,
  groupChoice,
  groupOptionsFor,
  optionsFor,
  type PermissionSet,
  type Policy,
  type RequestVerdict,
} from './policy';
import { checkFormStart, checkStart } from './scheduled-start';
import { checkTicket } from './ticket';

// The Slack-facing questions about a request form: which choices a requester gets, and whether
// a submitted form is acceptable (answers keyed by form field so the Slack layer can show them
// inline).

/** Durations offered in the form; the rule's maximum is always offered as well. */
export const DURATION_STEPS = [15, 30, 60, 120, 240, 480, 720, 1440, 2880, 4320, 10080] as const;

export const MAX_REASON_LENGTH = 1000;
export const MAX_TICKET_LENGTH = 100;
/** Slack's limit on options in one select menu. */
export const MAX_SELECT_OPTIONS = 100;

export type FormField =
  | 'account'
  | 'permissionSet'
  | 'moreAccounts'
  | 'duration'
  | 'reason'
  | 'ticket'
  | 'start';
export type FormErrors = Partial<Record<FormField, string>>;

/** Durations up to `maxMinutes`, ascending, always including the maximum itself. */
export function durationChoices(maxMinutes: number): number[] {
  if (!Number.isInteger(maxMinutes) || maxMinutes <= 0) return [];
  const steps: number[] = DURATION_STEPS.filter((m) => m < maxMinutes);
  return [...steps, maxMinutes];
}

/** The longest duration this requester may ask for, optionally narrowed to an account / permission set. */
export function maxMinutesFor(
  policy: Policy,
  requesterEmail: string,
  accountId?: string,
  permissionSetName?: string,
): number | undefined {
  const group = groupChoice(accountId);
  const groups = groupOptionsFor(policy, requesterEmail).filter((o) => !group || o.group.id === group);
  if (group !== undefined) return groups.length ? Math.max(...groups.map((o) => o.maxMinutes)) : undefined;
  const options = optionsFor(policy, requesterEmail).filter(
    (o) =>
      (!accountId || o.account.id === accountId) &&
      (!permissionSetName ||
        o.permissionSet.name === permissionSetName ||
        o.permissionSet.arn === permissionSetName),
  );
  // Nothing picked yet: the requester's groups count too.
  const all = [...options, ...(accountId || permissionSetName ? [] : groups)];
  if (all.length === 0) return undefined;
  return Math.max(...all.map((o) => o.maxMinutes));
}

/**
 * How many days ahead this requester may schedule a start under some rule of theirs (undefined:
 * no rule of theirs allows a later start, and the form shows no start picker).
 */
export function startDaysAheadFor(policy: Policy, requesterEmail: string): number | undefined {
  const names = new Set(
    [...optionsFor(policy, requesterEmail), ...groupOptionsFor(policy, requesterEmail)].map(
      (o) => o.ruleName,
    ),
  );
  const days = policy.rules
    .filter((r) => names.has(r.name) && r.scheduledStart && !r.breakGlass)
    .map((r) => r.scheduledStart?.maxDaysAhead ?? 0);
  return days.length ? Math.max(...days) : undefined;
}

const matches = (query: string, ...texts: string[]) => {
  const q = query.trim().toLowerCase();
  return q === '' || texts.some((t) => t.toLowerCase().includes(q));
};

/** Accounts this requester may ask for whose name or id contains `query`, by name, at most `limit`. */
export function searchAccounts(
  policy: Policy,
  requesterEmail: string,
  query: string,
  limit = MAX_SELECT_OPTIONS,
): Account[] {
  const seen = new Map<string, Account>();
  for (const option of optionsFor(policy, requesterEmail)) seen.set(option.account.id, option.account);
  return [...seen.values()]
    .filter((a) => matches(query, a.name, a.id))
    .sort((a, b) => a.name.localeCompare(b.name))
    .slice(0, limit);
}

/** Permission sets this requester may ask for (on `accountId` when given) matching `query`. */
export function searchPermissionSets(
  policy: Policy,
  requesterEmail: string,
  accountId: string | undefined,
  query: string,
  limit = MAX_SELECT_OPTIONS,
): PermissionSet[] {
  const seen = new Map<string, PermissionSet>();
  for (const option of optionsFor(policy, requesterEmail)) {
    if (!accountId || option.account.id === accountId)
      seen.set(option.permissionSet.arn, option.permissionSet);
  }
  return [...seen.values()]
    .filter((p) => matches(query, p.name, p.description ?? ''))
    .sort((a, b) => a.name.localeCompare(b.name))
    .slice(0, limit);
}

/** What a person typed or picked in the form; every field may be missing or malformed. */
export interface RequestFormInput {
  accountId?: string | undefined;
  permissionSet?: string | undefined;
  durationMinutes?: string | number | undefined;
  reason?: string | undefined;
  ticket?: string | undefined;
  /** Asked as break-glass (the form's checkbox). */
  breakGlass?: boolean | undefined;
  /** A later start (the form's date-time picker): Unix seconds; absent to begin when approved. */
  startAtSeconds?: number | undefined;
}

export interface AcceptedForm {
  /** null for a group request (its group in groupId). */
  accountId: string | null;
  permissionSetArn: string | null;
  groupId?: string;
  durationMinutes: number;
  reason: string;
  ticket?: string;
  breakGlass?: true;
  /** RFC 3339, when a later start was asked for. */
  startAt?: string;
  verdict: Extract<RequestVerdict, { allowed: true }>;
}

/** Checks a submitted form against the policy; errors name the field they belong to. */
export function checkRequestForm(
  policy: Policy,
  requesterEmail: string,
  input: RequestFormInput,
  now: Date = new Date(),
): { ok: true; value: AcceptedForm } | { ok: false; errors: FormErrors } {
  const errors: FormErrors = {};
  const startMs = input.startAtSeconds === undefined ? undefined : input.startAtSeconds * 1000;
  const startAt =
    startMs !== undefined && Number.isSafeInteger(startMs) ? new Date(startMs).toISOString() : undefined;
  if (startMs !== undefined) {
    const lead = startAt
      ? checkFormStart(startMs, now.getTime())
      : { ok: false as const, message: 'The start is not a time.' };
    if (!lead.ok) errors.start = lead.message;
    else if (input.breakGlass) errors.start = 'Break glass begins at once: leave the start empty.';
  }
  const reason = typeof input.reason === 'string' ? input.reason.trim() : '';
  if (!reason) errors.reason = 'Please say why you need this access.';
  else if (reason.length > MAX_REASON_LENGTH)
    errors.reason = `Please keep the reason under ${MAX_REASON_LENGTH.toLocaleString('en-US')} characters.`;
  const ticket = typeof input.ticket === 'string' ? input.ticket.trim() : '';
  if (ticket.length > MAX_TICKET_LENGTH)
    errors.ticket = `A ticket reference has at most ${MAX_TICKET_LENGTH} characters.`;

  const groupRef = groupChoice(input.accountId);
  if (groupRef !== undefined)
    return checkGroupForm(policy, requesterEmail, input, groupRef, errors, reason, ticket, startAt, now);
  const account = input.accountId ? findAccount(policy, input.accountId) : undefined;
  if (!input.accountId) errors.account = 'Pick an account.';
  else if (!account) errors.account = 'That account is not in the access policy.';
  if (!input.permissionSet) errors.permissionSet = 'Pick a permission set.';

  const minutes =
    typeof input.durationMinutes === 'number'
      ? input.durationMinutes
      : typeof input.durationMinutes === 'string' && /^\d{1,6}$/.test(input.durationMinutes)
        ? Number(input.durationMinutes)
        : Number.NaN;
  if (!Number.isInteger(minutes) || minutes <= 0) errors.duration = 'Pick a duration.';

  if (account && input.permissionSet && !errors.duration) {
    const verdict = evaluateRequest(policy, {
      requesterEmail,
      accountId: account.id,
      permissionSet: input.permissionSet,
      durationMinutes: minutes,
      ...(input.breakGlass ? { breakGlass: true } : {}),
    });
    if (!verdict.allowed) {
      const field: FormField =
        verdict.field === 'requester'
          ? 'permissionSet'
          : verdict.field === 'duration'
            ? 'duration'
            : verdict.field === 'group'
              ? 'account'
              : verdict.field;
      const max = maxMinutesFor(policy, requesterEmail, account.id, input.permissionSet);
      errors[field] =
        verdict.field === 'duration' && max
          ? `The longest you can ask for here is ${formatMinutes(max)}.`
          : verdict.field === 'requester'
            ? input.breakGlass
              ? `No break-glass rule covers ${input.permissionSet} on ${account.name}; untick break glass to ask for approval.`
              : `You cannot request ${input.permissionSet} on ${account.name}.`
            : verdict.reason;
    } else if (!errors.ticket) {
      // Against the rule that decides this request: the check Validate repeats server-side.
      const ticketCheck = checkTicket(verdict.rule, ticket);
      if (!ticketCheck.ok) errors.ticket = ticketCheck.message;
      if (startAt && !errors.start) {
        const startCheck = checkStart(verdict.rule, startAt, now.getTime());
        if (!startCheck.ok) errors.start = startCheck.message;
      }
    }
    if (verdict.allowed && verdict.permissionSet && Object.keys(errors).length === 0) {
      return {
        ok: true,
        value: {
          accountId: account.id,
          permissionSetArn: verdict.permissionSet.arn,
          durationMinutes: minutes,
          reason,
          ...(ticket ? { ticket } : {}),
          ...(input.breakGlass ? { breakGlass: true as const } : {}),
          ...(startAt ? { startAt } : {}),
          verdict,
        },
      };
    }
  }
  return { ok: false, errors };
}

/** Groups this requester may ask to join whose name contains `query`, by name, at most `limit`. */
export function searchGroups(
  policy: Policy,
  requesterEmail: string,
  query: string,
  limit = MAX_SELECT_OPTIONS,
): AccessGroup[] {
  return (
    groupOptionsFor(policy, requesterEmail)
      .map((o) => o.group)
      // As the menu shows them ("Group: <name>"), so typing "group" lists them all.
      .filter((g) => matches(query, `Group: ${g.name}`, `${GROUP_CHOICE_PREFIX}${g.id}`, g.description ?? ''))
      .sort((a, b) => a.name.localeCompare(b.name))
      .slice(0, limit)
  );
}

function parseMinutes(value: RequestFormInput['durationMinutes']): number {
  return typeof value === 'number'
    ? value
    : typeof value === 'string' && /^\d{1,6}$/.test(value)
      ? Number(value)
      : Number.NaN;
}

/** A group request's form: the group, the duration, the reason and the ticket (no permission set). */
function checkGroupForm(
  policy: Policy,
  requesterEmail: string,
  input: RequestFormInput,
  groupRef: string,
  errors: FormErrors,
  reason: string,
  ticket: string,
  startAt: string | undefined,
  now: Date,
): { ok: true; value: AcceptedForm } | { ok: false; errors: FormErrors } {
  const group = findAccessGroup(policy, groupRef);
  if (!group) errors.account = 'That group is not in the access policy.';
  if (input.breakGlass) errors.account = 'Break-glass requests are for accounts, not groups.';
  const minutes = parseMinutes(input.durationMinutes);
  if (!Number.isInteger(minutes) || minutes <= 0) errors.duration = 'Pick a duration.';
  if (!group || errors.account || errors.duration) return { ok: false, errors };
  const verdict = evaluateRequest(policy, { requesterEmail, group: group.id, durationMinutes: minutes });
  if (!verdict.allowed) {
    const longest = groupOptionsFor(policy, requesterEmail).find((o) => o.group.id === group.id)?.maxMinutes;
    if (verdict.field === 'duration' && longest)
      errors.duration = `The longest you can ask for here is ${formatMinutes(longest)}.`;
    else
      errors.account =
        verdict.field === 'requester' ? `You cannot join the group ${group.name}.` : verdict.reason;
    return { ok: false, errors };
  }
  if (!errors.ticket) {
    const ticketCheck = checkTicket(verdict.rule, ticket);
    if (!ticketCheck.ok) errors.ticket = ticketCheck.message;
  }
  if (startAt && !errors.start) {
    const startCheck = checkStart(verdict.rule, startAt, now.getTime());
    if (!startCheck.ok) errors.start = startCheck.message;
  }
  if (Object.keys(errors).length > 0) return { ok: false, errors };
  return {
    ok: true,
    value: {
      accountId: null,
      permissionSetArn: null,
      groupId: group.id,
      durationMinutes: minutes,
      reason,
      ...(ticket ? { ticket } : {}),
      ...(startAt ? { startAt } : {}),
      verdict,
    },
  };
}

export function buildAccessRequest(
  requestId: string,
  requester: { slackUserId: string; email: string },
  form: AcceptedForm,
  now: Date,
): AccessRequest {
  return {
    requestId,
    requester,
    accountId: form.accountId,
    permissionSetArn: form.permissionSetArn,
    ...(form.groupId !== undefined ? { groupId: form.groupId } : {}),
    durationMinutes: form.durationMinutes,
    reason: form.reason,
    ...(form.ticket ? { ticket: form.ticket } : {}),
    ...(form.breakGlass ? { breakGlass: true as const } : {}),
    ...(form.startAt ? { startAt: form.startAt } : {}),
    requestedAt: now.toISOString(),
  };
}
