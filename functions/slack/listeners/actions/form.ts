import type { AllMiddlewareArgs, BlockAction, SlackActionMiddlewareArgs } from '@slack/bolt';
import * as z from 'zod/mini';
import { formOfferFor } from '../../../core/form-offer';
import { findAccount, findPermissionSet } from '../../../core/policy';
import { durationChoices, maxMinutesFor } from '../../../core/request-form';
import { sessionExposureOf } from '../../../core/session-exposure';
import { logger } from '../../../shared/logger';
import type { ListenerContext } from '../../deps';
import { slackUserIdSchema, tell } from '../../interaction';
import { slackErrorCode } from '../../people';
import { FORM_FIELDS } from '../../render/ids';
import { type RequestFormState, requestFormModal } from '../../render/modals';

// The request form from the Home tab, and the form's own reaction to a picked account,
// permission set or duration: the duration choices narrow to that pair's maximum, the ticket
// input says whether its rules ask for one, and a line says how long the sessions outlive the
// window (views.update).

type ActionArgs = SlackActionMiddlewareArgs<BlockAction> & AllMiddlewareArgs;

const homeClickSchema = z.object({
  user: z.object({ id: slackUserIdSchema }),
  trigger_id: z.string().check(z.minLength(1), z.maxLength(200)),
});

export function openFormFromHome(ctx: ListenerContext) {
  return async ({ ack, body, client }: ActionArgs) => {
    await ack();
    const click = homeClickSchema.safeParse(body);
    if (!click.success) return;
    const userId = click.data.user.id;
    const lookup = await ctx.people.emailOf(client, userId);
    if (!lookup.ok) return tell(ctx, client, userId, { kind: 'home' }, lookup.message);
    const max = maxMinutesFor(ctx.policy, lookup.email);
    if (!max)
      return tell(
        ctx,
        client,
        userId,
        { kind: 'home' },
        `The access policy does not let you request any AWS access. Ask ${ctx.policy.slack.adminContact}.`,
      );
    try {
      await client.views.open({
        trigger_id: click.data.trigger_id,
        view: requestFormModal(
          durationChoices(max),
          JSON.stringify({ channel: null }),
          formOfferFor(ctx.policy, lookup.email),
        ),
      });
    } catch (error) {
      logger.warn('views.open failed', { slackError: slackErrorCode(error) });
    }
  };
}

const optionSchema = z.nullish(
  z.object({
    text: z.object({ type: z.literal('plain_text'), text: z.string().check(z.maxLength(75)) }),
    value: z.string().check(z.maxLength(150)),
  }),
);
const formChangeSchema = z.object({
  user: z.object({ id: slackUserIdSchema }),
  view: z.object({
    id: z.string().check(z.minLength(1), z.maxLength(50)),
    hash: z.optional(z.string().check(z.maxLength(100))),
    private_metadata: z._default(z.string().check(z.maxLength(3000)), ''),
    state: z.object({ values: z.record(z.string(), z.record(z.string(), z.unknown())) }),
  }),
});

function selected(values: Record<string, Record<string, unknown>>, field: string) {
  const parsed = z.object({ selected_option: optionSchema }).safeParse(values[field]?.[field] ?? {});
  return parsed.success ? (parsed.data.selected_option ?? undefined) : undefined;
}

export function formSelectionChanged(ctx: ListenerContext) {
  return async ({ ack, body, client }: ActionArgs) => {
    await ack();
    const change = formChangeSchema.safeParse(body);
    if (!change.success) return;
    const lookup = await ctx.people.emailOf(client, change.data.user.id);
    if (!lookup.ok) return;
    const values = change.data.view.state.values;
    const account = selected(values, FORM_FIELDS.account);
    const permissionSet = selected(values, FORM_FIELDS.permissionSet);
    const duration = selected(values, FORM_FIELDS.duration);
    const max =
      maxMinutesFor(ctx.policy, lookup.email, account?.value, permissionSet?.value) ??
      maxMinutesFor(ctx.policy, lookup.email);
    if (!max) return;
    const exposure = await exposureFor(ctx, account?.value, permissionSet?.value);
    const state: RequestFormState = {
      account: account ?? undefined,
      permissionSet: permissionSet ?? undefined,
      durationMinutes: duration ? Number(duration.value) : undefined,
      ...formOfferFor(ctx.policy, lookup.email, {
        accountId: account?.value,
        permissionSet: permissionSet?.value,
        durationMinutes: duration ? Number(duration.value) : undefined,
      }),
      exposure,
    };
    try {
      await client.views.update({
        view_id: change.data.view.id,
        ...(change.data.view.hash ? { hash: change.data.view.hash } : {}),
        view: requestFormModal(durationChoices(max), change.data.view.private_metadata, state),
      });
    } catch (error) {
      // hash_conflict: the person changed something else meanwhile; that change triggers its own update.
      logger.info('form refresh skipped', { slackError: slackErrorCode(error) });
    }
  };
}

/**
 * The exposure line's content once an account and a permission set of the policy are picked: the
 * session duration from the per-container cache (no call when warm; a cold read waits at most the
 * cache's `waitMs`), or nothing when it cannot be read: the line is best-effort.
 */
async function exposureFor(
  ctx: ListenerContext,
  accountId: string | undefined,
  permissionSetName: string | undefined,
): Promise<RequestFormState['exposure']> {
  if (!accountId || !permissionSetName || !findAccount(ctx.policy, accountId)) return undefined;
  const permissionSet = findPermissionSet(ctx.policy, permissionSetName);
  if (!permissionSet) return undefined;
  const sessions = await sessionExposureOf(permissionSet, ctx.sessions);
  return sessions && { permissionSetName: permissionSet.name, sessions };
}
