import type http from 'node:http';
import { SLACK_CLIENTS } from '../../functions/shared/clients';
import { createHttpSlackApp } from '../../functions/slack/http';
import { slackAppDeps } from '../../functions/slack/runtime-deps';

// The product's Slack app (functions/slack, Bolt) on Bolt's HTTPReceiver, mounted at
// /slack/events of the sandbox's own server (its request listener, signature guard included).
// Built after the sandbox has set the environment, so its dependencies — the same wiring the
// Lambda uses (functions/slack/runtime-deps.ts) — reach the stand-ins.

export interface SlackAppHandle {
  /** Answers POST /slack/events (signature-checked by the app's guard, then Bolt). */
  listener: http.RequestListener;
  close?: () => Promise<void>;
}

export interface SlackAppOptions {
  signingSecret: string;
  botToken: string;
  /** WebClient slackApiUrl (the stand-in), absent for a real workspace. */
  slackApiUrl?: string;
}

export async function startSlackApp(options: SlackAppOptions): Promise<SlackAppHandle> {
  const deps = slackAppDeps();
  const slackApp = createHttpSlackApp({
    signingSecret: options.signingSecret,
    botToken: options.botToken,
    deps,
    // As on Lambda (AwsLambdaReceiver, functions/slack/index.ts): the answer goes back once the
    // listeners are done, so the console's timings show what Slack's 3-second deadline sees.
    processBeforeResponse: true,
    clientOptions: {
      ...SLACK_CLIENTS.app.options,
      ...(options.slackApiUrl ? { slackApiUrl: options.slackApiUrl } : {}),
    },
  });
  // The receiver never listens on a port of its own: the sandbox server forwards to it.
  return { listener: slackApp.requestListener };
}
