// Tests use the sandbox's local DynamoDB helpers.
export { createLocalTables, type LocalDynamo, startLocalDynamo } from '../../local/dynamodb/local-dynamo';

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
