import * as z from 'zod';
import { AUDIT_ACTIONS, type AuditAction, type AuditEvent } from './model';
import type { AuditLog, Clock, Ids } from './ports';

/** An audit event as the audit writer accepts it from another function: checked, never trusted. */
export const auditEventSchema = z
  .object({
    version: z.literal(1),
    requestId: z.string().min(1).max(128),
    eventId: z.string().regex(/^[A-Za-z0-9_.:-]{1,128}$/),
    at: z.string().datetime(),
    actor: z.string().min(1).max(320),
    action: z.enum(AUDIT_ACTIONS),
    outcome: z.enum(['success', 'failure', 'info']),
    details: z.record(z.string().max(64), z.union([z.string().max(4000), z.number(), z.boolean(), z.null()])),
  })
  .strict() satisfies z.ZodType<AuditEvent>;

/** Builds audit events with the clock and ids of the caller; the log only appends. */
export class AuditTrail {
  constructor(
    private readonly log: AuditLog,
    private readonly clock: Clock,
    private readonly ids: Ids,
    private readonly sink?: (event: AuditEvent) => void,
  ) {}

  async record(
    requestId: string,
    action: AuditAction,
    actor: string,
    outcome: AuditEvent['outcome'],
    details: AuditEvent['details'] = {},
  ): Promise<AuditEvent> {
    const event: AuditEvent = {
      version: 1,
      requestId,
      eventId: this.ids.next(),
      at: this.clock.now().toISOString(),
      actor,
      action,
      outcome,
      details,
    };
    await this.log.append(event);
    this.sink?.(event);
    return event;
  }

  list(requestId: string): Promise<AuditEvent[]> {
    return this.log.list(requestId);
  }
}
