import { RetryableError } from './errors';
import { EDITS } from './lifecycle';
import type { AssignmentKey, BreakGlassState, HoldersRecord, MessageRef, RequestRecord } from './model';
import type { RequestStore } from './ports';

// Optimistic locking. The holders record (under its revision) and the request (under its status
// and a guard) are written conditionally on what was read; a write that loses to a concurrent
// one reads again and decides again, a bounded number of times, since the winner may have
// changed what there is to do.

/** An attempt lost its conditional write to a concurrent one: read again and decide again. */
export const CONFLICT: unique symbol = Symbol('conflict');
export type Conflict = typeof CONFLICT;

/** Runs `attempt` until it ends other than in CONFLICT, at most `attempts` times; then `exhausted`. */
export async function retryOnConflict<T>(
  attempts: number,
  attempt: () => Promise<T | Conflict>,
  exhausted: () => T | Promise<T>,
): Promise<T> {
  for (let i = 0; i < attempts; i++) {
    const outcome = await attempt();
    if (outcome !== CONFLICT) return outcome;
  }
  return exhausted();
}

/**
 * Reads the holders record, applies `change` (undefined: nothing to write, or no record) and
 * writes the result under the revision read, bumped. 'written', 'unchanged', or 'conflict'
 * when every attempt lost.
 */
export function changeHolders(
  store: RequestStore,
  key: AssignmentKey,
  options: { attempts: number; now: () => string },
  change: (current: HoldersRecord) => HoldersRecord | undefined,
): Promise<'written' | 'unchanged' | 'conflict'> {
  return retryOnConflict(
    options.attempts,
    async () => {
      const current = await store.getHolders(key);
      const next = current && change(current);
      if (!current || !next) return 'unchanged' as const;
      const written = await store.putHolders(
        { ...next, revision: current.revision + 1, updatedAt: options.now() },
        current.revision,
      );
      return written ? ('written' as const) : CONFLICT;
    },
    () => 'conflict' as const,
  );
}

/**
 * Reads the request, computes one field's next value from it, and writes it only if that field
 * is still what was read (in the statuses lifecycle.ts EDITS allows for it). `next` answers `{ skip: answer }` when there
 * is nothing to write. The record written, or the skip's answer; RetryableError when every attempt lost.
 */
function changeField<K extends 'breakGlass' | 'approvalCopies'>(
  store: RequestStore,
  requestId: string,
  field: K,
  next: (record: RequestRecord) => RequestRecord[K] | { skip: RequestRecord | undefined },
  attempts: number,
  what: string,
): Promise<RequestRecord | undefined> {
  return retryOnConflict(
    attempts,
    async () => {
      const record = await store.getRequest(requestId);
      if (!record) return undefined;
      const value = next(record);
      if (value && typeof value === 'object' && 'skip' in value) return value.skip;
      const read = JSON.stringify(record[field] ?? null);
      // The statuses this field may be edited in: the lifecycle's EDITS, keyed by the field.
      const written = await store.updateRequest(
        requestId,
        EDITS[field],
        { [field]: value } as Partial<RequestRecord>,
        (current) => JSON.stringify(current[field] ?? null) === read,
      );
      return written.ok ? written.value : CONFLICT;
    },
    () => {
      throw new RetryableError(`The ${what} of ${requestId} is being changed concurrently`);
    },
  );
}

/**
 * Applies `change` to the request's break-glass state (undefined: nothing to write), written only
 * if that state is still what was read: an alert reference, a review and an escalation written
 * at once never undo one another. The record written, or undefined when there was nothing to do.
 */
export function changeBreakGlass(
  store: RequestStore,
  requestId: string,
  change: (current: BreakGlassState, record: RequestRecord) => BreakGlassState | undefined,
  attempts = 5,
): Promise<RequestRecord | undefined> {
  return changeField(
    store,
    requestId,
    'breakGlass',
    (record) => (record.breakGlass && change(record.breakGlass, record)) || { skip: undefined },
    attempts,
    'break-glass state',
  );
}

/**
 * Adds one copy of the approval message (an approver's DM) to the request's `approvalCopies`,
 * written only if the list is still what was read: DMs kept at once by concurrent runs never
 * drop one another. Answers the record as stored afterwards (its status may have moved on while
 * the copy was posted), or undefined when there is no request.
 */
export function keepApprovalCopy(
  store: RequestStore,
  requestId: string,
  copy: MessageRef,
  attempts = 5,
): Promise<RequestRecord | undefined> {
  return changeField(
    store,
    requestId,
    'approvalCopies',
    (record) => {
      const copies = record.approvalCopies ?? [];
      return copies.some((c) => c.channel === copy.channel && c.ts === copy.ts)
        ? { skip: record }
        : [...copies, copy];
    },
    attempts,
    'approval message copies',
  );
}
