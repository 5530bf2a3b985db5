import type { DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import type { WebClientOptions } from '@slack/web-api';

// Who retries each outside call, and how long one attempt may take. The product's clients
// (functions/shared/*.ts), the Slack app's Bolt client, the sandbox, the benchmarks, the
// fault campaign and the tests all take their settings from here, so none of them runs with
// retries or timeouts the product does not have.
//
// One owner per failure: a call the state machine retries (its Retry: backoff with jitter, in
// the execution history, counted in the step's budget) is not also retried by the SDK, or each
// of Grant's Step Functions attempts would make up to three Identity Center calls. The SDK
// retries only what no step retries (decisions, the Slack function) or what is never applied
// by the service (a throttled request), so repeating it cannot change an outcome.
//
// Every attempt has a request timeout, and attempts × timeout + backoff stays below the timeout
// of the smallest Lambda that makes the call (test/shared/clients.test.ts): a hung call
// surfaces as a TimeoutError, which the steps retry, instead of the Lambda being killed.

/** Lambda timeouts (infra/jit-access-stack.ts reads them from here). */
export const FUNCTION_TIMEOUT_SECONDS = {
  /** The eight state machine workers (validate … finish). */
  worker: 30,
  /** Slack's requests; Slack itself waits only 3 s for the answer. */
  slack: 10,
  decisions: 30,
  'audit-writer': 10,
  /** A stream batch of up to 100 links: a Query and a PutObject each. */
  archiver: 60,
  /** Shorter than its 5-minute schedule, so two passes never overlap. */
  reconciler: 240,
} as const;
export type FunctionRole = keyof typeof FUNCTION_TIMEOUT_SECONDS;

/**
 * Which failures the SDK retries itself; anything else goes straight to the caller.
 * - `unapplied`: a throttled request, or a connection the server dropped before answering
 *   (ECONNRESET/EPIPE/ECONNREFUSED with no response: typically a pooled keep-alive socket the
 *   server had just closed, so the request was never read). Not a request that timed out waiting
 *   for its answer, nor a 5xx: those may have been applied.
 * - `transient`: also timeouts and 5xx, for calls that are safe to repeat.
 */
export type SdkRetries = 'none' | 'unapplied' | 'transient';

export interface AwsCallSettings {
  /** Attempts per call, the first included (1: the SDK never retries). */
  attempts: number;
  retries: SdkRetries;
  /** Time to open the connection (TCP); part of the request timeout. */
  connectionTimeoutMs: number;
  /** Time for the whole attempt, connection, request and response (an error after it). */
  requestTimeoutMs: number;
  /** The functions that make these calls: the timeouts are checked against theirs. */
  usedBy: readonly FunctionRole[];
}

/** Full-jitter backoff between SDK attempts: random up to min(cap, base × 2^retry). */
export const SDK_BACKOFF = { baseMs: 100, capMs: 1000 } as const;

export const AWS_CALLS = {
  // The state machine owns these retries (Validate, Grant/CheckGrant, Revoke/CheckRevoke: 25
  // attempts each) and the reconciler its own (`transientAttempts`, within a pass). Identity
  // Center allows ~20 calls/s: an SDK retry 100 ms later meets the same throttle and multiplies
  // the calls of a burst, and a repeated CreateAccountAssignment after a lost answer is the
  // step's to reconcile through the holders record, not the SDK's. The Slack function's one read
  // (DescribePermissionSet, the request form's session line) is best-effort: not retried, and
  // waited for only briefly (core/session-exposure.ts `waitMs`) while this timeout bounds the call.
  ssoAdmin: {
    attempts: 1,
    retries: 'none',
    connectionTimeoutMs: 1000,
    requestTimeoutMs: 5000,
    usedBy: ['worker', 'reconciler', 'slack'],
  },
  // GetUserId: Validate's Retry (25 attempts) owns it; the Slack function's lookup answers the
  // person who typed, who can try again.
  identityStore: {
    attempts: 1,
    retries: 'none',
    connectionTimeoutMs: 1000,
    requestTimeoutMs: 5000,
    usedBy: ['slack', 'worker'],
  },
  // Directory group reads (identitystore: a person's own groups, a group's members): asked
  // before the Slack function answers and before decisions decides, where no step retries them
  // (decisions' retry is Lambda's, a minute later), and by workers before their step's question.
  // Reads only, so repeating one cannot change anything: a throttled or failed read is retried
  // in the call with full jitter, within Slack's 3 s for a throttle or two; what still fails
  // leaves the cache's last answer in use (core/directory.ts).
  identityStoreGroups: {
    attempts: 3,
    retries: 'transient',
    connectionTimeoutMs: 1000,
    requestTimeoutMs: 2000,
    usedBy: ['slack', 'worker', 'decisions', 'reconciler'],
  },
  // Organizations, read when the policy is compiled (synth, the policy CLI, the sandbox), never
  // in a Lambda: no step retries these reads and repeating one is safe, so the SDK retries what
  // is transient (TooManyRequestsException, ServiceException, timeouts) a few times; what still
  // fails surfaces as RetryableError (adapters/organizations-accounts.ts) and the command fails.
  organizations: {
    attempts: 4,
    retries: 'transient',
    connectionTimeoutMs: 2000,
    requestTimeoutMs: 10_000,
    usedBy: [],
  },
  // One SDK retry, for what DynamoDB did not apply (a throttle, a dropped connection): repeating
  // any call is then safe, and not worth a Step Functions transition. A timeout or a 5xx may have
  // been applied: repeating a conditional write would then read as a lost race, and repeating the
  // token's delete (ReturnValues ALL_OLD) would lose the token. Those go to the step's Retry,
  // whose handlers re-read what they wrote.
  dynamoDb: {
    attempts: 2,
    retries: 'unapplied',
    connectionTimeoutMs: 1000,
    requestTimeoutMs: 3000,
    usedBy: ['worker', 'slack', 'decisions', 'audit-writer', 'reconciler'],
  },
  // No step retries these calls: StartExecution (the Slack function; same name and input is
  // idempotent), SendTaskSuccess/Failure (decisions: the token was taken from the store, so a
  // failed send cannot be repeated later), Describe/Stop/List (the reconciler). The SDK owns
  // them. A repeated send whose first attempt landed answers TaskTimedOut, which reads as
  // "expired": a wrong message at worst, where not retrying would lose the decision.
  stepFunctions: {
    attempts: 3,
    retries: 'transient',
    connectionTimeoutMs: 1000,
    requestTimeoutMs: 2500,
    usedBy: ['slack', 'decisions', 'reconciler'],
  },
  // The synchronous audit-writer invoke. Longer than the writer's own 10 s timeout, so a slow
  // writer answers (with its error) before the caller gives up; a throttle or a dropped connection
  // is retried once, a timeout goes to the step (the writer accepts the same event again).
  auditWriterInvoke: {
    attempts: 2,
    retries: 'unapplied',
    connectionTimeoutMs: 1000,
    requestTimeoutMs: 12_000,
    usedBy: ['worker', 'decisions', 'reconciler'],
  },
  // The Slack function's asynchronous hand-off to `decisions` (InvocationType Event): Lambda
  // queues it and retries the job itself. Only what Lambda did not queue is repeated here; a
  // timed-out invoke may have been queued, and queuing it twice would answer the click twice.
  asyncInvoke: {
    attempts: 2,
    retries: 'unapplied',
    connectionTimeoutMs: 1000,
    requestTimeoutMs: 2000,
    usedBy: ['slack'],
  },
  // The archiver's PutObject with If-None-Match: repeating it is safe (a landed first attempt
  // answers 412, read as archived), and a failed batch goes back to the stream's own retries.
  s3Archive: {
    attempts: 2,
    retries: 'transient',
    connectionTimeoutMs: 1000,
    requestTimeoutMs: 5000,
    usedBy: ['archiver'],
  },
  // GetSecretValue, once per container: a read, safe to repeat on anything transient.
  secretsManager: {
    attempts: 2,
    retries: 'transient',
    connectionTimeoutMs: 1000,
    requestTimeoutMs: 2000,
    usedBy: ['slack', 'decisions', 'worker', 'reconciler'],
  },
} as const satisfies Record<string, AwsCallSettings>;
export type AwsCall = keyof typeof AWS_CALLS;

type RetryStrategyOption = NonNullable<DynamoDBClientConfig['retryStrategy']>;
type RetryStrategyV2 = Extract<RetryStrategyOption, { refreshRetryTokenForRetry: unknown }>;
type RetryToken = Awaited<ReturnType<RetryStrategyV2['acquireInitialRetryToken']>>;
type RetryErrorInfo = Parameters<RetryStrategyV2['refreshRetryTokenForRetry']>[1];

const retryToken = (count: number, delayMs: number): RetryToken => ({
  getRetryCount: () => count,
  getRetryDelay: () => delayMs,
});

const DROPPED_CONNECTION_CODES = new Set(['ECONNRESET', 'EPIPE', 'ECONNREFUSED']);

/** The connection closed before any answer (a request timeout is ETIMEDOUT, not one of these). */
function droppedConnection(error: unknown): boolean {
  const { code, $metadata } = (error ?? {}) as { code?: unknown; $metadata?: { httpStatusCode?: number } };
  return (
    typeof code === 'string' && DROPPED_CONNECTION_CODES.has(code) && $metadata?.httpStatusCode === undefined
  );
}

/** The longest wait before retry number `retry` (1-based). */
export const maxBackoffMs = (retry: number) =>
  Math.min(SDK_BACKOFF.capMs, SDK_BACKOFF.baseMs * 2 ** (retry - 1));

/**
 * The SDK's retry loop limited to the failures in `retries` (the SDK's standard strategy retries
 * every transient error and can wait up to 20 s between attempts).
 */
export class OwnedRetryStrategy implements RetryStrategyV2 {
  constructor(
    private readonly attempts: number,
    private readonly retries: SdkRetries,
  ) {}

  async acquireInitialRetryToken(): Promise<RetryToken> {
    return retryToken(0, 0);
  }

  async refreshRetryTokenForRetry(token: RetryToken, errorInfo: RetryErrorInfo): Promise<RetryToken> {
    const retry = token.getRetryCount() + 1;
    // Throwing here makes the SDK rethrow the call's own error.
    if (retry >= this.attempts || !this.retriable(errorInfo)) throw new Error('not retried');
    return retryToken(retry, Math.floor(Math.random() * maxBackoffMs(retry)));
  }

  recordSuccess(): void {}

  private retriable({ errorType, error }: RetryErrorInfo): boolean {
    if (this.retries === 'none') return false;
    if (this.retries === 'transient') return errorType !== 'CLIENT_ERROR';
    return errorType === 'THROTTLING' || droppedConnection(error);
  }
}

/** The client options for one kind of call: retries and timeouts, nothing else. */
export function awsClientConfig(settings: Omit<AwsCallSettings, 'usedBy'>) {
  return {
    maxAttempts: settings.attempts,
    retryStrategy: new OwnedRetryStrategy(settings.attempts, settings.retries),
    requestHandler: {
      connectionTimeout: settings.connectionTimeoutMs,
      requestTimeout: settings.requestTimeoutMs,
      // @smithy/node-http-handler 4.x only logs a breached requestTimeout unless told to throw.
      throwOnRequestTimeout: true,
      // No socket pool limit (the SDK's default is 50): a Lambda container runs one invocation at
      // a time and never reaches it, but where many invocations share a process (the local
      // stack) a request queued for a socket would count against connectionTimeout and fail.
      httpAgent: { maxSockets: Number.POSITIVE_INFINITY },
      httpsAgent: { maxSockets: Number.POSITIVE_INFINITY },
    },
  };
}

/** The longest one call can take: every attempt timing out, every backoff at its maximum. */
export function awsCallWorstCaseMs(settings: Omit<AwsCallSettings, 'usedBy'>): number {
  let total = settings.attempts * Math.max(settings.requestTimeoutMs, settings.connectionTimeoutMs);
  for (let retry = 1; retry < settings.attempts; retry++) total += maxBackoffMs(retry);
  return total;
}

export interface SlackClientSettings {
  options: Pick<WebClientOptions, 'timeout' | 'retryConfig' | 'rejectRateLimitedCalls'>;
  usedBy: readonly FunctionRole[];
}

export const SLACK_CLIENTS = {
  // Notifications and answers from the workers, decisions and the reconciler. One retry of a
  // failed request (Slack's 5xx or a timeout), a second apart; a repeated chat.postMessage after
  // a lost answer posts twice, which the steps' own retries would do anyway. A rate limit is
  // not slept out inside the Lambda (a long Retry-After would hold it past its timeout): the
  // client rejects it, the notifier turns it into RetryableError (adapters/slack-notifier.ts)
  // and the state machine retries the step with backoff and jitter.
  worker: {
    options: {
      timeout: 5000,
      retryConfig: { retries: 1, factor: 1, minTimeout: 1000, maxTimeout: 1000, randomize: false },
      rejectRateLimitedCalls: true,
    },
    usedBy: ['worker', 'decisions', 'reconciler'],
  },
  // The Slack function's Bolt client: Slack waits 3 s for the answer and a trigger id lives 3 s,
  // so nothing is retried or waited out; the person clicks again.
  app: {
    options: { timeout: 2500, retryConfig: { retries: 0 }, rejectRateLimitedCalls: true },
    usedBy: ['slack'],
  },
} as const satisfies Record<string, SlackClientSettings>;

/** The longest one Web API call can take, a rate limit's retry-after aside. */
export function slackCallWorstCaseMs(settings: SlackClientSettings): number {
  const { timeout = 0, retryConfig = {} } = settings.options;
  const retries = retryConfig.retries ?? 10;
  let total = (retries + 1) * timeout;
  for (let retry = 0; retry < retries; retry++) {
    const delay = (retryConfig.minTimeout ?? 1000) * (retryConfig.factor ?? 2) ** retry;
    total += Math.min(delay, retryConfig.maxTimeout ?? Number.POSITIVE_INFINITY);
  }
  return total;
}
