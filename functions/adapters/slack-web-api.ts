import { stringify } from 'node:querystring';
import type {
  ChatPostMessageArguments,
  ChatPostMessageResponse,
  ChatUpdateArguments,
  ChatUpdateResponse,
  UsergroupsListArguments,
  UsergroupsListResponse,
  UsergroupsUsersListArguments,
  UsergroupsUsersListResponse,
  UsersInfoArguments,
  UsersInfoResponse,
  UsersLookupByEmailArguments,
  UsersLookupByEmailResponse,
  ViewsPublishArguments,
  ViewsPublishResponse,
  WebClientOptions,
} from '@slack/web-api';

// The Slack Web API methods the product's functions call outside the Slack function (which has
// Bolt's WebClient): posting and updating messages, finding a person, reading user groups.
// @slack/web-api's WebClient binds every one of Slack's ~280 methods and carries a request queue
// and a retry library (p-queue, p-retry, retry, eventemitter3): ≈ 60 KB of each posting worker's
// bundle for seven methods (docs/BENCHMARKS.md). This sends the request WebClient sends (POST
// https://slack.com/api/<method>, a bearer token, a form body with nested values JSON-encoded:
// https://docs.slack.dev/apis/web-api/#basics) on Node's own fetch, and fails with WebClient's
// error shapes (`code`, `data`, `statusCode`, `retryAfter`) under the same retry settings, so the
// notifier classifies both alike; test/adapters/slack-web-api.test.ts runs both side by side.

/**
 * The methods the notifier, the user-group directory, the people lookup and the decisions
 * function's answers use. Bolt's WebClient has them too: code shared with the Slack function
 * takes either.
 */
export interface SlackWebApi {
  /** Where the methods are posted (`https://slack.com/api/`, the stand-in's locally). */
  readonly slackApiUrl: string;
  chat: {
    postMessage(args: ChatPostMessageArguments): Promise<ChatPostMessageResponse>;
    update(args: ChatUpdateArguments): Promise<ChatUpdateResponse>;
  };
  users: {
    info(args: UsersInfoArguments): Promise<UsersInfoResponse>;
    lookupByEmail(args: UsersLookupByEmailArguments): Promise<UsersLookupByEmailResponse>;
  };
  usergroups: {
    list(args?: UsergroupsListArguments): Promise<UsergroupsListResponse>;
    users: { list(args: UsergroupsUsersListArguments): Promise<UsergroupsUsersListResponse> };
  };
  views: { publish(args: ViewsPublishArguments): Promise<ViewsPublishResponse> };
}

/** The settings this client honours, named as WebClient names them (shared/clients.ts SLACK_CLIENTS). */
export type SlackWebApiSettings = Pick<WebClientOptions, 'timeout' | 'retryConfig'>;

export interface SlackWebApiOptions {
  /** Base URL with its trailing slash, as WebClient's `slackApiUrl`; the stand-in's locally. */
  slackApiUrl?: string;
  /** Waits between attempts (a test reads the delays instead of waiting them out). */
  sleep?: (ms: number) => Promise<void>;
}

/** WebClient's codes (@slack/web-api ErrorCode), which classifySlackError reads. */
export const SLACK_ERROR_CODES = {
  request: 'slack_webapi_request_error',
  http: 'slack_webapi_http_error',
  platform: 'slack_webapi_platform_error',
  rateLimited: 'slack_webapi_rate_limited_error',
} as const;

export class SlackApiError extends Error {
  constructor(
    readonly code: (typeof SLACK_ERROR_CODES)[keyof typeof SLACK_ERROR_CODES],
    message: string,
    details: {
      data?: unknown;
      body?: unknown;
      statusCode?: number;
      retryAfter?: number;
      cause?: unknown;
    } = {},
  ) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'SlackApiError';
    Object.assign(this, details);
  }
}

/** An attempt that failed in a way WebClient gives up on at once (a 429 under rejectRateLimitedCalls). */
class Final {
  constructor(readonly error: SlackApiError) {}
}

export class SlackWebApiClient implements SlackWebApi {
  readonly slackApiUrl: string;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(
    private readonly token: string,
    private readonly settings: SlackWebApiSettings,
    options: SlackWebApiOptions = {},
  ) {
    this.slackApiUrl = options.slackApiUrl ?? 'https://slack.com/api/';
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
  }

  readonly chat: SlackWebApi['chat'] = {
    postMessage: (args) => this.call('chat.postMessage', args),
    update: (args) => this.call('chat.update', args),
  };
  readonly users: SlackWebApi['users'] = {
    info: (args) => this.call('users.info', args),
    lookupByEmail: (args) => this.call('users.lookupByEmail', args),
  };
  readonly usergroups: SlackWebApi['usergroups'] = {
    list: (args = {}) => this.call('usergroups.list', args),
    users: { list: (args) => this.call('usergroups.users.list', args) },
  };
  readonly views: SlackWebApi['views'] = {
    publish: (args) => this.call('views.publish', args),
  };

  /** One method call: HTTP failures retried as WebClient retries them; Slack's `ok: false` never. */
  private async call<T>(method: string, args: object): Promise<T> {
    const response = await this.send(`${this.slackApiUrl}${method}`, formBody(args));
    // As WebClient reads an answer: a body that is not JSON is Slack's refusal, named by its text;
    // response_metadata is always there.
    const text = await response.text();
    let result: { ok?: unknown; error?: unknown; response_metadata?: Record<string, unknown> };
    try {
      result = JSON.parse(text) as typeof result;
    } catch {
      result = { ok: false, error: text };
    }
    result.response_metadata ??= {};
    const scopes = response.headers.get('x-oauth-scopes');
    if (scopes !== null) result.response_metadata.scopes = scopes.trim().split(/\s*,\s*/);
    if (result.ok !== true)
      throw new SlackApiError(SLACK_ERROR_CODES.platform, `An API error occurred: ${String(result.error)}`, {
        data: result,
      });
    return result as T;
  }

  private async send(url: string, body: string): Promise<Response> {
    const { timeout = 0, retryConfig = {} } = this.settings;
    const retries = retryConfig.retries ?? 10;
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.attempt(url, body, timeout);
      } catch (failure) {
        if (failure instanceof Final) throw failure.error;
        if (attempt >= retries) throw failure;
        // p-retry's schedule, which WebClient's retryConfig configures (randomize aside: never set).
        const delay = (retryConfig.minTimeout ?? 1000) * (retryConfig.factor ?? 2) ** attempt;
        await this.sleep(Math.min(delay, retryConfig.maxTimeout ?? Number.POSITIVE_INFINITY));
      }
    }
  }

  private async attempt(url: string, body: string, timeout: number): Promise<Response> {
    let response: Response;
    try {
      response = await fetch(url, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${this.token}`,
          'content-type': 'application/x-www-form-urlencoded',
        },
        body,
        redirect: 'error',
        ...(timeout > 0 ? { signal: AbortSignal.timeout(timeout) } : {}),
      });
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      throw new SlackApiError(SLACK_ERROR_CODES.request, `A request error occurred: ${message}`, {
        cause: error,
      });
    }
    if (response.status === 429) {
      await response.body?.cancel();
      // Never slept out inside a Lambda (a long Retry-After would hold it past its timeout): the
      // caller's step is retried with backoff instead. WebClient does this with
      // rejectRateLimitedCalls, which every setting of the product's sets.
      const retryAfter = Number.parseInt(response.headers.get('retry-after') ?? '', 10);
      throw new Final(
        Number.isNaN(retryAfter)
          ? new SlackApiError(SLACK_ERROR_CODES.http, 'A 429 without a valid Retry-After', {
              statusCode: 429,
            })
          : new SlackApiError(
              SLACK_ERROR_CODES.rateLimited,
              `A rate-limit has been reached, you may retry this request in ${retryAfter} seconds`,
              { retryAfter },
            ),
      );
    }
    // Slack's Web API uses no status but 200 and 429 for answers (WebClient treats any other as an HTTP error).
    if (response.status !== 200) {
      const text = await response.text().catch(() => '');
      throw new SlackApiError(
        SLACK_ERROR_CODES.http,
        `An HTTP protocol error occurred: statusCode = ${response.status}`,
        {
          statusCode: response.status,
          body: text,
        },
      );
    }
    return response;
  }
}

/** WebClient's form body: undefined and null left out, anything but a string, number or boolean JSON-encoded. */
function formBody(args: object): string {
  const fields: Record<string, string | number | boolean> = {};
  for (const [key, value] of Object.entries(args)) {
    if (value === undefined || value === null) continue;
    fields[key] =
      typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean'
        ? value
        : JSON.stringify(value);
  }
  return stringify(fields);
}
