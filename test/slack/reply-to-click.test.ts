import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebClient } from '@slack/web-api';
import { replyToClick, tell } from '../../functions/slack/interaction';

// Answering a click through its response_url: posted only to Slack's hooks host or the API host
// the client already talks to, and a dead URL falls back to a DM.

interface Received {
  path: string;
  body: string;
}

let server: http.Server;
let base: string;
let received: Received[];
/** What the response_url answers (Slack: 404 once it is used up or expired). */
let responseStatus = 200;

beforeAll(async () => {
  server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => {
      body += chunk;
    });
    req.on('end', () => {
      received.push({ path: req.url ?? '', body });
      const api = (req.url ?? '').startsWith('/api/');
      res.writeHead(api ? 200 : responseStatus, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify(api ? { ok: true, channel: 'D0ALICE', ts: '1.1' } : { ok: responseStatus === 200 }),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
beforeEach(() => {
  received = [];
  responseStatus = 200;
});

const client = () => new WebClient('xoxb-test', { slackApiUrl: `${base}/api/`, retryConfig: { retries: 0 } });

describe('replyToClick', () => {
  it('posts an ephemeral reply that keeps the original message', async () => {
    await replyToClick(client(), `${base}/hooks/R1`, 'You are not an approver for this request.');

    expect(received).toEqual([
      {
        path: '/hooks/R1',
        body: JSON.stringify({
          response_type: 'ephemeral',
          replace_original: false,
          text: 'You are not an approver for this request.',
        }),
      },
    ]);
  });

  it.each([
    'https://evil.example/hooks/R1',
    'http://hooks.slack.com/actions/T1/2/3',
    'https://hooks.slack.com.evil.example/actions',
    'not a url',
  ])('refuses %s and posts nothing', async (url) => {
    await expect(replyToClick(client(), url, 'hello')).rejects.toThrow();
    expect(received).toEqual([]);
  });
});

describe('tell', () => {
  const ctx = {} as Parameters<typeof tell>[0];

  it('answers a click on a message through its response_url', async () => {
    await tell(
      ctx,
      client(),
      'U0ALICE',
      { kind: 'message', channel: 'C1', ts: '1.1', responseUrl: `${base}/hooks/R2` },
      'Done.',
    );

    expect(received.map((r) => r.path)).toEqual(['/hooks/R2']);
  });

  it('sends a DM when the response_url is used up, and when there is none', async () => {
    responseStatus = 404;
    await tell(
      ctx,
      client(),
      'U0ALICE',
      { kind: 'message', channel: 'C1', ts: '1.1', responseUrl: `${base}/hooks/R3` },
      'Done.',
    );
    await tell(ctx, client(), 'U0ALICE', { kind: 'message', channel: 'C1', ts: '1.1' }, 'Again.');

    expect(received.map((r) => r.path)).toEqual([
      '/hooks/R3',
      '/api/chat.postMessage',
      '/api/chat.postMessage',
    ]);
    expect(decodeURIComponent(received[1]?.body ?? '')).toContain('channel=U0ALICE');
  });
});
