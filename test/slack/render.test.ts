import type { RequestRecord } from '../../functions/core/model';
import { decisionText } from '../../functions/slack/interaction';
import { homeView } from '../../functions/slack/render/home';
import { FORM_EXPOSURE_BLOCK, FORM_FIELDS } from '../../functions/slack/render/ids';
import {
  ACTION_IDS,
  accessEndedNotice,
  approvalMessage,
  consoleShortcut,
  escapeKeepingTimes,
  requesterDmMessage,
  requesterNotice,
  slackTime,
  ssoSessionName,
  statusLine,
} from '../../functions/slack/render/messages';
import { extendModal, option, requestFormModal } from '../../functions/slack/render/modals';
import { messageBlockProblems, viewProblems } from '../../local/slack-api/block-kit';

// What the Block Kit surfaces show, read as Slack reads them: times in each reader's zone,
// the "Access ready" directions, Home tab sections within 3,000 characters, block ids per
// iteration of an updated message. Pure functions of fixed records: no clock but `now`.

const EXPIRES = '2026-12-01T10:00:00.000Z';
const EXPIRES_UNIX = Date.UTC(2026, 11, 1, 10) / 1000;
const NOW = new Date('2026-12-01T09:15:00.000Z');
const TIME = `<!date^${EXPIRES_UNIX}^{date_short_pretty} {time}|10:00 UTC>`;

const record = (over: Partial<RequestRecord> = {}): RequestRecord => ({
  version: 1,
  request: {
    requestId: 'req-render-1',
    requester: { email: 'alice@example.com', slackUserId: 'U0ALICE' },
    accountId: '111111111111',
    permissionSetArn: 'arn:aws:sso:::permissionSet/ssoins-7223a1b2c3d4e5f6/ps-1a2b3c4d5e6f7a8b',
    durationMinutes: 60,
    reason: 'Investigate INC-42',
    requestedAt: '2026-12-01T08:55:00.000Z',
  },
  status: 'ACTIVE',
  approvals: [{ by: 'carol@example.com', slackUserId: 'U0CAROL', at: '2026-12-01T08:58:00.000Z' }],
  accountName: 'production',
  permissionSetName: 'ReadOnly',
  expiresAt: EXPIRES,
  windowStartedAt: '2026-12-01T09:00:00.000Z',
  updatedAt: '2026-12-01T09:00:00.000Z',
  ...over,
});

const LINKS = { portalUrl: 'https://example.awsapps.com/start', ssoRegion: 'us-east-1' };

type Text = { type: string; text: string };
/** Every text object in a surface, plain_text and mrkdwn, wherever it sits. */
function textObjects(value: unknown, found: Text[] = []): Text[] {
  if (Array.isArray(value)) for (const item of value) textObjects(item, found);
  else if (value && typeof value === 'object') {
    const object = value as Record<string, unknown>;
    if ((object.type === 'plain_text' || object.type === 'mrkdwn') && typeof object.text === 'string')
      found.push(object as Text);
    for (const child of Object.values(object)) textObjects(child, found);
  }
  return found;
}

/** The text of every section, as Block Kit limits it (3,000 characters). */
const sectionTexts = (blocks: unknown[]) =>
  (blocks as Array<{ type: string; text?: { text: string } }>)
    .filter((b) => b.type === 'section')
    .map((b) => b.text?.text ?? '');

describe('times in Slack', () => {
  it('uses Slack date formatting with the UTC time as its fallback', () => {
    expect(slackTime(EXPIRES)).toBe(TIME);
    expect(slackTime('not a time')).toBe('?');
  });

  it('keeps End and Extend in the kept Access ready DM only: later notices point to it', () => {
    const kept = { ...record(), requesterDm: { channel: 'D0ALICE', ts: '1.1' } };
    for (const notice of ['extended', 'expiring-soon'] as const) {
      const shown = JSON.stringify(requesterNotice(kept, notice, undefined, LINKS).blocks);
      expect(shown).not.toContain('extend_access');
      expect(shown).not.toContain('end_access');
      expect(shown).toContain('Access ready');
      // A grant from before the DM was kept still gets its buttons.
      expect(JSON.stringify(requesterNotice(record(), notice, undefined, LINKS).blocks)).toContain(
        'extend_access',
      );
    }
    expect(JSON.stringify(requesterNotice(kept, 'granted', undefined, LINKS).blocks)).toContain('end_access');
  });

  it('shows every time of the messages, DMs, Home tab and modals in the reader’s time zone', () => {
    const active = record();
    expect(statusLine(active)).toContain(`Granted until ${TIME}`);
    for (const notice of ['granted', 'extended', 'expiring-soon'] as const)
      expect(JSON.stringify(requesterNotice(active, notice, undefined, LINKS).blocks)).toContain(TIME);
    const home = homeView({
      active: [active],
      pending: [],
      toApprove: [],
      extensionsToApprove: [],
      now: NOW,
    });
    expect(sectionTexts(home.blocks).join('\n')).toContain(`45m left (until ${TIME})`);
    expect(JSON.stringify(extendModal(active, [30], '{}').blocks)).toContain(TIME);
    expect(decisionText({ kind: 'extended', expiresAt: EXPIRES } as Parameters<typeof decisionText>[0])).toBe(
      `Extended: access now lasts until ${TIME}.`,
    );
  });

  it('tells an account of a set still being granted, or not started yet, from one whose access is gone', () => {
    const notActive = (status: RequestRecord['status']) =>
      decisionText({ kind: 'not-active', record: record({ status }) });
    expect(decisionText({ kind: 'end-requested', record: record({ status: 'GRANTING' }) })).toBe(
      'Still being granted: it ends as soon as it is granted. I will message you when it is revoked.',
    );
    expect(notActive('APPROVED')).toBe('Not started yet, so not ended: cancel the request instead.');
    expect(notActive('REVOKED')).toBe('This access is not active any more.');
  });

  it('never puts a date display in plain_text, where Slack would show it raw', () => {
    const active = record();
    const surfaces = [
      approvalMessage(active).blocks,
      approvalMessage(record({ status: 'PENDING_APPROVAL' })).blocks,
      ...(['granted', 'extended', 'expiring-soon'] as const).map(
        (n) => requesterNotice(active, n, undefined, LINKS).blocks,
      ),
      homeView({
        notice: decisionText({ kind: 'extended', expiresAt: EXPIRES } as Parameters<typeof decisionText>[0]),
        active: [active],
        pending: [],
        toApprove: [],
        extensionsToApprove: [],
        now: NOW,
      }),
      extendModal(active, [30, 60], '{}'),
    ];
    const texts = textObjects(surfaces);
    expect(texts.filter((t) => t.type === 'mrkdwn' && t.text.includes('<!date^')).length).toBeGreaterThan(5);
    expect(texts.filter((t) => t.type === 'plain_text' && t.text.includes('<!date'))).toEqual([]);
  });

  it('keeps this app’s own time displays in a Home tab notice and shows anything else literally', () => {
    const notice = `Extended until ${TIME} <!channel> <!date^1^{date}|forged>`;
    const shown = escapeKeepingTimes(notice, 2000);
    expect(shown).toBe(`Extended until ${TIME} &lt;!channel&gt; &lt;!date^1^{date}|forged&gt;`);
    // Clamped like any other text, never cutting a display in half.
    expect(escapeKeepingTimes(`${'x'.repeat(30)}${TIME}`, 40)).toBe('x'.repeat(30));
  });
});

describe('the "Access ready" DM', () => {
  it('links the console for the account and role, and gives the CLI login and config', () => {
    const { text, blocks } = requesterNotice(record(), 'granted', undefined, LINKS);
    const [shown] = sectionTexts(blocks);

    expect(text).toBe(`:unlock: Access ready: ReadOnly on production until ${TIME}.`);
    expect(shown).toContain(
      '<https://example.awsapps.com/start/#/console?account_id=111111111111&amp;role_name=ReadOnly|Open the AWS console as ReadOnly>',
    );
    expect(shown).toContain('`aws sso login --sso-session example`');
    expect(shown).toContain('`--profile example-production-ReadOnly`');
    expect(shown).toContain(
      [
        '```[sso-session example]',
        'sso_start_url = https://example.awsapps.com/start',
        'sso_region = us-east-1',
        'sso_registration_scopes = sso:account:access',
        '',
        '[profile example-production-ReadOnly]',
        'sso_session = example',
        'sso_account_id = 111111111111',
        'sso_role_name = ReadOnly',
        'region = us-east-1```',
      ].join('\n'),
    );
    expect(messageBlockProblems(blocks)).toEqual([]);
  });

  it('says to sign in and pick the role as before when the policy names no portal', () => {
    const [shown] = sectionTexts(requesterNotice(record(), 'granted', undefined, {}).blocks);
    expect(shown).toContain('Run `aws sso login` and pick the ReadOnly role.');
    expect(shown).not.toContain('#/console');
    expect(shown).not.toContain('sso-session');
  });

  it('builds the shortcut and the session name from any portal address', () => {
    expect(consoleShortcut('https://example.awsapps.com/start/', '222222222222', 'Power+User')).toBe(
      'https://example.awsapps.com/start/#/console?account_id=222222222222&role_name=Power%2BUser',
    );
    expect(ssoSessionName('https://d-9067a1b2c3.awsapps.com/start')).toBe('d-9067a1b2c3');
    expect(ssoSessionName('https://Acme-Corp.awsapps.com/start')).toBe('acme-corp');
    expect(ssoSessionName('https://ssoins-7223a1b2c3d4e5f6.portal.us-east-1.app.aws')).toBe(
      'ssoins-7223a1b2c3d4e5f6',
    );
    expect(ssoSessionName('not a url')).toBe('aws');
  });

  it('keeps only the link when a very long portal address would not fit a section with the config', () => {
    const portalUrl = `https://example.awsapps.com/start/${'p'.repeat(1200)}`;
    const { blocks } = requesterNotice(record(), 'granted', undefined, { ...LINKS, portalUrl });
    const [shown] = sectionTexts(blocks);
    expect(shown?.length).toBeLessThanOrEqual(3000);
    expect(shown).toContain('#/console?account_id=111111111111');
    expect(shown).not.toContain('sso-session');
  });

  it('names the profile so the CLI config file accepts it, whatever the account is called', () => {
    const [shown] = sectionTexts(
      requesterNotice(record({ accountName: 'Prod (EU) & more' }), 'granted', undefined, LINKS).blocks,
    );
    expect(shown).toContain('[profile example-Prod-EU-more-ReadOnly]');
  });

  it('loses its End/Extend buttons once the access ended, saying when (re-rendered in place)', () => {
    const actions = (blocks: Array<{ type: string }>) => blocks.filter((b) => b.type === 'actions');
    const dm = { channel: 'D0ALICE', ts: '1.700' };
    // While the window is open, the kept DM re-renders as ready, with its buttons.
    expect(actions(requesterDmMessage(record({ requesterDm: dm }), LINKS).blocks)).toHaveLength(1);

    const closedAt = '2026-12-01T10:00:04.000Z';
    const CLOSED = `<!date^${Math.floor(Date.parse(closedAt) / 1000)}^{date_short_pretty} {time}|10:00 UTC>`;
    const revoked = record({ status: 'REVOKED', requesterDm: dm, closedAt });
    const ended = requesterDmMessage(revoked, LINKS);
    expect(ended).toEqual(accessEndedNotice(revoked));
    expect(actions(ended.blocks)).toEqual([]);
    expect(ended.text).toBe(
      `:lock: Your access to ReadOnly on production ended at ${CLOSED}. It can no longer be ended or extended.`,
    );
    expect(sectionTexts(ended.blocks)).toEqual([ended.text]);
    expect(messageBlockProblems(ended.blocks)).toEqual([]);
    expect(textObjects(ended.blocks).filter((t) => t.type === 'plain_text')).toEqual([]);

    // Ended early: by whom; still being revoked: its last change is when.
    expect(
      accessEndedNotice(record({ status: 'REVOKED', closedAt, endedBy: 'alice@example.com' })).text,
    ).toContain(`ended at ${CLOSED} (ended early by alice@example.com)`);
    expect(accessEndedNotice(record({ status: 'REVOKING', updatedAt: closedAt })).text).toContain(
      `ended at ${CLOSED}`,
    );
    // A revoke that failed is not told as access gone.
    const failed = accessEndedNotice(record({ status: 'REVOKE_FAILED', closedAt }));
    expect(failed.text).toContain('revoking the access failed');
    expect(actions(failed.blocks)).toEqual([]);
  });
});

describe('the Home tab', () => {
  it('clamps a waiting request’s reason so no section passes 3,000 characters once escaped', () => {
    const ampersands = record({
      status: 'PENDING_APPROVAL',
      expiresAt: undefined,
      request: { ...record().request, reason: '&'.repeat(1000), ticket: '&'.repeat(100) },
    });
    const view = homeView({
      active: [],
      pending: [ampersands],
      toApprove: [ampersands],
      extensionsToApprove: [],
      now: NOW,
    });

    const texts = sectionTexts(view.blocks);
    for (const text of texts) expect(text.length).toBeLessThanOrEqual(3000);
    const asked = texts.find((t) => t.includes('asks for')) ?? '';
    expect(asked).toContain('&amp;'.repeat(200));
    // Cut between entities, never inside one.
    expect(asked).not.toMatch(/&(a|am|amp)?…/);
    // Slack (the stand-in's Block Kit checks) takes it.
    expect(viewProblems(view)).toEqual([]);
  });
});

describe('block ids across updates of a message', () => {
  const pending = record({ status: 'PENDING_APPROVAL', approvals: [], approvalsRequired: 2 });
  const blockIds = (r: RequestRecord) =>
    (approvalMessage(r).blocks as Array<{ block_id?: string }>).map((b) => b.block_id).filter(Boolean);
  const actionIds = (r: RequestRecord) =>
    JSON.stringify(approvalMessage(r).blocks).match(/"action_id":"[a-z_]+"/g) ?? [];

  it('gives each iteration of the approval message new block ids, and keeps the action ids', () => {
    const approvedOnce = {
      ...pending,
      approvals: [{ by: 'carol@example.com', slackUserId: 'U0CAROL', at: '2026-12-01T09:01:00.000Z' }],
      updatedAt: '2026-12-01T09:01:00.000Z',
    };
    const [first] = blockIds(pending);
    const [second] = blockIds(approvedOnce);

    expect(first).toMatch(/^decision\.[0-9a-f]{8}$/);
    expect(second).toMatch(/^decision\.[0-9a-f]{8}$/);
    expect(second).not.toBe(first);
    expect(actionIds(approvedOnce)).toEqual(actionIds(pending));
    expect(actionIds(pending)).toEqual([
      `"action_id":"${ACTION_IDS.approve}"`,
      `"action_id":"${ACTION_IDS.deny}"`,
    ]);
  });

  it('renders the same record with the same ids (a retried step repeats the same iteration)', () => {
    expect(blockIds(pending)).toEqual(blockIds(structuredClone(pending)));
  });

  it('keeps the request form’s block ids, which Slack needs to keep what was typed across views.update', () => {
    const before = requestFormModal([30, 60], '{}').blocks.map((b) => b.block_id);
    const after = requestFormModal([30, 60, 120], '{}', {
      account: option('production (111111111111)', '111111111111'),
      durationMinutes: 60,
    }).blocks.map((b) => b.block_id);
    expect(after).toEqual(before);
    expect(before).toContain(FORM_FIELDS.account);
  });
});

describe('the request form’s exposure line', () => {
  const blocksOf = (view: ReturnType<typeof requestFormModal>) =>
    view.blocks as Array<{
      type: string;
      block_id?: string;
      elements?: Array<{ type: string; text: string }>;
    }>;

  it('says under the duration how long the sessions outlive the window shown, as plain text', () => {
    const view = requestFormModal([15, 30, 60, 120], '{}', {
      durationMinutes: 120,
      exposure: { permissionSetName: 'Data_Eng*', sessions: { kind: 'outlives', sessionMinutes: 720 } },
    });
    const blocks = blocksOf(view);
    const at = blocks.findIndex((b) => b.block_id === FORM_EXPOSURE_BLOCK);
    expect(blocks[at - 1]?.block_id).toBe(FORM_FIELDS.duration);
    expect(blocks[at]?.type).toBe('context');
    // plain_text: the name's _ and * stay as they are.
    expect(blocks[at]?.elements).toEqual([
      {
        type: 'plain_text',
        emoji: true,
        text: "Access for 2h; sessions signed in during it stay valid up to 12h after it ends (Data_Eng*'s session duration), so up to 14h in all.",
      },
    ]);
    expect(viewProblems(view)).toEqual([]);
  });

  it('counts the duration the form shows when none is picked, and says when sessions end at revoke', () => {
    const view = requestFormModal([15, 30, 60, 120], '{}', {
      exposure: { permissionSetName: 'PowerUser', sessions: { kind: 'ends-at-revoke' } },
    });
    expect(blocksOf(view).find((b) => b.block_id === FORM_EXPOSURE_BLOCK)?.elements?.[0]?.text).toBe(
      'Access for 1h. Sessions end at revoke.',
    );
  });

  it('is left out without an exposure, and never moves the inputs’ block ids', () => {
    const inputs = (view: ReturnType<typeof requestFormModal>) =>
      blocksOf(view)
        .filter((b) => b.type === 'input')
        .map((b) => b.block_id);
    const without = requestFormModal([30, 60], '{}');
    const withLine = requestFormModal([30, 60], '{}', {
      exposure: { permissionSetName: 'ReadOnly', sessions: { kind: 'outlives', sessionMinutes: 60 } },
    });
    expect(blocksOf(without).some((b) => b.block_id === FORM_EXPOSURE_BLOCK)).toBe(false);
    expect(inputs(withLine)).toEqual(inputs(without));
  });
});
