import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { executionInputSchema } from '../../functions/core/model';
import { validatePolicy } from '../../functions/core/policy-file';
import { CALLBACK_IDS } from '../../functions/slack/render/ids';
import { formValues, type Harness, PEOPLE, startHarness, TEAM_ID } from './support/harness';

// A rule's ticket requirement seen from Slack: the form says when a ticket is needed, a
// submission the deciding rule refuses gets an inline error on the ticket input and starts
// nothing, an accepted ticket travels with the request to the approvers. The real Bolt App, as in
// app.test.ts, on the example policy whose production-engineers rule asks for a ticket.

interface Block {
  block_id?: string;
  optional?: boolean;
  hint?: { text: string };
  label?: { text: string };
  element?: { type: string };
}

let h: Harness;
beforeAll(async () => {
  const doc = parseYaml(
    readFileSync(path.join(__dirname, '../fixtures/email-groups-policy.yaml'), 'utf8'),
  ) as { rules: Array<Record<string, unknown>> };
  const engineers = doc.rules.find((r) => r.name === 'production-engineers');
  if (!engineers) throw new Error('fixture: no production-engineers rule');
  engineers.ticket = { required: true, pattern: '^(INC|CHG)-\\d+$', hint: 'INC-1234 or CHG-1234' };
  h = await startHarness({ policy: validatePolicy(doc) });
});
afterAll(() => h.close());
beforeEach(() => {
  h.slack.standIn.reset();
  h.sfn.resetHistory();
});

const ticketBlock = (view: unknown) =>
  ((view as { blocks: Block[] }).blocks ?? []).find((b) => b.block_id === 'ticket');

let viewSeq = 0;
async function submit(ticket: string | null) {
  const viewId = `V0TICKET${String(++viewSeq).padStart(4, '0')}`;
  const response = await h.submit(PEOPLE.alice, {
    id: viewId,
    callbackId: CALLBACK_IDS.requestForm,
    values: formValues({
      account: '111111111111',
      permissionSet: 'ReadOnly',
      duration: '60',
      reason: 'Investigate the outage',
      ticket,
    }),
  });
  const text = await response.text();
  return text ? JSON.parse(text) : undefined;
}

describe('the ticket input of the request form', () => {
  it('says a ticket is needed for some of what the requester may ask for', async () => {
    await h.command(PEOPLE.alice);

    const opened = h.slack.standIn.calls('views.open');
    expect(opened).toHaveLength(1);
    const ticket = ticketBlock(opened[0]?.args.view);
    expect(ticket?.element?.type).toBe('plain_text_input');
    // Alice may also ask for staging, which needs none: Slack lets her leave it empty.
    expect(ticket?.optional).toBe(true);
    expect(ticket?.hint?.text).toBe(
      'Required for some of the access you can ask for. Like INC-1234 or CHG-1234.',
    );
  });

  it('becomes required once the picked account and permission set need a ticket whatever the duration', async () => {
    const selected = (value: string) => ({ text: { type: 'plain_text', text: value }, value });
    await h.interact({
      type: 'block_actions',
      team: { id: TEAM_ID, domain: 'sandbox' },
      user: { id: PEOPLE.alice.id, username: 'alice', name: 'alice', team_id: TEAM_ID },
      api_app_id: 'A0JITAPP',
      trigger_id: h.slack.standIn.issueTriggerId(PEOPLE.alice.id),
      container: { type: 'view', view_id: 'V0FORM' },
      actions: [
        { type: 'external_select', action_id: 'permission_set', block_id: 'permission_set', action_ts: '1' },
      ],
      view: {
        id: 'V0FORM',
        type: 'modal',
        callback_id: CALLBACK_IDS.requestForm,
        hash: '1.abc',
        private_metadata: '',
        state: {
          values: {
            account: { account: { type: 'external_select', selected_option: selected('111111111111') } },
            permission_set: {
              permission_set: { type: 'external_select', selected_option: selected('ReadOnly') },
            },
          },
        },
      },
    });

    const updated = h.slack.standIn.calls('views.update');
    expect(updated).toHaveLength(1);
    const ticket = ticketBlock(updated[0]?.args.view);
    expect(ticket?.optional).toBe(false);
    expect(ticket?.hint?.text).toBe('Required for this access. Like INC-1234 or CHG-1234.');
  });
});

describe('a submission checked against the deciding rule’s ticket requirement', () => {
  it.each([
    ['no ticket', null, 'This access needs a ticket reference (INC-1234 or CHG-1234).'],
    ['a blank ticket', '   ', 'This access needs a ticket reference (INC-1234 or CHG-1234).'],
    [
      'a ticket the pattern refuses',
      'OPS-42',
      'That ticket reference is not one this access accepts (INC-1234 or CHG-1234).',
    ],
  ])(
    'shows an inline error on the ticket input for %s and starts nothing',
    async (_name, ticket, message) => {
      const body = await submit(ticket);

      expect(body).toEqual({ response_action: 'errors', errors: { ticket: message } });
      expect(h.startedExecutions()).toHaveLength(0);
    },
  );

  it('carries an accepted ticket, trimmed, to the stored request and the approval message', async () => {
    const body = await submit('  INC-42 ');

    expect(body.response_action).toBe('update');
    const started = h.startedExecutions();
    expect(started).toHaveLength(1);
    const input = executionInputSchema.parse(JSON.parse(started[0]?.input ?? '{}'));
    expect(input.request.ticket).toBe('INC-42');

    const record = await h.runUntilApproval(input, 'token-ticket');
    expect(record.request.ticket).toBe('INC-42');
    const approval = h.slack.standIn.calls('chat.postMessage').find((c) => c.args.channel === 'C0APPROVALS');
    expect(JSON.stringify(approval?.args.blocks)).toContain('*Ticket:* INC-42');

    // The approver's Home tab shows it beside the reason.
    await h.event({ type: 'app_home_opened', user: PEOPLE.carol.id, channel: 'D0CAROL', tab: 'home' });
    const published = h.slack.standIn.calls('views.publish').at(-1);
    expect(JSON.stringify(published?.args.view)).toContain('Investigate the outage (ticket INC-42)');
  });
});
