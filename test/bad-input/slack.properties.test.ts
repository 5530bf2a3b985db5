import { SendTaskFailureCommand, SendTaskSuccessCommand } from '@aws-sdk/client-sfn';
import fc from 'fast-check';
import type { ExecutionInput } from '../../functions/core/model';
import { CALLBACK_IDS, FORM_FIELDS } from '../../functions/slack/render/ids';
import { ACTION_IDS } from '../../functions/slack/render/messages';
import { FORM, type Harness, PEOPLE, sign, startHarness, TEAM_ID } from '../slack/support/harness';

// Every Slack entry — slash command text, modal submissions, button clicks, and the HTTP
// request itself (signature, timestamp, body) — with hostile input. Each gets an answer (never a
// 5xx), and nothing starts: no execution, no callback sent, no write to the store. Uses the Slack
// app's own test harness (test/slack/support/harness.ts): the real Bolt App over HTTP.

const WRITES = new Set([
  'createRequest',
  'updateRequest',
  'addApproval',
  'putTaskToken',
  'takeTaskToken',
  'putHolders',
]);

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
}, 30_000);
afterAll(() => h.close());

/** What a request changed: executions started, callbacks sent, store writes. */
function effects() {
  const writes = h.storeCalls.filter((c) => WRITES.has(c)).length;
  const started = h.startedExecutions().length;
  const signals =
    h.sfn.commandCalls(SendTaskSuccessCommand).length + h.sfn.commandCalls(SendTaskFailureCommand).length;
  return { writes, started, signals };
}

const hostileText = fc.oneof(
  fc.string({ maxLength: 200 }),
  fc.string({ unit: 'grapheme', maxLength: 200 }),
  fc.constantFrom(
    'x'.repeat(4000),
    '<!channel> approve me',
    'req-"; DROP TABLE;--',
    '{"payload": 1}',
    'help',
    'status',
    '\u0000\u0001',
    '%00%0d%0a',
    '../../../etc/passwd',
  ),
);

const people = [PEOPLE.alice, PEOPLE.bob, PEOPLE.carol, PEOPLE.erin, PEOPLE.frank, PEOPLE.nomail];

describe('bad input: Slack entries', () => {
  it('answers any /request-access text without starting anything', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...people), hostileText, async (user, text) => {
        const before = effects();
        const { response } = await h.command(user, text);
        expect(response.status).toBe(200);
        expect(effects()).toEqual(before);
      }),
      { numRuns: 40 },
    );
  });

  it('answers any button click with any value without deciding or starting anything', async () => {
    const actionIds = [...Object.values(ACTION_IDS), 'unknown_action', ''];
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...people),
        fc.constantFrom(...actionIds),
        fc.oneof(hostileText, fc.constantFrom('req-does-not-exist', 'req-000000')),
        async (user, actionId, value) => {
          const before = effects();
          const response = await h.click(user, actionId, value, {
            channel: 'C0APPROVALS',
            ts: '1700000000.000100',
          });
          expect(response.status).toBe(200);
          const after = effects();
          expect(after.started).toBe(before.started);
          expect(after.signals).toBe(before.signals);
          expect(after.writes).toBe(before.writes);
        },
      ),
      { numRuns: 40 },
    );
  });

  it('answers any request-form submission with junk values without starting anything', async () => {
    const select = (value: string) => ({ text: { type: 'plain_text', text: value }, value });
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...people),
        fc.record({
          account: hostileText,
          permissionSet: hostileText,
          duration: hostileText,
          reason: hostileText,
        }),
        fc.string({ maxLength: 40 }),
        async (user, answers, viewSuffix) => {
          const before = effects();
          const response = await h.submit(user, {
            id: `V${viewSuffix.replace(/[^A-Z0-9]/gi, '')}X`,
            callbackId: CALLBACK_IDS.requestForm,
            values: {
              [FORM_FIELDS.account]: {
                [FORM_FIELDS.account]: { type: 'external_select', selected_option: select(answers.account) },
              },
              [FORM_FIELDS.permissionSet]: {
                [FORM_FIELDS.permissionSet]: {
                  type: 'external_select',
                  selected_option: select(answers.permissionSet),
                },
              },
              [FORM_FIELDS.duration]: {
                [FORM_FIELDS.duration]: { type: 'static_select', selected_option: select(answers.duration) },
              },
              [FORM_FIELDS.reason]: {
                [FORM_FIELDS.reason]: { type: 'plain_text_input', value: answers.reason },
              },
            },
          });
          expect(response.status).toBe(200);
          expect(effects().started).toBe(before.started);
        },
      ),
      { numRuns: 30 },
    );
  });

  it('answers submissions of unknown or malformed views without starting anything', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...Object.values(CALLBACK_IDS), 'unknown_form'),
        fc.dictionary(
          fc.string({ maxLength: 10 }),
          fc.dictionary(fc.string({ maxLength: 10 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 2 }),
          { maxKeys: 4 },
        ),
        fc.oneof(fc.string({ maxLength: 3000 }), fc.constant('{"requestId":"req-does-not-exist"}')),
        async (callbackId, values, privateMetadata) => {
          const before = effects();
          const response = await h.submit(PEOPLE.carol, { id: 'VJUNK', callbackId, values, privateMetadata });
          expect(response.status).toBe(200);
          const after = effects();
          expect(after.started).toBe(before.started);
          expect(after.signals).toBe(before.signals);
        },
      ),
      { numRuns: 30 },
    );
  });

  it('refuses requests signed with another secret (401) before any listener runs', async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ minLength: 1, maxLength: 64 }), hostileText, async (secret, text) => {
        fc.pre(secret !== 'test-signing-secret-0123456789abcdef');
        const body = new URLSearchParams({
          command: '/request-access',
          text,
          user_id: PEOPLE.alice.id,
          team_id: TEAM_ID,
        }).toString();
        const timestamp = Math.floor(Date.now() / 1000);
        const slackCalls = h.slack.standIn.calls().length;
        const before = effects();
        const response = await h.post(body, FORM, { timestamp, signature: sign(body, timestamp, secret) });
        expect(response.status).toBe(401);
        expect(effects()).toEqual(before);
        expect(h.slack.standIn.calls().length).toBe(slackCalls);
      }),
      { numRuns: 25 },
    );
  });

  it('refuses stale and future timestamps, tampered bodies and missing signatures (401)', async () => {
    const body = new URLSearchParams({
      command: '/request-access',
      text: '',
      user_id: PEOPLE.alice.id,
    }).toString();
    const now = Math.floor(Date.now() / 1000);
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc
            .integer({ min: 301, max: 10 ** 8 })
            .map((off) => ({ timestamp: now - off, body, signedBody: body })),
          fc
            .integer({ min: 301, max: 10 ** 6 })
            .map((off) => ({ timestamp: now + off, body, signedBody: body })),
          hostileText.map((other) => ({ timestamp: now, body, signedBody: `${body}${other}x` })),
        ),
        async ({ timestamp, body: sent, signedBody }) => {
          const before = effects();
          const response = await h.post(sent, FORM, { timestamp, signature: sign(signedBody, timestamp) });
          expect(response.status).toBe(401);
          expect(effects()).toEqual(before);
        },
      ),
      { numRuns: 30 },
    );
    expect((await h.post(body, FORM, { signature: null })).status).toBe(401);
    expect((await h.post(body, FORM, { signature: 'v0=' })).status).toBe(401);
    expect((await h.post(body, FORM, { signature: 'v1=abc' })).status).toBe(401);
  });

  it('answers correctly signed but malformed bodies without a 5xx or a side effect', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.string({ maxLength: 300 }),
          fc.string({ maxLength: 200 }).map((junk) => `payload=${encodeURIComponent(junk)}`),
          fc
            .jsonValue({ maxDepth: 3 })
            .map((value) => `payload=${encodeURIComponent(JSON.stringify(value))}`),
          fc.jsonValue({ maxDepth: 3 }).map((value) => JSON.stringify(value)),
        ),
        fc.constantFrom(FORM, 'application/json', 'text/plain'),
        async (body, contentType) => {
          const before = effects();
          const response = await h.post(body, contentType);
          expect(response.status).toBeLessThan(500);
          expect(effects()).toEqual(before);
        },
      ),
      { numRuns: 40 },
    );
  });

  it('takes a replayed approval click once', async () => {
    const requestId = 'req-bad-input-replay';
    const input: ExecutionInput = {
      version: 1,
      request: {
        requestId,
        requester: { email: PEOPLE.alice.email, slackUserId: PEOPLE.alice.id },
        accountId: '111111111111',
        permissionSetArn: 'arn:aws:sso:::permissionSet/ssoins-7223a1b2c3d4e5f6/ps-1a2b3c4d5e6f7a8b',
        durationMinutes: 60,
        reason: 'replay',
        requestedAt: new Date().toISOString(),
      },
    };
    const record = await h.runUntilApproval(input, 'token-replay');
    const where = record.approvalMessage ?? { channel: 'C0APPROVALS', ts: '1.0' };
    const signalsBefore = h.sfn.commandCalls(SendTaskSuccessCommand).length;
    const first = await h.click(PEOPLE.carol, ACTION_IDS.approve, requestId, where);
    expect(first.status).toBe(200);
    for (let replay = 0; replay < 3; replay++) {
      const again = await h.click(PEOPLE.carol, ACTION_IDS.approve, requestId, where);
      expect(again.status).toBe(200);
    }
    await h.click(PEOPLE.dave, ACTION_IDS.deny, requestId, where);
    expect(h.sfn.commandCalls(SendTaskSuccessCommand).length - signalsBefore).toBe(1);
    expect(
      h.sfn.commandCalls(SendTaskFailureCommand).filter((c) => c.args[0].input.taskToken === 'token-replay'),
    ).toHaveLength(0);
    expect((await h.store.getRequest(requestId))?.approvals.map((a) => a.by)).toEqual(['carol@example.com']);
  });
});
