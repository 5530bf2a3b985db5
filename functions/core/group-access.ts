import type { AuditTrail, Occurrence } from './audit';
import { AccessError, RequestCancelledError, RetryableError } from './errors';
import {
  bumped,
  holdersKept,
  membershipAdded,
  membershipAdditionFenced,
  membershipFound,
  membershipJoined,
  membershipRemovalClaimed,
  membershipRemoved,
  membershipWithdrawal,
} from './holders';
import { GRANTING_PHASE, movesInto } from './lifecycle';
import type { MembershipHoldersRecord, MembershipKey, RequestRecord } from './model';
import { membershipKeyText } from './model';
import { CONFLICT, type Conflict, retryOnConflict } from './optimistic';
import type { Clock, GroupMemberships, RequestStore } from './ports';

// Group access: a request's requester added to an Identity Center group for the window, through
// the group's holders record (model.ts `MembershipHoldersRecord`) as an account assignment goes
// through its own (its transitions in holders.ts), so the same two rules hold:
//  - a membership that existed before the request (found by GetGroupMembershipId with no addition
//    of this product's in flight) is recorded `preExisting` and never removed;
//  - overlapping requests share one membership: the last holder's revoke removes it.
// CreateGroupMembership and DeleteGroupMembership answer at once, so Grant and Revoke answer
// SUCCEEDED themselves and the workflow skips its CheckGrant/CheckRevoke polls (and EndSessions,
// which is for permission sets). An addition is fenced before its call (`addingBy`): a retry, or a
// ConflictException (the user already a member), finds the membership and holds it as its own.

const SYSTEM = 'system:workflow';
const WRITE_ATTEMPTS = 5;
const GRANT: Occurrence = { step: 'grant' };
const REVOKE: Occurrence = { step: 'revoke' };

export type Granted = NonNullable<RequestRecord['granted']>;
const CREATED: Granted = { alreadyAssigned: false, preExisting: false };

/** What LifecycleSteps does for every kind of access (its window, its kept/failed events). */
export interface AccessHooks<G, R> {
  intendGrant(requestId: string, granted: Granted): Promise<void>;
  opened(known: Granted | undefined, fallback: Granted): Promise<G>;
  grantFailed(failureReason: string): Promise<G>;
  kept(keptBecause: 'pre-existing' | 'shared', stillNeededBy: string[]): Promise<R>;
  notTracked(): Promise<R>;
  succeeded(): R;
}

export interface GroupAccessDependencies {
  store: RequestStore;
  audit: AuditTrail;
  memberships: GroupMemberships;
  clock: Clock;
}

export const membershipKeyOf = (record: RequestRecord, principalId: string): MembershipKey | undefined =>
  record.request.groupId === undefined ? undefined : { groupId: record.request.groupId, principalId };

const describe = (key: MembershipKey) => `membership of ${key.principalId} in group ${key.groupId}`;

export class GroupAccess {
  constructor(private readonly deps: GroupAccessDependencies) {}

  private now(): string {
    return this.deps.clock.now().toISOString();
  }

  private bump(record: MembershipHoldersRecord): MembershipHoldersRecord {
    return bumped(record, this.now());
  }

  private loop<T>(key: MembershipKey, attempt: () => Promise<T | Conflict>): Promise<T> {
    return retryOnConflict(WRITE_ATTEMPTS, attempt, () => {
      throw new RetryableError(`Concurrent changes to the holders of the ${describe(key)}`);
    });
  }

  /** Applies `change` to the stored record (undefined: nothing to write), under its revision. */
  private async change(
    key: MembershipKey,
    change: (h: MembershipHoldersRecord) => MembershipHoldersRecord | undefined,
  ): Promise<void> {
    await this.loop(key, async () => {
      const current = await this.deps.store.getMembershipHolders(key);
      const next = current && change(current);
      if (!current || !next) return undefined;
      return (await this.deps.store.putMembershipHolders(this.bump(next), current.revision))
        ? undefined
        : CONFLICT;
    });
  }

  /** Grant: joins the holders, keeps a pre-existing membership as it is, or adds the member. */
  async grant<G, R>(requestId: string, key: MembershipKey, hooks: AccessHooks<G, R>): Promise<G> {
    const { store, memberships } = this.deps;
    return this.loop(key, async () => {
      const holders = await store.getMembershipHolders(key);
      if (holders?.holders.includes(requestId)) {
        // A retry: carry on from what the first run did (an addition it fenced is asked again).
        if (holders.addingBy === requestId) return this.add(requestId, key, hooks);
        return hooks.opened(undefined, { alreadyAssigned: true, preExisting: holders.preExisting });
      }
      if (holders?.addingBy || holders?.removingBy)
        throw new RetryableError(
          `The ${describe(key)} is being ${holders.addingBy ? 'added' : 'removed'} for another request`,
        );
      if (holders && holders.state === 'PRESENT' && holders.holders.length > 0) {
        const joined: Granted = {
          alreadyAssigned: true,
          preExisting: holders.preExisting,
          existing: { sharedWith: holders.holders.join(','), preExisting: holders.preExisting },
        };
        await hooks.intendGrant(requestId, joined);
        if (
          !(await store.putMembershipHolders(
            this.bump(membershipJoined(holders, requestId)),
            holders.revision,
          ))
        )
          return CONFLICT;
        return hooks.opened(joined, joined);
      }
      // Nobody of ours holds it: is the user a member already (someone else's membership)?
      const found = await memberships.membershipId(key.groupId, key.principalId);
      const now = this.now();
      if (found) {
        const granted: Granted = {
          alreadyAssigned: true,
          preExisting: true,
          existing: { preExisting: true, membershipId: found },
        };
        await hooks.intendGrant(requestId, granted);
        const next = this.bump(membershipFound(key, requestId, found, holders, now));
        if (!(await store.putMembershipHolders(next, holders?.revision))) return CONFLICT;
        return hooks.opened(granted, granted);
      }
      // Fenced before the call: a membership found while `addingBy` names this request is its own.
      const fenced = this.bump(membershipAdditionFenced(key, requestId, holders, now));
      if (!(await store.putMembershipHolders(fenced, holders?.revision))) return CONFLICT;
      const moved = await store.updateRequest(requestId, movesInto('GRANTING', { orAlready: true }), {
        status: 'GRANTING',
      });
      // Withdrawn by its requester since Grant read it (a scheduled start's Cancel, which races
      // this very write): nothing is asked of Identity Center.
      if (!moved.ok && moved.current?.status === 'CANCELLED') return this.withdrawn(requestId, key);
      return this.add(requestId, key, hooks);
    });
  }

  /**
   * A request withdrawn while Grant held it (core/scheduled-start.ts): its holder entry and its
   * addition fence are let go (a membership it only joined stays as it was), and the step fails
   * as Cancelled.
   */
  async withdrawn(requestId: string, key: MembershipKey): Promise<never> {
    await this.change(key, (h) => membershipWithdrawal(h, requestId));
    throw new RequestCancelledError(requestId);
  }

  /** CreateGroupMembership for the addition this request fenced; a conflict finds the membership. */
  private async add<G, R>(requestId: string, key: MembershipKey, hooks: AccessHooks<G, R>): Promise<G> {
    const { audit, memberships, store } = this.deps;
    await audit.record(
      requestId,
      'grant.requested',
      SYSTEM,
      'info',
      { principalId: key.principalId, groupId: key.groupId },
      { ...GRANT, key: 'membership' },
    );
    let membershipId: string | undefined;
    try {
      const added = await memberships.add(key.groupId, key.principalId);
      // ConflictException: already a member (this request's earlier call landed, or the
      // membership came between the lookup and the call) or a concurrent change: look it up.
      membershipId =
        'membershipId' in added
          ? added.membershipId
          : await memberships.membershipId(key.groupId, key.principalId);
    } catch (error) {
      if (!(error instanceof AccessError) || error.code !== 'membership-target-gone') throw error;
      await this.change(key, (h) =>
        h.addingBy === requestId ? membershipWithdrawal(h, requestId) : undefined,
      );
      await store.updateRequest(requestId, GRANTING_PHASE, {
        status: 'GRANT_FAILED',
        failureReason: error.message,
      });
      return hooks.grantFailed(error.message);
    }
    if (!membershipId)
      throw new RetryableError(`Identity Center refused the ${describe(key)} as a conflict and has none yet`);
    await this.change(key, (h) => membershipAdded(h, requestId, membershipId));
    return hooks.opened(CREATED, CREATED);
  }

  /** Revoke: removes the membership only when no other live request holds it and it did not pre-exist. */
  async revoke<G, R>(requestId: string, key: MembershipKey, hooks: AccessHooks<G, R>): Promise<R> {
    const { store, memberships } = this.deps;
    return this.loop(key, async () => {
      const holders = await store.getMembershipHolders(key);
      if (!holders) return hooks.notTracked();
      if (holders.removingBy === requestId) return this.remove(requestId, key, holders, hooks);
      if (!holders.holders.includes(requestId)) {
        // Released by an earlier run of this step: the same answer.
        if (holders.state === 'ABSENT' || (holders.holders.length === 0 && !holders.preExisting))
          return hooks.succeeded();
        return hooks.kept(holders.preExisting ? 'pre-existing' : 'shared', holders.holders);
      }
      const remaining = holders.holders.filter((id) => id !== requestId);
      const neverAdded = holders.state === 'ABSENT' && holders.addingBy === undefined;
      if (remaining.length > 0 || holders.preExisting || neverAdded) {
        if (!(await store.putMembershipHolders(this.bump(holdersKept(holders, remaining)), holders.revision)))
          return CONFLICT;
        if (neverAdded) return hooks.succeeded();
        return hooks.kept(holders.preExisting ? 'pre-existing' : 'shared', remaining);
      }
      // The last holder of a membership this product added (or was adding: then it is found
      // now, or it never landed). The id is stored with the claim, so a retry removes the same one.
      const membershipId =
        holders.membershipId ?? (await memberships.membershipId(key.groupId, key.principalId));
      const claim = this.bump(membershipRemovalClaimed(holders, requestId, membershipId));
      if (!(await store.putMembershipHolders(claim, holders.revision))) return CONFLICT;
      return this.remove(requestId, key, claim, hooks);
    });
  }

  /** DeleteGroupMembership under this request's claim; a membership (or user, or group) already gone is removed. */
  private async remove<G, R>(
    requestId: string,
    key: MembershipKey,
    claim: MembershipHoldersRecord,
    hooks: AccessHooks<G, R>,
  ): Promise<R> {
    const { audit, memberships } = this.deps;
    const details = {
      principalId: key.principalId,
      groupId: key.groupId,
      membershipId: claim.membershipId ?? null,
    };
    await audit.record(requestId, 'revoke.requested', SYSTEM, 'info', details, REVOKE);
    if (claim.membershipId) await memberships.remove(claim.membershipId);
    // The event before the claim is let go: a retry that finds the claim writes it again.
    await audit.record(requestId, 'revoke.succeeded', SYSTEM, 'success', details, {
      ...REVOKE,
      key: 'membership',
    });
    await this.change(key, (h) => (h.removingBy === requestId ? membershipRemoved(h) : undefined));
    return hooks.succeeded();
  }
}

export { membershipKeyText };
