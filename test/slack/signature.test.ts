import { classifySlackBody, verifySlackSignature } from '../../functions/slack/signature';
import { FORM, type Harness, PEOPLE, SIGNING_SECRET, sign, startHarness } from './support/harness';

// Invariant 4: every Slack request is signature-verified (v0 HMAC, 5 minutes either way); others get 401.

describe('verifySlackSignature', () => {
  const now = Date.UTC(2026, 10, 1, 12) as number;
  const ts = Math.floor(now / 1000);
  const body = 'command=%2Frequest-access&user_id=U0ALICE';
  const verify = (timestamp: number | string | undefined, signature: string | undefined, raw = body) =>
    verifySlackSignature({
      signingSecret: SIGNING_SECRET,
      rawBody: raw,
      signature,
      timestamp: timestamp === undefined ? undefined : String(timestamp),
      nowMs: now,
    });

  it('accepts a correct signature within the window on both sides', () => {
    expect(verify(ts, sign(body, ts))).toEqual({ ok: true });
    expect(verify(ts - 299, sign(body, ts - 299))).toEqual({ ok: true });
    expect(verify(ts + 299, sign(body, ts + 299))).toEqual({ ok: true });
  });

  it('rejects stale, future, tampered, wrongly keyed and unsigned requests', () => {
    expect(verify(ts - 301, sign(body, ts - 301))).toEqual({ ok: false, reason: 'stale' });
    expect(verify(ts + 301, sign(body, ts + 301))).toEqual({ ok: false, reason: 'future' });
    expect(verify(ts, sign(body, ts), `${body}&text=admin`)).toEqual({ ok: false, reason: 'bad-signature' });
    expect(verify(ts, sign(body, ts, 'another-secret'))).toEqual({ ok: false, reason: 'bad-signature' });
    expect(verify(ts, 'v0=short')).toEqual({ ok: false, reason: 'bad-signature' });
    expect(verify(undefined, sign(body, ts))).toEqual({ ok: false, reason: 'missing-headers' });
    expect(verify(ts, undefined)).toEqual({ ok: false, reason: 'missing-headers' });
    expect(verify('12e3', sign(body, ts))).toEqual({ ok: false, reason: 'bad-timestamp' });
  });
});

describe('classifySlackBody', () => {
  it('recognises commands, interactions, events and ssl checks', () => {
    expect(classifySlackBody('command=%2Fx&user_id=U1&trigger_id=t', FORM).kind).toBe('dispatch');
    expect(classifySlackBody('ssl_check=1&token=x', FORM).kind).toBe('ssl-check');
    expect(
      classifySlackBody(JSON.stringify({ type: 'event_callback', event: {} }), 'application/json').kind,
    ).toBe('dispatch');
    expect(classifySlackBody('{}', 'text/plain')).toEqual({
      kind: 'bad',
      message: 'Unsupported content type text/plain.',
    });
  });
});

describe('the app over HTTP', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(() => h.close());
  beforeEach(() => {
    h.slack.standIn.reset();
    h.sfn.resetHistory();
  });

  const commandBody = () =>
    new URLSearchParams({
      command: '/request-access',
      text: '',
      user_id: PEOPLE.alice.id,
      user_name: 'alice',
      team_id: 'T0SANDBOX',
      channel_id: 'C0GENERAL',
      trigger_id: h.slack.standIn.issueTriggerId(PEOPLE.alice.id),
      response_url: h.slack.responseUrl({ channel: 'C0GENERAL', userId: PEOPLE.alice.id }),
    }).toString();
  const nowSeconds = () => Math.floor(Date.now() / 1000);

  it('serves a correctly signed command', async () => {
    const response = await h.post(commandBody(), FORM);
    expect(response.status).toBe(200);
    expect(h.slack.standIn.calls('views.open')).toHaveLength(1);
  });

  it.each([
    ['a bad signature', { signature: `v0=${'0'.repeat(64)}` }],
    ['a stale timestamp (6 minutes ago)', { timestamp: nowSeconds() - 6 * 60 }],
    ['a future timestamp (6 minutes ahead)', { timestamp: nowSeconds() + 6 * 60 }],
    ['no signature headers', { signature: null }],
  ])('answers %s with 401 and does nothing', async (_name, sign) => {
    const response = await h.post(commandBody(), FORM, sign);

    expect(response.status).toBe(401);
    expect(await response.text()).toBe('');
    expect(h.slack.standIn.calls()).toHaveLength(0);
    expect(h.sfn.calls()).toHaveLength(0);
  });

  it('answers a signed ssl_check without reaching a listener', async () => {
    const response = await h.post('ssl_check=1&token=legacy', FORM);
    expect(response.status).toBe(200);
    expect(h.slack.standIn.calls()).toHaveLength(0);
  });

  it('answers a signed url_verification with the challenge', async () => {
    const response = await h.post(
      JSON.stringify({ type: 'url_verification', challenge: 'c-123' }),
      'application/json',
    );
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ challenge: 'c-123' });
  });

  it('refuses an unsigned url_verification', async () => {
    const response = await h.post(
      JSON.stringify({ type: 'url_verification', challenge: 'c' }),
      'application/json',
      {
        signature: null,
      },
    );
    expect(response.status).toBe(401);
  });

  it('answers other paths and methods without Bolt', async () => {
    expect((await fetch(`${h.url}/elsewhere`, { method: 'POST' })).status).toBe(404);
    expect((await fetch(`${h.url}/slack/events`)).status).toBe(405);
  });

  it('refuses an oversized body with 413', async () => {
    const response = await h.post(`command=%2Frequest-access&text=${'a'.repeat(600 * 1024)}`, FORM);
    expect(response.status).toBe(413);
    expect(h.slack.standIn.calls()).toHaveLength(0);
  });
});
