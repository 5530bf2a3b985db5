import type { AllMiddlewareArgs, SlackEventMiddlewareArgs } from '@slack/bolt';
import type { ListenerContext } from '../../deps';
import { publishHome, slackUserIdSchema } from '../../interaction';

/** The Home tab is rendered when opened (events are acknowledged by Bolt before listeners run). */
export function appHomeOpened(ctx: ListenerContext) {
  return async ({ event, client }: SlackEventMiddlewareArgs<'app_home_opened'> & AllMiddlewareArgs) => {
    if (event.tab !== 'home') return;
    const userId = slackUserIdSchema.safeParse(event.user);
    if (!userId.success) return;
    await publishHome(ctx, client, userId.data);
  };
}
