import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { AssignmentKey, ExecutionInput, HoldersRecord } from '../../functions/core/model';
import { parsePolicy } from '../../functions/core/policy-file';
import { LifecycleSteps } from '../../functions/core/steps';
import { createManualClock } from '../../local/identity-center';
import { lifecycleSteps, requestStore } from '../../local/product-wiring';
import { type Harness, PEOPLE, PERMISSION_SETS, startHarness } from '../workflow/harness';
import { FakeDirectory, ManualClock, MemoryStore, memoryAudit, RecordingNotifier } from './fakes';

// Upgrade safety: executions started by the previous version keep running across a deploy, and
// their Revoke/CheckRevoke payloads are built by the previous definition. The revoke path must
// accept every older shape and still delete the assignment. Payload versions:
//   v0  { requestId, accountId, permissionSetArn, principalId }            (no version, no reason)
//   v1  { version: 1, …, reason: 'expired' | 'ended-early' | 'failure' }   (current)
// plus what an older or newer definition may add or leave null.

const STAGING = '222222222222';
const key: AssignmentKey = {
  accountId: STAGING,
  permissionSetArn: PERMISSION_SETS.readOnly,
  principalId: PEOPLE.alice.principalId,
};

const OLDER_REVOKE_PAYLOADS: Record<string, (requestId: string) => Record<string, unknown>> = {
  'v0: no version, no reason': (requestId) => ({ requestId, ...key }),
  'v1 with a null reason': (requestId) => ({ version: 1, requestId, ...key, reason: null }),
  'v1 with a reason this version does not know': (requestId) => ({
    version: 1,
    requestId,
    ...key,
    reason: 'window-ended',
  }),
  'a newer version with extra fields': (requestId) => ({
    version: 2,
    requestId,
    ...key,
    reason: 'expired',
    revokeReason: 'expired',
    grant: { window: { seconds: 60 } },
  }),
};
const OLDER_CHECK_PAYLOADS: Record<
  string,
  (requestId: string, operationId: string) => Record<string, unknown>
> = {
  'v0: no version, no attempt': (requestId, operationId) => ({ requestId, ...key, operationId }),
  'attempt null': (requestId, operationId) => ({ version: 1, requestId, ...key, operationId, attempt: null }),
};

const input = (requestId: string): ExecutionInput => ({
  version: 1,
  request: {
    requestId,
    requester: { email: PEOPLE.alice.email, slackUserId: PEOPLE.alice.slackUserId },
    accountId: STAGING,
    permissionSetArn: PERMISSION_SETS.readOnly,
    durationMinutes: 60,
    reason: 'upgrade',
    requestedAt: '2026-11-25T09:00:00.000Z',
  },
});

const holdersOf = (requestId: string, updatedAt: string): HoldersRecord => ({
  ...key,
  preExisting: false,
  holders: [requestId],
  state: 'PRESENT',
  revision: 1,
  updatedAt,
});

describe('upgrade safety: the revoke path accepts older payloads', () => {
  const policy = parsePolicy(
    readFileSync(path.join(__dirname, '../fixtures/email-groups-policy.yaml'), 'utf8'),
  );

  for (const [name, payload] of Object.entries(OLDER_REVOKE_PAYLOADS)) {
    it(`revokes with a ${name} payload (core)`, async () => {
      const clock = new ManualClock();
      const store = new MemoryStore(clock);
      const directory = new FakeDirectory();
      const { log, trail } = memoryAudit(clock);
      const steps = new LifecycleSteps({
        policy,
        store,
        audit: trail,
        assignments: directory,
        users: { findUserIdByEmail: async () => PEOPLE.alice.principalId },
        notifier: new RecordingNotifier(),
        clock,
      });
      const requestId = 'req-upgrade-core';
      await steps.validate(input(requestId));
      await store.putHolders(holdersOf(requestId, clock.now().toISOString()), undefined);
      directory.assign(key);

      const result = await steps.revoke(payload(requestId));

      expect(result.status).toBe('SUCCEEDED');
      expect(directory.has(key)).toBe(false);
      expect((await store.getHolders(key))?.state).toBe('ABSENT');
      expect(log.actions(requestId)).toEqual(
        expect.arrayContaining(['revoke.requested', 'revoke.succeeded']),
      );
    });
  }
});

describe('upgrade safety: the deployed revoke and check-revoke handlers', () => {
  let harness: Harness;
  afterEach(() => harness?.close());

  for (const [revokeName, revokePayload] of Object.entries(OLDER_REVOKE_PAYLOADS))
    for (const [checkName, checkPayload] of Object.entries(OLDER_CHECK_PAYLOADS)) {
      it(`deletes the assignment of an older execution (${revokeName}; check: ${checkName})`, async () => {
        // Identity Center's clock holds the deletion IN_PROGRESS until the test moves it.
        const identityCenterClock = createManualClock(Date.now());
        harness = await startHarness({
          assignments: [key],
          identityCenter: { provisioningDelayMs: 2000, now: identityCenterClock.now },
        });
        const requestId = `req-upgrade-${Object.keys(OLDER_REVOKE_PAYLOADS).indexOf(revokeName)}-${checkName.length}`;
        expect((await lifecycleSteps().validate(input(requestId))).valid).toBe(true);
        await requestStore().putHolders(holdersOf(requestId, new Date().toISOString()), undefined);
        // New instances on this harness's tables, as a deployment's new containers.
        const revoke = (await import('../../functions/revoke')).createHandler();
        const checkRevoke = (await import('../../functions/check-revoke')).createHandler();

        let result = await revoke(revokePayload(requestId));
        expect(result.status).toBe('IN_PROGRESS');
        const operationId = result.operationId ?? '';
        result = await checkRevoke(checkPayload(requestId, operationId));
        expect(result.status).toBe('IN_PROGRESS');
        expect(harness.hasAssignment(key)).toBe(true);
        identityCenterClock.advance(2000);
        result = await checkRevoke({ ...checkPayload(requestId, operationId), attempt: result.attempt });

        expect(result.status).toBe('SUCCEEDED');
        expect(harness.hasAssignment(key)).toBe(false);
        expect((await requestStore().getHolders(key))?.state).toBe('ABSENT');
      });
    }
});
