import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDbAdmissionSchedule } from '../../functions/adapters/dynamodb-admission-schedule';
import { DynamoDbRequestStore } from '../../functions/adapters/dynamodb-request-store';
import type { RequestRecord } from '../../functions/core/model';
import { createLocalTables, type LocalDynamo, localDynamoClient, startLocalDynamo } from '../support/dynamo';

// A Lambda builds all its DynamoDB adapters on one client (functions/shared/dynamodb.ts).
// lib-dynamodb's document client writes its marshalling options onto the client it wraps, so an
// adapter made later with other options used to switch off the request store's
// removeUndefinedValues: a grant or validate worker that had taken an admission number then failed
// every record write with an optional field left undefined.

let dynamo: LocalDynamo;
let client: DynamoDBClient;
const TABLES = { stateTable: 'documents-state', auditTable: 'documents-audit' };

beforeAll(async () => {
  dynamo = await startLocalDynamo();
  client = localDynamoClient(dynamo.endpoint);
  await createLocalTables(client, TABLES);
});
afterAll(async () => {
  client.destroy();
  await dynamo.close();
});

it('keeps the request store writing records with undefined fields after a schedule is built on the same client', async () => {
  const store = new DynamoDbRequestStore(client, TABLES.stateTable);
  const schedule = new DynamoDbAdmissionSchedule(client, TABLES.stateTable, 'slack-channel#C0APPROVALS');
  expect(await schedule.reserve(1000, Date.parse('2026-12-01T09:00:00Z'))).toBeDefined();
  const record = {
    version: 1,
    request: {
      requestId: 'req-documents-1',
      requester: { email: 'alice@example.com', slackUserId: 'U0ALICE' },
      accountId: '222222222222',
      permissionSetArn: 'arn:aws:sso:::permissionSet/ssoins-7223a1b2c3d4e5f6/ps-1a2b3c4d5e6f7a8b',
      durationMinutes: 60,
      reason: 'Incident 42',
      requestedAt: '2026-12-01T09:00:00.000Z',
    },
    status: 'PENDING_APPROVAL',
    approvals: [],
    updatedAt: '2026-12-01T09:00:00.000Z',
    failureReason: undefined,
  } as RequestRecord;
  expect((await store.createRequest(record)).created).toBe(true);
  const updated = await store.updateRequest('req-documents-1', ['PENDING_APPROVAL'], {
    status: 'APPROVED',
    pendingExtensionMinutes: undefined,
  });
  expect(updated.ok).toBe(true);
  expect((await store.getRequest('req-documents-1'))?.status).toBe('APPROVED');
});
