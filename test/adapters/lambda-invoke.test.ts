import { createHash, createHmac } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { LambdaInvoker, lambdaEndpoint } from '../../functions/adapters/lambda-invoke';
import { AWS_CALLS, awsClientConfig } from '../../functions/shared/clients';

// The product's Lambda Invoke (adapters/lambda-invoke.ts) against a server that records what
// arrives: the same request as @aws-sdk/client-lambda sends, a signature checked by an
// independent SigV4 computation, and the SDK's error shapes and retry rules.

const CREDENTIALS = {
  accessKeyId: 'AKIDEXAMPLE',
  secretAccessKey: 'secret/EXAMPLE',
  sessionToken: 'token+1',
};
const credentials = async () => CREDENTIALS;
const FUNCTION = 'arn:aws:lambda:eu-west-1:111122223333:function:audit-writer';

interface Seen {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

let server: http.Server;
let url: string;
let seen: Seen[] = [];
let answers: Array<(res: http.ServerResponse) => void> = [];

beforeAll(async () => {
  server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      seen.push({
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString(),
      });
      const answer = answers.shift();
      if (answer) answer(res);
      else res.writeHead(200, { 'content-type': 'application/json' }).end('{"written":true}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
beforeEach(() => {
  seen = [];
  answers = [];
});

const invoker = (settings: ConstructorParameters<typeof LambdaInvoker>[0] = AWS_CALLS.auditWriterInvoke) =>
  new LambdaInvoker(settings, { endpoint: url, region: 'eu-west-1', credentials });
const payload = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));

/** SigV4 from its specification (IAM User Guide, "Create a signed AWS API request"), not from the SDK. */
function expectedAuthorization(request: Seen): string {
  const [, credential, signedHeaders] =
    /Credential=([^,]+), SignedHeaders=([^,]+), Signature=/.exec(String(request.headers.authorization)) ?? [];
  const [, date, region, service] = String(credential).split('/');
  const encode = (s: string) =>
    encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  // Every service but S3 encodes each path segment once more for the canonical request.
  const canonicalUri = request.url.split('?')[0]?.split('/').map(encode).join('/');
  const names = String(signedHeaders).split(';');
  const canonicalHeaders = names.map((name) => `${name}:${String(request.headers[name]).trim()}\n`).join('');
  const bodyHash = createHash('sha256').update(request.body).digest('hex');
  const canonical = `${request.method}\n${canonicalUri}\n\n${canonicalHeaders}\n${signedHeaders}\n${bodyHash}`;
  const amzDate = String(request.headers['x-amz-date']);
  const scope = `${date}/${region}/${service}/aws4_request`;
  const toSign = [
    'AWS4-HMAC-SHA256',
    amzDate,
    scope,
    createHash('sha256').update(canonical).digest('hex'),
  ].join('\n');
  let key: Buffer = createHmac('sha256', `AWS4${CREDENTIALS.secretAccessKey}`).update(String(date)).digest();
  for (const part of [region, service, 'aws4_request'])
    key = createHmac('sha256', key).update(String(part)).digest();
  const signature = createHmac('sha256', key).update(toSign).digest('hex');
  return `AWS4-HMAC-SHA256 Credential=${credential}, SignedHeaders=${signedHeaders}, Signature=${signature}`;
}

describe('LambdaInvoker', () => {
  it('sends the request @aws-sdk/client-lambda sends, signed as SigV4 specifies', async () => {
    const event = { requestId: 'req-1', action: 'grant.succeeded' };
    await new LambdaClient({
      endpoint: url,
      region: 'eu-west-1',
      credentials,
      ...awsClientConfig(AWS_CALLS.auditWriterInvoke),
    }).send(
      new InvokeCommand({
        FunctionName: FUNCTION,
        InvocationType: 'RequestResponse',
        Payload: payload(event),
      }),
    );
    const result = await invoker().invoke({
      FunctionName: FUNCTION,
      InvocationType: 'RequestResponse',
      Payload: payload(event),
    });

    const [sdk, ours] = seen as [Seen, Seen];
    const shape = (r: Seen) => ({
      method: r.method,
      url: r.url,
      body: r.body,
      type: r.headers['x-amz-invocation-type'],
      contentType: r.headers['content-type'],
      length: r.headers['content-length'],
      token: r.headers['x-amz-security-token'],
      scope: /Credential=[^/]+\/\d{8}\/([^,]+),/.exec(String(r.headers.authorization))?.[1],
    });
    expect(shape(ours)).toEqual(shape(sdk));
    expect(shape(ours)).toMatchObject({
      url: '/2015-03-31/functions/arn%3Aaws%3Alambda%3Aeu-west-1%3A111122223333%3Afunction%3Aaudit-writer/invocations',
      scope: 'eu-west-1/lambda/aws4_request',
      token: 'token+1',
    });
    // The signature covers what arrived (host with its port, the path, the body, the token).
    expect(String(ours.headers.authorization)).toMatch(/SignedHeaders=[^,]*host;[^,]*x-amz-security-token/);
    expect(ours.headers.authorization).toBe(expectedAuthorization(ours));
    expect(sdk.headers.authorization).toBe(expectedAuthorization(sdk));
    expect({ ...result, Payload: new TextDecoder().decode(result.Payload) }).toEqual({
      StatusCode: 200,
      FunctionError: undefined,
      Payload: '{"written":true}',
    });
  });

  it('reads a function error from X-Amz-Function-Error, and an Event invocation answered 202', async () => {
    answers.push((res) =>
      res
        .writeHead(200, { 'x-amz-function-error': 'Unhandled' })
        .end('{"errorType":"AuditConflictError","errorMessage":"exists"}'),
    );
    answers.push((res) => res.writeHead(202).end());

    const failed = await invoker().invoke({
      FunctionName: 'f',
      InvocationType: 'RequestResponse',
      Payload: payload({}),
    });
    const queued = await invoker(AWS_CALLS.asyncInvoke).invoke({
      FunctionName: 'f',
      InvocationType: 'Event',
      Payload: payload({}),
    });

    expect(failed.FunctionError).toBe('Unhandled');
    expect(JSON.parse(new TextDecoder().decode(failed.Payload))).toEqual({
      errorType: 'AuditConflictError',
      errorMessage: 'exists',
    });
    expect(queued).toEqual({ StatusCode: 202, FunctionError: undefined, Payload: new Uint8Array() });
    expect(seen.map((r) => r.headers['x-amz-invocation-type'])).toEqual(['RequestResponse', 'Event']);
  });

  it('retries a throttle once (what Lambda did not run), and names the error as the SDK does', async () => {
    const throttle = (res: http.ServerResponse) =>
      res
        .writeHead(429, {
          'x-amzn-errortype':
            'TooManyRequestsException:http://internal.amazon.com/coral/com.amazon.awsgirapi/',
          'x-amzn-requestid': 'rid-1',
        })
        .end(
          '{"Type":"User","message":"Rate Exceeded.","Reason":"ReservedFunctionConcurrentInvocationLimitExceeded"}',
        );
    answers.push(throttle);

    await invoker().invoke({ FunctionName: 'f', InvocationType: 'RequestResponse', Payload: payload({}) });
    expect(seen).toHaveLength(2);

    answers.push(throttle, throttle);
    const error = await invoker()
      .invoke({ FunctionName: 'f', InvocationType: 'RequestResponse', Payload: payload({}) })
      .catch((e: unknown) => e);
    expect(seen).toHaveLength(4);
    expect(error).toMatchObject({
      name: 'TooManyRequestsException',
      message: 'Rate Exceeded.',
      $fault: 'client',
      $metadata: { httpStatusCode: 429, requestId: 'rid-1', attempts: 2 },
    });
  });

  it('does not repeat what may have run (a 5xx) nor a refusal (a 404)', async () => {
    answers.push((res) =>
      res.writeHead(500, { 'x-amzn-errortype': 'ServiceException' }).end('{"message":"boom"}'),
    );
    await expect(
      invoker().invoke({ FunctionName: 'f', InvocationType: 'RequestResponse', Payload: payload({}) }),
    ).rejects.toMatchObject({
      name: 'ServiceException',
      $fault: 'server',
      $metadata: { httpStatusCode: 500 },
    });
    answers.push((res) =>
      res
        .writeHead(404, { 'x-amzn-errortype': 'ResourceNotFoundException' })
        .end('{"Message":"Function not found"}'),
    );
    await expect(
      invoker().invoke({ FunctionName: 'f', InvocationType: 'RequestResponse', Payload: payload({}) }),
    ).rejects.toMatchObject({ name: 'ResourceNotFoundException', message: 'Function not found' });
    expect(seen).toHaveLength(2);
  });

  it('gives up an attempt at its request timeout with the SDK TimeoutError', async () => {
    answers.push((res) => setTimeout(() => res.writeHead(200).end('null'), 1000));
    const settings = {
      attempts: 1,
      retries: 'none' as const,
      connectionTimeoutMs: 100,
      requestTimeoutMs: 150,
    };

    await expect(
      invoker(settings).invoke({
        FunctionName: 'f',
        InvocationType: 'RequestResponse',
        Payload: payload({}),
      }),
    ).rejects.toMatchObject({ name: 'TimeoutError' });
  });

  it('finds its endpoint as the SDK clients do', () => {
    expect(lambdaEndpoint('eu-west-1', {})).toBe('https://lambda.eu-west-1.amazonaws.com');
    expect(lambdaEndpoint('cn-north-1', {})).toBe('https://lambda.cn-north-1.amazonaws.com.cn');
    expect(
      lambdaEndpoint('eu-west-1', { AWS_ENDPOINT_URL: 'http://a', AWS_ENDPOINT_URL_LAMBDA: 'http://b' }),
    ).toBe('http://b');
    expect(lambdaEndpoint('eu-west-1', { AWS_ENDPOINT_URL: 'http://a' })).toBe('http://a');
    expect(
      lambdaEndpoint('eu-west-1', {
        AWS_ENDPOINT_URL: 'http://a',
        AWS_IGNORE_CONFIGURED_ENDPOINT_URLS: 'true',
      }),
    ).toBe('https://lambda.eu-west-1.amazonaws.com');
  });
});
