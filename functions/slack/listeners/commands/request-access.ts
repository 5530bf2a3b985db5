import type { AllMiddlewareArgs, SlackCommandMiddlewareArgs } from '@slack/bolt';
import * as z from 'zod/mini';
import { formOfferFor } from '../../../core/form-offer';
import { durationChoices, maxMinutesFor } from '../../../core/request-form';
import { logger } from '../../../shared/logger';
import type { ListenerContext } from '../../deps';
import { slackUserIdSchema } from '../../interaction';
import { slackErrorCode } from '../../people';
import { accessWhere, escapeText, statusLine } from '../../render/messages';
import { requestFormModal } from '../../render/modals';

// `/request-access` opens the form; `help` and `status` answer in an ephemeral message.

export const REQUEST_COMMAND = '/request-access';

const commandSchema = z.object({
  user_id: slackUserIdSchema,
  trigger_id: z.string().check(z.minLength(1), z.maxLength(200)),
  channel_id: z.optional(z.string().check(z.maxLength(30))),
  text: z._default(z.string().check(z.maxLength(200)), ''),
});

export function helpText(adminContact: string): string {
  return [
    '*Just-in-time AWS access*',
    `• \`${REQUEST_COMMAND}\` — ask for access to an AWS account for a limited time.`,
    `• \`${REQUEST_COMMAND} status\` — your recent requests.`,
    `• \`${REQUEST_COMMAND} help\` — this message.`,
    'Approvers get a message with Approve / Deny buttons; your access is removed automatically when the time is up.',
    `The app's Home tab shows your active access (with an End button) and what waits for your approval.`,
    `Questions: ${escapeText(adminContact)}.`,
  ].join('\n');
}

export function requestAccessCommand(ctx: ListenerContext) {
  return async ({ command, ack, client, respond }: SlackCommandMiddlewareArgs & AllMiddlewareArgs) => {
    const parsed = commandSchema.safeParse(command);
    const adminContact = ctx.policy.slack.adminContact;
    if (!parsed.success) {
      await ack({
        response_type: 'ephemeral',
        text: `I could not read that command. ${helpText(adminContact)}`,
      });
      return;
    }
    const { user_id: userId, trigger_id: triggerId } = parsed.data;
    const text = parsed.data.text.trim().toLowerCase();
    if (text === 'help') {
      await ack({ response_type: 'ephemeral', text: helpText(adminContact) });
      return;
    }
    if (text !== '' && text !== 'status') {
      await ack({
        response_type: 'ephemeral',
        text: `I do not know \`${escapeText(text.slice(0, 40))}\`.\n${helpText(adminContact)}`,
      });
      return;
    }
    await ack();
    const reply = (message: string) => respond({ response_type: 'ephemeral', text: message });

    if (text === 'status') {
      const records = await ctx.store.listByRequester(userId, 10);
      await reply(
        records.length === 0
          ? 'You have no requests yet.'
          : `*Your recent requests*\n${records
              .map((r) => `• \`${r.request.requestId}\` ${accessWhere(r)}: ${statusLine(r)}`)
              .join('\n')}`,
      );
      return;
    }

    // The trigger id lives 3 s: one users.info (cached per container) and then views.open.
    const lookup = await ctx.people.emailOf(client, userId);
    if (!lookup.ok) {
      await reply(lookup.message);
      return;
    }
    const max = maxMinutesFor(ctx.policy, lookup.email);
    if (!max) {
      await reply(
        `The access policy does not let you (${escapeText(lookup.email)}) request any AWS access. Ask ${escapeText(
          adminContact,
        )} if you need some.`,
      );
      return;
    }
    try {
      await client.views.open({
        trigger_id: triggerId,
        view: requestFormModal(
          durationChoices(max),
          JSON.stringify({ channel: parsed.data.channel_id ?? null }),
          formOfferFor(ctx.policy, lookup.email),
        ),
      });
    } catch (error) {
      const code = slackErrorCode(error);
      logger.warn('views.open failed', { slackError: code });
      await reply(
        code === 'expired_trigger_id'
          ? `Slack took too long to open the form; please type \`${REQUEST_COMMAND}\` again.`
          : `I could not open the request form (${code}). Please try again.`,
      );
    }
  };
}

export function unknownCommand() {
  return async ({ ack }: SlackCommandMiddlewareArgs & AllMiddlewareArgs) => {
    await ack({ response_type: 'ephemeral', text: `This app only answers \`${REQUEST_COMMAND}\`.` });
  };
}
