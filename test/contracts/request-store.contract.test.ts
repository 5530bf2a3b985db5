import { DynamoDbRequestStore } from '../../functions/adapters/dynamodb-request-store';
import {
  type AssignmentKey,
  assignmentKeyText,
  type HoldersRecord,
  type RequestRecord,
  type RequestStatus,
} from '../../functions/core/model';
import type { RequestStore } from '../../functions/core/ports';
import { ManualClock, MemoryStore } from '../reliability/fakes';
import { useLocalDynamo } from '../support/dynamo';

// What the core relies on from its RequestStore, checked on the in-memory fake and on the
// DynamoDB store alike, so the tests that run on the fake see what production would do.

interface StoreUnderTest {
  store: RequestStore;
  clock: ManualClock;
}

const PS = 'arn:aws:sso:::permissionSet/ssoins-7223a1b2c3d4e5f6/ps-1a2b3c4d5e6f7a8b';
const T0 = Date.UTC(2026, 11, 1, 9, 0, 0);
const at = (minutes: number) => new Date(T0 + minutes * 60_000).toISOString();

function request(
  requestId: string,
  options: { slackUserId?: string; requestedAt?: string; status?: RequestStatus } = {},
): RequestRecord {
  const requestedAt = options.requestedAt ?? at(0);
  return {
    version: 1,
    request: {
      requestId,
      requester: { email: 'alice@example.com', slackUserId: options.slackUserId ?? 'U0ALICE' },
      accountId: '222222222222',
      permissionSetArn: PS,
      durationMinutes: 60,
      reason: 'Incident 42',
      requestedAt,
    },
    status: options.status ?? 'PENDING_APPROVAL',
    approvals: [],
    updatedAt: requestedAt,
  };
}

const key = (principalId: string): AssignmentKey => ({
  accountId: '222222222222',
  permissionSetArn: PS,
  principalId,
});

function holders(principalId: string, revision: number, holderIds: string[] = []): HoldersRecord {
  return {
    ...key(principalId),
    preExisting: false,
    holders: holderIds,
    state: holderIds.length ? 'PRESENT' : 'ABSENT',
    revision,
    updatedAt: at(revision),
  };
}

const ids = (records: RequestRecord[]) => records.map((r) => r.request.requestId);
const approval = (by: string, minutes: number) => ({ by, slackUserId: 'U0BOB', at: at(minutes) });

function requestStoreContract(make: () => Promise<StoreUnderTest>): void {
  let store: RequestStore;
  let clock: ManualClock;
  beforeEach(async () => {
    ({ store, clock } = await make());
  });

  describe('createRequest and getRequest', () => {
    it('creates a request once; a second create keeps and answers the stored record', async () => {
      const first = request('req-create-1');
      expect(await store.createRequest(first)).toEqual({ created: true, record: first });

      const other = { ...request('req-create-1', { status: 'APPROVED' }), reason: 'changed' };
      expect(await store.createRequest(other)).toEqual({ created: false, record: first });
      expect(await store.getRequest('req-create-1')).toEqual(first);
    });

    it('answers undefined for a request never created', async () => {
      await store.createRequest(request('req-known-1'));
      expect(await store.getRequest('req-unknown-1')).toBeUndefined();
    });

    it('answers copies: changing a read record does not change the stored one', async () => {
      await store.createRequest(request('req-copy-1'));
      const read = (await store.getRequest('req-copy-1')) as RequestRecord;
      read.status = 'ACTIVE';
      read.approvals.push(approval('bob@example.com', 1));
      expect(await store.getRequest('req-copy-1')).toEqual(request('req-copy-1'));
    });
  });

  describe('updateRequest', () => {
    it('applies a change from an allowed status and stamps updatedAt with the clock', async () => {
      await store.createRequest(request('req-update-1'));
      clock.advanceMinutes(5);

      const result = await store.updateRequest('req-update-1', ['APPROVED', 'PENDING_APPROVAL'], {
        status: 'APPROVED',
        ruleName: 'on-call',
      });

      const expected = { ...request('req-update-1'), status: 'APPROVED', ruleName: 'on-call' };
      expect(result).toEqual({ ok: true, value: { ...expected, updatedAt: clock.now().toISOString() } });
      expect(await store.getRequest('req-update-1')).toEqual(result.ok && result.value);
    });

    it('refuses a change from another status and answers the stored record, unchanged', async () => {
      await store.createRequest(request('req-update-2', { status: 'DENIED' }));

      const result = await store.updateRequest('req-update-2', ['PENDING_APPROVAL'], { status: 'APPROVED' });

      expect(result).toEqual({ ok: false, current: request('req-update-2', { status: 'DENIED' }) });
      expect((await store.getRequest('req-update-2'))?.status).toBe('DENIED');
    });

    it('refuses a change to a request that does not exist', async () => {
      expect(
        await store.updateRequest('req-missing-1', ['PENDING_APPROVAL'], { status: 'APPROVED' }),
      ).toEqual({
        ok: false,
        current: undefined,
      });
      expect(await store.getRequest('req-missing-1')).toBeUndefined();
    });

    it('asks the guard with the stored record and writes only when it accepts', async () => {
      await store.createRequest(request('req-guard-1'));
      const seen: RequestRecord[] = [];

      const refused = await store.updateRequest(
        'req-guard-1',
        ['PENDING_APPROVAL'],
        { status: 'APPROVED' },
        (r) => {
          seen.push(r);
          return r.approvals.length > 0;
        },
      );
      expect(refused).toEqual({ ok: false, current: request('req-guard-1') });
      expect(seen).toEqual([request('req-guard-1')]);
      expect((await store.getRequest('req-guard-1'))?.status).toBe('PENDING_APPROVAL');

      const accepted = await store.updateRequest(
        'req-guard-1',
        ['PENDING_APPROVAL'],
        { status: 'APPROVED' },
        (r) => r.approvals.length === 0,
      );
      expect(accepted.ok).toBe(true);
      expect((await store.getRequest('req-guard-1'))?.status).toBe('APPROVED');
    });

    it('leaves a change that changes nothing unwritten: updatedAt stays', async () => {
      await store.createRequest(request('req-same-1'));
      await store.updateRequest('req-same-1', ['PENDING_APPROVAL'], { ruleName: 'on-call' });
      const stored = await store.getRequest('req-same-1');
      clock.advanceMinutes(10);

      const again = await store.updateRequest('req-same-1', ['PENDING_APPROVAL'], { ruleName: 'on-call' });

      expect(again).toEqual({ ok: true, value: stored });
      expect(await store.getRequest('req-same-1')).toEqual(stored);
    });
  });

  describe('addApproval', () => {
    it('adds distinct approvers while pending, each once, and stamps updatedAt with the approval', async () => {
      await store.createRequest(request('req-approve-1'));

      const first = await store.addApproval('req-approve-1', approval('bob@example.com', 1));
      expect(first).toEqual({
        ok: true,
        value: { ...request('req-approve-1'), approvals: [approval('bob@example.com', 1)], updatedAt: at(1) },
      });

      const again = await store.addApproval('req-approve-1', approval('bob@example.com', 2));
      expect(again.ok).toBe(false);
      expect(again.ok || again.current?.approvals).toEqual([approval('bob@example.com', 1)]);

      const second = await store.addApproval('req-approve-1', approval('carol@example.com', 3));
      expect(second.ok && second.value.approvals).toEqual([
        approval('bob@example.com', 1),
        approval('carol@example.com', 3),
      ]);
      expect(await store.getRequest('req-approve-1')).toEqual(second.ok && second.value);
    });

    it('refuses an approval once the request left PENDING_APPROVAL, or when it does not exist', async () => {
      await store.createRequest(request('req-approve-2', { status: 'DENIED' }));

      expect(await store.addApproval('req-approve-2', approval('bob@example.com', 1))).toEqual({
        ok: false,
        current: request('req-approve-2', { status: 'DENIED' }),
      });
      expect(await store.addApproval('req-missing-2', approval('bob@example.com', 1))).toEqual({
        ok: false,
        current: undefined,
      });
    });
  });

  describe('listByRequester and listByStatus', () => {
    // Created out of time order: the lists follow requestedAt, not the order of writes.
    async function seed(): Promise<void> {
      await store.createRequest(request('req-list-b', { requestedAt: at(2) }));
      await store.createRequest(request('req-list-d', { requestedAt: at(4), status: 'ACTIVE' }));
      await store.createRequest(request('req-list-a', { requestedAt: at(1) }));
      await store.createRequest(request('req-list-c', { requestedAt: at(3) }));
      await store.createRequest(request('req-list-x', { requestedAt: at(5), slackUserId: 'U0BOB' }));
    }

    it("lists a requester's requests newest first, the newest `limit` of them", async () => {
      await seed();
      expect(ids(await store.listByRequester('U0ALICE', 10))).toEqual([
        'req-list-d',
        'req-list-c',
        'req-list-b',
        'req-list-a',
      ]);
      expect(ids(await store.listByRequester('U0ALICE', 2))).toEqual(['req-list-d', 'req-list-c']);
      expect(ids(await store.listByRequester('U0NOBODY', 10))).toEqual([]);
    });

    it('lists every request in a status newest first, or the newest `limit`', async () => {
      await seed();
      expect(ids(await store.listByStatus('PENDING_APPROVAL'))).toEqual([
        'req-list-x',
        'req-list-c',
        'req-list-b',
        'req-list-a',
      ]);
      expect(ids(await store.listByStatus('PENDING_APPROVAL', 2))).toEqual(['req-list-x', 'req-list-c']);
      expect(ids(await store.listByStatus('ACTIVE'))).toEqual(['req-list-d']);
      expect(ids(await store.listByStatus('REVOKED'))).toEqual([]);
    });

    it('moves a request between status lists as its status changes, with its current record', async () => {
      await seed();
      await store.updateRequest('req-list-b', ['PENDING_APPROVAL'], { status: 'ACTIVE' });

      expect(ids(await store.listByStatus('PENDING_APPROVAL'))).toEqual([
        'req-list-x',
        'req-list-c',
        'req-list-a',
      ]);
      const active = await store.listByStatus('ACTIVE');
      expect(ids(active)).toEqual(['req-list-d', 'req-list-b']);
      expect(active[1]).toEqual(await store.getRequest('req-list-b'));
    });
  });

  describe('listPendingReviews', () => {
    const breakGlass = (requestId: string, dueMinutes: number): RequestRecord => ({
      ...request(requestId, { status: 'ACTIVE' }),
      breakGlass: {
        reviewers: ['dave@example.com'],
        alertChannel: 'C0SECURITY',
        reviewDueAt: at(dueMinutes),
      },
    });

    it('lists break-glass uses awaiting review, latest due first; a review takes one off', async () => {
      await store.createRequest(breakGlass('req-bg-a', 60));
      await store.createRequest(breakGlass('req-bg-b', 120));
      await store.createRequest(request('req-ordinary', { status: 'ACTIVE' }));
      expect(ids(await store.listPendingReviews())).toEqual(['req-bg-b', 'req-bg-a']);
      expect(ids(await store.listPendingReviews(1))).toEqual(['req-bg-b']);

      const stored = await store.getRequest('req-bg-b');
      await store.updateRequest('req-bg-b', ['ACTIVE'], {
        breakGlass: {
          ...(stored?.breakGlass as NonNullable<RequestRecord['breakGlass']>),
          review: { by: 'dave@example.com', slackUserId: 'U0DAVE', at: at(5), verdict: 'justified' },
        },
      });
      // Escalated but unreviewed stays listed; a status change keeps it listed too.
      await store.updateRequest('req-bg-a', ['ACTIVE'], { status: 'REVOKED' });
      const pending = await store.listPendingReviews();
      expect(ids(pending)).toEqual(['req-bg-a']);
      expect(pending[0]).toEqual(await store.getRequest('req-bg-a'));
    });
  });

  describe('task tokens', () => {
    it('keeps a token per request and kind; peek reads it, take reads and removes it', async () => {
      expect(await store.peekTaskToken('req-token-1', 'approval')).toBeUndefined();
      await store.putTaskToken('req-token-1', 'approval', 'token-approval-1');
      await store.putTaskToken('req-token-1', 'window', 'token-window-1');
      await store.putTaskToken('req-token-2', 'approval', 'token-approval-2');

      expect(await store.peekTaskToken('req-token-1', 'approval')).toBe('token-approval-1');
      expect(await store.peekTaskToken('req-token-1', 'approval')).toBe('token-approval-1');
      expect(await store.takeTaskToken('req-token-1', 'approval')).toBe('token-approval-1');
      expect(await store.takeTaskToken('req-token-1', 'approval')).toBeUndefined();
      expect(await store.peekTaskToken('req-token-1', 'approval')).toBeUndefined();

      expect(await store.peekTaskToken('req-token-1', 'window')).toBe('token-window-1');
      expect(await store.peekTaskToken('req-token-2', 'approval')).toBe('token-approval-2');
    });

    it('replaces a token put again (a new callback of the same kind)', async () => {
      await store.putTaskToken('req-token-3', 'window', 'token-old');
      await store.putTaskToken('req-token-3', 'window', 'token-new');
      expect(await store.takeTaskToken('req-token-3', 'window')).toBe('token-new');
    });

    it('hands a token to one of two callers taking it at once', async () => {
      await store.putTaskToken('req-token-4', 'approval', 'token-once');
      const taken = await Promise.all([
        store.takeTaskToken('req-token-4', 'approval'),
        store.takeTaskToken('req-token-4', 'approval'),
      ]);
      expect(taken.filter((t) => t !== undefined)).toEqual(['token-once']);
    });
  });

  describe('holders', () => {
    it('writes a new record only where none exists, then only over the expected revision', async () => {
      expect(await store.getHolders(key('user-h1'))).toBeUndefined();
      expect(await store.putHolders(holders('user-h1', 1, ['req-a']), undefined)).toBe(true);
      expect(await store.getHolders(key('user-h1'))).toEqual(holders('user-h1', 1, ['req-a']));

      // A second first write loses: someone else created it meanwhile.
      expect(await store.putHolders(holders('user-h1', 1, ['req-b']), undefined)).toBe(false);

      expect(await store.putHolders(holders('user-h1', 2, ['req-a', 'req-b']), 1)).toBe(true);
      // A writer that read revision 1 is stale now.
      expect(await store.putHolders(holders('user-h1', 2, []), 1)).toBe(false);
      expect(await store.getHolders(key('user-h1'))).toEqual(holders('user-h1', 2, ['req-a', 'req-b']));
    });

    it('refuses a write expecting a revision of a record that does not exist', async () => {
      expect(await store.putHolders(holders('user-h2', 2), 1)).toBe(false);
      expect(await store.getHolders(key('user-h2'))).toBeUndefined();
    });

    it('lets one of two writers expecting the same revision win', async () => {
      await store.putHolders(holders('user-h3', 1), undefined);
      const wins = await Promise.all([
        store.putHolders(holders('user-h3', 2, ['req-a']), 1),
        store.putHolders(holders('user-h3', 2, ['req-b']), 1),
      ]);
      expect(wins.filter(Boolean)).toHaveLength(1);
      const stored = await store.getHolders(key('user-h3'));
      expect(stored?.holders).toEqual(wins[0] ? ['req-a'] : ['req-b']);
    });

    it('lists every holders record, each as last written', async () => {
      expect(await store.listHolders()).toEqual([]);
      await store.putHolders(holders('user-l2', 1), undefined);
      await store.putHolders(holders('user-l1', 1), undefined);
      await store.putHolders(holders('user-l2', 2, ['req-a']), 1);
      await store.putHolders(holders('user-l3', 1), undefined);

      const byKey = (a: HoldersRecord, b: HoldersRecord) =>
        assignmentKeyText(a).localeCompare(assignmentKeyText(b));
      expect((await store.listHolders()).sort(byKey)).toEqual([
        holders('user-l1', 1),
        holders('user-l2', 2, ['req-a']),
        holders('user-l3', 1),
      ]);
    });
  });
}

describe('RequestStore contract: MemoryStore', () => {
  requestStoreContract(async () => {
    const clock = new ManualClock();
    return { store: new MemoryStore(clock), clock };
  });
});

describe('RequestStore contract: DynamoDbRequestStore on dynalite', () => {
  const local = useLocalDynamo('contract');
  // A fresh table per test: listHolders reads the whole table.
  requestStoreContract(async () => {
    const names = await local.freshTables();
    const clock = new ManualClock();
    return { store: new DynamoDbRequestStore(local.client(), names.stateTable, clock), clock };
  });
});
