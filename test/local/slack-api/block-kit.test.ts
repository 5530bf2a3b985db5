import { LogLevel, WebClient } from '@slack/web-api';
import { createManualClock } from '../../../local/identity-center';
import {
  BLOCK_KIT_LIMITS,
  optionsAnswerProblems,
  type RunningSlackApi,
  responseErrorsProblems,
  SlackApiStandIn,
  type SlackArgs,
  startSlackApiStandIn,
} from '../../../local/slack-api';

// Block Kit's limits as the stand-in enforces them, answered as Slack answers: invalid_blocks
// (with `errors` and `response_metadata.messages`, each naming a JSON pointer) for messages,
// invalid_arguments for views; nothing is stored. And the checks of what an app answers Slack
// directly: an external select's options, a submission's response_action errors.

const TOKEN = 'xoxb-block-kit';
const users = [{ id: 'U0ALICE', name: 'alice', email: 'alice@example.com' }];
const clock = createManualClock(Date.UTC(2026, 0, 1, 9));
const standIn = () => new SlackApiStandIn({ users, tokens: [TOKEN], now: clock.now });
const call = (s: SlackApiStandIn, method: string, args: SlackArgs) => s.request(method, args, TOKEN).body;

const section = (length: number) => ({ type: 'section', text: { type: 'mrkdwn', text: 'x'.repeat(length) } });
const modal = (over: Record<string, unknown> = {}) => ({
  type: 'modal',
  title: { type: 'plain_text', text: 'Request AWS access' },
  blocks: [section(10)],
  ...over,
});
const select = (text: string, value: string) => ({
  type: 'input',
  block_id: 'duration',
  label: { type: 'plain_text', text: 'Duration' },
  element: {
    type: 'static_select',
    action_id: 'duration',
    options: [{ text: { type: 'plain_text', text }, value }],
  },
});

describe('messages over Block Kit limits', () => {
  it('refuses a section over 3,000 characters with invalid_blocks, as Slack words it', () => {
    const s = standIn();
    expect(call(s, 'chat.postMessage', { channel: 'C0APPROVALS', blocks: [section(3000)] }).ok).toBe(true);

    const refused = call(s, 'chat.postMessage', {
      channel: 'C0APPROVALS',
      blocks: [section(10), section(3001)],
    });

    expect(refused).toEqual({
      ok: false,
      error: 'invalid_blocks',
      errors: ['must be less than 3001 characters [json-pointer:/blocks/1/text/text]'],
      response_metadata: {
        messages: ['[ERROR] must be less than 3001 characters [json-pointer:/blocks/1/text/text]'],
      },
    });
    expect(s.messages('C0APPROVALS')).toHaveLength(1);
  });

  it('refuses more than 50 blocks in a message, and an update or ephemeral over a limit', () => {
    const s = standIn();
    const many = (n: number) => Array.from({ length: n }, () => section(1));
    expect(call(s, 'chat.postMessage', { channel: 'C0A', blocks: many(51) })).toMatchObject({
      error: 'invalid_blocks',
      errors: ['no more than 50 items allowed [json-pointer:/blocks]'],
    });
    const posted = call(s, 'chat.postMessage', { channel: 'C0A', text: 'one', blocks: many(50) });
    expect(posted.ok).toBe(true);

    const update = call(s, 'chat.update', { channel: 'C0A', ts: posted.ts, blocks: [section(3001)] });
    expect(update).toMatchObject({ ok: false, error: 'invalid_blocks' });
    expect(s.messages('C0A')[0]?.blocks).toHaveLength(50);
    expect(
      call(s, 'chat.postEphemeral', { channel: 'C0A', user: 'U0ALICE', blocks: [section(3001)] }),
    ).toMatchObject({ ok: false, error: 'invalid_blocks' });
    expect(s.ephemerals()).toEqual([]);
  });

  it('refuses options whose text passes 75 characters or whose value passes 150', () => {
    const s = standIn();
    const blocks = (text: string, value: string) => [
      { type: 'actions', elements: [select(text, value).element] },
    ];
    expect(
      call(s, 'chat.postMessage', { channel: 'C0A', blocks: blocks('t'.repeat(75), 'v'.repeat(150)) }).ok,
    ).toBe(true);
    expect(
      call(s, 'chat.postMessage', { channel: 'C0A', blocks: blocks('t'.repeat(76), 'v'.repeat(151)) }),
    ).toMatchObject({
      errors: [
        'must be less than 76 characters [json-pointer:/blocks/0/elements/0/options/0/text/text]',
        'must be less than 151 characters [json-pointer:/blocks/0/elements/0/options/0/value]',
      ],
    });
  });

  it('reach the app as Slack platform errors through the WebClient, nothing retried', async () => {
    const running: RunningSlackApi = await startSlackApiStandIn({ users, tokens: [TOKEN], now: clock.now });
    try {
      // WebClient logs Slack's response_metadata.messages (its "[ERROR] …" lines) itself.
      const logged: string[] = [];
      const logger = {
        debug: () => undefined,
        info: () => undefined,
        warn: () => undefined,
        error: (...parts: unknown[]) => {
          logged.push(parts.join(' '));
        },
        setLevel: () => undefined,
        getLevel: () => LogLevel.ERROR,
        setName: () => undefined,
      };
      const client = new WebClient(TOKEN, { slackApiUrl: `${running.url}/api/`, logger });
      const error = (await client.chat
        .postMessage({ channel: 'C0A', text: 'x', blocks: [section(3001)] as never })
        .catch((e: unknown) => e)) as { code?: string; data?: { error?: string; errors?: string[] } };
      expect(error.code).toBe('slack_webapi_platform_error');
      expect(error.data?.error).toBe('invalid_blocks');
      expect(error.data?.errors).toEqual([
        'must be less than 3001 characters [json-pointer:/blocks/0/text/text]',
      ]);
      expect(logged).toEqual(['must be less than 3001 characters [json-pointer:/blocks/0/text/text]']);
      expect(running.standIn.calls('chat.postMessage')).toHaveLength(1);
    } finally {
      await running.close();
    }
  });
});

describe('views over Block Kit limits', () => {
  it('refuses a modal title over 24 characters with invalid_arguments, and opens nothing', () => {
    const s = standIn();
    const trigger = () => s.issueTriggerId('U0ALICE');
    const title = (text: string) => ({ type: 'plain_text', text });
    expect(
      call(s, 'views.open', { trigger_id: trigger(), view: modal({ title: title('t'.repeat(24)) }) }).ok,
    ).toBe(true);
    s.closeView('U0ALICE');

    const refused = call(s, 'views.open', {
      trigger_id: trigger(),
      view: modal({ title: title('t'.repeat(25)) }),
    });

    expect(refused).toEqual({
      ok: false,
      error: 'invalid_arguments',
      response_metadata: {
        messages: ['[ERROR] must be less than 25 characters [json-pointer:/view/title/text]'],
      },
    });
    expect(s.openViews('U0ALICE')).toEqual([]);
  });

  it('refuses more than 100 blocks in a modal or a Home tab, and a too long option in a modal', () => {
    const s = standIn();
    const blocks = (n: number) => Array.from({ length: n }, () => section(1));
    expect(
      call(s, 'views.publish', { user_id: 'U0ALICE', view: { type: 'home', blocks: blocks(100) } }).ok,
    ).toBe(true);
    expect(
      call(s, 'views.publish', { user_id: 'U0ALICE', view: { type: 'home', blocks: blocks(101) } }),
    ).toMatchObject({
      error: 'invalid_arguments',
      response_metadata: { messages: ['[ERROR] no more than 100 items allowed [json-pointer:/view/blocks]'] },
    });
    expect(s.homeView('U0ALICE')?.view.blocks).toHaveLength(100);

    const opened = call(s, 'views.open', { trigger_id: s.issueTriggerId('U0ALICE'), view: modal() });
    const id = (opened.view as { id: string }).id;
    expect(call(s, 'views.update', { view_id: id, view: modal({ blocks: blocks(101) }) })).toMatchObject({
      error: 'invalid_arguments',
    });
    expect(
      call(s, 'views.update', { view_id: id, view: modal({ blocks: [select('t'.repeat(76), '30')] }) }),
    ).toMatchObject({
      response_metadata: {
        messages: [
          '[ERROR] must be less than 76 characters [json-pointer:/view/blocks/0/element/options/0/text/text]',
        ],
      },
    });
    expect(s.openViews('U0ALICE')[0]?.view.blocks).toEqual(modal().blocks);
  });
});

describe('what an app answers Slack directly', () => {
  it('checks an external select’s options as Slack would show them', () => {
    const options = (n: number, text = 'production', value = '111111111111') =>
      Array.from({ length: n }, () => ({ text: { type: 'plain_text', text }, value }));
    expect(optionsAnswerProblems({ options: [] })).toEqual([]);
    expect(optionsAnswerProblems({ options: options(BLOCK_KIT_LIMITS.optionsPerAnswer) })).toEqual([]);
    expect(optionsAnswerProblems({ options: options(101) })).toEqual([
      'no more than 100 items allowed [json-pointer:/options]',
    ]);
    expect(optionsAnswerProblems({ options: options(1, 'x'.repeat(76), 'v'.repeat(151)) })).toEqual([
      'must be less than 76 characters [json-pointer:/options/0/text/text]',
      'must be less than 151 characters [json-pointer:/options/0/value]',
    ]);
    expect(
      optionsAnswerProblems({
        option_groups: [{ label: { type: 'plain_text', text: 'g' }, options: options(1, 'x'.repeat(76)) }],
      }),
    ).toEqual(['must be less than 76 characters [json-pointer:/option_groups/0/options/0/text/text]']);
  });

  it('takes response_action errors only under the input blocks of the submitted view', () => {
    const view = modal({
      blocks: [section(5), select('30 minutes', '30'), { type: 'input', block_id: 'reason' }],
    });
    expect(responseErrorsProblems(view, { duration: 'Pick a duration.', reason: 'Say why.' })).toEqual([]);
    expect(responseErrorsProblems(view, { duration: 'x', account: 'No such block.' })).toEqual([
      '"account" is not the block_id of an input block [json-pointer:/errors/account]',
    ]);
    // A section's block id is no input's.
    const withSectionId = modal({ blocks: [{ ...section(5), block_id: 'summary' }] });
    expect(responseErrorsProblems(withSectionId, { summary: 'x' })).toHaveLength(1);
  });
});
