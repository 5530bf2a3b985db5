import { ErrorCode, WebClient } from '@slack/web-api';
import { SLACK_CLIENTS } from '../../../functions/shared/clients';
import { createManualClock } from '../../../local/identity-center';
import {
  type RunningSlackApi,
  type SlackApiStandInOptions,
  type StandInEvent,
  startSlackApiStandIn,
} from '../../../local/slack-api';

const TOKEN = 'xoxb-sandbox';
const users = [
  {
    id: 'U0ALICE',
    name: 'alice',
    realName: 'Alice Approver',
    email: 'alice@example.com',
    displayName: 'alice',
  },
  { id: 'U0BOB', name: 'bob', realName: 'Bob Builder', email: 'Bob@Example.com' },
];

let running: RunningSlackApi;
let slack: WebClient;
const clock = createManualClock(Date.UTC(2026, 0, 1, 9));

async function start(options: SlackApiStandInOptions = {}): Promise<void> {
  await running?.close();
  running = await startSlackApiStandIn({ users, tokens: [TOKEN], now: clock.now, ...options });
  slack = client(TOKEN);
}

function client(token?: string): WebClient {
  // The Slack function's settings (no retries): a failure surfaces in the test.
  return new WebClient(token, { slackApiUrl: `${running.url}/api/`, ...SLACK_CLIENTS.app.options });
}

beforeEach(() => start());
afterAll(() => running?.close());

const blocks = [{ type: 'section', text: { type: 'mrkdwn', text: '*Request* from <@U0BOB>' } }];

describe('Slack API stand-in', () => {
  it('answers auth.test like Slack', async () => {
    const auth = await slack.auth.test();
    expect(auth).toMatchObject({ ok: true, user_id: 'U0JITBOT', bot_id: 'B0JITBOT', team_id: 'T0SANDBOX' });
    expect(auth.url).toMatch(/^https:\/\//);
  });

  it('posts and updates messages, recording parsed blocks and the token', async () => {
    const posted = await slack.chat.postMessage({ channel: 'C0APPROVALS', text: 'fallback', blocks });
    expect(posted).toMatchObject({ ok: true, channel: 'C0APPROVALS', message: { text: 'fallback', blocks } });
    const second = await slack.chat.postMessage({ channel: 'C0APPROVALS', text: 'another' });
    expect(second.ts).not.toBe(posted.ts);
    expect(Number(second.ts)).toBeGreaterThan(Number(posted.ts));

    const [call] = running.standIn.calls('chat.postMessage');
    expect(call).toMatchObject({
      method: 'chat.postMessage',
      token: TOKEN,
      args: { channel: 'C0APPROVALS', blocks },
    });
    expect(call?.at).toBe(clock.now());

    const newBlocks = [{ type: 'section', text: { type: 'mrkdwn', text: 'Approved' } }];
    const updated = await slack.chat.update({
      channel: 'C0APPROVALS',
      ts: posted.ts ?? '',
      text: 'done',
      blocks: newBlocks,
    });
    expect(updated).toMatchObject({ ok: true, ts: posted.ts, text: 'done' });
    expect(running.standIn.messages('C0APPROVALS')).toEqual([
      expect.objectContaining({ ts: posted.ts, text: 'done', blocks: newBlocks, edits: 1 }),
      expect.objectContaining({ ts: second.ts, text: 'another' }),
    ]);
    await expect(
      slack.chat.update({ channel: 'C0APPROVALS', ts: '1.000001', text: 'x' }),
    ).rejects.toMatchObject({
      code: ErrorCode.PlatformError,
      data: { error: 'message_not_found' },
    });
  });

  it('opens a DM channel when a user id is the channel', async () => {
    const posted = await slack.chat.postMessage({ channel: 'U0BOB', text: 'Your access is granted' });
    expect(posted.channel).toMatch(/^D/);
    const opened = await slack.conversations.open({ users: 'U0BOB' });
    expect(opened.channel?.id).toBe(posted.channel);
    expect(running.standIn.directMessages('U0BOB').map((m) => m.text)).toEqual(['Your access is granted']);
    await expect(slack.chat.postMessage({ channel: 'U0NOBODY', text: 'x' })).rejects.toMatchObject({
      data: { error: 'channel_not_found' },
    });
  });

  it('posts ephemeral messages to one user', async () => {
    const result = await slack.chat.postEphemeral({
      channel: 'C0APPROVALS',
      user: 'U0ALICE',
      text: 'Only you',
      blocks,
    });
    expect(result).toMatchObject({ ok: true, message_ts: expect.any(String) });
    expect(running.standIn.ephemerals('U0ALICE')).toEqual([
      expect.objectContaining({ channel: 'C0APPROVALS', text: 'Only you', blocks }),
    ]);
    expect(running.standIn.messages('C0APPROVALS')).toEqual([]);
  });

  it('keeps modal stacks and Home tabs per user', async () => {
    const triggerId = running.standIn.issueTriggerId('U0BOB');
    const modal = {
      type: 'modal' as const,
      callback_id: 'request_access',
      title: { type: 'plain_text' as const, text: 'Request access' },
      blocks,
      private_metadata: '{"x":1}',
    };
    const opened = await slack.views.open({ trigger_id: triggerId, view: modal });
    expect(opened.view).toMatchObject({
      id: expect.stringMatching(/^V/),
      callback_id: 'request_access',
      blocks,
    });
    const pushed = await slack.views.push({
      trigger_id: running.standIn.issueTriggerId('U0BOB'),
      view: modal,
    });
    await slack.views.update({ view_id: pushed.view?.id ?? '', view: { ...modal, callback_id: 'confirm' } });
    expect(running.standIn.openViews('U0BOB').map((v) => v.view.callback_id)).toEqual([
      'request_access',
      'confirm',
    ]);

    await slack.views.publish({ user_id: 'U0ALICE', view: { type: 'home', blocks } });
    expect(running.standIn.homeView('U0ALICE')?.view.blocks).toEqual(blocks);
    expect(running.standIn.homeView('U0BOB')).toBeUndefined();

    const views = (await (await fetch(`${running.url}/_standin/views?user=U0BOB`)).json()) as {
      stack: unknown[];
    };
    expect(views.stack).toHaveLength(2);
  });

  it('enforces trigger ids when strict: single use, 3 seconds', async () => {
    await start({ strictTriggerIds: true });
    const view = { type: 'modal' as const, title: { type: 'plain_text' as const, text: 'T' }, blocks: [] };
    await expect(slack.views.open({ trigger_id: 'made-up', view })).rejects.toMatchObject({
      data: { error: 'invalid_trigger_id' },
    });
    const trigger = running.standIn.issueTriggerId('U0ALICE');
    await slack.views.open({ trigger_id: trigger, view });
    await expect(slack.views.open({ trigger_id: trigger, view })).rejects.toMatchObject({
      data: { error: 'expired_trigger_id' },
    });
    const late = running.standIn.issueTriggerId('U0ALICE');
    clock.advance(3001);
    await expect(slack.views.open({ trigger_id: late, view })).rejects.toMatchObject({
      data: { error: 'expired_trigger_id' },
    });
  });

  it('looks users up by id and by email', async () => {
    const info = await slack.users.info({ user: 'U0ALICE' });
    expect(info.user).toMatchObject({
      id: 'U0ALICE',
      name: 'alice',
      real_name: 'Alice Approver',
      profile: { email: 'alice@example.com', display_name: 'alice' },
    });
    const byEmail = await slack.users.lookupByEmail({ email: 'bob@example.com' });
    expect(byEmail.user?.id).toBe('U0BOB');
    await expect(slack.users.lookupByEmail({ email: 'nobody@example.com' })).rejects.toMatchObject({
      data: { error: 'users_not_found' },
    });
    await expect(slack.users.info({ user: 'U0NOBODY' })).rejects.toMatchObject({
      data: { error: 'user_not_found' },
    });
  });

  it('rejects bad or missing tokens and unknown methods', async () => {
    await expect(client('xoxb-wrong').auth.test()).rejects.toMatchObject({ data: { error: 'invalid_auth' } });
    await expect(client().auth.test()).rejects.toMatchObject({ data: { error: 'not_authed' } });
    await expect(slack.apiCall('chat.nothing', {})).rejects.toMatchObject({
      data: { error: 'unknown_method' },
    });
    expect(running.standIn.calls().map((c) => [c.method, c.response.ok])).toEqual([
      ['auth.test', false],
      ['auth.test', false],
      ['chat.nothing', false],
    ]);
  });

  it('accepts JSON bodies and serves the read endpoints', async () => {
    const response = await fetch(`${running.url}/api/chat.postMessage`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json; charset=utf-8' },
      body: JSON.stringify({ channel: 'C0X', blocks }),
    });
    expect(await response.json()).toMatchObject({ ok: true, channel: 'C0X' });
    const messages = (await (await fetch(`${running.url}/_standin/messages?channel=C0X`)).json()) as {
      messages: { blocks: unknown }[];
    };
    expect(messages.messages[0]?.blocks).toEqual(blocks);
    const calls = (await (await fetch(`${running.url}/_standin/calls?method=chat.postMessage`)).json()) as {
      calls: unknown[];
    };
    expect(calls.calls).toHaveLength(1);
    expect((await fetch(`${running.url}/_standin/reset`, { method: 'POST' })).status).toBe(200);
    expect(running.standIn.calls()).toEqual([]);
  });

  it('notifies subscribers of changes', async () => {
    const events: StandInEvent['type'][] = [];
    const unsubscribe = running.standIn.subscribe((e) => events.push(e.type));
    await slack.chat.postMessage({ channel: 'C0X', text: 'hi' });
    unsubscribe();
    await slack.chat.postMessage({ channel: 'C0X', text: 'unseen' });
    expect(events).toEqual(['message', 'call']);
  });

  it('serves response_url replies: ephemeral by default, replace_original updates the message', async () => {
    const posted = await slack.chat.postMessage({ channel: 'C0APPROVALS', text: 'Pending' });
    const responseUrl = running.responseUrl({
      channel: 'C0APPROVALS',
      userId: 'U0ALICE',
      messageTs: posted.ts,
    });
    const post = (body: unknown) =>
      fetch(responseUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    expect((await post({ text: 'Only for Alice' })).status).toBe(200);
    expect(running.standIn.ephemerals('U0ALICE').map((e) => e.text)).toEqual(['Only for Alice']);
    await post({ replace_original: true, text: 'Approved by Alice' });
    expect(running.standIn.messages('C0APPROVALS').map((m) => m.text)).toEqual(['Approved by Alice']);
    for (let i = 0; i < 3; i++) await post({ text: `n${i}` });
    expect((await post({ text: 'sixth' })).status).toBe(404);
    expect(running.standIn.calls('response_url')).toHaveLength(6);
  });

  it('applies the optional latency', async () => {
    await start({ latencyMs: 30 });
    const started = performance.now();
    await slack.auth.test();
    expect(performance.now() - started).toBeGreaterThanOrEqual(25);
  });
});
