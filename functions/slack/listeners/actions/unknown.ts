import type { AllMiddlewareArgs, BlockAction, SlackActionMiddlewareArgs } from '@slack/bolt';
import { logger } from '../../../shared/logger';
import type { ListenerContext } from '../../deps';
import { originOf, slackUserIdSchema, tell } from '../../interaction';

/** A button this app does not (or no longer) know: acknowledged and answered, nothing changed. */
export function unknownAction(ctx: ListenerContext) {
  return async ({
    ack,
    body,
    client,
    action,
  }: SlackActionMiddlewareArgs<BlockAction> & AllMiddlewareArgs) => {
    await ack();
    logger.warn('unknown action', { actionId: String(action.action_id).slice(0, 255) });
    const userId = slackUserIdSchema.safeParse(body.user?.id);
    if (!userId.success) return;
    const origin = originOf({
      ...(body.channel?.id ? { channel: { id: body.channel.id } } : {}),
      ...(body.message?.ts ? { message: { ts: body.message.ts } } : {}),
      ...(body.view ? { view: { id: body.view.id, type: body.view.type } } : {}),
      ...(body.response_url ? { response_url: body.response_url } : {}),
    });
    await tell(
      ctx,
      client,
      userId.data,
      origin,
      'That button is not supported any more; nothing was changed.',
    );
  };
}
