import fc from 'fast-check';
import { REQUEST_STATUSES, type RequestRecord } from '../../functions/core/model';
import type { RequesterNotice } from '../../functions/core/ports';
import {
  approvalMessage,
  escapeClamped,
  escapeText,
  requesterNotice,
} from '../../functions/slack/render/messages';

// People's text (reasons, tickets, denial reasons, failure reasons) rendered in Block Kit: shown
// literally (never as a mention, link or formatting that pings @channel), and never so long that
// Slack refuses the whole message.

const SECTION_LIMIT = 3000;
const CONTEXT_LIMIT = 2000;
const NOTICES: RequesterNotice[] = [
  'approved',
  'denied',
  'approval-expired',
  'rejected',
  'granted',
  'expiring-soon',
  'extended',
  'revoked',
  'grant-failed',
  'revoke-failed',
];

/** Text people type, biased towards Slack markup and entity characters. */
const hostile = (max: number) =>
  fc.oneof(
    fc.string({ maxLength: max }),
    fc.string({ unit: 'grapheme', maxLength: max }),
    fc.string({
      unit: fc.constantFrom('&', '<', '>', '!', '@', '|', '*', '_', '~', '`', ' '),
      maxLength: max,
    }),
    fc.constantFrom(
      '<!channel>',
      '<!here> please',
      '<!everyone>',
      '<@U0DAVE> approve',
      '<https://evil.example|click me>',
      '&lt;!channel&gt;',
      '</script><img src=x onerror=alert(1)>',
      '\u202Egnp.exe',
    ),
  );

const recordArb = fc.record({
  reason: hostile(1000),
  ticket: fc.option(hostile(100), { nil: undefined }),
  denialReason: fc.option(hostile(3000), { nil: undefined }),
  failureReason: fc.option(hostile(5000), { nil: undefined }),
  status: fc.constantFrom(...REQUEST_STATUSES),
  pendingExtensionMinutes: fc.option(fc.integer({ min: 1, max: 600 }), { nil: undefined }),
  // This version's pending extension, with approvers' emails as Slack profiles give them.
  pendingExtension: fc.option(
    fc.record({
      minutes: fc.integer({ min: 1, max: 600 }),
      approvedBy: fc.array(hostile(300), { maxLength: 5 }),
    }),
    { nil: undefined },
  ),
});

type RecordParts = typeof recordArb extends fc.Arbitrary<infer T> ? T : never;

function record(parts: RecordParts): RequestRecord {
  return {
    version: 1,
    request: {
      requestId: 'req-bad-input-1',
      requester: { email: 'alice@example.com', slackUserId: 'U0ALICE' },
      accountId: '111111111111',
      permissionSetArn: 'arn:aws:sso:::permissionSet/ssoins-7223a1b2c3d4e5f6/ps-1a2b3c4d5e6f7a8b',
      durationMinutes: 60,
      reason: parts.reason,
      ...(parts.ticket !== undefined ? { ticket: parts.ticket } : {}),
      requestedAt: '2026-11-25T09:00:00.000Z',
    },
    status: parts.status,
    accountName: 'production',
    permissionSetName: 'ReadOnly',
    approvals: [],
    ...(parts.denialReason !== undefined
      ? { denial: { by: 'carol@example.com', slackUserId: 'U0CAROL', at: '', reason: parts.denialReason } }
      : {}),
    ...(parts.failureReason !== undefined ? { failureReason: parts.failureReason } : {}),
    ...(parts.pendingExtensionMinutes ? { pendingExtensionMinutes: parts.pendingExtensionMinutes } : {}),
    ...(parts.pendingExtension
      ? {
          pendingExtension: {
            minutes: parts.pendingExtension.minutes,
            ruleName: 'production-extended',
            approvers: [],
            required: 5,
            allowSelfApproval: false,
            requestedAt: '2026-11-25T09:30:00.000Z',
            approvals: parts.pendingExtension.approvedBy.map((by) => ({ by, slackUserId: 'U0X', at: '' })),
          },
        }
      : {}),
    expiresAt: '2026-11-25T10:00:00.000Z',
    updatedAt: '2026-11-25T09:00:00.000Z',
  };
}

/** Every mrkdwn/plain text of a message, with the limit Slack applies to it. */
function texts(blocks: unknown[]): Array<{ text: string; limit: number }> {
  const found: Array<{ text: string; limit: number }> = [];
  type Shown = { text?: string };
  for (const block of blocks as Array<{ type: string; text?: Shown; elements?: Shown[] }>) {
    if (block.type === 'section' && block.text)
      found.push({ text: block.text.text ?? '', limit: SECTION_LIMIT });
    if (block.type === 'context')
      for (const element of block.elements ?? [])
        found.push({ text: element.text ?? '', limit: CONTEXT_LIMIT });
  }
  return found;
}

/** The product's own markup: the requester mention, its time displays, the portal's console link. */
const OWN_MARKUP = [
  /^<@U0ALICE>$/,
  /^<!date\^\d+\^\{date_short_pretty\} \{time\}\|\d{2}:\d{2} UTC>$/,
  /^<https:\/\/example\.awsapps\.com\/start\/#\/console\?account_id=\d{12}&amp;role_name=ReadOnly\|Open the AWS console as ReadOnly>$/,
];

/** `<` may only open the product's own markup. */
function userMarkup(text: string): string[] {
  return [...text.matchAll(/<[^>]*>?/g)]
    .map((m) => m[0])
    .filter((m) => !OWN_MARKUP.some((own) => own.test(m)));
}

describe('bad input: rendering in Slack', () => {
  it('escapeText leaves no markup and loses nothing', () => {
    fc.assert(
      fc.property(hostile(2000), (text) => {
        const escaped = escapeText(text);
        expect(escaped).not.toMatch(/[<>]/);
        const unescaped = escaped.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
        expect(unescaped).toBe(text);
      }),
      { numRuns: 300 },
    );
  });

  it('escapeClamped stays within its limit and never cuts an entity in half', () => {
    fc.assert(
      fc.property(hostile(3000), fc.integer({ min: 8, max: 2000 }), (text, max) => {
        const clamped = escapeClamped(text, max);
        expect(clamped.length).toBeLessThanOrEqual(max);
        expect(clamped).not.toMatch(/[<>]/);
        expect(clamped).not.toMatch(/&[a-z]{0,3}…?$/);
      }),
      { numRuns: 300 },
    );
  });

  it('an approval message never carries people’s markup and always fits Block Kit', () => {
    fc.assert(
      fc.property(recordArb, (parts) => {
        const message = approvalMessage(record(parts));
        for (const { text, limit } of texts(message.blocks)) {
          expect(text.length).toBeLessThanOrEqual(limit);
          expect(userMarkup(text)).toEqual([]);
        }
        expect(message.text).not.toMatch(/<!(channel|here|everyone)/);
        expect(JSON.stringify(message.blocks)).not.toMatch(/taskToken/i);
      }),
      { numRuns: 200 },
    );
  });

  it('every requester notice fits and shows details literally', () => {
    fc.assert(
      fc.property(
        recordArb,
        fc.constantFrom(...NOTICES),
        fc.option(hostile(5000), { nil: undefined }),
        (parts, notice, detail) => {
          const rendered = requesterNotice(record(parts), notice, detail, {
            portalUrl: 'https://example.awsapps.com/start',
            ssoRegion: 'eu-west-1',
            orgTrail: { table: 'default.cloudtrail_org', region: 'eu-west-1' },
          });
          for (const { text, limit } of texts(rendered.blocks)) {
            expect(text.length).toBeLessThanOrEqual(limit);
            expect(userMarkup(text)).toEqual([]);
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('buttons carry only the request id', () => {
    fc.assert(
      fc.property(recordArb, (parts) => {
        const message = approvalMessage({ ...record(parts), status: 'PENDING_APPROVAL' });
        const values = JSON.stringify(message.blocks).match(/"value":"[^"]*"/g) ?? [];
        for (const value of values) expect(value).toBe('"value":"req-bad-input-1"');
      }),
      { numRuns: 50 },
    );
  });
});
