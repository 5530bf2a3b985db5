import { readFileSync } from 'node:fs';
import path from 'node:path';
import { executionInputSchema, type RequestRecord } from '../../functions/core/model';
import { parsePolicy } from '../../functions/core/policy-file';
import { homeView } from '../../functions/slack/render/home';
import { CALLBACK_IDS } from '../../functions/slack/render/ids';
import { requesterNotice, summaryFields } from '../../functions/slack/render/messages';
import { requestFormModal } from '../../functions/slack/render/modals';
import { formValues, type Harness, PEOPLE, startHarness, TEAM_ID } from './support/harness';

// The request form with group access (core/policy.ts `groupOptionsFor`): the account menu also
// offers the requester's groups, a picked group asks no permission set, and its submission starts
// an execution for the group.

const policy = parsePolicy(
  readFileSync(path.join(__dirname, '../fixtures/group-access-policy.yaml'), 'utf8'),
);
const OPERATORS = '9a1b2c3d-0000-4000-8000-00000000a001';

interface Answer {
  response_action?: string;
  errors?: Record<string, string>;
  options?: Array<{ value: string; text: { text: string } }>;
}

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ policy });
});
afterAll(() => h.close());
beforeEach(() => h.sfn.resetHistory());

describe('the request form with groups', () => {
  it('offers the requester’s groups after their accounts', async () => {
    const response = await h.interact({
      type: 'block_suggestion',
      user: { id: PEOPLE.alice.id, name: PEOPLE.alice.name, team_id: TEAM_ID },
      team: { id: TEAM_ID },
      action_id: 'account',
      block_id: 'account',
      value: '',
      view: { id: 'V0GROUPS', type: 'modal', callback_id: CALLBACK_IDS.requestForm, state: { values: {} } },
    });
    const answer = (await response.json()) as Answer;
    expect(answer.options?.map((o) => o.value)).toEqual([
      '222222222222',
      'group:9a1b2c3d-0000-4000-8000-00000000a002',
      `group:${OPERATORS}`,
    ]);
    // Slack shows at most 75 characters of an option.
    expect(answer.options?.map((o) => o.text.text)).toContain(
      'Group: Prod-Operators — Operators of production (the group holds the assig…',
    );
  });

  it('asks no permission set once a group is picked', () => {
    const picked = requestFormModal([30, 60], '{}', {
      groups: true,
      account: { text: { type: 'plain_text', text: 'Group: Prod-Operators' }, value: `group:${OPERATORS}` },
    });
    expect(JSON.stringify(picked.blocks)).not.toContain('permission_set');
    const open = requestFormModal([30, 60], '{}', { groups: true });
    expect(JSON.stringify(open.blocks)).toContain('AWS account or group');
  });

  it('starts an execution for the group, naming no account or permission set', async () => {
    const response = await h.submit(PEOPLE.alice, {
      id: 'V0GROUPSUBMIT1',
      callbackId: CALLBACK_IDS.requestForm,
      values: formValues({ account: `group:${OPERATORS}`, duration: '60', reason: 'On call tonight' }),
    });
    const answer = (await response.json()) as Answer & { view?: { blocks: unknown[] } };
    expect(answer.response_action).toBe('update');
    expect(JSON.stringify(answer.view?.blocks)).toContain('Prod-Operators');
    const input = executionInputSchema.parse(JSON.parse(h.startedExecutions().at(-1)?.input ?? '{}'));
    expect(input.request).toMatchObject({
      groupId: OPERATORS,
      accountId: null,
      permissionSetArn: null,
      durationMinutes: 60,
    });
  });

  it('refuses a duration over the group rule’s maximum, on the duration', async () => {
    const response = await h.submit(PEOPLE.alice, {
      id: 'V0GROUPSUBMIT2',
      callbackId: CALLBACK_IDS.requestForm,
      values: formValues({ account: `group:${OPERATORS}`, duration: '480', reason: 'On call' }),
    });
    const answer = (await response.json()) as Answer;
    expect(answer.response_action).toBe('errors');
    expect(answer.errors?.duration).toContain('2h');
    expect(h.startedExecutions()).toHaveLength(0);
  });
});

describe('a group request as Slack shows it', () => {
  const record: RequestRecord = {
    version: 1,
    request: {
      requestId: 'req-group-render',
      requester: { email: 'alice@example.com', slackUserId: 'U0ALICE' },
      accountId: null,
      permissionSetArn: null,
      groupId: OPERATORS,
      durationMinutes: 60,
      reason: 'On call',
      requestedAt: '2026-01-01T00:00:00.000Z',
    },
    status: 'ACTIVE',
    ruleName: 'operators',
    groupName: 'Prod-Operators',
    principalId: 'user-alice',
    approvals: [],
    expiresAt: '2026-01-01T01:00:00.000Z',
    updatedAt: '2026-01-01T00:00:00.000Z',
  };

  it('names the group in the approval message, the Home tab and the requester’s DM, and no account', () => {
    expect(summaryFields(record)).toContain('*Group:* Prod-Operators');
    expect(summaryFields(record)).not.toContain('*Account:*');
    const home = JSON.stringify(
      homeView({
        active: [record],
        pending: [],
        toApprove: [],
        extensionsToApprove: [],
        now: new Date('2026-01-01T00:10:00Z'),
      }),
    );
    expect(home).toContain('the group *Prod-Operators*');
    const ready = requesterNotice(record, 'granted', undefined, {
      portalUrl: 'https://example.awsapps.com/start',
    });
    expect(ready.text).toContain('the group Prod-Operators');
    expect(JSON.stringify(ready.blocks)).not.toContain('console?account_id');
  });
});
