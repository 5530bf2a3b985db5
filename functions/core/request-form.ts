import { createHash } from 'node:crypto';
import * as z from 'zod/mini';
import { formatMinutes } from './duration';
import { pendingExtensionOf, pendingExtensionRule, totalWith } from './extensions';
import type { AccessRequest, RequestRecord } from './model';
import {
  type Account,
  checkApprover,
  evaluateRequest,
  findAccount,
  findRule,
  optionsFor,
  type PermissionSet,
  type Policy,
  type RequestVerdict,
  rulesFor,
} from './policy';
import type { UserDirectory } from './ports';

// The Slack-facing questions about a request form: which choices a requester gets, whether a
// submitted form is acceptable (answers keyed by form field so the Slack layer can show them
// inline), and the request id of a submission. Pure apart from the identity-store lookup.

/** Durations offered in the form; the rule's maximum is always offered as well. */
export const DURATION_STEPS = [15, 30, 60, 120, 240, 480, 720, 1440, 2880, 4320, 10080] as const;

export const MAX_REASON_LENGTH = 1000;
export const MAX_TICKET_LENGTH = 100;
/** Slack's limit on options in one select menu. */
export const MAX_SELECT_OPTIONS = 100;

export type FormField = 'account' | 'permissionSet' | 'duration' | 'reason' | 'ticket';
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
  const options = optionsFor(policy, requesterEmail).filter(
    (o) =>
      (!accountId || o.account.id === accountId) &&
      (!permissionSetName ||
        o.permissionSet.name === permissionSetName ||
        o.permissionSet.arn === permissionSetName),
  );
  if (options.length === 0) return undefined;
  return Math.max(...options.map((o) => o.maxMinutes));
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
}

export interface AcceptedForm {
  accountId: string;
  permissionSetArn: string;
  durationMinutes: number;
  reason: string;
  ticket?: string;
  verdict: Extract<RequestVerdict, { allowed: true }>;
}

/** Checks a submitted form against the policy; errors name the field they belong to. */
export function checkRequestForm(
  policy: Policy,
  requesterEmail: string,
  input: RequestFormInput,
): { ok: true; value: AcceptedForm } | { ok: false; errors: FormErrors } {
  const errors: FormErrors = {};
  const reason = typeof input.reason === 'string' ? input.reason.trim() : '';
  if (!reason) errors.reason = 'Please say why you need this access.';
  else if (reason.length > MAX_REASON_LENGTH)
    errors.reason = `Please keep the reason under ${MAX_REASON_LENGTH.toLocaleString('en-US')} characters.`;
  const ticket = typeof input.ticket === 'string' ? input.ticket.trim() : '';
  if (ticket.length > MAX_TICKET_LENGTH)
    errors.ticket = `A ticket reference has at most ${MAX_TICKET_LENGTH} characters.`;

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
    });
    if (!verdict.allowed) {
      const field: FormField =
        verdict.field === 'requester'
          ? 'permissionSet'
          : verdict.field === 'duration'
            ? 'duration'
            : verdict.field;
      const max = maxMinutesFor(policy, requesterEmail, account.id, input.permissionSet);
      errors[field] =
        verdict.field === 'duration' && max
          ? `The longest you can ask for here is ${formatMinutes(max)}.`
          : verdict.field === 'requester'
            ? `You cannot request ${input.permissionSet} on ${account.name}.`
            : verdict.reason;
    } else if (Object.keys(errors).length === 0) {
      return {
        ok: true,
        value: {
          accountId: account.id,
          permissionSetArn: verdict.permissionSet.arn,
          durationMinutes: minutes,
          reason,
          ...(ticket ? { ticket } : {}),
          verdict,
        },
      };
    }
  }
  return { ok: false, errors };
}

/**
 * The request id of a form submission: derived from the modal's view id (unique per opened
 * modal, identical when Slack retries or the person double-clicks Submit), so a second
 * submission names the same execution and starts nothing new.
 */
export function requestIdForView(teamId: string, viewId: string): string {
  const digest = createHash('sha256').update(`${teamId}:${viewId}`).digest('hex');
  return `req-${digest.slice(0, 24)}`;
}

/**
 * The Identity Center user of an email. Emails are compared case-insensitively by people, not
 * always by directories: the address as Slack has it is tried first, then its lower-case form.
 */
export async function resolvePrincipal(
  users: UserDirectory,
  email: string,
): Promise<{ principalId: string; email: string } | undefined> {
  const candidates = [...new Set([email.trim(), email.trim().toLowerCase()])];
  for (const candidate of candidates) {
    const principalId = await users.findUserIdByEmail(candidate);
    if (principalId) return { principalId, email: candidate };
  }
  return undefined;
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
    durationMinutes: form.durationMinutes,
    reason: form.reason,
    ...(form.ticket ? { ticket: form.ticket } : {}),
    requestedAt: now.toISOString(),
  };
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
    accountId: record.request.accountId,
    permissionSet: record.request.permissionSetArn,
  });
  const used = totalWith(record, 0);
  const room = Math.max(0, ...rules.map((r) => r.maxDuration)) - used;
  if (!Number.isInteger(room) || room <= 0) return [];
  const limits = rules.map((r) => r.maxDuration - used).filter((m) => m > 0);
  return [...new Set([...durationChoices(room), ...limits])].sort((a, b) => a - b);
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
  kind: 'request' | 'extension' = 'request',
): DecisionPrecheck {
  if (!record) return { ok: false, reason: 'not-found' };
  if (kind === 'extension') {
    const pending = pendingExtensionOf(record);
    if (!pending || record.status !== 'ACTIVE') return { ok: false, reason: 'already-decided' };
    // No rule allows it any more: the click goes through, and the core refuses and clears it.
    const rule = pendingExtensionRule(policy, record);
    if (!rule) return { ok: true };
    const verdict = checkApprover(policy, rule, approverEmail, record.request.requester.email);
    return verdict.authorized ? { ok: true } : { ok: false, reason: verdict.reason };
  }
  const rule = record.ruleName ? findRule(policy, record.ruleName) : undefined;
  if (!rule) return { ok: false, reason: 'no-approval' };
  const verdict = checkApprover(policy, rule, approverEmail, record.request.requester.email);
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
  kind: 'request' | 'extension' = 'request',
): boolean {
  const rule =
    kind === 'extension'
      ? pendingExtensionRule(policy, record)
      : record.ruleName
        ? findRule(policy, record.ruleName)
        : undefined;
  if (!rule || !checkApprover(policy, rule, approverEmail, record.request.requester.email).authorized)
    return false;
  const email = approverEmail.trim().toLowerCase();
  return kind === 'request' || !pendingExtensionOf(record)?.approvals.some((a) => a.by === email);
}

export const requestIdSchema = z.string().check(z.regex(/^[A-Za-z0-9_-]{6,64}$/));
