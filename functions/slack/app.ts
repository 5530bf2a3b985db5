import { App, type AppOptions, type Receiver } from '@slack/bolt';
import type { ExtendedErrorHandler } from '@slack/bolt/dist/App';
import { errorMessage, errorName } from '../core/errors';
import { DEFAULT_SESSION_DURATION_CACHE, SessionDurationCache } from '../core/session-exposure';
import { logger } from '../shared/logger';
import type { ListenerContext, SlackAppDeps } from './deps';
import { register as registerActions } from './listeners/actions';
import { register as registerCommands } from './listeners/commands';
import { register as registerEvents } from './listeners/events';
import { register as registerOptions } from './listeners/options';
import { register as registerViews } from './listeners/views';
import { SlackPeople } from './people';
import { boltLogger, createHttpReceiver } from './receivers';

// The Slack app: one Bolt App whose listeners are the same wherever it runs. The receiver —
// AwsLambdaReceiver on AWS, HTTPReceiver in the sandbox — is chosen by whoever builds it
// (index.ts, http.ts), never inside a listener.

export type { SlackAppDeps } from './deps';

export interface CreateSlackAppOptions {
  /** Default: the guarded HTTPReceiver on /slack/events (receivers.ts). */
  receiver?: Receiver;
  /** Needed for the default receiver; a given receiver verifies requests itself. */
  signingSecret?: string;
  botToken: string;
  /** e.g. `{ slackApiUrl }` to reach a Web API stand-in. */
  clientOptions?: AppOptions['clientOptions'];
  deps: SlackAppDeps;
}

export function createSlackApp(options: CreateSlackAppOptions): App {
  let receiver = options.receiver;
  if (!receiver) {
    if (!options.signingSecret) throw new Error('createSlackApp needs a signingSecret or a receiver');
    receiver = createHttpReceiver({ signingSecret: options.signingSecret });
  }
  const app = new App({
    token: options.botToken,
    receiver,
    logger: boltLogger(),
    extendedErrorHandler: true,
    ...(options.clientOptions ? { clientOptions: options.clientOptions } : {}),
  });
  const { sessionDurations } = options.deps;
  const ctx: ListenerContext = {
    ...options.deps,
    people: new SlackPeople(),
    ...(sessionDurations
      ? {
          sessions: new SessionDurationCache(
            sessionDurations,
            options.deps.clock,
            DEFAULT_SESSION_DURATION_CACHE,
            (what, error) =>
              logger.warn('session duration not read', {
                what,
                errorName: errorName(error),
                errorMessage: errorMessage(error),
              }),
          ),
        }
      : {}),
  };
  // Every listener's policy questions are synchronous and about the person acting (may they
  // request, may they approve): their directory groups are read (or taken from the cache) first,
  // a few calls whatever the groups' sizes. A directory that cannot answer fails the event
  // (onError tells the person); a person Slack cannot name is told so by the listener itself.
  const { directory } = options.deps;
  if (directory)
    app.use(async ({ body, client, next }) => {
      const userId = actingUserId(body);
      const lookup = userId ? await ctx.people.emailOf(client, userId) : undefined;
      if (lookup?.ok) await directory.forPeople([lookup.email]);
      await next();
    });
  registerCommands(app, ctx);
  registerViews(app, ctx);
  registerActions(app, ctx);
  registerOptions(app, ctx);
  registerEvents(app, ctx);

  // The unexpected: one log line (never the payload) and a polite DM to the person.
  const onError: ExtendedErrorHandler = async ({ error, body }) => {
    const cause = (error as { original?: unknown }).original ?? error;
    logger.error('slack listener failed', { errorName: errorName(cause), errorMessage: errorMessage(cause) });
    const userId = (
      body as { user?: { id?: unknown }; user_id?: unknown; event?: { user?: unknown } } | undefined
    )?.user?.id;
    if (typeof userId !== 'string' || !/^[UW][A-Z0-9]{2,30}$/.test(userId)) return;
    try {
      await app.client.chat.postMessage({
        channel: userId,
        text: ':warning: Something went wrong on our side while handling that. Please try again; if it keeps happening, tell the platform team.',
      });
    } catch {
      // Slack is unreachable too: the log line above is all we can do.
    }
  };
  app.error(onError);
  return app;
}

/** Who acts in a Slack payload: a click or a form (user.id), a command (user_id), an event (event.user). */
function actingUserId(body: unknown): string | undefined {
  const payload = body as { user?: { id?: unknown } | string; user_id?: unknown; event?: { user?: unknown } };
  const id =
    (typeof payload.user === 'object' ? payload.user?.id : payload.user) ??
    payload.user_id ??
    payload.event?.user;
  return typeof id === 'string' && /^[UW][A-Z0-9]{2,30}$/.test(id) ? id : undefined;
}
