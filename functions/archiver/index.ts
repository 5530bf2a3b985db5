import { S3Client } from '@aws-sdk/client-s3';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import * as z from 'zod';
import { S3AuditArchive } from '../adapters/s3-audit-archive';
import { archiveKey, archiveRecord } from '../core/audit-archive';
import type { ChainLink } from '../core/audit-chain';
import { AWS_CALLS, awsClientConfig } from '../shared/clients';
import { ENV, requiredEnv } from '../shared/config';
import { logger } from '../shared/logger';
import { auditTable } from '../shared/runtime';
import { workerHandler } from '../shared/worker-handler';

// Archiver: fed by the audit table's stream (only inserted chain links, by the event source's
// filter), it copies each linked event with its link into the Object Lock bucket, once: the
// object's key is the request and link number, and a key that exists is a redelivery. Records
// come in stream order per request; on a failure the record and every later one are reported
// (ReportBatchItemFailures), so Lambda retries from there and the archive never skips ahead.

const linkSchema = z.object({
  pk: z.string().min(1),
  sk: z.string().startsWith('CHAIN#'),
  seq: z.number().int().positive(),
  eventId: z.string().min(1),
  prevHash: z.string().regex(/^[0-9a-f]{64}$/),
  hash: z.string().regex(/^[0-9a-f]{64}$/),
});

const streamSchema = z.object({
  Records: z.array(
    z.object({
      eventName: z.string(),
      dynamodb: z.object({
        NewImage: z.record(z.string(), z.unknown()).optional(),
        SequenceNumber: z.string(),
      }),
    }),
  ),
});

// Built here, not in shared/runtime.ts: only this function carries the S3 client. Rebuilt when
// its settings change (the local stack starts a stand-in per run in one process).
let archive: { settings: string; value: S3AuditArchive } | undefined;
function auditArchive(): S3AuditArchive {
  const bucket = requiredEnv(ENV.auditArchiveBucket);
  const settings = `${bucket}|${process.env.AWS_ENDPOINT_URL_S3 ?? ''}`;
  if (archive?.settings !== settings)
    archive = {
      settings,
      value: new S3AuditArchive(new S3Client(awsClientConfig(AWS_CALLS.s3Archive)), bucket),
    };
  return archive.value;
}

export const handler = workerHandler('Archiver', async (event) => {
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
      const auditEvent = (await auditTable().list(link.requestId)).find((e) => e.eventId === link.eventId);
      // The event item is written before its link: one missing is a broken table, for verify to name.
      if (!auditEvent)
        throw new Error(`event ${link.eventId} of ${link.requestId} not found for link ${link.seq}`);
      const outcome = await auditArchive().put(archiveKey(auditEvent, link), archiveRecord(auditEvent, link));
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
