import type { AwsEvent, AwsHandler } from '@slack/bolt/dist/receivers/AwsLambdaReceiver';
import { SLACK_CLIENTS } from '../../functions/shared/clients';
import { createSlackApp } from '../../functions/slack/app';
import { handler } from '../../functions/slack/index';
import { GuardedAwsLambdaReceiver } from '../../functions/slack/receivers';
import { BOT_TOKEN, FORM, type Harness, PEOPLE, SIGNING_SECRET, sign, startHarness } from './support/harness';

// The Lambda path: the same App behind AwsLambdaReceiver, with the signature guard in front.

let h: Harness;
let lambda: AwsHandler;
beforeAll(async () => {
  h = await startHarness();
  const receiver = new GuardedAwsLambdaReceiver({ signingSecret: SIGNING_SECRET });
  createSlackApp({
    receiver,
    botToken: BOT_TOKEN,
    clientOptions: { ...SLACK_CLIENTS.app.options, slackApiUrl: `${h.slack.url}/api/` },
    deps: h.deps,
  });
  lambda = await receiver.start();
});
afterAll(() => h.close());
beforeEach(() => h.slack.standIn.reset());

function apiGatewayEvent(
  body: string,
  options: { timestamp?: number; base64?: boolean; signature?: string } = {},
): AwsEvent {
  const timestamp = options.timestamp ?? Math.floor(Date.now() / 1000);
  return {
    version: '2.0',
    routeKey: 'POST /slack/events',
    rawPath: '/slack/events',
    rawQueryString: '',
    headers: {
      'content-type': FORM,
      'x-slack-request-timestamp': String(timestamp),
      'x-slack-signature': options.signature ?? sign(body, timestamp),
    },
    requestContext: {},
    body: options.base64 ? Buffer.from(body, 'utf8').toString('base64') : body,
    isBase64Encoded: !!options.base64,
  };
}

const command = (text = '') =>
  new URLSearchParams({
    command: '/request-access',
    text,
    user_id: PEOPLE.alice.id,
    user_name: 'alice',
    team_id: 'T0SANDBOX',
    channel_id: 'C0GENERAL',
    trigger_id: h.slack.standIn.issueTriggerId(PEOPLE.alice.id),
    response_url: h.slack.responseUrl({ channel: 'C0GENERAL', userId: PEOPLE.alice.id }),
  }).toString();

describe('slack Lambda', () => {
  it('exports a two-argument handler', () => {
    expect(handler.length).toBe(2);
    expect(lambda.length).toBe(2);
  });

  it('opens the form for a signed command (base64 body, as API Gateway sends it)', async () => {
    const response = await lambda(apiGatewayEvent(command(), { base64: true }), {});

    expect(response.statusCode).toBe(200);
    expect(h.slack.standIn.calls('views.open')).toHaveLength(1);
  });

  it('answers help in the response body', async () => {
    const response = await lambda(apiGatewayEvent(command('help')), {});

    expect(response.statusCode).toBe(200);
    expect(JSON.parse(response.body)).toMatchObject({ response_type: 'ephemeral' });
  });

  it.each([
    ['a stale timestamp', { skewSeconds: -360 }],
    ['a future timestamp', { skewSeconds: 360 }],
    ['a bad signature', { signature: 'v0=deadbeef' }],
  ])(
    'answers %s with 401',
    async (_name, { skewSeconds, signature }: { skewSeconds?: number; signature?: string }) => {
      const timestamp = Math.floor(Date.now() / 1000) + (skewSeconds ?? 0);
      const response = await lambda(
        apiGatewayEvent(command(), { timestamp, ...(signature ? { signature } : {}) }),
        {},
      );

      expect(response.statusCode).toBe(401);
      expect(h.slack.standIn.calls()).toHaveLength(0);
    },
  );

  it('answers a malformed payload with 400 instead of throwing', async () => {
    const response = await lambda(apiGatewayEvent('payload=%7Bbroken'), {});
    expect(response.statusCode).toBe(400);
  });

  it('answers an event without headers with 400', async () => {
    const response = await lambda({ body: 'x' } as unknown as AwsEvent, {});
    expect(response.statusCode).toBe(400);
  });
});
