import type { App, AppOptions } from '@slack/bolt';
import { SLACK_CLIENTS } from '../shared/clients';
import { ENV, optionalEnv } from '../shared/config';
import { loadSlackCredentials } from '../shared/slack-credentials';
import { createSocketModeSlackApp } from './app';
import type { SlackAppDeps } from './deps';
import { createHttpSlackApp, type HttpSlackApp } from './http';

// Running the app off AWS: Socket Mode when SLACK_APP_TOKEN is set (a real workspace from a
// laptop), otherwise Bolt's HTTP receiver on /slack/events (the sandbox, or a tunnel).

export type LocalSlackApp =
  | { mode: 'socket'; app: App; stop(): Promise<void> }
  | { mode: 'http'; app: App; http: HttpSlackApp; url: string; stop(): Promise<void> };

export async function startLocalSlackApp(options: {
  deps: SlackAppDeps;
  port?: number;
  host?: string;
}): Promise<LocalSlackApp> {
  const credentials = await loadSlackCredentials();
  const slackApiUrl = optionalEnv(ENV.slackApiUrl);
  const clientOptions: AppOptions['clientOptions'] = {
    ...SLACK_CLIENTS.app.options,
    ...(slackApiUrl ? { slackApiUrl } : {}),
  };
  const appToken = optionalEnv(ENV.slackAppToken);
  if (appToken) {
    const app = createSocketModeSlackApp({
      appToken,
      botToken: credentials.botToken,
      deps: options.deps,
      clientOptions,
    });
    await app.start();
    return {
      mode: 'socket',
      app,
      stop: async () => {
        await app.stop();
      },
    };
  }
  const http = createHttpSlackApp({
    signingSecret: credentials.signingSecret,
    botToken: credentials.botToken,
    deps: options.deps,
    clientOptions,
  });
  const { url } = await http.start(options.port ?? 3000, options.host ?? '127.0.0.1');
  return { mode: 'http', app: http.app, http, url, stop: () => http.stop() };
}
