import type { SlackApiStandIn } from '../../local/slack-api';
import {
  ACCOUNTS,
  audited,
  type Harness,
  PEOPLE,
  requestDecisions,
  requestStore,
  startHarness,
  tokenStored,
} from './harness';

// Slack never decides whether access exists: once an approver has decided, every refusal Slack
// can give (a 429 on every call, an outage, the channel archived or deleted, the approval message
// deleted; a bot removed from the channel refuses only new posts, and none follow the approval) leaves the click answered, the grant made, the window
// its full length and the revoke at its end. Each refusal starts after the approval message is
// posted and lasts to the end, so it hits the decision's re-render, the window's "Access ready"
// DM and message update, and the closing messages.

const carol = { email: PEOPLE.carol.email, slackUserId: PEOPLE.carol.slackUserId };
const CHANNEL = 'C0APPROVALS';
const HAPPY_TRAIL = [
  'request.submitted',
  'approval.requested',
  'approval.approved',
  'grant.requested',
  'grant.succeeded',
  'window.opened',
  'window.expired',
  'revoke.requested',
  'revoke.succeeded',
  'request.closed',
];

let harness: Harness;
let counter = 0;
afterEach(async () => {
  await harness?.close();
});

const refusals: Array<[string, (slack: SlackApiStandIn, ts: string) => void, RegExp]> = [
  ['a 429 on every call', (slack) => slack.setFaults({ rateLimitRate: 1 }), /ratelimited/],
  [
    'Slack down (internal_error on every call)',
    (slack) => slack.setFaults({ internalErrorRate: 1 }),
    /internal_error/,
  ],
  ['the approval channel archived', (slack) => slack.archiveChannel(CHANNEL), /is_archived|is_inactive/],
  ['the approval channel deleted', (slack) => slack.deleteChannel(CHANNEL), /channel_not_found/],
  ['the approval message deleted', (slack, ts) => slack.deleteMessage(CHANNEL, ts), /message_not_found/],
];

describe('Slack refusing after the approval', () => {
  it.each(refusals)(
    '%s: the grant stands for its whole window and is revoked at its end',
    async (_, refuse, answered) => {
      harness = await startHarness();
      const requestId = `req-slack-refusal-${++counter}-${Date.now().toString(36)}`;
      const execution = await harness.start({
        requestId,
        accountId: ACCOUNTS.production,
        durationMinutes: 1,
      });
      await tokenStored(harness, requestId, 'approval');
      await audited(harness, requestId, 'approval.requested');
      const message = await harness.waitFor(
        async () => (await requestStore().getRequest(requestId))?.approvalMessage,
        'the approval message reference',
      );
      const before = harness.slackCalls().length;
      refuse(harness.slack, message.ts);

      const outcome = await (await requestDecisions()).decide(requestId, carol, 'approve');
      expect(outcome.kind).toBe('approved');
      const result = await harness.finished(execution);

      expect(result.status).toBe('SUCCEEDED');
      expect(await harness.auditActions(requestId)).toEqual(HAPPY_TRAIL);
      const record = await requestStore().getRequest(requestId);
      expect(record?.status).toBe('REVOKED');
      // The window ran its full minute: neither shortened nor ended by a failure path.
      expect(Date.parse(record?.expiresAt ?? '') - Date.parse(record?.windowStartedAt ?? '')).toBe(60_000);
      expect(harness.writes().map((w) => w[0])).toEqual(['Create', 'Delete']);
      // Slack was asked and did refuse (the refusal was real, not skipped).
      const refused = harness.slack
        .calls()
        .slice(before)
        .filter((c) => c.status !== 200 || c.response.ok === false);
      expect(refused.length).toBeGreaterThan(0);
      expect(JSON.stringify(refused.map((c) => c.response))).toMatch(answered);
    },
  );
});
