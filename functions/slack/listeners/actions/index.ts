import type { App } from '@slack/bolt';
import type { ListenerContext } from '../../deps';
import { BREAK_GLASS_ACTIONS } from '../../render/break-glass';
import { FORM_FIELDS } from '../../render/ids';
import { ACTION_IDS } from '../../render/messages';
import { approveButton, cancelButton, denyButton, reviewButton } from './decisions';
import { formSelectionChanged, openFormFromHome } from './form';
import { unknownAction } from './unknown';
import { endAccess, extendButton } from './window';

const escapeRegex = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

export function register(app: App, ctx: ListenerContext): void {
  app.action(ACTION_IDS.approve, approveButton(ctx, 'approve'));
  app.action(ACTION_IDS.deny, denyButton(ctx, 'request'));
  app.action(ACTION_IDS.cancel, cancelButton(ctx));
  app.action(ACTION_IDS.approveExtension, approveButton(ctx, 'approve-extension'));
  app.action(ACTION_IDS.denyExtension, denyButton(ctx, 'extension'));
  app.action(ACTION_IDS.end, endAccess(ctx));
  app.action(ACTION_IDS.extend, extendButton(ctx));
  app.action(ACTION_IDS.endAll, endAccess(ctx, true));
  app.action(ACTION_IDS.extendAll, extendButton(ctx, true));
  app.action(ACTION_IDS.openForm, openFormFromHome(ctx));
  app.action(BREAK_GLASS_ACTIONS.justified, reviewButton(ctx, 'justified'));
  app.action(BREAK_GLASS_ACTIONS.flagged, reviewButton(ctx, 'flagged'));
  app.action(FORM_FIELDS.account, formSelectionChanged(ctx));
  app.action(FORM_FIELDS.permissionSet, formSelectionChanged(ctx));
  app.action(FORM_FIELDS.duration, formSelectionChanged(ctx));
  // Every other action id (an old message's button, a forged payload) is answered, not left to time out.
  const known = [
    ...Object.values(ACTION_IDS),
    ...Object.values(BREAK_GLASS_ACTIONS),
    FORM_FIELDS.account,
    FORM_FIELDS.permissionSet,
    FORM_FIELDS.duration,
  ];
  app.action(
    { type: 'block_actions', action_id: new RegExp(`^(?!(?:${known.map(escapeRegex).join('|')})$)`) },
    unknownAction(ctx),
  );
}
