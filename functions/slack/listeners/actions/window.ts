import type { AllMiddlewareArgs, BlockAction, SlackActionMiddlewareArgs } from '@slack/bolt';
import { mayExtend } from '../../../core/authority';
import { extensionChoices, pendingExtensionOf } from '../../../core/extensions';
import { logger } from '../../../shared/logger';
import type { ListenerContext } from '../../deps';
import { buttonClickSchema, openForm, originOf, parseClick, publishHome, tell } from '../../interaction';
import { extendModal } from '../../render/modals';

// "End access now" and "Extend" on an active grant (requester's DM, Home tab).

type ClickArgs = SlackActionMiddlewareArgs<BlockAction> & AllMiddlewareArgs;

/** "End access now" (or "End all", `whole`): acknowledged, then handed to the decisions function. */
export function endAccess(ctx: ListenerContext, whole = false) {
  return async ({ ack, body, client }: ClickArgs) => {
    await ack();
    const click = await parseClick(ctx, client, body);
    if (!click) return;
    await ctx.handoff.submit({
      kind: 'end',
      requestId: click.requestId,
      slackUserId: click.userId,
      origin: click.origin,
      ...(whole ? { whole: true as const } : {}),
    });
  };
}

/** Extend asks how much longer (a modal bounded by what the policy still allows). */
export function extendButton(ctx: ListenerContext, whole = false) {
  return async ({ ack, body, client }: ClickArgs) => {
    await ack();
    const click = buttonClickSchema.safeParse(body);
    if (!click.success) {
      logger.warn('malformed button payload');
      return;
    }
    const userId = click.data.user.id;
    const origin = originOf(click.data);
    const requestId = click.data.actions[0]?.value ?? '';
    const record = await ctx.store.getRequest(requestId);
    if (!record) return tell(ctx, client, userId, origin, 'I cannot find this request any more.');
    if (!mayExtend(record, userId))
      return tell(ctx, client, userId, origin, 'Only the requester can extend this access.');
    if (record.status !== 'ACTIVE')
      return tell(ctx, client, userId, origin, 'This access is not active any more.');
    if (pendingExtensionOf(record))
      return tell(ctx, client, userId, origin, 'An extension is already waiting for an approver.');
    const choices = extensionChoices(ctx.policy, record);
    if (choices.length === 0)
      return tell(
        ctx,
        client,
        userId,
        origin,
        'This access is already at the longest duration the policy allows.',
      );
    await openForm(
      ctx,
      client,
      { userId, origin, requestId, triggerId: click.data.trigger_id },
      extendModal(
        record,
        choices,
        JSON.stringify({ requestId, origin, ...(whole ? { whole: true } : {}) }),
        whole,
      ),
      'Extend',
    );
  };
}

export { publishHome };
