import { SendTaskFailureCommand, SendTaskSuccessCommand } from '@aws-sdk/client-sfn';
import { type ExecutionInput, executionInputSchema, type RequestRecord } from '../../functions/core/model';
import { requestIdForView } from '../../functions/core/request-id';
import { CALLBACK_IDS } from '../../functions/slack/render/ids';
import { ACTION_IDS } from '../../functions/slack/render/messages';
import {
  formValues,
  type Harness,
  PEOPLE,
  type SubmittedView,
  startHarness,
  TEAM_ID,
} from './support/harness';

// The real Bolt App over HTTP with signed requests; the Slack Web API stand-in records every
// call; Step Functions through aws-sdk-client-mock; DynamoDB on dynalite.

/** The parts of Block Kit and Slack answers these tests read. */
interface Element {
  type: string;
  action_id?: string;
  value?: string;
  options?: Array<{ value: string; text: { text: string } }>;
}
interface Block {
  block_id?: string;
  element?: Element;
  elements?: Element[];
}
interface SlackAnswer {
  response_type?: string;
  text?: string;
  response_action?: string;
  errors?: Record<string, string>;
  options?: Array<{ value: string; text: { text: string } }>;
}

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h.close());
let since = 0;
let ephemeralsSince = 0;
/** Later assertions see only calls made after this point (messages stay, unlike reset()). */
const mark = () => {
  since = h.slack.standIn.calls().length;
  ephemeralsSince = h.slack.standIn.ephemerals().length;
};
beforeEach(() => {
  h.slack.standIn.reset();
  since = 0;
  ephemeralsSince = 0;
  h.sfn.resetHistory();
});

const calls = (method: string) => h.slack.standIn.calls(method).filter((c) => c.seq > since);
const allCalls = () => h.slack.standIn.calls().filter((c) => c.seq > since);
/** What only `userId` was shown (a reply to their click's response_url, or chat.postEphemeral). */
const ephemeralTo = (userId: string) =>
  h.slack.standIn
    .ephemerals()
    .slice(ephemeralsSince)
    .filter((e) => e.user === userId)
    .map((e) => String(e.text));
const responseUrlTexts = () => calls('response_url').map((c) => String(c.args.text));

let viewSeq = 0;
const newViewId = () => `V0TEST${String(++viewSeq).padStart(4, '0')}`;

async function submitRequest(
  person: { id: string; name: string },
  answers: Parameters<typeof formValues>[0],
  viewId = newViewId(),
) {
  const response = await h.submit(person, {
    id: viewId,
    callbackId: CALLBACK_IDS.requestForm,
    values: formValues(answers),
  });
  const text = await response.text();
  return { response, body: text ? JSON.parse(text) : undefined, viewId };
}

/** Alice asks for ReadOnly on production (needs an SRE approver); the workflow asks for approval. */
async function pendingRequestFromAlice(
  taskToken: string,
): Promise<{ input: ExecutionInput; record: RequestRecord }> {
  const { body } = await submitRequest(PEOPLE.alice, {
    account: '111111111111',
    permissionSet: 'ReadOnly',
    duration: '60',
    reason: 'Investigate INC-42',
  });
  expect(body.response_action).toBe('update');
  const started = h.startedExecutions().at(-1);
  const input = executionInputSchema.parse(JSON.parse(started?.input ?? '{}'));
  const record = await h.runUntilApproval(input, taskToken);
  return { input, record };
}

describe('/request-access', () => {
  it('opens the request form with views.open on the trigger of the command', async () => {
    const { response, triggerId } = await h.command(PEOPLE.alice);

    expect(response.status).toBe(200);
    const opened = calls('views.open');
    expect(opened).toHaveLength(1);
    expect(opened[0]?.args.trigger_id).toBe(triggerId);
    expect(opened[0]?.response.ok).toBe(true);
    const view = opened[0]?.args.view as { callback_id: string; blocks: Block[] };
    expect(view.callback_id).toBe(CALLBACK_IDS.requestForm);
    const account = view.blocks.find((b) => b.block_id === 'account');
    expect(account?.element?.type).toBe('external_select');
    const durations =
      view.blocks.find((b) => b.block_id === 'duration')?.element?.options?.map((o) => o.value) ?? [];
    // Alice's longest option is staging-self-service's 8h.
    expect(durations.at(-1)).toBe('480');
    expect(durations.map(Number).every((m: number) => m <= 480)).toBe(true);
    expect(h.startedExecutions()).toHaveLength(0);
  });

  it('answers help in an ephemeral message without calling Slack', async () => {
    const { response } = await h.command(PEOPLE.alice, 'help');

    expect(response.status).toBe(200);
    const body = (await response.json()) as SlackAnswer;
    expect(body.response_type).toBe('ephemeral');
    expect(body.text).toContain('/request-access status');
    expect(allCalls()).toHaveLength(0);
  });

  it('answers status with the requester’s requests', async () => {
    await pendingRequestFromAlice('token-status');
    mark();

    await h.command(PEOPLE.alice, 'status');

    const texts = responseUrlTexts();
    expect(texts).toHaveLength(1);
    expect(texts[0]).toContain('ReadOnly on production');
    expect(texts[0]).toContain('Waiting for approval');
  });

  it('tells a person with no allowed option whom to ask, and opens nothing', async () => {
    await h.command(PEOPLE.erin);

    expect(calls('views.open')).toHaveLength(0);
    expect(responseUrlTexts()).toEqual([expect.stringContaining('#platform-help')]);
  });

  it('says why when Slack does not share the email', async () => {
    await h.command(PEOPLE.nomail);

    expect(calls('views.open')).toHaveLength(0);
    expect(responseUrlTexts()[0]).toContain('users:read.email');
  });
});

describe('request form options', () => {
  it('loads accounts the requester may ask for, filtered by what they type', async () => {
    const suggest = (user: { id: string; name: string }, actionId: string, value: string, values = {}) =>
      h.interact({
        type: 'block_suggestion',
        user: { id: user.id, name: user.name, team_id: TEAM_ID },
        team: { id: TEAM_ID },
        action_id: actionId,
        block_id: actionId,
        value,
        view: { id: 'V0OPTIONS', type: 'modal', callback_id: CALLBACK_IDS.requestForm, state: { values } },
      });

    const all = (await (await suggest(PEOPLE.alice, 'account', '')).json()) as SlackAnswer;
    expect(all.options?.map((o) => o.text.text)).toEqual([
      'production (111111111111)',
      'sandbox (333333333333)',
      'staging (222222222222)',
    ]);
    const typed = (await (await suggest(PEOPLE.alice, 'account', 'stag')).json()) as SlackAnswer;
    expect(typed.options?.map((o) => o.value)).toEqual(['222222222222']);

    // Permission sets follow the chosen account: Alice gets no Admin on production.
    const sets = (await (
      await suggest(PEOPLE.alice, 'permission_set', '', {
        account: { account: { type: 'external_select', selected_option: { value: '111111111111' } } },
      })
    ).json()) as SlackAnswer;
    expect(sets.options?.map((o) => o.value)).toEqual(['PowerUser', 'ReadOnly']);
  });

  it('offers nothing to pick when nothing matches, so Slack shows its own "no results"', async () => {
    const suggest = (user: { id: string; name: string }, actionId: string, value: string) =>
      h.interact({
        type: 'block_suggestion',
        user: { id: user.id, name: user.name, team_id: TEAM_ID },
        team: { id: TEAM_ID },
        action_id: actionId,
        block_id: actionId,
        value,
        view: {
          id: 'V0OPTIONS',
          type: 'modal',
          callback_id: CALLBACK_IDS.requestForm,
          state: { values: {} },
        },
      });

    const none = (await (await suggest(PEOPLE.alice, 'account', 'no-such-account')).json()) as SlackAnswer;
    expect(none).toEqual({ options: [] });
    const noEmail = (await (await suggest(PEOPLE.nomail, 'permission_set', '')).json()) as SlackAnswer;
    expect(noEmail).toEqual({ options: [] });
    const noRight = (await (await suggest(PEOPLE.erin, 'account', '')).json()) as SlackAnswer;
    expect(noRight).toEqual({ options: [] });
  });
});

describe('form submission', () => {
  it('starts the state machine named after a request id derived from the view', async () => {
    const { body, viewId } = await submitRequest(PEOPLE.alice, {
      account: '111111111111',
      permissionSet: 'ReadOnly',
      duration: '60',
      reason: 'Investigate INC-42',
      ticket: 'INC-42',
    });

    expect(body.response_action).toBe('update');
    const started = h.startedExecutions();
    expect(started).toHaveLength(1);
    const requestId = requestIdForView(TEAM_ID, viewId);
    expect(started[0]?.name).toBe(requestId);
    const input = executionInputSchema.parse(JSON.parse(started[0]?.input ?? ''));
    expect(input.request).toMatchObject({
      requestId,
      requester: { slackUserId: PEOPLE.alice.id, email: 'alice@example.com' },
      accountId: '111111111111',
      permissionSetArn: expect.stringContaining('ps-1a2b3c4d5e6f7a8b'),
      durationMinutes: 60,
      reason: 'Investigate INC-42',
      ticket: 'INC-42',
    });
  });

  it('starts one execution when the same form is submitted twice', async () => {
    const viewId = newViewId();
    const answers = {
      account: '222222222222',
      permissionSet: 'PowerUser',
      duration: '120',
      reason: 'deploy',
    };
    await submitRequest(PEOPLE.alice, answers, viewId);
    const second = await submitRequest(PEOPLE.alice, answers, viewId);

    expect(second.body.response_action).toBe('update');
    const names = h.startedExecutions().map((s) => s.name);
    expect(names).toEqual([requestIdForView(TEAM_ID, viewId), requestIdForView(TEAM_ID, viewId)]);
    // The second StartExecution was refused by Step Functions (same name): the person was not told of an error.
    expect(calls('chat.postMessage')).toHaveLength(0);
  });

  it('maps a mixed-case Slack email to the Identity Center user', async () => {
    await submitRequest(PEOPLE.bob, {
      account: '222222222222',
      permissionSet: 'ReadOnly',
      duration: '30',
      reason: 'read logs',
    });

    const input = executionInputSchema.parse(JSON.parse(h.startedExecutions()[0]?.input ?? ''));
    expect(input.request.requester.email).toBe('bob@example.com');
  });

  it.each([
    [
      'an unknown account',
      { account: '999999999999', permissionSet: 'ReadOnly', duration: '60', reason: 'x' },
      'account',
      'not in the access policy',
    ],
    [
      'a duration over the maximum',
      { account: '111111111111', permissionSet: 'ReadOnly', duration: '480', reason: 'x' },
      'duration',
      '4h',
    ],
    [
      'a missing reason',
      { account: '111111111111', permissionSet: 'ReadOnly', duration: '60' },
      'reason',
      'why',
    ],
    [
      'an oversized reason',
      { account: '111111111111', permissionSet: 'ReadOnly', duration: '60', reason: 'x'.repeat(5000) },
      'reason',
      '1,000 characters',
    ],
    [
      'a permission set the rule does not allow',
      { account: '111111111111', permissionSet: 'Admin', duration: '60', reason: 'x' },
      'permission_set',
      'cannot request Admin',
    ],
    [
      'a duration that is not a number',
      { account: '111111111111', permissionSet: 'ReadOnly', duration: 'forever', reason: 'x' },
      'duration',
      'Pick a duration',
    ],
  ])('shows %s inline and starts nothing', async (_name, answers, block, message) => {
    const { response, body } = await submitRequest(PEOPLE.alice, answers);

    expect(response.status).toBe(200);
    expect(body.response_action).toBe('errors');
    expect(body.errors[block]).toContain(message);
    expect(h.startedExecutions()).toHaveLength(0);
  });

  it('says so when Identity Center has no user for the email', async () => {
    const { body } = await submitRequest(PEOPLE.frank, {
      account: '222222222222',
      permissionSet: 'ReadOnly',
      duration: '60',
      reason: 'x',
    });

    expect(body.errors.account).toContain('Identity Center has no user');
    expect(body.errors.account).toContain('frank@example.com');
    expect(h.startedExecutions()).toHaveLength(0);
  });

  it('refuses a placeholder value an older form could still submit', async () => {
    const { body } = await submitRequest(PEOPLE.alice, {
      account: '__none__',
      permissionSet: '__none__',
      duration: '60',
      reason: 'Investigate INC-42',
    });

    expect(body.response_action).toBe('errors');
    expect(body.errors.account).toBe('That account is not in the access policy.');
    expect(h.startedExecutions()).toHaveLength(0);
  });

  it('answers a submission with wrongly typed values with an error, not a crash', async () => {
    const response = await h.submit(PEOPLE.alice, {
      id: newViewId(),
      callbackId: CALLBACK_IDS.requestForm,
      values: { account: { account: { selected_option: 42 } }, reason: { reason: { value: ['a'] } } },
    });

    expect(response.status).toBe(200);
    const body = (await response.json()) as SlackAnswer;
    expect(body.response_action).toBe('errors');
    expect(h.startedExecutions()).toHaveLength(0);
  });
});

describe('approval message and decisions', () => {
  it('posts the approval message with Approve and Deny carrying only the request id, and DMs the approvers', async () => {
    const { record } = await pendingRequestFromAlice('token-post');

    const posted = calls('chat.postMessage');
    const channelMessage = posted.find((c) => c.args.channel === 'C0APPROVALS');
    const text = JSON.stringify(channelMessage?.args.blocks);
    expect(text).toContain('production');
    expect(text).toContain('ReadOnly');
    expect(text).toContain('1h');
    expect(text).toContain('Investigate INC-42');
    const buttons = ((channelMessage?.args.blocks ?? []) as Block[])
      .flatMap((b) => b.elements ?? [])
      .filter((e) => e.type === 'button');
    expect(buttons.map((b) => [b.action_id, b.value])).toEqual([
      [ACTION_IDS.approve, record.request.requestId],
      [ACTION_IDS.deny, record.request.requestId],
    ]);
    expect(text).not.toContain('token-post');
    // The rule notifies approvers by DM: carol and dave.
    expect(
      posted.filter((c) => c.args.channel === PEOPLE.carol.id || c.args.channel === PEOPLE.dave.id),
    ).toHaveLength(2);
  });

  it('lets an approver approve: SendTaskSuccess, message updated, requester told', async () => {
    const { record } = await pendingRequestFromAlice('token-approve');
    const message = record.approvalMessage;
    if (!message) throw new Error('no approval message');
    mark();

    const response = await h.click(PEOPLE.carol, ACTION_IDS.approve, record.request.requestId, message);

    expect(response.status).toBe(200);
    const sent = h.sfn.commandCalls(SendTaskSuccessCommand);
    expect(sent).toHaveLength(1);
    expect(sent[0]?.args[0].input.taskToken).toBe('token-approve');
    expect(JSON.parse(sent[0]?.args[0].input.output ?? '')).toEqual({
      decision: 'approved',
      approvers: ['carol@example.com'],
    });
    const update = calls('chat.update').find((c) => c.args.ts === message.ts);
    expect(String(update?.args.text)).toContain('Approved by carol@example.com');
    expect(JSON.stringify(update?.args.blocks)).not.toContain(ACTION_IDS.approve);
    const dm = calls('chat.postMessage').find((c) => c.args.channel === PEOPLE.alice.id);
    expect(String(dm?.args.text)).toContain('approved');
  });

  it('refuses a click by someone who is not an approver, and changes nothing', async () => {
    const { record } = await pendingRequestFromAlice('token-outsider');
    const message = record.approvalMessage!;
    mark();

    await h.click(PEOPLE.bob, ACTION_IDS.approve, record.request.requestId, message);

    expect(ephemeralTo(PEOPLE.bob.id)).toEqual(['You are not an approver for this request.']);
    expect(h.sfn.commandCalls(SendTaskSuccessCommand)).toHaveLength(0);
    expect(calls('chat.update')).toHaveLength(0);
    expect((await h.store.getRequest(record.request.requestId))?.status).toBe('PENDING_APPROVAL');
  });

  it('refuses self-approval', async () => {
    // Carol (SRE) asks for Admin on production; the rule's approvers are the SREs, self-approval off.
    const { body } = await submitRequest(PEOPLE.carol, {
      account: '111111111111',
      permissionSet: 'Admin',
      duration: '30',
      reason: 'break glass',
    });
    expect(body.response_action).toBe('update');
    const input = executionInputSchema.parse(JSON.parse(h.startedExecutions().at(-1)?.input ?? ''));
    const record = await h.runUntilApproval(input, 'token-self');
    mark();

    await h.click(PEOPLE.carol, ACTION_IDS.approve, record.request.requestId, record.approvalMessage!);

    expect(ephemeralTo(PEOPLE.carol.id)).toEqual(['You cannot approve or deny your own request.']);
    expect(h.sfn.commandCalls(SendTaskSuccessCommand)).toHaveLength(0);
    expect((await h.store.getRequest(record.request.requestId))?.status).toBe('PENDING_APPROVAL');
  });

  it('lets the first decision win and tells a later clicker who decided', async () => {
    const { record } = await pendingRequestFromAlice('token-double');
    const message = record.approvalMessage!;
    await h.click(PEOPLE.carol, ACTION_IDS.approve, record.request.requestId, message);
    mark();
    h.sfn.resetHistory();

    await h.click(PEOPLE.dave, ACTION_IDS.approve, record.request.requestId, message);
    await h.click(PEOPLE.carol, ACTION_IDS.approve, record.request.requestId, message);

    expect(ephemeralTo(PEOPLE.dave.id)).toEqual(['This request was already approved by carol@example.com.']);
    expect(ephemeralTo(PEOPLE.carol.id)).toEqual(['This request was already approved by carol@example.com.']);
    expect(h.sfn.commandCalls(SendTaskSuccessCommand)).toHaveLength(0);
    expect(h.sfn.commandCalls(SendTaskFailureCommand)).toHaveLength(0);
  });

  it('asks for a reason before denying, then sends SendTaskFailure "Denied"', async () => {
    const { record } = await pendingRequestFromAlice('token-deny');
    const message = record.approvalMessage!;
    mark();

    await h.click(PEOPLE.dave, ACTION_IDS.deny, record.request.requestId, message);

    const opened = calls('views.open');
    expect(opened).toHaveLength(1);
    const modal = opened[0]?.args.view as { callback_id: string; private_metadata: string };
    expect(modal.callback_id).toBe(CALLBACK_IDS.denyReason);
    expect(h.sfn.commandCalls(SendTaskFailureCommand)).toHaveLength(0);

    const response = await h.submit(PEOPLE.dave, {
      id: newViewId(),
      callbackId: CALLBACK_IDS.denyReason,
      privateMetadata: modal.private_metadata,
      values: { deny_reason: { deny_reason: { type: 'plain_text_input', value: 'Use staging first' } } },
    });

    expect(response.status).toBe(200);
    const failures = h.sfn.commandCalls(SendTaskFailureCommand);
    expect(failures).toHaveLength(1);
    expect(failures[0]?.args[0].input).toMatchObject({ taskToken: 'token-deny', error: 'Denied' });
    expect(failures[0]?.args[0].input.cause).toContain('Use staging first');
    const update = calls('chat.update').find((c) => c.args.ts === message.ts);
    expect(String(update?.args.text)).toContain('Denied by dave@example.com');
    expect(h.sfn.commandCalls(SendTaskSuccessCommand)).toHaveLength(0);
  });

  it('does not open the deny form for someone who is not an approver', async () => {
    const { record } = await pendingRequestFromAlice('token-deny-outsider');
    mark();

    await h.click(PEOPLE.bob, ACTION_IDS.deny, record.request.requestId, record.approvalMessage!);

    expect(calls('views.open')).toHaveLength(0);
    expect(ephemeralTo(PEOPLE.bob.id)).toEqual(['You are not an approver for this request.']);
    expect(h.sfn.commandCalls(SendTaskFailureCommand)).toHaveLength(0);
  });
});

describe('Cancel request (the requester’s Home tab)', () => {
  const homeOf = (userId: string) =>
    JSON.stringify(
      (
        calls('views.publish')
          .filter((c) => c.args.user_id === userId)
          .at(-1)?.args.view as { blocks?: unknown[] }
      )?.blocks,
    );
  const cancelButtonFor = (requestId: string) =>
    `"action_id":"${ACTION_IDS.cancel}","text":{"type":"plain_text","text":"Cancel request","emoji":true},"value":"${requestId}"`;

  it('offers Cancel on a pending request, refuses anyone else, and cancels every copy for the requester', async () => {
    const { record } = await pendingRequestFromAlice('token-cancel');
    const requestId = record.request.requestId;
    const message = record.approvalMessage;
    if (!message) throw new Error('no approval message');
    // The approvers' DMs were kept as they were posted: carol's and dave's.
    expect(record.approvalCopies).toHaveLength(2);
    mark();

    await h.event({ type: 'app_home_opened', user: PEOPLE.alice.id, channel: 'D0ALICE', tab: 'home' });
    expect(homeOf(PEOPLE.alice.id)).toContain(cancelButtonFor(requestId));

    // Someone who is not the requester (a forged click): told on their Home tab, nothing changes.
    await h.click(PEOPLE.carol, ACTION_IDS.cancel, requestId, 'home');
    expect(homeOf(PEOPLE.carol.id)).toContain('Only the requester can cancel this request.');
    expect(h.sfn.commandCalls(SendTaskFailureCommand)).toHaveLength(0);
    expect((await h.store.getRequest(requestId))?.status).toBe('PENDING_APPROVAL');

    mark();
    const response = await h.click(PEOPLE.alice, ACTION_IDS.cancel, requestId, 'home');

    expect(response.status).toBe(200);
    expect(h.handedOff.at(-1)).toMatchObject({ kind: 'cancel', requestId, slackUserId: PEOPLE.alice.id });
    const failures = h.sfn.commandCalls(SendTaskFailureCommand);
    expect(failures).toHaveLength(1);
    expect(failures[0]?.args[0].input).toMatchObject({ taskToken: 'token-cancel', error: 'Cancelled' });
    expect(h.sfn.commandCalls(SendTaskSuccessCommand)).toHaveLength(0);
    const stored = await h.store.getRequest(requestId);
    expect(stored).toMatchObject({ status: 'CANCELLED', cancellation: { by: 'alice@example.com' } });
    // The channel message and both DMs: re-rendered, no buttons, who cancelled shown.
    const copies = [message, ...(stored?.approvalCopies ?? [])];
    const updates = copies.map((copy) =>
      calls('chat.update').find((c) => c.args.channel === copy.channel && c.args.ts === copy.ts),
    );
    expect(updates.map((u) => u !== undefined)).toEqual([true, true, true]);
    for (const update of updates) {
      expect(String(update?.args.text)).toContain('Cancelled by alice@example.com');
      expect(JSON.stringify(update?.args.blocks)).not.toContain(ACTION_IDS.approve);
    }
    // The requester's Home tab says so and offers no Cancel for it any more.
    expect(homeOf(PEOPLE.alice.id)).toContain('Request cancelled');
    expect(homeOf(PEOPLE.alice.id)).not.toContain(cancelButtonFor(requestId));

    // An approver clicking Approve on the DM they still had open is told who decided.
    const carolDm = stored?.approvalCopies?.[0];
    if (!carolDm) throw new Error('no DM copy');
    await h.click(PEOPLE.carol, ACTION_IDS.approve, requestId, carolDm);
    expect(ephemeralTo(PEOPLE.carol.id)).toEqual([
      'This request was already cancelled by alice@example.com.',
    ]);
    expect(h.sfn.commandCalls(SendTaskSuccessCommand)).toHaveLength(0);
  });
});

describe('Home tab, End and Extend', () => {
  async function activeGrantForAlice(): Promise<RequestRecord> {
    const { record } = await pendingRequestFromAlice('token-active-approval');
    await h.click(PEOPLE.carol, ACTION_IDS.approve, record.request.requestId, record.approvalMessage!);
    const id = record.request.requestId;
    await h.store.updateRequest(id, ['APPROVED'], { status: 'GRANTING' });
    await h.steps.openWindow({
      taskToken: 'token-window',
      requestId: id,
      expiresAt: new Date(Date.now() + 60 * 60_000).toISOString(),
    });
    const active = await h.store.getRequest(id);
    if (active?.status !== 'ACTIVE') throw new Error('not active');
    mark();
    h.sfn.resetHistory();
    return active;
  }

  it('shows an approver what waits for them, with Approve and Deny', async () => {
    const { record } = await pendingRequestFromAlice('token-home');
    mark();

    await h.event({ type: 'app_home_opened', user: PEOPLE.dave.id, channel: 'D0DAVE', tab: 'home' });

    const published = calls('views.publish');
    expect(published).toHaveLength(1);
    expect(published[0]?.args.user_id).toBe(PEOPLE.dave.id);
    const blocks = JSON.stringify((published[0]?.args.view as { blocks?: unknown[] } | undefined)?.blocks);
    expect(blocks).toContain('Waiting for your approval');
    expect(blocks).toContain(`"value":"${record.request.requestId}"`);
    expect(blocks).toContain(ACTION_IDS.approve);
  });

  it('does not redo a redelivered app_home_opened (X-Slack-Retry-Num): acknowledged, nothing read or published', async () => {
    await pendingRequestFromAlice('token-home-retry');
    mark();
    const reads = h.storeCalls.length;

    const retried = await h.event(
      { type: 'app_home_opened', user: PEOPLE.dave.id, channel: 'D0DAVE', tab: 'home' },
      { 'X-Slack-Retry-Num': '1', 'X-Slack-Retry-Reason': 'http_timeout' },
    );

    expect(retried.status).toBe(200);
    expect(calls('views.publish')).toHaveLength(0);
    expect(h.storeCalls.length).toBe(reads);
    // The first delivery is served as always.
    await h.event({ type: 'app_home_opened', user: PEOPLE.dave.id, channel: 'D0DAVE', tab: 'home' });
    expect(calls('views.publish')).toHaveLength(1);
  });

  it('does not offer a requester their own request to approve', async () => {
    await pendingRequestFromAlice('token-home-alice');
    mark();

    await h.event({ type: 'app_home_opened', user: PEOPLE.alice.id, channel: 'D0ALICE', tab: 'home' });

    const view = calls('views.publish')[0]?.args.view as { blocks: Block[] };
    const text = JSON.stringify(view.blocks);
    expect(text).toContain('Your pending requests');
    expect(text).not.toContain(ACTION_IDS.approve);
  });

  it('ends access from the Home tab: SendTaskSuccess {action: end}', async () => {
    const active = await activeGrantForAlice();
    await h.event({ type: 'app_home_opened', user: PEOPLE.alice.id, channel: 'D0ALICE', tab: 'home' });
    const home = JSON.stringify(
      (calls('views.publish')[0]?.args.view as { blocks?: unknown[] } | undefined)?.blocks,
    );
    expect(home).toContain('Your active access');
    expect(home).toContain('left (until');
    expect(home).toContain(ACTION_IDS.end);

    await h.click(PEOPLE.alice, ACTION_IDS.end, active.request.requestId, 'home');

    const sent = h.sfn.commandCalls(SendTaskSuccessCommand);
    expect(sent).toHaveLength(1);
    expect(sent[0]?.args[0].input.taskToken).toBe('token-window');
    expect(JSON.parse(sent[0]?.args[0].input.output ?? '')).toEqual({
      action: 'end',
      by: 'alice@example.com',
    });
    const refreshed = JSON.stringify(calls('views.publish').at(-1)?.args.view);
    expect(refreshed).toContain('Ending your access now');
  });

  it('does not let someone else end a grant', async () => {
    const active = await activeGrantForAlice();

    await h.click(PEOPLE.bob, ACTION_IDS.end, active.request.requestId, {
      channel: 'D0ALICEDM',
      ts: '1.000001',
    });

    expect(h.sfn.commandCalls(SendTaskSuccessCommand)).toHaveLength(0);
    expect(ephemeralTo(PEOPLE.bob.id)[0]).toContain('Only the requester or an approver');
  });

  it('extends through approval: modal, approvers asked, approver approves, SendTaskSuccess {action: extend}', async () => {
    const active = await activeGrantForAlice();
    const dm = { channel: 'D0ALICEDM', ts: '1.000002' };

    await h.click(PEOPLE.alice, ACTION_IDS.extend, active.request.requestId, dm);
    const opened = calls('views.open');
    expect(opened).toHaveLength(1);
    const modal = opened[0]?.args.view as { callback_id: string; private_metadata: string; blocks: Block[] };
    expect(modal.callback_id).toBe(CALLBACK_IDS.extend);
    // 1h used of production-engineers' 4h: at most 3h more.
    const choices =
      modal.blocks.find((b) => b.block_id === 'extend_minutes')?.element?.options?.map((o) => o.value) ?? [];
    expect(choices.at(-1)).toBe('180');

    await h.submit(PEOPLE.alice, {
      id: newViewId(),
      callbackId: CALLBACK_IDS.extend,
      privateMetadata: modal.private_metadata,
      values: {
        extend_minutes: { extend_minutes: { type: 'static_select', selected_option: { value: '60' } } },
      },
    });

    expect(h.sfn.commandCalls(SendTaskSuccessCommand)).toHaveLength(0);
    expect(ephemeralTo(PEOPLE.alice.id)).toEqual(['Extension requested; the approvers have been asked.']);
    const update = calls('chat.update').find((c) => c.args.ts === active.approvalMessage?.ts);
    expect(JSON.stringify(update?.args.blocks)).toContain(ACTION_IDS.approveExtension);

    await h.click(
      PEOPLE.dave,
      ACTION_IDS.approveExtension,
      active.request.requestId,
      active.approvalMessage!,
    );

    const sent = h.sfn.commandCalls(SendTaskSuccessCommand);
    expect(sent).toHaveLength(1);
    expect(sent[0]?.args[0].input.taskToken).toBe('token-window');
    expect(JSON.parse(sent[0]?.args[0].input.output ?? '')).toMatchObject({
      action: 'extend',
      extraMinutes: 60,
    });
  });

  it('takes a replayed Extend submission (the same modal) as the one request it is', async () => {
    const active = await activeGrantForAlice();
    await h.click(PEOPLE.alice, ACTION_IDS.extend, active.request.requestId, {
      channel: 'D0ALICEDM',
      ts: '1.000003',
    });
    const modal = calls('views.open')[0]?.args.view as { private_metadata: string };
    const submission: SubmittedView = {
      id: newViewId(),
      callbackId: CALLBACK_IDS.extend,
      privateMetadata: modal.private_metadata,
      values: {
        extend_minutes: { extend_minutes: { type: 'static_select', selected_option: { value: '60' } } },
      },
    };

    await h.submit(PEOPLE.alice, submission);
    await h.submit(PEOPLE.alice, submission); // replayed within the signature's 5 minutes

    // Not "another extension is waiting" (a refusal of itself): the job is named after the modal.
    expect(ephemeralTo(PEOPLE.alice.id)).toEqual([
      'Extension requested; the approvers have been asked.',
      'Extension requested; the approvers have been asked.',
    ]);
    const record = await h.store.getRequest(active.request.requestId);
    expect(record?.extensionJobs).toEqual([`view:${submission.id}`]);
    expect(record?.pendingExtension?.minutes).toBe(60);
  });
});

describe('bad payloads', () => {
  it('answers an unknown action id and starts nothing', async () => {
    const response = await h.click(PEOPLE.carol, 'launch_missiles', 'req-abcdef', {
      channel: 'C0APPROVALS',
      ts: '1.1',
    });

    expect(response.status).toBe(200);
    expect(ephemeralTo(PEOPLE.carol.id)).toEqual([
      'That button is not supported any more; nothing was changed.',
    ]);
    expect(h.sfn.calls()).toHaveLength(0);
  });

  it('answers a button whose value is not a request id and starts nothing', async () => {
    const response = await h.click(PEOPLE.carol, ACTION_IDS.approve, '<script>'.repeat(300), 'home');

    expect(response.status).toBe(200);
    expect(h.sfn.calls()).toHaveLength(0);
    expect(calls('chat.postMessage').map((c) => c.args.text)).toEqual([
      'That button did not carry a valid request; nothing was changed.',
    ]);
  });

  it.each([
    ['a payload that is not JSON', 'payload=%7Bnot-json'],
    [
      'an interaction of an unknown type',
      `payload=${encodeURIComponent(JSON.stringify({ type: 'weird', user: { id: 'U0ALICE' } }))}`,
    ],
    [
      'an interaction without a user',
      `payload=${encodeURIComponent(JSON.stringify({ type: 'block_actions', actions: [] }))}`,
    ],
    ['a form that is neither a command nor an interaction', 'hello=world'],
    [
      'a view submission without a view',
      `payload=${encodeURIComponent(JSON.stringify({ type: 'view_submission', user: { id: 'U0ALICE' } }))}`,
    ],
    ['a command without a trigger id', 'command=%2Frequest-access&user_id=U0ALICE&text='],
  ])('answers %s with 400 at once', async (_name, body) => {
    const response = await h.post(body, 'application/x-www-form-urlencoded');

    expect(response.status).toBe(400);
    expect((await response.text()).length).toBeGreaterThan(0);
    expect(allCalls()).toHaveLength(0);
    expect(h.sfn.calls()).toHaveLength(0);
  });

  it('answers an Events API body that is not an envelope with 400', async () => {
    const response = await h.post(JSON.stringify({ hello: 'world' }), 'application/json');
    expect(response.status).toBe(400);
  });

  it('answers a block_actions payload without actions at once and keeps serving', async () => {
    const started = Date.now();
    const response = await h.interact({
      type: 'block_actions',
      user: { id: PEOPLE.carol.id },
      team: { id: TEAM_ID },
    });

    expect(response.status).toBe(400);
    expect(Date.now() - started).toBeLessThan(1000);
    expect(h.sfn.calls()).toHaveLength(0);
    const next = await h.command(PEOPLE.alice, 'help');
    expect(next.response.status).toBe(200);
  });
});
