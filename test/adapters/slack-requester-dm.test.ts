import { SlackNotifier } from '../../functions/adapters/slack-notifier';
import { SlackWebApiClient } from '../../functions/adapters/slack-web-api';
import type { MessageRef, RequestRecord } from '../../functions/core/model';
import { SLACK_CLIENTS } from '../../functions/shared/clients';
import { createManualClock } from '../../local/identity-center';
import { type RunningSlackApi, startSlackApiStandIn } from '../../local/slack-api';

// The "Access ready" DM against the Slack stand-in: its reference handed to `keep` as posted,
// re-rendered in place without its buttons once the access ended; a refusal is logged, not thrown.

const TOKEN = 'xoxb-requester-dm';
const clock = createManualClock(Date.UTC(2026, 11, 1, 9));
let running: RunningSlackApi;
let notifier: SlackNotifier;

const record: RequestRecord = {
  version: 1,
  request: {
    requestId: 'req-dm-adapter-1',
    requester: { email: 'alice@example.com', slackUserId: 'U0ALICE' },
    accountId: '222222222222',
    permissionSetArn: 'arn:aws:sso:::permissionSet/ssoins-7223a1b2c3d4e5f6/ps-1a2b3c4d5e6f7a8b',
    durationMinutes: 60,
    reason: 'Incident 42',
    requestedAt: '2026-12-01T09:00:00.000Z',
  },
  status: 'ACTIVE',
  approvals: [],
  expiresAt: '2026-12-01T10:01:00.000Z',
  updatedAt: '2026-12-01T09:01:00.000Z',
};

beforeEach(async () => {
  running = await startSlackApiStandIn({
    tokens: [TOKEN],
    now: clock.now,
    users: [{ id: 'U0ALICE', name: 'alice', email: 'alice@example.com' }],
  });
  const client = new SlackWebApiClient(TOKEN, SLACK_CLIENTS.worker.options, {
    slackApiUrl: `${running.url}/api/`,
  });
  notifier = new SlackNotifier(client, {
    approvalChannelFor: () => 'C0APPROVE',
    notifyApproversByDm: () => false,
  });
});
afterEach(() => running.close());

const hasActions = (message: { blocks?: unknown } | undefined) =>
  JSON.stringify(message?.blocks ?? []).includes('"type":"actions"');

describe('the "Access ready" DM (Slack notifier)', () => {
  it('hands the posted DM to keep, and re-renders it without buttons once the access ended', async () => {
    const kept: MessageRef[] = [];
    await notifier.notifyRequester(record, 'granted', undefined, async (dm) => {
      kept.push(dm);
    });
    const [posted] = running.standIn.directMessages('U0ALICE');
    expect(kept).toEqual([{ channel: running.standIn.dmChannelOf('U0ALICE'), ts: posted?.ts }]);
    expect(hasActions(posted)).toBe(true);

    const dm = kept[0] as MessageRef;
    await notifier.updateRequesterDm({
      ...record,
      status: 'REVOKED',
      requesterDm: dm,
      closedAt: '2026-12-01T10:01:05.000Z',
    });

    const [ended] = running.standIn.directMessages('U0ALICE');
    expect(running.standIn.directMessages('U0ALICE')).toHaveLength(1);
    expect(ended?.ts).toBe(dm.ts);
    expect(hasActions(ended)).toBe(false);
    expect(ended?.text).toContain('ended at <!date^');
  });

  it('logs a refused update instead of throwing, and a keep that fails never fails the DM', async () => {
    await expect(
      notifier.notifyRequester(record, 'granted', undefined, async () => {
        throw new Error('DynamoDB is down');
      }),
    ).resolves.toBeUndefined();
    await expect(
      notifier.updateRequesterDm({
        ...record,
        status: 'REVOKED',
        requesterDm: { channel: 'D0GONE', ts: '1.000' },
      }),
    ).resolves.toBeUndefined();
  });
});
