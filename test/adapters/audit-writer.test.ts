import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { DynamoDbAuditLog } from '../../functions/adapters/dynamodb-audit-log';
import { documentsOf } from '../../functions/adapters/dynamodb-documents';
import { LambdaAuditLog } from '../../functions/adapters/lambda-audit-log';
import { LambdaInvoker } from '../../functions/adapters/lambda-invoke';
import { exportTrail } from '../../functions/cli/audit';
import { verifyChains } from '../../functions/core/audit-chain';
import { AuditConflictError, RetryableError } from '../../functions/core/errors';
import type { AuditEvent } from '../../functions/core/model';
import { AWS_CALLS } from '../../functions/shared/clients';
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
  const client = new DynamoDBClient({});
  await createLocalTables(client, TABLES);
  table = new DynamoDbAuditLog(client, TABLES.auditTable);
  const handler = (await import('../../functions/audit-writer')).createHandler() as LambdaHandler;
  lambda = await startLambdaEndpoint({
    'audit-writer': (payload, context) => {
      if (crashWriter) throw Object.assign(new Error('Task timed out'), { name: 'TimeoutError' });
      return handler(payload, context);
    },
  });
  log = new LambdaAuditLog(
    new LambdaInvoker(AWS_CALLS.auditWriterInvoke, { endpoint: lambda.url }),
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

describe('the hash chain the writer builds', () => {
  // The request's trail as `npm run audit -- export` reads it (events in chain order, heads).
  const chained = async (requestId: string) => {
    const links = await table.chain(requestId);
    const { lines, heads } = await exportTrail(
      { client: new DynamoDBClient({}), table: TABLES.auditTable },
      { requestId },
    );
    return { links, lines, heads };
  };

  it('links concurrent writers of one request into one chain: numbers 1..n, no fork, every event once', async () => {
    const requestId = 'req-chain-concurrent';
    const events = Array.from({ length: 30 }, (_, i) =>
      event({
        requestId,
        eventId: `evt-c-${String(i).padStart(2, '0')}`,
        at: `2026-12-01T09:00:${String(i).padStart(2, '0')}.000Z`,
      }),
    );
    // Every event twice at once (a retried step racing its first run), all through the writer.
    await Promise.all([...events, ...events].map((e) => log.append(e)));

    const { links, lines, heads } = await chained(requestId);
    expect(links.map((l) => l.seq)).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
    expect(new Set(links.map((l) => l.eventId)).size).toBe(30);
    expect(verifyChains(lines, heads).breaks).toEqual([]);
  });

  it('links an event whose first write stopped before its link, when the event comes again', async () => {
    const requestId = 'req-chain-crashed';
    const documents = documentsOf(new DynamoDBClient({}));
    // The event item as a writer left it when it died between the event and its link.
    const first = event({ requestId, eventId: 'evt-crashed' });
    await documents.send(
      new PutCommand({
        TableName: TABLES.auditTable,
        Item: { pk: requestId, sk: `EVENT#${first.eventId}`, ...first },
      }),
    );
    expect(await table.chain(requestId)).toEqual([]);

    // The step's retry brings the same event (a later clock): the first copy is linked, once.
    await log.append({ ...first, at: '2026-12-01T09:05:00.000Z' });
    await log.append({ ...first, at: '2026-12-01T09:06:00.000Z' });
    const { links, lines, heads } = await chained(requestId);
    expect(links).toHaveLength(1);
    expect(lines[0]?.event.at).toBe(first.at);
    expect(verifyChains(lines, heads).breaks).toEqual([]);
  });

  it('keeps the links out of the trail readers see', async () => {
    expect((await table.list('req-chain-concurrent')).every((e) => e.eventId.startsWith('evt-c-'))).toBe(
      true,
    );
  });
});

describe('local Lambda endpoint', () => {
  it('answers an unknown function with ResourceNotFoundException', async () => {
    const other = new LambdaAuditLog(
      new LambdaInvoker(AWS_CALLS.auditWriterInvoke, { endpoint: lambda.url }),
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
