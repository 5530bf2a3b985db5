import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { ListExecutionsCommand, SFNClient } from '@aws-sdk/client-sfn';
import { ListAccountAssignmentsCommand, SSOAdminClient } from '@aws-sdk/client-sso-admin';
import { WebClient } from '@slack/web-api';
import {
  AWS_CALLS,
  awsCallWorstCaseMs,
  awsClientConfig,
  FUNCTION_TIMEOUT_SECONDS,
  SLACK_CLIENTS,
  slackCallWorstCaseMs,
} from '../../functions/shared/clients';

// The retry owner and the timeouts of every outside call (functions/shared/clients.ts): each
// call gives up before its Lambda would be killed, and the SDK repeats only what it should.

describe('timeouts', () => {
  it.each(Object.entries(AWS_CALLS))(
    '%s: attempts × timeout + backoff < every caller’s Lambda timeout',
    (_, call) => {
      for (const role of call.usedBy)
        expect(awsCallWorstCaseMs(call)).toBeLessThan(FUNCTION_TIMEOUT_SECONDS[role] * 1000);
    },
  );

  it.each(Object.entries(SLACK_CLIENTS))(
    'Slack %s client: attempts × timeout + backoff < every caller’s Lambda timeout',
    (_, client) => {
      for (const role of client.usedBy)
        expect(slackCallWorstCaseMs(client)).toBeLessThan(FUNCTION_TIMEOUT_SECONDS[role] * 1000);
    },
  );

  it('lets the audit writer time out before its callers give up on it', () => {
    expect(AWS_CALLS.auditWriterInvoke.requestTimeoutMs).toBeGreaterThan(
      FUNCTION_TIMEOUT_SECONDS['audit-writer'] * 1000,
    );
  });
});

type Answer = (request: http.IncomingMessage, response: http.ServerResponse) => void;

/** A local endpoint that answers every request with `answer` and counts them. */
async function endpoint(answer: Answer) {
  let requests = 0;
  const sockets = new Set<import('node:net').Socket>();
  const server = http.createServer((request, response) => {
    requests += 1;
    request.resume();
    request.on('end', () => answer(request, response));
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests: () => requests,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

const awsError =
  (status: number, type: string): Answer =>
  (_, response) => {
    response.writeHead(status, { 'content-type': 'application/x-amz-json-1.0', 'x-amzn-errortype': type });
    response.end(JSON.stringify({ __type: type, message: 'injected' }));
  };
const hang: Answer = () => {};
/** The server closes the connection without answering (a keep-alive socket it had just closed). */
const drop: Answer = (request) => request.socket.destroy();

const local = { region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } };
const getItem = new GetItemCommand({
  TableName: 'state',
  Key: { pk: { S: 'REQUEST#r' }, sk: { S: 'REQUEST' } },
});

let server: Awaited<ReturnType<typeof endpoint>> | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe('who retries', () => {
  it('DynamoDB: the SDK repeats a throttled call once', async () => {
    server = await endpoint(awsError(400, 'ThrottlingException'));
    const client = new DynamoDBClient({
      ...local,
      endpoint: server.url,
      ...awsClientConfig(AWS_CALLS.dynamoDb),
    });
    await expect(client.send(getItem)).rejects.toMatchObject({ name: 'ThrottlingException' });
    expect(server.requests()).toBe(AWS_CALLS.dynamoDb.attempts);
  });

  it('DynamoDB: a 5xx, which may have been applied, goes to the step without an SDK retry', async () => {
    server = await endpoint(awsError(500, 'InternalServerError'));
    const client = new DynamoDBClient({
      ...local,
      endpoint: server.url,
      ...awsClientConfig(AWS_CALLS.dynamoDb),
    });
    await expect(client.send(getItem)).rejects.toMatchObject({ name: 'InternalServerError' });
    expect(server.requests()).toBe(1);
  });

  it('DynamoDB: the SDK repeats a request whose connection was dropped unanswered', async () => {
    server = await endpoint(drop);
    const client = new DynamoDBClient({
      ...local,
      endpoint: server.url,
      ...awsClientConfig(AWS_CALLS.dynamoDb),
    });
    // (Under jest a Node error is from another realm and the SDK wraps it, so match the message.)
    await expect(client.send(getItem)).rejects.toThrow(/socket hang up/);
    expect(server.requests()).toBe(AWS_CALLS.dynamoDb.attempts);
  });

  it('Identity Center: one attempt, even when throttled (the state machine retries)', async () => {
    server = await endpoint(awsError(400, 'ThrottlingException'));
    const client = new SSOAdminClient({
      ...local,
      endpoint: server.url,
      ...awsClientConfig(AWS_CALLS.ssoAdmin),
    });
    await expect(
      client.send(
        new ListAccountAssignmentsCommand({
          InstanceArn: 'arn:aws:sso:::instance/ssoins-0000000000000000',
          AccountId: '111111111111',
          PermissionSetArn: 'arn:aws:sso:::permissionSet/ssoins-0000000000000000/ps-0000000000000000',
        }),
      ),
    ).rejects.toMatchObject({ name: 'ThrottlingException' });
    expect(server.requests()).toBe(1);
  });

  it('Step Functions: the SDK owns transient failures (no step retries these calls)', async () => {
    server = await endpoint(awsError(500, 'InternalServerError'));
    const client = new SFNClient({
      ...local,
      endpoint: server.url,
      ...awsClientConfig(AWS_CALLS.stepFunctions),
    });
    await expect(
      client.send(
        new ListExecutionsCommand({ stateMachineArn: 'arn:aws:states:us-east-1:0:stateMachine:x' }),
      ),
    ).rejects.toMatchObject({ $metadata: { httpStatusCode: 500 } });
    expect(server.requests()).toBe(AWS_CALLS.stepFunctions.attempts);
  });
});

describe('a hung call', () => {
  it('surfaces as a TimeoutError after the request timeout (which the steps retry)', async () => {
    server = await endpoint(hang);
    const client = new DynamoDBClient({
      ...local,
      endpoint: server.url,
      ...awsClientConfig(AWS_CALLS.dynamoDb),
    });
    const started = Date.now();
    await expect(client.send(getItem)).rejects.toMatchObject({ name: 'TimeoutError' });
    const elapsed = Date.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(AWS_CALLS.dynamoDb.requestTimeoutMs - 50);
    expect(elapsed).toBeLessThan(FUNCTION_TIMEOUT_SECONDS['audit-writer'] * 1000);
    expect(server.requests()).toBe(1);
  }, 15_000);

  it('surfaces from the Slack function’s Web API client within Slack’s 3 seconds', async () => {
    server = await endpoint(hang);
    const client = new WebClient('xoxb-test', {
      slackApiUrl: `${server.url}/api/`,
      ...SLACK_CLIENTS.app.options,
    });
    const started = Date.now();
    await expect(client.auth.test()).rejects.toMatchObject({ code: 'slack_webapi_request_error' });
    expect(Date.now() - started).toBeLessThan(3000);
    expect(server.requests()).toBe(1);
  }, 15_000);
});
