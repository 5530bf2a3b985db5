import type { App } from '@slack/bolt';
import { logger } from '../../../shared/logger';
import type { ListenerContext } from '../../deps';
import { CALLBACK_IDS } from '../../render/ids';
import { denyReasonSubmitted, extendSubmitted } from './decisions';
import { requestFormSubmitted } from './request-form';

export function register(app: App, ctx: ListenerContext): void {
  app.view(CALLBACK_IDS.requestForm, requestFormSubmitted(ctx));
  app.view(CALLBACK_IDS.denyReason, denyReasonSubmitted(ctx));
  app.view(CALLBACK_IDS.extend, extendSubmitted(ctx));
  // Submissions of any other view (an old form, a forged payload) close it; closes are acknowledged.
  const known = Object.values(CALLBACK_IDS).join('|');
  app.view({ type: 'view_submission', callback_id: new RegExp(`^(?!(?:${known})$)`) }, async ({ ack }) => {
    logger.warn('unknown view submitted');
    await ack();
  });
  app.view({ type: 'view_closed', callback_id: /.*/ }, async ({ ack }) => {
    await ack();
  });
}
