import type { ChainLink } from './audit-chain';
import type { AuditEvent } from './model';

// The immutable archive of the audit trail: every linked event, once, as one object named by its
// request and link number (so a redelivered stream record finds its object already there), under
// a date partition (the event's day, UTC) for the Glue table and Athena.

export interface AuditArchive {
  /** Writes the object unless its key exists (never overwrites): 'exists' for a redelivery. */
  put(key: string, body: string): Promise<'written' | 'exists'>;
}

/** `events/date=YYYY-MM-DD/request=<id>/<seq>.json`. */
export function archiveKey(event: AuditEvent, link: ChainLink): string {
  const day = event.at.slice(0, 10);
  return `events/date=${day}/request=${encodeURIComponent(link.requestId)}/${String(link.seq).padStart(8, '0')}.json`;
}

/** One JSON line per object: the event's fields and its link, flat, as the Glue table reads them. */
export function archiveRecord(event: AuditEvent, link: ChainLink): string {
  return `${JSON.stringify({ ...event, details: JSON.stringify(event.details), seq: link.seq, prevHash: link.prevHash, hash: link.hash })}\n`;
}
