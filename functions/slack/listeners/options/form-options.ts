import type { AllMiddlewareArgs, SlackOptionsMiddlewareArgs } from '@slack/bolt';
import * as z from 'zod/mini';
import { searchAccounts, searchPermissionSets } from '../../../core/request-form';
import type { ListenerContext } from '../../deps';
import { slackUserIdSchema } from '../../interaction';
import { FORM_FIELDS } from '../../render/ids';
import { accountOption, option, permissionSetOption } from '../../render/modals';

// Options of the request form's selects, loaded as the person types: filtered to what the
// policy lets this requester ask for, at most 100 (Slack's limit), so policies with hundreds of
// accounts work. The answer is the ack itself, so the (cached) email lookup precedes it.

const suggestionSchema = z.object({
  type: z.literal('block_suggestion'),
  user: z.object({ id: slackUserIdSchema }),
  value: z._default(z.string().check(z.maxLength(200)), ''),
  view: z.optional(
    z.object({
      state: z.optional(
        z.object({
          values: z.record(z.string(), z.record(z.string(), z.unknown())),
        }),
      ),
    }),
  ),
});

const selectedValue = z.object({
  selected_option: z.nullish(z.object({ value: z.string().check(z.maxLength(150)) })),
});

type OptionsArgs = SlackOptionsMiddlewareArgs<'block_suggestion'> & AllMiddlewareArgs;

function nothing(text: string) {
  return { options: [option(text, '__none__')] };
}

export function accountOptions(ctx: ListenerContext) {
  return async ({ body, ack, client }: OptionsArgs) => {
    const parsed = suggestionSchema.safeParse(body);
    if (!parsed.success) return ack({ options: [] });
    const lookup = await ctx.people.emailOf(client, parsed.data.user.id);
    if (!lookup.ok) return ack(nothing('Your email is not available to this app'));
    const accounts = searchAccounts(ctx.policy, lookup.email, parsed.data.value);
    await ack(accounts.length ? { options: accounts.map(accountOption) } : nothing('No matching account'));
  };
}

export function permissionSetOptions(ctx: ListenerContext) {
  return async ({ body, ack, client }: OptionsArgs) => {
    const parsed = suggestionSchema.safeParse(body);
    if (!parsed.success) return ack({ options: [] });
    const lookup = await ctx.people.emailOf(client, parsed.data.user.id);
    if (!lookup.ok) return ack(nothing('Your email is not available to this app'));
    const state = parsed.data.view?.state?.values[FORM_FIELDS.account]?.[FORM_FIELDS.account];
    const account = selectedValue.safeParse(state ?? {});
    const accountId = account.success ? account.data.selected_option?.value : undefined;
    const sets = searchPermissionSets(ctx.policy, lookup.email, accountId, parsed.data.value);
    await ack(
      sets.length
        ? { options: sets.map(permissionSetOption) }
        : nothing('No permission set for this account'),
    );
  };
}
