import type { AllMiddlewareArgs, SlackOptionsMiddlewareArgs } from '@slack/bolt';
import * as z from 'zod/mini';
import {
  MAX_SELECT_OPTIONS,
  searchAccounts,
  searchGroups,
  searchPermissionSets,
} from '../../../core/request-form';
import { searchMoreAccounts } from '../../../core/request-set';
import type { ListenerContext } from '../../deps';
import { slackUserIdSchema } from '../../interaction';
import { FORM_FIELDS } from '../../render/ids';
import { accountOption, groupOption, permissionSetOption } from '../../render/modals';

// Options of the request form's selects, loaded as the person types: filtered to what the
// policy lets this requester ask for, at most 100 (Slack's limit), so policies with hundreds of
// accounts work. The answer is the ack itself, so the (cached) email lookup precedes it.
//
// When nothing matches, the answer is no options at all, and Slack shows its own "no results":
// every option (in `options` or inside an option group) is something a person can pick, and an
// option group's label is no placeholder either (a group holds options, and an empty one is not a
// valid answer). Slack: the options load URL answers "an object containing either an options
// array, or an option_groups array"
// (https://docs.slack.dev/reference/block-kit/block-elements/select-menu-element#external_select);
// an empty `options` clears the menu. A placeholder value a person could still submit (an old
// form) is refused by the submission's policy check (core/request-form.ts checkRequestForm).

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

/** Nothing to offer (no match, or no email to ask the policy with: the submission says why). */
const NOTHING = { options: [] };

export function accountOptions(ctx: ListenerContext) {
  return async ({ body, ack, client }: OptionsArgs) => {
    const parsed = suggestionSchema.safeParse(body);
    if (!parsed.success) return ack({ options: [] });
    const lookup = await ctx.people.emailOf(client, parsed.data.user.id);
    if (!lookup.ok) return ack(NOTHING);
    const accounts = searchAccounts(ctx.policy, lookup.email, parsed.data.value);
    // The person's groups after their accounts (group access), within Slack's 100 options.
    const groups = searchGroups(
      ctx.policy,
      lookup.email,
      parsed.data.value,
      MAX_SELECT_OPTIONS - accounts.length,
    );
    const options = [...accounts.map(accountOption), ...groups.map(groupOption)];
    await ack(options.length ? { options } : NOTHING);
  };
}

/** The "more accounts" menu: accounts where the person may have the permission set already picked. */
export function moreAccountOptions(ctx: ListenerContext) {
  return async ({ body, ack, client }: OptionsArgs) => {
    const parsed = suggestionSchema.safeParse(body);
    if (!parsed.success) return ack({ options: [] });
    const lookup = await ctx.people.emailOf(client, parsed.data.user.id);
    if (!lookup.ok) return ack(NOTHING);
    const values = parsed.data.view?.state?.values ?? {};
    const picked = (field: string) => {
      const state = selectedValue.safeParse(values[field]?.[field] ?? {});
      return state.success ? (state.data.selected_option?.value ?? undefined) : undefined;
    };
    const accounts = searchMoreAccounts(
      ctx.policy,
      lookup.email,
      picked(FORM_FIELDS.permissionSet),
      picked(FORM_FIELDS.account),
      parsed.data.value,
    );
    await ack(accounts.length ? { options: accounts.map(accountOption) } : NOTHING);
  };
}

export function permissionSetOptions(ctx: ListenerContext) {
  return async ({ body, ack, client }: OptionsArgs) => {
    const parsed = suggestionSchema.safeParse(body);
    if (!parsed.success) return ack({ options: [] });
    const lookup = await ctx.people.emailOf(client, parsed.data.user.id);
    if (!lookup.ok) return ack(NOTHING);
    const state = parsed.data.view?.state?.values[FORM_FIELDS.account]?.[FORM_FIELDS.account];
    const account = selectedValue.safeParse(state ?? {});
    const accountId = account.success ? account.data.selected_option?.value : undefined;
    const sets = searchPermissionSets(ctx.policy, lookup.email, accountId, parsed.data.value);
    await ack(sets.length ? { options: sets.map(permissionSetOption) } : NOTHING);
  };
}
