import { executionInputSchema } from '../../functions/core/model';
import { CALLBACK_IDS } from '../../functions/slack/render/ids';
import { formValues, type Harness, PEOPLE, startHarness } from './support/harness';

// A later start seen from Slack (core/scheduled-start.ts): the form offers the date-time picker to
// a person with a rule that allows one, a start the rule refuses is an inline error under it, an
// accepted one travels with the request, the confirmation says when it starts and until when the
// approvers may decide, and the approvers' message says when it starts. The real Bolt App on the
// fixture policy (staging: 7 days ahead; production-engineers: 2 days).

interface Block {
  block_id?: string;
  element?: { type: string };
}

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h.close());
beforeEach(() => {
  h.slack.standIn.reset();
  h.sfn.resetHistory();
});

let viewSeq = 0;
async function submit(account: string, startAtSeconds: number | null) {
  const viewId = `V0START${String(++viewSeq).padStart(5, '0')}`;
  const response = await h.submit(PEOPLE.alice, {
    id: viewId,
    callbackId: CALLBACK_IDS.requestForm,
    values: {
      ...formValues({ account, permissionSet: 'ReadOnly', duration: '60', reason: 'Release day' }),
      start_at: { start_at: { type: 'datetimepicker', selected_date_time: startAtSeconds } },
    },
  });
  const text = await response.text();
  return text ? JSON.parse(text) : undefined;
}

const HOUR_S = 3600;
const nowSeconds = () => Math.floor(Date.now() / 1000);

describe('the start of the request form', () => {
  it('is a date-time picker, offered to a person whose rules allow a later start', async () => {
    await h.command(PEOPLE.alice);
    const opened = h.slack.standIn.calls('views.open')[0];
    const view = opened?.args.view as { blocks?: Block[] } | undefined;
    const blocks = view?.blocks ?? [];
    expect(blocks.find((b) => b.block_id === 'start_at')?.element?.type).toBe('datetimepicker');
  });

  it('takes a start within the rule: the request carries it, the confirmation and the approvers say when', async () => {
    const start = nowSeconds() + 24 * HOUR_S;
    const body = await submit('111111111111', start);

    expect(body.response_action).toBe('update');
    const confirmation = JSON.stringify(body.view);
    expect(confirmation).toContain(`starting <!date^${start}^`);
    // production-engineers: approvers have its 1 h timeout, counted from now.
    expect(confirmation).toContain('Approvers have until <!date^');
    const started = h.startedExecutions();
    expect(started).toHaveLength(1);
    const input = executionInputSchema.parse(JSON.parse(started[0]?.input ?? '{}'));
    expect(input.request.startAt).toBe(new Date(start * 1000).toISOString());

    await h.runUntilApproval(input, 'token-start');
    const approval = h.slack.standIn.calls('chat.postMessage').find((c) => c.args.channel === 'C0APPROVALS');
    expect(JSON.stringify(approval?.args.blocks)).toContain(`*Starts:* <!date^${start}^`);
  });

  it.each([
    ['in the past', () => nowSeconds() - HOUR_S, '111111111111', /at least a minute from now/],
    ['beyond the rule', () => nowSeconds() + 3 * 24 * HOUR_S, '111111111111', /at most 2 days ahead/],
  ])(
    'shows an inline error under the start for one %s and starts nothing',
    async (_name, start, account, message) => {
      const body = await submit(account, start());

      expect(body.response_action).toBe('errors');
      expect(body.errors.start_at).toMatch(message);
      expect(h.startedExecutions()).toHaveLength(0);
    },
  );

  it('starts at once when the picker is left empty', async () => {
    const body = await submit('222222222222', null);

    expect(body.response_action).toBe('update');
    const input = executionInputSchema.parse(JSON.parse(h.startedExecutions()[0]?.input ?? '{}'));
    expect(input.request.startAt).toBeUndefined();
  });
});
