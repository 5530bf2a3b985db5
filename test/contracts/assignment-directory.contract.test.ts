import { SSOAdminClient } from '@aws-sdk/client-sso-admin';
import { SsoAdminDirectory } from '../../functions/adapters/sso-admin-directory';
import { RetryableError } from '../../functions/core/errors';
import type { AssignmentKey } from '../../functions/core/model';
import type { AssignmentDirectory, AssignmentOperationStatus } from '../../functions/core/ports';
import { AWS_CALLS, awsClientConfig } from '../../functions/shared/clients';
import {
  createManualClock,
  deriveUserId,
  type RunningIdentityCenter,
  type SandboxFileInput,
  sandboxFileSchema,
  startIdentityCenterStandIn,
} from '../../local/identity-center';
import { FakeDirectory } from '../reliability/fakes';

// What the core relies on from its AssignmentDirectory, checked on the in-memory fake and on the
// sso-admin adapter against the Identity Center stand-in alike.

const INSTANCE = 'ssoins-7223a1b2c3d4e5f6';
const IDENTITY_STORE = 'd-9067a1b2c3';
const DEV = '111111111111';
const PROD = '222222222222';
const READ_ONLY = `arn:aws:sso:::permissionSet/${INSTANCE}/ps-1a2b3c4d5e6f7a8b`;
const ADMIN = `arn:aws:sso:::permissionSet/${INSTANCE}/ps-9f8e7d6c5b4a3f2e`;
const ALICE = deriveUserId(IDENTITY_STORE, 'alice');
const BOB = deriveUserId(IDENTITY_STORE, 'bob');
const CAROL = deriveUserId(IDENTITY_STORE, 'carol');

const key = (principalId: string, accountId = DEV, permissionSetArn = ADMIN): AssignmentKey => ({
  accountId,
  permissionSetArn,
  principalId,
});
/** Alice's permanent read-only access to dev: there before any request. */
const SEEDED = key(ALICE, DEV, READ_ONLY);

const sandbox = sandboxFileSchema.parse({
  instanceArn: `arn:aws:sso:::instance/${INSTANCE}`,
  identityStoreId: IDENTITY_STORE,
  users: [
    { userName: 'alice', email: 'alice@example.com', displayName: 'Alice' },
    { userName: 'bob', email: 'bob@example.com', displayName: 'Bob' },
    { userName: 'carol', email: 'carol@example.com', displayName: 'Carol' },
  ],
  accounts: [
    { id: DEV, name: 'dev' },
    { id: PROD, name: 'prod' },
  ],
  permissionSets: [
    { name: 'ReadOnly', arn: READ_ONLY },
    { name: 'AdministratorAccess', arn: ADMIN },
  ],
  assignments: [{ accountId: DEV, permissionSetArn: READ_ONLY, principalId: ALICE }],
} satisfies SandboxFileInput);

/**
 * `instant`: operations finish by the first status read. `held`: they stay IN_PROGRESS until
 * `finish()` (the time Identity Center takes to provision).
 */
type Pace = 'instant' | 'held';

interface DirectoryUnderTest {
  directory: AssignmentDirectory;
  finish(): void;
  close(): Promise<void>;
}

/** Reads an operation's status until it is no longer IN_PROGRESS. */
async function settle(
  first: AssignmentOperationStatus,
  read: (operationId: string) => Promise<AssignmentOperationStatus>,
): Promise<AssignmentOperationStatus> {
  let status = first;
  for (let polls = 0; status.status === 'IN_PROGRESS' && polls < 5; polls++)
    status = await read(status.requestId);
  return status;
}

function assignmentDirectoryContract(make: (pace: Pace) => Promise<DirectoryUnderTest>): void {
  let under: DirectoryUnderTest | undefined;
  let directory: AssignmentDirectory;
  const start = async (pace: Pace) => {
    under = await make(pace);
    directory = under.directory;
  };
  afterEach(async () => {
    await under?.close();
    under = undefined;
  });

  const principals = async (accountId: string, permissionSetArn: string) =>
    (await directory.listUserPrincipals(accountId, permissionSetArn)).sort();
  const created = async (k: AssignmentKey) =>
    settle(await directory.create(k), (id) => directory.creationStatus(id));
  const deleted = async (k: AssignmentKey) =>
    settle(await directory.delete(k), (id) => directory.deletionStatus(id));

  describe('operations that finish at once', () => {
    beforeEach(() => start('instant'));

    it('lists the users assigned a permission set on an account, and no others', async () => {
      expect(await principals(DEV, READ_ONLY)).toEqual([ALICE]);
      expect(await principals(DEV, ADMIN)).toEqual([]);
      expect(await principals(PROD, READ_ONLY)).toEqual([]);
    });

    it('creates an assignment: its operation ends SUCCEEDED under one id, and the user is listed', async () => {
      const first = await directory.create(key(BOB));
      expect(['IN_PROGRESS', 'SUCCEEDED']).toContain(first.status);

      const done = await settle(first, (id) => directory.creationStatus(id));
      expect(done).toEqual({ status: 'SUCCEEDED', requestId: first.requestId });
      expect(await directory.creationStatus(first.requestId)).toEqual(done);
      expect(await principals(DEV, ADMIN)).toEqual([BOB]);
      expect(await principals(PROD, ADMIN)).toEqual([]);
    });

    it('gives each operation its own id', async () => {
      const a = await directory.create(key(BOB));
      const b = await directory.create(key(CAROL));
      expect(a.requestId).not.toBe(b.requestId);
    });

    it('creates what exists as a success, and lists the user once', async () => {
      expect((await created(SEEDED)).status).toBe('SUCCEEDED');
      expect(await principals(DEV, READ_ONLY)).toEqual([ALICE]);
    });

    it('deletes an assignment: its operation ends SUCCEEDED and the user is no longer listed', async () => {
      await created(key(BOB));
      await created(key(CAROL));

      const done = await deleted(key(BOB));
      expect(done.status).toBe('SUCCEEDED');
      expect(await directory.deletionStatus(done.requestId)).toEqual(done);
      expect(await principals(DEV, ADMIN)).toEqual([CAROL]);
    });

    it('ends a deletion of what is absent FAILED with a reason saying it does not exist', async () => {
      const done = await deleted(key(BOB));
      // The core takes this reason for "already gone" (steps.ts, reconciler.ts).
      expect(done).toEqual({
        status: 'FAILED',
        requestId: expect.any(String),
        failureReason: expect.stringMatching(/does not exist/),
      });
      expect(await principals(DEV, ADMIN)).toEqual([]);
      expect(await principals(DEV, READ_ONLY)).toEqual([ALICE]);
    });

    it('knows no operation under an unknown id, nor a deletion under a creation id: not worth retrying', async () => {
      const creation = await directory.create(key(BOB));
      const deletion = await directory.delete(key(CAROL));

      for (const read of [
        directory.creationStatus('no-such-operation'),
        directory.deletionStatus('no-such-operation'),
        directory.deletionStatus(creation.requestId),
        directory.creationStatus(deletion.requestId),
      ]) {
        const error = await read.then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(error).toBeInstanceOf(Error);
        expect(error).not.toBeInstanceOf(RetryableError);
      }
    });
  });

  describe('operations in progress', () => {
    beforeEach(() => start('held'));

    it('keeps a creation IN_PROGRESS and unlisted until provisioned', async () => {
      const first = await directory.create(key(BOB));
      expect(first.status).toBe('IN_PROGRESS');
      expect(await directory.creationStatus(first.requestId)).toEqual({
        status: 'IN_PROGRESS',
        requestId: first.requestId,
      });
      expect(await principals(DEV, ADMIN)).toEqual([]);

      under?.finish();
      expect(await directory.creationStatus(first.requestId)).toEqual({
        status: 'SUCCEEDED',
        requestId: first.requestId,
      });
      expect(await principals(DEV, ADMIN)).toEqual([BOB]);
    });

    it('refuses, retryably, another creation or a deletion of an assignment with an operation in progress', async () => {
      await directory.create(key(BOB));

      await expect(directory.create(key(BOB))).rejects.toBeInstanceOf(RetryableError);
      await expect(directory.delete(key(BOB))).rejects.toBeInstanceOf(RetryableError);
      // Another principal on the same account and permission set is another assignment.
      expect((await directory.create(key(CAROL))).status).toBe('IN_PROGRESS');

      under?.finish();
      expect((await directory.delete(key(BOB))).status).toBe('IN_PROGRESS');
      under?.finish();
      expect(await principals(DEV, ADMIN)).toEqual([CAROL]);
    });

    it('keeps an assignment listed while its deletion is in progress, and refuses to create it meanwhile', async () => {
      const deletion = await directory.delete(SEEDED);
      expect(deletion.status).toBe('IN_PROGRESS');
      expect(await principals(DEV, READ_ONLY)).toEqual([ALICE]);
      await expect(directory.create(SEEDED)).rejects.toBeInstanceOf(RetryableError);

      under?.finish();
      expect((await directory.deletionStatus(deletion.requestId)).status).toBe('SUCCEEDED');
      expect(await principals(DEV, READ_ONLY)).toEqual([]);
    });
  });
}

describe('AssignmentDirectory contract: FakeDirectory', () => {
  assignmentDirectoryContract(async (pace) => {
    const directory = new FakeDirectory();
    directory.assign(SEEDED);
    if (pace === 'held') {
      directory.pollsBeforeDone = 1;
      directory.progressOnPolls = false;
    }
    return { directory, finish: () => directory.progress(), close: async () => {} };
  });
});

describe('AssignmentDirectory contract: SsoAdminDirectory on the Identity Center stand-in', () => {
  assignmentDirectoryContract(async (pace) => {
    const clock = createManualClock();
    const delay = pace === 'held' ? 1000 : 0;
    const running: RunningIdentityCenter = await startIdentityCenterStandIn({
      sandbox,
      now: clock.now,
      provisioningDelayMs: delay,
      requestsPerSecond: Number.POSITIVE_INFINITY,
    });
    const client = new SSOAdminClient({
      endpoint: running.url,
      region: 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      ...awsClientConfig(AWS_CALLS.ssoAdmin),
    });
    return {
      directory: new SsoAdminDirectory(client, sandbox.instanceArn),
      finish: () => clock.advance(delay),
      close: async () => {
        client.destroy();
        await running.close();
      },
    };
  });
});
