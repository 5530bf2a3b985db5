import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { LogLevel, WebClient } from '@slack/web-api';
import { classifySlackError } from '../../functions/adapters/slack-notifier';
import {
  type SlackWebApi,
  SlackWebApiClient,
  type SlackWebApiSettings,
} from '../../functions/adapters/slack-web-api';
import { RetryableError } from '../../functions/core/errors';
import { SLACK_CLIENTS } from '../../functions/shared/clients';

// The workers' Slack client (adapters/slack-web-api.ts) side by side with @slack/web-api's
// WebClient under the same settings (SLACK_CLIENTS.worker), against a server that records what
// arrives and answers as told: the same request on the wire, the same errors (as the notifier
// classifies them), the same retries.

interface Seen {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  form: Record<string, string>;
}

type Answer = (res: http.ServerResponse) => void;
let server: http.Server;
let base: string;
let seen: Seen[] = [];
let answers: Answer[] = [];

beforeAll(async () => {
  server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      seen.push({
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        form: Object.fromEntries(new URLSearchParams(Buffer.concat(chunks).toString())),
      });
      const answer = answers.shift();
      if (answer) answer(res);
      else ok({ ts: '1700000000.000100', channel: 'C0APPROVAL' })(res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/`;
});
afterAll(() => {
  server.closeAllConnections();
  return new Promise<void>((resolve) => server.close(() => resolve()));
});
beforeEach(() => {
  seen = [];
  answers = [];
});

const ok =
  (body: object): Answer =>
  (res) =>
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ ok: true, ...body }));
const refused =
  (error: string): Answer =>
  (res) =>
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ ok: false, error }));
const status =
  (code: number, headers: Record<string, string> = {}): Answer =>
  (res) =>
    res.writeHead(code, headers).end('upstream trouble');
const silent: Answer = () => undefined; // never answers: the client's timeout decides

const TOKEN = 'xoxb-test-token';
const delays: number[] = [];
type Settings = SlackWebApiSettings & { rejectRateLimitedCalls: true };

function both(settings: Settings = SLACK_CLIENTS.worker.options): Array<[string, SlackWebApi]> {
  delays.length = 0;
  return [
    [
      'SlackWebApiClient',
      new SlackWebApiClient(TOKEN, settings, {
        slackApiUrl: base,
        sleep: async (ms) => {
          delays.push(ms);
        },
      }),
    ],
    ['WebClient', new WebClient(TOKEN, { slackApiUrl: base, logLevel: LogLevel.ERROR, ...settings })],
  ];
}

/** What of an error the product reads: WebClient's fields, and the notifier's classification. */
function shape(error: unknown) {
  const e = error as { code?: unknown; data?: unknown; statusCode?: unknown; retryAfter?: unknown };
  return {
    code: e.code,
    data: e.data,
    statusCode: e.statusCode,
    retryAfter: e.retryAfter,
    retryable: classifySlackError(error) instanceof RetryableError,
  };
}

async function failure(call: Promise<unknown>): Promise<unknown> {
  try {
    await call;
  } catch (error) {
    return error;
  }
  throw new Error('expected the call to fail');
}

describe('the workers’ Slack Web API client, side by side with WebClient', () => {
  it('sends the request WebClient sends', async () => {
    const requests: Seen[][] = [];
    for (const [, client] of both()) {
      seen = [];
      const posted = await client.chat.postMessage({
        channel: 'C0APPROVAL',
        text: 'Request <b> & more',
        blocks: [{ type: 'section', text: { type: 'mrkdwn', text: '*bold* ü' } }],
        unfurl_links: false,
      });
      expect(posted).toMatchObject({ ok: true, ts: '1700000000.000100', channel: 'C0APPROVAL' });
      await client.users.lookupByEmail({ email: 'alice@example.com' });
      await client.usergroups.list({ include_disabled: false });
      requests.push(seen);
    }
    const [ours, theirs] = requests as [Seen[], Seen[]];
    expect(ours.map((r) => r.url)).toEqual([
      '/api/chat.postMessage',
      '/api/users.lookupByEmail',
      '/api/usergroups.list',
    ]);
    expect(ours.map((r) => [r.method, r.url, r.form])).toEqual(theirs.map((r) => [r.method, r.url, r.form]));
    for (const [i, request] of ours.entries()) {
      expect(request.headers.authorization).toBe(`Bearer ${TOKEN}`);
      expect(request.headers['content-type']).toBe(theirs[i]?.headers['content-type']);
    }
    // Nested values travel JSON-encoded in the form, as Slack's form bodies take them.
    expect(JSON.parse(ours[0]?.form.blocks ?? '')).toEqual([
      { type: 'section', text: { type: 'mrkdwn', text: '*bold* ü' } },
    ]);
  });

  it.each([
    ['a platform refusal (ok: false), never retried', [refused('not_in_channel')], 1],
    [
      'a rate limit, rejected at once (Retry-After is not slept out)',
      [status(429, { 'retry-after': '30' })],
      1,
    ],
    ['a 5xx twice: one retry, then the HTTP error', [status(503), status(503)], 2],
  ])('fails alike on %s', async (_case, script, requests) => {
    const shapes = [];
    for (const [, client] of both()) {
      seen = [];
      answers = [...script];
      shapes.push(shape(await failure(client.chat.update({ channel: 'C0APPROVAL', ts: '1.2', text: 'x' }))));
      expect(seen).toHaveLength(requests);
    }
    expect(shapes[0]).toEqual(shapes[1]);
  });

  it('names the refusal and the rate limit as the notifier expects', async () => {
    const [, ours] = both()[0] ?? [];
    if (!ours) throw new Error('no client');
    answers = [refused('not_in_channel')];
    expect(shape(await failure(ours.chat.postMessage({ channel: 'C0', text: 'x' })))).toMatchObject({
      code: 'slack_webapi_platform_error',
      data: { ok: false, error: 'not_in_channel' },
      retryable: false,
    });
    answers = [status(429, { 'retry-after': '30' })];
    expect(shape(await failure(ours.chat.postMessage({ channel: 'C0', text: 'x' })))).toMatchObject({
      code: 'slack_webapi_rate_limited_error',
      retryAfter: 30,
      retryable: true,
    });
    expect(delays).toEqual([]);
  });

  it('retries a 5xx once, a second later, as the worker settings say', async () => {
    for (const [name, client] of both()) {
      seen = [];
      answers = [status(500), ok({ ts: '9.9', channel: 'C0APPROVAL' })];
      await expect(client.chat.postMessage({ channel: 'C0APPROVAL', text: 'x' })).resolves.toMatchObject({
        ts: '9.9',
      });
      expect([name, seen.length]).toEqual([name, 2]);
    }
    // WebClient waited its own second (p-retry); ours was told to wait the same.
    expect(delays).toEqual([1000]);
  });

  it('gives up on a server that does not answer after its timeout, retried once', async () => {
    const shapes = [];
    for (const [, client] of both({ ...SLACK_CLIENTS.worker.options, timeout: 100 })) {
      seen = [];
      answers = [silent, silent];
      shapes.push(shape(await failure(client.users.info({ user: 'U0ALICE' }))));
      expect(seen).toHaveLength(2);
    }
    expect(shapes[0]).toEqual(shapes[1]);
    expect(shapes[0]).toMatchObject({ code: 'slack_webapi_request_error', retryable: true });
  });
});
