import type { App } from '@slack/bolt';
import type { ListenerContext } from '../../deps';
import { REQUEST_COMMAND, requestAccessCommand, unknownCommand } from './request-access';

export function register(app: App, ctx: ListenerContext): void {
  app.command(REQUEST_COMMAND, requestAccessCommand(ctx));
  // Any other command routed here (a misconfigured manifest) gets an answer, not a 3-second timeout.
  app.command(/^(?!\/request-access$)/, unknownCommand());
}
