import type { AllMiddlewareArgs, SlackViewMiddlewareArgs, ViewSubmitAction } from '@slack/bolt';
import * as z from 'zod/mini';
import { formatMinutes } from '../../../core/duration';
import { errorMessage, errorName } from '../../../core/errors';
import { accessRequestSchema } from '../../../core/model';
import { resolvePrincipal } from '../../../core/principal';
import {
  buildAccessRequest,
  checkRequestForm,
  type FormErrors,
  type FormField,
} from '../../../core/request-form';
import { requestIdForView } from '../../../core/request-id';
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

const BLOCK_OF: Record<FormField, string> = {
  account: FORM_FIELDS.account,
  permissionSet: FORM_FIELDS.permissionSet,
  duration: FORM_FIELDS.duration,
  reason: FORM_FIELDS.reason,
  ticket: FORM_FIELDS.ticket,
  start: FORM_FIELDS.start,
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
    const request = accessRequestSchema.safeParse(
      buildAccessRequest(
        requestId,
        { slackUserId: user.id, email: principal.email },
        checked.value,
        ctx.clock.now(),
      ),
    );
    if (!request.success)
      return fail({ reason: 'This request could not be built; please check the fields.' });

    const { verdict } = checked.value;
    const summary = [
      verdict.group
        ? `membership of the group *${escapeText(verdict.group.name)}*`
        : `*${escapeText(verdict.permissionSet.name)}* on *${escapeText(verdict.account.name)}* (${verdict.account.id})`,
      `for ${formatMinutes(request.data.durationMinutes)}`,
      ...(request.data.startAt ? [`starting ${slackTime(request.data.startAt)}`] : []),
    ].join(' ');
    // The approval is asked now and expires under the rule's timeout, start or not: say by when.
    const approval = verdict.rule.approval;
    const askedUntil =
      request.data.startAt && approval !== 'none'
        ? `\nApprovers have until ${slackTime(new Date(ctx.clock.now().getTime() + approval.timeout * 60_000).toISOString())} to decide; approved after the start, it begins when approved.`
        : '';
    await ack({
      response_action: 'update',
      view: submittedModal(requestId, summary + askedUntil, verdict.approvalRequired),
    });

    logger.appendKeys({ requestId, correlation_id: requestId });
    try {
      const started = await ctx.workflow.start({ version: 1, request: request.data });
      logger.info('request submitted', { alreadyStarted: started.alreadyStarted });
    } catch (error) {
      logger.error('could not start the workflow', {
        errorName: errorName(error),
        errorMessage: errorMessage(error),
      });
      await client.chat.postMessage({
        channel: user.id,
        text: `:warning: I could not start your request \`${requestId}\` (${escapeText(errorName(error))}). Please try again with \`/request-access\`.`,
      });
    } finally {
      logger.removeKeys(['requestId', 'correlation_id']);
    }
  };
}
