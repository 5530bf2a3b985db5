import * as z from 'zod/mini';
import { ENDED_EARLY, type Occurrence } from '../audit';
import { AccessError, NotYetStartedError, RequestCancelledError, RetryableError } from '../errors';
import { type AccessHooks, GroupAccess, membershipKeyOf } from '../group-access';
import {
  bumped,
  creationAsked,
  creationCallFailed,
  creationFailed,
  creationFenced,
  creationSucceeded,
  deleted,
  deletionAsked,
  deletionCallFailed,
  deletionClaimed,
  withdrawal,
} from '../holders';
import { EDITS, GRANTING_PHASE, movesInto } from '../lifecycle';
import type { AssignmentKey, HoldersRecord, RequestRecord } from '../model';
import { CONFLICT, type Conflict, changeHolders, retryOnConflict } from '../optimistic';
import type { AssignmentOperationStatus } from '../ports';
import { pendingStart } from '../scheduled-start';
import { parseInput, StepBase, SYSTEM, type WindowPlan } from './base';

/** Bounded optimistic-lock loop on the holders record before handing the retry to Step Functions. */
const HOLDERS_WRITE_ATTEMPTS = 5;
/**
 * A creation or deletion this request asked for, with no operation id recorded and no error back,
 * may still be in flight for this long (a worker's timeout): another run of the step waits
 * (RetryableError) instead of asking Identity Center a second time.
 */
const CALL_IN_FLIGHT_MS = 30_000;

const GRANT: Occurrence = { step: 'grant' };
const REVOKE: Occurrence = { step: 'revoke' };
type Granted = NonNullable<RequestRecord['granted']>;
/** Access through a creation of this request's. */
const CREATED: Granted = { alreadyAssigned: false, preExisting: false };

const assignmentStepSchema = z.object({
  version: z.optional(z.int()),
  requestId: z.string().check(z.minLength(1)),
  // null for a group request (its group is the stored request's: core/group-access.ts).
  accountId: z.nullable(z.string().check(z.regex(/^\d{12}$/))),
  permissionSetArn: z.nullable(z.string().check(z.minLength(1))),
  principalId: z.string().check(z.minLength(1)),
});
export type AssignmentStepInput = z.infer<typeof assignmentStepSchema>;

const checkStepSchema = z.extend(assignmentStepSchema, {
  operationId: z.string().check(z.minLength(1)),
  // Older executions may carry no attempt (or null): start counting again rather than fail the poll.
  attempt: z.catch(z.int().check(z.nonnegative()), 0),
});
export type CheckStepInput = z.input<typeof checkStepSchema>;

const revokeStepSchema = z.extend(assignmentStepSchema, {
  // Older executions may lack a reason: the revoke path must still run.
  reason: z.catch(z.enum(['expired', 'ended-early', 'failure']), 'failure'),
});
export type RevokeStepInput = z.input<typeof revokeStepSchema>;

export type GrantResult =
  | { status: 'IN_PROGRESS'; operationId: string; attempt: number }
  | { status: 'SUCCEEDED'; window: WindowPlan; alreadyAssigned: boolean }
  | { status: 'FAILED'; failureReason: string };

export type RevokeResult =
  | { status: 'IN_PROGRESS'; operationId: string; attempt: number }
  | { status: 'SUCCEEDED' }
  | { status: 'KEPT'; keptBecause: 'pre-existing' | 'shared' | 'not-tracked' }
  | { status: 'FAILED'; failureReason: string };

/** Grant, CheckGrant, Revoke and CheckRevoke: the assignment and its holders record. */
export class AssignmentSteps extends StepBase {
  /** Grant: creates the assignment unless the user already holds it; registers this request as a holder. */
  async grant(input: unknown): Promise<GrantResult> {
    const step = parseInput(assignmentStepSchema, input, 'Grant');
    const { assignments, store } = this.deps;
    const key = keyOf(step);
    // Only an approved request, for exactly the assignment it asked for (a forged or stale
    // payload must not create anything).
    const request = await this.requireRequest(step.requestId);
    assertSameAssignment(request, step);
    // A retry after this step's own check found the creation FAILED: answer as that run did.
    if (request.status === 'GRANT_FAILED' && !request.closedAt)
      return this.grantFailed(step.requestId, request.failureReason ?? 'The assignment creation failed');
    // Withdrawn by its requester while it waited for its start: nothing was created for it.
    if (request.status === 'CANCELLED') throw new RequestCancelledError(step.requestId);
    if (request.status === 'APPROVED') {
      const start = pendingStart(request.request, this.now().getTime());
      if (start) throw new NotYetStartedError(step.requestId, start);
    }
    if (request.status !== 'APPROVED' && request.status !== 'GRANTING')
      throw new AccessError(
        'not-approved',
        `Grant: request ${step.requestId} is ${request.status}, not approved`,
      );
    const membership = membershipKeyOf(request, step.principalId);
    if (membership) return this.groupAccess().grant(step.requestId, membership, this.accessHooks(step));
    return this.holdersLoop(key, async () => {
      const holders = await store.getHolders(key);
      if (holders?.holders.includes(step.requestId)) {
        // A retry of this step: carry on from what the first run did.
        if (holders.state === 'PRESENT')
          return this.opened(step, undefined, { alreadyAssigned: true, preExisting: holders.preExisting });
        const mine = (holders.creationsInFlight ?? []).filter((c) => c.requestId === step.requestId);
        const asked = mine.findLast((c) => c.operationId)?.operationId;
        if (asked) {
          // Identity Center took the creation: follow it, never ask for a second one.
          await this.grantRequested(step.requestId, key, asked);
          return this.inProgress(await assignments.creationStatus(asked), step);
        }
        const calling = mine.findLast((c) => !c.callFailedAt);
        if (calling && this.within(calling.issuedAt, CALL_IN_FLIGHT_MS))
          throw new RetryableError(
            `A creation of ${describeKey(key)} for ${step.requestId} is being asked for`,
          );
        // The earlier call came back with an error, or its Lambda died: asking again is a new
        // operation, fenced like the first one.
        await this.updateHolders(key, (h) =>
          h.state === 'CREATING' && h.holders.includes(step.requestId)
            ? creationFenced(h, step.requestId, this.now().toISOString())
            : undefined,
        );
        return this.requestCreation(key, step);
      }
      if (holders?.state === 'DELETING' || holders?.state === 'CREATING') {
        throw new RetryableError(
          `Assignment ${describeKey(key)} is ${holders.state.toLowerCase()} for another request`,
        );
      }
      if (holders && holders.state === 'PRESENT' && holders.holders.length > 0) {
        const joined: Granted = {
          alreadyAssigned: true,
          preExisting: holders.preExisting,
          existing: { sharedWith: holders.holders.join(','), preExisting: holders.preExisting },
        };
        await this.intendGrant(step.requestId, joined);
        if (
          await store.putHolders(
            this.withHolders(holders, [...holders.holders, step.requestId]),
            holders.revision,
          )
        )
          return this.opened(step, joined, joined);
        return CONFLICT;
      }
      // Nobody of ours holds it: ask Identity Center whether the user already has it.
      const principals = await assignments.listUserPrincipals(key.accountId, key.permissionSetArn);
      const alreadyAssigned = principals.includes(key.principalId);
      // Assigned while a creation of ours is still unaccounted for: that is our own creation
      // landing late (after its request let go), not access someone else gave: hold it, and
      // this request's revoke deletes it.
      const inFlight = holders?.creationsInFlight ?? [];
      const lateCreation = alreadyAssigned && inFlight.length > 0;
      const found: Granted = {
        alreadyAssigned: true,
        preExisting: !lateCreation,
        existing: {
          preExisting: !lateCreation,
          ...(lateCreation ? { lateCreationOf: inFlight.map((c) => c.requestId).join(',') } : {}),
        },
      };
      if (alreadyAssigned) await this.intendGrant(step.requestId, found);
      const now = this.now().toISOString();
      const next: HoldersRecord = {
        ...key,
        preExisting: alreadyAssigned && !lateCreation,
        holders: [step.requestId],
        state: alreadyAssigned ? 'PRESENT' : 'CREATING',
        // Fenced before the call: if this step dies mid-call, the record says a creation may land.
        creationsInFlight: alreadyAssigned
          ? inFlight
          : [...inFlight, { requestId: step.requestId, issuedAt: now }],
        revision: (holders?.revision ?? 0) + 1,
        updatedAt: now,
      };
      if (!(await store.putHolders(next, holders?.revision))) return CONFLICT;
      if (alreadyAssigned) return this.opened(step, found, found);
      const moved = await store.updateRequest(step.requestId, movesInto('GRANTING', { orAlready: true }), {
        status: 'GRANTING',
      });
      // Withdrawn by its requester since the read above (a scheduled start's Cancel, which races
      // this very write): nothing is asked of Identity Center, and this request's fence is let go.
      if (!moved.ok && moved.current?.status === 'CANCELLED') return this.withdrawn(key, step.requestId);
      return this.requestCreation(key, step);
    });
  }

  /** CheckGrant: polls the creation; SUCCEEDED opens the window, FAILED releases the holder with AWS's reason. */
  async checkGrant(input: unknown): Promise<GrantResult> {
    const step = parseInput(checkStepSchema, input, 'CheckGrant');
    const status = await this.deps.assignments.creationStatus(step.operationId);
    if (status.status === 'IN_PROGRESS')
      return { status: 'IN_PROGRESS', operationId: step.operationId, attempt: step.attempt + 1 };
    const key = keyOf(step);
    if (status.status === 'SUCCEEDED') {
      // Accounted for once it is PRESENT under its holders; if the record moved on meanwhile (its
      // request was revoked while creating), the creation stays open for the reconciler.
      await this.updateHolders(key, (h) => creationSucceeded(h, step.requestId, step.operationId));
      return this.opened(step, CREATED, CREATED);
    }
    await this.updateHolders(key, (h) => creationFailed(h, step.requestId, step.operationId));
    // Only while granting: a request revoked meanwhile keeps its status.
    await this.deps.store.updateRequest(step.requestId, GRANTING_PHASE, {
      status: 'GRANT_FAILED',
      failureReason: status.failureReason,
    });
    return this.grantFailed(step.requestId, status.failureReason);
  }

  /** Revoke: deletes the assignment only when no pre-existing record and no other live request needs it. */
  async revoke(input: unknown): Promise<RevokeResult> {
    const step = parseInput(revokeStepSchema, input, 'Revoke');
    const { audit, store } = this.deps;
    const key = keyOf(step);
    // The holders record is read while the request is (ending access on time is this step's
    // point): the claim below is written under the revision read, so a read that turns out
    // stale costs one more round (a conflict), never a wrong decision.
    let early: Promise<HoldersRecord | undefined> | undefined = store.getHolders(key);
    early.catch(() => undefined); // unused (a group request, a refused input): not this step's error
    // Tolerant of older payloads, not of another assignment than the request's.
    const request = await store.getRequest(step.requestId);
    if (request) assertSameAssignment(request, step);
    const revoking = await store.updateRequest(step.requestId, movesInto('REVOKING'), { status: 'REVOKING' });
    const record = revoking.ok ? revoking.value : revoking.current;
    // Why the access ends, once per request (a retry writes the same event), and only while this
    // revoke is the request's (not for a request the reconciler already closed).
    if (!record || record.status === 'REVOKING') {
      if (step.reason === 'expired')
        await audit.record(step.requestId, 'window.expired', SYSTEM, 'info', {}, REVOKE);
      // The End click's own event, should the click have died after ending the window.
      // Ended before its window opened (no expiresAt: AccessWindow never made it ACTIVE) says so.
      if (step.reason === 'ended-early' && record?.endedBy)
        await audit.record(
          step.requestId,
          'window.ended-early',
          record.endedBy,
          'success',
          record.expiresAt ? {} : { beforeOpened: true },
          ENDED_EARLY,
        );
    }
    const membership = request && membershipKeyOf(request, step.principalId);
    if (membership) return this.groupAccess().revoke(step.requestId, membership, this.accessHooks(step));
    return this.holdersLoop(key, async () => {
      const holders = await (early ?? store.getHolders(key));
      early = undefined;
      // Nothing this product created is recorded for it: deleting could remove access it never granted.
      if (!holders) return this.notTracked(step.requestId);
      if (holders.state === 'DELETING' && holders.deletingBy === step.requestId) {
        // A retry after the deletion was asked for: follow it, never ask for a second one (its
        // event again first: the run that asked may have failed at writing it, see startDeletion).
        if (holders.deletionRequestId) {
          await this.deletionRequested(step.requestId, key);
          return this.followDeletion(
            key,
            step.requestId,
            await this.deps.assignments.deletionStatus(holders.deletionRequestId),
          );
        }
        if (!holders.deletionCallFailedAt && this.within(holders.updatedAt, CALL_IN_FLIGHT_MS))
          throw new RetryableError(
            `A deletion of ${describeKey(key)} for ${step.requestId} is being asked for`,
          );
        return this.startDeletion(key, step.requestId);
      }
      if (!holders.holders.includes(step.requestId)) {
        // Already released by an earlier run of this step (or the grant never registered): the
        // same answer, and its event again (the first run's copy, unless the holders changed since).
        if (holders.state === 'ABSENT' || (holders.holders.length === 0 && !holders.preExisting))
          return { status: 'SUCCEEDED' };
        return this.kept(step.requestId, holders.preExisting ? 'pre-existing' : 'shared', holders.holders);
      }
      const remaining = holders.holders.filter((id) => id !== step.requestId);
      if (remaining.length > 0 || holders.preExisting || holders.state === 'ABSENT') {
        if (!(await store.putHolders(this.withHolders(holders, remaining), holders.revision)))
          return CONFLICT;
        if (holders.state === 'ABSENT') return { status: 'SUCCEEDED' };
        return this.kept(step.requestId, holders.preExisting ? 'pre-existing' : 'shared', remaining);
      }
      const deleting = bumped(deletionClaimed(holders, step.requestId), this.now().toISOString());
      if (!(await store.putHolders(deleting, holders.revision))) return CONFLICT;
      return this.startDeletion(key, step.requestId);
    });
  }

  /** CheckRevoke: polls the deletion; SUCCEEDED marks the assignment absent. */
  async checkRevoke(input: unknown): Promise<RevokeResult> {
    const step = parseInput(checkStepSchema, input, 'CheckRevoke');
    const status = await this.deps.assignments.deletionStatus(step.operationId);
    if (status.status === 'IN_PROGRESS')
      return { status: 'IN_PROGRESS', operationId: step.operationId, attempt: step.attempt + 1 };
    const key = keyOf(step);
    // The deletion's outcome, once per operation: every poll that sees it writes the same event.
    const deletion: Occurrence = { ...REVOKE, key: step.operationId };
    if (status.status === 'SUCCEEDED' || isAlreadyGone(status)) {
      // The event before the record lets go of the claim: a retry that finds the claim polls again
      // and writes it again; one that finds the assignment ABSENT could not.
      await this.deps.audit.record(
        step.requestId,
        'revoke.succeeded',
        SYSTEM,
        'success',
        { operationId: step.operationId },
        deletion,
      );
      await this.markDeleted(key, step.requestId);
      return { status: 'SUCCEEDED' };
    }
    await this.deps.audit.record(
      step.requestId,
      'revoke.failed',
      SYSTEM,
      'failure',
      { failureReason: status.failureReason },
      deletion,
    );
    return { status: 'FAILED', failureReason: status.failureReason };
  }

  /** Group access (core/group-access.ts), on this function's identitystore memberships. */
  private groupAccess(): GroupAccess {
    const { store, audit, clock, memberships } = this.deps;
    if (!memberships)
      throw new AccessError('not-wired', 'This step is not wired to Identity Center group memberships');
    return new GroupAccess({ store, audit, clock, memberships });
  }

  /** What Grant and Revoke do for any kind of access, for group access to call. */
  private accessHooks(step: AssignmentStepInput): AccessHooks<GrantResult, RevokeResult> {
    return {
      intendGrant: (requestId, granted) => this.intendGrant(requestId, granted),
      opened: (known, fallback) => this.opened(step, known, fallback),
      grantFailed: (reason) => this.grantFailed(step.requestId, reason),
      kept: (keptBecause, stillNeededBy) => this.kept(step.requestId, keptBecause, stillNeededBy),
      notTracked: () => this.notTracked(step.requestId),
      succeeded: () => ({ status: 'SUCCEEDED' }),
    };
  }

  /** Revoke found no record of what it would delete: kept, never deleted blind. */
  private async notTracked(requestId: string): Promise<RevokeResult> {
    await this.deps.audit.record(
      requestId,
      'revoke.kept',
      SYSTEM,
      'info',
      { keptBecause: 'not-tracked' },
      { ...REVOKE, key: 'not-tracked' },
    );
    return { status: 'KEPT', keptBecause: 'not-tracked' };
  }

  /** Less than `ms` ago (an unreadable time counts as long ago). */
  private within(iso: string, ms: number): boolean {
    const at = Date.parse(iso);
    return Number.isFinite(at) && this.now().getTime() - at < ms;
  }

  private withHolders(holders: HoldersRecord, ids: string[]): HoldersRecord {
    return bumped({ ...holders, holders: ids }, this.now().toISOString());
  }

  private async updateHolders(
    key: AssignmentKey,
    change: (h: HoldersRecord) => HoldersRecord | undefined,
  ): Promise<void> {
    const options = { attempts: HOLDERS_WRITE_ATTEMPTS, now: () => this.now().toISOString() };
    if ((await changeHolders(this.deps.store, key, options, change)) === 'conflict')
      throw concurrentChanges(key);
  }

  /** A step's decisions on the holders record, decided again after each lost write; the workflow retries when all lose. */
  private holdersLoop<T>(key: AssignmentKey, attempt: () => Promise<T | Conflict>): Promise<T> {
    return retryOnConflict(HOLDERS_WRITE_ATTEMPTS, attempt, () => {
      throw concurrentChanges(key);
    });
  }

  /** CreateAccountAssignment, then the operation id on this request's open creation (best effort: without it the reconciler waits out the creation instead of asking for its status). */
  private async create(key: AssignmentKey, requestId: string): Promise<AssignmentOperationStatus> {
    let operation: AssignmentOperationStatus;
    try {
      operation = await this.deps.assignments.create(key);
    } catch (error) {
      // The call came back: nothing of this run is in flight any more, so a retry may ask again
      // at once. The fence stays (a timed-out call may still have been accepted).
      await this.updateHolders(key, (h) => creationCallFailed(h, requestId, this.now().toISOString())).catch(
        () => undefined,
      );
      throw error;
    }
    await this.updateHolders(key, (h) => creationAsked(h, requestId, operation.requestId));
    return operation;
  }

  /** The deletion's "asked for" event: the same event (its occurrence's id) however often written. */
  private deletionRequested(requestId: string, key: AssignmentKey): Promise<unknown> {
    return this.deps.audit.record(
      requestId,
      'revoke.requested',
      SYSTEM,
      'info',
      { principalId: key.principalId },
      REVOKE,
    );
  }

  /**
   * DeleteAccountAssignment under this request's claim, its event written at the same time:
   * ending access does not wait on the audit trail (the revoke lag), and both settle before
   * anything else is written, so the trail keeps its order (asked for, then the outcome). An event
   * that failed fails the step after the call's answer is recorded; its retry writes it again.
   */
  private async startDeletion(key: AssignmentKey, requestId: string): Promise<RevokeResult> {
    const [recorded, asked] = await Promise.allSettled([
      this.deletionRequested(requestId, key),
      this.deps.assignments.delete(key),
    ]);
    let operation: AssignmentOperationStatus;
    try {
      if (asked.status === 'rejected') throw asked.reason;
      operation = asked.value;
    } catch (error) {
      if (recorded.status === 'rejected') {
        // Nothing is known to be in flight: a retry asks again at once (its event first).
        await this.updateHolders(key, (h) =>
          deletionCallFailed(h, requestId, this.now().toISOString()),
        ).catch(() => undefined);
        throw recorded.reason;
      }
      if (error instanceof AccessError && error.code === 'assignment-not-found') {
        // The event first: a retry finds the claim still its own and writes it again.
        await this.deps.audit.record(
          requestId,
          'revoke.succeeded',
          SYSTEM,
          'success',
          { note: 'already absent' },
          { ...REVOKE, key: 'already-absent' },
        );
        await this.markDeleted(key, requestId);
        return { status: 'SUCCEEDED' };
      }
      // Failed before or at the call, which came back: a retry may ask again at once (see CALL_IN_FLIGHT_MS).
      await this.updateHolders(key, (h) => deletionCallFailed(h, requestId, this.now().toISOString())).catch(
        () => undefined,
      );
      throw error;
    }
    await this.updateHolders(key, (h) => deletionAsked(h, requestId, operation.requestId));
    if (recorded.status === 'rejected') throw recorded.reason;
    return this.followDeletion(key, requestId, operation);
  }

  /** Kept for others (or as it was before): one event per answer, named by who still needs it. */
  private async kept(
    requestId: string,
    keptBecause: 'pre-existing' | 'shared',
    stillNeededBy: string[],
  ): Promise<RevokeResult> {
    await this.deps.audit.record(
      requestId,
      'revoke.kept',
      SYSTEM,
      'success',
      { keptBecause, stillNeededBy: stillNeededBy.join(',') },
      { ...REVOKE, key: `kept:${keptBecause}:${stillNeededBy.join(',')}` },
    );
    return { status: 'KEPT', keptBecause };
  }

  /** Where a deletion stands, as the step that asked for it (or its retry) answers. */
  private followDeletion(
    key: AssignmentKey,
    requestId: string,
    operation: AssignmentOperationStatus,
  ): Promise<RevokeResult> | RevokeResult {
    if (operation.status === 'IN_PROGRESS')
      return { status: 'IN_PROGRESS', operationId: operation.requestId, attempt: 0 };
    return this.checkRevoke({ ...key, requestId, operationId: operation.requestId, attempt: 0 });
  }

  private async markDeleted(key: AssignmentKey, requestId: string): Promise<void> {
    await this.updateHolders(key, (h) => deleted(h, requestId));
  }

  private inProgress(
    operation: AssignmentOperationStatus,
    step: AssignmentStepInput,
  ): Promise<GrantResult> | GrantResult {
    if (operation.status === 'IN_PROGRESS')
      return { status: 'IN_PROGRESS', operationId: operation.requestId, attempt: 0 };
    return this.checkGrant({ ...step, operationId: operation.requestId, attempt: 0 });
  }

  /**
   * Access is about to be live through an assignment that is already there: how, stored before
   * the holders write that makes it so, for a retry that finds the request a holder (the run
   * that wrote it may have died before its events). Rewritten until the window starts.
   */
  private async intendGrant(requestId: string, granted: Granted): Promise<void> {
    await this.deps.store.updateRequest(
      requestId,
      EDITS.grant,
      { granted },
      (current) => !current.windowStartedAt,
    );
  }

  /**
   * Access is live: the window starts now, or when the first run of Grant/CheckGrant said so. The
   * start (and how access was granted) is stored once, so a retry answers with the same window:
   * planned again from its own clock, the window would end later by every retry's delay.
   * `known`: how this run made it live; a retry that only finds it live passes undefined and
   * takes what the first run stored (`fallback` for records that have none).
   */
  private async opened(
    step: AssignmentStepInput,
    known: Granted | undefined,
    fallback: Granted,
  ): Promise<GrantResult> {
    let record = await this.requireRequest(step.requestId);
    if (!record.windowStartedAt) {
      const fixed = await this.deps.store.updateRequest(
        step.requestId,
        EDITS.grant,
        { windowStartedAt: this.now().toISOString(), granted: known ?? record.granted ?? fallback },
        (current) => !current.windowStartedAt,
      );
      record = fixed.ok ? fixed.value : (fixed.current ?? record);
    }
    // Withdrawn since Grant read it (a scheduled start's Cancel): it joined an assignment that was
    // already there, and lets go of it again; nothing opens.
    if (record.status === 'CANCELLED') {
      const membership = membershipKeyOf(record, step.principalId);
      if (membership) return this.groupAccess().withdrawn(step.requestId, membership);
      return this.withdrawn(keyOf(step), step.requestId);
    }
    // Moved on before the start could be stored (revoked meanwhile): from now, as before.
    const startedAt = record.windowStartedAt ?? this.now().toISOString();
    const granted = record.granted ?? known ?? fallback;
    const seconds = record.request.durationMinutes * 60;
    const expiresAt = new Date(Date.parse(startedAt) + seconds * 1000).toISOString();
    if (granted.existing)
      await this.deps.audit.record(
        step.requestId,
        'grant.existing',
        SYSTEM,
        'success',
        granted.existing,
        GRANT,
      );
    await this.deps.audit.record(
      step.requestId,
      'grant.succeeded',
      SYSTEM,
      'success',
      { alreadyAssigned: granted.alreadyAssigned, preExisting: granted.preExisting, startedAt, expiresAt },
      { ...GRANT, key: startedAt },
    );
    return {
      status: 'SUCCEEDED',
      window: { startedAt, expiresAt, seconds },
      alreadyAssigned: granted.alreadyAssigned,
    };
  }

  /** Asks Identity Center for the creation this request's fence (already written) announces. */
  private async requestCreation(key: AssignmentKey, step: AssignmentStepInput): Promise<GrantResult> {
    const operation = await this.create(key, step.requestId);
    await this.grantRequested(step.requestId, key, operation.requestId);
    return this.inProgress(operation, step);
  }

  /**
   * A request withdrawn while Grant held it (core/scheduled-start.ts): its holder entry and its
   * unasked creation fence are let go — an assignment it only joined stays as it was, one it was
   * about to create is not asked for — and the step fails as Cancelled (the state machine closes it).
   */
  private async withdrawn(key: AssignmentKey, requestId: string): Promise<never> {
    await this.updateHolders(key, (h) => withdrawal(h, requestId));
    throw new RequestCancelledError(requestId);
  }

  /** One event per creation asked for (its operation id names it). */
  private async grantRequested(requestId: string, key: AssignmentKey, operationId: string): Promise<void> {
    await this.deps.audit.record(
      requestId,
      'grant.requested',
      SYSTEM,
      'info',
      {
        principalId: key.principalId,
        accountId: key.accountId,
        permissionSetArn: key.permissionSetArn,
        operationId,
      },
      { ...GRANT, key: operationId },
    );
  }

  /** The creation failed: once per request, whichever run (Grant's own check, CheckGrant, a retry) learns it. */
  private async grantFailed(requestId: string, failureReason: string): Promise<GrantResult> {
    await this.deps.audit.record(requestId, 'grant.failed', SYSTEM, 'failure', { failureReason }, GRANT);
    return { status: 'FAILED', failureReason };
  }
}

function assertSameAssignment(record: RequestRecord, step: AssignmentStepInput): void {
  const matches =
    record.request.accountId === step.accountId &&
    record.request.permissionSetArn === step.permissionSetArn &&
    (record.principalId === undefined || record.principalId === step.principalId);
  if (!matches)
    throw new AccessError(
      'input-mismatch',
      `Request ${step.requestId} is not for ${describeKey(keyOf(step))}: refusing to change it`,
    );
}

function keyOf(step: AssignmentStepInput): AssignmentKey {
  return {
    accountId: step.accountId ?? '',
    permissionSetArn: step.permissionSetArn ?? '',
    principalId: step.principalId,
  };
}

const concurrentChanges = (key: AssignmentKey) =>
  new RetryableError(`Concurrent changes to the holders of ${describeKey(key)}`);

function describeKey(key: AssignmentKey): string {
  return `${key.permissionSetArn.split('/').pop()} on ${key.accountId} for ${key.principalId}`;
}

function isAlreadyGone(status: AssignmentOperationStatus): boolean {
  return status.status === 'FAILED' && /does not exist|not found|no assignment/i.test(status.failureReason);
}
