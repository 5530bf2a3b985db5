import { ErrorCode, LogLevel, WebClient, WebClientEvent, type WebClientOptions } from '@slack/web-api';
import { createManualClock } from '../../../local/identity-center';
import { type RunningSlackApi, type SlackOneShotFault, startSlackApiStandIn } from '../../../local/slack-api';

// How the stand-in's refusals surface through @slack/web-api's WebClient (the product's client):
// what a product client has to be configured with to see a 429 or a 5xx as an error.

const TOKEN = 'xoxb-sandbox';
const clock = createManualClock(Date.UTC(2026, 0, 1, 9));
let running: RunningSlackApi;

beforeEach(async () => {
  running = await startSlackApiStandIn({ tokens: [TOKEN], now: clock.now, rateLimits: true });
});
afterEach(() => running.close());

function client(options: WebClientOptions): WebClient {
  return new WebClient(TOKEN, { slackApiUrl: `${running.url}/api/`, logLevel: LogLevel.ERROR, ...options });
}
const failNext = (...faults: SlackOneShotFault[]) => running.standIn.setFaults({ failNext: faults });
const statuses = () => running.standIn.calls('chat.postMessage').map((c) => c.status);
/** One retry, no backoff of its own: what the client does with the answer shows alone. */
const oneRetry = { retries: 1, factor: 1, minTimeout: 0, maxTimeout: 0 };

async function timed<T>(work: () => Promise<T>): Promise<{ ms: number; result: PromiseSettledResult<T> }> {
  const started = performance.now();
  const [result] = await Promise.allSettled([work()]);
  return { ms: performance.now() - started, result: result as PromiseSettledResult<T> };
}

describe('WebClient against the stand-in', () => {
  it('by default sleeps for Retry-After, then retries', async () => {
    failNext({ method: 'chat.postMessage', fault: 'ratelimited', retryAfterSeconds: 1 });
    const slack = client({ retryConfig: oneRetry });
    const waits: number[] = [];
    slack.on(WebClientEvent.RATE_LIMITED, (seconds: number) => waits.push(seconds));
    const { ms, result } = await timed(() => slack.chat.postMessage({ channel: 'C0A', text: 'hi' }));
    expect(result).toMatchObject({ status: 'fulfilled', value: { ok: true } });
    expect(waits).toEqual([1]);
    expect(ms).toBeGreaterThanOrEqual(950);
    expect(statuses()).toEqual([429, 200]);
  });

  it('with no retries left, still sleeps for Retry-After, then fails as a request error', async () => {
    failNext({ method: 'chat.postMessage', fault: 'ratelimited', retryAfterSeconds: 1 });
    const { ms, result } = await timed(() =>
      client({ retryConfig: { retries: 0 } }).chat.postMessage({ channel: 'C0A', text: 'hi' }),
    );
    expect(result).toMatchObject({
      status: 'rejected',
      reason: { code: ErrorCode.RequestError, original: { message: expect.stringContaining('rate limit') } },
    });
    expect(ms).toBeGreaterThanOrEqual(950);
    expect(statuses()).toEqual([429]);
  });

  it('with rejectRateLimitedCalls throws a rate-limited error at once, carrying retryAfter', async () => {
    failNext({ method: 'chat.postMessage', fault: 'ratelimited', retryAfterSeconds: 30 });
    const { ms, result } = await timed(() =>
      client({ rejectRateLimitedCalls: true, retryConfig: oneRetry }).chat.postMessage({
        channel: 'C0A',
        text: 'hi',
      }),
    );
    expect(result).toMatchObject({
      status: 'rejected',
      reason: { code: 'slack_webapi_rate_limited_error', retryAfter: 30 },
    });
    expect(ms).toBeLessThan(500);
    // Not retried, although the retry policy allowed one.
    expect(statuses()).toEqual([429]);
  });

  it("meets the tier buckets' 429 the same way: a burst to one channel", async () => {
    const slack = client({ rejectRateLimitedCalls: true, retryConfig: { retries: 0 } });
    for (let i = 0; i < 4; i++) await slack.chat.postMessage({ channel: 'C0APPROVALS', text: `n${i}` });
    await expect(slack.chat.postMessage({ channel: 'C0APPROVALS', text: 'n4' })).rejects.toMatchObject({
      code: ErrorCode.RateLimitedError,
      retryAfter: 1,
    });
    await expect(slack.chat.postMessage({ channel: 'C0OTHER', text: 'elsewhere' })).resolves.toMatchObject({
      ok: true,
    });
    clock.advance(1000);
    await expect(slack.chat.postMessage({ channel: 'C0APPROVALS', text: 'n5' })).resolves.toMatchObject({
      ok: true,
    });
    expect(running.standIn.counters()).toMatchObject({ rateLimited: 1, rateLimitedByTier: 1 });
  });

  it('sees HTTP 500 internal_error as an HTTP error, retried by its retry policy', async () => {
    failNext({ method: 'chat.postMessage', fault: 'internal_error' });
    await expect(
      client({ retryConfig: { retries: 0 } }).chat.postMessage({ channel: 'C0A', text: 'a' }),
    ).rejects.toMatchObject({ code: ErrorCode.HTTPError, statusCode: 500 });
    failNext({ method: 'chat.postMessage', fault: 'internal_error' });
    await expect(
      client({ retryConfig: oneRetry }).chat.postMessage({ channel: 'C0A', text: 'b' }),
    ).resolves.toMatchObject({ ok: true });
    expect(statuses()).toEqual([500, 500, 200]);
    expect(running.standIn.messages('C0A').map((m) => m.text)).toEqual(['b']);
  });

  it('sees fatal_error as a platform error, never retried — and the message was posted', async () => {
    failNext({ method: 'chat.postMessage', fault: 'fatal_error' });
    await expect(
      client({ retryConfig: oneRetry }).chat.postMessage({ channel: 'C0A', text: 'posted' }),
    ).rejects.toMatchObject({ code: ErrorCode.PlatformError, data: { ok: false, error: 'fatal_error' } });
    expect(statuses()).toEqual([200]);
    expect(running.standIn.messages('C0A').map((m) => m.text)).toEqual(['posted']);
  });
});
