// A model of the slice of the Slack Web API the product uses: messages per channel, modal stacks
// and Home tabs per user, and a record of every call, so a console can show what each user sees.

export interface SlackUserSeed {
  id: string;
  name: string;
  realName?: string;
  email?: string;
  displayName?: string;
  isBot?: boolean;
}

export interface SlackApiStandInOptions {
  users?: SlackUserSeed[];
  /** Accepted tokens; undefined accepts any non-empty token. */
  tokens?: string[];
  teamId?: string;
  teamDomain?: string;
  botUserId?: string;
  botId?: string;
  appId?: string;
  /** views.open/push need a trigger id from issueTriggerId (unused, < 3 s old). Default false. */
  strictTriggerIds?: boolean;
  /** Real-time delay before each HTTP answer (benchmarks). */
  latencyMs?: number;
  /**
   * Where view, trigger and response_url ids start counting (default 0). A sandbox that keeps its
   * data across runs starts each run elsewhere: Slack's view ids never repeat, and the product
   * derives request ids from them.
   */
  firstId?: number;
  now?: () => number;
}

export type SlackArgs = Record<string, unknown>;

export interface RecordedCall {
  seq: number;
  at: number;
  method: string;
  args: SlackArgs;
  token: string | undefined;
  response: SlackResponse;
}

export type SlackResponse =
  | { ok: true; [key: string]: unknown }
  | { ok: false; error: string; [key: string]: unknown };

export interface StoredMessage {
  channel: string;
  ts: string;
  text: string | undefined;
  blocks: unknown[] | undefined;
  threadTs?: string;
  user: string;
  botId: string;
  /** Times chat.update replaced it. */
  edits: number;
  postedAt: number;
  updatedAt: number;
  metadata?: unknown;
}

export interface StoredEphemeral {
  channel: string;
  user: string;
  messageTs: string;
  text: string | undefined;
  blocks: unknown[] | undefined;
  postedAt: number;
}

export interface StoredView {
  id: string;
  externalId?: string;
  userId: string;
  hash: string;
  view: Record<string, unknown>;
  updatedAt: number;
}

export type StandInEvent =
  | { type: 'call'; call: RecordedCall }
  | { type: 'message'; message: StoredMessage; change: 'posted' | 'updated' | 'deleted' }
  | { type: 'ephemeral'; ephemeral: StoredEphemeral }
  | { type: 'view'; userId: string; change: 'opened' | 'pushed' | 'updated' | 'closed'; view?: StoredView }
  | { type: 'home'; userId: string; view: StoredView };

export type CallFilter = string | { method?: string; since?: number; token?: string };

export interface ResponseUrlContext {
  channel: string;
  userId: string;
  /** The message the interaction came from; replace_original/delete_original act on it. */
  messageTs?: string;
}

export interface ResponseUrlPayload {
  text?: string;
  blocks?: unknown[];
  response_type?: 'ephemeral' | 'in_channel';
  replace_original?: boolean;
  delete_original?: boolean;
  thread_ts?: string;
}

interface ResponseUrlGrant extends ResponseUrlContext {
  issuedAt: number;
  uses: number;
}

interface TriggerGrant {
  userId: string;
  issuedAt: number;
  used: boolean;
}

type MethodHandler = (args: SlackArgs) => SlackResponse;

const TRIGGER_LIFETIME_MS = 3000;
// Slack: a response_url accepts 5 posts within 30 minutes.
const RESPONSE_URL_USES = 5;
const RESPONSE_URL_LIFETIME_MS = 30 * 60 * 1000;
const MAX_VIEW_STACK = 3;
const UNKNOWN_USER = 'UNKNOWN';
/** Argument names whose values WebClient sends JSON-encoded in form bodies. */
export const JSON_ENCODED_ARGS = new Set(['blocks', 'attachments', 'view', 'metadata', 'user_auth_blocks']);

const fail = (error: string, extra: Record<string, unknown> = {}): SlackResponse => ({
  ok: false,
  error,
  ...extra,
});

export class SlackApiStandIn {
  readonly teamId: string;
  readonly botUserId: string;
  readonly botId: string;
  readonly appId: string;
  readonly latencyMs: number;
  private readonly teamDomain: string;
  private readonly now: () => number;
  private readonly tokens: Set<string> | undefined;
  private readonly strictTriggerIds: boolean;
  private readonly seededUsers: SlackUserSeed[];
  private recorded: RecordedCall[] = [];
  private channelMessages = new Map<string, StoredMessage[]>();
  private ephemeralMessages: StoredEphemeral[] = [];
  private viewStacks = new Map<string, StoredView[]>();
  private homeViews = new Map<string, StoredView>();
  private dmChannels = new Map<string, string>();
  private triggers = new Map<string, TriggerGrant>();
  private responseUrls = new Map<string, ResponseUrlGrant>();
  private listeners = new Set<(event: StandInEvent) => void>();
  private lastTsMicros = 0;
  private readonly firstId: number;
  private idSeq: number;
  private readonly methods: Record<string, MethodHandler>;

  constructor(options: SlackApiStandInOptions = {}) {
    this.now = options.now ?? Date.now;
    this.teamId = options.teamId ?? 'T0SANDBOX';
    this.teamDomain = options.teamDomain ?? 'sandbox';
    this.botUserId = options.botUserId ?? 'U0JITBOT';
    this.botId = options.botId ?? 'B0JITBOT';
    this.appId = options.appId ?? 'A0JITAPP';
    this.tokens = options.tokens ? new Set(options.tokens) : undefined;
    this.strictTriggerIds = options.strictTriggerIds ?? false;
    this.latencyMs = options.latencyMs ?? 0;
    this.seededUsers = options.users ?? [];
    this.firstId = options.firstId ?? 0;
    this.idSeq = this.firstId;
    this.methods = {
      'auth.test': () => this.authTest(),
      'chat.postMessage': (a) => this.postMessage(a),
      'chat.update': (a) => this.updateMessage(a),
      'chat.delete': (a) => this.deleteMessage(a),
      'chat.postEphemeral': (a) => this.postEphemeral(a),
      'views.open': (a) => this.openView(a, 'opened'),
      'views.push': (a) => this.openView(a, 'pushed'),
      'views.update': (a) => this.updateView(a),
      'views.publish': (a) => this.publishHome(a),
      'users.info': (a) => this.usersInfo(a),
      'users.lookupByEmail': (a) => this.lookupByEmail(a),
      'conversations.open': (a) => this.openConversation(a),
    };
  }

  /** Answers one Web API call and records it. `token` comes from the Authorization header or the body. */
  call(method: string, args: SlackArgs, token: string | undefined): SlackResponse {
    const { token: bodyToken, ...rest } = args;
    const effectiveToken = token ?? (typeof bodyToken === 'string' ? bodyToken : undefined);
    let response: SlackResponse;
    const handler = this.methods[method];
    if (!effectiveToken) response = fail('not_authed');
    else if (this.tokens && !this.tokens.has(effectiveToken)) response = fail('invalid_auth');
    else if (!handler) response = fail('unknown_method');
    else response = handler(rest);
    this.record(method, rest, effectiveToken, response);
    return response;
  }

  private record(method: string, args: SlackArgs, token: string | undefined, response: SlackResponse): void {
    const call: RecordedCall = {
      seq: this.recorded.length + 1,
      at: this.now(),
      method,
      args,
      token,
      response,
    };
    this.recorded.push(call);
    this.emit({ type: 'call', call });
  }

  calls(filter?: CallFilter): RecordedCall[] {
    const f = typeof filter === 'string' ? { method: filter } : (filter ?? {});
    return this.recorded.filter(
      (c) =>
        (f.method === undefined || c.method === f.method) &&
        (f.since === undefined || c.at >= f.since) &&
        (f.token === undefined || c.token === f.token),
    );
  }

  /** Messages of one channel, or of every channel, oldest first. */
  messages(channel?: string): StoredMessage[] {
    const lists =
      channel === undefined ? [...this.channelMessages.values()] : [this.channelMessages.get(channel) ?? []];
    return lists
      .flat()
      .map((m) => ({ ...m }))
      .sort((a, b) => a.ts.localeCompare(b.ts));
  }

  /** The message a user would read in their DM with the app (channel from conversations.open/postMessage). */
  directMessages(userId: string): StoredMessage[] {
    const dm = this.dmChannels.get(userId);
    return dm ? this.messages(dm) : [];
  }

  dmChannelOf(userId: string): string | undefined {
    return this.dmChannels.get(userId);
  }

  ephemerals(userId?: string): StoredEphemeral[] {
    return this.ephemeralMessages
      .filter((e) => userId === undefined || e.user === userId)
      .map((e) => ({ ...e }));
  }

  homeView(userId: string): StoredView | undefined {
    const view = this.homeViews.get(userId);
    return view ? { ...view } : undefined;
  }

  /** The user's modal stack, bottom first (views.open starts it, views.push adds). */
  openViews(userId: string): StoredView[] {
    return (this.viewStacks.get(userId) ?? []).map((v) => ({ ...v }));
  }

  /** Everything a console needs about users' surfaces. */
  viewsSnapshot(): { homes: Record<string, StoredView>; stacks: Record<string, StoredView[]> } {
    return { homes: Object.fromEntries(this.homeViews), stacks: Object.fromEntries(this.viewStacks) };
  }

  users(): SlackUserSeed[] {
    return this.seededUsers.map((u) => ({ ...u }));
  }

  /** Mints a trigger id as Slack does for an interaction by `userId` (valid 3 s, once). */
  issueTriggerId(userId: string): string {
    this.idSeq += 1;
    const triggerId = `${Math.floor(this.now() / 1000)}.${this.idSeq}.${this.teamId.toLowerCase()}${this.idSeq}`;
    this.triggers.set(triggerId, { userId, issuedAt: this.now(), used: false });
    return triggerId;
  }

  /**
   * Registers a response_url for an interaction; returns its id. The HTTP server serves it at
   * /_standin/response/<id> (see RunningSlackApi.responseUrl).
   */
  registerResponseUrl(context: ResponseUrlContext): string {
    this.idSeq += 1;
    const id = `R${this.idSeq.toString(36).toUpperCase().padStart(9, '0')}`;
    this.responseUrls.set(id, { ...context, issuedAt: this.now(), uses: 0 });
    return id;
  }

  /** A post to a response_url, answered like Slack: {ok} or an error (used_url, expired_url, no_text). */
  respond(responseUrlId: string, body: ResponseUrlPayload | SlackArgs): SlackResponse {
    const payload = toResponsePayload(body as SlackArgs);
    const response = this.answerResponseUrl(responseUrlId, payload);
    // Recorded as pseudo-method "response_url" so tests can assert on replies too.
    this.record('response_url', { response_url_id: responseUrlId, ...payload }, undefined, response);
    return response;
  }

  private answerResponseUrl(responseUrlId: string, payload: ResponseUrlPayload): SlackResponse {
    const grant = this.responseUrls.get(responseUrlId);
    if (!grant) return fail('invalid_url');
    if (this.now() - grant.issuedAt > RESPONSE_URL_LIFETIME_MS) return fail('expired_url');
    if (grant.uses >= RESPONSE_URL_USES) return fail('used_url');
    grant.uses += 1;
    const { channel, userId, messageTs } = grant;
    if (payload.delete_original) {
      return messageTs ? this.deleteMessage({ channel, ts: messageTs }) : fail('message_not_found');
    }
    if (payload.replace_original && messageTs) {
      return this.updateMessage({ channel, ts: messageTs, text: payload.text, blocks: payload.blocks });
    }
    const args: SlackArgs = {
      channel,
      text: payload.text,
      blocks: payload.blocks,
      thread_ts: payload.thread_ts,
    };
    // Without response_type Slack shows the reply only to the user who acted.
    return payload.response_type === 'in_channel'
      ? this.postMessage(args)
      : this.postEphemeral({ ...args, user: userId });
  }

  /** The user closed the top modal (or all of them). */
  closeView(userId: string, all = false): void {
    const stack = this.viewStacks.get(userId) ?? [];
    if (all) stack.length = 0;
    else stack.pop();
    this.emit({ type: 'view', userId, change: 'closed' });
  }

  subscribe(listener: (event: StandInEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  reset(): void {
    this.recorded = [];
    this.channelMessages.clear();
    this.ephemeralMessages = [];
    this.viewStacks.clear();
    this.homeViews.clear();
    this.dmChannels.clear();
    this.triggers.clear();
    this.responseUrls.clear();
    this.lastTsMicros = 0;
    this.idSeq = this.firstId;
  }

  // ---- methods -------------------------------------------------------------------------------

  private authTest(): SlackResponse {
    return {
      ok: true,
      url: `https://${this.teamDomain}.slack.com/`,
      team: this.teamDomain,
      user: 'jit-access',
      team_id: this.teamId,
      user_id: this.botUserId,
      bot_id: this.botId,
      is_enterprise_install: false,
    };
  }

  private postMessage(args: SlackArgs): SlackResponse {
    const channel = this.resolveChannel(args.channel, true);
    if (!channel) return fail('channel_not_found');
    const content = messageContent(args);
    if (!content) return fail('no_text');
    const now = this.now();
    const message: StoredMessage = {
      channel,
      ts: this.nextTs(),
      ...content,
      ...(typeof args.thread_ts === 'string' ? { threadTs: args.thread_ts } : {}),
      ...(args.metadata !== undefined ? { metadata: args.metadata } : {}),
      user: this.botUserId,
      botId: this.botId,
      edits: 0,
      postedAt: now,
      updatedAt: now,
    };
    const list = this.channelMessages.get(channel) ?? [];
    list.push(message);
    this.channelMessages.set(channel, list);
    this.emit({ type: 'message', message: { ...message }, change: 'posted' });
    return { ok: true, channel, ts: message.ts, message: this.messageShape(message) };
  }

  private updateMessage(args: SlackArgs): SlackResponse {
    // Slack wants the conversation id here, not a user id: stay strict to catch that bug locally.
    const channel = this.resolveChannel(args.channel, false);
    if (!channel) return fail('channel_not_found');
    const message = this.channelMessages.get(channel)?.find((m) => m.ts === args.ts);
    if (!message) return fail('message_not_found');
    const content = messageContent(args);
    if (!content) return fail('no_text');
    // As on Slack, fields left out keep their value; passing them replaces them.
    if (args.text !== undefined) message.text = content.text;
    if (args.blocks !== undefined) message.blocks = content.blocks;
    message.edits += 1;
    message.updatedAt = this.now();
    this.emit({ type: 'message', message: { ...message }, change: 'updated' });
    return {
      ok: true,
      channel,
      ts: message.ts,
      text: message.text ?? '',
      message: this.messageShape(message),
    };
  }

  private deleteMessage(args: SlackArgs): SlackResponse {
    const channel = this.resolveChannel(args.channel, false);
    if (!channel) return fail('channel_not_found');
    const list = this.channelMessages.get(channel) ?? [];
    const index = list.findIndex((m) => m.ts === args.ts);
    const [removed] = index >= 0 ? list.splice(index, 1) : [];
    if (!removed) return fail('message_not_found');
    this.emit({ type: 'message', message: removed, change: 'deleted' });
    return { ok: true, channel, ts: removed.ts };
  }

  private postEphemeral(args: SlackArgs): SlackResponse {
    const channel = this.resolveChannel(args.channel, true);
    if (!channel) return fail('channel_not_found');
    if (typeof args.user !== 'string' || !this.knowsUser(args.user)) return fail('user_not_in_channel');
    const content = messageContent(args);
    if (!content) return fail('no_text');
    const ephemeral: StoredEphemeral = {
      channel,
      user: args.user,
      messageTs: this.nextTs(),
      ...content,
      postedAt: this.now(),
    };
    this.ephemeralMessages.push(ephemeral);
    this.emit({ type: 'ephemeral', ephemeral: { ...ephemeral } });
    return { ok: true, message_ts: ephemeral.messageTs };
  }

  private openView(args: SlackArgs, change: 'opened' | 'pushed'): SlackResponse {
    const view = asViewObject(args.view);
    if (!view) return fail('invalid_arguments');
    if (view.type !== 'modal')
      return fail('invalid_arguments', { response_metadata: { messages: ['view type'] } });
    const trigger = this.useTrigger(args.trigger_id);
    if (!trigger.ok) return fail(trigger.error);
    const stack = this.viewStacks.get(trigger.userId) ?? [];
    if (change === 'pushed') {
      if (stack.length === 0) return fail('not_found');
      if (stack.length >= MAX_VIEW_STACK) return fail('push_limit_reached');
    } else {
      stack.length = 0;
    }
    const stored = this.storeView(trigger.userId, view, stack[0]?.id);
    stack.push(stored);
    this.viewStacks.set(trigger.userId, stack);
    this.emit({ type: 'view', userId: trigger.userId, change, view: { ...stored } });
    return { ok: true, view: this.viewShape(stored) };
  }

  private updateView(args: SlackArgs): SlackResponse {
    const view = asViewObject(args.view);
    if (!view) return fail('invalid_arguments');
    for (const [userId, stack] of this.viewStacks) {
      const index = stack.findIndex(
        (v) =>
          (args.view_id !== undefined && v.id === args.view_id) ||
          (args.external_id !== undefined && v.externalId === args.external_id),
      );
      const current = stack[index];
      if (!current) continue;
      if (typeof args.hash === 'string' && args.hash !== current.hash) return fail('hash_conflict');
      const stored = this.storeView(userId, view, stack[0]?.id, current.id);
      stack[index] = stored;
      this.emit({ type: 'view', userId, change: 'updated', view: { ...stored } });
      return { ok: true, view: this.viewShape(stored) };
    }
    return fail('not_found');
  }

  private publishHome(args: SlackArgs): SlackResponse {
    if (typeof args.user_id !== 'string' || !this.knowsUser(args.user_id)) return fail('user_not_found');
    const view = asViewObject(args.view);
    if (view?.type !== 'home') return fail('invalid_arguments');
    const current = this.homeViews.get(args.user_id);
    if (current && typeof args.hash === 'string' && args.hash !== current.hash) return fail('hash_conflict');
    const stored = this.storeView(args.user_id, view, undefined, current?.id);
    this.homeViews.set(args.user_id, stored);
    this.emit({ type: 'home', userId: args.user_id, view: { ...stored } });
    return { ok: true, view: this.viewShape(stored) };
  }

  private usersInfo(args: SlackArgs): SlackResponse {
    const user = this.seededUsers.find((u) => u.id === args.user);
    return user ? { ok: true, user: this.userShape(user) } : fail('user_not_found');
  }

  private lookupByEmail(args: SlackArgs): SlackResponse {
    const email = typeof args.email === 'string' ? args.email.toLowerCase() : undefined;
    const user = email ? this.seededUsers.find((u) => u.email?.toLowerCase() === email) : undefined;
    return user ? { ok: true, user: this.userShape(user) } : fail('users_not_found');
  }

  private openConversation(args: SlackArgs): SlackResponse {
    if (typeof args.channel === 'string') {
      return this.channelMessages.has(args.channel)
        ? { ok: true, channel: { id: args.channel } }
        : fail('channel_not_found');
    }
    const users =
      typeof args.users === 'string'
        ? args.users
            .split(',')
            .map((u) => u.trim())
            .filter(Boolean)
        : [];
    if (users.length === 0) return fail('users_list_not_supplied');
    if (users.some((u) => !this.knowsUser(u))) return fail('user_not_found');
    if (users.length > 1) return fail('not_supported', { detail: 'multi-person DMs are not emulated' });
    const userId = users[0] ?? '';
    const alreadyOpen = this.dmChannels.has(userId);
    const channel = this.dmChannelFor(userId);
    return { ok: true, no_op: alreadyOpen, already_open: alreadyOpen, channel: { id: channel } };
  }

  // ---- helpers -------------------------------------------------------------------------------

  /** A conversation id as given; a user id opens (or reuses) the app's DM with that user when allowed. */
  private resolveChannel(value: unknown, userIdOpensDm: boolean): string | undefined {
    if (typeof value !== 'string' || value === '') return undefined;
    if (/^[UW][A-Z0-9]+$/.test(value)) {
      return userIdOpensDm && this.knowsUser(value) ? this.dmChannelFor(value) : undefined;
    }
    return value;
  }

  /** With no seeded users every id is accepted, so a bare stand-in still works. */
  private knowsUser(userId: string): boolean {
    return this.seededUsers.length === 0 || this.seededUsers.some((u) => u.id === userId);
  }

  private dmChannelFor(userId: string): string {
    let channel = this.dmChannels.get(userId);
    if (!channel) {
      channel = `D${(this.dmChannels.size + 1).toString(36).toUpperCase().padStart(8, '0')}`;
      this.dmChannels.set(userId, channel);
    }
    return channel;
  }

  private useTrigger(triggerId: unknown): { ok: true; userId: string } | { ok: false; error: string } {
    if (typeof triggerId !== 'string' || triggerId === '') return { ok: false, error: 'invalid_trigger_id' };
    const grant = this.triggers.get(triggerId);
    if (!grant)
      return this.strictTriggerIds
        ? { ok: false, error: 'invalid_trigger_id' }
        : { ok: true, userId: UNKNOWN_USER };
    if (this.strictTriggerIds) {
      if (grant.used || this.now() - grant.issuedAt > TRIGGER_LIFETIME_MS)
        return { ok: false, error: 'expired_trigger_id' };
      grant.used = true;
    }
    return { ok: true, userId: grant.userId };
  }

  /** Slack ts: epoch seconds with 6 decimals, strictly increasing so every message has its own. */
  private nextTs(): string {
    const micros = Math.max(this.now() * 1000, this.lastTsMicros + 1);
    this.lastTsMicros = micros;
    const seconds = Math.floor(micros / 1_000_000);
    return `${seconds}.${String(micros % 1_000_000).padStart(6, '0')}`;
  }

  private storeView(
    userId: string,
    view: Record<string, unknown>,
    rootId: string | undefined,
    keepId?: string,
  ): StoredView {
    this.idSeq += 1;
    const id = keepId ?? `V${this.idSeq.toString(36).toUpperCase().padStart(9, '0')}`;
    return {
      id,
      ...(typeof view.external_id === 'string' ? { externalId: view.external_id } : {}),
      userId,
      hash: `${Math.floor(this.now() / 1000)}.${this.idSeq.toString(36)}`,
      view: { ...view, root_view_id: rootId ?? id },
      updatedAt: this.now(),
    };
  }

  private viewShape(stored: StoredView): Record<string, unknown> {
    const { view } = stored;
    return {
      id: stored.id,
      team_id: this.teamId,
      type: view.type,
      blocks: view.blocks ?? [],
      private_metadata: view.private_metadata ?? '',
      callback_id: view.callback_id ?? '',
      external_id: stored.externalId ?? '',
      state: { values: {} },
      hash: stored.hash,
      title: view.title,
      submit: view.submit,
      close: view.close,
      clear_on_close: view.clear_on_close ?? false,
      notify_on_close: view.notify_on_close ?? false,
      root_view_id: view.root_view_id,
      previous_view_id: null,
      app_id: this.appId,
      bot_id: this.botId,
    };
  }

  private messageShape(message: StoredMessage): Record<string, unknown> {
    return {
      type: 'message',
      user: message.user,
      bot_id: message.botId,
      app_id: this.appId,
      team: this.teamId,
      ts: message.ts,
      text: message.text ?? '',
      ...(message.blocks ? { blocks: message.blocks } : {}),
      ...(message.threadTs ? { thread_ts: message.threadTs } : {}),
      ...(message.edits > 0 ? { edited: { user: message.user, ts: String(message.updatedAt / 1000) } } : {}),
    };
  }

  private userShape(user: SlackUserSeed): Record<string, unknown> {
    const realName = user.realName ?? user.name;
    return {
      id: user.id,
      team_id: this.teamId,
      name: user.name,
      real_name: realName,
      deleted: false,
      is_bot: user.isBot ?? false,
      tz: 'Europe/London',
      profile: {
        real_name: realName,
        display_name: user.displayName ?? user.name,
        ...(user.email ? { email: user.email } : {}),
      },
    };
  }

  private emit(event: StandInEvent): void {
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch {
        // A broken console listener must not break the API.
      }
    }
  }
}

function messageContent(
  args: SlackArgs,
): { text: string | undefined; blocks: unknown[] | undefined } | undefined {
  const text = typeof args.text === 'string' && args.text !== '' ? args.text : undefined;
  const blocks = Array.isArray(args.blocks) ? args.blocks : undefined;
  const attachments = Array.isArray(args.attachments) && args.attachments.length > 0;
  if (text === undefined && (blocks === undefined || blocks.length === 0) && !attachments) return undefined;
  return { text, blocks };
}

function toResponsePayload(body: SlackArgs): ResponseUrlPayload {
  const payload: ResponseUrlPayload = {};
  if (typeof body.text === 'string') payload.text = body.text;
  if (Array.isArray(body.blocks)) payload.blocks = body.blocks;
  if (body.response_type === 'in_channel' || body.response_type === 'ephemeral')
    payload.response_type = body.response_type;
  // Form posts carry booleans as strings.
  if (body.replace_original === true || body.replace_original === 'true') payload.replace_original = true;
  if (body.delete_original === true || body.delete_original === 'true') payload.delete_original = true;
  if (typeof body.thread_ts === 'string') payload.thread_ts = body.thread_ts;
  return payload;
}

function asViewObject(value: unknown): Record<string, unknown> | undefined {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}
