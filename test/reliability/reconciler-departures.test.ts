import { readFileSync } from 'node:fs';
import path from 'node:path';
import { RetryableError } from '../../functions/core/errors';
import type { RequestRecord, RequestStatus } from '../../functions/core/model';
import { parsePolicy } from '../../functions/core/policy-file';
import { Reconciler } from '../../functions/core/reconciler';
import {
  FakeDirectory,
  FakeWorkflow,
  ManualClock,
  MemoryStore,
  memoryAudit,
  RecordingNotifier,
} from './fakes';

// The reconciler and people Identity Center no longer has: the users of live grants are asked
// about (a bounded slice a pass), and a departed one's offboarding is handed off; nobody else's.

const policy = parsePolicy(
  readFileSync(path.join(__dirname, '../fixtures/email-groups-policy.yaml'), 'utf8'),
);

function world(gone: Set<string>, failing = new Set<string>()) {
  const clock = new ManualClock();
  const store = new MemoryStore(clock);
  const asked: string[] = [];
  const offboarded: Array<[string, string]> = [];
  const { trail } = memoryAudit(clock);
  const reconciler = new Reconciler({
    policy,
    store,
    assignments: new FakeDirectory(),
    workflow: new FakeWorkflow(),
    audit: trail,
    notifier: new RecordingNotifier(),
    clock,
    wait: async () => undefined,
    departures: {
      users: {
        isGone: async (principalId) => {
          asked.push(principalId);
          if (failing.has(principalId)) throw new RetryableError('DescribeUser: ThrottlingException');
          return gone.has(principalId);
        },
      },
      offboard: async (slackUserId, reason) => {
        offboarded.push([slackUserId, reason]);
      },
    },
  });
  let sequence = 0;
  /** A request of `person` (principal `user-<person>`, Slack `U0<PERSON>`) in `status`. */
  const add = (person: string, status: RequestStatus = 'ACTIVE') => {
    const requestId = `req-dep-${++sequence}`;
    const now = clock.now().getTime();
    const record: RequestRecord = {
      version: 1,
      request: {
        requestId,
        requester: { email: `${person}@example.com`, slackUserId: `U0${person.toUpperCase()}` },
        accountId: '222222222222',
        permissionSetArn: 'arn:aws:sso:::permissionSet/ssoins-7223a1b2c3d4e5f6/ps-1a2b3c4d5e6f7a8b',
        durationMinutes: 60,
        reason: 'incident',
        requestedAt: new Date(now - 10 * 60_000).toISOString(),
      },
      status,
      ruleName: 'staging-self-service',
      principalId: `user-${person}`,
      approvals: [],
      windowStartedAt: new Date(now - 5 * 60_000).toISOString(),
      expiresAt: new Date(now + 55 * 60_000).toISOString(),
      updatedAt: new Date(now - 5 * 60_000).toISOString(),
    };
    store.requests.set(requestId, record);
  };
  return { clock, reconciler, asked, offboarded, add };
}

describe('reconciler: people Identity Center no longer has', () => {
  it('hands off the offboarding of a live grant’s user who is gone, once per person, and nobody else’s', async () => {
    const w = world(new Set(['user-bob']));
    w.add('alice');
    w.add('bob');
    w.add('bob');
    w.add('carol', 'PENDING_APPROVAL');

    const report = await w.reconciler.run();

    expect(w.asked.sort()).toEqual(['user-alice', 'user-bob']);
    expect(w.offboarded).toEqual([['U0BOB', 'identity-center-user-gone']]);
    expect(report.departuresFound).toBe(1);
  });

  it('offboards nobody on an answer it could not get, and says so in the report', async () => {
    const w = world(new Set(['user-bob']), new Set(['user-bob']));
    w.add('bob');

    const report = await w.reconciler.run();

    expect(w.offboarded).toEqual([]);
    expect(report.errors.join('\n')).toContain('user user-bob: DescribeUser: ThrottlingException');
  });

  it('asks about at most 100 users a pass, and about the others on the next passes', async () => {
    const people = Array.from({ length: 150 }, (_, i) => `p${String(i).padStart(3, '0')}`);
    const w = world(new Set());
    for (const person of people) w.add(person);

    await w.reconciler.run();
    const first = [...w.asked];
    w.asked.length = 0;
    w.clock.advance(5 * 60_000);
    await w.reconciler.run();

    // Two slices of at most 100: one pass asks about one, the next about the other.
    expect([first.length, w.asked.length].sort((a, b) => a - b)).toEqual([50, 100]);
    expect(new Set([...first, ...w.asked]).size).toBe(150);
  });
});
