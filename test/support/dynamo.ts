// Tests use the sandbox's local DynamoDB helpers.
import { createLocalTables, type LocalDynamo, startLocalDynamo } from '../../local/dynamodb/local-dynamo';

export { createLocalTables, type LocalDynamo, startLocalDynamo };

import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { AWS_CALLS, awsClientConfig } from '../../functions/shared/clients';

/** A DynamoDB client for a local endpoint with the production client settings (retries, timeouts). */
export function localDynamoClient(endpoint: string): DynamoDBClient {
  return new DynamoDBClient({
    region: 'us-east-1',
    endpoint,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    ...awsClientConfig(AWS_CALLS.dynamoDb),
  });
}

/**
 * A dynalite for one test file (started before its tests, closed after) and fresh tables on
 * demand, each pair named `<prefix>-state-N` / `<prefix>-audit-N`.
 */
export function useLocalDynamo(prefix: string) {
  let dynamo: LocalDynamo | undefined;
  let client: DynamoDBClient | undefined;
  let count = 0;
  beforeAll(async () => {
    dynamo = await startLocalDynamo();
    client = localDynamoClient(dynamo.endpoint);
  });
  afterAll(async () => {
    client?.destroy();
    await dynamo?.close();
  });
  const started = () => {
    if (!client) throw new Error('useLocalDynamo: the local DynamoDB is not started yet');
    return client;
  };
  return {
    client: started,
    async freshTables() {
      count += 1;
      const names = { stateTable: `${prefix}-state-${count}`, auditTable: `${prefix}-audit-${count}` };
      await createLocalTables(started(), names);
      return names;
    },
  };
}
