// Slack's Web API rate limits, as Slack documents them, for the stand-in.
//
// Source: https://docs.slack.dev/apis/web-api/rate-limits (also api.slack.com/apis/rate-limits):
//   limits apply "per API method per app per workspace", in per-minute windows —
//   Tier 1 "1+ per minute", Tier 2 "20+ per minute", Tier 3 "50+ per minute", Tier 4 "100+ per
//   minute" ("generous burst behavior"); Special tier: "chat.postMessage generally allows posting
//   one message per second per channel, while also maintaining a workspace-wide limit"; "Posting
//   messages: 1 per second. Short bursts >1 allowed." Over a limit Slack answers HTTP 429 with a
//   Retry-After header (seconds) and `{"ok": false, "error": "ratelimited"}` ("The request has been
//   ratelimited. Refer to the Retry-After header for when to retry the request").
// Each method's tier is on its reference page, Facts → Rate limits
// (https://docs.slack.dev/reference/methods/<method>), e.g. chat.update "Tier 3", views.open
// "Tier 4", users.lookupByEmail "Tier 3", conversations.open "Tier 3"; auth.test "Special rate
// limits apply … hundreds of requests per minute"; usergroups.list and usergroups.users.list
// "Tier 2: 20+ per minute" (https://docs.slack.dev/reference/methods/usergroups.list and
// …/usergroups.users.list).
//
// Slack publishes neither burst sizes nor the workspace-wide message limit's number: those below are
// this stand-in's choices (configurable), not Slack's.

export type RateLimitTier = 'tier1' | 'tier2' | 'tier3' | 'tier4';

/** A token bucket: `perMinute` tokens a minute, at most `burst` at once. */
export interface BucketSpec {
  perMinute: number;
  burst: number;
}

export interface RateLimitSettings {
  /** Per method per workspace, by tier. A bucket holds one minute's allowance. */
  tiers: Record<RateLimitTier, BucketSpec>;
  /** Each method's tier, or a bucket of its own (the special-tier methods). */
  methods: Record<string, RateLimitTier | BucketSpec>;
  /** Methods not listed in `methods`. */
  defaultTier: RateLimitTier;
  /** chat.postMessage, per channel (a DM is a channel): 1 per second, short bursts. */
  postMessagePerChannel: BucketSpec;
  /** chat.postMessage across the workspace. */
  postMessagePerWorkspace: BucketSpec;
}

export const SLACK_TIERS: Record<RateLimitTier, BucketSpec> = {
  tier1: { perMinute: 1, burst: 1 },
  tier2: { perMinute: 20, burst: 20 },
  tier3: { perMinute: 50, burst: 50 },
  tier4: { perMinute: 100, burst: 100 },
};

/** The methods the stand-in serves, with the tier their reference page gives. */
export const SLACK_METHOD_TIERS: Record<string, RateLimitTier | BucketSpec> = {
  // Special: "hundreds of requests per minute".
  'auth.test': { perMinute: 600, burst: 600 },
  // Special: limited per channel and per workspace (postMessagePerChannel / PerWorkspace).
  'chat.postMessage': { perMinute: Number.POSITIVE_INFINITY, burst: Number.POSITIVE_INFINITY },
  'chat.update': 'tier3',
  'chat.delete': 'tier3',
  'chat.postEphemeral': 'tier4',
  'views.open': 'tier4',
  'views.push': 'tier4',
  'views.update': 'tier4',
  'views.publish': 'tier4',
  'users.info': 'tier4',
  'users.lookupByEmail': 'tier3',
  'conversations.open': 'tier3',
  'usergroups.list': 'tier2',
  'usergroups.users.list': 'tier2',
};

export const SLACK_RATE_LIMITS: RateLimitSettings = {
  tiers: SLACK_TIERS,
  methods: SLACK_METHOD_TIERS,
  defaultTier: 'tier3',
  // 1 per second; a burst of 4 (Slack: "short bursts >1 allowed", size unpublished).
  postMessagePerChannel: { perMinute: 60, burst: 4 },
  // "A workspace-wide limit" with no published number: several hundred a minute.
  postMessagePerWorkspace: { perMinute: 300, burst: 300 },
};

/** Partial overrides of the defaults (tiers and methods merge key by key). */
export interface RateLimitOverrides {
  tiers?: Partial<Record<RateLimitTier, BucketSpec>>;
  methods?: Record<string, RateLimitTier | BucketSpec>;
  defaultTier?: RateLimitTier;
  postMessagePerChannel?: BucketSpec;
  postMessagePerWorkspace?: BucketSpec;
}

export function rateLimitSettings(overrides: RateLimitOverrides = {}): RateLimitSettings {
  return {
    tiers: { ...SLACK_RATE_LIMITS.tiers, ...overrides.tiers },
    methods: { ...SLACK_RATE_LIMITS.methods, ...overrides.methods },
    defaultTier: overrides.defaultTier ?? SLACK_RATE_LIMITS.defaultTier,
    postMessagePerChannel: overrides.postMessagePerChannel ?? SLACK_RATE_LIMITS.postMessagePerChannel,
    postMessagePerWorkspace: overrides.postMessagePerWorkspace ?? SLACK_RATE_LIMITS.postMessagePerWorkspace,
  };
}

/** Refills continuously from the injected clock; says how long until the next token. */
export class RefillingBucket {
  private tokens: number;
  private last: number;

  constructor(
    private readonly spec: BucketSpec,
    private readonly now: () => number,
  ) {
    this.tokens = spec.burst;
    this.last = now();
  }

  /** Takes a token, or answers how many ms until one is there (nothing taken). */
  take(): { ok: true } | { ok: false; waitMs: number } {
    if (!Number.isFinite(this.spec.perMinute)) return { ok: true };
    this.refill();
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return { ok: true };
    }
    if (this.spec.perMinute <= 0) return { ok: false, waitMs: 60_000 };
    return { ok: false, waitMs: ((1 - this.tokens) * 60_000) / this.spec.perMinute };
  }

  /** Gives back a token taken by a call another limit then refused. */
  giveBack(): void {
    if (Number.isFinite(this.spec.perMinute)) this.tokens = Math.min(this.spec.burst, this.tokens + 1);
  }

  private refill(): void {
    const now = this.now();
    const elapsed = Math.max(0, now - this.last);
    this.tokens = Math.min(this.spec.burst, this.tokens + (elapsed * this.spec.perMinute) / 60_000);
    this.last = now;
  }
}

/**
 * The stand-in's buckets: one per method (per workspace: the stand-in is one workspace and one
 * app), plus chat.postMessage's per channel and workspace-wide ones.
 */
export class SlackRateLimiter {
  private buckets = new Map<string, RefillingBucket>();

  constructor(
    readonly settings: RateLimitSettings,
    private readonly now: () => number,
  ) {}

  /** `channel`: chat.postMessage's resolved conversation. Answers the Retry-After in seconds. */
  check(method: string, channel?: string): { ok: true } | { ok: false; retryAfterSeconds: number } {
    const taken: RefillingBucket[] = [];
    for (const [key, spec] of this.limitsFor(method, channel)) {
      const bucket = this.bucket(key, spec);
      const result = bucket.take();
      if (!result.ok) {
        for (const t of taken) t.giveBack();
        // Slack's Retry-After is whole seconds; never 0, or a client would hammer.
        return { ok: false, retryAfterSeconds: Math.max(1, Math.ceil(result.waitMs / 1000)) };
      }
      taken.push(bucket);
    }
    return { ok: true };
  }

  reset(): void {
    this.buckets.clear();
  }

  private limitsFor(method: string, channel: string | undefined): [string, BucketSpec][] {
    const own = this.settings.methods[method] ?? this.settings.defaultTier;
    const spec = typeof own === 'string' ? this.settings.tiers[own] : own;
    const limits: [string, BucketSpec][] = [[`method:${method}`, spec]];
    if (method === 'chat.postMessage') {
      limits.push(['chat.postMessage:workspace', this.settings.postMessagePerWorkspace]);
      if (channel) limits.push([`chat.postMessage:channel:${channel}`, this.settings.postMessagePerChannel]);
    }
    return limits;
  }

  private bucket(key: string, spec: BucketSpec): RefillingBucket {
    let bucket = this.buckets.get(key);
    if (!bucket) {
      bucket = new RefillingBucket(spec, this.now);
      this.buckets.set(key, bucket);
    }
    return bucket;
  }
}
