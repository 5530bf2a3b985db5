import { defaultProvider } from '@aws-sdk/credential-provider-node';
import { Sha256 } from '@smithy/core/checksum';
import { HttpRequest, loadRestJsonErrorCode } from '@smithy/core/protocols';
import { isServerError, isThrottlingError, isTransientError } from '@smithy/core/retry';
import { NodeHttpHandler, streamCollector } from '@smithy/node-http-handler';
import { SignatureV4 } from '@smithy/signature-v4';
import type { AwsCredentialIdentityProvider, HttpResponse } from '@smithy/types';
import { type AwsCallSettings, awsClientConfig, type OwnedRetryStrategy } from '../shared/clients';

// Lambda's Invoke (https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html), the one Lambda
// API call the product makes, sent with the AWS SDK's own parts: its SigV4 signer, its credential
// chain, its Node.js HTTP handler (the same timeouts and sockets as every other client, from
// shared/clients.ts) and its error classifiers under the same OwnedRetryStrategy. Written here
// instead of taking @aws-sdk/client-lambda because that client's schema module registers all
// ~60 Lambda errors and keeps the schemas of operations never sent, as module side effects no
// bundler drops: ≈ 89 KB in every bundle that appends to the audit trail (docs/BENCHMARKS.md).
//
//   POST /2015-03-31/functions/{FunctionName}/invocations, X-Amz-Invocation-Type, the payload as
//   the body; 200 (RequestResponse) or 202 (Event); X-Amz-Function-Error when the function threw;
//   a refused call answers 4xx/5xx with X-Amzn-ErrorType (e.g. 429 TooManyRequestsException).

export interface InvokeInput {
  FunctionName: string;
  InvocationType: 'RequestResponse' | 'Event';
  Payload: Uint8Array;
}

export interface InvokeOutput {
  StatusCode: number;
  /** `Unhandled` (or `Handled`) when the function threw; Payload then holds {errorType, errorMessage}. */
  FunctionError?: string;
  Payload: Uint8Array;
}

/** What callers of Invoke depend on (the audit trail, the decision hand-off). */
export interface LambdaInvoke {
  invoke(input: InvokeInput): Promise<InvokeOutput>;
}

export interface LambdaInvokerOptions {
  /** Overrides AWS_ENDPOINT_URL_LAMBDA / AWS_ENDPOINT_URL and the regional endpoint. */
  endpoint?: string;
  region?: string;
  credentials?: AwsCredentialIdentityProvider;
}

/** A refused Invoke, shaped as the SDK shapes service errors: `name` is the error code. */
export interface LambdaServiceError extends Error {
  $fault: 'client' | 'server';
  $metadata: { httpStatusCode?: number; requestId?: string; attempts: number };
}

export class LambdaInvoker implements LambdaInvoke {
  private readonly http: NodeHttpHandler;
  private readonly retry: OwnedRetryStrategy;
  private readonly signer: SignatureV4;
  private readonly endpoint: URL;

  constructor(settings: Omit<AwsCallSettings, 'usedBy'>, options: LambdaInvokerOptions = {}) {
    const region = options.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION;
    if (!region) throw new Error('Region is missing: set AWS_REGION');
    this.endpoint = new URL(options.endpoint ?? lambdaEndpoint(region, process.env));
    // The very options every SDK client of the product gets: one place for retries and timeouts.
    const config = awsClientConfig(settings);
    this.http = NodeHttpHandler.create(config.requestHandler) as NodeHttpHandler;
    this.retry = config.retryStrategy;
    this.signer = new SignatureV4({
      service: 'lambda',
      region,
      credentials: options.credentials ?? defaultProvider(),
      sha256: Sha256,
      uriEscapePath: true,
    });
  }

  async invoke(input: InvokeInput): Promise<InvokeOutput> {
    let token = await this.retry.acquireInitialRetryToken();
    for (let attempts = 1; ; attempts++) {
      try {
        return await this.attempt(input, attempts);
      } catch (error) {
        try {
          token = await this.retry.refreshRetryTokenForRetry(token, {
            error: error as Parameters<typeof isThrottlingError>[0],
            errorType: retryErrorType(error),
          });
        } catch {
          throw error;
        }
        await new Promise((resolve) => setTimeout(resolve, token.getRetryDelay()));
      }
    }
  }

  private async attempt(input: InvokeInput, attempts: number): Promise<InvokeOutput> {
    const { protocol, hostname, port, pathname } = this.endpoint;
    const request = new HttpRequest({
      method: 'POST',
      protocol,
      hostname,
      port: port ? Number(port) : undefined,
      path: `${pathname.replace(/\/$/, '')}/2015-03-31/functions/${encodeURIComponent(input.FunctionName)}/invocations`,
      headers: {
        host: port ? `${hostname}:${port}` : hostname,
        'content-type': 'application/octet-stream',
        'content-length': String(input.Payload.byteLength),
        'x-amz-invocation-type': input.InvocationType,
      },
      body: input.Payload,
    });
    const signed = await this.signer.sign(request);
    const { response } = await this.http.handle(signed as HttpRequest, {});
    const body = await streamCollector(response.body);
    const status = response.statusCode;
    if (status >= 200 && status < 300)
      return {
        StatusCode: status,
        FunctionError: header(response, 'x-amz-function-error'),
        Payload: body,
      };
    throw serviceError(response, body, attempts);
  }
}

/** The SDK's own classification (its retry middleware's), which OwnedRetryStrategy reads. */
function retryErrorType(error: unknown): 'THROTTLING' | 'TRANSIENT' | 'SERVER_ERROR' | 'CLIENT_ERROR' {
  const sdkError = error as Parameters<typeof isThrottlingError>[0];
  if (isThrottlingError(sdkError)) return 'THROTTLING';
  if (isTransientError(sdkError)) return 'TRANSIENT';
  if (isServerError(sdkError)) return 'SERVER_ERROR';
  return 'CLIENT_ERROR';
}

function serviceError(response: HttpResponse, body: Uint8Array, attempts: number): LambdaServiceError {
  const text = new TextDecoder().decode(body);
  let data: Record<string, unknown> = {};
  try {
    const parsed: unknown = text ? JSON.parse(text) : {};
    if (parsed && typeof parsed === 'object') data = parsed as Record<string, unknown>;
  } catch {}
  const name = loadRestJsonErrorCode(response, data) ?? `Http${response.statusCode}`;
  const message = data.message ?? data.Message;
  return Object.assign(new Error(typeof message === 'string' ? message : name), {
    name,
    $fault: response.statusCode < 500 ? ('client' as const) : ('server' as const),
    $metadata: {
      httpStatusCode: response.statusCode,
      requestId: header(response, 'x-amzn-requestid'),
      attempts,
    },
  });
}

function header(response: HttpResponse, name: string): string | undefined {
  const value = Object.entries(response.headers).find(([key]) => key.toLowerCase() === name)?.[1];
  return value === undefined ? undefined : String(value);
}

/**
 * The endpoint as every SDK client finds it: AWS_ENDPOINT_URL_LAMBDA, then AWS_ENDPOINT_URL
 * (https://docs.aws.amazon.com/sdkref/latest/guide/feature-ss-endpoints.html), else the regional
 * one (https://docs.aws.amazon.com/general/latest/gr/lambda-service.html).
 */
export function lambdaEndpoint(region: string, env: NodeJS.ProcessEnv): string {
  const configured =
    env.AWS_IGNORE_CONFIGURED_ENDPOINT_URLS === 'true'
      ? undefined
      : (env.AWS_ENDPOINT_URL_LAMBDA ?? env.AWS_ENDPOINT_URL);
  return (
    configured ??
    `https://lambda.${region}.${region.startsWith('cn-') ? 'amazonaws.com.cn' : 'amazonaws.com'}`
  );
}
