import type { RequestListener, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { App, AppOptions, HTTPReceiver } from '@slack/bolt';
import { createSlackApp } from './app';
import type { SlackAppDeps } from './deps';
import { createHttpReceiver, SLACK_EVENTS_PATH } from './receivers';

// The app on Bolt's HTTPReceiver (local sandbox, tests): every Slack request — commands,
// interactivity, options, events — is POSTed to /slack/events.

export interface HttpSlackAppOptions {
  signingSecret: string;
  botToken: string;
  clientOptions?: AppOptions['clientOptions'];
  deps: SlackAppDeps;
  /** Answer after listeners finish (like Lambda) instead of at ack(). Default false. */
  processBeforeResponse?: boolean;
  /** Clock of the signature window (tests). */
  now?: () => number;
}

export interface HttpSlackApp {
  app: App;
  receiver: HTTPReceiver;
  /** Node request listener answering POST /slack/events (signature-checked); mount it in any server. */
  requestListener: RequestListener;
  path: typeof SLACK_EVENTS_PATH;
  /** Listens on its own server; returns the base URL (post to `${url}/slack/events`). */
  start(port?: number, host?: string): Promise<{ url: string; server: Server }>;
  stop(): Promise<void>;
}

export function createHttpSlackApp(options: HttpSlackAppOptions): HttpSlackApp {
  const receiver = createHttpReceiver({
    signingSecret: options.signingSecret,
    ...(options.processBeforeResponse !== undefined
      ? { processBeforeResponse: options.processBeforeResponse }
      : {}),
    ...(options.now ? { now: options.now } : {}),
  });
  const app = createSlackApp({
    receiver,
    botToken: options.botToken,
    deps: options.deps,
    ...(options.clientOptions ? { clientOptions: options.clientOptions } : {}),
  });
  let server: Server | undefined;
  return {
    app,
    receiver,
    requestListener: (req, res) => receiver.requestListener(req, res),
    path: SLACK_EVENTS_PATH,
    async start(port = 0, host = '127.0.0.1') {
      server = (await app.start({ port, host })) as Server;
      const address = server.address() as AddressInfo;
      return { url: `http://${host.includes(':') ? `[${host}]` : host}:${address.port}`, server };
    },
    async stop() {
      if (!server) return;
      server.closeAllConnections();
      await app.stop();
      server = undefined;
    },
  };
}
