import type { HomeView, KnownBlock } from '@slack/web-api';
import type { OrgTrail } from '../../core/activity-query';
import { isCancellable } from '../../core/authority';
import { formatMinutes } from '../../core/duration';
import { pendingExtensionOf } from '../../core/extensions';
import type { RequestRecord } from '../../core/model';
import { BREAK_GLASS_ACTIONS } from './break-glass';
import {
  ACTION_IDS,
  accessWhere,
  activityBlock,
  escapeClamped,
  escapeKeepingTimes,
  slackTime,
  statusLine,
} from './messages';

// The Home tab: my active grants (time left, End / Extend), my pending requests (Cancel), and what waits
// for my approval. Each list is capped so the tab stays under Slack's 100 blocks, and people's
// text in each section is clamped after escaping (a reason of 1,000 "&" is 5,000 characters
// escaped), so no section passes Block Kit's 3,000 characters
// (https://docs.slack.dev/reference/block-kit/blocks/section-block: text "maximum length is 3000
// characters"), which would fail the whole views.publish.

export const HOME_LIST_LIMIT = 10;

export interface HomeInput {
  notice?: string | undefined;
  active: RequestRecord[];
  pending: RequestRecord[];
  toApprove: RequestRecord[];
  extensionsToApprove: RequestRecord[];
  /** Break-glass uses this person may review, not reviewed yet. */
  reviewsToDo?: RequestRecord[];
  /** My ended grants, with the organization trail to query what was done with each (when configured). */
  ended?: RequestRecord[];
  orgTrail?: OrgTrail;
  now: Date;
}

/** Ended grants listed with their trail query: each is a long section, so only the latest few. */
export const HOME_ENDED_LIMIT = 3;

/** Per piece of text in one section: the sums (with the fixed words around them) stay under 3,000. */
const MAX = { name: 120, reason: 1200, ticket: 200, notice: 2000 } as const;

const plain = (text: string) => ({ type: 'plain_text' as const, text, emoji: true });
const mrkdwn = (text: string): KnownBlock => ({ type: 'section', text: { type: 'mrkdwn', text } });

function where(record: RequestRecord): string {
  const set = record.request.set;
  return `${accessWhere(record, '*')}${set ? ` (${set.members.indexOf(record.request.requestId) + 1} of ${set.members.length} accounts asked together)` : ''}`;
}

/** A request of several accounts is decided once for all of them: listed once, by its first member still waiting. */
function oncePerSet(records: RequestRecord[]): RequestRecord[] {
  const seen = new Set<string>();
  return records.filter((r) => {
    const key = r.request.set?.id ?? r.request.requestId;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** What an approver is asked for: the account, or every account of a set ("and N more"). */
function askedFor(record: RequestRecord): string {
  const set = record.request.set;
  return set
    ? `${accessWhere(record, '*')} and ${set.members.length - 1} more account${set.members.length > 2 ? 's' : ''} (decided together)`
    : where(record);
}

/** " (ticket INC-42)" when the request carries one: approvers weigh it with the reason. */
function ticketOf(record: RequestRecord): string {
  return record.request.ticket ? ` (ticket ${escapeClamped(record.request.ticket, MAX.ticket)})` : '';
}

export function timeLeft(expiresAt: string | undefined, now: Date): string {
  if (!expiresAt) return 'time left unknown';
  const minutes = Math.ceil((new Date(expiresAt).getTime() - now.getTime()) / 60_000);
  return minutes > 0 ? `${formatMinutes(minutes)} left (until ${slackTime(expiresAt)})` : 'ending now';
}

function buttons(
  blockId: string,
  requestId: string,
  items: Array<{ id: string; text: string; style?: 'primary' | 'danger' }>,
): KnownBlock {
  return {
    type: 'actions',
    block_id: blockId,
    elements: items.map((item) => ({
      type: 'button' as const,
      action_id: item.id,
      text: plain(item.text),
      value: requestId,
      ...(item.style ? { style: item.style } : {}),
    })),
  };
}

function section(
  title: string,
  records: RequestRecord[],
  empty: string,
  render: (r: RequestRecord) => KnownBlock[],
) {
  const blocks: KnownBlock[] = [{ type: 'header', text: plain(title) }];
  if (records.length === 0) blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: empty }] });
  for (const record of records.slice(0, HOME_LIST_LIMIT)) blocks.push(...render(record));
  if (records.length > HOME_LIST_LIMIT)
    blocks.push({
      type: 'context',
      elements: [{ type: 'mrkdwn', text: `…and ${records.length - HOME_LIST_LIMIT} more.` }],
    });
  return blocks;
}

/** ", starts <time>" for a scheduled request (the reader's own time zone). */
const startsAt = (r: RequestRecord) => (r.request.startAt ? `, starts ${slackTime(r.request.startAt)}` : '');

export function homeView(input: HomeInput): HomeView {
  const blocks: KnownBlock[] = [
    { type: 'header', text: plain('Just-in-time AWS access') },
    {
      type: 'actions',
      block_id: 'home_request',
      elements: [
        { type: 'button', action_id: ACTION_IDS.openForm, text: plain('Request access'), style: 'primary' },
      ],
    },
  ];
  if (input.notice)
    blocks.push(mrkdwn(`:information_source: ${escapeKeepingTimes(input.notice, MAX.notice)}`));
  blocks.push(
    ...section('Your active access', input.active, 'Nothing active.', (r) => [
      mrkdwn(`${where(r)} — ${timeLeft(r.expiresAt, input.now)}`),
      buttons(`grant:${r.request.requestId}`, r.request.requestId, [
        { id: ACTION_IDS.end, text: 'End access now', style: 'danger' },
        // A break-glass use is never extended.
        ...(r.breakGlass ? [] : [{ id: ACTION_IDS.extend, text: 'Extend' }]),
      ]),
    ]),
    ...section('Your pending requests', input.pending, 'No pending requests.', (r) => [
      mrkdwn(
        `${where(r)} for ${formatMinutes(r.request.durationMinutes)}${startsAt(r)}${ticketOf(r)} — ${statusLine(r)}`,
      ),
      // Withdrawn while nobody has decided, or approved and waiting for its start (the core
      // refuses it once granting began).
      ...(isCancellable(r)
        ? [
            buttons(`cancel:${r.request.requestId}`, r.request.requestId, [
              { id: ACTION_IDS.cancel, text: 'Cancel request', style: 'danger' },
            ]),
          ]
        : []),
    ]),
    ...section('Waiting for your approval', oncePerSet(input.toApprove), 'Nothing to approve.', (r) => [
      mrkdwn(
        `<@${r.request.requester.slackUserId}> asks for ${askedFor(r)} for ${formatMinutes(
          r.request.durationMinutes,
        )}${startsAt(r)}: ${escapeClamped(r.request.reason, MAX.reason)}${ticketOf(r)}`,
      ),
      buttons(`decide:${r.request.requestId}`, r.request.requestId, [
        { id: ACTION_IDS.approve, text: 'Approve', style: 'primary' },
        { id: ACTION_IDS.deny, text: 'Deny', style: 'danger' },
      ]),
    ]),
  );
  if (input.reviewsToDo?.length)
    blocks.push(
      ...section('Break-glass uses to review', input.reviewsToDo, '', (r) => [
        mrkdwn(
          `:rotating_light: <@${r.request.requester.slackUserId}> broke the glass for ${where(r)} (${formatMinutes(
            r.request.durationMinutes,
          )}): ${escapeClamped(r.request.reason, MAX.reason)}${ticketOf(r)}${r.breakGlass?.escalatedAt ? ' — *overdue, escalated*' : ''}`,
        ),
        buttons(`review:${r.request.requestId}`, r.request.requestId, [
          { id: BREAK_GLASS_ACTIONS.justified, text: 'Justified', style: 'primary' },
          { id: BREAK_GLASS_ACTIONS.flagged, text: 'Flag for follow-up', style: 'danger' },
        ]),
      ]),
    );
  if (input.extensionsToApprove.length > 0)
    blocks.push(
      ...section('Extensions waiting for your approval', input.extensionsToApprove, '', (r) => [
        mrkdwn(
          `<@${r.request.requester.slackUserId}> asks for ${formatMinutes(pendingExtensionOf(r)?.minutes ?? 0)} more of ${where(r)}`,
        ),
        buttons(`extension:${r.request.requestId}`, r.request.requestId, [
          { id: ACTION_IDS.approveExtension, text: 'Approve extension', style: 'primary' },
          { id: ACTION_IDS.denyExtension, text: 'Deny extension', style: 'danger' },
        ]),
      ]),
    );
  const { orgTrail } = input;
  const ended = [...(input.ended ?? [])]
    .sort((a, b) => b.updatedAt.localeCompare(a.updatedAt))
    .slice(0, HOME_ENDED_LIMIT);
  if (orgTrail && ended.length > 0) {
    blocks.push({ type: 'header', text: plain('Recently ended') });
    for (const r of ended) {
      blocks.push(mrkdwn(`${where(r)} — ended ${slackTime(r.updatedAt)}`));
      const activity = activityBlock(r, orgTrail, new Date(r.updatedAt));
      if (activity) blocks.push(activity);
    }
  }
  return { type: 'home', blocks };
}
