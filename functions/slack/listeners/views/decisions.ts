import type { AllMiddlewareArgs, SlackViewMiddlewareArgs, ViewSubmitAction } from '@slack/bolt';
import * as z from 'zod/mini';
import type { ListenerContext } from '../../deps';
import { originSchema, readMetadata, requestIdValue } from '../../interaction';
import { DENY_FIELDS, EXTEND_FIELDS } from '../../render/ids';
import { fieldValue, viewSubmissionSchema } from './request-form';

// The deny-reason and extension modals' submissions: validated and acknowledged here (errors
// go back into the form), then handed to the decisions function.

type SubmitArgs = SlackViewMiddlewareArgs<ViewSubmitAction> & AllMiddlewareArgs;

const denyMetadata = z.object({
  requestId: requestIdValue,
  kind: z.enum(['request', 'extension']),
  origin: originSchema,
});
const extendMetadata = z.object({
  requestId: requestIdValue,
  origin: originSchema,
  whole: z.optional(z.literal(true)),
});

/**
 * The job of a modal's submission is named after the modal (one per click on Extend or Deny): the
 * same submission again — replayed within the signature's 5 minutes, or redelivered — asks for
 * and decides nothing twice (core/decisions.ts).
 */
const jobIdOf = (viewId: string) => (/^[A-Za-z0-9_-]{1,50}$/.test(viewId) ? { jobId: `view:${viewId}` } : {});

export function denyReasonSubmitted(ctx: ListenerContext) {
  return async ({ ack, body }: SubmitArgs) => {
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
    await ctx.handoff.submit({
      kind: meta.kind === 'request' ? 'deny' : 'deny-extension',
      requestId: meta.requestId,
      slackUserId: parsed.data.user.id,
      origin: meta.origin,
      reason,
      ...jobIdOf(parsed.data.view.id),
    });
  };
}

export function extendSubmitted(ctx: ListenerContext) {
  return async ({ ack, body }: SubmitArgs) => {
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
    await ctx.handoff.submit({
      kind: 'extend',
      requestId: meta.requestId,
      slackUserId: parsed.data.user.id,
      origin: meta.origin,
      minutes,
      ...(meta.whole ? { whole: true as const } : {}),
      ...jobIdOf(parsed.data.view.id),
    });
  };
}
