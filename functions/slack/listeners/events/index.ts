import type { App } from '@slack/bolt';
import type { ListenerContext } from '../../deps';
import { appHomeOpened } from './app-home-opened';
import { userChange } from './user-change';

export function register(app: App, ctx: ListenerContext): void {
  app.event('app_home_opened', appHomeOpened(ctx));
  app.event('user_change', userChange(ctx));
}
