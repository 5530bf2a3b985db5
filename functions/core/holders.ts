import type { HoldersRecord, MembershipHoldersRecord, MembershipKey } from './model';

// The holders records' transitions (model.ts `HoldersRecord`: who holds an account assignment,
// and where its creation or deletion stands; `MembershipHoldersRecord`, the same for a group
// membership), for the steps (steps/assignment.ts, group-access.ts) and the reconciler alike. Pure: each answers the next record, or undefined when, as the record now
// stands, there is nothing to write (a retry, or a record that moved on). The caller writes it
// under the revision it read, bumped (`bumped`, or optimistic.ts `changeHolders`).

/** The revision after `record`'s and the time of the write: every write of a holders record (or a membership's) takes both. */
export function bumped<T extends { revision: number; updatedAt: string }>(record: T, now: string): T {
  return { ...record, revision: record.revision + 1, updatedAt: now };
}

// ---- creations -------------------------------------------------------------------------------

/** A creation about to be asked for: fenced first, so a call that dies may still be accounted for. */
export function creationFenced(record: HoldersRecord, requestId: string, issuedAt: string): HoldersRecord {
  return { ...record, creationsInFlight: [...(record.creationsInFlight ?? []), { requestId, issuedAt }] };
}

/** Identity Center took the creation: the newest fence of this request without an id is this call's. */
export function creationAsked(
  record: HoldersRecord,
  requestId: string,
  operationId: string,
): HoldersRecord | undefined {
  const open = record.creationsInFlight ?? [];
  const index = open.findLastIndex((c) => c.requestId === requestId && !c.operationId);
  if (index < 0) return undefined;
  return { ...record, creationsInFlight: open.map((c, i) => (i === index ? { ...c, operationId } : c)) };
}

/**
 * The creation call came back with an error: nothing of this run is in flight any more, so a
 * retry may ask again at once. The fence stays (a timed-out call may still have been accepted).
 */
export function creationCallFailed(
  record: HoldersRecord,
  requestId: string,
  failedAt: string,
): HoldersRecord | undefined {
  const open = record.creationsInFlight ?? [];
  const index = open.findLastIndex((c) => c.requestId === requestId && !c.operationId && !c.callFailedAt);
  if (index < 0) return undefined;
  return {
    ...record,
    creationsInFlight: open.map((c, i) => (i === index ? { ...c, callFailedAt: failedAt } : c)),
  };
}

/**
 * The record's open creations without the one whose outcome is now known. A fence without an
 * operation id (its call never returned, as far as the record knows) stays for the reconciler.
 */
export function settled(record: HoldersRecord, requestId: string, operationId: string) {
  return (record.creationsInFlight ?? []).filter(
    (c) => !(c.requestId === requestId && c.operationId === operationId),
  );
}

/**
 * The creation succeeded: PRESENT under its holders. A record that moved on meanwhile (its
 * request revoked while creating) is left as it is, and the creation open for the reconciler.
 */
export function creationSucceeded(
  record: HoldersRecord,
  requestId: string,
  operationId: string,
): HoldersRecord | undefined {
  if (record.state !== 'CREATING') return undefined;
  return { ...record, state: 'PRESENT', creationsInFlight: settled(record, requestId, operationId) };
}

/** The creation failed: it leaves nothing behind, so its request lets go and, alone, the record is ABSENT. */
export function creationFailed(
  record: HoldersRecord,
  requestId: string,
  operationId: string,
): HoldersRecord | undefined {
  const remaining = record.holders.filter((id) => id !== requestId);
  const open = settled(record, requestId, operationId);
  // Released by an earlier run: nothing left to write.
  if (remaining.length === record.holders.length && open.length === (record.creationsInFlight ?? []).length)
    return undefined;
  return {
    ...record,
    holders: remaining,
    state: remaining.length ? record.state : 'ABSENT',
    creationsInFlight: open,
  };
}

/**
 * A request withdrawn while it held the record: its entry and its unasked creation fence go — an
 * assignment it only joined stays as it was, one it was about to create is not asked for.
 */
export function withdrawal(record: HoldersRecord, requestId: string): HoldersRecord | undefined {
  if (!record.holders.includes(requestId)) return undefined;
  const remaining = record.holders.filter((id) => id !== requestId);
  return {
    ...record,
    holders: remaining,
    state: remaining.length || record.state !== 'CREATING' ? record.state : 'ABSENT',
    creationsInFlight: (record.creationsInFlight ?? []).filter(
      (c) => !(c.requestId === requestId && !c.operationId),
    ),
  };
}

/** Only `live` still hold it (the others released: ended, or found dead); the access stays as it is. */
export function holdersKept<T extends HoldersRecord | MembershipHoldersRecord>(record: T, live: string[]): T {
  return { ...record, holders: live };
}

// ---- deletions -------------------------------------------------------------------------------

/**
 * The deletion claimed by `by` (a request's revoke, or the reconciler for `forRequests`): nobody
 * holds it any more, and only the writer whose claim lands deletes it.
 */
export function deletionClaimed(
  record: HoldersRecord,
  by: string,
  forRequests: string[] = [],
): HoldersRecord {
  const claim: HoldersRecord = { ...record, holders: [], state: 'DELETING', deletingBy: by };
  delete claim.deletionRequestId;
  delete claim.deletionCallFailedAt;
  delete claim.deletingFor;
  if (forRequests.length) claim.deletingFor = [...new Set(forRequests)];
  return claim;
}

/** Identity Center took `by`'s deletion: its operation id, followed from now on instead of asking again. */
export function deletionAsked(
  record: HoldersRecord,
  by: string,
  operationId: string,
): HoldersRecord | undefined {
  if (record.state !== 'DELETING' || record.deletingBy !== by) return undefined;
  const next: HoldersRecord = { ...record, deletionRequestId: operationId };
  delete next.deletionCallFailedAt;
  return next;
}

/** `by`'s deletion call came back with an error before Identity Center took it: a retry asks again at once. */
export function deletionCallFailed(
  record: HoldersRecord,
  by: string,
  failedAt: string,
): HoldersRecord | undefined {
  if (record.state !== 'DELETING' || record.deletingBy !== by || record.deletionRequestId) return undefined;
  return { ...record, deletionCallFailedAt: failedAt };
}

/**
 * `by`'s deletion is done: ABSENT, and nothing of this product's any more (never pre-existing
 * again). Only while the record is still in that deletion (the very operation, when it is known).
 */
export function deleted(
  record: HoldersRecord,
  by: string,
  deletionRequestId?: string,
): HoldersRecord | undefined {
  if (record.state !== 'DELETING' || record.deletingBy !== by) return undefined;
  if (deletionRequestId !== undefined && record.deletionRequestId !== deletionRequestId) return undefined;
  const absent: HoldersRecord = { ...record, state: 'ABSENT', preExisting: false, holders: [] };
  delete absent.deletingBy;
  delete absent.deletingFor;
  delete absent.deletionRequestId;
  delete absent.deletionCallFailedAt;
  return absent;
}

// ---- group memberships -----------------------------------------------------------------------
// CreateGroupMembership and DeleteGroupMembership answer at once, so a membership has no
// operation to follow: an addition is fenced by `addingBy`, a removal claimed by `removingBy`.

/** A live request joins a membership other requests of ours already hold. */
export function membershipJoined(
  record: MembershipHoldersRecord,
  requestId: string,
): MembershipHoldersRecord {
  return { ...record, holders: [...record.holders, requestId] };
}

/** The user is a member already and nobody of ours holds it: someone else's, never removed. */
export function membershipFound(
  key: MembershipKey,
  requestId: string,
  membershipId: string,
  previous: MembershipHoldersRecord | undefined,
  now: string,
): MembershipHoldersRecord {
  return {
    ...key,
    preExisting: true,
    holders: [requestId],
    state: 'PRESENT',
    membershipId,
    revision: previous?.revision ?? 0,
    updatedAt: now,
  };
}

/** An addition about to be asked for, fenced first: a membership found while it stands is this request's own. */
export function membershipAdditionFenced(
  key: MembershipKey,
  requestId: string,
  previous: MembershipHoldersRecord | undefined,
  now: string,
): MembershipHoldersRecord {
  return {
    ...key,
    preExisting: false,
    holders: [requestId],
    state: 'ABSENT',
    addingBy: requestId,
    revision: previous?.revision ?? 0,
    updatedAt: now,
  };
}

/** The addition `requestId` fenced landed: PRESENT, with its id. */
export function membershipAdded(
  record: MembershipHoldersRecord,
  requestId: string,
  membershipId: string,
): MembershipHoldersRecord | undefined {
  if (record.addingBy !== requestId) return undefined;
  return { ...withoutAddition(record), state: 'PRESENT', membershipId };
}

/**
 * A request lets go of a membership it held or was adding (withdrawn, or its user or group gone):
 * its entry and its fence go, a membership it only joined stays as it was.
 */
export function membershipWithdrawal(
  record: MembershipHoldersRecord,
  requestId: string,
): MembershipHoldersRecord | undefined {
  if (!record.holders.includes(requestId) && record.addingBy !== requestId) return undefined;
  const base = record.addingBy === requestId ? withoutAddition(record) : record;
  return { ...base, holders: record.holders.filter((id) => id !== requestId) };
}

/**
 * The removal claimed by `by` (the last holder's revoke, or the reconciler for `forRequests`):
 * nobody holds it, the id to remove is stored with the claim so a retry removes the same one.
 */
export function membershipRemovalClaimed(
  record: MembershipHoldersRecord,
  by: string,
  membershipId: string | undefined,
  forRequests: string[] = [],
): MembershipHoldersRecord {
  const claim: MembershipHoldersRecord = { ...withoutAddition(record), holders: [], removingBy: by };
  delete claim.removingFor;
  delete claim.membershipId;
  if (membershipId) claim.membershipId = membershipId;
  if (forRequests.length) claim.removingFor = [...new Set(forRequests)];
  return claim;
}

/** Removed by this product: nobody holds it, nothing pre-existed. */
export function membershipRemoved(record: MembershipHoldersRecord): MembershipHoldersRecord {
  const next: MembershipHoldersRecord = { ...record, state: 'ABSENT', preExisting: false, holders: [] };
  delete next.removingBy;
  delete next.removingFor;
  delete next.membershipId;
  delete next.addingBy;
  return next;
}

function withoutAddition(record: MembershipHoldersRecord): MembershipHoldersRecord {
  const next = { ...record };
  delete next.addingBy;
  return next;
}
