import type { App } from '@slack/bolt';
import type { ListenerContext } from '../../deps';
import { appHomeOpened } from './app-home-opened';

export function register(app: App, ctx: ListenerContext): void {
  app.event('app_home_opened', appHomeOpened(ctx));
}
