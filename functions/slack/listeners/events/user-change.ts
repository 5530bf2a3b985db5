import type { AllMiddlewareArgs, SlackEventMiddlewareArgs } from '@slack/bolt';
import * as z from 'zod/mini';
import { logger } from '../../../shared/logger';
import type { ListenerContext } from '../../deps';
import { slackUserIdSchema } from '../../interaction';
import { isRedelivery } from './app-home-opened';

/**
 * `user_change` as far as the app reads it: whose account changed and whether Slack now calls it
 * deactivated (`user.deleted`, https://docs.slack.dev/reference/events/user_change; the user
 * object's fields: https://docs.slack.dev/reference/objects/user-object). Needs the `users:read`
 * scope. Everything else in the profile is ignored.
 */
export const userChangeSchema = z.object({
  type: z.literal('user_change'),
  user: z.object({
    id: slackUserIdSchema,
    deleted: z.optional(z.boolean()),
    is_bot: z.optional(z.boolean()),
  }),
});

/**
 * A person deactivated in Slack is offboarded at once (core/offboarding.ts): the job goes to the
 * decisions function, whose role alone may end windows and cancel requests, and which asks Slack
 * again (users.info) before acting, so an event delivered out of order after a reactivation does
 * nothing. Bolt acknowledges events before listeners run; a redelivery is skipped (the first
 * delivery handed the job off, and Lambda retries that job itself).
 */
export function userChange(ctx: ListenerContext) {
  return async ({ event, context }: SlackEventMiddlewareArgs<'user_change'> & AllMiddlewareArgs) => {
    if (isRedelivery(context.retryNum)) return;
    const parsed = userChangeSchema.safeParse(event);
    if (!parsed.success || parsed.data.user.deleted !== true || parsed.data.user.is_bot === true) return;
    const slackUserId = parsed.data.user.id;
    await ctx.handoff.submit({ kind: 'offboard', slackUserId, reason: 'slack-deactivated' });
    logger.info('offboarding handed off', { slackUserId });
  };
}
