import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PROJECT_ROOT } from '../../infra/bundling';
import { DeployConfigError, loadDeployConfig } from '../../infra/config';
import { CDK_CONTEXT, EXAMPLE_POLICY_FILE } from './synth';

// Deployment configuration: cdk.json context (or -c), checked before any construct exists.

function load(overrides: Record<string, unknown>) {
  const context: Record<string, unknown> = { ...CDK_CONTEXT, ...overrides };
  return loadDeployConfig((key) => context[key], PROJECT_ROOT);
}

async function problems(overrides: Record<string, unknown>): Promise<string[]> {
  try {
    await load(overrides);
    return [];
  } catch (error) {
    if (error instanceof DeployConfigError) return error.problems;
    throw error;
  }
}

const tempDir = mkdtempSync(path.join(tmpdir(), 'jit-access-config-'));
afterAll(() => rmSync(tempDir, { recursive: true, force: true }));

describe('loadDeployConfig', () => {
  it('reads cdk.json as committed: the example policy, JitAccess in us-east-1', async () => {
    const config = await load({});
    expect(config).toMatchObject({
      stackName: 'JitAccess',
      region: 'us-east-1',
      policyFile: EXAMPLE_POLICY_FILE,
      logRetention: 90,
      tracing: false,
      dashboard: true,
    });
    expect(config.account).toBeUndefined();
    expect(config.alarmEmail).toBeUndefined();
    expect(config.policy.accounts.map((a) => a.id)).toEqual([
      '111111111111',
      '222222222222',
      '333333333333',
      '444444444444',
    ]);
  });

  it('accepts the strings `-c key=value` gives', async () => {
    const config = await load({
      tracing: 'true',
      dashboard: 'false',
      logRetentionDays: '30',
      account: '444444444444',
    });
    expect(config).toMatchObject({
      tracing: true,
      dashboard: false,
      logRetention: 30,
      account: '444444444444',
    });
  });

  it('names every bad setting at once', async () => {
    expect(
      await problems({
        stackName: '1-bad name',
        region: 'Europe',
        alarmEmail: 'ops@',
        alertChannel: '#alerts',
        logRetentionDays: 45,
        tracing: 'yes',
        account: '1234',
      }),
    ).toEqual([
      'stackName: must be a CloudFormation stack name (letters, digits, -)',
      'region: must be an AWS region like eu-west-1',
      'account: must be a 12-digit account id',
      'alarmEmail: "ops@" is not an email address',
      'alertChannel: must be a Slack channel id like C0123ABCD',
      expect.stringMatching(
        /^logRetentionDays: must be one of CloudWatch Logs' retention periods \(1, 3, 5, 7, 14, 30/,
      ),
      'tracing: must be true or false',
    ]);
  });

  it('requires the policy file, the stack name and the region', async () => {
    expect(await problems({ policyFile: undefined, stackName: undefined, region: '' })).toEqual([
      'policyFile: is required: the path of the access policy YAML',
      'stackName: is required',
      'region: must be an AWS region like eu-west-1',
    ]);
    expect(await problems({ policyFile: 'config/nope.yaml' })).toEqual([
      `policyFile: config/nope.yaml does not exist (resolved to ${path.join(PROJECT_ROOT, 'config/nope.yaml')})`,
    ]);
  });

  it('fails on a policy file that does not validate, naming the file and the path in it', async () => {
    const bad = path.join(tempDir, 'bad-policy.yaml');
    writeFileSync(
      bad,
      readFileSync(EXAMPLE_POLICY_FILE, 'utf8').replace('maxDuration: 1h', 'maxDuration: 9x'),
    );
    expect(await problems({ policyFile: bad })).toEqual([
      `policyFile ${bad}: rules[0].maxDuration: "9x" is not a duration`,
    ]);
  });

  it('locks the audit archive for 400 days unless told otherwise, and checks the retention and the trail table', async () => {
    expect((await load({})).auditRetentionDays).toBe(400);
    expect((await load({ auditRetentionDays: '2555' })).auditRetentionDays).toBe(2555);
    for (const bad of [0, 36_501, 1.5])
      expect(await problems({ auditRetentionDays: bad })).toEqual([
        'auditRetentionDays: must be a whole number of days from 1 to 36500',
      ]);
    expect((await load({})).orgTrailTable).toBeUndefined();
    expect((await load({ orgTrailTable: 'default.cloudtrail_org' })).orgTrailTable).toBe(
      'default.cloudtrail_org',
    );
    expect(await problems({ orgTrailTable: 'cloudtrail org' })).toEqual([
      'orgTrailTable: must be an Athena table as database.table, e.g. default.cloudtrail_logs_org',
    ]);
  });

  it('takes the customer managed KMS key of Identity Center, when set, as a key ARN of its region (and account)', async () => {
    const key = 'arn:aws:kms:us-east-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab';
    const multiRegion = 'arn:aws:kms:us-east-1:111111111111:key/mrk-1234abcd12ab34cd56ef1234567890ab';
    expect((await load({})).identityCenterKmsKeyArn).toBeUndefined();
    expect((await load({ identityCenterKmsKeyArn: '' })).identityCenterKmsKeyArn).toBeUndefined();
    expect((await load({ identityCenterKmsKeyArn: key })).identityCenterKmsKeyArn).toBe(key);
    expect((await load({ identityCenterKmsKeyArn: multiRegion })).identityCenterKmsKeyArn).toBe(multiRegion);
    expect(
      (await load({ identityCenterKmsKeyArn: key, managementAccountId: '111111111111' }))
        .identityCenterKmsKeyArn,
    ).toBe(key);

    const notAKey =
      'identityCenterKmsKeyArn: must be a KMS key ARN like arn:aws:kms:us-east-1:111111111111:key/<key id>';
    for (const bad of [
      'alias/identity-center',
      '1234abcd-12ab-34cd-56ef-1234567890ab',
      'arn:aws:kms:us-east-1:111111111111:alias/identity-center',
      'arn:aws:kms:us-east-1:1111:key/1234abcd-12ab-34cd-56ef-1234567890ab',
      'arn:aws:s3:::bucket/key/1234abcd-12ab-34cd-56ef-1234567890ab',
    ])
      expect(await problems({ identityCenterKmsKeyArn: bad })).toEqual([notAKey]);
    expect(await problems({ identityCenterKmsKeyArn: key.replace('us-east-1', 'eu-west-1') })).toEqual([
      'identityCenterKmsKeyArn: the key is in eu-west-1, Identity Center in us-east-1 ' +
        '(policyFile config/access-policy.example.yaml identityCenter.region); Identity Center uses a key of its own region',
    ]);
    expect(await problems({ identityCenterKmsKeyArn: key, managementAccountId: '999999999999' })).toEqual([
      'identityCenterKmsKeyArn: the key is in account 111111111111, Identity Center in the management account ' +
        '999999999999; Identity Center uses a key of its own account',
    ]);
  });

  it('refuses a delegated administrator deployment whose policy names the management account', async () => {
    expect(await problems({ account: '999999999999', managementAccountId: '111111111111' })).toEqual([
      expect.stringContaining(
        'account 111111111111 (production) is the management account, and a delegated administrator (account 999999999999) cannot assign access into it',
      ),
    ]);
    expect(await problems({ account: '111111111111', managementAccountId: '111111111111' })).toEqual([]);
  });
});

describe('infra/app.ts', () => {
  it('stops synth with the configuration problem and no stack trace', async () => {
    // Prepare: the CDK CLI hands the app its context in CDK_CONTEXT_JSON
    const context = { ...CDK_CONTEXT, alarmEmail: 'not-an-email' };

    // Act
    const run = spawnSync(
      path.join(PROJECT_ROOT, 'node_modules/.bin/tsx'),
      [path.join(PROJECT_ROOT, 'infra/app.ts')],
      {
        cwd: PROJECT_ROOT,
        encoding: 'utf8',
        env: { ...process.env, CDK_CONTEXT_JSON: JSON.stringify(context), CDK_OUTDIR: tempDir },
      },
    );

    // Assess
    expect(run.status).toBe(1);
    expect(run.stderr.trim()).toBe(
      'Invalid deployment configuration (cdk.json context or -c):\n  alarmEmail: "not-an-email" is not an email address',
    );
  });
});
