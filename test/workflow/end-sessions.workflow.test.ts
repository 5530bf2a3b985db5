import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sessionDenies, sessionDenyAuditId } from '../../functions/core/session-ending';
import { auditTrail, reconciler } from '../../local/product-wiring';
import {
  ACCOUNTS,
  audited,
  type Harness,
  PEOPLE,
  PERMISSION_SETS,
  requestDecisions,
  requestStore,
  startHarness,
  tokenStored,
} from './harness';

// Ending the live sessions at revoke, through statemachines/access-request.asl.json with the real
// handlers on the Identity Center stand-in: a role session issued during the window is refused
// once the deny statement is provisioned (and lives on without the option); whatever goes wrong
// with it is retried, then reported, and the revoke stands; the reconciler removes the statement
// once the session duration has passed.

const dir = mkdtempSync(path.join(os.tmpdir(), 'end-sessions-'));
const policyFile = path.join(dir, 'policy.yaml');
// The email-groups fixture with PowerUser ending sessions at revoke; ReadOnly keeps the default.
writeFileSync(
  policyFile,
  readFileSync(path.join(__dirname, '../fixtures/email-groups-policy.yaml'), 'utf8').replace(
    /(- name: PowerUser\n\s+arn: [^\n]+\n)/,
    (entry) => `${entry}    endSessionsOnRevoke: true\n`,
  ),
);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const alice = PEOPLE.alice;
const aliceActor = { email: alice.email, slackUserId: alice.slackUserId };
const INLINE_POLICY_CALLS = [
  'GetInlinePolicyForPermissionSet',
  'PutInlinePolicyToPermissionSet',
  'DeleteInlinePolicyFromPermissionSet',
  'ProvisionPermissionSet',
  'DescribePermissionSetProvisioningStatus',
];

let harness: Harness;
/** The stand-ins' clock runs this far ahead of real time (a sign-in "later"). */
let skewMs = 0;
let counter = 0;
const newId = () => `req-sessions-${++counter}-${Date.now().toString(36)}`;

beforeEach(async () => {
  skewMs = 0;
  // Identity Center and Step Functions (`$$.State.EnteredTime`, the revoke time) on one clock.
  harness = await startHarness({
    policyFile,
    identityCenter: { now: () => Date.now() + skewMs },
    now: () => new Date(Date.now() + skewMs),
  });
});
afterEach(() => harness.close());

/** A grant of `permissionSetArn` on staging with a session signed in during its window, ended early. */
async function sessionThroughRevoke(permissionSetArn: string = PERMISSION_SETS.powerUser) {
  const requestId = newId();
  const execution = await harness.start({ requestId, permissionSetArn, durationMinutes: 240 });
  await tokenStored(harness, requestId, 'window');
  await audited(harness, requestId, 'window.opened');
  const session = harness.identityCenter.issueSession({
    user: 'alice',
    accountId: ACCOUNTS.staging,
    permissionSetArn,
  });
  expect(harness.identityCenter.useSession(session.sessionId)).toEqual({ allowed: true });
  expect((await (await requestDecisions()).endAccess(requestId, aliceActor)).kind).toBe('ended');
  const result = await harness.finished(execution);
  return { requestId, session, result };
}

const sessionActions = async (requestId: string) =>
  (await harness.auditActions(requestId)).filter(
    (a) => a.startsWith('sessions.') || a.startsWith('revoke.') || a === 'request.closed',
  );
const alerts = () =>
  harness
    .slackCalls('chat.postMessage')
    .map((c) => String(c.args.text))
    .filter((text) => text.includes('Could not end the live sessions'));
const calls = (operation: string) =>
  harness.identityCenter.operationLog().filter((e) => e.operation === operation);

describe('a permission set that ends sessions at revoke', () => {
  it('refuses the session issued during the window once the assignment is deleted, and spares a later sign-in', async () => {
    // A throttled write on the way: retried by the state machine like any Identity Center call.
    harness.identityCenter.setFaults({
      failNext: [{ operation: 'PutInlinePolicyToPermissionSet', error: 'ThrottlingException' }],
    });
    const { requestId, session, result } = await sessionThroughRevoke();

    expect(result.status).toBe('SUCCEEDED');
    expect((await requestStore().getRequest(requestId))?.status).toBe('REVOKED');
    expect(
      harness.hasAssignment({
        accountId: ACCOUNTS.staging,
        permissionSetArn: PERMISSION_SETS.powerUser,
        principalId: alice.principalId,
      }),
    ).toBe(false);
    expect(harness.identityCenter.useSession(session.sessionId)).toMatchObject({
      allowed: false,
      reason: 'denied',
    });
    expect(await sessionActions(requestId)).toEqual([
      'revoke.requested',
      'revoke.succeeded',
      'sessions.end-requested',
      'sessions.ended',
      'request.closed',
    ]);
    // The deletion came first: the inline policy was edited only after it.
    const log = harness.identityCenter.operationLog();
    const deleted = log.findIndex((e) => e.operation === 'DeleteAccountAssignment');
    const edited = log.findIndex((e) => e.operation === 'PutInlinePolicyToPermissionSet');
    expect(deleted).toBeGreaterThanOrEqual(0);
    expect(edited).toBeGreaterThan(deleted);
    expect(calls('PutInlinePolicyToPermissionSet').map((e) => e.outcome)).toEqual([
      'ThrottlingException',
      'ok',
    ]);
    const { inlinePolicy, provisioned } = harness.identityCenter.permissionSetPolicy(
      PERMISSION_SETS.powerUser,
    );
    const [deny] = sessionDenies(inlinePolicy, 'PowerUser');
    expect(deny).toMatchObject({ userId: alice.principalId, accountId: ACCOUNTS.staging });
    expect(Date.parse(deny?.revokedAt ?? '')).toBeGreaterThan(session.issuedAt);
    expect(provisioned[ACCOUNTS.staging]).toBe(inlinePolicy);
    expect(calls('ProvisionPermissionSet').map((e) => e.params)).toEqual([
      expect.objectContaining({ TargetType: 'AWS_ACCOUNT', TargetId: ACCOUNTS.staging }),
    ]);
    expect(alerts()).toEqual([]);

    // A new grant, signed in after the revoke: its session works; the old one stays refused.
    skewMs = 2000;
    const again = newId();
    const second = await harness.start({
      requestId: again,
      permissionSetArn: PERMISSION_SETS.powerUser,
      durationMinutes: 240,
    });
    await tokenStored(harness, again, 'window');
    const later = harness.identityCenter.issueSession({
      user: 'alice',
      accountId: ACCOUNTS.staging,
      permissionSetArn: PERMISSION_SETS.powerUser,
    });
    expect(harness.identityCenter.useSession(later.sessionId)).toEqual({ allowed: true });
    expect(harness.identityCenter.useSession(session.sessionId)).toMatchObject({ allowed: false });

    // Its revoke moves the user's one statement to the later time: both sessions are refused.
    await audited(harness, again, 'window.opened');
    expect((await (await requestDecisions()).endAccess(again, aliceActor)).kind).toBe('ended');
    expect((await harness.finished(second)).status).toBe('SUCCEEDED');
    const [moved, ...others] = sessionDenies(
      harness.identityCenter.permissionSetPolicy(PERMISSION_SETS.powerUser).inlinePolicy,
      'PowerUser',
    );
    expect(others).toEqual([]);
    expect(Date.parse(moved?.revokedAt ?? '')).toBeGreaterThan(Date.parse(deny?.revokedAt ?? ''));
    expect(harness.identityCenter.useSession(later.sessionId)).toMatchObject({
      allowed: false,
      reason: 'denied',
    });
  });

  it('lets the reconciler remove the statement once the session duration has passed', async () => {
    const { requestId } = await sessionThroughRevoke();
    expect(
      sessionDenies(
        harness.identityCenter.permissionSetPolicy(PERMISSION_SETS.powerUser).inlinePolicy,
        'PowerUser',
      ),
    ).toHaveLength(1);
    const soon = await reconciler({ pollIntervalMs: 0 }, { now: () => new Date(Date.now() + 30 * 60_000) });
    expect((await soon.run()).sessionDeniesRemoved ?? 0).toBe(0);

    // PT1H (the stand-in's default) and the sweep's 5-minute margin later.
    const later = await reconciler({ pollIntervalMs: 0 }, { now: () => new Date(Date.now() + 66 * 60_000) });
    const report = await later.run();

    expect(report.sessionDeniesRemoved).toBe(1);
    expect(report.errors).toEqual([]);
    const { inlinePolicy, provisioned } = harness.identityCenter.permissionSetPolicy(
      PERMISSION_SETS.powerUser,
    );
    expect(inlinePolicy).toBe('');
    expect(provisioned[ACCOUNTS.staging]).toBe('');
    expect(calls('DeleteInlinePolicyFromPermissionSet')).toHaveLength(1);
    const trail = await auditTrail().list(
      sessionDenyAuditId(PERMISSION_SETS.powerUser, {
        userId: alice.principalId,
        accountId: ACCOUNTS.staging,
        revokedAt: '',
      }),
    );
    expect(trail.map((e) => e.action)).toEqual(['sessions.deny-removed']);
    expect(trail[0]?.details).toMatchObject({ sessionDuration: 'PT1H', principalId: alice.principalId });
    expect((await requestStore().getRequest(requestId))?.status).toBe('REVOKED');
  });

  it('ends the sessions when the reconciler revokes a grant whose execution is gone', async () => {
    const requestId = newId();
    const execution = await harness.start({
      requestId,
      permissionSetArn: PERMISSION_SETS.powerUser,
      durationMinutes: 1,
    });
    await tokenStored(harness, requestId, 'window');
    await audited(harness, requestId, 'window.opened');
    const session = harness.identityCenter.issueSession({
      user: 'alice',
      accountId: ACCOUNTS.staging,
      permissionSetArn: PERMISSION_SETS.powerUser,
    });
    // The execution dies with the access live (stopped by hand): no Revoke, no EndSessions.
    await harness.host.stopExecution(execution, 'Operator', 'stopped by an operator');
    expect(harness.identityCenter.useSession(session.sessionId)).toEqual({ allowed: true });

    // Past the window and the reconciler's grace, the session (PT1H) still valid: the pass
    // deletes the assignment and ends the session.
    skewMs = 5 * 60_000;
    const pass = await reconciler(
      { settleSeconds: 0, pollIntervalMs: 0 },
      { now: () => new Date(Date.now() + skewMs) },
    );
    const report = await pass.run();

    expect(report.errors).toEqual([]);
    expect(report.sessionsEnded).toBe(1);
    expect(
      harness.hasAssignment({
        accountId: ACCOUNTS.staging,
        permissionSetArn: PERMISSION_SETS.powerUser,
        principalId: alice.principalId,
      }),
    ).toBe(false);
    expect(harness.identityCenter.useSession(session.sessionId)).toMatchObject({
      allowed: false,
      reason: 'denied',
    });
    const actions = await harness.auditActions(requestId);
    expect(actions).toEqual(
      expect.arrayContaining(['reconciler.revoked', 'sessions.end-requested', 'sessions.ended']),
    );
    expect(actions.indexOf('sessions.ended')).toBeGreaterThan(actions.indexOf('reconciler.revoked'));
    const ended = (await auditTrail().list(requestId)).find((e) => e.action === 'sessions.ended');
    expect(ended?.actor).toBe('system:reconciler');
    expect(alerts()).toEqual([]);
  });

  it('reports a failed provisioning (audited, alerted) and still closes the request as revoked', async () => {
    harness.identityCenter.setFaults({
      failNext: [
        { operation: 'ProvisionPermissionSet', error: 'FAILED', message: 'Too many roles being updated' },
      ],
    });
    const { requestId, session, result } = await sessionThroughRevoke();

    expect(result.status).toBe('SUCCEEDED');
    expect((await requestStore().getRequest(requestId))?.status).toBe('REVOKED');
    expect(await sessionActions(requestId)).toEqual([
      'revoke.requested',
      'revoke.succeeded',
      'sessions.end-requested',
      'sessions.end-failed',
      'request.closed',
    ]);
    const failed = (await auditTrail().list(requestId)).find((e) => e.action === 'sessions.end-failed');
    expect(failed?.details.failureReason).toBe(
      'Provisioning permission set PowerUser to account 222222222222 failed: Too many roles being updated',
    );
    expect(alerts()).toEqual([expect.stringContaining(`request ${requestId} (PowerUser on 222222222222)`)]);
    // Not provisioned: the session lives on, as the alert says.
    expect(harness.identityCenter.useSession(session.sessionId)).toEqual({ allowed: true });
  });

  it('reports an error the state machine does not retry (SessionsNotEnded) and still closes the request as revoked', async () => {
    harness.identityCenter.setFaults({
      failNext: [
        {
          operation: 'PutInlinePolicyToPermissionSet',
          error: 'AccessDeniedException',
          message: 'not authorized',
        },
      ],
    });
    const { requestId, result } = await sessionThroughRevoke();

    expect(result.status).toBe('SUCCEEDED');
    expect((await requestStore().getRequest(requestId))?.status).toBe('REVOKED');
    expect(await sessionActions(requestId)).toEqual([
      'revoke.requested',
      'revoke.succeeded',
      'sessions.end-failed',
      'request.closed',
    ]);
    const failed = (await auditTrail().list(requestId)).find((e) => e.action === 'sessions.end-failed');
    expect(failed?.details.failureReason).toMatch(
      /^Ending the sessions failed: AccessDeniedException: not authorized/,
    );
    expect(calls('PutInlinePolicyToPermissionSet')).toHaveLength(1);
    expect(alerts()).toHaveLength(1);
  });

  it('fails clearly when the statement would overflow the inline policy, leaving the owners’ policy as it was', async () => {
    const owners = JSON.stringify({
      Version: '2012-10-17',
      Statement: [
        {
          Sid: 'Buckets',
          Effect: 'Allow',
          Action: 's3:GetObject',
          Resource: Array.from({ length: 360 }, (_, i) => `arn:aws:s3:::bucket-${i}/*`),
        },
      ],
    });
    harness.identityCenter.setInlinePolicy(PERMISSION_SETS.powerUser, owners);
    const { requestId, result } = await sessionThroughRevoke();

    expect(result.status).toBe('SUCCEEDED');
    expect((await requestStore().getRequest(requestId))?.status).toBe('REVOKED');
    const failed = (await auditTrail().list(requestId)).find((e) => e.action === 'sessions.end-failed');
    expect(failed?.details.failureReason).toMatch(
      /inline policy of permission set PowerUser would be \d+ bytes/,
    );
    expect(harness.identityCenter.permissionSetPolicy(PERMISSION_SETS.powerUser).inlinePolicy).toBe(owners);
    expect(calls('PutInlinePolicyToPermissionSet')).toEqual([]);
    expect(alerts()).toEqual([expect.stringContaining('would be')]);
  });
});

describe('a permission set without the option', () => {
  it('never touches its inline policy: the session signed in during the window outlives the revoke', async () => {
    const { requestId, session, result } = await sessionThroughRevoke(PERMISSION_SETS.readOnly);

    expect(result.status).toBe('SUCCEEDED');
    expect(await sessionActions(requestId)).toEqual([
      'revoke.requested',
      'revoke.succeeded',
      'request.closed',
    ]);
    for (const operation of INLINE_POLICY_CALLS)
      expect({ operation, calls: calls(operation) }).toEqual({ operation, calls: [] });
    expect(harness.identityCenter.useSession(session.sessionId)).toEqual({ allowed: true });
  });
});
