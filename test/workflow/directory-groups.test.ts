import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DEFAULT_DIRECTORY_CACHE } from '../../functions/core/directory';
import { createHandler as createDecisions } from '../../functions/decisions';
import { AWS_CALLS } from '../../functions/shared/clients';
import { createHandler as createValidate } from '../../functions/validate';
import { ManualClock } from '../reliability/fakes';
import {
  ACCOUNTS,
  type Harness,
  PEOPLE,
  PERMISSION_SETS,
  requestDecisions,
  requestStore,
  startHarness,
  tokenStored,
} from './harness';

// Directory groups as the deployed functions resolve them: the Validate and decisions handlers
// (createHandler on a manual clock) against the Identity Center stand-in's identitystore groups,
// through the production adapters and client settings.

const dir = mkdtempSync(path.join(os.tmpdir(), 'directory-groups-'));
const policyFile = path.join(dir, 'policy.yaml');
writeFileSync(
  policyFile,
  `version: 1
identityCenter:
  instanceArn: arn:aws:sso:::instance/ssoins-7223a1b2c3d4e5f6
  identityStoreId: d-9067a1b2c3
  region: us-east-1
slack:
  approvalChannel: C0APPROVALS
accounts:
  - { id: "${ACCOUNTS.staging}", name: staging }
permissionSets:
  - { name: ReadOnly, arn: "${PERMISSION_SETS.readOnly}" }
rules:
  - name: engineers-staging
    requesters: [identityCenterGroup:Engineers]
    accounts: [staging]
    permissionSets: [ReadOnly]
    maxDuration: 1h
    approval:
      approvers: [identityCenterGroup:SRE]
      timeout: 30m
`,
);

let harness: Harness;
beforeAll(async () => {
  harness = await startHarness({
    policyFile,
    groups: [
      { displayName: 'Engineers', members: ['alice'] },
      { displayName: 'SRE', members: ['carol'] },
    ],
  });
}, 60_000);
afterAll(async () => {
  await harness?.close();
  rmSync(dir, { recursive: true, force: true });
});

let sequence = 0;
const executionInput = () => ({
  version: 1,
  request: {
    requestId: `dirgroups-${++sequence}`,
    requester: { email: PEOPLE.alice.email, slackUserId: PEOPLE.alice.slackUserId },
    accountId: ACCOUNTS.staging,
    permissionSetArn: PERMISSION_SETS.readOnly,
    durationMinutes: 30,
    reason: 'Checking the deploy',
    requestedAt: new Date().toISOString(),
  },
});
const { ttlMs, maxStaleMs } = DEFAULT_DIRECTORY_CACHE;
/** identitystore fails one read of a person's groups: every attempt the production client makes of it. */
const failNextGroupRead = () =>
  harness.identityCenter.setFaults({
    failNext: Array.from({ length: AWS_CALLS.identityStoreGroups.attempts }, () => ({
      operation: 'ListGroupMembershipsForMember',
      error: 'InternalServerException' as const,
    })),
  });

describe('requesters from an Identity Center group (Validate)', () => {
  it('follows the group within the TTL, keeps the last answer while identitystore fails, then refuses to guess', async () => {
    const clock = new ManualClock();
    const validate = createValidate(clock);
    const run = async () => (await validate(executionInput())) as { valid: boolean; reason?: string };

    expect(await run()).toMatchObject({ valid: true });

    // identitystore fails after the TTL: the answer of five minutes ago is used.
    clock.advance(ttlMs);
    failNextGroupRead();
    expect(await run()).toMatchObject({ valid: true });

    // It answers again, without alice: the next request is refused at once (the cache is past its TTL).
    harness.identityCenter.removeGroupMember('Engineers', 'alice');
    expect(await run()).toMatchObject({
      valid: false,
      reason: expect.stringMatching(/No rule lets alice@example.com request ReadOnly on staging/),
    });

    // Added back: within the TTL the cached answer stands; after it, she may request again.
    harness.identityCenter.addGroupMember('Engineers', 'alice');
    clock.advance(ttlMs - 1);
    expect(await run()).toMatchObject({ valid: false });
    clock.advance(1);
    expect(await run()).toMatchObject({ valid: true });

    // Failing for longer than maxStale: no guess; the step fails retryable (the workflow retries it).
    clock.advance(maxStaleMs);
    failNextGroupRead();
    await expect(run()).rejects.toMatchObject({ name: 'RetryableError' });
    expect(await run()).toMatchObject({ valid: true });
  });
});

describe('approvers from an Identity Center group (decisions)', () => {
  it('decides with the group as it is now, and a directory error during a decision leaves the request pending', async () => {
    const clock = new ManualClock();
    const decide = createDecisions(clock);
    const requestId = `dirgroups-approve-${Date.now()}`;
    await harness.start({ requestId, accountId: ACCOUNTS.staging, durationMinutes: 30 });
    await tokenStored(harness, requestId, 'approval');
    const click = (who: keyof typeof PEOPLE) => ({
      kind: 'approve' as const,
      requestId,
      slackUserId: PEOPLE[who].slackUserId,
      origin: { kind: 'home' as const },
    });

    // dave is not in SRE: refused, nothing recorded.
    await decide(click('dave'));
    expect((await requestStore().getRequest(requestId))?.approvals).toEqual([]);

    // SRE gains dave, but the decisions function read SRE less than a TTL ago: still refused.
    harness.identityCenter.addGroupMember('SRE', 'dave');
    await decide(click('dave'));
    expect((await requestStore().getRequest(requestId))?.approvals).toEqual([]);

    // Past the TTL with identitystore failing and no answer young enough: the click fails
    // retryable (Lambda's async retry, or the person, clicks again), the request stays pending.
    clock.advance(maxStaleMs);
    failNextGroupRead();
    await expect(decide(click('dave'))).rejects.toMatchObject({ name: 'RetryableError' });
    expect((await requestStore().getRequest(requestId))?.status).toBe('PENDING_APPROVAL');

    // identitystore answers: dave, now an SRE, approves.
    await decide(click('dave'));
    const approved = await harness.waitFor(async () => {
      const record = await requestStore().getRequest(requestId);
      return record?.approvals.length ? record : undefined;
    }, 'the approval');
    expect(approved.approvals.map((a) => a.by)).toEqual([PEOPLE.dave.email]);
  });
});

describe('a live window while identitystore fails (AccessWindow)', () => {
  it('opens the window approved, neither revoking the grant nor widening it', async () => {
    const decide = createDecisions(new ManualClock());
    const requestId = `dirgroups-window-${Date.now()}`;
    const execution = await harness.start({ requestId, accountId: ACCOUNTS.staging, durationMinutes: 30 });
    await tokenStored(harness, requestId, 'approval');
    const byCarol = { requestId, slackUserId: PEOPLE.carol.slackUserId, origin: { kind: 'home' as const } };
    // carol's groups read once (an End click on a pending request changes nothing), so her
    // approval below asks identitystore nothing and the one fault reaches AccessWindow's first
    // question about alice (a fresh worker: nothing cached).
    await decide({ kind: 'end', ...byCarol });
    // identitystore keeps failing: AccessWindow must open the window on its first attempt.
    harness.identityCenter.setFaults({
      failNext: Array.from({ length: 40 }, () => ({
        operation: 'GetUserId',
        error: 'ThrottlingException' as const,
      })),
    });
    await decide({ kind: 'approve', ...byCarol });
    const record = await harness.waitFor(async () => {
      const current = await requestStore().getRequest(requestId);
      return current?.status === 'ACTIVE' && current.windowStartedAt ? current : undefined;
    }, 'the window to open');
    harness.identityCenter.setFaults({ failNext: [] });
    // Refused each time it was asked, yet the window opened on what was approved: a step that
    // needed the answer would have used up AccessWindow's 9 attempts and revoked the grant.
    const refused = harness.identityCenter
      .operationLog()
      .filter((e) => e.operation === 'GetUserId' && e.outcome !== 'ok');
    expect(refused.length).toBeGreaterThan(0);
    expect(refused.length).toBeLessThan(9);
    expect(
      harness.hasAssignment({
        accountId: ACCOUNTS.staging,
        permissionSetArn: PERMISSION_SETS.readOnly,
        principalId: PEOPLE.alice.principalId,
      }),
    ).toBe(true);
    const opened = Date.parse(record?.expiresAt ?? '') - Date.parse(record?.windowStartedAt ?? '');
    expect(opened).toBe(30 * 60_000);
    expect(await harness.auditActions(requestId)).not.toContain('revoke.requested');
    await (await requestDecisions()).endAccess(requestId, PEOPLE.alice);
    expect((await harness.finished(execution)).status).toBe('SUCCEEDED');
  });
});
