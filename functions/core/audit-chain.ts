import { createHash } from 'node:crypto';
import type { AuditEvent } from './model';

// The tamper-evident trail: each request's events form a hash chain in the order the audit writer
// linked them. Link n holds the hash of link n − 1 (the first, of the request's id) and the hash
// of its own event's canonical content, so changing, removing, reordering or inserting any event
// of an exported trail breaks a link a verifier can name. Readers never need the chain; the
// audit writer builds it (adapters/dynamodb-audit-log.ts) and `npm run audit -- verify` checks it.

/** One link of a request's chain, stored beside the event it covers. */
export interface ChainLink {
  requestId: string;
  /** 1, 2, 3, … per request: the key of the link item, so two writers can never take one number. */
  seq: number;
  eventId: string;
  /** The previous link's hash; for seq 1, genesisHash(requestId). */
  prevHash: string;
  /** sha256 hex of `prevHash`, a newline and the event's canonical JSON. */
  hash: string;
}

/** The event with its link, as `npm run audit -- export` writes one line of JSONL. */
export interface ChainedEvent {
  event: AuditEvent;
  link: ChainLink | null;
}

/** JSON with object keys sorted at every depth: the same event always hashes the same. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(
          Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
        )
      : v,
  );
}

const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');

/** What the first link of a request points back to. */
export function genesisHash(requestId: string): string {
  return sha256(`request:${requestId}`);
}

/** The event's fields that the chain covers: all of them, as the audit table returns them. */
function eventContent(event: AuditEvent): AuditEvent {
  const { version, requestId, eventId, at, actor, action, outcome, details } = event;
  return { version, requestId, eventId, at, actor, action, outcome, details };
}

export function linkHash(prevHash: string, event: AuditEvent): string {
  return sha256(`${prevHash}\n${canonicalJson(eventContent(event))}`);
}

/** The link that follows `previous` (or starts the chain) for `event`. */
export function nextLink(previous: ChainLink | undefined, event: AuditEvent): ChainLink {
  const prevHash = previous?.hash ?? genesisHash(event.requestId);
  return {
    requestId: event.requestId,
    seq: (previous?.seq ?? 0) + 1,
    eventId: event.eventId,
    prevHash,
    hash: linkHash(prevHash, event),
  };
}

export interface ChainBreak {
  requestId: string;
  /** The event at the broken link (or the one found where a link was expected). */
  eventId: string;
  seq: number | null;
  problem: string;
  expected?: string;
  found?: string;
}

export interface VerifyReport {
  requests: number;
  events: number;
  breaks: ChainBreak[];
}

/** Each request's last link when the trail was read: the export's last line, so a dropped last event shows. */
export type ChainHeads = Record<string, { seq: number; hash: string }>;

/**
 * Checks every request's chain in an export, in the order the lines come (an export writes each
 * request's events in link order). Per request: links numbered 1, 2, 3 … without a gap, each
 * pointing at the hash of the one before (the first at the request's genesis), each hash matching
 * its event's content, each event linked once, and the last link the head recorded for it.
 * Reports the first break of each request.
 */
export function verifyChains(lines: Iterable<ChainedEvent>, heads?: ChainHeads): VerifyReport {
  const byRequest = new Map<string, ChainedEvent[]>();
  let events = 0;
  for (const line of lines) {
    events++;
    const list = byRequest.get(line.event.requestId) ?? [];
    list.push(line);
    byRequest.set(line.event.requestId, list);
  }
  const breaks: ChainBreak[] = [];
  for (const [requestId, list] of byRequest) {
    const found = firstBreak(requestId, list) ?? headBreak(requestId, list, heads);
    if (found) breaks.push(found);
  }
  for (const [requestId, head] of Object.entries(heads ?? {}))
    if (!byRequest.has(requestId))
      breaks.push({
        requestId,
        eventId: '-',
        seq: head.seq,
        problem: 'request has a head but no events (its events were removed)',
      });
  return { requests: byRequest.size, events, breaks };
}

function headBreak(
  requestId: string,
  list: ChainedEvent[],
  heads: ChainHeads | undefined,
): ChainBreak | undefined {
  if (!heads) return undefined;
  const head = heads[requestId];
  const last = list.at(-1);
  const eventId = last?.event.eventId ?? '-';
  if (!head)
    return {
      requestId,
      eventId,
      seq: last?.link?.seq ?? null,
      problem: 'request has no head (added to the export)',
    };
  if (last?.link?.seq !== head.seq || last.link.hash !== head.hash)
    return {
      requestId,
      eventId,
      seq: last?.link?.seq ?? null,
      problem: 'last link is not the head (events removed from the end, or added after it)',
      expected: `${head.seq}:${head.hash}`,
      found: `${last?.link?.seq}:${last?.link?.hash}`,
    };
  return undefined;
}

function firstBreak(requestId: string, list: ChainedEvent[]): ChainBreak | undefined {
  let previousHash = genesisHash(requestId);
  const seen = new Set<string>();
  for (const [index, { event, link }] of list.entries()) {
    const at = { requestId, eventId: event.eventId };
    if (!link) return { ...at, seq: null, problem: 'event has no link: it is not in the chain' };
    if (link.requestId !== requestId || link.eventId !== event.eventId)
      return {
        ...at,
        seq: link.seq,
        problem: 'link names another event',
        expected: event.eventId,
        found: link.eventId,
      };
    if (link.seq !== index + 1)
      return {
        ...at,
        seq: link.seq,
        problem: 'link out of sequence (an event removed, inserted or moved)',
        expected: String(index + 1),
        found: String(link.seq),
      };
    if (link.prevHash !== previousHash)
      return {
        ...at,
        seq: link.seq,
        problem: 'link does not follow the previous one',
        expected: previousHash,
        found: link.prevHash,
      };
    const hash = linkHash(link.prevHash, event);
    if (hash !== link.hash)
      return {
        ...at,
        seq: link.seq,
        problem: 'event content does not match its link',
        expected: hash,
        found: link.hash,
      };
    if (seen.has(event.eventId)) return { ...at, seq: link.seq, problem: 'event linked twice' };
    seen.add(event.eventId);
    previousHash = link.hash;
  }
  return undefined;
}
