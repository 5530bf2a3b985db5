import {
  ConflictException,
  CreateAccountAssignmentCommand,
  DeleteAccountAssignmentCommand,
  DeleteInlinePolicyFromPermissionSetCommand,
  DescribePermissionSetProvisioningStatusCommand,
  GetInlinePolicyForPermissionSetCommand,
  ProvisionPermissionSetCommand,
  PutInlinePolicyToPermissionSetCommand,
  SSOAdminClient,
  ThrottlingException,
  ValidationException,
} from '@aws-sdk/client-sso-admin';
import { sessionDenyStatement } from '../../../functions/core/session-ending';
import { AWS_CALLS, awsClientConfig } from '../../../functions/shared/clients';
import {
  createManualClock,
  DEFAULT_PERMISSION_SET_ARNS,
  defaultSandboxSeed,
  deriveUserId,
  type ManualClock,
  type RunningIdentityCenter,
  startIdentityCenterStandIn,
} from '../../../local/identity-center';

// The stand-in's permission set policies and role sessions: GetInlinePolicyForPermissionSet,
// PutInlinePolicyToPermissionSet, DeleteInlinePolicyFromPermissionSet, ProvisionPermissionSet,
// DescribePermissionSetProvisioningStatus, and sessions that outlive their assignment unless the
// inline policy provisioned to the account denies them.

const { instanceArn, identityStoreId } = defaultSandboxSeed;
const DEV = '111111111111';
const PROD = '222222222222';
const ADMIN = DEFAULT_PERMISSION_SET_ARNS.admin; // PT2H sessions
const BOB = deriveUserId(identityStoreId, 'bob');
const CAROL = deriveUserId(identityStoreId, 'carol');
const MINUTE = 60_000;

let running: RunningIdentityCenter;
let clock: ManualClock;
let ssoAdmin: SSOAdminClient;

beforeEach(async () => {
  clock = createManualClock();
  running = await startIdentityCenterStandIn({
    now: clock.now,
    requestsPerSecond: Number.POSITIVE_INFINITY,
    provisioningDelayMs: 1000,
  });
  ssoAdmin = new SSOAdminClient({
    endpoint: running.url,
    region: 'us-east-1',
    credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
    ...awsClientConfig(AWS_CALLS.ssoAdmin),
  });
});

afterEach(async () => {
  ssoAdmin.destroy();
  await running.close();
});

const assignment = (principalId: string, accountId = DEV) => ({
  InstanceArn: instanceArn,
  TargetId: accountId,
  TargetType: 'AWS_ACCOUNT' as const,
  PermissionSetArn: ADMIN,
  PrincipalType: 'USER' as const,
  PrincipalId: principalId,
});

async function assign(principalId: string, accountId = DEV): Promise<void> {
  await ssoAdmin.send(new CreateAccountAssignmentCommand(assignment(principalId, accountId)));
  clock.advance(1000);
}

async function unassign(principalId: string, accountId = DEV): Promise<void> {
  await ssoAdmin.send(new DeleteAccountAssignmentCommand(assignment(principalId, accountId)));
  clock.advance(1000);
}

const put = (policy: string) =>
  ssoAdmin.send(
    new PutInlinePolicyToPermissionSetCommand({
      InstanceArn: instanceArn,
      PermissionSetArn: ADMIN,
      InlinePolicy: policy,
    }),
  );

async function provision(accountId = DEV): Promise<string> {
  const started = await ssoAdmin.send(
    new ProvisionPermissionSetCommand({
      InstanceArn: instanceArn,
      PermissionSetArn: ADMIN,
      TargetType: 'AWS_ACCOUNT',
      TargetId: accountId,
    }),
  );
  return started.PermissionSetProvisioningStatus?.RequestId ?? '';
}

const provisioningStatus = async (requestId: string) =>
  (
    await ssoAdmin.send(
      new DescribePermissionSetProvisioningStatusCommand({
        InstanceArn: instanceArn,
        ProvisionPermissionSetRequestId: requestId,
      }),
    )
  ).PermissionSetProvisioningStatus;

/** The deny the product writes at a revoke (core/session-ending.ts). */
const denyPolicy = (userId: string, accountId: string, revokedAt: string) =>
  JSON.stringify({
    Version: '2012-10-17',
    Statement: [sessionDenyStatement({ userId, accountId, revokedAt })],
  });

describe('Identity Center stand-in: inline policies and their provisioning', () => {
  it('stores, answers and deletes a permission set’s inline policy', async () => {
    const get = async () =>
      (
        await ssoAdmin.send(
          new GetInlinePolicyForPermissionSetCommand({ InstanceArn: instanceArn, PermissionSetArn: ADMIN }),
        )
      ).InlinePolicy;
    expect(await get()).toBeUndefined();
    const policy = denyPolicy(BOB, DEV, '2026-01-01T00:00:00Z');
    await put(policy);
    expect(await get()).toBe(policy);
    await ssoAdmin.send(
      new DeleteInlinePolicyFromPermissionSetCommand({ InstanceArn: instanceArn, PermissionSetArn: ADMIN }),
    );
    expect(await get()).toBeUndefined();
  });

  it('refuses a policy IAM would refuse: no statement, not JSON, over 10,240 non-whitespace characters', async () => {
    await expect(put(JSON.stringify({ Version: '2012-10-17', Statement: [] }))).rejects.toBeInstanceOf(
      ValidationException,
    );
    await expect(put('{"Version":')).rejects.toBeInstanceOf(ValidationException);
    const big = {
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Action: 's3:GetObject',
          Resource: Array.from({ length: 500 }, (_, i) => `arn:aws:s3:::b-${i}/*`),
        },
      ],
    };
    await expect(put(JSON.stringify(big))).rejects.toThrow(/10240 non-whitespace/);
  });

  it('provisions asynchronously: the account’s role gets the policy as it was asked for, once SUCCEEDED', async () => {
    const policy = denyPolicy(BOB, DEV, '2026-01-01T00:00:00Z');
    await put(policy);
    const requestId = await provision();
    expect((await provisioningStatus(requestId))?.Status).toBe('IN_PROGRESS');
    expect(running.standIn.permissionSetPolicy(ADMIN).provisioned[DEV]).toBeUndefined();
    // A second provisioning of the account's role meanwhile: one role update at a time.
    await expect(provision()).rejects.toBeInstanceOf(ConflictException);
    await put(
      JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] }),
    );
    clock.advance(1000);
    expect(await provisioningStatus(requestId)).toMatchObject({
      Status: 'SUCCEEDED',
      AccountId: DEV,
      PermissionSetArn: ADMIN,
    });
    expect(running.standIn.permissionSetPolicy(ADMIN).provisioned[DEV]).toBe(policy);
    expect(running.standIn.counters()).toMatchObject({
      provisioningsRequested: 1,
      provisioningsSucceeded: 1,
    });
  });

  it('injects faults like the assignment writes: a FAILED provisioning, a failure rate, one-shot errors', async () => {
    running.standIn.setFaults({
      failNext: [{ operation: 'ProvisionPermissionSet', error: 'FAILED', message: 'role quota' }],
    });
    const failed = await provision();
    clock.advance(1000);
    expect(await provisioningStatus(failed)).toMatchObject({ Status: 'FAILED', FailureReason: 'role quota' });
    running.standIn.setFaults({ failProvisioningRate: 1 });
    const rated = await provision();
    clock.advance(1000);
    expect((await provisioningStatus(rated))?.FailureReason).toMatch(/injected provisioning failure/);
    running.standIn.setFaults({
      failProvisioningRate: 0,
      failNext: [{ operation: 'PutInlinePolicyToPermissionSet', error: 'ThrottlingException' }],
    });
    await expect(put(denyPolicy(BOB, DEV, '2026-01-01T00:00:00Z'))).rejects.toBeInstanceOf(
      ThrottlingException,
    );
    running.standIn.setFaults({ conflictRate: 1 });
    await expect(provision()).rejects.toBeInstanceOf(ConflictException);
    expect(running.standIn.counters()).toMatchObject({ provisioningsFailed: 2 });
  });
});

describe('Identity Center stand-in: role sessions', () => {
  it('issues a session only to someone who holds the assignment, for the permission set’s session duration', async () => {
    expect(() =>
      running.standIn.issueSession({ user: 'bob', accountId: DEV, permissionSetArn: ADMIN }),
    ).toThrow(/sign-in refused/);
    await assign(BOB);
    const session = running.standIn.issueSession({ user: 'bob', accountId: DEV, permissionSetArn: ADMIN });
    expect(session).toMatchObject({
      userId: BOB,
      accountId: DEV,
      expiresAt: session.issuedAt + 120 * MINUTE,
    });
    expect(running.standIn.useSession(session.sessionId)).toEqual({ allowed: true });
    clock.advance(120 * MINUTE);
    expect(running.standIn.useSession(session.sessionId)).toEqual({ allowed: false, reason: 'expired' });
  });

  it('keeps a session alive after its assignment is deleted: without a deny it lasts its whole duration', async () => {
    await assign(BOB);
    const session = running.standIn.issueSession({ user: 'bob', accountId: DEV, permissionSetArn: ADMIN });
    await unassign(BOB);
    expect(running.standIn.listAssignments().some((a) => a.principalId === BOB)).toBe(false);
    clock.advance(60 * MINUTE);
    expect(running.standIn.useSession(session.sessionId)).toEqual({ allowed: true });
  });

  it('refuses a session issued before the revoke once the deny is provisioned, and spares a later one, another user and another account', async () => {
    await assign(BOB);
    await assign(BOB, PROD);
    await assign(CAROL);
    const before = running.standIn.issueSession({ user: 'bob', accountId: DEV, permissionSetArn: ADMIN });
    const prod = running.standIn.issueSession({ user: 'bob', accountId: PROD, permissionSetArn: ADMIN });
    const carol = running.standIn.issueSession({ user: 'carol', accountId: DEV, permissionSetArn: ADMIN });
    await unassign(BOB);
    const revokedAt = new Date(Math.ceil(clock.now() / 1000) * 1000).toISOString().replace('.000Z', 'Z');
    await put(denyPolicy(BOB, DEV, revokedAt));
    // Put, not yet provisioned: the account's role still has the old policy.
    expect(running.standIn.useSession(before.sessionId)).toEqual({ allowed: true });
    await provision();
    clock.advance(1000);
    expect(running.standIn.useSession(before.sessionId)).toMatchObject({ allowed: false, reason: 'denied' });
    expect(running.standIn.useSession(prod.sessionId)).toEqual({ allowed: true });
    expect(running.standIn.useSession(carol.sessionId)).toEqual({ allowed: true });
    // A new grant after the revoke: its session is issued after the deny's time.
    await assign(BOB);
    const after = running.standIn.issueSession({ user: 'bob', accountId: DEV, permissionSetArn: ADMIN });
    expect(running.standIn.useSession(after.sessionId)).toEqual({ allowed: true });
  });

  it('answers the same over its admin HTTP routes (tests, the sandbox console)', async () => {
    await assign(BOB);
    const admin = (route: string, body?: unknown) =>
      fetch(`${running.url}/_standin/${route}`, {
        method: body === undefined ? 'GET' : 'POST',
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      }).then(async (r) => ({ status: r.status, body: (await r.json()) as Record<string, unknown> }));
    const issued = await admin('sessions', { user: 'bob', accountId: DEV, permissionSetArn: ADMIN });
    expect(issued.status).toBe(200);
    const { sessionId } = issued.body.session as { sessionId: string };
    expect((await admin(`sessions/${sessionId}/use`, {})).body).toEqual({ verdict: { allowed: true } });
    expect((await admin('sessions', { user: 'carol', accountId: DEV, permissionSetArn: ADMIN })).status).toBe(
      409,
    );
    expect((await admin('sessions')).body.sessions).toEqual([
      expect.objectContaining({ sessionId, verdict: { allowed: true } }),
    ]);
    expect((await admin(`permission-sets/${encodeURIComponent(ADMIN)}/policy`)).body).toEqual({
      inlinePolicy: '',
      provisioned: { [DEV]: '' },
    });
  });
});
