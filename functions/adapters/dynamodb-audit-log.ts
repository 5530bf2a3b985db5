import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, GetCommand, PutCommand, paginateQuery } from '@aws-sdk/lib-dynamodb';
import { type ChainLink, canonicalJson, nextLink } from '../core/audit-chain';
import { AuditConflictError, RetryableError } from '../core/errors';
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
//
// Each event is then linked into its request's hash chain (core/audit-chain.ts): a link item
// sk = "CHAIN#<seq>" put with attribute_not_exists, so two writers linking at once cannot take
// one number (the loser reads the new head and links after it) and the chain cannot fork.

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
      if (!existing.Item || canonicalJson(stored) !== canonicalJson(replayed))
        throw new AuditConflictError(`Audit event ${key.sk} of ${event.requestId} exists with other content`);
      // The first copy's writer may have stopped before linking it: a replay finishes the job.
      await this.link({ ...replayed, at: String(existing.Item.at) } as AuditEvent);
      return 'duplicate';
    }
    await this.link(event);
    return 'written';
  }

  /** The request's chain, in order. */
  async chain(requestId: string): Promise<ChainLink[]> {
    const links: ChainLink[] = [];
    const pages = paginateQuery(
      { client: this.documents },
      {
        TableName: this.tableName,
        KeyConditionExpression: 'pk = :r AND begins_with(sk, :chain)',
        ExpressionAttributeValues: { ':r': requestId, ':chain': CHAIN_PREFIX },
        ConsistentRead: true,
      },
    );
    for await (const page of pages)
      for (const item of page.Items ?? [])
        links.push({
          requestId,
          seq: Number(item.seq),
          eventId: String(item.eventId),
          prevHash: String(item.prevHash),
          hash: String(item.hash),
        });
    return links.sort((a, b) => a.seq - b.seq);
  }

  /**
   * Links an event after its request's current head, unless it is linked already. A lost race
   * for a number is retried on the new head; a writer that keeps losing (a hundred writers on one
   * request) fails retryably, and its step's retry brings the event again. Two writers of the same
   * event (a replay racing the first run) link it once: a link put at n means the other, to put
   * at n + 1 or later, read a chain (consistently) that already held it.
   */
  private async link(event: AuditEvent): Promise<void> {
    for (let attempt = 0; attempt < LINK_ATTEMPTS; attempt++) {
      const links = await this.chain(event.requestId);
      if (links.some((l) => l.eventId === event.eventId)) return;
      const link = nextLink(links.at(-1), event);
      try {
        await this.documents.send(
          new PutCommand({
            TableName: this.tableName,
            // linkedAt (not hashed): when the link was written, for the archive's lag.
            Item: {
              pk: event.requestId,
              sk: chainKey(link.seq),
              ...link,
              linkedAt: new Date().toISOString(),
            },
            ConditionExpression: 'attribute_not_exists(pk)',
          }),
        );
        return;
      } catch (error) {
        if (!isConditionalFailure(error)) throw error;
      }
    }
    throw new RetryableError(
      `Audit event ${event.eventId} of ${event.requestId} not linked: its chain kept moving`,
    );
  }

  async list(requestId: string): Promise<AuditEvent[]> {
    const events: AuditEvent[] = [];
    const pages = paginateQuery(
      { client: this.documents },
      {
        TableName: this.tableName,
        KeyConditionExpression: 'pk = :r',
        ExpressionAttributeValues: { ':r': requestId },
        ConsistentRead: true,
      },
    );
    for await (const page of pages)
      for (const item of page.Items ?? []) {
        if (String(item.sk).startsWith(CHAIN_PREFIX)) continue;
        const { pk: _pk, sk: _sk, ...event } = item;
        events.push(event as AuditEvent);
      }
    // The key no longer orders by time (and old and new items interleave): sort here.
    return events.sort(
      (a, b) =>
        Date.parse(a.at) - Date.parse(b.at) || a.at.localeCompare(b.at) || a.eventId.localeCompare(b.eventId),
    );
  }
}

const CHAIN_PREFIX = 'CHAIN#';
/** Enough for a request's concurrent writers (a step and a click at once) to take turns. */
const LINK_ATTEMPTS = 20;

/** Zero-padded so that the keys sort in link order. */
function chainKey(seq: number): string {
  return `${CHAIN_PREFIX}${String(seq).padStart(8, '0')}`;
}
