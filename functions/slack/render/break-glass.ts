import type { KnownBlock } from '@slack/web-api';
import { VERDICT_TEXT } from '../../core/break-glass';
import type { RequestRecord } from '../../core/model';
import {
  decisionButtons,
  escapeClamped,
  iterationOf,
  slackTime,
  statusLine,
  summaryFields,
} from './messages';

// Block Kit for a break-glass use: the alert in the security channel (and the reviewers' DMs),
// re-rendered from the record when it is reviewed or escalates. Buttons carry only the request id.

export const BREAK_GLASS_ACTIONS = {
  justified: 'breakglass_justified',
  flagged: 'breakglass_flagged',
} as const;

function reviewLine(record: RequestRecord): string {
  const state = record.breakGlass;
  if (!state) return '';
  if (state.review)
    return `:white_check_mark: Reviewed by ${escapeClamped(state.review.by, 300)}: *${VERDICT_TEXT[state.review.verdict]}*${state.review.reason ? ` (${escapeClamped(state.review.reason, 500)})` : ''}`;
  if (state.escalatedAt)
    return `:rotating_light: *Unreviewed past ${slackTime(state.reviewDueAt)}: escalated*`;
  return `:eyes: Review due by ${slackTime(state.reviewDueAt)}`;
}

/** The alert: who broke the glass, on what, why; its review state; the review buttons until marked. */
export function breakGlassMessage(record: RequestRecord): { text: string; blocks: KnownBlock[] } {
  const r = record.request;
  const blocks: KnownBlock[] = [
    {
      type: 'section',
      text: {
        type: 'mrkdwn',
        text: `:rotating_light: *Break-glass access* \`${r.requestId}\` (rule ${escapeClamped(record.ruleName ?? '?', 80)}): granted without approval\n${summaryFields(record)}`,
      },
    },
    {
      type: 'context',
      elements: [{ type: 'mrkdwn', text: `${statusLine(record)} · ${reviewLine(record)}` }],
    },
  ];
  if (record.breakGlass && !record.breakGlass.review)
    blocks.push(
      decisionButtons(
        `breakglass_review.${iterationOf(record)}`,
        r.requestId,
        [BREAK_GLASS_ACTIONS.justified, 'Justified'],
        [BREAK_GLASS_ACTIONS.flagged, 'Flag for follow-up'],
      ),
    );
  return {
    text: `Break-glass access by ${r.requester.email} on ${record.accountName ?? r.accountId}`,
    blocks,
  };
}

/** The escalation: a channel-wide mention in the alert's thread (the one mention this product sends). */
export function breakGlassEscalation(record: RequestRecord): { text: string } {
  const r = record.request;
  return {
    text: `<!channel> Break-glass use \`${r.requestId}\` by ${escapeClamped(r.requester.email, 300)} on ${escapeClamped(record.accountName ?? r.accountId ?? '', 120)} is still unreviewed (due ${record.breakGlass ? slackTime(record.breakGlass.reviewDueAt) : '?'}): a reviewer must mark it.`,
  };
}
