import { createHash } from 'node:crypto';
import * as z from 'zod/mini';
import { AUDIT_ACTIONS, type AuditAction, type AuditEvent } from './model';
import type { AuditLog, Clock, Ids } from './ports';

/** An audit event as the audit writer accepts it from another function: checked, never trusted. */
export const auditEventSchema = z.strictObject({
  version: z.literal(1),
  requestId: z.string().check(z.minLength(1), z.maxLength(128)),
  eventId: z.string().check(z.regex(/^[A-Za-z0-9_.:-]{1,128}$/)),
  at: z.iso.datetime(),
  actor: z.string().check(z.minLength(1), z.maxLength(320)),
  action: z.enum(AUDIT_ACTIONS),
  outcome: z.enum(['success', 'failure', 'info']),
  details: z.record(
    z.string().check(z.maxLength(64)),
    z.union([z.string().check(z.maxLength(4000)), z.number(), z.boolean(), z.null()]),
  ),
}) satisfies z.ZodMiniType<AuditEvent>;

/**
 * One occurrence of an event: the step (or decision) that writes it and what tells this
 * occurrence from others of the same action in the request (an operation id, a window's end, a
 * job id; none when it happens once per request). A retried step names the same occurrence.
 */
export interface Occurrence {
  step: string;
  key?: string;
}

/** The End click's event: the Slack decision writes it, Revoke (reason ended-early) writes it again if the click's copy was lost. */
export const ENDED_EARLY: Occurrence = { step: 'end-access' };

/**
 * The event id of an occurrence: derived from the request, the step, the action and the
 * occurrence's key, so every run of a step writes its events under the same ids and the audit log
 * keeps the first copy. Ids are predictable; a different event written first under one is refused
 * (AuditConflictError, alarmed) when the real one comes.
 */
export function occurrenceEventId(requestId: string, action: AuditAction, occurrence: Occurrence): string {
  const digest = createHash('sha256')
    .update(JSON.stringify([requestId, occurrence.step, action, occurrence.key ?? '']))
    .digest('hex');
  return `${action}.${digest.slice(0, 32)}`;
}

/** Requests whose last event time is remembered (see `record`). */
const REMEMBERED_REQUESTS = 1000;

/** Builds audit events with the clock and ids of the caller; the log only appends. */
export class AuditTrail {
  /** The time of the last event written per request, so this process's events of a request never share a millisecond. */
  private readonly lastAt = new Map<string, number>();

  constructor(
    private readonly log: AuditLog,
    private readonly clock: Clock,
    private readonly ids: Ids,
    private readonly sink?: (event: AuditEvent) => void,
  ) {}

  /**
   * Appends an event. With an occurrence its id is deterministic (a retried step's event is the
   * first run's copy); without, it is new (each call is its own occurrence: the reconciler's
   * findings, a click that carries no job id). Events sort by time, then id: a later event of the
   * same request written here gets at least the next millisecond, so a step's events keep their order.
   */
  async record(
    requestId: string,
    action: AuditAction,
    actor: string,
    outcome: AuditEvent['outcome'],
    details: AuditEvent['details'] = {},
    occurrence?: Occurrence,
  ): Promise<AuditEvent> {
    const nowMs = this.clock.now().getTime();
    const last = this.lastAt.get(requestId);
    const atMs = last !== undefined && last >= nowMs ? last + 1 : nowMs;
    const event: AuditEvent = {
      version: 1,
      requestId,
      eventId: occurrence ? occurrenceEventId(requestId, action, occurrence) : this.ids.next(),
      at: new Date(atMs).toISOString(),
      actor,
      action,
      outcome,
      details,
    };
    // A duplicate is the first run's copy: its time stands, and it was logged then.
    if ((await this.log.append(event)) === 'duplicate') return event;
    this.lastAt.delete(requestId);
    this.lastAt.set(requestId, atMs);
    if (this.lastAt.size > REMEMBERED_REQUESTS) this.lastAt.delete(this.lastAt.keys().next().value as string);
    this.sink?.(event);
    return event;
  }

  list(requestId: string): Promise<AuditEvent[]> {
    return this.log.list(requestId);
  }
}
