import { auditEventSchema } from '../core/audit';
import { AccessError } from '../core/errors';
import { auditTable, dynamoDbClient } from '../shared/dynamodb';
import { once } from '../shared/once';
import { workerHandler } from '../shared/worker-handler';

// The one writer of the audit table. Every other function invokes it with an event; it checks
// the event's shape and appends it, refusing to overwrite a different event (AuditConflictError).
// Its role is the only one with dynamodb:PutItem on the table, so a compromised worker can add
// an event through it but never rewrite one.

export function createHandler() {
  const table = once(() => auditTable(dynamoDbClient()));
  return workerHandler('AuditWriter', async (event) => {
    const parsed = auditEventSchema.safeParse(event);
    if (!parsed.success)
      throw new AccessError(
        'invalid-audit-event',
        `Audit event refused: ${parsed.error.issues[0]?.path.join('.') ?? ''} ${parsed.error.issues[0]?.message ?? ''}`,
      );
    // written: false tells the caller the event was already there (a retried step's copy).
    return { written: (await table().append(parsed.data)) === 'written' };
  });
}

export const handler = createHandler();
