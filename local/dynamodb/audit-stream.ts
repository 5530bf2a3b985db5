import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { paginateScan } from '@aws-sdk/lib-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { documentsOf } from '../../functions/adapters/dynamodb-documents';

// dynalite has no DynamoDB Streams, so the sandbox models the audit table's stream and its
// Lambda event source: every `intervalMs` it reads the links written since the last poll and
// hands them to the archiver as stream records (INSERT, NewImage), in link order per request,
// at most `batchSize` at a time, as the event source's filter would (only CHAIN# items). Records
// the handler reports in batchItemFailures come again on the next poll, as Lambda retries them.
// https://docs.aws.amazon.com/lambda/latest/dg/with-ddb.html
// Simulated: the poll reads the table (a stream would not see a later change of the item), no
// shards, no 24-hour retention.

export interface AuditStreamStandIn {
  /** Delivers every link written before the call (tests; the timer does the same). */
  poll(): Promise<void>;
  /** Link written → archived, real ms, per delivered link. */
  lagsMs(): number[];
  close(): Promise<void>;
}

export function startAuditStream(options: {
  client: DynamoDBClient;
  table: string;
  /** The archiver's handler (its Lambda context is not used). */
  handler: (event: unknown) => Promise<unknown>;
  intervalMs?: number;
  batchSize?: number;
}): AuditStreamStandIn {
  const documents = documentsOf(options.client);
  const delivered = new Set<string>();
  const lags: number[] = [];
  let sequence = 0;

  const pollOnce = async () => {
    const pending: Record<string, unknown>[] = [];
    const pages = paginateScan({ client: documents }, { TableName: options.table, ConsistentRead: true });
    for await (const page of pages)
      for (const item of page.Items ?? [])
        if (String(item.sk).startsWith('CHAIN#') && !delivered.has(`${item.pk}|${item.sk}`))
          pending.push(item);
    pending.sort(
      (a, b) => String(a.pk).localeCompare(String(b.pk)) || String(a.sk).localeCompare(String(b.sk)),
    );
    for (let i = 0; i < pending.length; i += options.batchSize ?? 100) {
      const batch = pending.slice(i, i + (options.batchSize ?? 100)).map((item) => ({
        item,
        record: {
          eventName: 'INSERT',
          eventSource: 'aws:dynamodb',
          dynamodb: { NewImage: marshall(item), SequenceNumber: String(++sequence).padStart(21, '0') },
        },
      }));
      const result = (await options.handler({ Records: batch.map((b) => b.record) })) as
        | { batchItemFailures?: Array<{ itemIdentifier: string }> }
        | undefined;
      const failed = new Set((result?.batchItemFailures ?? []).map((f) => f.itemIdentifier));
      const now = Date.now();
      for (const { item, record } of batch) {
        if (failed.has(record.dynamodb.SequenceNumber)) continue;
        delivered.add(`${item.pk}|${item.sk}`);
        if (typeof item.linkedAt === 'string') lags.push(now - Date.parse(item.linkedAt));
      }
      if (failed.size) break; // later records wait for the failed one, as on a shard
    }
  };
  // Polls run one after another; a poll asked for while one runs starts after it, so it sees
  // every link written before it was asked for.
  let chain: Promise<void> = Promise.resolve();
  let timerBusy = false;
  const poll = () => {
    chain = chain.catch(() => undefined).then(pollOnce);
    return chain;
  };
  const timer = setInterval(() => {
    if (timerBusy) return;
    timerBusy = true;
    poll()
      .catch(() => undefined) // the next poll retries
      .finally(() => {
        timerBusy = false;
      });
  }, options.intervalMs ?? 1000);
  timer.unref();
  return {
    poll,
    lagsMs: () => [...lags],
    close: async () => {
      clearInterval(timer);
      await chain.catch(() => undefined);
    },
  };
}
