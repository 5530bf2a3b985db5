import { SSOAdminClient } from '@aws-sdk/client-sso-admin';
import { SsoAdminPermissionSets } from '../../functions/adapters/sso-admin-permission-sets';
import { RetryableError } from '../../functions/core/errors';
import type { PermissionSetPolicies, ProvisioningStatus } from '../../functions/core/ports';
import { AWS_CALLS, awsClientConfig } from '../../functions/shared/clients';
import {
  createManualClock,
  type RunningIdentityCenter,
  type SandboxFileInput,
  sandboxFileSchema,
  startIdentityCenterStandIn,
} from '../../local/identity-center';
import { FakePermissionSets } from '../support/permission-sets';

// What core/session-ending.ts relies on from PermissionSetPolicies, checked on the in-memory fake
// and on the sso-admin adapter against the Identity Center stand-in alike.

const INSTANCE = 'ssoins-7223a1b2c3d4e5f6';
const DEV = '111111111111';
const POWER_USER = `arn:aws:sso:::permissionSet/${INSTANCE}/ps-9f8e7d6c5b4a3f2e`;
const ADMIN = `arn:aws:sso:::permissionSet/${INSTANCE}/ps-0a0b0c0d0e0f0a0b`;

const sandbox = sandboxFileSchema.parse({
  instanceArn: `arn:aws:sso:::instance/${INSTANCE}`,
  identityStoreId: 'd-9067a1b2c3',
  accounts: [{ id: DEV, name: 'dev' }],
  permissionSets: [
    { name: 'PowerUser', arn: POWER_USER },
    { name: 'AdministratorAccess', arn: ADMIN, sessionDuration: 'PT4H' },
  ],
} satisfies SandboxFileInput);

const POLICY = JSON.stringify({
  Version: '2012-10-17',
  Statement: [{ Sid: 'Owners', Effect: 'Allow', Action: 's3:GetObject', Resource: '*' }],
});

/** `instant`: provisioning is done by the first status read; `held`: it stays IN_PROGRESS until `finish()`. */
type Pace = 'instant' | 'held';

interface UnderTest {
  permissionSets: PermissionSetPolicies;
  provisioned(accountId: string, permissionSetArn: string): string | undefined;
  finish(): void;
  close(): Promise<void>;
}

async function settle(
  first: ProvisioningStatus,
  read: (id: string) => Promise<ProvisioningStatus>,
): Promise<ProvisioningStatus> {
  let status = first;
  for (let polls = 0; status.status === 'IN_PROGRESS' && polls < 5; polls++)
    status = await read(status.requestId);
  return status;
}

function contract(make: (pace: Pace) => Promise<UnderTest>): void {
  let subject: UnderTest;
  afterEach(() => subject?.close());

  it('answers an empty inline policy for a permission set without one, and the text put otherwise', async () => {
    subject = await make('instant');
    const { permissionSets } = subject;
    expect(await permissionSets.getInlinePolicy(POWER_USER)).toBe('');
    await permissionSets.putInlinePolicy(POWER_USER, POLICY);
    expect(await permissionSets.getInlinePolicy(POWER_USER)).toBe(POLICY);
    await permissionSets.deleteInlinePolicy(POWER_USER);
    expect(await permissionSets.getInlinePolicy(POWER_USER)).toBe('');
  });

  it('refuses an inline policy with no statement (the sweep deletes instead)', async () => {
    subject = await make('instant');
    await expect(
      subject.permissionSets.putInlinePolicy(
        POWER_USER,
        JSON.stringify({ Version: '2012-10-17', Statement: [] }),
      ),
    ).rejects.toThrow();
  });

  it('gives the session duration, Identity Center’s default of an hour when none is set', async () => {
    subject = await make('instant');
    expect(await subject.permissionSets.sessionDuration(POWER_USER)).toBe('PT1H');
    expect(await subject.permissionSets.sessionDuration(ADMIN)).toBe('PT4H');
  });

  it('provisions the inline policy to the account’s role, polled to SUCCEEDED', async () => {
    subject = await make('instant');
    const { permissionSets } = subject;
    await permissionSets.putInlinePolicy(POWER_USER, POLICY);
    const status = await settle(await permissionSets.provision(POWER_USER, DEV), (id) =>
      permissionSets.provisioningStatus(id),
    );
    expect(status.status).toBe('SUCCEEDED');
    expect(subject.provisioned(DEV, POWER_USER)).toBe(POLICY);
  });

  it('refuses a second provisioning of the account’s role while one is in progress, as retryable', async () => {
    subject = await make('held');
    const { permissionSets } = subject;
    const first = await permissionSets.provision(POWER_USER, DEV);
    expect(first.status).toBe('IN_PROGRESS');
    await expect(permissionSets.provision(POWER_USER, DEV)).rejects.toBeInstanceOf(RetryableError);
    subject.finish();
    expect((await permissionSets.provisioningStatus(first.requestId)).status).toBe('SUCCEEDED');
  });

  it('does not know a provisioning it never started', async () => {
    subject = await make('instant');
    await expect(
      subject.permissionSets.provisioningStatus('00000000-0000-4000-8000-00000000ffff'),
    ).rejects.toThrow();
  });
}

describe('FakePermissionSets', () => {
  contract(async (pace) => {
    const fake = new FakePermissionSets();
    fake.sessionDurations.set(ADMIN, 'PT4H');
    if (pace === 'held') fake.pollsBeforeDone = 1000;
    return {
      permissionSets: fake,
      provisioned: (accountId, arn) => fake.provisionedPolicy(accountId, arn),
      finish: () => fake.finish(),
      close: async () => undefined,
    };
  });
});

describe('SsoAdminPermissionSets on the Identity Center stand-in', () => {
  contract(async (pace) => {
    const clock = createManualClock();
    const running: RunningIdentityCenter = await startIdentityCenterStandIn({
      sandbox,
      now: clock.now,
      provisioningDelayMs: pace === 'held' ? 60_000 : 0,
      requestsPerSecond: Number.POSITIVE_INFINITY,
    });
    const client = new SSOAdminClient({
      endpoint: running.url,
      region: 'us-east-1',
      credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
      ...awsClientConfig(AWS_CALLS.ssoAdmin),
    });
    return {
      permissionSets: new SsoAdminPermissionSets(client, sandbox.instanceArn),
      provisioned: (accountId, arn) => running.standIn.permissionSetPolicy(arn).provisioned[accountId],
      finish: () => clock.advance(60_000),
      close: async () => {
        client.destroy();
        await running.close();
      },
    };
  });
});
