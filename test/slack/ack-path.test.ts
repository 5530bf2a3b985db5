import { SendTaskFailureCommand, SendTaskSuccessCommand, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { executionInputSchema } from '../../functions/core/model';
import { CALLBACK_IDS } from '../../functions/slack/render/ids';
import { ACTION_IDS } from '../../functions/slack/render/messages';
import { formValues, type Harness, PEOPLE, startHarness, TEAM_ID } from './support/harness';

// Every listener acknowledges before slow work. On Lambda (AwsLambdaReceiver) the answer leaves
// only when listeners finish, and trigger ids live 3 s, so what runs before ack() is counted
// here: each handler is driven through the real App (app.processEvent, as a receiver does) with
// an ack() that snapshots every Slack, Step Functions, DynamoDB and Identity Center call so far.

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h.close());

interface AckSnapshot {
  slack: string[];
  sfn: number;
  store: string[];
  users: string[];
  /** Event-loop turns (timers, I/O) before this point: 0 means no wait of any kind came first. */
  turns: number;
  response: unknown;
}

async function drive(
  body: Record<string, unknown>,
): Promise<{ atAck: AckSnapshot | undefined; after: AckSnapshot }> {
  const slackBefore = h.slack.standIn.calls().length;
  const sfnBefore = h.sfn.calls().length;
  const storeBefore = h.storeCalls.length;
  const usersBefore = h.userCalls.length;
  // Counts macrotasks instead of wall time, so the check does not depend on the machine's speed.
  let turns = 0;
  let counting = true;
  const tick = () => {
    if (!counting) return;
    turns += 1;
    setImmediate(tick);
  };
  setImmediate(tick);
  const snapshot = (response: unknown): AckSnapshot => ({
    slack: h.slack.standIn
      .calls()
      .slice(slackBefore)
      .map((c) => c.method),
    sfn: h.sfn.calls().length - sfnBefore,
    store: h.storeCalls.slice(storeBefore),
    users: h.userCalls.slice(usersBefore),
    turns,
    response,
  });
  let atAck: AckSnapshot | undefined;
  await h.http.app.processEvent({
    body,
    ack: async (response?: unknown) => {
      atAck = snapshot(response);
    },
  });
  const after = snapshot(undefined);
  counting = false;
  return { atAck, after };
}

const NOTHING = { slack: [], sfn: 0, store: [], users: [] };
const commandBody = (user: { id: string; name: string }, text = '') => ({
  command: '/request-access',
  text,
  user_id: user.id,
  user_name: user.name,
  team_id: TEAM_ID,
  channel_id: 'C0GENERAL',
  trigger_id: h.slack.standIn.issueTriggerId(user.id),
  response_url: h.slack.responseUrl({ channel: 'C0GENERAL', userId: user.id }),
});
const clickBody = (user: { id: string; name: string }, actionId: string, value: string, ts: string) => ({
  type: 'block_actions',
  team: { id: TEAM_ID },
  user: { id: user.id, name: user.name, team_id: TEAM_ID },
  trigger_id: h.slack.standIn.issueTriggerId(user.id),
  container: { type: 'message', channel_id: 'C0APPROVALS', message_ts: ts },
  channel: { id: 'C0APPROVALS' },
  message: { ts },
  actions: [{ type: 'button', action_id: actionId, block_id: 'decision', value }],
});
const submissionBody = (user: { id: string; name: string }, viewId: string) => ({
  type: 'view_submission',
  team: { id: TEAM_ID },
  user: { id: user.id, name: user.name, team_id: TEAM_ID },
  view: {
    id: viewId,
    type: 'modal',
    callback_id: CALLBACK_IDS.requestForm,
    private_metadata: '',
    state: {
      values: formValues({
        account: '111111111111',
        permissionSet: 'ReadOnly',
        duration: '60',
        reason: 'ack test',
      }),
    },
  },
});

async function pendingRequest(viewId: string, token: string) {
  await drive(submissionBody(PEOPLE.alice, viewId));
  const call = h.sfn.commandCalls(StartExecutionCommand).at(-1);
  const input = executionInputSchema.parse(JSON.parse(call?.args[0].input.input ?? ''));
  return h.runUntilApproval(input, token);
}

describe('ack path', () => {
  it('/request-access acknowledges before any call, then opens the form', async () => {
    const { atAck, after } = await drive(commandBody(PEOPLE.dave));

    expect(atAck).toMatchObject(NOTHING);
    expect(atAck?.turns).toBe(0);
    expect(after.slack).toEqual(['users.info', 'views.open']);
    // The Slack calls after ack did wait on the network: the count above can see a wait.
    expect(after.turns).toBeGreaterThan(0);
  });

  it('/request-access status acknowledges before reading the store', async () => {
    const { atAck, after } = await drive(commandBody(PEOPLE.alice, 'status'));

    expect(atAck).toMatchObject(NOTHING);
    expect(after.store).toEqual(['listByRequester']);
  });

  it('a form submission checks the form and the person before ack, and starts the execution after it', async () => {
    const { atAck, after } = await drive(submissionBody(PEOPLE.bob, 'V0ACKSUBMIT'));

    // Needed before ack, to show errors inline: the email (users.info, cached) and the Identity Center user.
    expect(atAck?.slack.filter((m) => m !== 'users.info')).toEqual([]);
    expect(atAck?.slack.length).toBeLessThanOrEqual(1);
    expect(atAck?.users.length).toBeLessThanOrEqual(2);
    expect(atAck?.sfn).toBe(0);
    expect(atAck?.store).toEqual([]);
    expect(atAck?.response).toMatchObject({ response_action: 'update' });
    expect(after.sfn).toBe(1);
    expect(h.sfn.commandCalls(StartExecutionCommand).at(-1)?.args[0].input.name).toMatch(/^req-/);
  });

  it('Approve acknowledges before any call, hands the click off, and the decisions function decides', async () => {
    const record = await pendingRequest('V0ACKAPPROVE', 'token-ack-approve');
    const successesBefore = h.sfn.commandCalls(SendTaskSuccessCommand).length;

    const { atAck } = await drive(
      clickBody(PEOPLE.carol, ACTION_IDS.approve, record.request.requestId, record.approvalMessage?.ts ?? ''),
    );
    await h.decisionsSettled();

    expect(atAck).toMatchObject(NOTHING);
    expect(atAck?.turns).toBe(0);
    expect(h.handedOff.at(-1)).toEqual({
      kind: 'approve',
      requestId: record.request.requestId,
      slackUserId: PEOPLE.carol.id,
      origin: { kind: 'message', channel: 'C0APPROVALS', ts: record.approvalMessage?.ts ?? '' },
    });
    expect(h.sfn.commandCalls(SendTaskSuccessCommand)).toHaveLength(successesBefore + 1);
    expect(h.sfn.commandCalls(SendTaskSuccessCommand).at(-1)?.args[0].input.taskToken).toBe(
      'token-ack-approve',
    );
  });

  it('Deny acknowledges before any call, then opens the reason form', async () => {
    const record = await pendingRequest('V0ACKDENY', 'token-ack-deny');

    const { atAck, after } = await drive(
      clickBody(PEOPLE.carol, ACTION_IDS.deny, record.request.requestId, record.approvalMessage?.ts ?? ''),
    );

    expect(atAck).toMatchObject(NOTHING);
    expect(after.slack).toContain('views.open');
    expect(h.sfn.commandCalls(SendTaskFailureCommand)).toHaveLength(0);
  });

  it('End and Extend acknowledge before any call', async () => {
    for (const actionId of [ACTION_IDS.end, ACTION_IDS.extend]) {
      const { atAck } = await drive(clickBody(PEOPLE.alice, actionId, 'req-unknown-1', '1.000001'));
      await h.decisionsSettled();
      expect(atAck).toMatchObject(NOTHING);
    }
  });
});
