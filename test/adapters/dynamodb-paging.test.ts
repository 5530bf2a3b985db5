import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { DynamoDbAuditLog } from '../../functions/adapters/dynamodb-audit-log';
import { DynamoDbRequestStore } from '../../functions/adapters/dynamodb-request-store';

// The listings that read every page: each page after the first starts at the previous page's
// LastEvaluatedKey, with the same query (a consistent read where the table allows one), and the
// last page is the one without a key.

const documents = mockClient(DynamoDBDocumentClient);
afterEach(() => documents.reset());
afterAll(() => documents.restore());

const client = new DynamoDBClient({
  region: 'us-east-1',
  credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
});
// Each query as sent: the SDK's paginator reuses one input object, setting its start key per page.
let queries: Array<Record<string, unknown>> = [];
function pages(
  ...answers: Array<{ Items: Record<string, unknown>[]; LastEvaluatedKey?: Record<string, unknown> }>
) {
  queries = [];
  documents.on(QueryCommand).callsFake((input: Record<string, unknown>) => {
    queries.push(structuredClone(input));
    return answers.shift() ?? { Items: [] };
  });
}

describe('paged listings', () => {
  it('the audit log lists every page of a request, consistently, without its chain links', async () => {
    const event = (eventId: string, at: string) => ({ pk: 'req-1', sk: `EVENT#${eventId}`, eventId, at });
    pages(
      {
        Items: [event('b', '2026-12-01T09:00:02.000Z'), { pk: 'req-1', sk: 'CHAIN#1', seq: 1 }],
        LastEvaluatedKey: { pk: 'req-1', sk: 'CHAIN#1' },
      },
      { Items: [event('a', '2026-12-01T09:00:01.000Z')] },
    );

    const events = await new DynamoDbAuditLog(client, 'audit').list('req-1');

    expect(events.map((e) => e.eventId)).toEqual(['a', 'b']);
    const [first, second] = queries;
    expect(queries).toHaveLength(2);
    expect(first).toMatchObject({ TableName: 'audit', ConsistentRead: true });
    expect(first?.ExclusiveStartKey).toBeUndefined();
    expect(second).toMatchObject({
      TableName: 'audit',
      ConsistentRead: true,
      ExclusiveStartKey: { pk: 'req-1', sk: 'CHAIN#1' },
    });
  });

  it('the request store lists the holders records of every page of its index', async () => {
    const holders = (key: string) => ({ pk: `ASSIGNMENT#${key}`, sk: 'HOLDERS', holders: { key } });
    pages(
      { Items: [holders('one')], LastEvaluatedKey: { pk: 'ASSIGNMENT#one', sk: 'HOLDERS' } },
      { Items: [holders('two')] },
    );

    const records = await new DynamoDbRequestStore(client, 'state').listHolders();

    expect(records).toEqual([{ key: 'one' }, { key: 'two' }]);
    const [first, second] = queries;
    expect(queries).toHaveLength(2);
    expect(first).toMatchObject({ TableName: 'state', KeyConditionExpression: 'gsi2pk = :h' });
    expect(first?.ExclusiveStartKey).toBeUndefined();
    // A global secondary index offers no consistent read.
    expect(first?.ConsistentRead).toBeUndefined();
    expect(second).toMatchObject({ ExclusiveStartKey: { pk: 'ASSIGNMENT#one', sk: 'HOLDERS' } });
  });
});
