import { S3Client } from '@aws-sdk/client-s3';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { en } from 'zod/locales';
import * as z from 'zod/mini';
import { S3AuditArchive } from '../adapters/s3-audit-archive';
import { archiveKey, archiveRecord } from '../core/audit-archive';
import type { ChainLink } from '../core/audit-chain';
import { AWS_CALLS, awsClientConfig } from '../shared/clients';
import { ENV, requiredEnv } from '../shared/config';
import { auditTable, dynamoDbClient } from '../shared/dynamodb';
import { logger } from '../shared/logger';
import { once } from '../shared/once';
import { workerHandler } from '../shared/worker-handler';

// Archiver: fed by the audit table's stream (only inserted chain links, by the event source's
// filter), it copies each linked event with its link into the Object Lock bucket, once: the
// object's key is the request and link number, and a key that exists is a redelivery. Records
// come in stream order per request; on a failure the record and every later one are reported
// (ReportBatchItemFailures), so Lambda retries from there and the archive never skips ahead.

// A refused record's error names what was wrong in words (zod/mini carries no locale).
z.config(en());

const linkSchema = z.object({
  pk: z.string().check(z.minLength(1)),
  sk: z.string().check(z.startsWith('CHAIN#')),
  seq: z.int().check(z.positive()),
  eventId: z.string().check(z.minLength(1)),
  prevHash: z.string().check(z.regex(/^[0-9a-f]{64}$/)),
  hash: z.string().check(z.regex(/^[0-9a-f]{64}$/)),
});

const streamSchema = z.object({
  Records: z.array(
    z.object({
      eventName: z.string(),
      dynamodb: z.object({
        NewImage: z.optional(z.record(z.string(), z.unknown())),
        SequenceNumber: z.string(),
      }),
    }),
  ),
});

export function createHandler() {
  // Only this function carries the S3 client.
  const table = once(() => auditTable(dynamoDbClient()));
  const archive = once(
    () =>
      new S3AuditArchive(
        new S3Client(awsClientConfig(AWS_CALLS.s3Archive)),
        requiredEnv(ENV.auditArchiveBucket),
      ),
  );
  return workerHandler('Archiver', async (event) => {
    const { Records } = streamSchema.parse(event);
    for (const [index, record] of Records.entries()) {
      try {
        if (record.eventName !== 'INSERT' || !record.dynamodb.NewImage) continue;
        const image = unmarshall(record.dynamodb.NewImage as Parameters<typeof unmarshall>[0]);
        if (!String(image.sk).startsWith('CHAIN#')) continue;
        const item = linkSchema.parse(image);
        const link: ChainLink = {
          requestId: item.pk,
          seq: item.seq,
          eventId: item.eventId,
          prevHash: item.prevHash,
          hash: item.hash,
        };
        const auditEvent = (await table().list(link.requestId)).find((e) => e.eventId === link.eventId);
        // The event item is written before its link: one missing is a broken table, for verify to name.
        if (!auditEvent)
          throw new Error(`event ${link.eventId} of ${link.requestId} not found for link ${link.seq}`);
        const outcome = await archive().put(archiveKey(auditEvent, link), archiveRecord(auditEvent, link));
        logger.info('archived', { requestId: link.requestId, seq: link.seq, outcome });
      } catch (error) {
        logger.error('archive failed', { error });
        return {
          batchItemFailures: Records.slice(index).map((r) => ({ itemIdentifier: r.dynamodb.SequenceNumber })),
        };
      }
    }
    return { batchItemFailures: [] };
  });
}

export const handler = createHandler();
