import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { UserMapping } from '../../functions/core/identity-mapping';
import { parsePolicy } from '../../functions/core/policy-file';
import { LifecycleSteps } from '../../functions/core/steps';
import {
  FakeDirectory,
  ManualClock,
  MemoryStore,
  memoryAudit,
  RecordingNotifier,
} from '../reliability/fakes';

// Validate rejects a requester Identity Center has no user for, naming the person and the
// attribute the policy's identityCenter.userMapping matches on.

const base = parsePolicy(readFileSync(path.join(__dirname, '../fixtures/email-groups-policy.yaml'), 'utf8'));

async function validateUnknownRequester(mapping: UserMapping) {
  const policy = { ...base, identityCenter: { ...base.identityCenter, userMapping: mapping } };
  const clock = new ManualClock();
  const store = new MemoryStore(clock);
  const { trail } = memoryAudit(clock);
  const steps = new LifecycleSteps({
    policy,
    store,
    audit: trail,
    assignments: new FakeDirectory(),
    users: { findUserIdByEmail: async () => undefined },
    notifier: new RecordingNotifier(),
    clock,
  });
  const result = await steps.validate({
    version: 1,
    request: {
      requestId: 'req-mapping-0001',
      requester: { email: 'alice@example.com', slackUserId: 'U0ALICE' },
      accountId: '222222222222',
      permissionSetArn: 'arn:aws:sso:::permissionSet/ssoins-7223a1b2c3d4e5f6/ps-1a2b3c4d5e6f7a8b',
      durationMinutes: 60,
      reason: 'incident',
      requestedAt: '2026-11-25T09:00:00.000Z',
    },
  });
  return { result, record: await store.getRequest('req-mapping-0001') };
}

it.each<[UserMapping, string]>([
  [
    { by: 'email' },
    'No Identity Center user has emails.value matching alice@example.com (identityCenter.userMapping: email)',
  ],
  [
    { by: 'userName' },
    'No Identity Center user has userName matching alice@example.com (identityCenter.userMapping: userName)',
  ],
])('names the person and the attribute (%j)', async (mapping, reason) => {
  const { result, record } = await validateUnknownRequester(mapping);
  expect(result).toMatchObject({ valid: false });
  expect(record?.status).toBe('REJECTED');
  expect(record?.failureReason).toBe(reason);
});
