import { CreateTableCommand, type DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import dynalite from 'dynalite';
import { REQUESTER_INDEX, REVIEW_INDEX, STATUS_INDEX } from '../../functions/adapters/dynamodb-request-store';

// Local DynamoDB (dynalite, in memory) with the product's tables, shaped as infra/ deploys them.

export interface LocalDynamo {
  endpoint: string;
  close(): Promise<void>;
}

/** Starts dynalite: in memory, or persisted in `path` (the sandbox's --persist). */
export async function startLocalDynamo(options: { port?: number; path?: string } = {}): Promise<LocalDynamo> {
  const server = dynalite({
    createTableMs: 0,
    deleteTableMs: 0,
    updateTableMs: 0,
    ...(options.path ? { path: options.path } : {}),
  });
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', () => resolve()));
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('dynalite did not bind a port');
  return {
    endpoint: `http://127.0.0.1:${address.port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** Creates the product's tables unless they exist (a persisted sandbox keeps them). */
export async function createLocalTables(
  client: DynamoDBClient,
  names: { stateTable: string; auditTable: string },
) {
  const existing = new Set((await client.send(new ListTablesCommand({}))).TableNames ?? []);
  const keys = [
    { AttributeName: 'pk', KeyType: 'HASH' as const },
    { AttributeName: 'sk', KeyType: 'RANGE' as const },
  ];
  const gsi = (name: string, pk: string, sk: string) => ({
    IndexName: name,
    KeySchema: [
      { AttributeName: pk, KeyType: 'HASH' as const },
      { AttributeName: sk, KeyType: 'RANGE' as const },
    ],
    Projection: { ProjectionType: 'ALL' as const },
  });
  if (!existing.has(names.stateTable))
    await client.send(
      new CreateTableCommand({
        TableName: names.stateTable,
        KeySchema: keys,
        AttributeDefinitions: ['pk', 'sk', 'gsi1pk', 'gsi1sk', 'gsi2pk', 'gsi2sk', 'gsi3pk', 'gsi3sk'].map(
          (name) => ({
            AttributeName: name,
            AttributeType: 'S' as const,
          }),
        ),
        GlobalSecondaryIndexes: [
          gsi(REQUESTER_INDEX, 'gsi1pk', 'gsi1sk'),
          gsi(STATUS_INDEX, 'gsi2pk', 'gsi2sk'),
          gsi(REVIEW_INDEX, 'gsi3pk', 'gsi3sk'),
        ],
        BillingMode: 'PAY_PER_REQUEST',
      }),
    );
  if (!existing.has(names.auditTable))
    await client.send(
      new CreateTableCommand({
        TableName: names.auditTable,
        KeySchema: keys,
        AttributeDefinitions: [
          { AttributeName: 'pk', AttributeType: 'S' },
          { AttributeName: 'sk', AttributeType: 'S' },
        ],
        BillingMode: 'PAY_PER_REQUEST',
      }),
    );
}
