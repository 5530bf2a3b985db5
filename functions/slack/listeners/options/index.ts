import type { App } from '@slack/bolt';
import type { ListenerContext } from '../../deps';
import { FORM_FIELDS } from '../../render/ids';
import { accountOptions, moreAccountOptions, permissionSetOptions } from './form-options';

export function register(app: App, ctx: ListenerContext): void {
  app.options(FORM_FIELDS.account, accountOptions(ctx));
  app.options(FORM_FIELDS.permissionSet, permissionSetOptions(ctx));
  app.options(FORM_FIELDS.moreAccounts, moreAccountOptions(ctx));
}
