import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { AwsLambdaReceiver, HTTPReceiver, type Logger, LogLevel } from '@slack/bolt';
import type { AwsEvent, AwsHandler, AwsResponse } from '@slack/bolt/dist/receivers/AwsLambdaReceiver';
import { logger } from '../shared/logger';
import { classifySlackBody, verifySlackSignature } from './signature';

// Bolt's receivers with the request check Bolt lacks (timestamps from the future) in front of
// them. There is deliberately no option to turn signature verification off.

/** The one path Slack posts to: commands, interactivity, options and events. */
export const SLACK_EVENTS_PATH = '/slack/events';
/** Slack bodies are small; a modal submission with a 1,000-character reason is a few KB. */
export const BODY_LIMIT_BYTES = 512 * 1024;

export interface GuardOptions {
  signingSecret: string;
  /** Milliseconds since the epoch (tests move the clock). */
  now?: () => number;
}

/** Bolt's logger interface on the product's structured logger. Bolt's debug lines carry whole payloads: dropped. */
export function boltLogger(): Logger {
  let level = LogLevel.INFO;
  return {
    debug: () => undefined,
    info: (...msg: unknown[]) => logger.info(msg.map(String).join(' ')),
    warn: (...msg: unknown[]) => logger.warn(msg.map(String).join(' ')),
    error: (...msg: unknown[]) => logger.error(msg.map(String).join(' ')),
    setLevel: (next: LogLevel) => {
      level = next;
    },
    getLevel: () => level,
    setName: () => undefined,
  };
}

function header(headers: Record<string, string | string[] | undefined>, name: string): string | undefined {
  const key = Object.keys(headers).find((k) => k.toLowerCase() === name);
  const value = key === undefined ? undefined : headers[key];
  return Array.isArray(value) ? value[0] : value;
}

type Checked =
  | { pass: true }
  | { pass: false; status: 200 | 400 | 401; body: string; contentType?: string; why: string };

function checkRequest(
  options: GuardOptions,
  rawBody: string,
  headers: Record<string, string | string[] | undefined>,
): Checked {
  const verdict = verifySlackSignature({
    signingSecret: options.signingSecret,
    rawBody,
    signature: header(headers, 'x-slack-signature'),
    timestamp: header(headers, 'x-slack-request-timestamp'),
    nowMs: (options.now ?? Date.now)(),
  });
  if (!verdict.ok) return { pass: false, status: 401, body: '', why: verdict.reason };
  const body = classifySlackBody(rawBody, header(headers, 'content-type'));
  if (body.kind === 'ssl-check') return { pass: false, status: 200, body: '', why: 'ssl-check' };
  if (body.kind === 'bad')
    return { pass: false, status: 400, body: body.message, contentType: 'text/plain', why: 'malformed' };
  return { pass: true };
}

/** Wraps a Bolt request listener: reads the body once, checks it, hands the buffered request to Bolt. */
export function guardRequestListener(bolt: RequestListener, options: GuardOptions): RequestListener {
  const answer = (res: ServerResponse, status: number, body = '', contentType = 'text/plain') => {
    res.writeHead(status, body ? { 'content-type': contentType } : {});
    res.end(body);
  };
  return (req: IncomingMessage, res: ServerResponse) => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    if (path !== SLACK_EVENTS_PATH) return answer(res, 404, 'Not found');
    if (req.method !== 'POST') return answer(res, 405, 'Use POST');
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > BODY_LIMIT_BYTES) tooLarge = true;
      else chunks.push(chunk);
    });
    req.on('error', () => answer(res, 400, 'Could not read the request'));
    req.on('end', () => {
      if (tooLarge) return answer(res, 413, 'Request body too large');
      const raw = Buffer.concat(chunks);
      const checked = checkRequest(options, raw.toString('utf8'), req.headers);
      if (!checked.pass) {
        if (checked.status === 401) logger.warn('slack request rejected', { why: checked.why });
        return answer(res, checked.status, checked.body, checked.contentType);
      }
      // Bolt reuses a buffered body (BufferedIncomingMessage.rawBody) instead of reading the stream.
      (req as IncomingMessage & { rawBody?: Buffer }).rawBody = raw;
      try {
        bolt(req, res);
      } catch (error) {
        logger.error('slack request failed', { errorName: error instanceof Error ? error.name : 'Error' });
        if (!res.headersSent) answer(res, 500, '');
      }
    });
  };
}

export interface HttpReceiverOptions extends GuardOptions {
  /** Acknowledge after listeners finish (as on Lambda); default false: the HTTP answer goes at ack(). */
  processBeforeResponse?: boolean;
}

/** Bolt's HTTPReceiver on `/slack/events`, with `requestListener` guarded (also used by `app.start`). */
export function createHttpReceiver(options: HttpReceiverOptions): HTTPReceiver {
  const receiver = new HTTPReceiver({
    signingSecret: options.signingSecret,
    endpoints: [SLACK_EVENTS_PATH],
    logger: boltLogger(),
    processBeforeResponse: options.processBeforeResponse ?? false,
    bodyLimit: BODY_LIMIT_BYTES,
  });
  receiver.requestListener = guardRequestListener(receiver.requestListener, options);
  return receiver;
}

/** API Gateway / function URL event → raw body (base64 decoded as UTF-8, which Bolt 5.1 decodes as ASCII). */
function rawBodyOf(event: AwsEvent): string {
  if (!event.body) return '';
  return event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString('utf8') : event.body;
}

/** Wraps AwsLambdaReceiver's handler with the same check. */
export function guardLambdaHandler(inner: AwsHandler, options: GuardOptions): AwsHandler {
  return async (event: AwsEvent, context: unknown): Promise<AwsResponse> => {
    if (!event || typeof event !== 'object' || !event.headers)
      return { statusCode: 400, body: 'Not an HTTP event' };
    const rawBody = rawBodyOf(event);
    if (Buffer.byteLength(rawBody) > BODY_LIMIT_BYTES)
      return { statusCode: 413, body: 'Request body too large' };
    const checked = checkRequest(options, rawBody, event.headers);
    if (!checked.pass) {
      if (checked.status === 401) logger.warn('slack request rejected', { why: checked.why });
      return {
        statusCode: checked.status,
        body: checked.body,
        ...(checked.contentType ? { headers: { 'Content-Type': checked.contentType } } : {}),
      };
    }
    return inner({ ...event, body: rawBody, isBase64Encoded: false } as AwsEvent, context);
  };
}

/** AwsLambdaReceiver whose handler runs the guard first. */
export class GuardedAwsLambdaReceiver extends AwsLambdaReceiver {
  constructor(private readonly guard: GuardOptions) {
    super({ signingSecret: guard.signingSecret, logger: boltLogger() });
  }

  override toHandler(): AwsHandler {
    return guardLambdaHandler(super.toHandler(), this.guard);
  }
}
