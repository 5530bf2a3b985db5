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
  end: 'end_access',
  extend: 'extend_access',
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
const MAX = { reason: 1200, ticket: 200, email: 300, name: 120, decision: 500, failure: 600 } as const;

export function utcTime(iso: string): string {
  const date = new Date(iso);
  return `${date.toISOString().slice(11, 16)} UTC`;
}

const STATUS_LINE: Record<RequestRecord['status'], (r: RequestRecord) => string> = {
  PENDING_APPROVAL: (r) =>
    `:hourglass_flowing_sand: Waiting for approval${r.approvals.length ? ` (${r.approvals.length}/${r.approvalsRequired ?? 1}: ${r.approvals.map((a) => a.by).join(', ')})` : ''}`,
  APPROVED: (r) =>
    `:white_check_mark: Approved by ${r.approvals.map((a) => a.by).join(', ') || 'policy (auto-approved)'}`,
  DENIED: (r) =>
    `:no_entry: Denied by ${escapeClamped(r.denial?.by ?? 'an approver', MAX.email)}${r.denial?.reason ? `: ${escapeClamped(r.denial.reason, MAX.decision)}` : ''}`,
  APPROVAL_EXPIRED: () => ':alarm_clock: Expired: nobody decided in time',
  REJECTED: (r) => `:x: Rejected: ${escapeClamped(r.failureReason ?? 'not allowed by policy', MAX.failure)}`,
  GRANTING: () => ':gear: Granting access…',
  ACTIVE: (r) =>
    `:unlock: Granted until ${r.expiresAt ? utcTime(r.expiresAt) : '?'}${r.extendedMinutes ? ` (extended by ${formatMinutes(r.extendedMinutes)})` : ''}`,
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

export function summaryFields(record: RequestRecord): string {
  const r = record.request;
  const lines = [
    `*Requester:* <@${r.requester.slackUserId}> (${escapeClamped(r.requester.email, MAX.email)})`,
    `*Account:* ${escapeClamped(record.accountName ?? r.accountId, MAX.name)} (${r.accountId})`,
    `*Permission set:* ${escapeClamped(record.permissionSetName ?? r.permissionSetArn, MAX.name)}`,
    `*Duration:* ${formatMinutes(r.durationMinutes)}`,
    `*Reason:* ${escapeClamped(r.reason, MAX.reason)}`,
  ];
  if (r.ticket) lines.push(`*Ticket:* ${escapeClamped(r.ticket, MAX.ticket)}`);
  return lines.join('\n');
}

/** The approval message: lives with the request, re-rendered at every step. */
export function approvalMessage(record: RequestRecord): { text: string; blocks: KnownBlock[] } {
  const r = record.request;
  const blocks: KnownBlock[] = [
    {
      type: 'section',
      text: { type: 'mrkdwn', text: `*Access request* \`${r.requestId}\`\n${summaryFields(record)}` },
    },
    { type: 'context', elements: [{ type: 'mrkdwn', text: statusLine(record) }] },
  ];
  if (record.status === 'PENDING_APPROVAL') {
    blocks.push({
      type: 'actions',
      block_id: 'decision',
      elements: [
        {
          type: 'button',
          action_id: ACTION_IDS.approve,
          text: { type: 'plain_text', text: 'Approve' },
          style: 'primary',
          value: r.requestId,
        },
        {
          type: 'button',
          action_id: ACTION_IDS.deny,
          text: { type: 'plain_text', text: 'Deny' },
          style: 'danger',
          value: r.requestId,
        },
      ],
    });
  }
  const pending = record.status === 'ACTIVE' ? pendingExtensionOf(record) : undefined;
  if (pending) {
    blocks.push(
      {
        type: 'section',
        text: { type: 'mrkdwn', text: extensionLine(record, pending) },
      },
      {
        type: 'actions',
        block_id: 'extension',
        elements: [
          {
            type: 'button',
            action_id: ACTION_IDS.approveExtension,
            text: { type: 'plain_text', text: 'Approve extension' },
            style: 'primary',
            value: r.requestId,
          },
          {
            type: 'button',
            action_id: ACTION_IDS.denyExtension,
            text: { type: 'plain_text', text: 'Deny extension' },
            style: 'danger',
            value: r.requestId,
          },
        ],
      },
    );
  }
  const text = `Access request ${r.requestId} from ${escapeClamped(r.requester.email, MAX.email)}: ${statusLine(record)}`;
  return { text, blocks };
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

/** The controls a requester gets on an active grant. */
export function grantControls(record: RequestRecord): KnownBlock {
  const requestId = record.request.requestId;
  return {
    type: 'actions',
    block_id: 'grant',
    elements: [
      {
        type: 'button',
        action_id: ACTION_IDS.end,
        text: { type: 'plain_text', text: 'End access now' },
        style: 'danger',
        value: requestId,
      },
      {
        type: 'button',
        action_id: ACTION_IDS.extend,
        text: { type: 'plain_text', text: 'Extend' },
        value: requestId,
      },
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
  portalUrl?: string;
  orgTrail?: OrgTrail;
}

export function requesterNotice(
  record: RequestRecord,
  notice: RequesterNotice,
  detail: string | undefined,
  links: NoticeLinks = {},
): { text: string; blocks: KnownBlock[] } {
  const { portalUrl } = links;
  const where = `${escapeClamped(record.permissionSetName ?? record.request.permissionSetArn, MAX.name)} on ${escapeClamped(record.accountName ?? record.request.accountId, MAX.name)}`;
  const texts: Record<RequesterNotice, string> = {
    approved: `:white_check_mark: Your request for ${where} was approved. Granting access…`,
    denied: `:no_entry: Your request for ${where} was denied${detail ? `: ${escapeClamped(detail, MAX.failure)}` : '.'}`,
    'approval-expired': `:alarm_clock: Your request for ${where} expired before anyone decided.`,
    rejected: `:x: Your request for ${where} was rejected: ${escapeClamped(detail ?? record.failureReason ?? 'not allowed', MAX.failure)}`,
    granted: `:unlock: Access ready: ${where} until ${record.expiresAt ? utcTime(record.expiresAt) : '?'}.\n${
      portalUrl ? `Sign in at ${portalUrl} or run \`aws sso login\`` : 'Run `aws sso login`'
    } and pick the ${escapeClamped(record.permissionSetName ?? 'granted', MAX.name)} role.`,
    'expiring-soon': `:hourglass: Your access to ${where} ends at ${record.expiresAt ? utcTime(record.expiresAt) : '?'} (in about 10 minutes).`,
    extended: `:heavy_plus_sign: Your access to ${where} now lasts until ${record.expiresAt ? utcTime(record.expiresAt) : '?'}.`,
    revoked: `:lock: Your access to ${where} has been revoked.`,
    'grant-failed': `:warning: Access to ${where} could not be granted${detail ? `: ${escapeClamped(detail, MAX.failure)}` : '.'}`,
    'revoke-failed': `:rotating_light: Revoking your access to ${where} failed; the platform team was alerted.`,
  };
  const text = texts[notice];
  const blocks: KnownBlock[] = [{ type: 'section', text: { type: 'mrkdwn', text } }];
  if (
    (notice === 'granted' || notice === 'extended' || notice === 'expiring-soon') &&
    record.status === 'ACTIVE'
  ) {
    blocks.push(grantControls(record));
  }
  if (notice === 'revoked' && links.orgTrail) {
    const activity = activityBlock(record, links.orgTrail, new Date(record.updatedAt));
    if (activity) blocks.push(activity);
  }
  return { text, blocks };
}
