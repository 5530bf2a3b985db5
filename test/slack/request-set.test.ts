import { readFileSync } from 'node:fs';
import path from 'node:path';
import { executionInputSchema, type RequestRecord } from '../../functions/core/model';
import { parsePolicy } from '../../functions/core/policy-file';
import { homeView } from '../../functions/slack/render/home';
import { CALLBACK_IDS } from '../../functions/slack/render/ids';
import { ACTION_IDS, requesterDmMessage } from '../../functions/slack/render/messages';
import { formValues, type Harness, PEOPLE, startHarness, TEAM_ID } from './support/harness';

// Several accounts in one request seen from Slack (core/request-set.ts): the form's "more
// accounts" menu, a submission that starts one execution per account (split by deciding rule),
// the one approval message for the set, and the "Access ready" DM's buttons for the whole request.
// The real Bolt App on test/fixtures/request-set-policy.yaml.

const policy = parsePolicy(readFileSync(path.join(__dirname, '../fixtures/request-set-policy.yaml'), 'utf8'));
const PRODUCTION = '111111111111';
const STAGING = '222222222222';
const SANDBOX = '333333333333';

interface Answer {
  response_action?: string;
  errors?: Record<string, string>;
  options?: Array<{ value: string; text: { text: string } }>;
  view?: unknown;
}
interface Block {
  block_id?: string;
  element?: { type: string; max_selected_items?: number };
}

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ policy });
});
afterAll(() => h.close());
beforeEach(() => {
  h.slack.standIn.reset();
  h.sfn.resetHistory();
});

const more = (...accounts: string[]) => ({
  more_accounts: {
    more_accounts: {
      type: 'multi_external_select',
      selected_options: accounts.map((value) => ({ text: { type: 'plain_text', text: value }, value })),
    },
  },
});

let seq = 0;
async function submit(permissionSet: string, first: string, others: string[]): Promise<Answer> {
  const response = await h.submit(PEOPLE.alice, {
    id: `V0SET${String(++seq).padStart(6, '0')}`,
    callbackId: CALLBACK_IDS.requestForm,
    values: {
      ...formValues({ account: first, permissionSet, duration: '60', reason: 'Migration' }),
      ...more(...others),
    },
  });
  return (await response.json()) as Answer;
}

const started = () =>
  h.startedExecutions().map((e) => executionInputSchema.parse(JSON.parse(e.input ?? '{}')).request);

describe('the request form with several accounts', () => {
  it('offers a "more accounts" multi-select, up to the largest rule limit less the first', async () => {
    await h.command(PEOPLE.alice);
    const view = h.slack.standIn.calls('views.open')[0]?.args.view as { blocks?: Block[] } | undefined;
    const block = view?.blocks?.find((b) => b.block_id === 'more_accounts');
    expect(block?.element).toMatchObject({ type: 'multi_external_select', max_selected_items: 9 });
  });

  it('its menu offers the accounts with the permission set picked, the first left out', async () => {
    const response = await h.interact({
      type: 'block_suggestion',
      user: { id: PEOPLE.alice.id, name: PEOPLE.alice.name, team_id: TEAM_ID },
      team: { id: TEAM_ID },
      action_id: 'more_accounts',
      block_id: 'more_accounts',
      value: '',
      view: {
        id: 'V0SETMENU',
        type: 'modal',
        callback_id: CALLBACK_IDS.requestForm,
        state: { values: formValues({ account: PRODUCTION, permissionSet: 'PowerUser' }) },
      },
    });
    const answer = (await response.json()) as Answer;
    expect(answer.options?.map((o) => o.value)).toEqual([STAGING]);
  });

  it('starts one execution per account under one set, and the confirmation names them all', async () => {
    const answer = await submit('PowerUser', PRODUCTION, [STAGING]);
    expect(answer.response_action).toBe('update');
    expect(JSON.stringify(answer.view)).toContain('*production* (111111111111), *staging* (222222222222)');
    const requests = started();
    expect(requests.map((r) => [r.accountId, r.requestId === r.set?.id])).toEqual([
      [PRODUCTION, true],
      [STAGING, false],
    ]);
    const [lead, other] = requests;
    expect(other?.requestId).toBe(`${lead?.requestId}-2`);
    expect(other?.set).toEqual({ id: lead?.requestId, members: [lead?.requestId, other?.requestId] });
  });

  it('splits accounts that fall under different rules, each asked of its own approvers', async () => {
    const answer = await submit('ReadOnly', PRODUCTION, [STAGING, SANDBOX]);
    expect(JSON.stringify(answer.view)).toContain('fall under 2 rules');
    const requests = started();
    expect(requests.map((r) => [r.accountId, r.set?.members.length ?? 1])).toEqual([
      [PRODUCTION, 1],
      [STAGING, 2],
      [SANDBOX, 2],
    ]);
    expect(requests[0]?.set).toBeUndefined();
    expect(requests[1]?.set?.id).toBe(requests[1]?.requestId);
  });

  it('refuses, inline, an account the requester may not have the permission set on', async () => {
    const refused = await submit('PowerUser', PRODUCTION, [STAGING, SANDBOX]);
    expect(refused).toEqual({
      response_action: 'errors',
      errors: { more_accounts: 'You cannot request PowerUser on sandbox.' },
    });
    expect(h.startedExecutions()).toHaveLength(0);
  });

  it('the set is asked in one message showing every account; the follower posts nothing itself', async () => {
    await submit('PowerUser', PRODUCTION, [STAGING]);
    const [lead, other] = started();
    if (!lead || !other) throw new Error('not started');
    await h.runUntilApproval({ version: 1, request: lead }, 'token-lead');
    await h.runUntilApproval({ version: 1, request: other }, 'token-other');
    const posts = h.slack.standIn.calls('chat.postMessage').filter((c) => c.args.channel === 'C0APPROVALS');
    expect(posts).toHaveLength(1);
    // The follower's RequestApproval re-renders the set's message with its own account.
    const updates = h.slack.standIn.calls('chat.update');
    const last = JSON.stringify(updates.at(-1)?.args.blocks);
    expect(last).toContain('production (111111111111) — waiting for approval');
    expect(last).toContain('staging (222222222222) — waiting for approval');
    expect(last).toContain(ACTION_IDS.approve);
  });
});

describe("the set in the requester's messages", () => {
  const member = (
    requestId: string,
    accountName: string,
    setId: string,
    members: string[],
  ): RequestRecord => ({
    version: 1,
    request: {
      requestId,
      requester: { slackUserId: 'U0ALICE', email: 'alice@example.com' },
      accountId: accountName === 'production' ? PRODUCTION : STAGING,
      permissionSetArn: 'arn:aws:sso:::permissionSet/ssoins-7223a1b2c3d4e5f6/ps-9f8e7d6c5b4a3f2e',
      durationMinutes: 60,
      reason: 'Migration',
      requestedAt: new Date().toISOString(),
      set: { id: setId, members },
    },
    status: 'ACTIVE',
    accountName,
    permissionSetName: 'PowerUser',
    approvals: [],
    expiresAt: new Date(Date.now() + 3_600_000).toISOString(),
    updatedAt: new Date().toISOString(),
  });
  const members = ['req-set-aaaaaa', 'req-set-aaaaaa-2'];
  const lead = member('req-set-aaaaaa', 'production', 'req-set-aaaaaa', members);
  const other = member('req-set-aaaaaa-2', 'staging', 'req-set-aaaaaa', members);

  it('the "Access ready" DM ends or extends every account; the Home tab one account at a time', () => {
    const dm = JSON.stringify(requesterDmMessage(other).blocks);
    expect(dm).toContain(ACTION_IDS.endAll);
    expect(dm).toContain('End all 2 accounts now');
    expect(dm).toContain(ACTION_IDS.extendAll);
    const home = JSON.stringify(
      homeView({
        active: [lead, other],
        pending: [],
        toApprove: [],
        extensionsToApprove: [],
        now: new Date(),
      }).blocks,
    );
    expect(home).not.toContain(ACTION_IDS.endAll);
    expect(home).toContain('(2 of 2 accounts asked together)');
  });

  it('an approver sees the set once in the Home tab', () => {
    const waiting = [lead, other].map((r) => ({ ...r, status: 'PENDING_APPROVAL' as const }));
    const home = homeView({
      active: [],
      pending: [],
      toApprove: waiting,
      extensionsToApprove: [],
      now: new Date(),
    });
    const text = JSON.stringify(home.blocks);
    expect(text.match(/approve_request/g)).toHaveLength(1);
    expect(text).toContain('and 1 more account (decided together)');
  });

  it('"End all" hands one job for the whole request to the decisions function', async () => {
    await h.click(PEOPLE.alice, ACTION_IDS.endAll, 'req-set-aaaaaa-2', { channel: 'D0ALICE', ts: '1.000' });
    await h.decisionsSettled();
    expect(h.handedOff.at(-1)).toMatchObject({ kind: 'end', requestId: 'req-set-aaaaaa-2', whole: true });
  });
});
