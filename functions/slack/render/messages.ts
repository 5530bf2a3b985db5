import { createHash } from 'node:crypto';
import type { KnownBlock } from '@slack/web-api';
import { athenaConsoleUrl, grantActivity, type OrgTrail, roleSessionSql } from '../../core/activity-query';
import { formatMinutes } from '../../core/duration';
import { pendingExtensionOf, totalWith } from '../../core/extensions';
import type { PendingExtension, RequestRecord } from '../../core/model';
import type { RequesterNotice } from '../../core/ports';

// Block Kit for the request's messages. Pure functions of the stored record, so every update
// re-renders the whole message from the truth. Buttons carry only the request id.

export const ACTION_IDS = {
  approve: 'approve_request',
  deny: 'deny_request',
  /** The requester withdraws a request still waiting for approval (Home tab). */
  cancel: 'cancel_request',
  end: 'end_access',
  extend: 'extend_access',
  /** End / Extend every account of a request of several (core/request-set.ts): its "Access ready" DMs. */
  endAll: 'end_access_all',
  extendAll: 'extend_access_all',
  approveExtension: 'approve_extension',
  denyExtension: 'deny_extension',
  /** Opens the request form (Home tab). */
  openForm: 'open_request_form',
} as const;

/** Text from people is shown literally: no mentions (<!channel>), links or formatting injection. */
export function escapeText(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/**
 * escapeText, cut to `max` characters without splitting an entity (a 1,000-character reason of
 * "&" escapes to 5,000): Block Kit refuses a section over 3,000 characters, which would fail the
 * whole message (and the step posting it).
 */
export function escapeClamped(text: string, max: number): string {
  const escaped = escapeText(text);
  if (escaped.length <= max) return escaped;
  let cut = escaped.slice(0, max - 1);
  const amp = cut.lastIndexOf('&');
  if (amp >= 0 && !cut.slice(amp).includes(';')) cut = cut.slice(0, amp);
  return `${cut}…`;
}

/** Limits per piece of people's text in a message; the sums stay under Block Kit's 2,000/3,000. */
const MAX = {
  reason: 1200,
  ticket: 200,
  email: 300,
  name: 120,
  decision: 500,
  failure: 600,
  /** The "Access ready" DM's directions, after its first line (where and until when). */
  directions: 2400,
} as const;

/** "HH:MM UTC": the fallback of slackTime, and what a client that cannot format dates shows. */
export function utcTime(iso: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return '?';
  return `${date.toISOString().slice(11, 16)} UTC`;
}

/**
 * A time as Slack shows it to each reader, in the reader's own time zone ("Today 14:00"), with
 * today's fixed "HH:MM UTC" as the fallback ("text to display in place of the date should
 * parsing, formatting or displaying fail": notifications, older clients). Slack's date
 * formatting, `<!date^timestamp^token_string|fallback_text>`:
 * https://api.slack.com/reference/surfaces/formatting#date-formatting. Slack parses it in mrkdwn
 * only, never in plain_text (headers, buttons, options): use it in sections, contexts and a
 * message's top-level text.
 */
export function slackTime(iso: string): string {
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) return '?';
  return `<!date^${Math.floor(ms / 1000)}^{date_short_pretty} {time}|${utcTime(iso)}>`;
}

/** Exactly what slackTime writes: a date display, which can neither ping anyone nor link anywhere. */
const SLACK_TIME = /<!date\^\d{1,12}\^\{date_short_pretty\} \{time\}\|\d{2}:\d{2} UTC>/g;

/**
 * escapeClamped for text that may carry this app's own slackTime displays (a Home tab notice
 * saying until when an extension runs): those stay formatted, everything else is shown literally.
 */
export function escapeKeepingTimes(text: string, max: number): string {
  const clamp = (part: string, room: number) => (room > 1 ? escapeClamped(part, room) : '');
  const parts: string[] = [];
  let last = 0;
  let room = max;
  for (const match of text.matchAll(SLACK_TIME)) {
    const before = clamp(text.slice(last, match.index), room);
    parts.push(before);
    room -= before.length;
    if (room < match[0].length) return parts.join('');
    parts.push(match[0]);
    room -= match[0].length;
    last = match.index + match[0].length;
  }
  parts.push(clamp(text.slice(last), room));
  return parts.join('');
}

/**
 * Which iteration of a request's message this is, for its block ids. Slack: "block_id should be
 * unique for each message and each iteration of a message. If a message is updated, use a new
 * block_id." (every block's block_id: https://docs.slack.dev/reference/block-kit/blocks/divider-block,
 * https://docs.slack.dev/tools/node-slack-sdk/reference/types/interfaces/Block). The
 * approval message is updated in place (chat.update) at every step, so its ids end with a digest
 * of the record it shows: a new one whenever the record changed, the same one when a retried
 * step renders the same record again. Buttons are matched by action_id (listeners/actions), never
 * by block_id, so clicks on any iteration still reach their listener.
 */
export function iterationOf(record: RequestRecord): string {
  return createHash('sha256').update(JSON.stringify(record)).digest('hex').slice(0, 8);
}

const STATUS_LINE: Record<RequestRecord['status'], (r: RequestRecord) => string> = {
  PENDING_APPROVAL: (r) =>
    `:hourglass_flowing_sand: Waiting for approval${r.approvals.length ? ` (${r.approvals.length}/${r.approvalsRequired ?? 1}: ${r.approvals.map((a) => a.by).join(', ')})` : ''}`,
  APPROVED: (r) =>
    `:white_check_mark: Approved by ${r.approvals.map((a) => a.by).join(', ') || 'policy (auto-approved)'}${r.request.startAt ? `; access starts ${slackTime(r.request.startAt)}` : ''}`,
  DENIED: (r) =>
    `:no_entry: Denied by ${escapeClamped(r.denial?.by ?? 'an approver', MAX.email)}${r.denial?.reason ? `: ${escapeClamped(r.denial.reason, MAX.decision)}` : ''}`,
  APPROVAL_EXPIRED: () => ':alarm_clock: Expired: nobody decided in time',
  CANCELLED: (r) =>
    `:wastebasket: Cancelled by ${escapeClamped(r.cancellation?.by ?? 'the requester', MAX.email)} (the requester); nothing was granted`,
  REJECTED: (r) => `:x: Rejected: ${escapeClamped(r.failureReason ?? 'not allowed by policy', MAX.failure)}`,
  GRANTING: () => ':gear: Granting access…',
  ACTIVE: (r) =>
    `:unlock: Granted until ${r.expiresAt ? slackTime(r.expiresAt) : '?'}${r.extendedMinutes ? ` (extended by ${formatMinutes(r.extendedMinutes)})` : ''}`,
  REVOKING: () => ':lock: Revoking access…',
  REVOKED: (r) =>
    r.endedBy ? `:lock: Ended early by ${r.endedBy}; access revoked` : ':lock: Expired; access revoked',
  GRANT_FAILED: (r) => `:warning: Failed: ${escapeClamped(r.failureReason ?? 'unknown reason', MAX.failure)}`,
  REVOKE_FAILED: (r) =>
    `:rotating_light: Revoke failed: ${escapeClamped(r.failureReason ?? 'unknown reason', MAX.failure)} (alert raised)`,
};

export function statusLine(record: RequestRecord): string {
  return STATUS_LINE[record.status](record);
}

/**
 * What the request gives access to, escaped: "<permission set> on <account>" (each wrapped in
 * `mark`, e.g. `*` for bold), or "the group <name>" for a group request.
 */
export function accessWhere(record: RequestRecord, mark = ''): string {
  const r = record.request;
  if (r.groupId !== undefined)
    return `the group ${mark}${escapeClamped(record.groupName ?? r.groupId, MAX.name)}${mark}`;
  return `${mark}${escapeClamped(record.permissionSetName ?? r.permissionSetArn ?? '', MAX.name)}${mark} on ${mark}${escapeClamped(
    record.accountName ?? r.accountId ?? '',
    MAX.name,
  )}${mark}`;
}

export function summaryFields(record: RequestRecord, accounts = 1): string {
  const r = record.request;
  const target =
    r.groupId !== undefined
      ? [`*Group:* ${escapeClamped(record.groupName ?? r.groupId, MAX.name)} (membership)`]
      : [
          accounts > 1
            ? `*Accounts:* ${accounts}, each granted and revoked on its own (below)`
            : `*Account:* ${escapeClamped(record.accountName ?? r.accountId ?? '', MAX.name)} (${r.accountId})`,
          `*Permission set:* ${escapeClamped(record.permissionSetName ?? r.permissionSetArn ?? '', MAX.name)}`,
        ];
  const lines = [
    `*Requester:* <@${r.requester.slackUserId}> (${escapeClamped(r.requester.email, MAX.email)})`,
    ...target,
    `*Duration:* ${formatMinutes(r.durationMinutes)}`,
    ...(r.startAt ? [`*Starts:* ${slackTime(r.startAt)} (the window counts from then)`] : []),
    `*Reason:* ${escapeClamped(r.reason, MAX.reason)}`,
  ];
  if (r.ticket) lines.push(`*Ticket:* ${escapeClamped(r.ticket, MAX.ticket)}`);
  return lines.join('\n');
}

/** One account's state in a set's message: short, so twenty of them fit one section. */
const SET_STATUS: Record<RequestRecord['status'], (r: RequestRecord) => string> = {
  PENDING_APPROVAL: () => 'waiting for approval',
  APPROVED: (r) => (r.request.startAt ? `approved; starts ${slackTime(r.request.startAt)}` : 'approved'),
  DENIED: () => 'denied',
  APPROVAL_EXPIRED: () => 'expired: nobody decided in time',
  CANCELLED: () => 'cancelled by the requester',
  REJECTED: (r) => `rejected: ${escapeClamped(r.failureReason ?? 'not allowed by policy', 100)}`,
  GRANTING: () => 'granting…',
  ACTIVE: (r) => `:unlock: granted until ${r.expiresAt ? slackTime(r.expiresAt) : '?'}`,
  REVOKING: () => 'revoking…',
  REVOKED: (r) =>
    r.endedBy ? `:lock: ended early by ${escapeClamped(r.endedBy, 80)}` : ':lock: expired; revoked',
  GRANT_FAILED: (r) => `:warning: failed: ${escapeClamped(r.failureReason ?? 'unknown reason', 100)}`,
  REVOKE_FAILED: () => ':rotating_light: revoke failed (alert raised)',
};

/** Each account of a set with its own state, within one section's 3,000 characters. */
function setLines(members: RequestRecord[], size: number): string {
  const lines: string[] = [];
  // Members whose own Validate has not stored them yet (each re-renders this message once stored).
  const unstored = size - members.length;
  let length = 0;
  for (const [i, m] of members.entries()) {
    const line = `• ${escapeClamped(m.accountName ?? m.request.accountId ?? '', 60)} (${m.request.accountId}) — ${SET_STATUS[m.status](m)}`;
    if (length + line.length > 2800) {
      lines.push(`…and ${members.length - i} more.`);
      break;
    }
    lines.push(line);
    length += line.length + 1;
  }
  if (unstored > 0) lines.push(`• ${unstored} more account${unstored === 1 ? '' : 's'}: being checked…`);
  return lines.join('\n');
}

/** A set's decision as its message says it: waiting (and who approved so far), or how it was decided. */
function setDecisionLine(lead: RequestRecord, members: RequestRecord[]): string {
  const waiting = members.find((m) => m.status === 'PENDING_APPROVAL');
  if (waiting) return statusLine(waiting);
  const approved = members.find((m) => m.approvals.length > 0 && !m.denial);
  if (approved) return `:white_check_mark: Approved by ${approved.approvals.map((a) => a.by).join(', ')}`;
  return statusLine(lead);
}

/**
 * The approval message: lives with the request, re-rendered at every step. For a request of
 * several accounts (core/request-set.ts), `set` holds every member's record (this, the first,
 * among them): one message asks for all and shows each account's own state.
 */
export function approvalMessage(
  record: RequestRecord,
  set?: readonly RequestRecord[],
): { text: string; blocks: KnownBlock[] } {
  const r = record.request;
  // A set's message from its first post on, even while some members are not stored yet.
  const members = set && r.set ? [...set] : undefined;
  const iteration = members
    ? createHash('sha256').update(JSON.stringify(members)).digest('hex').slice(0, 8)
    : iterationOf(record);
  const header = members ? ` for ${r.set?.members.length ?? members.length} accounts` : '';
  const blocks: KnownBlock[] = [
    {
      type: 'section',
      text: {
        type: 'mrkdwn',
        text: `*Access request* \`${r.requestId}\`${header}\n${summaryFields(record, members ? (r.set?.members.length ?? members.length) : 1)}`,
      },
    },
    ...(members
      ? [
          {
            type: 'section' as const,
            text: {
              type: 'mrkdwn' as const,
              text: setLines(members, r.set?.members.length ?? members.length),
            },
          },
        ]
      : []),
    {
      type: 'context',
      elements: [{ type: 'mrkdwn', text: members ? setDecisionLine(record, members) : statusLine(record) }],
    },
  ];
  if (members ? members.some((m) => m.status === 'PENDING_APPROVAL') : record.status === 'PENDING_APPROVAL') {
    blocks.push(
      decisionButtons(
        `decision.${iteration}`,
        r.requestId,
        [ACTION_IDS.approve, 'Approve'],
        [ACTION_IDS.deny, 'Deny'],
      ),
    );
  }
  const pending = record.status === 'ACTIVE' ? pendingExtensionOf(record) : undefined;
  if (pending) {
    blocks.push(
      {
        type: 'section',
        text: { type: 'mrkdwn', text: extensionLine(record, pending) },
      },
      decisionButtons(
        `extension.${iteration}`,
        r.requestId,
        [ACTION_IDS.approveExtension, 'Approve extension'],
        [ACTION_IDS.denyExtension, 'Deny extension'],
      ),
    );
  }
  const text = `Access request ${r.requestId}${header} from ${escapeClamped(r.requester.email, MAX.email)}: ${members ? setDecisionLine(record, members) : statusLine(record)}`;
  return { text, blocks };
}

/**
 * An approve-or-refuse pair of buttons on one request (`value`: its id): the first primary, the
 * second danger. `blockId` changes with each render of a changed record (Slack asks for new ids
 * on an updated message).
 */
export function decisionButtons(
  blockId: string,
  value: string,
  [yesAction, yesText]: [string, string],
  [noAction, noText]: [string, string],
): KnownBlock {
  const button = (actionId: string, text: string, style: 'primary' | 'danger') => ({
    type: 'button' as const,
    action_id: actionId,
    text: { type: 'plain_text' as const, text },
    style,
    value,
  });
  return {
    type: 'actions',
    block_id: blockId,
    elements: [button(yesAction, yesText, 'primary'), button(noAction, noText, 'danger')],
  };
}

/** The pending extension as approvers see it: how much, for what total, under which rule, who approved. */
export function extensionLine(record: RequestRecord, pending: PendingExtension): string {
  const total = formatMinutes(totalWith(record, pending.minutes));
  const rule = pending.ruleName ? ` under rule *${escapeClamped(pending.ruleName, MAX.name)}*` : '';
  const approvals = pending.approvals.length
    ? ` (${pending.approvals.length}/${pending.required}: ${escapeClamped(pending.approvals.map((a) => a.by).join(', '), MAX.email)})`
    : pending.required > 1
      ? ` (${pending.required} approvals needed)`
      : '';
  return `*Extension requested:* ${formatMinutes(pending.minutes)} more, ${total} in total${rule}${approvals}`;
}

/**
 * The controls a requester gets on an active grant. One of several accounts asked together gets
 * them for the whole request (`whole`: its "Access ready" DM); the Home tab acts on one account.
 */
export function grantControls(record: RequestRecord, whole = true): KnownBlock {
  const requestId = record.request.requestId;
  const accounts = whole ? (record.request.set?.members.length ?? 1) : 1;
  const all = accounts > 1;
  return {
    type: 'actions',
    block_id: 'grant',
    elements: [
      {
        type: 'button',
        action_id: all ? ACTION_IDS.endAll : ACTION_IDS.end,
        text: { type: 'plain_text', text: all ? `End all ${accounts} accounts now` : 'End access now' },
        style: 'danger',
        value: requestId,
      },
      // A break-glass use is never extended (core/decisions.ts refuses it too).
      ...(record.breakGlass
        ? []
        : [
            {
              type: 'button' as const,
              action_id: all ? ACTION_IDS.extendAll : ACTION_IDS.extend,
              text: { type: 'plain_text' as const, text: all ? `Extend all ${accounts}` : 'Extend' },
              value: requestId,
            },
          ]),
    ],
  };
}

/**
 * "What was done with this access": the organization trail's query for one ended grant, filled
 * in, with a link to Athena (core/activity-query.ts); none when access never went live or the
 * query would not fit a section.
 */
export function activityBlock(
  record: RequestRecord,
  orgTrail: OrgTrail,
  endedAt: Date,
): KnownBlock | undefined {
  const activity = grantActivity(record, endedAt);
  if (!activity) return undefined;
  const text = `:mag: What was done with it: run this in <${athenaConsoleUrl(orgTrail.region)}|Athena> (organization trail).\n\`\`\`${escapeText(roleSessionSql(orgTrail.table, activity))}\`\`\``;
  return text.length <= 3000 ? { type: 'section', text: { type: 'mrkdwn', text } } : undefined;
}

export interface NoticeLinks {
  /** The AWS access portal (the policy's optional identityCenter.portalUrl). */
  portalUrl?: string;
  /** Identity Center's region (the policy's identityCenter.region): the CLI's sso_region. */
  ssoRegion?: string;
  orgTrail?: OrgTrail;
}

/** A name the AWS CLI's config file takes as a section name: letters, digits, `.`, `_`, `-`. */
const configName = (text: string) =>
  text
    .replace(/[^A-Za-z0-9._-]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 64);

/**
 * The name of the CLI's `sso-session` for this organization: the access portal's subdomain
 * (`example` for https://example.awsapps.com/start; the first label of any other host). It is the
 * same for every grant of the organization, so each "Access ready" DM names the session people
 * already have (one `aws sso login --sso-session example` serves every profile the DMs add, and a
 * pasted block repeats an identical section instead of a rival one), and it is the name people
 * recognise from the portal's address.
 */
export function ssoSessionName(portalUrl: string): string {
  let host = '';
  try {
    host = new URL(portalUrl).hostname;
  } catch {
    // The policy validates the URL; a bad one just gets the generic name.
  }
  return configName(host.split('.')[0]?.toLowerCase() ?? '') || 'aws';
}

/**
 * The access portal's shortcut link to the console, signed in to `accountId` with the role of
 * `permissionSetName`: `<portal>/#/console?account_id=<id>&role_name=<permission set>`
 * (https://docs.aws.amazon.com/singlesignon/latest/userguide/createshortcutlink.html; the role of
 * a permission set is named after it). `&` is written `&amp;` for mrkdwn, which Slack decodes
 * in links.
 */
export function consoleShortcut(portalUrl: string, accountId: string, permissionSetName: string): string {
  const base = portalUrl.replace(/\/+$/, '');
  return `${base}/#/console?account_id=${encodeURIComponent(accountId)}&role_name=${encodeURIComponent(permissionSetName)}`;
}

/**
 * The "Access ready" DM's directions: the console shortcut, `aws sso login` for the session, and
 * a `~/.aws/config` block for this account and role (IAM Identity Center's token provider
 * configuration: https://docs.aws.amazon.com/cli/latest/userguide/cli-configure-sso.html). The
 * profile's default region is Identity Center's own: the app does not know where the account's
 * resources are, and people change it. Without a portal URL (or a permission set name), as
 * before: sign in and pick the role.
 */
function accessDirections(record: RequestRecord, links: NoticeLinks): string {
  const { portalUrl, ssoRegion } = links;
  if (record.request.groupId !== undefined)
    return `You are in the group ${escapeClamped(record.groupName ?? record.request.groupId, MAX.name)} until the access ends: ${portalUrl ? `sign in at ${escapeText(portalUrl)}` : 'sign in to the access portal'} to use what the group gives.`;
  const role = record.permissionSetName;
  const roleText = escapeClamped(role ?? 'granted', MAX.name);
  if (!portalUrl || !role)
    return `${portalUrl ? `Sign in at ${escapeText(portalUrl)} or run \`aws sso login\`` : 'Run `aws sso login`'} and pick the ${roleText} role.`;
  const accountId = record.request.accountId ?? '';
  const shortcut = escapeText(consoleShortcut(portalUrl, accountId, role));
  const lines = [`<${shortcut}|Open the AWS console as ${roleText}> (access portal shortcut).`];
  if (!ssoRegion) return lines.join('\n');
  const session = ssoSessionName(portalUrl);
  const profile = configName(`${session}-${record.accountName ?? accountId}-${role}`);
  const config = [
    `[sso-session ${session}]`,
    `sso_start_url = ${portalUrl}`,
    `sso_region = ${ssoRegion}`,
    'sso_registration_scopes = sso:account:access',
    '',
    `[profile ${profile}]`,
    `sso_session = ${session}`,
    `sso_account_id = ${accountId}`,
    `sso_role_name = ${role}`,
    `region = ${ssoRegion}`,
  ].join('\n');
  const terminal = [
    `From a terminal: \`aws sso login --sso-session ${session}\`, then \`--profile ${profile}\` with this in \`~/.aws/config\`:`,
    `\`\`\`${escapeText(config)}\`\`\``,
  ];
  // The section holds 3,000 characters: a portal address long enough to break that gets the link only.
  const full = [...lines, ...terminal].join('\n');
  return full.length <= MAX.directions ? full : lines.join('\n');
}

/** "<permission set> on <account>", as the requester's DMs name the access. */
function noticeWhere(record: RequestRecord, notice?: RequesterNotice): string {
  const others = (record.request.set?.members.length ?? 1) - 1;
  // The decision on a set is told once, for all its accounts (core/request-set.ts).
  const forTheSet = notice === 'approved' || notice === 'denied' || notice === 'approval-expired';
  return forTheSet && others > 0
    ? `${accessWhere(record)} and ${others} more account${others === 1 ? '' : 's'}`
    : accessWhere(record);
}

export function requesterNotice(
  record: RequestRecord,
  notice: RequesterNotice,
  detail: string | undefined,
  links: NoticeLinks = {},
): { text: string; blocks: KnownBlock[] } {
  const where = noticeWhere(record, notice);
  const until = record.expiresAt ? slackTime(record.expiresAt) : '?';
  const accessReady = `:unlock: Access ready: ${where} until ${until}.`;
  const texts: Record<RequesterNotice, string> = {
    approved: record.request.startAt
      ? `:white_check_mark: Your request for ${where} was approved. Access starts ${slackTime(record.request.startAt)}; you can cancel it from the app's Home tab until then.`
      : `:white_check_mark: Your request for ${where} was approved. Granting access…`,
    denied: `:no_entry: Your request for ${where} was denied${detail ? `: ${escapeClamped(detail, MAX.failure)}` : '.'}`,
    'approval-expired': record.request.startAt
      ? `:alarm_clock: Your request for ${where} expired before anyone decided, so it will not start ${slackTime(record.request.startAt)}. Ask again, or ask an approver to look sooner.`
      : `:alarm_clock: Your request for ${where} expired before anyone decided.`,
    cancelled: `:wastebasket: Your request for ${where} was cancelled; nothing was granted.`,
    rejected: `:x: Your request for ${where} was rejected: ${escapeClamped(detail ?? record.failureReason ?? 'not allowed', MAX.failure)}`,
    granted: `${accessReady}\n${accessDirections(record, links)}`,
    'expiring-soon': `:hourglass: Your access to ${where} ends at ${until} (in about 10 minutes).`,
    extended: `:heavy_plus_sign: Your access to ${where} now lasts until ${until}.`,
    revoked: `:lock: Your access to ${where} has been revoked.`,
    'grant-failed': `:warning: Access to ${where} could not be granted${detail ? `: ${escapeClamped(detail, MAX.failure)}` : '.'}`,
    'revoke-failed': `:rotating_light: Revoking your access to ${where} failed; the platform team was alerted.`,
  };
  const shown = texts[notice];
  const blocks: KnownBlock[] = [{ type: 'section', text: { type: 'mrkdwn', text: shown } }];
  // The notification's text: the directions (a link, a config block) are for the message itself.
  const text = notice === 'granted' ? accessReady : shown;
  // The buttons live in one message: the kept "Access ready" DM (`requesterDm`), re-rendered when
  // the window moves and stripped when it ends; a later notice points to it rather than carrying
  // buttons nobody would take away. Without a kept DM (a grant from before it was kept), the
  // notice carries them as before.
  const later = notice === 'extended' || notice === 'expiring-soon';
  if ((notice === 'granted' || (later && !record.requesterDm)) && record.status === 'ACTIVE') {
    blocks.push(grantControls(record));
  } else if (later && record.status === 'ACTIVE') {
    blocks.push({
      type: 'context',
      elements: [{ type: 'mrkdwn', text: 'End or extend it from your *Access ready* message.' }],
    });
  }
  if (notice === 'revoked' && links.orgTrail) {
    const activity = activityBlock(record, links.orgTrail, new Date(record.updatedAt));
    if (activity) blocks.push(activity);
  }
  return { text, blocks };
}

/**
 * The "Access ready" DM once its access ended, re-rendered in place (`requesterDm`): no End or
 * Extend buttons, and when the access ended (the request's `closedAt`, written by Finish or the
 * reconciler; while it is still being revoked, its last change).
 */
export function accessEndedNotice(record: RequestRecord): { text: string; blocks: KnownBlock[] } {
  const where = noticeWhere(record);
  const when = slackTime(record.closedAt ?? record.updatedAt);
  const by = record.endedBy ? ` (ended early by ${escapeClamped(record.endedBy, MAX.email)})` : '';
  const text =
    record.status === 'REVOKE_FAILED'
      ? `:rotating_light: Your access window for ${where} ended at ${when}, but revoking the access failed; the platform team was alerted.`
      : `:lock: Your access to ${where} ended at ${when}${by}. It can no longer be ended or extended.`;
  return { text, blocks: [{ type: 'section', text: { type: 'mrkdwn', text } }] };
}

/**
 * The kept "Access ready" DM as the record stands: ready while ACTIVE (until the window's current
 * end, with its buttons), ended once the access is no longer active.
 */
export function requesterDmMessage(
  record: RequestRecord,
  links: NoticeLinks = {},
): { text: string; blocks: KnownBlock[] } {
  return record.status === 'ACTIVE'
    ? requesterNotice(record, 'granted', undefined, links)
    : accessEndedNotice(record);
}

/** The reminder to approvers of a request still waiting (a thread reply and DMs): text only, the buttons stay on the request's message. */
export function approvalReminder(record: RequestRecord): { text: string } {
  const r = record.request;
  return {
    text: `:bell: Reminder: <@${r.requester.slackUserId}>'s request \`${r.requestId}\` for ${accessWhere(record)} is still waiting for approval.`,
  };
}
