import { slackSignature } from '../local/sandbox/slack-payloads';
import { PEOPLE, type Stack } from './lib/stack';

// Signed Slack requests as Lambda receives them behind a Function URL / API Gateway HTTP API
// (payload format 2.0): the raw body, Slack's v0 HMAC signature over `v0:{timestamp}:{body}`.

export interface FunctionUrlEvent {
  version: '2.0';
  routeKey: string;
  rawPath: string;
  rawQueryString: string;
  headers: Record<string, string>;
  requestContext: {
    accountId: string;
    apiId: string;
    domainName: string;
    http: { method: string; path: string; protocol: string; sourceIp: string; userAgent: string };
    requestId: string;
    routeKey: string;
    stage: string;
    time: string;
    timeEpoch: number;
  };
  body: string;
  isBase64Encoded: boolean;
}

let sequence = 0;

export function signedEvent(
  signingSecret: string,
  body: string,
  contentType = 'application/x-www-form-urlencoded',
): FunctionUrlEvent {
  const timestamp = Math.floor(Date.now() / 1000);
  const signature = slackSignature(signingSecret, timestamp, body);
  const now = new Date();
  sequence += 1;
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: '/slack/events',
    rawQueryString: '',
    headers: {
      'content-type': contentType,
      'x-slack-signature': signature,
      'x-slack-request-timestamp': String(timestamp),
      'user-agent': 'Slackbot 1.0 (+https://api.slack.com/robots)',
      host: 'bench.lambda-url.us-east-1.on.aws',
    },
    requestContext: {
      accountId: 'anonymous',
      apiId: 'bench',
      domainName: 'bench.lambda-url.us-east-1.on.aws',
      http: {
        method: 'POST',
        path: '/slack/events',
        protocol: 'HTTP/1.1',
        sourceIp: '127.0.0.1',
        userAgent: 'Slackbot 1.0 (+https://api.slack.com/robots)',
      },
      requestId: `bench-${sequence}`,
      routeKey: '$default',
      stage: '$default',
      time: now.toISOString(),
      timeEpoch: now.getTime(),
    },
    body,
    isBase64Encoded: false,
  };
}

/** A `/request-access` slash command from `user`. Team and app ids are the Slack stand-in's defaults. */
export function slashCommandEvent(
  signingSecret: string,
  user: { slackUserId: string },
  triggerId: string,
  text = '',
): FunctionUrlEvent {
  const body = new URLSearchParams({
    token: 'deprecated-verification-token',
    team_id: 'T0SANDBOX',
    team_domain: 'sandbox',
    channel_id: 'C0GENERAL',
    channel_name: 'general',
    user_id: user.slackUserId,
    user_name: user.slackUserId.toLowerCase(),
    command: '/request-access',
    text,
    api_app_id: 'A0JITAPP',
    is_enterprise_install: 'false',
    response_url: 'http://127.0.0.1:9/unused',
    trigger_id: triggerId,
  }).toString();
  return signedEvent(signingSecret, body);
}

/** The first event a cold Slack function sees in the benchmark: a `/request-access` command. */
export function slackColdEvent(stack: Stack): FunctionUrlEvent {
  const user = PEOPLE.alice;
  return slashCommandEvent(
    stack.env.SLACK_SIGNING_SECRET ?? '',
    user,
    stack.slack.standIn.issueTriggerId(user.slackUserId),
  );
}
