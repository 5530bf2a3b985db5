import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DescribeUserCommand,
  GetUserIdCommand,
  ResourceNotFoundException as IdentityStoreNotFound,
  ThrottlingException as IdentityStoreThrottling,
  IdentitystoreClient,
  ListUsersCommand,
} from '@aws-sdk/client-identitystore';
import {
  ConflictException,
  CreateAccountAssignmentCommand,
  DeleteAccountAssignmentCommand,
  DescribeAccountAssignmentCreationStatusCommand,
  DescribeAccountAssignmentDeletionStatusCommand,
  DescribePermissionSetCommand,
  InternalServerException,
  ListAccountAssignmentCreationStatusCommand,
  ListAccountAssignmentsCommand,
  ListInstancesCommand,
  ListPermissionSetsCommand,
  ResourceNotFoundException,
  SSOAdminClient,
  ThrottlingException,
  ValidationException,
} from '@aws-sdk/client-sso-admin';
import { AWS_CALLS, awsClientConfig } from '../../../functions/shared/clients';
import {
  createManualClock,
  DEFAULT_PERMISSION_SET_ARNS,
  defaultSandboxSeed,
  deriveUserId,
  type IdentityCenterStandInOptions,
  loadSandboxFile,
  type ManualClock,
  type RunningIdentityCenter,
  startIdentityCenterStandIn,
} from '../../../local/identity-center';

const { instanceArn, identityStoreId } = defaultSandboxSeed;
const DEV = '111111111111';
const PROD = '222222222222';
const READ_ONLY = DEFAULT_PERMISSION_SET_ARNS.readOnly;
const ADMIN = DEFAULT_PERMISSION_SET_ARNS.admin;
const userId = (name: string) => deriveUserId(identityStoreId, name);
const BOB = userId('bob');

// The product's own settings (one attempt: the state machine retries), so the test sees every
// throttle and conflict.
const clientConfig = (url: string) => ({
  endpoint: url,
  region: 'us-east-1',
  credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
  ...awsClientConfig(AWS_CALLS.ssoAdmin),
});

let running: RunningIdentityCenter;
let clock: ManualClock;
let ssoAdmin: SSOAdminClient;
let identityStore: IdentitystoreClient;

async function start(options: IdentityCenterStandInOptions = {}): Promise<void> {
  ssoAdmin?.destroy();
  identityStore?.destroy();
  await running?.close();
  clock = createManualClock();
  running = await startIdentityCenterStandIn({ now: clock.now, requestsPerSecond: Infinity, ...options });
  ssoAdmin = new SSOAdminClient(clientConfig(running.url));
  identityStore = new IdentitystoreClient(clientConfig(running.url));
}

afterEach(async () => {
  ssoAdmin?.destroy();
  identityStore?.destroy();
  await running?.close();
});

const assignment = (principalId = BOB, accountId = DEV, permissionSetArn: string = ADMIN) => ({
  InstanceArn: instanceArn,
  TargetId: accountId,
  TargetType: 'AWS_ACCOUNT' as const,
  PermissionSetArn: permissionSetArn,
  PrincipalType: 'USER' as const,
  PrincipalId: principalId,
});

async function principalsOf(
  accountId: string,
  permissionSetArn: string,
  pageSize?: number,
): Promise<string[]> {
  const ids: string[] = [];
  let token: string | undefined;
  do {
    const page = await ssoAdmin.send(
      new ListAccountAssignmentsCommand({
        InstanceArn: instanceArn,
        AccountId: accountId,
        PermissionSetArn: permissionSetArn,
        MaxResults: pageSize,
        NextToken: token,
      }),
    );
    ids.push(...(page.AccountAssignments ?? []).map((a) => a.PrincipalId ?? ''));
    token = page.NextToken;
  } while (token);
  return ids;
}

describe('Identity Center stand-in: account assignments', () => {
  beforeEach(() => start({ provisioningDelayMs: 1000 }));

  it('creates asynchronously: IN_PROGRESS, then SUCCEEDED and listed after the delay', async () => {
    const created = await ssoAdmin.send(new CreateAccountAssignmentCommand(assignment()));
    const status = created.AccountAssignmentCreationStatus;
    expect(status?.Status).toBe('IN_PROGRESS');
    expect(status?.CreatedDate).toBeInstanceOf(Date);
    expect(status?.CreatedDate?.getTime()).toBe(clock.now());
    expect(status?.PrincipalId).toBe(BOB);
    const requestId = status?.RequestId;

    const describe = () =>
      ssoAdmin.send(
        new DescribeAccountAssignmentCreationStatusCommand({
          InstanceArn: instanceArn,
          AccountAssignmentCreationRequestId: requestId,
        }),
      );
    clock.advance(999);
    expect((await describe()).AccountAssignmentCreationStatus?.Status).toBe('IN_PROGRESS');
    expect(await principalsOf(DEV, ADMIN)).toEqual([]);

    clock.advance(1);
    expect((await describe()).AccountAssignmentCreationStatus?.Status).toBe('SUCCEEDED');
    expect(await principalsOf(DEV, ADMIN)).toEqual([BOB]);
    expect(running.standIn.listAssignments()).toContainEqual({
      accountId: DEV,
      permissionSetArn: ADMIN,
      principalType: 'USER',
      principalId: BOB,
    });
  });

  it('deletes asynchronously; deleting a missing assignment ends FAILED with a reason', async () => {
    const alice = userId('alice');
    const deleted = await ssoAdmin.send(
      new DeleteAccountAssignmentCommand(assignment(alice, DEV, READ_ONLY)),
    );
    expect(deleted.AccountAssignmentDeletionStatus?.Status).toBe('IN_PROGRESS');
    clock.advance(1000);
    const done = await ssoAdmin.send(
      new DescribeAccountAssignmentDeletionStatusCommand({
        InstanceArn: instanceArn,
        AccountAssignmentDeletionRequestId: deleted.AccountAssignmentDeletionStatus?.RequestId,
      }),
    );
    expect(done.AccountAssignmentDeletionStatus?.Status).toBe('SUCCEEDED');
    expect(await principalsOf(DEV, READ_ONLY)).toEqual([]);

    const again = await ssoAdmin.send(new DeleteAccountAssignmentCommand(assignment(alice, DEV, READ_ONLY)));
    clock.advance(1000);
    const failed = await ssoAdmin.send(
      new DescribeAccountAssignmentDeletionStatusCommand({
        InstanceArn: instanceArn,
        AccountAssignmentDeletionRequestId: again.AccountAssignmentDeletionStatus?.RequestId,
      }),
    );
    expect(failed.AccountAssignmentDeletionStatus?.Status).toBe('FAILED');
    expect(failed.AccountAssignmentDeletionStatus?.FailureReason).toMatch(/does not exist/);
  });

  it('treats creating an existing assignment as success (idempotent)', async () => {
    const created = await ssoAdmin.send(
      new CreateAccountAssignmentCommand(assignment(userId('alice'), DEV, READ_ONLY)),
    );
    clock.advance(1000);
    const status = await ssoAdmin.send(
      new DescribeAccountAssignmentCreationStatusCommand({
        InstanceArn: instanceArn,
        AccountAssignmentCreationRequestId: created.AccountAssignmentCreationStatus?.RequestId,
      }),
    );
    expect(status.AccountAssignmentCreationStatus?.Status).toBe('SUCCEEDED');
    expect(await principalsOf(DEV, READ_ONLY)).toEqual([userId('alice')]);
  });

  it('with provisioningDelayMs 0 answers IN_PROGRESS, then SUCCEEDED on the first Describe', async () => {
    await start({ provisioningDelayMs: 0 });
    const created = await ssoAdmin.send(new CreateAccountAssignmentCommand(assignment()));
    expect(created.AccountAssignmentCreationStatus?.Status).toBe('IN_PROGRESS');
    const status = await ssoAdmin.send(
      new DescribeAccountAssignmentCreationStatusCommand({
        InstanceArn: instanceArn,
        AccountAssignmentCreationRequestId: created.AccountAssignmentCreationStatus?.RequestId,
      }),
    );
    expect(status.AccountAssignmentCreationStatus?.Status).toBe('SUCCEEDED');
  });

  it('ends a creation FAILED with a reason when injected', async () => {
    running.standIn.setFaults({
      failNext: [{ operation: 'CreateAccountAssignment', error: 'FAILED', message: 'boom' }],
    });
    const created = await ssoAdmin.send(new CreateAccountAssignmentCommand(assignment()));
    expect(created.AccountAssignmentCreationStatus?.Status).toBe('IN_PROGRESS');
    clock.advance(1000);
    const status = await ssoAdmin.send(
      new DescribeAccountAssignmentCreationStatusCommand({
        InstanceArn: instanceArn,
        AccountAssignmentCreationRequestId: created.AccountAssignmentCreationStatus?.RequestId,
      }),
    );
    expect(status.AccountAssignmentCreationStatus).toMatchObject({ Status: 'FAILED', FailureReason: 'boom' });
    expect(await principalsOf(DEV, ADMIN)).toEqual([]);
    expect(running.standIn.counters()).toMatchObject({ creationsRequested: 1, creationsFailed: 1 });
  });

  it('answers ConflictException while the same assignment has an operation in progress', async () => {
    await ssoAdmin.send(new CreateAccountAssignmentCommand(assignment()));
    await expect(ssoAdmin.send(new DeleteAccountAssignmentCommand(assignment()))).rejects.toBeInstanceOf(
      ConflictException,
    );
    await expect(ssoAdmin.send(new CreateAccountAssignmentCommand(assignment()))).rejects.toBeInstanceOf(
      ConflictException,
    );
    // Another principal on the same account and permission set is a different assignment.
    await ssoAdmin.send(new CreateAccountAssignmentCommand(assignment(userId('carol'))));
    clock.advance(1000);
    await ssoAdmin.send(new DeleteAccountAssignmentCommand(assignment()));
    expect(running.standIn.counters().conflicts).toBe(2);
  });

  it('throttles the 11th creation in flight', async () => {
    // The limit counts requests in flight, so spread them over accounts × permission sets × users.
    const targets = ['alice', 'bob', 'carol'].flatMap((name) =>
      [DEV, PROD].flatMap((account) => [READ_ONLY, ADMIN].map((ps) => assignment(userId(name), account, ps))),
    );
    for (const target of targets.slice(0, 10)) {
      await ssoAdmin.send(new CreateAccountAssignmentCommand(target));
    }
    await expect(ssoAdmin.send(new CreateAccountAssignmentCommand(targets[10]!))).rejects.toBeInstanceOf(
      ThrottlingException,
    );
    // Deletions are not limited by the creation quota.
    await ssoAdmin.send(new DeleteAccountAssignmentCommand(targets[11]!));
    clock.advance(1000);
    await ssoAdmin.send(new CreateAccountAssignmentCommand(targets[10]!));
    expect(running.standIn.counters()).toMatchObject({ peakCreationsInFlight: 10, throttled: 1 });
  });

  it('validates instance, account, permission set and principal', async () => {
    await expect(
      ssoAdmin.send(new CreateAccountAssignmentCommand({ ...assignment(), TargetId: '999999999999' })),
    ).rejects.toBeInstanceOf(ValidationException);
    await expect(
      ssoAdmin.send(new CreateAccountAssignmentCommand({ ...assignment(), TargetId: 'not-an-account' })),
    ).rejects.toBeInstanceOf(ValidationException);
    await expect(
      ssoAdmin.send(
        new CreateAccountAssignmentCommand({
          ...assignment(),
          InstanceArn: 'arn:aws:sso:::instance/ssoins-0000000000000000',
        }),
      ),
    ).rejects.toBeInstanceOf(ValidationException);
    await expect(
      ssoAdmin.send(
        new CreateAccountAssignmentCommand({
          ...assignment(),
          PermissionSetArn: READ_ONLY.replace(/.{4}$/, 'ffff'),
        }),
      ),
    ).rejects.toBeInstanceOf(ResourceNotFoundException);
    await expect(
      ssoAdmin.send(new CreateAccountAssignmentCommand(assignment('no-such-user'))),
    ).rejects.toBeInstanceOf(ResourceNotFoundException);
    await expect(
      ssoAdmin.send(
        new DescribeAccountAssignmentCreationStatusCommand({
          InstanceArn: instanceArn,
          AccountAssignmentCreationRequestId: 'nope',
        }),
      ),
    ).rejects.toBeInstanceOf(ResourceNotFoundException);
  });

  it('paginates ListAccountAssignments with MaxResults/NextToken', async () => {
    for (const name of ['alice', 'bob', 'carol']) {
      await ssoAdmin.send(new CreateAccountAssignmentCommand(assignment(userId(name), PROD, READ_ONLY)));
    }
    clock.advance(1000);
    const first = await ssoAdmin.send(
      new ListAccountAssignmentsCommand({
        InstanceArn: instanceArn,
        AccountId: PROD,
        PermissionSetArn: READ_ONLY,
        MaxResults: 2,
      }),
    );
    expect(first.AccountAssignments).toHaveLength(2);
    expect(first.NextToken).toEqual(expect.any(String));
    expect((await principalsOf(PROD, READ_ONLY, 2)).sort()).toEqual(
      ['alice', 'bob', 'carol'].map((n) => userId(n)).sort(),
    );
    await expect(
      ssoAdmin.send(
        new ListPermissionSetsCommand({ InstanceArn: instanceArn, NextToken: first.NextToken ?? '' }),
      ),
    ).rejects.toBeInstanceOf(ValidationException);
  });

  it('lists instances, permission sets and request statuses', async () => {
    const instances = await ssoAdmin.send(new ListInstancesCommand({}));
    expect(instances.Instances).toEqual([
      expect.objectContaining({
        InstanceArn: instanceArn,
        IdentityStoreId: identityStoreId,
        Status: 'ACTIVE',
      }),
    ]);
    const sets = await ssoAdmin.send(new ListPermissionSetsCommand({ InstanceArn: instanceArn }));
    expect(sets.PermissionSets).toEqual([READ_ONLY, ADMIN]);
    const described = await ssoAdmin.send(
      new DescribePermissionSetCommand({ InstanceArn: instanceArn, PermissionSetArn: ADMIN }),
    );
    expect(described.PermissionSet).toMatchObject({ Name: 'AdministratorAccess', SessionDuration: 'PT2H' });

    await ssoAdmin.send(new CreateAccountAssignmentCommand(assignment()));
    const inProgress = await ssoAdmin.send(
      new ListAccountAssignmentCreationStatusCommand({
        InstanceArn: instanceArn,
        Filter: { Status: 'IN_PROGRESS' },
      }),
    );
    expect(inProgress.AccountAssignmentsCreationStatus).toHaveLength(1);
  });

  it('records every call in the operation log and resets to the seed', async () => {
    await ssoAdmin.send(new CreateAccountAssignmentCommand(assignment()));
    await expect(ssoAdmin.send(new CreateAccountAssignmentCommand(assignment()))).rejects.toThrow();
    const log = running.standIn.operationLog();
    expect(log.map((e) => [e.service, e.operation, e.outcome])).toEqual([
      ['sso-admin', 'CreateAccountAssignment', 'ok'],
      ['sso-admin', 'CreateAccountAssignment', 'ConflictException'],
    ]);
    expect(log[0]?.requestId).toEqual(expect.any(String));
    expect(log[0]?.params).toMatchObject({ PrincipalId: BOB, TargetId: DEV });

    running.standIn.reset();
    clock.advance(1000);
    expect(running.standIn.operationLog()).toEqual([]);
    expect(running.standIn.listAssignments()).toHaveLength(1);
  });
});

describe('Identity Center stand-in: identity store', () => {
  beforeEach(() => start());

  const byEmail = (email: string) =>
    identityStore.send(
      new GetUserIdCommand({
        IdentityStoreId: identityStoreId,
        AlternateIdentifier: { UniqueAttribute: { AttributePath: 'emails.value', AttributeValue: email } },
      }),
    );

  it('finds users by email case-insensitively and by userName', async () => {
    expect((await byEmail('carol.oncall@EXAMPLE.com')).UserId).toBe(userId('carol'));
    const byName = await identityStore.send(
      new GetUserIdCommand({
        IdentityStoreId: identityStoreId,
        AlternateIdentifier: { UniqueAttribute: { AttributePath: 'userName', AttributeValue: 'bob' } },
      }),
    );
    expect(byName.UserId).toBe(BOB);
    const user = await identityStore.send(
      new DescribeUserCommand({ IdentityStoreId: identityStoreId, UserId: BOB }),
    );
    expect(user).toMatchObject({
      UserName: 'bob',
      DisplayName: 'Bob Builder',
      Emails: [{ Value: 'bob@example.com' }],
    });
  });

  it('answers ResourceNotFoundException for an unknown email', async () => {
    const error = await byEmail('nobody@example.com').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(IdentityStoreNotFound);
    expect(error).toMatchObject({ ResourceType: 'USER' });
  });

  it('paginates ListUsers', async () => {
    const first = await identityStore.send(
      new ListUsersCommand({ IdentityStoreId: identityStoreId, MaxResults: 2 }),
    );
    expect(first.Users?.map((u) => u.UserName)).toEqual(['alice', 'bob']);
    const second = await identityStore.send(
      new ListUsersCommand({ IdentityStoreId: identityStoreId, MaxResults: 2, NextToken: first.NextToken }),
    );
    expect(second.Users?.map((u) => u.UserName)).toEqual(['carol']);
    expect(second.NextToken).toBeUndefined();
  });
});

describe('Identity Center stand-in: quotas and faults', () => {
  it('rate-limits with a token bucket driven by the injected clock', async () => {
    await start({ requestsPerSecond: 20, burst: 20 });
    const list = () => ssoAdmin.send(new ListPermissionSetsCommand({ InstanceArn: instanceArn }));
    for (let i = 0; i < 20; i++) await list();
    await expect(list()).rejects.toBeInstanceOf(ThrottlingException);
    clock.advance(50); // 20/s refills one token every 50 ms
    await list();
    await expect(list()).rejects.toBeInstanceOf(ThrottlingException);
    clock.advance(1000);
    for (let i = 0; i < 20; i++) await list();
    // The bucket is shared with identitystore.
    await expect(
      identityStore.send(new ListUsersCommand({ IdentityStoreId: identityStoreId })),
    ).rejects.toBeInstanceOf(IdentityStoreThrottling);
    expect(running.standIn.counters().throttled).toBe(3);
  });

  it('injects one-shot errors by operation', async () => {
    await start();
    running.standIn.setFaults({
      failNext: [
        { operation: 'ListPermissionSets', error: 'InternalServerException' },
        { operation: 'ListPermissionSets', error: 'AccessDeniedException', message: 'nope' },
      ],
    });
    const list = () => ssoAdmin.send(new ListPermissionSetsCommand({ InstanceArn: instanceArn }));
    await expect(list()).rejects.toBeInstanceOf(InternalServerException);
    await expect(list()).rejects.toMatchObject({ name: 'AccessDeniedException', message: 'nope' });
    await expect(list()).resolves.toBeDefined();
  });

  it('reproduces a random fault campaign from its seed', async () => {
    async function campaign(): Promise<string[]> {
      await start({ seed: 42, provisioningDelayMs: 0 });
      running.standIn.setFaults({
        throttleRate: 0.2,
        conflictRate: 0.2,
        internalErrorRate: 0.1,
        failCreationRate: 0.3,
      });
      const outcomes: string[] = [];
      for (let i = 0; i < 30; i++) {
        const principal = userId(['alice', 'bob', 'carol'][i % 3] ?? 'bob');
        const command =
          i % 2 === 0
            ? new CreateAccountAssignmentCommand(assignment(principal, PROD))
            : new DeleteAccountAssignmentCommand(assignment(principal, PROD));
        outcomes.push(
          await ssoAdmin.send(command).then(
            () => 'ok',
            (e: Error) => e.name,
          ),
        );
      }
      const statuses = running.standIn.assignmentRequests().map((r) => `${r.kind}:${r.status}`);
      return [...outcomes, ...statuses];
    }
    const first = await campaign();
    const second = await campaign();
    expect(second).toEqual(first);
    expect(first).toEqual(
      expect.arrayContaining(['ThrottlingException', 'ConflictException', 'creation:FAILED']),
    );
  });

  it('exposes the admin endpoints over HTTP', async () => {
    await start({ provisioningDelayMs: 0 });
    const faults = await fetch(`${running.url}/_standin/faults`, {
      method: 'POST',
      body: JSON.stringify({ failNext: [{ operation: 'ListInstances', error: 'ThrottlingException' }] }),
    });
    expect(faults.status).toBe(200);
    await expect(ssoAdmin.send(new ListInstancesCommand({}))).rejects.toBeInstanceOf(ThrottlingException);

    const bad = await fetch(`${running.url}/_standin/faults`, {
      method: 'POST',
      body: '{"throttleRate": 2}',
    });
    expect(bad.status).toBe(400);

    await ssoAdmin.send(new CreateAccountAssignmentCommand(assignment()));
    const assignments = (await (await fetch(`${running.url}/_standin/assignments`)).json()) as {
      assignments: unknown[];
    };
    expect(assignments.assignments).toHaveLength(2);
    const operations = (await (await fetch(`${running.url}/_standin/operations`)).json()) as {
      operations: { operation: string; outcome: string }[];
    };
    expect(operations.operations.map((o) => `${o.operation}:${o.outcome}`)).toEqual([
      'ListInstances:ThrottlingException',
      'CreateAccountAssignment:ok',
    ]);
    expect((await fetch(`${running.url}/_standin/reset`, { method: 'POST' })).status).toBe(200);
    expect(running.standIn.listAssignments()).toHaveLength(1);
  });
});

describe('sandbox file', () => {
  it('loads YAML and resolves assignments by email', async () => {
    const path = join(tmpdir(), `sandbox-${process.pid}.yaml`);
    await writeFile(
      path,
      [
        `instanceArn: ${instanceArn}`,
        `identityStoreId: ${identityStoreId}`,
        'users:',
        '  - { userName: dana, email: Dana@Example.com, displayName: Dana }',
        'accounts:',
        `  - { id: '${DEV}', name: dev }`,
        'permissionSets:',
        `  - { name: ReadOnly, arn: '${READ_ONLY}' }`,
        'assignments:',
        `  - { accountId: '${DEV}', permissionSetArn: '${READ_ONLY}', email: dana@example.com }`,
      ].join('\n'),
    );
    const sandbox = await loadSandboxFile(path);
    await start({ sandbox });
    expect(running.standIn.listAssignments()).toEqual([
      { accountId: DEV, permissionSetArn: READ_ONLY, principalType: 'USER', principalId: userId('dana') },
    ]);
  });

  it('rejects an invalid file with the path in the message', async () => {
    const path = join(tmpdir(), `sandbox-bad-${process.pid}.json`);
    await writeFile(path, JSON.stringify({ instanceArn: 'nope', identityStoreId }));
    await expect(loadSandboxFile(path)).rejects.toThrow(path);
  });
});

describe('endpoint environment variables', () => {
  it('reaches the stand-in through AWS_ENDPOINT_URL_SSO_ADMIN / _IDENTITYSTORE, with no endpoint in code', async () => {
    await start();
    const saved = { ...process.env };
    process.env.AWS_ENDPOINT_URL_SSO_ADMIN = running.url;
    process.env.AWS_ENDPOINT_URL_IDENTITYSTORE = running.url;
    try {
      const credentials = { accessKeyId: 'x', secretAccessKey: 'x' };
      const admin = new SSOAdminClient({ region: 'us-east-1', credentials });
      const store = new IdentitystoreClient({ region: 'us-east-1', credentials });
      const instances = await admin.send(new ListInstancesCommand({}));
      expect(instances.Instances?.[0]?.InstanceArn).toBe(instanceArn);
      const user = await store.send(
        new DescribeUserCommand({ IdentityStoreId: identityStoreId, UserId: BOB }),
      );
      expect(user.UserName).toBe('bob');
      admin.destroy();
      store.destroy();
    } finally {
      process.env = saved;
    }
  });
});
