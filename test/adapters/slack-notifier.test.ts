import { classifySlackError, SlackNotifier } from '../../functions/adapters/slack-notifier';
import { SlackWebApiClient } from '../../functions/adapters/slack-web-api';
import { AccessError, RetryableError } from '../../functions/core/errors';
import type { RequestRecord } from '../../functions/core/model';
import { SLACK_CLIENTS } from '../../functions/shared/clients';
import { createManualClock } from '../../local/identity-center';
import { type RunningSlackApi, startSlackApiStandIn } from '../../local/slack-api';

// The workers' Slack client as deployed (SLACK_CLIENTS.worker) against the Slack stand-in: a
// rate limit or an outage comes back at once as RetryableError (the state machine retries it with
// backoff), never as a Lambda asleep on Retry-After; a permanent refusal passes unchanged.

const TOKEN = 'xoxb-notifier';
const CHANNEL = 'C0APPROVE';
const clock = createManualClock(Date.UTC(2026, 11, 1, 9));
let running: RunningSlackApi;
let notifier: SlackNotifier;

const record = {
  request: {
    requestId: 'req-notify-1',
    requester: { email: 'alice@example.com', slackUserId: 'U0ALICE' },
    accountId: '222222222222',
    permissionSetArn: 'arn:aws:sso:::permissionSet/ssoins-7223a1b2c3d4e5f6/ps-1a2b3c4d5e6f7a8b',
    durationMinutes: 60,
    reason: 'Incident 42',
    requestedAt: '2026-12-01T09:00:00.000Z',
  },
  status: 'ACTIVE',
  approvals: [],
  revision: 3,
  updatedAt: '2026-12-01T09:01:00.000Z',
} as unknown as RequestRecord;

beforeEach(async () => {
  running = await startSlackApiStandIn({
    tokens: [TOKEN],
    now: clock.now,
    rateLimits: true,
    users: [
      { id: 'U0ALICE', name: 'alice', email: 'alice@example.com' },
      { id: 'U0CAROL', name: 'carol', email: 'carol@example.com' },
      { id: 'U0DAVE', name: 'dave', email: 'dave@example.com' },
    ],
  });
  const client = new SlackWebApiClient(TOKEN, SLACK_CLIENTS.worker.options, {
    slackApiUrl: `${running.url}/api/`,
  });
  notifier = new SlackNotifier(client, {
    approvalChannelFor: () => CHANNEL,
    notifyApproversByDm: () => false,
  });
});
afterEach(() => running.close());

describe('the Slack notifier (worker client settings)', () => {
  it('answers a rate limit at once with RetryableError instead of sleeping out Retry-After', async () => {
    running.standIn.setFaults({
      failNext: [{ method: 'chat.postMessage', fault: 'ratelimited', retryAfterSeconds: 30 }],
    });
    const started = performance.now();
    const error = await notifier.notifyRequester(record, 'granted').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RetryableError);
    expect((error as Error).message).toContain('Slack');
    expect(performance.now() - started).toBeLessThan(2_000);
    // Retried later (as the state machine would), it goes through.
    await notifier.notifyRequester(record, 'granted');
    expect(running.standIn.calls('chat.postMessage').map((c) => c.status)).toEqual([429, 200]);
  });

  it('turns a Slack outage into RetryableError after the client’s one retry', async () => {
    running.standIn.setFaults({
      failNext: [
        { method: 'chat.postMessage', fault: 'internal_error' },
        { method: 'chat.postMessage', fault: 'internal_error' },
      ],
    });
    await expect(notifier.alert('boom', record)).rejects.toBeInstanceOf(RetryableError);
  });

  it('passes a permanent refusal unchanged (the bot removed from the channel)', async () => {
    running.standIn.removeBotFromChannel(CHANNEL);
    const error = await notifier.alert('boom', record).catch((e: unknown) => e);
    expect(error).not.toBeInstanceOf(RetryableError);
    expect(classifySlackError(error)).toBe(error);
    expect((error as { data?: { error?: string } }).data?.error).toBe('not_in_channel');
  });

  it.each([
    [
      'the app removed from the channel',
      'not_in_channel',
      (s: RunningSlackApi) => s.standIn.removeBotFromChannel(CHANNEL),
    ],
    ['the channel archived', 'is_archived', (s: RunningSlackApi) => s.standIn.archiveChannel(CHANNEL)],
  ])('names an approval channel that cannot take the request (%s)', async (_what, code, breakIt) => {
    breakIt(running);
    const pending = { ...record, status: 'PENDING_APPROVAL' } as RequestRecord;
    const kept: unknown[] = [];
    const error = await notifier
      .requestApproval(pending, ['carol@example.com'], async (message) => {
        kept.push(message);
        return undefined;
      })
      .catch((e: unknown) => e);

    expect(error).toBeInstanceOf(AccessError);
    expect(error).toMatchObject({ code: 'approval-channel-unusable' });
    expect((error as Error).message).toContain(CHANNEL);
    expect((error as Error).message).toContain(code);
    expect(kept).toEqual([]);
  });

  it('keeps the approval message before any DM is tried, and a DM refused does not fail the step', async () => {
    const dmNotifier = new SlackNotifier(
      new SlackWebApiClient(TOKEN, SLACK_CLIENTS.worker.options, { slackApiUrl: `${running.url}/api/` }),
      { approvalChannelFor: () => CHANNEL, notifyApproversByDm: () => true },
    );
    const pending = { ...record, status: 'PENDING_APPROVAL' } as RequestRecord;
    const postsWhenKept: string[] = [];
    // The first approver's DM is refused (a 429): the step still succeeds, the reference is kept.
    let posts = 0;
    await dmNotifier.requestApproval(pending, ['carol@example.com', 'dave@example.com'], async (message) => {
      postsWhenKept.push(...running.standIn.calls('chat.postMessage').map((c) => String(c.args.channel)));
      expect(message.channel).toBe(CHANNEL);
      // From here on, the next DM is refused.
      running.standIn.setFaults({ failNext: [{ method: 'chat.postMessage', fault: 'ratelimited' }] });
      posts++;
      return undefined;
    });
    expect(posts).toBe(1);
    expect(postsWhenKept).toEqual([CHANNEL]);
    expect(running.standIn.calls('chat.postMessage').map((c) => [c.args.channel, c.status])).toEqual([
      [CHANNEL, 200],
      ['U0CAROL', 429],
      ['U0DAVE', 200],
    ]);
  });

  it('sends the "Access ready" DM with the console shortcut and the CLI config of its portal and region', async () => {
    const portalNotifier = new SlackNotifier(
      new SlackWebApiClient(TOKEN, SLACK_CLIENTS.worker.options, { slackApiUrl: `${running.url}/api/` }),
      {
        approvalChannelFor: () => CHANNEL,
        notifyApproversByDm: () => false,
        portalUrl: 'https://acme.awsapps.com/start',
        ssoRegion: 'eu-west-1',
      },
    );
    const granted = {
      ...record,
      accountName: 'staging',
      permissionSetName: 'ReadOnly',
      expiresAt: '2026-12-01T10:00:00.000Z',
    } as RequestRecord;

    await portalNotifier.notifyRequester(granted, 'granted');

    const [dm] = running.standIn.directMessages('U0ALICE');
    expect(dm?.text).toMatch(/^:unlock: Access ready: ReadOnly on staging until <!date\^\d+\^/);
    const shown = JSON.stringify(dm?.blocks);
    expect(shown).toContain(
      '<https://acme.awsapps.com/start/#/console?account_id=222222222222&amp;role_name=ReadOnly|',
    );
    expect(shown).toContain('aws sso login --sso-session acme');
    expect(shown).toContain('sso_region = eu-west-1');
    expect(shown).toContain('[profile acme-staging-ReadOnly]');
  });
});

describe('every copy of the approval message', () => {
  const dmNotifier = () =>
    new SlackNotifier(
      new SlackWebApiClient(TOKEN, SLACK_CLIENTS.worker.options, { slackApiUrl: `${running.url}/api/` }),
      { approvalChannelFor: () => CHANNEL, notifyApproversByDm: () => true },
    );
  const pending = { ...record, status: 'PENDING_APPROVAL', approvalsRequired: 1 } as RequestRecord;
  const buttons = (blocks: unknown) => JSON.stringify(blocks ?? []).includes('approve_request');

  /** Posts the request as RequestApproval does, keeping the channel message and each DM. */
  async function post(notifier: SlackNotifier, answer: (kept: RequestRecord) => RequestRecord = (r) => r) {
    let stored: RequestRecord = pending;
    await notifier.requestApproval(
      pending,
      ['carol@example.com', 'dave@example.com'],
      async (message) => {
        stored = { ...stored, approvalMessage: message };
        return stored;
      },
      async (copy) => {
        stored = { ...stored, approvalCopies: [...(stored.approvalCopies ?? []), copy] };
        return answer(stored);
      },
    );
    return stored;
  }

  it('keeps each approver DM it posts by its DM channel, and not one Slack refused', async () => {
    const kept: unknown[] = [];
    await dmNotifier().requestApproval(
      pending,
      ['carol@example.com', 'dave@example.com'],
      async () => {
        // The channel message is kept; carol's DM, next, is refused (a 429).
        running.standIn.setFaults({ failNext: [{ method: 'chat.postMessage', fault: 'ratelimited' }] });
        return undefined;
      },
      async (copy) => {
        kept.push(copy);
        return undefined;
      },
    );
    const dave = running.standIn.directMessages('U0DAVE')[0];
    expect(running.standIn.directMessages('U0CAROL')).toEqual([]);
    expect(kept).toEqual([{ channel: running.standIn.dmChannelOf('U0DAVE'), ts: dave?.ts }]);
    expect(running.standIn.dmChannelOf('U0DAVE')).toMatch(/^D/);
  });

  it('re-renders the channel message and every DM from the record: the buttons go, who decided shows', async () => {
    const notifier = dmNotifier();
    const stored = await post(notifier);
    expect(buttons(running.standIn.directMessages('U0CAROL')[0]?.blocks)).toBe(true);

    const cancelled = {
      ...stored,
      status: 'CANCELLED',
      cancellation: { by: 'alice@example.com', slackUserId: 'U0ALICE', at: '2026-12-01T09:05:00.000Z' },
    } as RequestRecord;
    await notifier.updateRequestMessages(cancelled);

    const copies = [
      running.standIn.messages(CHANNEL)[0],
      running.standIn.directMessages('U0CAROL')[0],
      running.standIn.directMessages('U0DAVE')[0],
    ];
    expect(copies.map((m) => buttons(m?.blocks))).toEqual([false, false, false]);
    for (const copy of copies) expect(copy?.text).toContain('Cancelled by alice@example.com');
  });

  it('updates the other copies when one DM is refused, and never fails for a DM', async () => {
    const notifier = dmNotifier();
    const stored = await post(notifier);
    // Carol's copy is gone from Slack (she deleted the DM): its update is refused for good.
    const [carolCopy, daveCopy] = stored.approvalCopies ?? [];
    const denied = {
      ...stored,
      approvalCopies: [{ channel: carolCopy?.channel, ts: '1700000000.000001' }, daveCopy],
      status: 'DENIED',
      denial: { by: 'carol@example.com', slackUserId: 'U0CAROL', at: '2026-12-01T09:05:00.000Z' },
    } as RequestRecord;

    await expect(notifier.updateRequestMessages(denied)).resolves.toBeUndefined();

    expect(running.standIn.calls('chat.update')).toHaveLength(3);
    const shown = [running.standIn.messages(CHANNEL)[0], running.standIn.directMessages('U0DAVE')[0]];
    for (const message of shown) expect(message?.text).toContain('Denied by carol@example.com');
    expect(buttons(running.standIn.directMessages('U0CAROL')[0]?.blocks)).toBe(true);
  });

  it('still fails when the channel message itself is refused (the caller decides it is best-effort)', async () => {
    const notifier = dmNotifier();
    const stored = await post(notifier);
    const gone = { channel: CHANNEL, ts: '1700000000.000001' }; // deleted from the channel
    const error = await notifier
      .updateRequestMessages({
        ...stored,
        approvalMessage: gone,
        status: 'APPROVAL_EXPIRED',
      } as RequestRecord)
      .catch((e: unknown) => e);
    expect((error as { data?: { error?: string } }).data?.error).toBe('message_not_found');
    // The DMs were brought up to date all the same.
    expect(buttons(running.standIn.directMessages('U0CAROL')[0]?.blocks)).toBe(false);
    expect(running.standIn.directMessages('U0DAVE')[0]?.text).toContain('Expired');
  });

  it('brings a DM posted while the request was decided up to date at once', async () => {
    // The decision lands between carol's DM being posted and its reference being kept: its
    // re-render could not know that DM; keeping it answers the record as decided.
    await post(dmNotifier(), (kept) =>
      kept.approvalCopies?.length === 1
        ? ({
            ...kept,
            status: 'CANCELLED',
            cancellation: { by: 'alice@example.com', slackUserId: 'U0ALICE', at: '2026-12-01T09:05:00.000Z' },
          } as RequestRecord)
        : kept,
    );
    const carol = running.standIn.directMessages('U0CAROL')[0];
    expect(buttons(carol?.blocks)).toBe(false);
    expect(carol?.text).toContain('Cancelled by alice@example.com');
    expect(running.standIn.calls('chat.update').map((c) => c.args.channel)).toEqual([
      running.standIn.dmChannelOf('U0CAROL'),
    ]);
  });
});

describe('an approval request decided while it is posted', () => {
  it('shows the channel message as decided at once and DMs no approver', async () => {
    const notifier = new SlackNotifier(
      new SlackWebApiClient(TOKEN, SLACK_CLIENTS.worker.options, { slackApiUrl: `${running.url}/api/` }),
      { approvalChannelFor: () => CHANNEL, notifyApproversByDm: () => true },
    );
    const pending = { ...record, status: 'PENDING_APPROVAL' } as RequestRecord;
    const keptCopies: unknown[] = [];

    // The requester cancelled between RequestApproval's read and the message's keep: the keep is
    // refused and answers the record as it is now.
    await notifier.requestApproval(
      pending,
      ['carol@example.com', 'dave@example.com'],
      async () =>
        ({
          ...pending,
          status: 'CANCELLED',
          cancellation: { by: 'alice@example.com', slackUserId: 'U0ALICE', at: '2026-12-01T09:05:00.000Z' },
        }) as RequestRecord,
      async (copy) => {
        keptCopies.push(copy);
        return undefined;
      },
    );

    const [message] = running.standIn.messages(CHANNEL);
    expect(message?.text).toContain('Cancelled by alice@example.com');
    expect(JSON.stringify(message?.blocks)).not.toContain('approve_request');
    expect(running.standIn.directMessages('U0CAROL')).toEqual([]);
    expect(running.standIn.directMessages('U0DAVE')).toEqual([]);
    expect(keptCopies).toEqual([]);
  });
});
