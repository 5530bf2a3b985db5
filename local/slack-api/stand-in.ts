// A model of the slice of the Slack Web API the product uses: messages per channel, modal stacks
// and Home tabs per user, and a record of every call, so a console can show what each user sees.
// It also refuses what real Slack refuses: rate limits per method tier (429 + Retry-After, see
// limits.ts), channels the bot is not in, archived or deleted channels, messages that are gone or
// not the app's, deactivated users, blocks and views over Block Kit's limits (block-kit.ts:
// invalid_blocks, invalid_arguments); and, for fault campaigns, seeded injected faults (429, 500
// internal_error, fatal_error, held answers), like the Identity Center stand-in's. User groups
// (usergroups.list, usergroups.users.list) are seeded and changed by an admin (a rota change,
// disabling a group), as on-call tools and admins do outside the app.

import { z } from 'zod';
import { seededRandom } from '../identity-center/support';
import { invalidBlocks, invalidView, messageBlockProblems, viewProblems } from './block-kit';
import {
  type RateLimitOverrides,
  type RateLimitSettings,
  rateLimitSettings,
  SlackRateLimiter,
} from './limits';

export interface SlackUserSeed {
  id: string;
  name: string;
  realName?: string;
  email?: string;
  displayName?: string;
  isBot?: boolean;
  /** Deactivated from the start (see deactivateUser). */
  deleted?: boolean;
}

/** A Slack user group (`@handle`); `members` are user ids. */
export interface SlackUserGroupSeed {
  id: string;
  handle: string;
  name: string;
  members: string[];
  /** Disabled from the start (see disableUserGroup). */
  disabled?: boolean;
}

/** A user group as the stand-in holds it now. */
export interface UserGroupView {
  id: string;
  handle: string;
  name: string;
  members: string[];
  disabled: boolean;
}

export interface SlackChannelSeed {
  id: string;
  name?: string;
  archived?: boolean;
  /** Whether the bot is a member; default: listed in `botChannels`, or every channel when that is absent. */
  botMember?: boolean;
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
  /**
   * Slack's rate limits on the HTTP API (limits.ts): each method's tier as a token bucket per
   * minute, chat.postMessage 1 per second per channel with short bursts, HTTP 429 with Retry-After
   * and `{ok:false, error:'ratelimited'}`. `true`: Slack's published tiers; an object: overrides.
   * Default false: the sandbox, tests and campaigns drive bursts on a clock that may not move.
   */
  rateLimits?: boolean | RateLimitOverrides;
  /** Channels that exist from the start; other ids are created on first use unless strictChannels. */
  channels?: (string | SlackChannelSeed)[];
  /** The channels the bot is a member of. Default: every channel the stand-in knows or creates. */
  botChannels?: string[];
  /** Unknown channel ids answer channel_not_found instead of being created. Default false. */
  strictChannels?: boolean;
  /** The workspace's user groups (usergroups.list, usergroups.users.list); change them with setUserGroupMembers. */
  userGroups?: SlackUserGroupSeed[];
  /** Injected faults for campaigns (all off by default); change them with setFaults. */
  faults?: Partial<SlackFaultSettings>;
  /** Seed of the RNG behind the fault rates. Default 1. */
  seed?: number;
  now?: () => number;
}

export type SlackArgs = Record<string, unknown>;

/** An injected fault, or a rate limit the buckets imposed. */
export type SlackFaultKind = 'ratelimited' | 'internal_error' | 'fatal_error' | 'timeout';
export const SLACK_FAULT_KINDS = ['ratelimited', 'internal_error', 'fatal_error', 'timeout'] as const;

export interface RecordedCall {
  seq: number;
  at: number;
  method: string;
  args: SlackArgs;
  token: string | undefined;
  response: SlackResponse;
  /** The HTTP status answered (200 for calls made in-process). */
  status: number;
  /** Retry-After (seconds) of a 429. */
  retryAfter?: number;
  /** Why the call was refused or delayed: `ratelimit` = the tier buckets; otherwise an injected fault. */
  refusedBy?: 'ratelimit' | SlackFaultKind;
  /** Whether the method ran (an answer of ok:false included); false for auth failures, 429s,
   * internal_error, and timeouts set not to apply. */
  applied: boolean;
}

export type SlackResponse =
  | { ok: true; [key: string]: unknown }
  | { ok: false; error: string; [key: string]: unknown };

/** What the HTTP server sends for one Web API request. */
export interface SlackReply {
  status: number;
  headers: Record<string, string>;
  body: SlackResponse;
  /** Hold the answer this long first (real ms): an injected timeout. */
  holdMs: number;
}

export interface StoredMessage {
  channel: string;
  ts: string;
  text: string | undefined;
  blocks: unknown[] | undefined;
  threadTs?: string;
  user: string;
  /** The app's bot id; absent for a person's message (postUserMessage). */
  botId?: string;
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

export interface ChannelView {
  id: string;
  name?: string;
  archived: boolean;
  deleted: boolean;
  botMember: boolean;
}

export type ChannelChange = 'archived' | 'unarchived' | 'deleted' | 'bot_removed' | 'bot_added';

export type StandInEvent =
  | { type: 'call'; call: RecordedCall }
  | { type: 'message'; message: StoredMessage; change: 'posted' | 'updated' | 'deleted' }
  | { type: 'ephemeral'; ephemeral: StoredEphemeral }
  | { type: 'view'; userId: string; change: 'opened' | 'pushed' | 'updated' | 'closed'; view?: StoredView }
  | { type: 'home'; userId: string; view: StoredView }
  | { type: 'channel'; channel: ChannelView; change: ChannelChange }
  | { type: 'user'; userId: string; change: 'deactivated' | 'reactivated' }
  | { type: 'userGroup'; group: UserGroupView; change: UserGroupChange };

export type UserGroupChange = 'members' | 'disabled' | 'enabled';

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

// ---- faults ---------------------------------------------------------------------------------

export interface SlackFaultRates {
  /** Probability (0..1) that a call is answered 429 ratelimited, Retry-After `retryAfterSeconds`. */
  rateLimitRate: number;
  /** Probability of HTTP 500 `{ok:false, error:'internal_error'}`; the method does not run. */
  internalErrorRate: number;
  /**
   * Probability of HTTP 200 `{ok:false, error:'fatal_error'}` after the method ran (Slack: "It's
   * possible some aspect of the operation succeeded before the error was raised").
   */
  fatalErrorRate: number;
  /** Probability that the answer is held `timeoutMs` (real ms) before it is sent. */
  timeoutRate: number;
}

export interface SlackFaultSettings extends SlackFaultRates {
  /** Retry-After of injected 429s (seconds). Default 1. */
  retryAfterSeconds: number;
  /** How long a timeout holds the answer, real ms (not the injected clock). Default 10 000. */
  timeoutMs: number;
  /**
   * Whether a timed-out call still runs (the message is posted, the answer lost). Default true;
   * false: nothing runs, and the held answer is 503 service_unavailable.
   */
  timeoutsApply: boolean;
  /** Per-method rates, replacing the global ones for that method (e.g. only chat.postMessage). */
  methods: Record<string, Partial<SlackFaultRates>>;
  /** One-shot faults, each consumed by the next call of its method, in order. */
  failNext: SlackOneShotFault[];
}

export interface SlackOneShotFault {
  /** A Web API method, or '*' for whichever call comes next. */
  method: string;
  fault: SlackFaultKind;
  retryAfterSeconds?: number;
  timeoutMs?: number;
}

const rate = z.number().min(0).max(1);
const ratesSchema = z
  .object({ rateLimitRate: rate, internalErrorRate: rate, fatalErrorRate: rate, timeoutRate: rate })
  .partial()
  .strict();
/** Partial fault settings plus an optional `seed` that restarts the RNG; used by setFaults and HTTP. */
export const slackFaultSettingsUpdateSchema = ratesSchema
  .extend({
    retryAfterSeconds: z.number().int().min(0),
    timeoutMs: z.number().min(0),
    timeoutsApply: z.boolean(),
    methods: z.record(z.string().min(1), ratesSchema),
    failNext: z.array(
      z
        .object({
          method: z.string().min(1),
          fault: z.enum(SLACK_FAULT_KINDS),
          retryAfterSeconds: z.number().int().min(0).optional(),
          timeoutMs: z.number().min(0).optional(),
        })
        .strict(),
    ),
    seed: z.number().int(),
  })
  .partial()
  .strict();
export type SlackFaultSettingsUpdate = z.infer<typeof slackFaultSettingsUpdateSchema>;

export const NO_SLACK_FAULTS: SlackFaultSettings = {
  rateLimitRate: 0,
  internalErrorRate: 0,
  fatalErrorRate: 0,
  timeoutRate: 0,
  retryAfterSeconds: 1,
  timeoutMs: 10_000,
  timeoutsApply: true,
  methods: {},
  failNext: [],
};

export interface SlackMethodCounters {
  calls: number;
  ok: number;
  errors: number;
  rateLimited: number;
}

export interface SlackStandInCounters extends SlackMethodCounters {
  /** 429s from the tier buckets (rateLimits on). */
  rateLimitedByTier: number;
  /** 429s injected (rateLimitRate, failNext). */
  rateLimitedInjected: number;
  internalErrors: number;
  fatalErrors: number;
  timeouts: number;
  byMethod: Record<string, SlackMethodCounters>;
}

interface ResponseUrlGrant extends ResponseUrlContext {
  issuedAt: number;
  uses: number;
}

interface StoredUserGroup {
  id: string;
  handle: string;
  name: string;
  members: string[];
  /** Epoch seconds, as Slack's date_* fields. */
  dateCreate: number;
  dateUpdate: number;
  /** Non-zero once disabled (Slack: "When a User Group has been disabled its date_delete parameter will be non-zero"). */
  dateDelete: number;
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
const USER_ID = /^[UW][A-Z0-9]+$/;
/** Argument names whose values WebClient sends JSON-encoded in form bodies. */
export const JSON_ENCODED_ARGS = new Set(['blocks', 'attachments', 'view', 'metadata', 'user_auth_blocks']);

const fail = (error: string, extra: Record<string, unknown> = {}): SlackResponse => ({
  ok: false,
  error,
  ...extra,
});

const JSON_HEADERS = { 'content-type': 'application/json; charset=utf-8' };

export class SlackApiStandIn {
  readonly teamId: string;
  readonly botUserId: string;
  readonly botId: string;
  readonly appId: string;
  readonly latencyMs: number;
  /** The rate limits in force, or undefined when off. */
  readonly rateLimits: RateLimitSettings | undefined;
  private readonly teamDomain: string;
  private readonly now: () => number;
  private readonly tokens: Set<string> | undefined;
  private readonly strictTriggerIds: boolean;
  private readonly strictChannels: boolean;
  private readonly seededUsers: SlackUserSeed[];
  private readonly channelSeeds: SlackChannelSeed[];
  private readonly botChannels: Set<string> | undefined;
  private readonly userGroupSeeds: SlackUserGroupSeed[];
  private readonly seed: number;
  private readonly initialFaults: SlackFaultSettings;
  private readonly limiter: SlackRateLimiter | undefined;
  private faultSettings: SlackFaultSettings;
  private random: () => number;
  private recorded: RecordedCall[] = [];
  private channelMessages = new Map<string, StoredMessage[]>();
  private channels = new Map<string, ChannelView>();
  private deactivated = new Set<string>();
  private groups = new Map<string, StoredUserGroup>();
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
    this.strictChannels = options.strictChannels ?? false;
    this.latencyMs = options.latencyMs ?? 0;
    this.seededUsers = options.users ?? [];
    this.channelSeeds = (options.channels ?? []).map((c) => (typeof c === 'string' ? { id: c } : { ...c }));
    this.botChannels = options.botChannels ? new Set(options.botChannels) : undefined;
    this.userGroupSeeds = checkUserGroupSeeds(options.userGroups ?? []);
    this.firstId = options.firstId ?? 0;
    this.idSeq = this.firstId;
    this.rateLimits =
      options.rateLimits === undefined || options.rateLimits === false
        ? undefined
        : rateLimitSettings(options.rateLimits === true ? {} : options.rateLimits);
    this.limiter = this.rateLimits ? new SlackRateLimiter(this.rateLimits, this.now) : undefined;
    this.seed = options.seed ?? 1;
    this.initialFaults = copyFaults({ ...NO_SLACK_FAULTS, ...options.faults });
    this.faultSettings = copyFaults(this.initialFaults);
    this.random = seededRandom(this.seed);
    this.loadSeeds();
    this.methods = {
      'auth.test': () => this.authTest(),
      'chat.postMessage': (a) => this.postMessage(a),
      'chat.update': (a) => this.updateMessage(a),
      'chat.delete': (a) => this.chatDelete(a),
      'chat.postEphemeral': (a) => this.postEphemeral(a),
      'views.open': (a) => this.openView(a, 'opened'),
      'views.push': (a) => this.openView(a, 'pushed'),
      'views.update': (a) => this.updateView(a),
      'views.publish': (a) => this.publishHome(a),
      'users.info': (a) => this.usersInfo(a),
      'users.lookupByEmail': (a) => this.lookupByEmail(a),
      'conversations.open': (a) => this.openConversation(a),
      'usergroups.list': (a) => this.listUserGroups(a),
      'usergroups.users.list': (a) => this.listUserGroupUsers(a),
    };
  }

  /**
   * One Web API request from an app over HTTP, as Slack answers it: authentication, then the rate
   * limits (when on), then injected faults, then the method. Recorded like `call`.
   */
  request(method: string, args: SlackArgs, token: string | undefined): SlackReply {
    const { token: bodyToken, ...rest } = args;
    const effectiveToken = token ?? (typeof bodyToken === 'string' ? bodyToken : undefined);
    const authFailure = this.authFailure(method, effectiveToken);
    if (authFailure) {
      this.record(method, rest, effectiveToken, authFailure, { status: 200, applied: false });
      return { status: 200, headers: { ...JSON_HEADERS }, body: authFailure, holdMs: 0 };
    }
    const limited = this.limiter?.check(method, this.rateLimitChannel(method, rest));
    if (limited && !limited.ok) {
      return this.rateLimited(method, rest, effectiveToken, limited.retryAfterSeconds, 'ratelimit');
    }
    const fault = this.drawFault(method);
    switch (fault?.fault) {
      case 'ratelimited':
        return this.rateLimited(
          method,
          rest,
          effectiveToken,
          fault.retryAfterSeconds ?? this.faultSettings.retryAfterSeconds,
          'ratelimited',
        );
      case 'internal_error': {
        const body = fail('internal_error');
        this.record(method, rest, effectiveToken, body, {
          status: 500,
          refusedBy: 'internal_error',
          applied: false,
        });
        return { status: 500, headers: { ...JSON_HEADERS }, body, holdMs: 0 };
      }
      case 'fatal_error': {
        this.answer(method, rest);
        const body = fail('fatal_error');
        this.record(method, rest, effectiveToken, body, {
          status: 200,
          refusedBy: 'fatal_error',
          applied: true,
        });
        return { status: 200, headers: { ...JSON_HEADERS }, body, holdMs: 0 };
      }
      case 'timeout': {
        // Held past the client's timeout. Applied: the method ran and its answer is late; not
        // applied: nothing ran, and a client still waiting at the end gets 503 service_unavailable.
        const applies = this.faultSettings.timeoutsApply;
        const status = applies ? 200 : 503;
        const body = applies ? this.answer(method, rest) : fail('service_unavailable');
        this.record(method, rest, effectiveToken, body, { status, refusedBy: 'timeout', applied: applies });
        const holdMs = fault.timeoutMs ?? this.faultSettings.timeoutMs;
        return { status, headers: { ...JSON_HEADERS }, body, holdMs };
      }
      default: {
        const body = this.answer(method, rest);
        this.record(method, rest, effectiveToken, body, { status: 200, applied: true });
        return { status: 200, headers: { ...JSON_HEADERS }, body, holdMs: 0 };
      }
    }
  }

  /**
   * Answers one Web API call in-process and records it: no rate limits, no injected faults (the
   * console uses it for what Slack itself does, e.g. a response_action update).
   * `token` comes from the Authorization header or the body.
   */
  call(method: string, args: SlackArgs, token: string | undefined): SlackResponse {
    const { token: bodyToken, ...rest } = args;
    const effectiveToken = token ?? (typeof bodyToken === 'string' ? bodyToken : undefined);
    const authFailure = this.authFailure(method, effectiveToken);
    const response = authFailure ?? this.answer(method, rest);
    this.record(method, rest, effectiveToken, response, { status: 200, applied: !authFailure });
    return response;
  }

  private authFailure(method: string, token: string | undefined): SlackResponse | undefined {
    if (!token) return fail('not_authed');
    if (this.tokens && !this.tokens.has(token)) return fail('invalid_auth');
    if (!this.methods[method]) return fail('unknown_method');
    return undefined;
  }

  private answer(method: string, args: SlackArgs): SlackResponse {
    const handler = this.methods[method];
    return handler ? handler(args) : fail('unknown_method');
  }

  private rateLimited(
    method: string,
    args: SlackArgs,
    token: string | undefined,
    retryAfter: number,
    refusedBy: 'ratelimit' | 'ratelimited',
  ): SlackReply {
    const body = fail('ratelimited');
    this.record(method, args, token, body, { status: 429, retryAfter, refusedBy, applied: false });
    return {
      status: 429,
      headers: { ...JSON_HEADERS, 'retry-after': String(retryAfter) },
      body,
      holdMs: 0,
    };
  }

  private record(
    method: string,
    args: SlackArgs,
    token: string | undefined,
    response: SlackResponse,
    outcome: Pick<RecordedCall, 'status' | 'retryAfter' | 'refusedBy' | 'applied'>,
  ): void {
    const call: RecordedCall = {
      seq: this.recorded.length + 1,
      at: this.now(),
      method,
      args,
      token,
      response,
      status: outcome.status,
      ...(outcome.retryAfter !== undefined ? { retryAfter: outcome.retryAfter } : {}),
      ...(outcome.refusedBy ? { refusedBy: outcome.refusedBy } : {}),
      applied: outcome.applied,
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

  /** Totals over the recorded calls (response_url replies excluded), overall and per method. */
  counters(): SlackStandInCounters {
    const totals: SlackStandInCounters = {
      ...emptyMethodCounters(),
      rateLimitedByTier: 0,
      rateLimitedInjected: 0,
      internalErrors: 0,
      fatalErrors: 0,
      timeouts: 0,
      byMethod: {},
    };
    for (const call of this.recorded) {
      if (call.method === 'response_url') continue;
      const perMethod = totals.byMethod[call.method] ?? emptyMethodCounters();
      totals.byMethod[call.method] = perMethod;
      for (const counters of [totals, perMethod]) {
        counters.calls += 1;
        if (call.response.ok) counters.ok += 1;
        else counters.errors += 1;
        if (call.status === 429) counters.rateLimited += 1;
      }
      if (call.refusedBy === 'ratelimit') totals.rateLimitedByTier += 1;
      if (call.refusedBy === 'ratelimited') totals.rateLimitedInjected += 1;
      if (call.refusedBy === 'internal_error') totals.internalErrors += 1;
      if (call.refusedBy === 'fatal_error') totals.fatalErrors += 1;
      if (call.refusedBy === 'timeout') totals.timeouts += 1;
    }
    return totals;
  }

  // ---- faults -------------------------------------------------------------------------------

  /** Replaces the given fault settings (methods and failNext replace whole); `seed` restarts the RNG. */
  setFaults(update: SlackFaultSettingsUpdate): SlackFaultSettings {
    const { seed, ...settings } = slackFaultSettingsUpdateSchema.parse(update);
    this.faultSettings = copyFaults({ ...this.faultSettings, ...settings });
    if (seed !== undefined) this.random = seededRandom(seed);
    return this.faults();
  }

  faults(): SlackFaultSettings {
    return copyFaults(this.faultSettings);
  }

  /** The one-shot fault for this call, else one drawn from the rates (only enabled rates draw). */
  private drawFault(method: string): SlackOneShotFault | undefined {
    const queue = this.faultSettings.failNext;
    const index = queue.findIndex((f) => f.method === method || f.method === '*');
    if (index >= 0) return queue.splice(index, 1)[0];
    const rates = { ...this.faultSettings, ...this.faultSettings.methods[method] };
    if (this.chance(rates.rateLimitRate)) return { method, fault: 'ratelimited' };
    if (this.chance(rates.internalErrorRate)) return { method, fault: 'internal_error' };
    if (this.chance(rates.fatalErrorRate)) return { method, fault: 'fatal_error' };
    if (this.chance(rates.timeoutRate)) return { method, fault: 'timeout' };
    return undefined;
  }

  private chance(probability: number | undefined): boolean {
    return probability !== undefined && probability > 0 && this.random() < probability;
  }

  /** The conversation chat.postMessage's per-channel bucket counts against (a DM: per user). */
  private rateLimitChannel(method: string, args: SlackArgs): string | undefined {
    if (method !== 'chat.postMessage' || typeof args.channel !== 'string' || args.channel === '') return;
    const channel = args.channel;
    if (USER_ID.test(channel)) return `dm:${channel}`;
    for (const [userId, dm] of this.dmChannels) if (dm === channel) return `dm:${userId}`;
    return channel;
  }

  // ---- reads --------------------------------------------------------------------------------

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
    return this.seededUsers.map((u) => ({ ...u, ...(this.deactivated.has(u.id) ? { deleted: true } : {}) }));
  }

  /** The workspace's user groups, disabled ones included. */
  userGroups(): UserGroupView[] {
    return [...this.groups.values()].map(userGroupView);
  }

  /** The channels the stand-in knows (seeded or used), with archive and membership state. */
  channelsSnapshot(): ChannelView[] {
    return [...this.channels.values()].map((c) => ({ ...c }));
  }

  // ---- what people and admins do outside the app --------------------------------------------

  /** The bot leaves (or is removed from) a channel: posting there answers not_in_channel. */
  removeBotFromChannel(channel: string): void {
    this.changeChannel(channel, 'bot_removed', (c) => {
      c.botMember = false;
    });
  }

  addBotToChannel(channel: string): void {
    this.changeChannel(channel, 'bot_added', (c) => {
      c.botMember = true;
    });
  }

  /** Posting answers is_archived, chat.update is_inactive. */
  archiveChannel(channel: string): void {
    this.changeChannel(channel, 'archived', (c) => {
      c.archived = true;
    });
  }

  unarchiveChannel(channel: string): void {
    this.changeChannel(channel, 'unarchived', (c) => {
      c.archived = false;
    });
  }

  /** Every method naming the channel answers channel_not_found; its messages are gone. */
  deleteChannel(channel: string): void {
    this.changeChannel(channel, 'deleted', (c) => {
      c.deleted = true;
    });
    this.channelMessages.delete(channel);
  }

  /** A person (or an admin) deletes a message: chat.update of it then answers message_not_found. */
  deleteMessage(channel: string, ts: string): boolean {
    const list = this.channelMessages.get(channel) ?? [];
    const index = list.findIndex((m) => m.ts === ts);
    const [removed] = index >= 0 ? list.splice(index, 1) : [];
    if (removed) this.emit({ type: 'message', message: removed, change: 'deleted' });
    return removed !== undefined;
  }

  /** A person's message (not the app's): chat.update answers cant_update_message. Returns its ts. */
  postUserMessage(channel: string, userId: string, text: string): string {
    const now = this.now();
    const message: StoredMessage = {
      channel,
      ts: this.nextTs(),
      text,
      blocks: undefined,
      user: userId,
      edits: 0,
      postedAt: now,
      updatedAt: now,
    };
    if (!this.isDm(channel)) this.channelState(channel, true);
    const list = this.channelMessages.get(channel) ?? [];
    list.push(message);
    this.channelMessages.set(channel, list);
    this.emit({ type: 'message', message: { ...message }, change: 'posted' });
    return message.ts;
  }

  /**
   * An admin deactivates a user. As Slack: users.info shows `deleted: true`, users.lookupByEmail
   * answers users_not_found, conversations.open answers user_disabled, chat.postEphemeral
   * user_not_in_channel (a deactivated user leaves every channel) — and chat.postMessage to the
   * user still answers ok (the DM exists; nobody reads it).
   */
  deactivateUser(userId: string): void {
    this.deactivated.add(userId);
    this.emit({ type: 'user', userId, change: 'deactivated' });
  }

  reactivateUser(userId: string): void {
    this.deactivated.delete(userId);
    this.emit({ type: 'user', userId, change: 'reactivated' });
  }

  /**
   * The group's members become exactly `members` (user ids), as an on-call tool's
   * usergroups.users.update does at a rota change. `group`: its id or handle. False when there is
   * no such group.
   */
  setUserGroupMembers(group: string, members: string[]): boolean {
    return this.changeUserGroup(group, 'members', (g) => {
      g.members = [...new Set(members)];
    });
  }

  /** An admin disables the group (usergroups.disable): date_delete non-zero, hidden unless include_disabled. */
  disableUserGroup(group: string): boolean {
    return this.changeUserGroup(group, 'disabled', (g) => {
      g.dateDelete = Math.max(1, this.nowSeconds());
    });
  }

  enableUserGroup(group: string): boolean {
    return this.changeUserGroup(group, 'enabled', (g) => {
      g.dateDelete = 0;
    });
  }

  private changeUserGroup(
    group: string,
    change: UserGroupChange,
    apply: (g: StoredUserGroup) => void,
  ): boolean {
    const byHandle = [...this.groups.values()].filter((g) => g.handle === group);
    const stored = this.groups.get(group) ?? byHandle.find((g) => g.dateDelete === 0) ?? byHandle[0];
    if (!stored) return false;
    apply(stored);
    stored.dateUpdate = this.nowSeconds();
    this.emit({ type: 'userGroup', group: userGroupView(stored), change });
    return true;
  }

  private nowSeconds(): number {
    return Math.floor(this.now() / 1000);
  }

  // ---- interactions -------------------------------------------------------------------------

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
    this.record('response_url', { response_url_id: responseUrlId, ...payload }, undefined, response, {
      status: 200,
      applied: true,
    });
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
      return messageTs ? this.chatDelete({ channel, ts: messageTs }) : fail('message_not_found');
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

  /** Back to the start: messages, views, calls, channels and users as seeded, faults, RNG and buckets. */
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
    this.faultSettings = copyFaults(this.initialFaults);
    this.random = seededRandom(this.seed);
    this.limiter?.reset();
    this.loadSeeds();
  }

  private loadSeeds(): void {
    this.channels.clear();
    for (const seed of this.channelSeeds) {
      this.channels.set(seed.id, {
        id: seed.id,
        ...(seed.name ? { name: seed.name } : {}),
        archived: seed.archived ?? false,
        deleted: false,
        botMember: seed.botMember ?? this.botIsMemberByDefault(seed.id),
      });
    }
    this.deactivated = new Set(this.seededUsers.filter((u) => u.deleted).map((u) => u.id));
    this.groups.clear();
    const seconds = this.nowSeconds();
    for (const seed of this.userGroupSeeds) {
      this.groups.set(seed.id, {
        id: seed.id,
        handle: seed.handle,
        name: seed.name,
        members: [...new Set(seed.members)],
        dateCreate: seconds,
        dateUpdate: seconds,
        dateDelete: seed.disabled ? Math.max(1, seconds) : 0,
      });
    }
  }

  private botIsMemberByDefault(channel: string): boolean {
    return this.botChannels ? this.botChannels.has(channel) : true;
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
    const refusal = this.postingRefusal(channel);
    if (refusal) return refusal;
    const content = messageContent(args);
    if (!content) return fail('no_text');
    const problems = messageBlockProblems(content.blocks);
    if (problems.length > 0) return invalidBlocks(problems);
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
    const state = this.isDm(channel) ? undefined : this.channelState(channel, false);
    if (state?.deleted) return fail('channel_not_found');
    // Slack: "The message cannot be edited within a frozen, archived or deleted channel."
    if (state?.archived) return fail('is_inactive');
    const message = this.channelMessages.get(channel)?.find((m) => m.ts === args.ts);
    if (!message) return fail('message_not_found');
    if (message.botId !== this.botId) return fail('cant_update_message');
    const content = messageContent(args);
    if (!content) return fail('no_text');
    const problems = messageBlockProblems(content.blocks);
    if (problems.length > 0) return invalidBlocks(problems);
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

  private chatDelete(args: SlackArgs): SlackResponse {
    const channel = this.resolveChannel(args.channel, false);
    if (!channel) return fail('channel_not_found');
    if (!this.isDm(channel) && this.channelState(channel, false)?.deleted) return fail('channel_not_found');
    const list = this.channelMessages.get(channel) ?? [];
    const index = list.findIndex((m) => m.ts === args.ts);
    const found = index >= 0 ? list[index] : undefined;
    if (!found) return fail('message_not_found');
    if (found.botId !== this.botId) return fail('cant_delete_message');
    list.splice(index, 1);
    this.emit({ type: 'message', message: found, change: 'deleted' });
    return { ok: true, channel, ts: found.ts };
  }

  private postEphemeral(args: SlackArgs): SlackResponse {
    const channel = this.resolveChannel(args.channel, true);
    if (!channel) return fail('channel_not_found');
    const refusal = this.postingRefusal(channel);
    if (refusal) return refusal;
    if (typeof args.user !== 'string' || !this.knowsUser(args.user) || this.deactivated.has(args.user))
      return fail('user_not_in_channel');
    const content = messageContent(args);
    if (!content) return fail('no_text');
    const problems = messageBlockProblems(content.blocks);
    if (problems.length > 0) return invalidBlocks(problems);
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
    const problems = viewProblems(view);
    if (problems.length > 0) return invalidView(problems);
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
    const problems = viewProblems(view);
    if (problems.length > 0) return invalidView(problems);
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
    const problems = viewProblems(view);
    if (problems.length > 0) return invalidView(problems);
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
    // Slack: "If the user has been deactivated, users_not_found will be returned".
    return user && !this.deactivated.has(user.id)
      ? { ok: true, user: this.userShape(user) }
      : fail('users_not_found');
  }

  private openConversation(args: SlackArgs): SlackResponse {
    if (typeof args.channel === 'string') {
      return this.channelMessages.has(args.channel) && !this.channelState(args.channel, false)?.deleted
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
    if (users.some((u) => this.deactivated.has(u))) return fail('user_disabled');
    if (users.length > 1) return fail('not_supported', { detail: 'multi-person DMs are not emulated' });
    const userId = users[0] ?? '';
    const alreadyOpen = this.dmChannels.has(userId);
    const channel = this.dmChannelFor(userId);
    return { ok: true, no_op: alreadyOpen, already_open: alreadyOpen, channel: { id: channel } };
  }

  // Slack: https://docs.slack.dev/reference/methods/usergroups.list — "Returns a list of usergroup
  // objects, in no particular order"; include_disabled "Include results for disabled User Groups",
  // include_users "Include the list of users for each User Group", include_count "Include the
  // number of users in each User Group" (user_count, a string in Slack's example response).
  // Bot scope usergroups:read (not modelled: the stand-in accepts any scope), Tier 2.
  private listUserGroups(args: SlackArgs): SlackResponse {
    const includeDisabled = flag(args.include_disabled);
    const includeUsers = flag(args.include_users);
    const includeCount = flag(args.include_count);
    const usergroups = [...this.groups.values()]
      .filter((g) => includeDisabled || g.dateDelete === 0)
      .map((g) => ({
        ...this.userGroupShape(g),
        ...(includeUsers ? { users: [...g.members] } : {}),
        ...(includeCount ? { user_count: String(g.members.length) } : {}),
      }));
    return { ok: true, usergroups };
  }

  // Slack: https://docs.slack.dev/reference/methods/usergroups.users.list — `{ok, users: [ids]}`;
  // errors no_such_subteam ("No usergroup found with the given Id"), plan_upgrade_required. For a
  // disabled group Slack documents no error of its own (there is no subteam_disabled), only that
  // include_disabled "Allow[s] results that involve disabled User Groups": without it the
  // stand-in answers no_such_subteam, as for a group that is not there. Tier 2, usergroups:read.
  private listUserGroupUsers(args: SlackArgs): SlackResponse {
    if (typeof args.usergroup !== 'string' || args.usergroup === '') return fail('invalid_arguments');
    const group = this.groups.get(args.usergroup);
    if (!group || (group.dateDelete !== 0 && !flag(args.include_disabled))) return fail('no_such_subteam');
    return { ok: true, users: [...group.members] };
  }

  private userGroupShape(group: StoredUserGroup): Record<string, unknown> {
    return {
      id: group.id,
      team_id: this.teamId,
      is_usergroup: true,
      name: group.name,
      description: '',
      handle: group.handle,
      is_external: false,
      date_create: group.dateCreate,
      date_update: group.dateUpdate,
      date_delete: group.dateDelete,
      auto_type: null,
      created_by: 'USLACKBOT',
      updated_by: 'USLACKBOT',
      deleted_by: group.dateDelete !== 0 ? 'USLACKBOT' : null,
      prefs: { channels: [], groups: [] },
    };
  }

  // ---- helpers -------------------------------------------------------------------------------

  /** A conversation id as given; a user id opens (or reuses) the app's DM with that user when allowed. */
  private resolveChannel(value: unknown, userIdOpensDm: boolean): string | undefined {
    if (typeof value !== 'string' || value === '') return undefined;
    if (USER_ID.test(value)) {
      return userIdOpensDm && this.knowsUser(value) ? this.dmChannelFor(value) : undefined;
    }
    return value;
  }

  /** Why the app may not post in `channel` (a resolved id), as chat.postMessage/postEphemeral answer. */
  private postingRefusal(channel: string): SlackResponse | undefined {
    if (this.isDm(channel)) return undefined;
    const state = this.channelState(channel, !this.strictChannels);
    if (!state || state.deleted) return fail('channel_not_found');
    if (state.archived) return fail('is_archived');
    if (!state.botMember) return fail('not_in_channel');
    return undefined;
  }

  private isDm(channel: string): boolean {
    if (!channel.startsWith('D')) return false;
    for (const dm of this.dmChannels.values()) if (dm === channel) return true;
    // A D… id the stand-in never handed out: treated as some DM, as before.
    return !this.channels.has(channel);
  }

  /** The channel's state; unknown channels are created (bot a member by default) when `create`. */
  private channelState(channel: string, create: boolean): ChannelView | undefined {
    let state = this.channels.get(channel);
    if (!state && create) {
      state = { id: channel, archived: false, deleted: false, botMember: this.botIsMemberByDefault(channel) };
      this.channels.set(channel, state);
    }
    return state;
  }

  private changeChannel(channel: string, change: ChannelChange, apply: (state: ChannelView) => void): void {
    const state = this.channelState(channel, true) as ChannelView;
    apply(state);
    this.emit({ type: 'channel', channel: { ...state }, change });
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
      ...(message.botId ? { bot_id: message.botId, app_id: this.appId } : {}),
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
      deleted: this.deactivated.has(user.id),
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

function userGroupView(group: StoredUserGroup): UserGroupView {
  return {
    id: group.id,
    handle: group.handle,
    name: group.name,
    members: [...group.members],
    disabled: group.dateDelete !== 0,
  };
}

/** Ids are unique, and so are the handles of enabled groups (Slack: a handle "Must be unique"). */
function checkUserGroupSeeds(seeds: SlackUserGroupSeed[]): SlackUserGroupSeed[] {
  const ids = new Set<string>();
  const handles = new Set<string>();
  for (const seed of seeds) {
    if (ids.has(seed.id)) throw new Error(`user group ${seed.id} is seeded twice`);
    ids.add(seed.id);
    if (seed.disabled) continue;
    if (handles.has(seed.handle)) throw new Error(`two enabled user groups have the handle ${seed.handle}`);
    handles.add(seed.handle);
  }
  return seeds.map((s) => ({ ...s, members: [...s.members] }));
}

/** A boolean argument: JSON true, or the strings WebClient's form bodies carry ('true', '1'). */
function flag(value: unknown): boolean {
  return value === true || value === 1 || value === 'true' || value === '1';
}

function emptyMethodCounters(): SlackMethodCounters {
  return { calls: 0, ok: 0, errors: 0, rateLimited: 0 };
}

function copyFaults(faults: SlackFaultSettings): SlackFaultSettings {
  return {
    ...faults,
    methods: Object.fromEntries(Object.entries(faults.methods).map(([m, r]) => [m, { ...r }])),
    failNext: faults.failNext.map((f) => ({ ...f })),
  };
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
