import type { AuditAction, AuditEvent } from './model';
import type { AuditLog, Clock, Ids } from './ports';

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
