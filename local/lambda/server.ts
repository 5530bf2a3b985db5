import { randomUUID } from 'node:crypto';
import http from 'node:http';
import { BodyTooLargeError, listen, readBody } from '../http';
import type { LambdaContextLike, LambdaHandler } from '../step-functions/local-step-functions';

// The Lambda Invoke API over HTTP (REST-JSON, as @aws-sdk/client-lambda speaks it) in front of
// in-process handlers, so product code that invokes another function (the Slack function handing
// a click to `decisions`, every function appending through `audit-writer`) runs unchanged against
// AWS_ENDPOINT_URL_LAMBDA. Modelled on the Invoke reference
// (https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html):
//   POST /2015-03-31/functions/{FunctionName}/invocations, X-Amz-Invocation-Type
//   RequestResponse → 200 with the handler's result; a thrown error → 200 with
//     X-Amz-Function-Error: Unhandled and {errorType, errorMessage}
//   Event → 202 at once, the handler runs afterwards (Lambda retries a failed async invocation
//     twice; modelled here as the same two retries)
//   unknown function → 404 ResourceNotFoundException; payload over 256 KB (Event) or 6 MB → 413.
// Simulated: no IAM, no concurrency limits, no cold starts.

const PATH = /^\/2015-03-31\/functions\/([^/]+)\/invocations$/;
const SYNC_LIMIT_BYTES = 6 * 1024 * 1024;
const ASYNC_LIMIT_BYTES = 256 * 1024;
const ASYNC_RETRIES = 2;

export interface RunningLambdaEndpoint {
  url: string;
  /** Resolves when every asynchronous invocation accepted so far has finished (retries included). */
  settled(): Promise<void>;
  /** Async invocations that failed after their retries (Lambda would send them to a DLQ/destination). */
  failedAsync(): Array<{ functionName: string; error: string }>;
  close(): Promise<void>;
}

/** `name`, `arn:…:function:name` or `arn:…:function:name:qualifier` → name. */
export function functionNameOf(identifier: string): string {
  const arn = /^arn:[^:]+:lambda:[^:]*:[^:]*:function:([^:]+)(?::[^:]+)?$/.exec(identifier);
  return arn?.[1] ?? identifier;
}

export async function startLambdaEndpoint(
  functions: Record<string, LambdaHandler>,
  options: { port?: number } = {},
): Promise<RunningLambdaEndpoint> {
  const pending = new Set<Promise<void>>();
  const failures: Array<{ functionName: string; error: string }> = [];

  const context = (functionName: string): LambdaContextLike => {
    const started = Date.now();
    return {
      callbackWaitsForEmptyEventLoop: true,
      functionName,
      functionVersion: '$LATEST',
      invokedFunctionArn: `arn:aws:lambda:us-east-1:000000000000:function:${functionName}`,
      memoryLimitInMB: '256',
      awsRequestId: randomUUID(),
      logGroupName: `/aws/lambda/${functionName}`,
      logStreamName: `local/[$LATEST]${randomUUID().replaceAll('-', '')}`,
      getRemainingTimeInMillis: () => Math.max(0, 30_000 - (Date.now() - started)),
      done: () => {},
      fail: () => {},
      succeed: () => {},
    };
  };

  const server = http.createServer(async (req, res) => {
    const reply = (status: number, body: string, headers: Record<string, string> = {}) => {
      res.writeHead(status, { 'content-type': 'application/json', ...headers });
      res.end(body);
    };
    const match = req.method === 'POST' ? PATH.exec(req.url?.split('?')[0] ?? '') : null;
    if (!match?.[1]) return reply(404, JSON.stringify({ message: 'Unknown operation' }));
    const functionName = functionNameOf(decodeURIComponent(match[1]));
    const handler = functions[functionName];
    if (!handler)
      return reply(404, JSON.stringify({ Type: 'User', message: `Function not found: ${functionName}` }), {
        'x-amzn-errortype': 'ResourceNotFoundException',
      });
    const invocationType = String(req.headers['x-amz-invocation-type'] ?? 'RequestResponse');
    let text: string;
    try {
      text = await readBody(req, invocationType === 'Event' ? ASYNC_LIMIT_BYTES : SYNC_LIMIT_BYTES);
    } catch (error) {
      if (error instanceof BodyTooLargeError)
        return reply(413, JSON.stringify({ message: 'Request must be smaller than the payload limit' }), {
          'x-amzn-errortype': 'RequestTooLargeException',
        });
      throw error;
    }
    let event: unknown;
    try {
      event = text ? JSON.parse(text) : {};
    } catch {
      return reply(400, JSON.stringify({ message: 'Could not parse request body into json' }), {
        'x-amzn-errortype': 'InvalidRequestContentException',
      });
    }

    if (invocationType === 'Event') {
      reply(202, '');
      const run = (async () => {
        // Lambda queues the event and answers first; the function runs afterwards.
        await new Promise((resolve) => setImmediate(resolve));
        let lastError = '';
        for (let attempt = 0; attempt <= ASYNC_RETRIES; attempt++) {
          try {
            await handler(event, context(functionName));
            return;
          } catch (error) {
            lastError = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
          }
        }
        failures.push({ functionName, error: lastError });
      })();
      pending.add(run);
      run.finally(() => pending.delete(run));
      return;
    }

    try {
      const result = await handler(event, context(functionName));
      return reply(200, result === undefined ? 'null' : JSON.stringify(result), {
        'x-amz-executed-version': '$LATEST',
      });
    } catch (error) {
      const errorType = error instanceof Error ? error.name : 'Error';
      const errorMessage = error instanceof Error ? error.message : String(error);
      return reply(200, JSON.stringify({ errorType, errorMessage }), {
        'x-amz-function-error': 'Unhandled',
        'x-amz-executed-version': '$LATEST',
      });
    }
  });
  const listening = await listen(server, options.port ?? 0);
  return {
    url: listening.url,
    async settled() {
      while (pending.size > 0) await Promise.allSettled([...pending]);
    },
    failedAsync: () => [...failures],
    async close() {
      while (pending.size > 0) await Promise.allSettled([...pending]);
      await listening.close();
    },
  };
}
