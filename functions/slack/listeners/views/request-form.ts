import type { AllMiddlewareArgs, SlackViewMiddlewareArgs, ViewSubmitAction } from '@slack/bolt';
import * as z from 'zod/mini';
import { formatMinutes } from '../../../core/duration';
import { errorMessage, errorName } from '../../../core/errors';
import { type AccessRequest, accessRequestSchema } from '../../../core/model';
import { resolvePrincipal } from '../../../core/principal';
import {
  buildAccessRequest,
  checkRequestForm,
  type FormErrors,
  type FormField,
} from '../../../core/request-form';
import { requestIdForView } from '../../../core/request-id';
import { checkMoreAccounts, memberRequestIds, setOf } from '../../../core/request-set';
import { logger } from '../../../shared/logger';
import type { ListenerContext } from '../../deps';
import { slackUserIdSchema } from '../../interaction';
import { BREAK_GLASS_CHOSEN, FORM_FIELDS } from '../../render/ids';
import { escapeText, slackTime } from '../../render/messages';
import { submittedModal } from '../../render/modals';

// The request form's submission: checked against the policy (errors shown inline), the Slack
// user mapped to an Identity Center user, then the state machine started under a name derived
// from the modal's view id, so a double submit starts one execution.

type SubmitArgs = SlackViewMiddlewareArgs<ViewSubmitAction> & AllMiddlewareArgs;

const stateValues = z.record(
  z.string().check(z.maxLength(255)),
  z.record(z.string().check(z.maxLength(255)), z.unknown()),
);
export const viewSubmissionSchema = z.object({
  type: z.literal('view_submission'),
  team: z.nullish(z.object({ id: z.string().check(z.maxLength(30)) })),
  user: z.object({ id: slackUserIdSchema, team_id: z.optional(z.string().check(z.maxLength(30))) }),
  view: z.object({
    id: z.string().check(z.minLength(1), z.maxLength(50)),
    private_metadata: z._default(z.string().check(z.maxLength(3000)), ''),
    state: z.object({ values: stateValues }),
  }),
});

const elementState = z.object({
  value: z.nullish(z.string()),
  selected_option: z.nullish(z.object({ value: z.string() })),
});

/** The text or the selected option's value of one input (block_id = action_id); undefined when absent or of another type. */
export function fieldValue(values: z.infer<typeof stateValues>, field: string): string | undefined {
  const parsed = elementState.safeParse(values[field]?.[field]);
  if (!parsed.success) return undefined;
  return parsed.data.value ?? parsed.data.selected_option?.value ?? undefined;
}

const checkboxState = z.object({
  selected_options: z.nullish(z.array(z.object({ value: z.string().check(z.maxLength(150)) }))),
});

/** Whether the break-glass checkbox is ticked (absent from the form: no). */
export function breakGlassChosen(values: z.infer<typeof stateValues>): boolean {
  const parsed = checkboxState.safeParse(values[FORM_FIELDS.breakGlass]?.[FORM_FIELDS.breakGlass]);
  return parsed.success && (parsed.data.selected_options ?? []).some((o) => o.value === BREAK_GLASS_CHOSEN);
}

const dateTimeState = z.object({ selected_date_time: z.nullish(z.int().check(z.nonnegative())) });

/** The start picked in the form's date-time picker (Unix seconds); undefined when none or absent. */
export function startChosen(values: z.infer<typeof stateValues>): number | undefined {
  const parsed = dateTimeState.safeParse(values[FORM_FIELDS.start]?.[FORM_FIELDS.start]);
  return parsed.success ? (parsed.data.selected_date_time ?? undefined) : undefined;
}

const multiSelectState = z.object({
  selected_options: z.nullish(
    z.array(z.object({ value: z.string().check(z.maxLength(150)) })).check(z.maxLength(50)),
  ),
});

/** The further accounts picked in the "more accounts" menu (none when absent). */
export function moreAccountsChosen(values: z.infer<typeof stateValues>): string[] {
  const parsed = multiSelectState.safeParse(values[FORM_FIELDS.moreAccounts]?.[FORM_FIELDS.moreAccounts]);
  return parsed.success ? (parsed.data.selected_options ?? []).map((o) => o.value) : [];
}

const BLOCK_OF: Record<FormField, string> = {
  account: FORM_FIELDS.account,
  permissionSet: FORM_FIELDS.permissionSet,
  duration: FORM_FIELDS.duration,
  reason: FORM_FIELDS.reason,
  ticket: FORM_FIELDS.ticket,
  start: FORM_FIELDS.start,
  moreAccounts: FORM_FIELDS.moreAccounts,
};

function inlineErrors(errors: FormErrors): Record<string, string> {
  return Object.fromEntries(
    Object.entries(errors).map(([field, message]) => [BLOCK_OF[field as FormField], message ?? '']),
  );
}

export function requestFormSubmitted(ctx: ListenerContext) {
  return async ({ ack, body, client }: SubmitArgs) => {
    const parsed = viewSubmissionSchema.safeParse(body);
    if (!parsed.success) {
      await ack({
        response_action: 'errors',
        errors: { [FORM_FIELDS.reason]: 'This form could not be read; please close it and try again.' },
      });
      return;
    }
    const { user, view } = parsed.data;
    const fail = (errors: FormErrors) => ack({ response_action: 'errors', errors: inlineErrors(errors) });

    const lookup = await ctx.people.emailOf(client, user.id);
    if (!lookup.ok) return fail({ account: lookup.message });
    const values = view.state.values;
    const checked = checkRequestForm(
      ctx.policy,
      lookup.email,
      {
        accountId: fieldValue(values, FORM_FIELDS.account),
        permissionSet: fieldValue(values, FORM_FIELDS.permissionSet),
        durationMinutes: fieldValue(values, FORM_FIELDS.duration),
        reason: fieldValue(values, FORM_FIELDS.reason),
        ticket: fieldValue(values, FORM_FIELDS.ticket),
        breakGlass: breakGlassChosen(values),
        startAtSeconds: startChosen(values),
      },
      ctx.clock.now(),
    );
    if (!checked.ok) return fail(checked.errors);
    // Several accounts: each checked like the first, grouped by the rule that decides it.
    const sets = checkMoreAccounts(
      ctx.policy,
      lookup.email,
      checked.value,
      moreAccountsChosen(values),
      ctx.clock.now(),
    );
    if (!sets.ok) return fail({ moreAccounts: sets.message });

    let principal: Awaited<ReturnType<typeof resolvePrincipal>>;
    try {
      principal = await resolvePrincipal(ctx.users, lookup.email);
    } catch (error) {
      logger.warn('identity store lookup failed', { errorName: errorName(error) });
      return fail({ account: 'AWS Identity Center did not answer; please submit again in a moment.' });
    }
    if (!principal)
      return fail({
        account: `AWS Identity Center has no user with your Slack email (${lookup.email}). Ask ${ctx.policy.slack.adminContact}.`,
      });

    const teamId = parsed.data.team?.id ?? user.team_id ?? 'T';
    const requestId = requestIdForView(teamId, view.id);
    const forms = sets.groups.flat();
    const ids = new Map(
      memberRequestIds(requestId, forms.length).map((id, i) => [forms[i]?.accountId ?? '', id] as const),
    );
    const requester = { slackUserId: user.id, email: principal.email };
    const requests: AccessRequest[] = [];
    for (const group of sets.groups) {
      const members = group.map((form) => ids.get(form.accountId ?? '') ?? requestId);
      const set = setOf(members);
      for (const [i, form] of group.entries()) {
        const built = accessRequestSchema.safeParse({
          ...buildAccessRequest(members[i] ?? requestId, requester, form, ctx.clock.now()),
          ...(set ? { set } : {}),
        });
        if (!built.success)
          return fail({ reason: 'This request could not be built; please check the fields.' });
        requests.push(built.data);
      }
    }
    const first = requests[0];
    if (!first) return fail({ reason: 'This request could not be built; please check the fields.' });

    const { verdict } = checked.value;
    const accountNames = forms.map((form) => {
      const name = form.verdict.account?.name ?? form.accountId ?? '';
      return `*${escapeText(name)}* (${form.accountId})`;
    });
    const summary = [
      verdict.group
        ? `membership of the group *${escapeText(verdict.group.name)}*`
        : `*${escapeText(verdict.permissionSet.name)}* on ${accountNames.join(', ')}`,
      `for ${formatMinutes(first.durationMinutes)}`,
      ...(first.startAt ? [`starting ${slackTime(first.startAt)}`] : []),
    ].join(' ');
    // Accounts under different rules are asked of each rule's own approvers (core/request-set.ts).
    const split =
      sets.groups.length > 1
        ? `\nThese accounts fall under ${sets.groups.length} rules, so each rule's approvers are asked for theirs: ${sets.groups
            .map((g) => `${escapeText(g[0]?.verdict.rule.name ?? '')} (${g.length})`)
            .join(', ')}.`
        : '';
    // The approval is asked now and expires under the rule's timeout, start or not: say by when.
    const approval = verdict.rule.approval;
    const askedUntil =
      first.startAt && approval !== 'none'
        ? `\nApprovers have until ${slackTime(new Date(ctx.clock.now().getTime() + approval.timeout * 60_000).toISOString())} to decide; approved after the start, it begins when approved.`
        : '';
    await ack({
      response_action: 'update',
      view: submittedModal(
        requestId,
        summary + split + askedUntil,
        sets.groups.some((g) => g[0]?.verdict.approvalRequired),
      ),
    });

    logger.appendKeys({ requestId, correlation_id: requestId });
    // One execution per account, each its own lifecycle (a resubmission starts nothing new); one
    // that cannot start does not keep the others from starting, and the requester is told which.
    const notStarted: string[] = [];
    try {
      for (const request of requests) {
        try {
          const started = await ctx.workflow.start({ version: 1, request });
          logger.info('request submitted', {
            alreadyStarted: started.alreadyStarted,
            ...(request.set ? { member: request.requestId, set: request.set.id } : {}),
          });
        } catch (error) {
          logger.error('could not start the workflow', {
            member: request.requestId,
            errorName: errorName(error),
            errorMessage: errorMessage(error),
          });
          notStarted.push(`\`${request.requestId}\` (${escapeText(errorName(error))})`);
        }
      }
      if (notStarted.length)
        await client.chat.postMessage({
          channel: user.id,
          text: `:warning: I could not start your request ${notStarted.join(', ')}. Please try again with \`/request-access\`.`,
        });
    } finally {
      logger.removeKeys(['requestId', 'correlation_id']);
    }
  };
}
