import { LogLevel, WebClient } from '@slack/web-api';
import { createManualClock } from '../../../local/identity-center';
import {
  type RunningSlackApi,
  SlackApiStandIn,
  type SlackApiStandInOptions,
  type SlackArgs,
  type SlackReply,
  startSlackApiStandIn,
} from '../../../local/slack-api';

// What real Slack refuses, modelled by the stand-in: rate limits per method tier, channels and
// messages the app may not touch, deactivated users, and seeded injected faults.

const TOKEN = 'xoxb-sandbox';
const users = [
  { id: 'U0ALICE', name: 'alice', email: 'alice@example.com' },
  { id: 'U0BOB', name: 'bob', email: 'bob@example.com' },
];
const clock = createManualClock(Date.UTC(2026, 0, 1, 9));

function standIn(options: SlackApiStandInOptions = {}): SlackApiStandIn {
  return new SlackApiStandIn({ users, tokens: [TOKEN], now: clock.now, ...options });
}

const post = (s: SlackApiStandIn, channel: string, text = 'hi'): SlackReply =>
  s.request('chat.postMessage', { channel, text }, TOKEN);
const send = (s: SlackApiStandIn, method: string, args: SlackArgs): SlackReply =>
  s.request(method, args, TOKEN);
const statuses = (replies: SlackReply[]) => replies.map((r) => r.status);
const field = (reply: SlackReply, name: 'ts' | 'channel'): string => String(reply.body[name]);

describe('rate limits (rateLimits: true)', () => {
  it('are off unless asked for', () => {
    const s = standIn();
    expect(s.rateLimits).toBeUndefined();
    expect(statuses(Array.from({ length: 30 }, () => post(s, 'C0APPROVALS')))).toEqual(Array(30).fill(200));
  });

  it('refuse a burst of chat.postMessage to one channel after the burst allowance, 429 with Retry-After', () => {
    const s = standIn({ rateLimits: true });
    const burst = Array.from({ length: 6 }, (_, i) => post(s, 'C0APPROVALS', `n${i}`));
    expect(statuses(burst)).toEqual([200, 200, 200, 200, 429, 429]);
    expect(burst[4]).toEqual({
      status: 429,
      headers: expect.objectContaining({ 'retry-after': '1' }),
      body: { ok: false, error: 'ratelimited' },
      holdMs: 0,
    });
    // Refused calls did nothing.
    expect(s.messages('C0APPROVALS').map((m) => m.text)).toEqual(['n0', 'n1', 'n2', 'n3']);
    // Another channel has its own allowance.
    expect(post(s, 'C0GENERAL').status).toBe(200);
    expect(s.counters()).toMatchObject({
      calls: 7,
      rateLimited: 2,
      rateLimitedByTier: 2,
      byMethod: { 'chat.postMessage': { calls: 7, ok: 5, rateLimited: 2 } },
    });
    expect(s.calls('chat.postMessage').filter((c) => c.status === 429)).toEqual([
      expect.objectContaining({ retryAfter: 1, refusedBy: 'ratelimit', applied: false }),
      expect.objectContaining({ retryAfter: 1, refusedBy: 'ratelimit', applied: false }),
    ]);
  });

  it('refill from the injected clock: one message per second per channel', () => {
    const s = standIn({ rateLimits: true });
    for (let i = 0; i < 4; i++) post(s, 'C0APPROVALS');
    expect(post(s, 'C0APPROVALS').status).toBe(429);
    clock.advance(999);
    expect(post(s, 'C0APPROVALS').status).toBe(429);
    clock.advance(1);
    expect(post(s, 'C0APPROVALS').status).toBe(200);
    expect(post(s, 'C0APPROVALS').status).toBe(429);
    clock.advance(60_000);
    expect(statuses(Array.from({ length: 5 }, () => post(s, 'C0APPROVALS')))).toEqual([
      200, 200, 200, 200, 429,
    ]);
  });

  it('count a DM per user, whether addressed by user id or DM channel', () => {
    const s = standIn({ rateLimits: true });
    const first = post(s, 'U0BOB');
    const dm = field(first, 'channel');
    expect(statuses([post(s, dm), post(s, 'U0BOB'), post(s, dm), post(s, 'U0BOB')])).toEqual([
      200, 200, 200, 429,
    ]);
    expect(post(s, 'U0ALICE').status).toBe(200);
  });

  it("apply each method's tier per workspace: chat.update is Tier 3, 50 a minute", () => {
    const s = standIn({ rateLimits: true });
    const ts = field(post(s, 'C0APPROVALS'), 'ts');
    const update = () => send(s, 'chat.update', { channel: 'C0APPROVALS', ts, text: 'edited' });
    expect(statuses(Array.from({ length: 50 }, update))).toEqual(Array(50).fill(200));
    const refused = update();
    // 50 a minute: the next token in 1.2 s, Retry-After in whole seconds.
    expect(refused).toMatchObject({ status: 429, headers: { 'retry-after': '2' } });
    // Other methods have their own buckets.
    expect(send(s, 'users.info', { user: 'U0ALICE' }).status).toBe(200);
    clock.advance(1200);
    expect(update().status).toBe(200);
    expect(update().status).toBe(429);
  });

  it('take overrides: tiers, a method, the per-channel burst', () => {
    const s = standIn({
      rateLimits: {
        postMessagePerChannel: { perMinute: 60, burst: 1 },
        methods: { 'users.info': 'tier1' },
      },
    });
    expect(statuses([post(s, 'C0A'), post(s, 'C0A')])).toEqual([200, 429]);
    const info = () => send(s, 'users.info', { user: 'U0ALICE' });
    expect(info().status).toBe(200);
    expect(info()).toMatchObject({ status: 429, headers: { 'retry-after': '60' } });
    expect(s.rateLimits?.tiers.tier4).toEqual({ perMinute: 100, burst: 100 });
  });

  it('do not apply to in-process calls or bad tokens', () => {
    const s = standIn({ rateLimits: { postMessagePerChannel: { perMinute: 60, burst: 1 } } });
    for (let i = 0; i < 5; i++)
      expect(s.call('chat.postMessage', { channel: 'C0A', text: 'x' }, TOKEN).ok).toBe(true);
    for (let i = 0; i < 5; i++) {
      expect(s.request('chat.postMessage', { channel: 'C0B', text: 'x' }, 'xoxb-wrong')).toMatchObject({
        status: 200,
        body: { error: 'invalid_auth' },
      });
    }
    expect(post(s, 'C0B').status).toBe(200);
  });
});

describe('channel and message refusals', () => {
  it('not_in_channel once the bot is removed, until it is added back', () => {
    const s = standIn();
    expect(post(s, 'C0APPROVALS').body.ok).toBe(true);
    s.removeBotFromChannel('C0APPROVALS');
    expect(post(s, 'C0APPROVALS').body).toEqual({ ok: false, error: 'not_in_channel' });
    expect(
      send(s, 'chat.postEphemeral', { channel: 'C0APPROVALS', user: 'U0ALICE', text: 'x' }).body,
    ).toEqual({
      ok: false,
      error: 'not_in_channel',
    });
    expect(s.channelsSnapshot()).toContainEqual(
      expect.objectContaining({ id: 'C0APPROVALS', botMember: false, archived: false }),
    );
    s.addBotToChannel('C0APPROVALS');
    expect(post(s, 'C0APPROVALS').body.ok).toBe(true);
  });

  it('not_in_channel outside botChannels; DMs are always open', () => {
    const s = standIn({
      channels: ['C0GENERAL', { id: 'C0APPROVALS', name: 'access-requests' }],
      botChannels: ['C0APPROVALS'],
    });
    expect(post(s, 'C0APPROVALS').body.ok).toBe(true);
    expect(post(s, 'C0GENERAL').body).toMatchObject({ error: 'not_in_channel' });
    expect(post(s, 'C0ELSEWHERE').body).toMatchObject({ error: 'not_in_channel' });
    expect(post(s, 'U0BOB').body.ok).toBe(true);
  });

  it('is_archived for posts and is_inactive for updates in an archived channel; channel_not_found once deleted', () => {
    const s = standIn();
    const ts = field(post(s, 'C0APPROVALS'), 'ts');
    s.archiveChannel('C0APPROVALS');
    expect(post(s, 'C0APPROVALS').body).toEqual({ ok: false, error: 'is_archived' });
    expect(
      send(s, 'chat.postEphemeral', { channel: 'C0APPROVALS', user: 'U0ALICE', text: 'x' }).body,
    ).toMatchObject({
      error: 'is_archived',
    });
    expect(send(s, 'chat.update', { channel: 'C0APPROVALS', ts, text: 'y' }).body).toEqual({
      ok: false,
      error: 'is_inactive',
    });
    s.unarchiveChannel('C0APPROVALS');
    expect(send(s, 'chat.update', { channel: 'C0APPROVALS', ts, text: 'y' }).body.ok).toBe(true);
    s.deleteChannel('C0APPROVALS');
    expect(post(s, 'C0APPROVALS').body).toEqual({ ok: false, error: 'channel_not_found' });
    expect(send(s, 'chat.update', { channel: 'C0APPROVALS', ts, text: 'z' }).body).toMatchObject({
      error: 'channel_not_found',
    });
  });

  it('channel_not_found for unknown channels when strict', () => {
    const s = standIn({ strictChannels: true, channels: [{ id: 'C0OLD', archived: true }, 'C0APPROVALS'] });
    expect(post(s, 'C0APPROVALS').body.ok).toBe(true);
    expect(post(s, 'C0NOWHERE').body).toMatchObject({ error: 'channel_not_found' });
    expect(post(s, 'C0OLD').body).toMatchObject({ error: 'is_archived' });
  });

  it('message_not_found for chat.update of a message someone deleted', () => {
    const s = standIn();
    const ts = field(post(s, 'C0APPROVALS', 'Pending'), 'ts');
    expect(s.deleteMessage('C0APPROVALS', ts)).toBe(true);
    expect(s.deleteMessage('C0APPROVALS', ts)).toBe(false);
    expect(send(s, 'chat.update', { channel: 'C0APPROVALS', ts, text: 'Approved' }).body).toEqual({
      ok: false,
      error: 'message_not_found',
    });
    expect(send(s, 'chat.delete', { channel: 'C0APPROVALS', ts }).body).toMatchObject({
      error: 'message_not_found',
    });
  });

  it("cant_update_message (and cant_delete_message) for a person's message", () => {
    const s = standIn();
    const ts = s.postUserMessage('C0APPROVALS', 'U0ALICE', 'my own words');
    expect(send(s, 'chat.update', { channel: 'C0APPROVALS', ts, text: 'edited' }).body).toEqual({
      ok: false,
      error: 'cant_update_message',
    });
    expect(send(s, 'chat.delete', { channel: 'C0APPROVALS', ts }).body).toMatchObject({
      error: 'cant_delete_message',
    });
    expect(s.messages('C0APPROVALS')).toEqual([
      expect.objectContaining({ user: 'U0ALICE', text: 'my own words' }),
    ]);
  });

  it('a deactivated user: deleted in users.info, not found by email, user_disabled DMs — yet chat.postMessage answers ok', () => {
    const s = standIn();
    s.deactivateUser('U0BOB');
    expect(send(s, 'users.info', { user: 'U0BOB' }).body).toMatchObject({
      ok: true,
      user: { deleted: true },
    });
    expect(send(s, 'users.lookupByEmail', { email: 'bob@example.com' }).body).toEqual({
      ok: false,
      error: 'users_not_found',
    });
    expect(send(s, 'conversations.open', { users: 'U0BOB' }).body).toEqual({
      ok: false,
      error: 'user_disabled',
    });
    expect(
      send(s, 'chat.postEphemeral', { channel: 'C0APPROVALS', user: 'U0BOB', text: 'x' }).body,
    ).toMatchObject({
      error: 'user_not_in_channel',
    });
    // Slack answers ok for a DM to a deactivated user (slackapi/python-slack-sdk#1156).
    expect(post(s, 'U0BOB', 'Your access ended').body.ok).toBe(true);
    s.reactivateUser('U0BOB');
    expect(send(s, 'users.lookupByEmail', { email: 'bob@example.com' }).body.ok).toBe(true);
  });

  it('reset restores channels and users as seeded', () => {
    const s = standIn({
      channels: [{ id: 'C0APPROVALS', archived: true }],
      users: [{ ...users[0]!, deleted: true }],
    });
    s.unarchiveChannel('C0APPROVALS');
    s.reactivateUser('U0ALICE');
    s.removeBotFromChannel('C0OTHER');
    s.reset();
    expect(s.channelsSnapshot()).toEqual([
      { id: 'C0APPROVALS', archived: true, deleted: false, botMember: true },
    ]);
    expect(s.users()).toEqual([expect.objectContaining({ id: 'U0ALICE', deleted: true })]);
  });
});

describe('injected faults', () => {
  const outcome = (r: SlackReply) =>
    r.holdMs > 0 ? `hold:${r.status}` : `${r.status}:${r.body.ok ? 'ok' : r.body.error}`;
  const campaign = (s: SlackApiStandIn, n = 200) =>
    Array.from({ length: n }, (_, i) =>
      outcome(i % 2 ? post(s, 'C0APPROVALS') : send(s, 'users.info', { user: 'U0ALICE' })),
    );
  const faults = { rateLimitRate: 0.1, internalErrorRate: 0.05, fatalErrorRate: 0.05, timeoutRate: 0.05 };

  it('reproduce exactly for the same seed, and differ for another', () => {
    const first = campaign(standIn({ faults, seed: 7 }));
    expect(campaign(standIn({ faults, seed: 7 }))).toEqual(first);
    expect(campaign(standIn({ faults, seed: 8 }))).not.toEqual(first);
    const counts = (list: string[]) =>
      Object.fromEntries([...new Set(list)].map((o) => [o, list.filter((x) => x === o).length]));
    expect(Object.keys(counts(first)).sort()).toEqual([
      '200:fatal_error',
      '200:ok',
      '429:ratelimited',
      '500:internal_error',
      'hold:200',
    ]);
    // setFaults({seed}) restarts the sequence; reset returns to the constructor's seed and faults.
    const s = standIn({ faults, seed: 7 });
    campaign(s, 37);
    s.setFaults({ seed: 7 });
    expect(campaign(s)).toEqual(first);
    s.reset();
    expect(campaign(s)).toEqual(first);
  });

  it('answer as Slack would: 429 with Retry-After, 500 internal_error (not applied), fatal_error (applied), held answers', () => {
    const s = standIn({ faults: { retryAfterSeconds: 3, timeoutMs: 250 } });
    s.setFaults({
      failNext: [
        { method: 'chat.postMessage', fault: 'ratelimited' },
        { method: 'chat.postMessage', fault: 'internal_error' },
        { method: 'chat.postMessage', fault: 'fatal_error' },
        { method: 'chat.postMessage', fault: 'timeout' },
      ],
    });
    expect(post(s, 'C0A', 'one')).toMatchObject({
      status: 429,
      headers: { 'retry-after': '3' },
      body: { ok: false, error: 'ratelimited' },
    });
    expect(post(s, 'C0A', 'two')).toMatchObject({
      status: 500,
      body: { ok: false, error: 'internal_error' },
    });
    expect(post(s, 'C0A', 'three')).toMatchObject({ status: 200, body: { ok: false, error: 'fatal_error' } });
    expect(post(s, 'C0A', 'four')).toMatchObject({ status: 200, body: { ok: true }, holdMs: 250 });
    expect(post(s, 'C0A', 'five')).toMatchObject({ status: 200, body: { ok: true }, holdMs: 0 });
    // fatal_error and the timed-out call ran: Slack warns "some aspect of the operation succeeded".
    expect(s.messages('C0A').map((m) => m.text)).toEqual(['three', 'four', 'five']);
    expect(s.counters()).toMatchObject({
      calls: 5,
      rateLimited: 1,
      rateLimitedInjected: 1,
      internalErrors: 1,
      fatalErrors: 1,
      timeouts: 1,
    });
    s.setFaults({ timeoutsApply: false, failNext: [{ method: '*', fault: 'timeout', timeoutMs: 10 }] });
    expect(post(s, 'C0A', 'six')).toMatchObject({
      status: 503,
      body: { error: 'service_unavailable' },
      holdMs: 10,
    });
    expect(s.messages('C0A')).toHaveLength(3);
  });

  it('apply per method, replacing the global rates', () => {
    const s = standIn({
      faults: { internalErrorRate: 1, methods: { 'chat.postMessage': { internalErrorRate: 0 } } },
    });
    expect(post(s, 'C0A').status).toBe(200);
    expect(send(s, 'users.info', { user: 'U0ALICE' }).status).toBe(500);
    s.setFaults({ internalErrorRate: 0, methods: { 'chat.update': { rateLimitRate: 1 } } });
    expect(send(s, 'users.info', { user: 'U0ALICE' }).status).toBe(200);
    expect(send(s, 'chat.update', { channel: 'C0A', ts: '1.0', text: 'x' }).status).toBe(429);
    expect(s.faults().methods).toEqual({ 'chat.update': { rateLimitRate: 1 } });
  });

  it('validate settings', () => {
    const s = standIn();
    expect(() => s.setFaults({ rateLimitRate: 2 })).toThrow();
    expect(() => s.setFaults({ failNext: [{ method: 'x', fault: 'nope' as 'timeout' }] })).toThrow();
    expect(s.faults()).toMatchObject({ rateLimitRate: 0, retryAfterSeconds: 1, timeoutsApply: true });
  });
});

describe('over HTTP', () => {
  let running: RunningSlackApi;
  afterEach(() => running?.close());

  it('serves faults, counters, channels and admin actions', async () => {
    running = await startSlackApiStandIn({ users, tokens: [TOKEN], now: clock.now });
    const slack = new WebClient(TOKEN, { slackApiUrl: `${running.url}/api/`, retryConfig: { retries: 0 } });
    const admin = (path: string, body?: unknown) =>
      fetch(`${running.url}/_standin/${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: body === undefined ? '' : JSON.stringify(body),
      });
    const posted = await slack.chat.postMessage({ channel: 'C0APPROVALS', text: 'Pending' });

    expect((await admin('faults', { rateLimitRate: 5 })).status).toBe(400);
    const set = await admin('faults', {
      failNext: [{ method: 'auth.test', fault: 'ratelimited', retryAfterSeconds: 0 }],
    });
    expect(await set.json()).toMatchObject({ faults: { failNext: [{ method: 'auth.test' }] } });
    const limited = await fetch(`${running.url}/api/auth.test`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('0');
    expect(await limited.json()).toEqual({ ok: false, error: 'ratelimited' });

    expect((await admin('channels/C0APPROVALS/archive')).status).toBe(200);
    await expect(slack.chat.postMessage({ channel: 'C0APPROVALS', text: 'x' })).rejects.toMatchObject({
      data: { error: 'is_archived' },
    });
    await admin('channels/C0APPROVALS/unarchive');
    await admin('messages/delete', { channel: 'C0APPROVALS', ts: posted.ts });
    await expect(
      slack.chat.update({ channel: 'C0APPROVALS', ts: posted.ts ?? '', text: 'x' }),
    ).rejects.toMatchObject({
      data: { error: 'message_not_found' },
    });
    const mine = (await (
      await admin('messages/user', { channel: 'C0APPROVALS', user: 'U0ALICE', text: 'hello' })
    ).json()) as {
      ts: string;
    };
    await expect(slack.chat.update({ channel: 'C0APPROVALS', ts: mine.ts, text: 'x' })).rejects.toMatchObject(
      {
        data: { error: 'cant_update_message' },
      },
    );
    await admin('users/U0BOB/deactivate');
    await expect(slack.users.lookupByEmail({ email: 'bob@example.com' })).rejects.toMatchObject({
      data: { error: 'users_not_found' },
    });

    const channels = (await (await fetch(`${running.url}/_standin/channels`)).json()) as {
      channels: unknown[];
    };
    expect(channels.channels).toEqual([expect.objectContaining({ id: 'C0APPROVALS', archived: false })]);
    const counters = (await (await fetch(`${running.url}/_standin/counters`)).json()) as {
      counters: { rateLimited: number; byMethod: Record<string, unknown> };
    };
    expect(counters.counters).toMatchObject({
      rateLimited: 1,
      byMethod: { 'auth.test': { rateLimited: 1 } },
    });
    const faults = (await (await fetch(`${running.url}/_standin/faults`)).json()) as {
      faults: { failNext: unknown[] };
    };
    expect(faults.faults.failNext).toEqual([]);
  });

  it('holds a timed-out answer until the client gives up; the call still ran', async () => {
    running = await startSlackApiStandIn({
      users,
      tokens: [TOKEN],
      now: clock.now,
      faults: { timeoutMs: 5000 },
    });
    running.standIn.setFaults({ failNext: [{ method: 'chat.postMessage', fault: 'timeout' }] });
    const slack = new WebClient(TOKEN, {
      slackApiUrl: `${running.url}/api/`,
      retryConfig: { retries: 0 },
      timeout: 200,
      logLevel: LogLevel.ERROR,
    });
    const started = performance.now();
    await expect(slack.chat.postMessage({ channel: 'C0A', text: 'landed anyway' })).rejects.toMatchObject({
      code: 'slack_webapi_request_error',
    });
    const elapsed = performance.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(150);
    expect(elapsed).toBeLessThan(2000);
    expect(running.standIn.messages('C0A').map((m) => m.text)).toEqual(['landed anyway']);
  });
});
