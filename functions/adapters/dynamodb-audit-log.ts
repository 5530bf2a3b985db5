import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { AuditConflictError } from '../core/errors';
import type { AuditEvent } from '../core/model';
import type { AppendOutcome, AuditLog } from '../core/ports';
import { documentsOf } from './dynamodb-documents';
import { isConditionalFailure } from './transient-errors';

// Append-only audit table: pk = request id, sk = "EVENT#<event id>". The key names the event, not
// its time: a retried step derives the same id (core/audit.ts) but not the same clock, and must
// find the first copy. Items written before this layout (sk "<ISO time>#<event id>") are still
// read; `list` returns both, sorted by time then id. Only PutItem with attribute_not_exists. In the
// deployed stack only the audit-writer function uses `append` (its role is the one allowed PutItem
// on the table); the reconciler uses `list`.

export class DynamoDbAuditLog implements AuditLog {
  private readonly documents: DynamoDBDocumentClient;

  constructor(
    client: DynamoDBClient,
    private readonly tableName: string,
  ) {
    this.documents = documentsOf(client);
  }

  /**
   * Writes the event unless its key exists. The same event again (a retried step, a redelivered
   * invocation: same content, its time aside) is accepted as already written and keeps the first
   * copy's time; a different event under an existing key is refused with AuditConflictError:
   * nothing can overwrite history.
   */
  async append(event: AuditEvent): Promise<AppendOutcome> {
    const key = { pk: event.requestId, sk: `EVENT#${event.eventId}` };
    try {
      await this.documents.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...key, ...event },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
    } catch (error) {
      if (!isConditionalFailure(error)) throw error;
      const existing = await this.documents.send(
        new GetCommand({ TableName: this.tableName, Key: key, ConsistentRead: true }),
      );
      const { pk: _pk, sk: _sk, at: _storedAt, ...stored } = existing.Item ?? {};
      const { at: _at, ...replayed } = event;
      if (!existing.Item || canonical(stored) !== canonical(replayed))
        throw new AuditConflictError(`Audit event ${key.sk} of ${event.requestId} exists with other content`);
      return 'duplicate';
    }
    return 'written';
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
    // The key no longer orders by time (and old and new items interleave): sort here.
    return events.sort(
      (a, b) =>
        Date.parse(a.at) - Date.parse(b.at) || a.at.localeCompare(b.at) || a.eventId.localeCompare(b.eventId),
    );
  }
}

/** JSON with sorted keys, so two reads of the same event compare equal. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(
          Object.entries(v as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b)),
        )
      : v,
  );
}
