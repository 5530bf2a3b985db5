import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { LambdaAuditLog } from '../adapters/lambda-audit-log';
import { LambdaInvoker } from '../adapters/lambda-invoke';
import { AuditTrail } from '../core/audit';
import type { Clock } from '../core/ports';
import { AWS_CALLS } from './clients';
import { ENV, requiredEnv } from './config';
import { auditTable } from './dynamodb';
import { sortableIds } from './ids';
import { logger } from './logger';

/**
 * The trail as every function but the writer appends to it: a synchronous invoke of the
 * audit-writer function (infra grants no other role PutItem on the audit table), whose timeout
 * the invoke outlasts; reads go to the table.
 */
export function auditTrail(dynamo: DynamoDBClient, clock: Clock): AuditTrail {
  const table = auditTable(dynamo);
  return new AuditTrail(
    new LambdaAuditLog(new LambdaInvoker(AWS_CALLS.auditWriterInvoke), requiredEnv(ENV.auditWriterFunction), {
      list: (requestId) => table.list(requestId),
    }),
    clock,
    sortableIds,
    (event) => logger.info('audit', { audit: event }),
  );
}
