import { readFileSync } from 'node:fs';
import path from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDbRequestStore } from '../../functions/adapters/dynamodb-request-store';
import type { AssignmentKey, RequestRecord } from '../../functions/core/model';
import { parsePolicy } from '../../functions/core/policy-file';
import { Reconciler } from '../../functions/core/reconciler';
import { createLocalTables, type LocalDynamo, startLocalDynamo } from '../support/dynamo';
import { FakeDirectory, FakeWorkflow, ManualClock, memoryAudit, RecordingNotifier } from './fakes';

// The reconciler reads every request of a status, on the real store over dynalite: with more
// requests than one DynamoDB page (1 MB) holds, the oldest ones — listed last, newest first —
// are exactly those past their window, and a pass must still reach them.

const policy = parsePolicy(
  readFileSync(path.join(__dirname, '../fixtures/email-groups-policy.yaml'), 'utf8'),
);
const STAGING = '222222222222';
const READ_ONLY = 'arn:aws:sso:::permissionSet/ssoins-7223a1b2c3d4e5f6/ps-1a2b3c4d5e6f7a8b';
const TABLES = { stateTable: 'scale-state', auditTable: 'scale-audit' };
const LIVE = 1_200;
const EXPIRED = 3;

let dynamo: LocalDynamo;
beforeAll(async () => {
  dynamo = await startLocalDynamo();
});
afterAll(() => dynamo.close());

describe('reconciler at scale', () => {
  it(`reviews all ${LIVE + EXPIRED} active requests and revokes the oldest, expired ones`, async () => {
    const client = new DynamoDBClient({
      endpoint: dynamo.endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    await createLocalTables(client, TABLES);
    const clock = new ManualClock();
    const store = new DynamoDbRequestStore(client, TABLES.stateTable, clock);
    const directory = new FakeDirectory();
    const workflow = new FakeWorkflow();
    const { log, trail } = memoryAudit(clock);
    const now = clock.now().getTime();
    // A 1,000-character reason makes each item ~1.5 KB: the index needs two pages.
    const reason = 'r'.repeat(1000);
    const record = (n: number, minutesAgo: number): RequestRecord => {
      const requestedAt = new Date(now - minutesAgo * 60_000).toISOString();
      return {
        version: 1,
        request: {
          requestId: `req-scale-${String(n).padStart(5, '0')}`,
          requester: { email: 'alice@example.com', slackUserId: 'U0ALICE' },
          accountId: STAGING,
          permissionSetArn: READ_ONLY,
          durationMinutes: 60,
          reason,
          requestedAt,
        },
        status: 'ACTIVE',
        ruleName: 'staging-self-service',
        principalId: `user-${n}`,
        approvals: [],
        windowStartedAt: requestedAt,
        expiresAt: new Date(now - minutesAgo * 60_000 + 60 * 60_000).toISOString(),
        updatedAt: requestedAt,
      };
    };
    const expired: string[] = [];
    for (let n = 0; n < EXPIRED; n++) {
      // The oldest: opened 3 hours ago for an hour, their executions still (wrongly) waiting.
      const r = record(n, 180 + n);
      expired.push(r.request.requestId);
      await store.createRequest(r);
      workflow.running.add(r.request.requestId);
      const key: AssignmentKey = {
        accountId: STAGING,
        permissionSetArn: READ_ONLY,
        principalId: `user-${n}`,
      };
      directory.assign(key);
      await store.putHolders(
        {
          ...key,
          preExisting: false,
          holders: [r.request.requestId],
          state: 'PRESENT',
          revision: 1,
          updatedAt: r.updatedAt,
        },
        undefined,
      );
    }
    for (let n = EXPIRED; n < EXPIRED + LIVE; n++) {
      // Distinct times, as real requests have (dynalite drops an item at a page boundary among
      // index entries with equal sort keys).
      const r = record(n, 10 + n / 1000);
      await store.createRequest(r);
      workflow.running.add(r.request.requestId);
    }
    expect(await store.listByStatus('ACTIVE')).toHaveLength(LIVE + EXPIRED);

    const report = await new Reconciler(
      {
        policy,
        store,
        assignments: directory,
        workflow,
        audit: trail,
        notifier: new RecordingNotifier(),
        clock,
        wait: async () => undefined,
      },
      {},
    ).run();

    expect(report.requestsChecked).toBeGreaterThanOrEqual(LIVE + EXPIRED);
    expect(workflow.stopped.sort()).toEqual(expired);
    for (const id of expired) expect(log.actions(id)).toContain('reconciler.revoked');
    expect(directory.assigned.size).toBe(0);
  }, 60_000);
});
