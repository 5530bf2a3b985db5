import type { KnownBlock, ModalView, PlainTextOption } from '@slack/web-api';
import { formatMinutes } from '../../core/duration';
import type { RequestRecord } from '../../core/model';
import {
  type AccessGroup,
  type Account,
  GROUP_CHOICE_PREFIX,
  groupChoice,
  type PermissionSet,
} from '../../core/policy';
import { MAX_REASON_LENGTH, MAX_TICKET_LENGTH } from '../../core/request-form';
import { exposureText, type SessionExposure } from '../../core/session-exposure';
import type { TicketPrompt } from '../../core/ticket';
import {
  BREAK_GLASS_CHOSEN,
  CALLBACK_IDS,
  DENY_FIELDS,
  EXTEND_FIELDS,
  FORM_EXPOSURE_BLOCK,
  FORM_FIELDS,
} from './ids';
import { accessWhere, slackTime, summaryFields } from './messages';

// Modals: the request form, the deny reason, the extension. Pure functions of their inputs.

const plain = (text: string) => ({ type: 'plain_text' as const, text, emoji: true });
const truncate = (text: string, max: number) => (text.length > max ? `${text.slice(0, max - 1)}…` : text);

export function option(text: string, value: string): PlainTextOption {
  return { text: plain(truncate(text, 75)), value: value.slice(0, 150) };
}

export const accountOption = (account: Account) => option(`${account.name} (${account.id})`, account.id);
export const permissionSetOption = (ps: PermissionSet) =>
  option(ps.description ? `${ps.name} — ${ps.description}` : ps.name, ps.name);
/** A group in the account menu (core/policy.ts GROUP_CHOICE_PREFIX): picking it asks no permission set. */
export const groupOption = (group: AccessGroup) =>
  option(
    `Group: ${group.name}${group.description ? ` — ${group.description}` : ''}`,
    `${GROUP_CHOICE_PREFIX}${group.id}`,
  );
export const durationOption = (minutes: number) => option(formatMinutes(minutes), String(minutes));

export interface RequestFormState {
  account?: PlainTextOption | undefined;
  permissionSet?: PlainTextOption | undefined;
  durationMinutes?: number | undefined;
  /** What the rules that could decide ask of the ticket reference (core/ticket.ts); undefined: nothing. */
  ticket?: TicketPrompt | undefined;
  /** Offer the break-glass choice (the person is a requester of a break-glass rule). */
  breakGlass?: boolean | undefined;
  /** Offer a later start, up to this many days ahead (a rule of the person's allows one: core/scheduled-start.ts). */
  startDaysAhead?: number | undefined;
  /**
   * How the picked permission set's sessions end (core/session-exposure.ts), once the account and
   * permission set are picked: a line under the duration; undefined, no line.
   */
  exposure?: { permissionSetName: string; sessions: SessionExposure } | undefined;
  /** The person may also ask to join groups: the account menu offers them (group access). */
  groups?: boolean | undefined;
  /** How many further accounts the person may add for the same permission set (0 or absent: no menu). */
  moreAccounts?: number | undefined;
}

/** The duration the form shows: the one picked when still offered, else 1 hour or the next longer, else the shortest. */
export function shownDuration(durations: number[], picked: number | undefined): number | undefined {
  return durations.find((m) => m === picked) ?? durations.find((m) => m >= 60) ?? durations[0];
}

/** The ticket input's hint: whether the rules ask for one, and in what form. */
function ticketHint(prompt: TicketPrompt | undefined): string | undefined {
  if (!prompt) return undefined;
  const needed = {
    always: 'Required for this access.',
    sometimes: 'Required for some of the access you can ask for.',
    never: '',
  }[prompt.required];
  const like = prompt.hints.length ? `Like ${prompt.hints.join(', or ')}.` : '';
  return truncate([needed, like].filter(Boolean).join(' '), 2000) || undefined;
}

/** The request form. Accounts and permission sets load as the person types (external selects: no 100-option limit). */
export function requestFormModal(
  durations: number[],
  metadata: string,
  state: RequestFormState = {},
): ModalView {
  const initialDuration = shownDuration(durations, state.durationMinutes);
  const hint = ticketHint(state.ticket);
  const exposure =
    state.exposure && initialDuration
      ? exposureText(initialDuration, state.exposure.permissionSetName, state.exposure.sessions)
      : undefined;
  const groupPicked = groupChoice(state.account?.value) !== undefined;
  const blocks: KnownBlock[] = [
    {
      type: 'input',
      block_id: FORM_FIELDS.account,
      dispatch_action: true,
      label: plain(state.groups ? 'AWS account or group' : 'AWS account'),
      element: {
        type: 'external_select',
        action_id: FORM_FIELDS.account,
        placeholder: plain(state.groups ? 'Type to search accounts and groups' : 'Type to search accounts'),
        min_query_length: 0,
        ...(state.account ? { initial_option: state.account } : {}),
      },
    },
    {
      type: 'input',
      block_id: FORM_FIELDS.permissionSet,
      dispatch_action: true,
      label: plain('Permission set'),
      // With groups offered, a group may be picked before the form updates: the submission
      // asks for a permission set when an account was picked (core/request-form.ts).
      ...(state.groups ? { optional: true } : {}),
      element: {
        type: 'external_select',
        action_id: FORM_FIELDS.permissionSet,
        placeholder: plain('Type to search permission sets'),
        min_query_length: 0,
        ...(state.permissionSet ? { initial_option: state.permissionSet } : {}),
      },
    },
    ...(state.moreAccounts ? [moreAccountsInput(state.moreAccounts)] : []),
    {
      type: 'input',
      block_id: FORM_FIELDS.duration,
      // A new duration changes the exposure line: the app updates the form (views.update).
      dispatch_action: true,
      label: plain('Duration'),
      hint: plain(`At most ${formatMinutes(Math.max(...durations, 0))} for what you picked.`),
      element: {
        type: 'static_select',
        action_id: FORM_FIELDS.duration,
        options: durations.map(durationOption),
        ...(initialDuration ? { initial_option: durationOption(initialDuration) } : {}),
      },
    },
    ...(exposure
      ? [
          {
            type: 'context' as const,
            block_id: FORM_EXPOSURE_BLOCK,
            // Plain text: a permission set name's _ or * is not mrkdwn.
            elements: [plain(exposure)],
          },
        ]
      : []),
    {
      type: 'input',
      block_id: FORM_FIELDS.reason,
      label: plain('Reason'),
      element: {
        type: 'plain_text_input',
        action_id: FORM_FIELDS.reason,
        multiline: true,
        max_length: MAX_REASON_LENGTH,
        placeholder: plain('What will you do with this access?'),
      },
    },
    {
      type: 'input',
      block_id: FORM_FIELDS.ticket,
      // Required to Slack only when every rule that could decide asks for one; otherwise the
      // deciding rule (known once the duration is picked too) is asked at submission.
      optional: state.ticket?.required !== 'always',
      label: plain('Ticket reference'),
      ...(hint ? { hint: plain(hint) } : {}),
      element: {
        type: 'plain_text_input',
        action_id: FORM_FIELDS.ticket,
        max_length: MAX_TICKET_LENGTH,
        placeholder: plain('e.g. INC-1234'),
      },
    },
    ...(state.startDaysAhead ? [startInput(state.startDaysAhead)] : []),
    ...(state.breakGlass ? [breakGlassInput()] : []),
    {
      type: 'context',
      elements: [
        {
          type: 'mrkdwn',
          text: 'Access is granted in IAM Identity Center once approved and removed automatically when the time is up.',
        },
      ],
    },
  ];
  return {
    type: 'modal',
    callback_id: CALLBACK_IDS.requestForm,
    title: plain('Request AWS access'),
    submit: plain('Request'),
    close: plain('Cancel'),
    private_metadata: metadata,
    // A group picked: there is no permission set to ask for, and a group is asked for alone.
    blocks: groupPicked
      ? blocks.filter(
          (b) => b.block_id !== FORM_FIELDS.permissionSet && b.block_id !== FORM_FIELDS.moreAccounts,
        )
      : blocks,
  };
}

/**
 * Further accounts for the same permission set, loaded as the person types (a multi-select with
 * external options: https://docs.slack.dev/reference/block-kit/block-elements/multi-select-menu-element#external_multi_select),
 * at most `max` (Slack's `max_selected_items`; the submission and Validate check each rule's own limit).
 */
function moreAccountsInput(max: number): KnownBlock {
  return {
    type: 'input',
    block_id: FORM_FIELDS.moreAccounts,
    optional: true,
    label: plain('More accounts'),
    hint: plain(
      `Up to ${max} more, with the same permission set: one request, approved once, each account granted and revoked on its own.`,
    ),
    element: {
      type: 'multi_external_select',
      action_id: FORM_FIELDS.moreAccounts,
      placeholder: plain('Type to search accounts'),
      min_query_length: 0,
      max_selected_items: max,
    },
  };
}

/**
 * A later start: Slack's date-time picker shows and answers in the person's own time zone
 * (`selected_date_time` is Unix seconds), so "tomorrow 09:00" means their 09:00.
 */
function startInput(daysAhead: number): KnownBlock {
  return {
    type: 'input',
    block_id: FORM_FIELDS.start,
    optional: true,
    label: plain('Start later'),
    hint: plain(
      `Leave empty to begin as soon as approved. Up to ${daysAhead} day${daysAhead === 1 ? '' : 's'} ahead where the rule allows it; approval is asked now.`,
    ),
    element: { type: 'datetimepicker', action_id: FORM_FIELDS.start },
  };
}

/** The break-glass choice: unchecked, an ordinary request; checked, only break-glass rules decide it. */
function breakGlassInput(): KnownBlock {
  return {
    type: 'input',
    block_id: FORM_FIELDS.breakGlass,
    optional: true,
    label: plain('Emergency'),
    element: {
      type: 'checkboxes',
      action_id: FORM_FIELDS.breakGlass,
      options: [
        {
          text: plain('Break glass: grant now, without approval'),
          description: plain('Only for an emergency. Security is alerted and reviews it afterwards.'),
          value: BREAK_GLASS_CHOSEN,
        },
      ],
    },
  };
}

/** A closing modal with one message (shown after a submission, or when there is nothing to ask). */
export function noticeModal(title: string, text: string): ModalView {
  return {
    type: 'modal',
    title: plain(truncate(title, 24)),
    close: plain('Close'),
    blocks: [{ type: 'section', text: { type: 'mrkdwn', text } }],
  };
}

export function submittedModal(requestId: string, summary: string, approvalRequired: boolean): ModalView {
  return noticeModal(
    'Request sent',
    `${summary}\n\nRequest \`${requestId}\` ${
      approvalRequired
        ? 'is waiting for an approver. I will message you when it is decided.'
        : 'needs no approval: I will message you when the access is ready.'
    }`,
  );
}

export function denyReasonModal(
  record: RequestRecord,
  metadata: string,
  kind: 'request' | 'extension',
): ModalView {
  return {
    type: 'modal',
    callback_id: CALLBACK_IDS.denyReason,
    title: plain(kind === 'request' ? 'Deny request' : 'Deny extension'),
    submit: plain('Deny'),
    close: plain('Cancel'),
    private_metadata: metadata,
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text: summaryFields(record) } },
      {
        type: 'input',
        block_id: DENY_FIELDS.reason,
        label: plain('Why are you denying it?'),
        element: {
          type: 'plain_text_input',
          action_id: DENY_FIELDS.reason,
          multiline: true,
          max_length: 500,
        },
      },
    ],
  };
}

export function extendModal(
  record: RequestRecord,
  choices: number[],
  metadata: string,
  whole = false,
): ModalView {
  const accounts = record.request.set?.members.length ?? 1;
  const where =
    whole && accounts > 1
      ? `Every account of this request (${accounts}), each under its own rule: ${accessWhere(record)}`
      : accessWhere(record);
  return {
    type: 'modal',
    callback_id: CALLBACK_IDS.extend,
    title: plain('Extend access'),
    submit: plain('Extend'),
    close: plain('Cancel'),
    private_metadata: metadata,
    blocks: [
      {
        type: 'section',
        text: {
          type: 'mrkdwn',
          text: `${where} until ${record.expiresAt ? slackTime(record.expiresAt) : '?'}. How much longer do you need?`,
        },
      },
      {
        type: 'input',
        block_id: EXTEND_FIELDS.minutes,
        label: plain('Extra time'),
        element: {
          type: 'static_select',
          action_id: EXTEND_FIELDS.minutes,
          options: choices.map(durationOption),
          ...(choices[0] ? { initial_option: durationOption(choices[0]) } : {}),
        },
      },
    ],
  };
}
