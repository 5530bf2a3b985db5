import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { DynamoDbAuditLog } from '../../functions/adapters/dynamodb-audit-log';
import { LambdaAuditLog } from '../../functions/adapters/lambda-audit-log';
import { AuditConflictError, RetryableError } from '../../functions/core/errors';
import type { AuditEvent } from '../../functions/core/model';
import { AWS_CALLS, awsClientConfig } from '../../functions/shared/clients';
import { resetRuntime } from '../../functions/shared/runtime';
import { type RunningLambdaEndpoint, startLambdaEndpoint } from '../../local/lambda/server';
import type { LambdaHandler } from '../../local/step-functions/local-step-functions';
import { createLocalTables, type LocalDynamo, startLocalDynamo } from '../support/dynamo';

// The audit trail's one writer: every function appends by invoking it (LambdaAuditLog over the
// Lambda Invoke API), it checks the event and puts it without ever overwriting another one.

const TABLES = { stateTable: 'writer-state', auditTable: 'writer-audit' };
let dynamo: LocalDynamo;
let lambda: RunningLambdaEndpoint;
let crashWriter = false;
let log: LambdaAuditLog;
let table: DynamoDbAuditLog;

const event = (overrides: Partial<AuditEvent> = {}): AuditEvent => ({
  version: 1,
  requestId: 'req-writer-1',
  eventId: 'evt-0001',
  at: '2026-12-01T09:00:00.000Z',
  actor: 'system:workflow',
  action: 'grant.succeeded',
  outcome: 'success',
  details: { expiresAt: '2026-12-01T10:00:00.000Z' },
  ...overrides,
});

beforeAll(async () => {
  dynamo = await startLocalDynamo();
  Object.assign(process.env, {
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
    AUDIT_TABLE: TABLES.auditTable,
    POWERTOOLS_LOG_LEVEL: 'SILENT',
  });
  resetRuntime();
  const client = new DynamoDBClient({});
  await createLocalTables(client, TABLES);
  table = new DynamoDbAuditLog(client, TABLES.auditTable);
  const { handler } = (await import('../../functions/audit-writer')) as { handler: LambdaHandler };
  lambda = await startLambdaEndpoint({
    'audit-writer': (payload, context) => {
      if (crashWriter) throw Object.assign(new Error('Task timed out'), { name: 'TimeoutError' });
      return handler(payload, context);
    },
  });
  log = new LambdaAuditLog(
    new LambdaClient({ endpoint: lambda.url, ...awsClientConfig(AWS_CALLS.auditWriterInvoke) }),
    'audit-writer',
    table,
  );
});
afterAll(async () => {
  await lambda.close();
  await dynamo.close();
});

describe('audit writer', () => {
  it('appends an event, and the same event again (a retried step) leaves one copy', async () => {
    await log.append(event());
    await log.append(event());

    expect(await log.list('req-writer-1')).toEqual([event()]);
  });

  it('refuses a different event under an existing key: history cannot be rewritten', async () => {
    await log.append(event({ eventId: 'evt-0002' }));

    await expect(
      log.append(event({ eventId: 'evt-0002', outcome: 'failure', details: { forged: true } })),
    ).rejects.toBeInstanceOf(AuditConflictError);
    expect((await table.list('req-writer-1')).find((e) => e.eventId === 'evt-0002')?.outcome).toBe('success');
  });

  it('refuses an event that does not match the schema, and writes nothing', async () => {
    const forged = { ...event({ eventId: 'evt-0003' }), action: 'grant.forgotten' } as unknown as AuditEvent;

    await expect(log.append(forged)).rejects.toMatchObject({
      name: 'AccessError',
      code: 'audit-event-refused',
    });
    expect((await table.list('req-writer-1')).map((e) => e.eventId)).not.toContain('evt-0003');
  });

  it("turns the writer's own failure into a RetryableError, so the calling step retries", async () => {
    crashWriter = true;
    try {
      await expect(log.append(event({ eventId: 'evt-0004' }))).rejects.toBeInstanceOf(RetryableError);
    } finally {
      crashWriter = false;
    }
    await log.append(event({ eventId: 'evt-0004' }));
    expect((await table.list('req-writer-1')).map((e) => e.eventId)).toContain('evt-0004');
  });
});

describe('local Lambda endpoint', () => {
  it('answers an unknown function with ResourceNotFoundException', async () => {
    const other = new LambdaAuditLog(
      new LambdaClient({ endpoint: lambda.url, ...awsClientConfig(AWS_CALLS.auditWriterInvoke) }),
      'nope',
    );

    await expect(other.append(event())).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
  });

  it('runs an asynchronous invocation after answering, with Lambda’s two retries', async () => {
    let calls = 0;
    const endpoint = await startLambdaEndpoint({
      flaky: async () => {
        calls += 1;
        if (calls < 3) throw new Error('not yet');
        return 'done';
      },
    });
    try {
      const response = await fetch(`${endpoint.url}/2015-03-31/functions/flaky/invocations`, {
        method: 'POST',
        headers: { 'x-amz-invocation-type': 'Event' },
        body: '{}',
      });
      expect(response.status).toBe(202);
      await endpoint.settled();
      expect(calls).toBe(3);
      expect(endpoint.failedAsync()).toEqual([]);
    } finally {
      await endpoint.close();
    }
  });
});
