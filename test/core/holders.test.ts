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
  holdersKept,
  membershipAdded,
  membershipAdditionFenced,
  membershipFound,
  membershipJoined,
  membershipRemovalClaimed,
  membershipRemoved,
  membershipWithdrawal,
  withdrawal,
} from '../../functions/core/holders';
import type { HoldersRecord, MembershipHoldersRecord } from '../../functions/core/model';

// The holders record's transitions (core/holders.ts), which the steps and the reconciler share:
// each answers the next record or, applied again (a retry) or to a record that moved on, nothing.

const T0 = '2026-12-04T10:00:00.000Z';
const base: HoldersRecord = {
  accountId: '111122223333',
  permissionSetArn: 'arn:aws:sso:::permissionSet/ssoins-1/ps-1',
  principalId: 'user-1',
  preExisting: false,
  holders: ['req-a'],
  state: 'CREATING',
  revision: 3,
  updatedAt: T0,
};

describe('creations', () => {
  it('fences a creation, gives the newest unasked fence its operation id, and settles it when it succeeds', () => {
    const fenced = creationFenced(creationFenced(base, 'req-a', T0), 'req-a', '2026-12-04T10:01:00.000Z');
    const asked = creationAsked(fenced, 'req-a', 'op-2');
    expect(asked?.creationsInFlight).toEqual([
      { requestId: 'req-a', issuedAt: T0 },
      { requestId: 'req-a', issuedAt: '2026-12-04T10:01:00.000Z', operationId: 'op-2' },
    ]);
    const present = creationSucceeded(asked as HoldersRecord, 'req-a', 'op-2');
    expect(present).toMatchObject({ state: 'PRESENT', holders: ['req-a'] });
    // The fence whose call never returned stays for the reconciler.
    expect(present?.creationsInFlight).toEqual([{ requestId: 'req-a', issuedAt: T0 }]);
  });

  it('marks a failed call once, and asks nothing of a record without an unasked fence', () => {
    const fenced = creationFenced(base, 'req-a', T0);
    const failed = creationCallFailed(fenced, 'req-a', T0);
    expect(failed?.creationsInFlight).toEqual([{ requestId: 'req-a', issuedAt: T0, callFailedAt: T0 }]);
    expect(creationCallFailed(failed as HoldersRecord, 'req-a', T0)).toBeUndefined();
    expect(creationAsked(base, 'req-a', 'op-1')).toBeUndefined();
  });

  it('leaves a record that moved on (no longer CREATING) to the reconciler', () => {
    expect(creationSucceeded({ ...base, state: 'DELETING' }, 'req-a', 'op-1')).toBeUndefined();
  });

  it('lets the request go when its creation fails, ABSENT when it was alone, and nothing on a retry', () => {
    const asked = creationAsked(creationFenced(base, 'req-a', T0), 'req-a', 'op-1') as HoldersRecord;
    const failed = creationFailed(asked, 'req-a', 'op-1');
    expect(failed).toMatchObject({ holders: [], state: 'ABSENT', creationsInFlight: [] });
    expect(creationFailed(failed as HoldersRecord, 'req-a', 'op-1')).toBeUndefined();
    const shared = creationFailed({ ...asked, holders: ['req-a', 'req-b'] }, 'req-a', 'op-1');
    expect(shared).toMatchObject({ holders: ['req-b'], state: 'CREATING' });
  });

  it('withdraws a request with its unasked fence, keeping fences Identity Center took', () => {
    const record: HoldersRecord = {
      ...base,
      creationsInFlight: [
        { requestId: 'req-a', issuedAt: T0 },
        { requestId: 'req-a', issuedAt: T0, operationId: 'op-1' },
      ],
    };
    expect(withdrawal(record, 'req-a')).toMatchObject({
      holders: [],
      state: 'ABSENT',
      creationsInFlight: [{ requestId: 'req-a', issuedAt: T0, operationId: 'op-1' }],
    });
    expect(withdrawal({ ...record, state: 'PRESENT' }, 'req-a')?.state).toBe('PRESENT');
    expect(withdrawal(record, 'req-z')).toBeUndefined();
  });
});

describe('deletions, as a request’s revoke and the reconciler make them', () => {
  const present: HoldersRecord = { ...base, state: 'PRESENT' };

  it('claims a deletion with nobody holding it, and clears what an earlier deletion left', () => {
    const stale: HoldersRecord = {
      ...present,
      deletionRequestId: 'old-op',
      deletionCallFailedAt: T0,
      deletingFor: ['req-old'],
    };
    expect(deletionClaimed(stale, 'req-a')).toEqual({
      ...present,
      holders: [],
      state: 'DELETING',
      deletingBy: 'req-a',
    });
    expect(deletionClaimed(stale, 'reconciler', ['req-a', 'req-a', 'req-b'])).toMatchObject({
      deletingBy: 'reconciler',
      deletingFor: ['req-a', 'req-b'],
    });
  });

  it('records the operation and a failed call only for the deleter that claimed it', () => {
    const claim = deletionClaimed(present, 'req-a');
    expect(deletionCallFailed(claim, 'req-a', T0)?.deletionCallFailedAt).toBe(T0);
    expect(deletionCallFailed(claim, 'reconciler', T0)).toBeUndefined();
    const asked = deletionAsked({ ...claim, deletionCallFailedAt: T0 }, 'req-a', 'op-9');
    expect(asked).toMatchObject({ deletionRequestId: 'op-9' });
    expect(asked?.deletionCallFailedAt).toBeUndefined();
    expect(deletionCallFailed(asked as HoldersRecord, 'req-a', T0)).toBeUndefined();
    expect(deletionAsked(claim, 'reconciler', 'op-9')).toBeUndefined();
  });

  it('marks it ABSENT only while it is still that deleter’s deletion (and that operation, when known)', () => {
    const asked = deletionAsked(
      deletionClaimed(present, 'reconciler', ['req-a']),
      'reconciler',
      'op-9',
    ) as HoldersRecord;
    expect(deleted(asked, 'reconciler', 'op-9')).toEqual({
      ...present,
      holders: [],
      state: 'ABSENT',
      preExisting: false,
    });
    expect(deleted(asked, 'reconciler', 'op-other')).toBeUndefined();
    expect(deleted(asked, 'req-a')).toBeUndefined();
    expect(deleted({ ...asked, state: 'ABSENT' }, 'reconciler')).toBeUndefined();
  });

  it('bumps the revision and the time on every write', () => {
    expect(bumped(present, '2026-12-04T11:00:00.000Z')).toMatchObject({
      revision: 4,
      updatedAt: '2026-12-04T11:00:00.000Z',
    });
  });
});

describe('group memberships, as group access and the reconciler make them', () => {
  const key = { groupId: 'group-1', principalId: 'user-1' };

  it('fences an addition over what was stored, and makes it PRESENT only for the request that fenced it', () => {
    const fenced = membershipAdditionFenced(key, 'req-a', undefined, T0);
    expect(fenced).toMatchObject({
      state: 'ABSENT',
      addingBy: 'req-a',
      holders: ['req-a'],
      preExisting: false,
    });
    expect(membershipAdded(fenced, 'req-b', 'm-1')).toBeUndefined();
    const added = membershipAdded(fenced, 'req-a', 'm-1') as MembershipHoldersRecord;
    expect(added).toMatchObject({ state: 'PRESENT', membershipId: 'm-1', holders: ['req-a'] });
    expect(added.addingBy).toBeUndefined();
    expect(membershipAdded(added, 'req-a', 'm-1')).toBeUndefined(); // a retry writes nothing
  });

  it('records a membership found with nobody of ours holding it as pre-existing, under the stored revision', () => {
    const previous = {
      ...membershipRemoved(membershipAdditionFenced(key, 'req-z', undefined, T0)),
      revision: 7,
    };
    expect(membershipFound(key, 'req-a', 'm-9', previous, T0)).toMatchObject({
      preExisting: true,
      state: 'PRESENT',
      membershipId: 'm-9',
      holders: ['req-a'],
      revision: 7,
    });
  });

  it('joins and releases holders without touching the membership', () => {
    const present = membershipAdded(membershipAdditionFenced(key, 'req-a', undefined, T0), 'req-a', 'm-1');
    const joined = membershipJoined(present as MembershipHoldersRecord, 'req-b');
    expect(joined.holders).toEqual(['req-a', 'req-b']);
    expect(holdersKept(joined, ['req-b'])).toMatchObject({
      holders: ['req-b'],
      state: 'PRESENT',
      membershipId: 'm-1',
    });
  });

  it('withdraws a request with its fence, and nothing for a request that holds nothing', () => {
    const fenced = membershipAdditionFenced(key, 'req-a', undefined, T0);
    const withdrawn = membershipWithdrawal(fenced, 'req-a') as MembershipHoldersRecord;
    expect(withdrawn).toMatchObject({ holders: [], state: 'ABSENT' });
    expect(withdrawn.addingBy).toBeUndefined();
    expect(membershipWithdrawal(withdrawn, 'req-a')).toBeUndefined();
    const shared = membershipJoined(
      membershipAdded(fenced, 'req-a', 'm-1') as MembershipHoldersRecord,
      'req-b',
    );
    expect(membershipWithdrawal(shared, 'req-b')).toMatchObject({ holders: ['req-a'], state: 'PRESENT' });
  });

  it('claims a removal with the id to remove and whom it is for, then forgets everything once removed', () => {
    const present = membershipAdded(membershipAdditionFenced(key, 'req-a', undefined, T0), 'req-a', 'm-1');
    const claim = membershipRemovalClaimed(present as MembershipHoldersRecord, 'reconciler', 'm-1', [
      'req-a',
      'req-a',
    ]);
    expect(claim).toMatchObject({
      holders: [],
      removingBy: 'reconciler',
      membershipId: 'm-1',
      removingFor: ['req-a'],
    });
    const byRevoke = membershipRemovalClaimed(claim, 'req-a', undefined);
    expect(byRevoke.removingFor).toBeUndefined();
    expect(byRevoke.membershipId).toBeUndefined();
    const removed = membershipRemoved(claim);
    expect(removed).toMatchObject({ state: 'ABSENT', preExisting: false, holders: [] });
    for (const field of ['removingBy', 'removingFor', 'membershipId', 'addingBy'] as const)
      expect(removed[field]).toBeUndefined();
  });
});
