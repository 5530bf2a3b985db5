import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { AuditEvent } from '../core/model';
import type { AuditLog } from '../core/ports';

// Append-only audit table: pk = request id, sk = "<ISO time>#<event id>" (ordered by time).
// Only PutItem with attribute_not_exists: the application never updates or deletes an event,
// and the deployed roles are not allowed to.

export class DynamoDbAuditLog implements AuditLog {
  private readonly documents: DynamoDBDocumentClient;

  constructor(
    client: DynamoDBClient,
    private readonly tableName: string,
  ) {
    this.documents = DynamoDBDocumentClient.from(client, {
      marshallOptions: { removeUndefinedValues: true },
    });
  }

  async append(event: AuditEvent): Promise<void> {
    await this.documents.send(
      new PutCommand({
        TableName: this.tableName,
        Item: { pk: event.requestId, sk: `${event.at}#${event.eventId}`, ...event },
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    );
  }

  async list(requestId: string): Promise<AuditEvent[]> {
    const events: AuditEvent[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await this.documents.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'pk = :r',
          ExpressionAttributeValues: { ':r': requestId },
          ConsistentRead: true,
          ExclusiveStartKey: startKey,
        }),
      );
      for (const item of page.Items ?? []) {
        const { pk: _pk, sk: _sk, ...event } = item;
        events.push(event as AuditEvent);
      }
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return events;
  }
}
