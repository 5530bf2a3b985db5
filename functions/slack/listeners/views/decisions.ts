import type { AllMiddlewareArgs, SlackViewMiddlewareArgs, ViewSubmitAction } from '@slack/bolt';
import * as z from 'zod';
import { logger } from '../../../shared/logger';
import type { ListenerContext } from '../../deps';
import {
  actorOf,
  decisionText,
  originSchema,
  publishHome,
  readMetadata,
  requestIdValue,
  tell,
} from '../../interaction';
import { DENY_FIELDS, EXTEND_FIELDS } from '../../views/ids';
import { fieldValue, viewSubmissionSchema } from './request-form';

// The deny-reason and extension modals' submissions.

type SubmitArgs = SlackViewMiddlewareArgs<ViewSubmitAction> & AllMiddlewareArgs;

const denyMetadata = z.object({
  requestId: requestIdValue,
  kind: z.enum(['request', 'extension']),
  origin: originSchema,
});
const extendMetadata = z.object({ requestId: requestIdValue, origin: originSchema });

export function denyReasonSubmitted(ctx: ListenerContext) {
  return async ({ ack, body, client }: SubmitArgs) => {
    const parsed = viewSubmissionSchema.safeParse(body);
    const meta = parsed.success ? readMetadata(denyMetadata, parsed.data.view.private_metadata) : undefined;
    if (!parsed.success || !meta) {
      await ack({
        response_action: 'errors',
        errors: { [DENY_FIELDS.reason]: 'This form could not be read; please click Deny again.' },
      });
      return;
    }
    const reason = fieldValue(parsed.data.view.state.values, DENY_FIELDS.reason)?.trim() ?? '';
    if (!reason || reason.length > 500) {
      await ack({
        response_action: 'errors',
        errors: {
          [DENY_FIELDS.reason]: reason ? 'Please keep it under 500 characters.' : 'Please give a reason.',
        },
      });
      return;
    }
    await ack();
    const userId = parsed.data.user.id;
    const who = await actorOf(ctx, client, userId);
    if (!who.ok) return tell(ctx, client, userId, meta.origin, who.message);
    const { requestId, kind, origin } = meta;
    let text: string | undefined;
    if (kind === 'request') {
      const outcome = await ctx.decisions.decide(requestId, who.actor, 'deny', reason);
      logger.info('deny', { requestId, correlation_id: requestId, outcome: outcome.kind });
      if (outcome.kind === 'denied') await ctx.notifier?.updateRequestMessages(outcome.record);
      text = decisionText(outcome);
    } else {
      const outcome = await ctx.decisions.decideExtension(requestId, who.actor, 'deny');
      logger.info('deny extension', { requestId, correlation_id: requestId, outcome: outcome.kind });
      const latest = await ctx.store.getRequest(requestId);
      if (outcome.kind === 'not-allowed' && latest) await ctx.notifier?.updateRequestMessages(latest);
      text =
        outcome.kind === 'not-allowed'
          ? 'Extension denied; the requester has been told.'
          : decisionText(outcome);
    }
    if (origin.kind === 'home') await publishHome(ctx, client, userId, text);
    else if (text) await tell(ctx, client, userId, origin, text);
  };
}

export function extendSubmitted(ctx: ListenerContext) {
  return async ({ ack, body, client }: SubmitArgs) => {
    const parsed = viewSubmissionSchema.safeParse(body);
    const meta = parsed.success ? readMetadata(extendMetadata, parsed.data.view.private_metadata) : undefined;
    const minutesText = parsed.success
      ? fieldValue(parsed.data.view.state.values, EXTEND_FIELDS.minutes)
      : undefined;
    const minutes = minutesText && /^\d{1,5}$/.test(minutesText) ? Number(minutesText) : 0;
    if (!parsed.success || !meta || minutes <= 0 || minutes > 7 * 24 * 60) {
      await ack({
        response_action: 'errors',
        errors: { [EXTEND_FIELDS.minutes]: 'Pick how much longer you need.' },
      });
      return;
    }
    await ack();
    const userId = parsed.data.user.id;
    const who = await actorOf(ctx, client, userId);
    if (!who.ok) return tell(ctx, client, userId, meta.origin, who.message);
    const outcome = await ctx.decisions.extend(meta.requestId, who.actor, minutes);
    logger.info('extend', {
      requestId: meta.requestId,
      correlation_id: meta.requestId,
      outcome: outcome.kind,
    });
    const text = decisionText(outcome);
    if (meta.origin.kind === 'home') await publishHome(ctx, client, userId, text);
    else if (text) await tell(ctx, client, userId, meta.origin, text);
  };
}
