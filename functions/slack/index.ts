import type { AwsEvent, AwsHandler, AwsResponse } from '@slack/bolt/dist/receivers/AwsLambdaReceiver';
import type { Context } from 'aws-lambda';
import { errorMessage, errorName } from '../core/errors';
import { SLACK_CLIENTS } from '../shared/clients';
import { ENV, optionalEnv } from '../shared/config';
import { logger } from '../shared/logger';
import { loadSlackCredentials } from '../shared/slack-credentials';
import { createSlackApp } from './app';
import { GuardedAwsLambdaReceiver } from './receivers';
import { slackAppDeps } from './runtime-deps';

// Lambda entry: Slack's requests through API Gateway. Credentials come from Secrets Manager
// (SLACK_SECRET_ARN) and the app is built once per container, on the first request.
// AwsLambdaReceiver answers Slack only when the listeners finish, so listeners stay short.

let ready: Promise<AwsHandler> | undefined;

async function build(): Promise<AwsHandler> {
  const credentials = await loadSlackCredentials();
  const deps = slackAppDeps();
  const receiver = new GuardedAwsLambdaReceiver({ signingSecret: credentials.signingSecret });
  const slackApiUrl = optionalEnv(ENV.slackApiUrl);
  createSlackApp({
    receiver,
    botToken: credentials.botToken,
    deps,
    clientOptions: { ...SLACK_CLIENTS.app.options, ...(slackApiUrl ? { slackApiUrl } : {}) },
  });
  return receiver.start();
}

/** Two arguments: newer Node.js runtimes reject callback-style handlers. */
export const handler = async (event: AwsEvent, context: Context): Promise<AwsResponse> => {
  logger.resetKeys();
  if (context?.awsRequestId) logger.appendKeys({ lambdaRequestId: context.awsRequestId });
  ready ??= build().catch((error: unknown) => {
    ready = undefined; // the next request tries again (a Secrets Manager blip must not stick)
    throw error;
  });
  let slackHandler: AwsHandler;
  try {
    slackHandler = await ready;
  } catch (error) {
    logger.error('slack app could not start', {
      errorName: errorName(error),
      errorMessage: errorMessage(error),
    });
    return { statusCode: 500, body: '' };
  }
  return slackHandler(event, context);
};
