import type { AllMiddlewareArgs, SlackEventMiddlewareArgs } from '@slack/bolt';
import type { ListenerContext } from '../../deps';
import { publishHome, slackUserIdSchema } from '../../interaction';

/**
 * A redelivery of an event: Slack retries an event it thinks was not answered (no 2xx within 3
 * seconds, an error) and says which attempt it is in the X-Slack-Retry-Num header, with
 * X-Slack-Retry-Reason (https://docs.slack.dev/apis/events-api/, failure conditions and
 * retries). Bolt's receivers read the header into `context.retryNum` (the Lambda receiver passes
 * the header's text, hence the conversion).
 */
export function isRedelivery(retryNum: unknown): boolean {
  const attempt = typeof retryNum === 'number' ? retryNum : Number(retryNum ?? 0);
  return Number.isFinite(attempt) && attempt > 0;
}

/**
 * The Home tab is rendered when opened (events are acknowledged by Bolt before listeners run). A
 * redelivered app_home_opened is skipped: the first delivery publishes (or published) the tab,
 * and doing it again would only cost the reads and a views.publish.
 */
export function appHomeOpened(ctx: ListenerContext) {
  return async ({
    event,
    client,
    context,
  }: SlackEventMiddlewareArgs<'app_home_opened'> & AllMiddlewareArgs) => {
    if (isRedelivery(context.retryNum)) return;
    if (event.tab !== 'home') return;
    const userId = slackUserIdSchema.safeParse(event.user);
    if (!userId.success) return;
    await publishHome(ctx, client, userId.data);
  };
}
