import { randomBytes } from 'node:crypto';
import { optionsAnswerProblems, responseErrorsProblems } from '../slack-api/block-kit';
import type { RunningSlackApi } from '../slack-api/server';
import type { StoredMessage, StoredView } from '../slack-api/stand-in';
import { findPersona, type Persona } from './sandbox-file';
import {
  type ActionContainer,
  appHomeOpenedEvent,
  blockActionsPayload,
  blockSuggestionPayload,
  FORM,
  type FoundElement,
  interactionBody,
  interactiveElements,
  JSON_TYPE,
  type MessageRef,
  type SignOptions,
  type SlackTeam,
  type StateValues,
  signRequest,
  slashCommandBody,
  textOf,
  userChangeEvent,
  type ViewRef,
  viewClosedPayload,
  viewSubmissionPayload,
} from './slack-payloads';

// Plays Slack toward the app: builds the request Slack would send for a persona's action, signs
// it and POSTs it to the app's request URL (/slack/events), then applies what Slack would do with
// the answer (a command's reply shown to the user, a submission's response_action on the modal).
// The web console and the end-to-end tests both go through it.

type Json = Record<string, unknown>;

export interface SlackReply {
  status: number;
  text: string;
  /** The body as JSON, when it is JSON. */
  json?: unknown;
  /** How long the app took to answer (Slack gives up after 3 s). */
  elapsedMs?: number;
}

/** Slack's deadline for the HTTP answer to a command, interaction or event (then the user sees an error). */
export const SLACK_ANSWER_DEADLINE_MS = 3000;

/** One answer the app gave Slack, timed: what the console shows against the 3-second deadline. */
export interface AnswerTiming {
  at: number;
  /** What was sent: command, block_actions, view_submission, block_suggestion, event… */
  kind: string;
  status: number;
  elapsedMs: number;
}

/** The answers remembered for the console. */
const TIMINGS_KEPT = 50;

/** A reply Slack shows only to the person who acted (a command's or an action's HTTP answer). */
export interface AckReply {
  seq: number;
  at: number;
  userId: string;
  channel: string;
  text?: string;
  blocks?: unknown[];
  source: 'command' | 'action';
}

export interface SubmissionResult {
  reply: SlackReply;
  /** response_action of the answer: errors | update | push | clear, or 'close' for an empty 200. */
  action: 'close' | 'errors' | 'update' | 'push' | 'clear' | 'rejected';
  errors?: Record<string, string>;
  /** Why Slack would refuse the answer (`rejected`): an error under a block that is no input, say. */
  problems?: string[];
}

export type ClickTarget =
  | { channel: string; ts: string }
  | { viewId: string }
  | { home: true }
  /** The newest message holding the element, in a channel or the persona's DM. */
  | { latestIn: string };

/** An answer to fill in a modal: a value, an option value/label, or several for multi-selects. */
export type Answer = string | number | string[];

export interface SignedSlackClientOptions {
  /** Where Slack would POST: the app's request URL. */
  requestUrl: string;
  signingSecret: string;
  team: SlackTeam;
  personas: Persona[];
  channels: Array<{ id: string; name: string }>;
  /** The Slack Web API stand-in (absent when the sandbox talks to a real workspace). */
  slack?: RunningSlackApi;
  botToken: string;
  /** The command the app registers. */
  command?: string;
}

/** The modal a request names is not (or no longer) open for that person. */
export class ViewNotOpenError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ViewNotOpenError';
  }
}

export class SignedSlackClient {
  private readonly replies: AckReply[] = [];
  private readonly timings: AnswerTiming[] = [];
  private readonly listeners = new Set<(reply: AckReply) => void>();
  private seq = 0;

  constructor(private readonly options: SignedSlackClientOptions) {}

  get requestUrl(): string {
    return this.options.requestUrl;
  }

  persona(who: string): Persona {
    const persona = findPersona(this.options, who);
    if (!persona) throw new Error(`No persona "${who}" in the sandbox file`);
    return persona;
  }

  /** Posts a raw body to the request URL, signed unless `sign` is false. */
  async send(
    body: string,
    contentType: string,
    sign: SignOptions | false = {},
    extraHeaders: Record<string, string> = {},
  ): Promise<SlackReply> {
    const headers =
      sign === false
        ? { 'content-type': contentType }
        : signRequest(this.options.signingSecret, body, contentType, sign).headers;
    const started = performance.now();
    const response = await fetch(this.internalUrl(), {
      method: 'POST',
      headers: { ...headers, ...extraHeaders },
      body,
    });
    const text = await response.text();
    const elapsedMs = Math.round(performance.now() - started);
    this.timings.push({
      at: Date.now(),
      kind: kindOf(body, contentType),
      status: response.status,
      elapsedMs,
    });
    if (this.timings.length > TIMINGS_KEPT) this.timings.shift();
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    return { status: response.status, text, ...(json !== undefined ? { json } : {}), elapsedMs };
  }

  /** Types a slash command (default `/request-access`) in a channel (default the first one). */
  async command(
    who: string,
    text = '',
    options: { command?: string; channelId?: string } = {},
  ): Promise<SlackReply> {
    const persona = this.persona(who);
    const channel = this.channel(options.channelId);
    const body = slashCommandBody(this.options.team, actor(persona), {
      command: options.command ?? this.options.command ?? '/request-access',
      text,
      channelId: channel.id,
      channelName: channel.name,
      triggerId: this.triggerId(persona),
      responseUrl: this.responseUrl({ channel: channel.id, userId: persona.slackUserId }),
    });
    const reply = await this.send(body, FORM);
    this.recordAck(reply, persona, channel.id, 'command');
    return reply;
  }

  /** Clicks a button (by action_id or its label) in a message, a modal or the Home tab. */
  async click(who: string, target: ClickTarget, actionIdOrLabel: string): Promise<SlackReply> {
    const persona = this.persona(who);
    const located = this.locate(persona, target, (found) =>
      matchesElement(found, actionIdOrLabel, ['button']),
    );
    if (!located) throw new Error(`No button "${actionIdOrLabel}" in ${describeTarget(target)}`);
    return this.sendAction(persona, located.container, located.found);
  }

  /** Picks an option of a select in an actions block or section accessory (block_actions). */
  async select(who: string, target: ClickTarget, actionId: string, option: string): Promise<SlackReply> {
    const persona = this.persona(who);
    const located = this.locate(persona, target, (found) => found.actionId === actionId);
    if (!located) throw new Error(`No select "${actionId}" in ${describeTarget(target)}`);
    const picked = findOption(located.found.element, option);
    if (!picked) throw new Error(`Select "${actionId}" has no option "${option}"`);
    return this.sendAction(persona, located.container, located.found, picked);
  }

  /** Sends a block_actions payload for an element already located (the console knows its ids). */
  async action(
    who: string,
    target: ClickTarget,
    ids: { actionId: string; blockId: string },
    selectedOption?: Json,
    state?: StateValues,
  ): Promise<SlackReply> {
    const persona = this.persona(who);
    const located = this.locate(
      persona,
      target,
      (found) => found.actionId === ids.actionId && found.blockId === ids.blockId,
    );
    if (!located) throw new Error(`No element ${ids.blockId}/${ids.actionId} in ${describeTarget(target)}`);
    return this.sendAction(persona, located.container, located.found, selectedOption, state);
  }

  /** Asks the app for an external_select's options (block_suggestion); returns them. */
  async suggest(
    who: string,
    actionId: string,
    value: string,
    options: { viewId?: string; blockId?: string; state?: StateValues } = {},
  ): Promise<Json[]> {
    const persona = this.persona(who);
    const view = this.requireView(persona, options.viewId);
    const found = interactiveElements(view.view.blocks).find(
      (f) => f.actionId === actionId && (!options.blockId || f.blockId === options.blockId),
    );
    const payload = blockSuggestionPayload(this.options.team, actor(persona), view, {
      actionId,
      blockId: options.blockId ?? found?.blockId ?? '',
      value,
      ...(options.state ? { state: options.state } : {}),
    });
    const reply = await this.send(interactionBody(payload), FORM);
    if (reply.status !== 200) throw new Error(`block_suggestion answered ${reply.status}: ${reply.text}`);
    // Slack takes no options it would not show (text over 75, value over 150, over 100 of them).
    const problems = optionsAnswerProblems(reply.json);
    if (problems.length > 0) throw new Error(`Slack would refuse these options: ${problems.join('; ')}`);
    return flattenOptions(reply.json);
  }

  /**
   * Submits the persona's top modal. `answers` are keyed by action_id or block_id; a select's
   * answer is an option value or label (external selects ask the app for options first).
   * `state` (Slack's state.values) is used as given when present (the console builds it).
   */
  async submit(
    who: string,
    answers: Record<string, Answer> = {},
    options: { viewId?: string; state?: StateValues } = {},
  ): Promise<SubmissionResult> {
    const persona = this.persona(who);
    const view = this.requireView(persona, options.viewId);
    const state = options.state ?? (await this.buildState(persona, view, answers));
    const payload = viewSubmissionPayload(
      this.options.team,
      actor(persona),
      view,
      state,
      this.triggerId(persona),
    );
    const reply = await this.send(interactionBody(payload), FORM);
    return this.applySubmissionAnswer(persona, view, reply);
  }

  /** Closes the persona's top modal (view_closed is sent when the view asked for it). */
  async closeView(
    who: string,
    options: { viewId?: string; state?: StateValues } = {},
  ): Promise<SlackReply | undefined> {
    const persona = this.persona(who);
    const view = this.requireView(persona, options.viewId);
    this.options.slack?.standIn.closeView(persona.slackUserId);
    if (view.view.notify_on_close !== true) return undefined;
    const payload = viewClosedPayload(this.options.team, actor(persona), view, options.state ?? {});
    return this.send(interactionBody(payload), FORM);
  }

  /** Opens the app's Home tab (app_home_opened event). */
  async openHome(who: string): Promise<SlackReply> {
    const persona = this.persona(who);
    const slack = this.options.slack;
    // Slack names the app's DM channel in the event; opening it here keeps the stand-in consistent.
    const dm = slack
      ? (slack.standIn.dmChannelOf(persona.slackUserId) ??
        openDm(slack, this.options.botToken, persona.slackUserId))
      : `D${persona.slackUserId.slice(1)}`;
    const home = slack?.standIn.homeView(persona.slackUserId);
    const event = appHomeOpenedEvent(this.options.team, actor(persona), {
      dmChannel: dm,
      ...(home ? { home: viewRef(home) } : {}),
    });
    return this.send(JSON.stringify(event), JSON_TYPE);
  }

  /**
   * Tells the app a user changed, as Slack does after an admin deactivates (`deleted: true`) or
   * reactivates them (user_change event). The sandbox sends it on the stand-in's own change.
   */
  async userChanged(userId: string, deleted: boolean): Promise<SlackReply> {
    const seed = this.options.slack?.standIn.users().find((u) => u.id === userId);
    const persona = findPersona(this.options, userId);
    const name = seed?.name ?? persona?.name ?? userId;
    const realName = seed?.realName ?? persona?.realName;
    const event = userChangeEvent(this.options.team, {
      id: userId,
      name,
      ...(realName ? { realName } : {}),
      deleted,
    });
    return this.send(JSON.stringify(event), JSON_TYPE);
  }

  // ---- what a persona sees ---------------------------------------------------------------------

  /** The persona's top modal, if one is open. */
  topView(who: string): StoredView | undefined {
    const stack = this.options.slack?.standIn.openViews(this.persona(who).slackUserId) ?? [];
    return stack[stack.length - 1];
  }

  homeView(who: string): StoredView | undefined {
    return this.options.slack?.standIn.homeView(this.persona(who).slackUserId);
  }

  /** Messages in the persona's DM with the app, oldest first. */
  directMessages(who: string): StoredMessage[] {
    return this.options.slack?.standIn.directMessages(this.persona(who).slackUserId) ?? [];
  }

  channelMessages(channel: string): StoredMessage[] {
    return this.options.slack?.standIn.messages(channel) ?? [];
  }

  /** Replies shown only to the person who acted (commands' and actions' HTTP answers, response_url posts). */
  ackReplies(who?: string): AckReply[] {
    const userId = who ? this.persona(who).slackUserId : undefined;
    return this.replies.filter((r) => userId === undefined || r.userId === userId).map((r) => ({ ...r }));
  }

  /** The app's latest answers to Slack, oldest first, each timed against Slack's 3 s. */
  answerTimings(): AnswerTiming[] {
    return this.timings.map((t) => ({ ...t }));
  }

  onAckReply(listener: (reply: AckReply) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  // ---- internals -------------------------------------------------------------------------------

  /** Requests go to 127.0.0.1 (the server binds there); the advertised URL says localhost. */
  private internalUrl(): string {
    return this.options.requestUrl.replace('//localhost:', '//127.0.0.1:');
  }

  private channel(channelId?: string): { id: string; name: string } {
    const channels = this.options.channels;
    const found = channelId ? channels.find((c) => c.id === channelId) : channels[0];
    if (found) return found;
    if (channelId) return { id: channelId, name: channelId };
    throw new Error('The sandbox file names no channel');
  }

  private triggerId(persona: Persona): string {
    return (
      this.options.slack?.standIn.issueTriggerId(persona.slackUserId) ??
      `${Math.floor(Date.now() / 1000)}.${randomBytes(4).toString('hex')}`
    );
  }

  private responseUrl(context: { channel: string; userId: string; messageTs?: string }): string {
    return this.options.slack?.responseUrl(context) ?? 'https://hooks.slack.com/actions/sandbox/unavailable';
  }

  private recordAck(reply: SlackReply, persona: Persona, channel: string, source: AckReply['source']): void {
    if (reply.status !== 200 || !reply.text) return;
    const json = reply.json as Json | undefined;
    const text = json ? (typeof json.text === 'string' ? json.text : undefined) : reply.text;
    const blocks = json && Array.isArray(json.blocks) ? json.blocks : undefined;
    if (!text && !blocks) return;
    this.seq += 1;
    const ack: AckReply = {
      seq: this.seq,
      at: Date.now(),
      userId: persona.slackUserId,
      channel,
      source,
      ...(text ? { text } : {}),
      ...(blocks ? { blocks } : {}),
    };
    this.replies.push(ack);
    for (const listener of this.listeners) listener(ack);
  }

  private requireView(persona: Persona, viewId?: string): ViewRef {
    const slack = this.options.slack;
    if (!slack)
      throw new Error('Modals need the Slack stand-in (the sandbox is connected to a real workspace)');
    const stack = slack.standIn.openViews(persona.slackUserId);
    const stored = viewId ? stack.find((v) => v.id === viewId) : stack[stack.length - 1];
    if (!stored) throw new ViewNotOpenError(`${persona.name} has no open modal${viewId ? ` ${viewId}` : ''}`);
    return viewRef(stored);
  }

  private locate(
    persona: Persona,
    target: ClickTarget,
    match: (found: FoundElement) => boolean,
  ): { container: ActionContainer; found: FoundElement } | undefined {
    const slack = this.options.slack;
    if (!slack)
      throw new Error('Clicking needs the Slack stand-in (the sandbox is connected to a real workspace)');
    const standIn = slack.standIn;
    const inMessage = (message: StoredMessage | undefined) => {
      if (!message) return undefined;
      const found = interactiveElements(message.blocks).find(match);
      if (!found) return undefined;
      const ref: MessageRef = {
        channel: message.channel,
        channelName: this.options.channels.find((c) => c.id === message.channel)?.name ?? message.channel,
        ts: message.ts,
        ...(message.text !== undefined ? { text: message.text } : {}),
        ...(message.blocks ? { blocks: message.blocks } : {}),
        botId: message.botId,
        botUserId: message.user,
      };
      return { container: { kind: 'message', message: ref } as ActionContainer, found };
    };
    const inView = (stored: StoredView | undefined) => {
      if (!stored) return undefined;
      const found = interactiveElements(stored.view.blocks).find(match);
      return found
        ? { container: { kind: 'view', view: viewRef(stored) } as ActionContainer, found }
        : undefined;
    };
    if ('home' in target) return inView(standIn.homeView(persona.slackUserId));
    if ('viewId' in target) {
      const stack = standIn.openViews(persona.slackUserId);
      const home = standIn.homeView(persona.slackUserId);
      return inView(
        stack.find((v) => v.id === target.viewId) ?? (home?.id === target.viewId ? home : undefined),
      );
    }
    if ('ts' in target) {
      const channel = this.resolveChannel(persona, target.channel);
      return inMessage(standIn.messages(channel).find((m) => m.ts === target.ts));
    }
    const channel = this.resolveChannel(persona, target.latestIn);
    const messages = standIn.messages(channel).reverse();
    for (const message of messages) {
      const located = inMessage(message);
      if (located) return located;
    }
    return undefined;
  }

  /** "dm" means the persona's DM with the app; a user id means that user's DM. */
  private resolveChannel(persona: Persona, channel: string): string {
    const standIn = this.options.slack?.standIn;
    if (channel === 'dm') return standIn?.dmChannelOf(persona.slackUserId) ?? '';
    if (/^[UW][A-Z0-9]+$/.test(channel)) return standIn?.dmChannelOf(channel) ?? '';
    return this.options.channels.find((c) => c.name === channel.replace(/^#/, ''))?.id ?? channel;
  }

  private async sendAction(
    persona: Persona,
    container: ActionContainer,
    found: FoundElement,
    selectedOption?: Json,
    state?: StateValues,
  ): Promise<SlackReply> {
    const responseUrl =
      container.kind === 'message'
        ? this.responseUrl({
            channel: container.message.channel,
            userId: persona.slackUserId,
            messageTs: container.message.ts,
          })
        : undefined;
    const payload = blockActionsPayload(this.options.team, actor(persona), container, {
      actionId: found.actionId,
      blockId: found.blockId,
      element: found.element,
      triggerId: this.triggerId(persona),
      ...(selectedOption ? { selectedOption } : {}),
      ...(responseUrl ? { responseUrl } : {}),
      ...(state ? { state } : {}),
    });
    const reply = await this.send(interactionBody(payload), FORM);
    if (container.kind === 'message') this.recordAck(reply, persona, container.message.channel, 'action');
    return reply;
  }

  /** Slack's state.values for a modal from answers keyed by action_id or block_id. */
  private async buildState(
    persona: Persona,
    view: ViewRef,
    answers: Record<string, Answer>,
  ): Promise<StateValues> {
    const state: StateValues = {};
    const used = new Set<string>();
    for (const found of interactiveElements(view.view.blocks)) {
      if (found.blockType !== 'input' && found.blockType !== 'actions' && found.blockType !== 'section')
        continue;
      const key =
        found.actionId in answers ? found.actionId : found.blockId in answers ? found.blockId : undefined;
      const type = String(found.element.type);
      if (type === 'button') continue;
      const answer = key === undefined ? undefined : answers[key];
      if (key !== undefined) used.add(key);
      const entry = await this.elementState(persona, view, found, answer, state);
      state[found.blockId] = { ...(state[found.blockId] ?? {}), [found.actionId]: entry };
    }
    const unknown = Object.keys(answers).filter((key) => !used.has(key));
    if (unknown.length > 0)
      throw new Error(
        `The modal has no input ${unknown.join(', ')} (inputs: ${interactiveElements(view.view.blocks)
          .map((f) => `${f.blockId}/${f.actionId}`)
          .join(', ')})`,
      );
    return state;
  }

  private async elementState(
    persona: Persona,
    view: ViewRef,
    found: FoundElement,
    answer: Answer | undefined,
    state: StateValues,
  ): Promise<Json> {
    const element = found.element;
    const type = String(element.type);
    const initialOption = element.initial_option as Json | undefined;
    switch (type) {
      case 'static_select': {
        if (answer === undefined) return { type, selected_option: initialOption ?? null };
        const option = findOption(element, String(answer));
        if (!option) throw new Error(`${found.actionId}: no option "${answer}"`);
        return { type, selected_option: option };
      }
      case 'external_select': {
        if (answer === undefined) return { type, selected_option: initialOption ?? null };
        const options = await this.suggest(persona.slackUserId, found.actionId, String(answer), {
          viewId: view.id,
          blockId: found.blockId,
          state,
        });
        const option = pickOption(options, String(answer));
        if (!option) throw new Error(`${found.actionId}: the app offered no option "${answer}"`);
        return { type, selected_option: option };
      }
      case 'multi_external_select': {
        // Each value asked of the app as the person would type it (block_suggestion), at most max_selected_items.
        const values = answer === undefined ? [] : Array.isArray(answer) ? answer : [String(answer)];
        const max = typeof element.max_selected_items === 'number' ? element.max_selected_items : undefined;
        if (max !== undefined && values.length > max)
          throw new Error(`${found.actionId}: at most ${max} options can be picked`);
        const picked: Json[] = [];
        for (const value of values) {
          const options = await this.suggest(persona.slackUserId, found.actionId, String(value), {
            viewId: view.id,
            blockId: found.blockId,
            state,
          });
          const option = pickOption(options, String(value));
          if (!option) throw new Error(`${found.actionId}: the app offered no option "${value}"`);
          picked.push(option);
        }
        return { type, selected_options: picked };
      }
      case 'multi_static_select': {
        const values = answer === undefined ? [] : Array.isArray(answer) ? answer : [String(answer)];
        return {
          type,
          selected_options: values.map((value) => {
            const option = findOption(element, value);
            if (!option) throw new Error(`${found.actionId}: no option "${value}"`);
            return option;
          }),
        };
      }
      case 'checkboxes':
      case 'radio_buttons': {
        const values = answer === undefined ? [] : Array.isArray(answer) ? answer : [String(answer)];
        const options = values.map((value) => {
          const option = findOption(element, value);
          if (!option) throw new Error(`${found.actionId}: no option "${value}"`);
          return option;
        });
        return type === 'checkboxes'
          ? { type, selected_options: options }
          : { type, selected_option: options[0] ?? null };
      }
      case 'number_input':
      case 'plain_text_input':
      case 'email_text_input':
      case 'url_text_input': {
        const initial = typeof element.initial_value === 'string' ? element.initial_value : undefined;
        const value = answer === undefined ? initial : String(answer);
        // Slack sends null for an empty optional text input.
        return { type, value: value === undefined || value === '' ? null : value };
      }
      case 'datetimepicker':
        // Slack answers the picked moment as Unix seconds (null when nothing was picked).
        return { type, selected_date_time: answer === undefined ? null : Number(answer) };
      default:
        return { type, value: answer === undefined ? null : String(answer) };
    }
  }

  private applySubmissionAnswer(persona: Persona, view: ViewRef, reply: SlackReply): SubmissionResult {
    const slack = this.options.slack;
    if (reply.status !== 200) return { reply, action: 'rejected' };
    const json = (reply.json ?? {}) as Json;
    const action = typeof json.response_action === 'string' ? json.response_action : undefined;
    const userId = persona.slackUserId;
    switch (action) {
      case 'errors': {
        // Slack shows errors under input blocks only, and refuses an answer naming any other block.
        const problems = responseErrorsProblems(view.view, json.errors);
        if (problems.length > 0) return { reply, action: 'rejected', problems };
        return { reply, action: 'errors', errors: (json.errors ?? {}) as Record<string, string> };
      }
      case 'update':
        slack?.standIn.call('views.update', { view_id: view.id, view: json.view }, this.options.botToken);
        return { reply, action: 'update' };
      case 'push':
        slack?.standIn.call(
          'views.push',
          { trigger_id: slack.standIn.issueTriggerId(userId), view: json.view },
          this.options.botToken,
        );
        return { reply, action: 'push' };
      case 'clear':
        slack?.standIn.closeView(userId, true);
        return { reply, action: 'clear' };
      default:
        // An empty 200 closes the submitted view (a pushed view returns to the one below).
        slack?.standIn.closeView(userId);
        return { reply, action: 'close' };
    }
  }
}

function actor(persona: Persona) {
  return { slackUserId: persona.slackUserId, name: persona.name };
}

function viewRef(stored: StoredView): ViewRef {
  return {
    id: stored.id,
    hash: stored.hash,
    ...(stored.externalId ? { externalId: stored.externalId } : {}),
    view: stored.view,
  };
}

function openDm(slack: RunningSlackApi, token: string, userId: string): string {
  const reply = slack.standIn.call('conversations.open', { users: userId }, token);
  const channel = reply.ok ? (reply.channel as { id?: string } | undefined)?.id : undefined;
  return channel ?? `D${userId.slice(1)}`;
}

function matchesElement(found: FoundElement, key: string, types: string[]): boolean {
  if (!types.includes(String(found.element.type))) return false;
  return found.actionId === key || textOf(found.element.text).toLowerCase() === key.toLowerCase();
}

/** An option (or option group member) by value or label. */
export function findOption(element: Json, key: string): Json | undefined {
  const options = [
    ...((element.options as Json[] | undefined) ?? []),
    ...((element.option_groups as Array<{ options?: Json[] }> | undefined) ?? []).flatMap(
      (g) => g.options ?? [],
    ),
  ];
  return pickOption(options, key);
}

/** By value, then exact label, then the one label that starts with the key (case-insensitive). */
function pickOption(options: Json[], key: string): Json | undefined {
  const wanted = key.toLowerCase();
  const byValue = options.find((o) => o.value === key);
  if (byValue) return byValue;
  const byLabel = options.find((o) => textOf(o.text).toLowerCase() === wanted);
  if (byLabel) return byLabel;
  const byPrefix = options.filter((o) => textOf(o.text).toLowerCase().startsWith(wanted));
  return byPrefix.length === 1 ? byPrefix[0] : undefined;
}

function flattenOptions(body: unknown): Json[] {
  if (!body || typeof body !== 'object') return [];
  const json = body as Json;
  const options = Array.isArray(json.options) ? (json.options as Json[]) : [];
  const groups = Array.isArray(json.option_groups) ? (json.option_groups as Array<{ options?: Json[] }>) : [];
  return [...options, ...groups.flatMap((g) => g.options ?? [])];
}

function describeTarget(target: ClickTarget): string {
  if ('home' in target) return 'the Home tab';
  if ('viewId' in target) return `view ${target.viewId}`;
  if ('ts' in target) return `message ${target.channel}/${target.ts}`;
  return `the latest messages of ${target.latestIn}`;
}

/** What a body sent to /slack/events is, for the console's timings. */
function kindOf(body: string, contentType: string): string {
  try {
    if (contentType.includes('json')) {
      const event = (JSON.parse(body) as { event?: { type?: string } }).event;
      return event?.type ? `event ${event.type}` : 'event';
    }
    const form = new URLSearchParams(body);
    const command = form.get('command');
    if (command) return command;
    const payload = form.get('payload');
    if (payload) return String((JSON.parse(payload) as { type?: string }).type ?? 'interaction');
  } catch {
    // A deliberately broken body (the console's forgery tests): named as such.
  }
  return 'request';
}
