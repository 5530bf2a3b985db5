import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

// The document client of a DynamoDB client, one per client. lib-dynamodb's DynamoDBDocumentClient
// writes its translate options onto the client it wraps (its constructor sets
// `client.config.translateConfig`), so a second document client made on the same client with
// other options silently changes the first one's marshalling: a store that relied on
// removeUndefinedValues would then fail its writes. Every adapter takes its documents from here.

const documents = new WeakMap<DynamoDBClient, DynamoDBDocumentClient>();

export function documentsOf(client: DynamoDBClient): DynamoDBDocumentClient {
  let found = documents.get(client);
  if (!found) {
    // Records leave optional fields undefined; they are not stored rather than refused.
    found = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
    documents.set(client, found);
  }
  return found;
}
