import { createHmac, randomBytes } from 'node:crypto';

// The HTTP requests Slack sends to an app's request URL, built as Slack builds them: slash
// commands (form body), interactivity (form body with one `payload` JSON field: block_actions,
// view_submission, view_closed, block_suggestion) and the Events API (JSON event_callback), each
// signed with the v0 scheme (HMAC-SHA256 of `v0:<timestamp>:<raw body>`).

export interface SlackTeam {
  teamId: string;
  teamDomain: string;
  appId: string;
  botUserId: string;
  /** The deprecated verification token Slack still sends in payloads (Bolt ignores it). */
  verificationToken: string;
}

export interface SlackActor {
  slackUserId: string;
  name: string;
}

export interface SignedRequest {
  body: string;
  headers: Record<string, string>;
}

export interface SignOptions {
  /** Seconds since the epoch; default now. */
  timestamp?: number;
  /** Replaces the computed signature (forged-request tests). */
  signature?: string;
}

/**
 * `v0=` + hex HMAC-SHA256(secret, `v0:{timestamp}:{body}`): the one signer of Slack requests for
 * the sandbox, the benchmarks and the tests.
 */
export function slackSignature(signingSecret: string, timestamp: number, body: string): string {
  return `v0=${createHmac('sha256', signingSecret).update(`v0:${timestamp}:${body}`).digest('hex')}`;
}

export function signRequest(
  signingSecret: string,
  body: string,
  contentType: string,
  options: SignOptions = {},
): SignedRequest {
  const timestamp = options.timestamp ?? Math.floor(Date.now() / 1000);
  return {
    body,
    headers: {
      'content-type': contentType,
      'x-slack-request-timestamp': String(timestamp),
      'x-slack-signature': options.signature ?? slackSignature(signingSecret, timestamp, body),
      'user-agent': 'Slackbot 1.0 (+https://api.slack.com/robots)',
    },
  };
}

export const FORM = 'application/x-www-form-urlencoded';
export const JSON_TYPE = 'application/json';

const user = (team: SlackTeam, actor: SlackActor) => ({
  id: actor.slackUserId,
  username: actor.name,
  name: actor.name,
  team_id: team.teamId,
});
const teamRef = (team: SlackTeam) => ({ id: team.teamId, domain: team.teamDomain });
const actionTs = () => (Date.now() / 1000).toFixed(6);

export interface SlashCommandInput {
  command: string;
  text: string;
  channelId: string;
  channelName: string;
  triggerId: string;
  responseUrl: string;
}

/** The form body of a slash command invocation. */
export function slashCommandBody(team: SlackTeam, actor: SlackActor, input: SlashCommandInput): string {
  return new URLSearchParams({
    token: team.verificationToken,
    team_id: team.teamId,
    team_domain: team.teamDomain,
    channel_id: input.channelId,
    channel_name: input.channelName,
    user_id: actor.slackUserId,
    user_name: actor.name,
    command: input.command,
    text: input.text,
    api_app_id: team.appId,
    is_enterprise_install: 'false',
    response_url: input.responseUrl,
    trigger_id: input.triggerId,
  }).toString();
}

/** Interactivity requests carry their JSON in one form field. */
export function interactionBody(payload: object): string {
  return new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
}

// ---- views -----------------------------------------------------------------------------------

type Json = Record<string, unknown>;

export interface ViewRef {
  id: string;
  hash: string;
  externalId?: string;
  /** The view JSON the app sent (views.open/push/update/publish). */
  view: Json;
}

/** Slack state values: block_id → action_id → element state. */
export type StateValues = Record<string, Record<string, Json>>;

/**
 * Slack fills in a block_id (and an action_id per element) the app left out; the sandbox derives
 * them from positions so the console and the payloads agree on them.
 */
export function normalizeBlocks(blocks: unknown): Json[] {
  if (!Array.isArray(blocks)) return [];
  return blocks.map((raw, index) => {
    const block: Json = { ...(raw as Json) };
    if (typeof block.block_id !== 'string') block.block_id = `sandbox-block-${index}`;
    if (block.element && typeof block.element === 'object') {
      const element: Json = { ...(block.element as Json) };
      if (typeof element.action_id !== 'string') element.action_id = `sandbox-action-${index}`;
      block.element = element;
    }
    if (Array.isArray(block.elements)) {
      block.elements = block.elements.map((raw2, j) => {
        const element: Json = { ...(raw2 as Json) };
        const interactive =
          typeof element.type === 'string' && !['mrkdwn', 'plain_text', 'image'].includes(element.type);
        if (interactive && typeof element.action_id !== 'string')
          element.action_id = `sandbox-action-${index}-${j}`;
        return element;
      });
    }
    if (block.accessory && typeof block.accessory === 'object') {
      const accessory: Json = { ...(block.accessory as Json) };
      if (typeof accessory.action_id !== 'string') accessory.action_id = `sandbox-action-${index}-accessory`;
      block.accessory = accessory;
    }
    return block;
  });
}

/** The `view` object of an interaction payload, as Slack sends it (with the current input state). */
export function viewPayload(team: SlackTeam, ref: ViewRef, state: StateValues = {}): Json {
  const view = ref.view;
  return {
    id: ref.id,
    team_id: team.teamId,
    type: view.type,
    blocks: normalizeBlocks(view.blocks),
    private_metadata: typeof view.private_metadata === 'string' ? view.private_metadata : '',
    callback_id: typeof view.callback_id === 'string' ? view.callback_id : '',
    state: { values: state },
    hash: ref.hash,
    title: view.title ?? null,
    clear_on_close: view.clear_on_close === true,
    notify_on_close: view.notify_on_close === true,
    close: view.close ?? null,
    submit: view.submit ?? null,
    previous_view_id: null,
    root_view_id: typeof view.root_view_id === 'string' ? view.root_view_id : ref.id,
    app_id: team.appId,
    external_id: ref.externalId ?? '',
    app_installed_team_id: team.teamId,
    bot_id: 'B0JITBOT',
  };
}

// ---- interactions ----------------------------------------------------------------------------

export interface MessageRef {
  channel: string;
  channelName?: string;
  ts: string;
  text?: string;
  blocks?: unknown[];
  isEphemeral?: boolean;
  botId?: string;
  botUserId?: string;
}

export type ActionContainer = { kind: 'message'; message: MessageRef } | { kind: 'view'; view: ViewRef };

export interface ActionInput {
  actionId: string;
  blockId: string;
  /** The element as rendered (button or select), for type, text, value and style. */
  element: Json;
  /** For selects: the option picked. */
  selectedOption?: Json;
  triggerId: string;
  responseUrl?: string;
  /** Current input state of a view container. */
  state?: StateValues;
}

/** A block_actions payload: a button click or a select change in a message, a modal or the Home tab. */
export function blockActionsPayload(
  team: SlackTeam,
  actor: SlackActor,
  container: ActionContainer,
  input: ActionInput,
): Json {
  const element = input.element;
  const type = typeof element.type === 'string' ? element.type : 'button';
  const action: Json = {
    action_id: input.actionId,
    block_id: input.blockId,
    type,
    action_ts: actionTs(),
  };
  if (type === 'button') {
    action.text = element.text ?? { type: 'plain_text', text: input.actionId };
    if (element.value !== undefined) action.value = element.value;
    if (element.style !== undefined) action.style = element.style;
  } else if (input.selectedOption) {
    action.selected_option = input.selectedOption;
    if (element.placeholder !== undefined) action.placeholder = element.placeholder;
  }
  const base: Json = {
    type: 'block_actions',
    user: user(team, actor),
    api_app_id: team.appId,
    token: team.verificationToken,
    trigger_id: input.triggerId,
    team: teamRef(team),
    enterprise: null,
    is_enterprise_install: false,
    actions: [action],
  };
  if (container.kind === 'message') {
    const m = container.message;
    return {
      ...base,
      container: {
        type: 'message',
        message_ts: m.ts,
        channel_id: m.channel,
        is_ephemeral: m.isEphemeral === true,
      },
      channel: { id: m.channel, name: m.channelName ?? m.channel },
      message: {
        type: 'message',
        subtype: 'bot_message',
        user: m.botUserId ?? 'U0JITBOT',
        bot_id: m.botId ?? 'B0JITBOT',
        app_id: team.appId,
        team: team.teamId,
        ts: m.ts,
        text: m.text ?? '',
        ...(m.blocks ? { blocks: normalizeBlocks(m.blocks) } : {}),
      },
      state: { values: {} },
      ...(input.responseUrl ? { response_url: input.responseUrl } : {}),
    };
  }
  return {
    ...base,
    container: { type: 'view', view_id: container.view.id },
    view: viewPayload(team, container.view, input.state ?? {}),
    state: { values: input.state ?? {} },
  };
}

export function viewSubmissionPayload(
  team: SlackTeam,
  actor: SlackActor,
  view: ViewRef,
  state: StateValues,
  triggerId: string,
): Json {
  return {
    type: 'view_submission',
    team: teamRef(team),
    user: user(team, actor),
    api_app_id: team.appId,
    token: team.verificationToken,
    trigger_id: triggerId,
    view: viewPayload(team, view, state),
    response_urls: [],
    is_enterprise_install: false,
    enterprise: null,
  };
}

export function viewClosedPayload(
  team: SlackTeam,
  actor: SlackActor,
  view: ViewRef,
  state: StateValues,
): Json {
  return {
    type: 'view_closed',
    team: teamRef(team),
    user: user(team, actor),
    api_app_id: team.appId,
    token: team.verificationToken,
    view: viewPayload(team, view, state),
    is_cleared: false,
    is_enterprise_install: false,
    enterprise: null,
  };
}

/** What an external_select asks for while the person types (answered with `{options}`). */
export function blockSuggestionPayload(
  team: SlackTeam,
  actor: SlackActor,
  view: ViewRef,
  input: { actionId: string; blockId: string; value: string; state?: StateValues },
): Json {
  return {
    type: 'block_suggestion',
    user: user(team, actor),
    container: { type: 'view', view_id: view.id },
    api_app_id: team.appId,
    token: team.verificationToken,
    action_id: input.actionId,
    block_id: input.blockId,
    value: input.value,
    team: teamRef(team),
    enterprise: null,
    is_enterprise_install: false,
    view: viewPayload(team, view, input.state ?? {}),
  };
}

/** The Events API envelope of app_home_opened (JSON body). */
export function appHomeOpenedEvent(
  team: SlackTeam,
  actor: SlackActor,
  input: { dmChannel: string; home?: ViewRef },
): Json {
  const now = Date.now() / 1000;
  return {
    ...eventEnvelope(team, now),
    event: {
      type: 'app_home_opened',
      user: actor.slackUserId,
      channel: input.dmChannel,
      tab: 'home',
      ...(input.home ? { view: viewPayload(team, input.home) } : {}),
      event_ts: now.toFixed(6),
    },
  };
}

/**
 * The Events API envelope of user_change (JSON body), as Slack sends it when an admin deactivates
 * or reactivates someone: the whole user object, `deleted` telling which
 * (https://docs.slack.dev/reference/events/user_change).
 */
export function userChangeEvent(
  team: SlackTeam,
  user: { id: string; name: string; realName?: string; deleted: boolean },
): Json {
  const now = Date.now() / 1000;
  return {
    ...eventEnvelope(team, now),
    event: {
      type: 'user_change',
      user: {
        id: user.id,
        team_id: team.teamId,
        name: user.name,
        real_name: user.realName ?? user.name,
        deleted: user.deleted,
        is_bot: false,
        updated: Math.floor(now),
      },
      cache_ts: Math.floor(now),
      event_ts: now.toFixed(6),
    },
  };
}

/** The envelope fields every event callback carries. */
function eventEnvelope(team: SlackTeam, now: number): Json {
  return {
    token: team.verificationToken,
    team_id: team.teamId,
    api_app_id: team.appId,
    type: 'event_callback',
    event_id: `Ev${randomBytes(5).toString('hex').toUpperCase()}`,
    event_time: Math.floor(now),
    authorizations: [
      {
        enterprise_id: null,
        team_id: team.teamId,
        user_id: team.botUserId,
        is_bot: true,
        is_enterprise_install: false,
      },
    ],
    is_ext_shared_channel: false,
  };
}

// ---- finding elements ------------------------------------------------------------------------

export interface FoundElement {
  blockId: string;
  actionId: string;
  element: Json;
  /** The block type holding it (actions, section accessory, input). */
  blockType: string;
}

/** Every interactive element of a block list (buttons, selects, inputs), with its normalized ids. */
export function interactiveElements(blocks: unknown): FoundElement[] {
  const found: FoundElement[] = [];
  for (const block of normalizeBlocks(blocks)) {
    const blockId = String(block.block_id);
    const blockType = String(block.type);
    const elements: Json[] = [];
    if (Array.isArray(block.elements) && blockType === 'actions')
      elements.push(...(block.elements as Json[]));
    if (block.accessory && typeof block.accessory === 'object') elements.push(block.accessory as Json);
    if (block.element && typeof block.element === 'object') elements.push(block.element as Json);
    for (const element of elements) {
      if (typeof element.action_id === 'string')
        found.push({ blockId, actionId: element.action_id, element, blockType });
    }
  }
  return found;
}

/** Plain text of a Slack text object (or a string). */
export function textOf(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value && typeof value === 'object' && typeof (value as Json).text === 'string')
    return String((value as Json).text);
  return '';
}
