import { DynamoDbAuditLog } from '../../functions/adapters/dynamodb-audit-log';
import { AuditConflictError } from '../../functions/core/errors';
import type { AuditEvent } from '../../functions/core/model';
import type { AuditLog } from '../../functions/core/ports';
import { MemoryAuditLog } from '../reliability/fakes';
import { useLocalDynamo } from '../support/dynamo';

// What the core relies on from its AuditLog (append-only, identified by request and event id,
// listed in time order), checked on the in-memory fake and on the DynamoDB table alike. The hash
// chain is the DynamoDB adapter's own (not on the port) and is tested with it.

const event = (overrides: Partial<AuditEvent> = {}): AuditEvent => ({
  version: 1,
  requestId: 'req-audit-1',
  eventId: 'evt-00000001',
  at: '2026-12-01T09:00:00.000Z',
  actor: 'system:workflow',
  action: 'grant.succeeded',
  outcome: 'success',
  details: { expiresAt: '2026-12-01T10:00:00.000Z', minutes: 60, preExisting: false, ticket: null },
  ...overrides,
});

function auditLogContract(make: () => Promise<AuditLog>): void {
  let log: AuditLog;
  beforeEach(async () => {
    log = await make();
  });

  it('writes an event, and takes the same event again as a duplicate that leaves one copy', async () => {
    expect(await log.append(event())).toBe('written');
    expect(await log.append(event())).toBe('duplicate');
    expect(await log.list('req-audit-1')).toEqual([event()]);
  });

  it("takes a retried step's copy (a later time, details in another key order) as a duplicate, keeping the first time", async () => {
    await log.append(event());
    const retried = event({
      at: '2026-12-01T09:00:07.000Z',
      details: { ticket: null, preExisting: false, minutes: 60, expiresAt: '2026-12-01T10:00:00.000Z' },
    });

    expect(await log.append(retried)).toBe('duplicate');
    expect(await log.list('req-audit-1')).toEqual([event()]);
  });

  it('refuses a different event under an existing id: history cannot be rewritten', async () => {
    await log.append(event());

    await expect(log.append(event({ outcome: 'failure' }))).rejects.toBeInstanceOf(AuditConflictError);
    await expect(log.append(event({ details: { ...event().details, minutes: 120 } }))).rejects.toBeInstanceOf(
      AuditConflictError,
    );
    expect(await log.list('req-audit-1')).toEqual([event()]);
  });

  it('keeps the same event id of two requests apart', async () => {
    expect(await log.append(event())).toBe('written');
    expect(await log.append(event({ requestId: 'req-audit-2', outcome: 'failure' }))).toBe('written');

    expect(await log.list('req-audit-1')).toEqual([event()]);
    expect(await log.list('req-audit-2')).toEqual([event({ requestId: 'req-audit-2', outcome: 'failure' })]);
    expect(await log.list('req-audit-none')).toEqual([]);
  });

  it('lists a request in time order whatever the order of appends, events of one time by id', async () => {
    const late = event({ eventId: 'evt-00000001', at: '2026-12-01T09:05:00.000Z', action: 'request.closed' });
    const tieB = event({ eventId: 'evt-00000003', at: '2026-12-01T09:01:00.000Z', action: 'window.opened' });
    const tieA = event({
      eventId: 'evt-00000009',
      at: '2026-12-01T09:01:00.000Z',
      action: 'grant.succeeded',
    });
    const early = event({
      eventId: 'evt-00000002',
      at: '2026-12-01T09:00:00.000Z',
      action: 'request.submitted',
    });
    for (const e of [late, tieA, tieB, early]) await log.append(e);

    expect((await log.list('req-audit-1')).map((e) => e.eventId)).toEqual([
      'evt-00000002',
      'evt-00000003',
      'evt-00000009',
      'evt-00000001',
    ]);
  });

  it('appends two copies of one event at once as one written and one duplicate', async () => {
    const outcomes = await Promise.all([log.append(event()), log.append(event())]);
    expect(outcomes.sort()).toEqual(['duplicate', 'written']);
    expect(await log.list('req-audit-1')).toEqual([event()]);
  });
}

describe('AuditLog contract: MemoryAuditLog', () => {
  auditLogContract(async () => new MemoryAuditLog());
});

describe('AuditLog contract: DynamoDbAuditLog on dynalite', () => {
  const local = useLocalDynamo('contract');
  auditLogContract(async () => new DynamoDbAuditLog(local.client(), (await local.freshTables()).auditTable));
});
