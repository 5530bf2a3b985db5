import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { z } from 'zod';
import { openDirectory } from '../functions/cli/directory';
import { PolicyError } from '../functions/core/errors';
import { resolvePolicyAccounts } from '../functions/core/organization';
import type { Policy } from '../functions/core/policy';
import { parsePolicy } from '../functions/core/policy-file';

// Deployment settings: cdk.json "context" (or `-c key=value`), validated once before any
// construct exists. A mistake fails synth with every problem named, e.g.
//   Invalid deployment configuration (cdk.json context or -c):
//     alarmEmail: "ops@" is not an email address

export class DeployConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid deployment configuration (cdk.json context or -c):\n  ${problems.join('\n  ')}`);
    this.name = 'DeployConfigError';
  }
}

/** Context keys this app reads (everything else in cdk.json is CDK's own). */
export const CONTEXT_KEYS = [
  'policyFile',
  'stackName',
  'region',
  'account',
  'managementAccountId',
  'alarmEmail',
  'alertChannel',
  'logRetentionDays',
  'tracing',
  'dashboard',
  'identityCenterKmsKeyArn',
  'auditRetentionDays',
  'orgTrailTable',
  'directory',
] as const;
type ContextKey = (typeof CONTEXT_KEYS)[number];

const ACCOUNT_ID = /^\d{12}$/;
/** A KMS key ARN (key id or multi-Region key id), as Identity Center's EncryptionConfiguration takes it. */
const KMS_KEY_ARN =
  /^arn:aws(-[a-z]{1,5}){0,3}:kms:[a-z]{2}(-[a-z]+)+-\d:\d{12}:key\/(mrk-[a-f0-9]{32}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/;
const RETENTION_DAYS = new Set<number>(
  Object.values(RetentionDays).filter((v): v is number => typeof v === 'number'),
);

// `-c key=value` gives strings; cdk.json gives JSON types. Empty strings mean "not set".
const optionalText = z
  .union([z.string(), z.undefined(), z.null()])
  .transform((v) => (typeof v === 'string' && v.trim() !== '' ? v.trim() : undefined));
const flag = (fallback: boolean) =>
  z
    .union([z.boolean(), z.enum(['true', 'false']), z.undefined(), z.null()], {
      error: 'must be true or false',
    })
    .transform((v) => (v === undefined || v === null ? fallback : v === true || v === 'true'));

const contextSchema = z.object({
  policyFile: z.string({ error: 'is required: the path of the access policy YAML' }).trim().min(1, {
    error: 'is required: the path of the access policy YAML',
  }),
  stackName: z
    .string({ error: 'is required' })
    .regex(/^[A-Za-z][A-Za-z0-9-]{0,127}$/, 'must be a CloudFormation stack name (letters, digits, -)'),
  region: z
    .string({ error: 'is required: the AWS region to deploy to' })
    .regex(/^[a-z]{2}(-[a-z]+)+-\d$/, 'must be an AWS region like eu-west-1'),
  account: optionalText.refine((v) => v === undefined || ACCOUNT_ID.test(v), 'must be a 12-digit account id'),
  managementAccountId: optionalText.refine(
    (v) => v === undefined || ACCOUNT_ID.test(v),
    'must be a 12-digit account id',
  ),
  alarmEmail: optionalText.refine((v) => v === undefined || /^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(v), {
    error: (issue) => `${JSON.stringify(issue.input)} is not an email address`,
  }),
  alertChannel: optionalText.refine(
    (v) => v === undefined || /^[CG][A-Z0-9]{2,}$/.test(v),
    'must be a Slack channel id like C0123ABCD',
  ),
  logRetentionDays: z
    .union([z.number(), z.string().regex(/^\d+$/).transform(Number), z.undefined(), z.null()], {
      error: 'must be a number of days',
    })
    .transform((v) => v ?? RetentionDays.THREE_MONTHS)
    .refine((v) => RETENTION_DAYS.has(v), {
      error: `must be one of CloudWatch Logs' retention periods (${[...RETENTION_DAYS].filter((d) => d > 0).join(', ')})`,
    }),
  tracing: flag(false),
  dashboard: flag(true),
  identityCenterKmsKeyArn: optionalText.refine(
    (v) => v === undefined || KMS_KEY_ARN.test(v),
    'must be a KMS key ARN like arn:aws:kms:us-east-1:111111111111:key/<key id>',
  ),
  // Object Lock in compliance mode cannot be shortened once objects exist: at least a day, and
  // at most 100 years (S3's limit).
  auditRetentionDays: z
    .union([z.number(), z.string().regex(/^\d+$/).transform(Number), z.undefined(), z.null()], {
      error: 'must be a number of days',
    })
    .transform((v) => v ?? 400)
    .refine(
      (v) => Number.isInteger(v) && v >= 1 && v <= 36_500,
      'must be a whole number of days from 1 to 36500',
    ),
  // Where `ou:`/`tag:` account selectors are resolved: a directory file (the sandbox file's
  // format, e.g. a snapshot of the organization) or `live` (Organizations, with the credentials
  // synth runs with). Unset: the policy may only name listed accounts.
  directory: optionalText,
  orgTrailTable: optionalText.refine(
    (v) => v === undefined || /^[A-Za-z0-9_]+\.[A-Za-z0-9_]+$/.test(v),
    'must be an Athena table as database.table, e.g. default.cloudtrail_logs_org',
  ),
});

export interface DeployConfig {
  stackName: string;
  region: string;
  /** Target account; undefined = whatever the CLI credentials point at (env-agnostic synth). */
  account?: string;
  /** The organization's management account, when known: guards the delegated-admin caveat. */
  managementAccountId?: string;
  /** Absolute path of the policy file copied into every bundle. */
  policyFile: string;
  policy: Policy;
  alarmEmail?: string;
  /** Slack channel for operational alerts (ALERT_CHANNEL). */
  alertChannel?: string;
  logRetention: RetentionDays;
  tracing: boolean;
  dashboard: boolean;
  /**
   * The customer managed KMS key Identity Center encrypts its data with, if any: the functions
   * that call sso-admin or identitystore get kms:Decrypt on it (through those services only).
   */
  identityCenterKmsKeyArn?: string;
  /** Object Lock retention of the audit archive, in days (compliance mode). */
  auditRetentionDays: number;
  /** An organization CloudTrail table in Athena (database.table): adds the role-session query. */
  orgTrailTable?: string;
}

/**
 * Reads and validates the deployment configuration. `context` returns a context value (e.g.
 * `(key) => app.node.tryGetContext(key)`); relative paths are resolved against `projectRoot`.
 */
export async function loadDeployConfig(
  context: (key: ContextKey) => unknown,
  projectRoot: string,
): Promise<DeployConfig> {
  const raw = Object.fromEntries(CONTEXT_KEYS.map((key) => [key, context(key)]));
  const parsed = contextSchema.safeParse(raw);
  if (!parsed.success) {
    throw new DeployConfigError(
      parsed.error.issues.map((issue) => `${issue.path.join('.') || '(context)'}: ${issue.message}`),
    );
  }
  const settings = parsed.data;
  const policyFile = path.resolve(projectRoot, settings.policyFile);
  if (!existsSync(policyFile))
    throw new DeployConfigError([
      `policyFile: ${settings.policyFile} does not exist (resolved to ${policyFile})`,
    ]);

  let policy: Policy;
  try {
    const parsed = parsePolicy(readFileSync(policyFile, 'utf8'));
    const directory = settings.directory
      ? await openDirectory(
          settings.directory === 'live' ? 'live' : path.resolve(projectRoot, settings.directory),
          parsed,
        )
      : undefined;
    policy = await resolvePolicyAccounts(parsed, directory?.organization);
  } catch (error) {
    if (error instanceof PolicyError)
      throw new DeployConfigError(error.problems.map((p) => `policyFile ${settings.policyFile}: ${p}`));
    throw error;
  }

  const problems: string[] = [];
  const { managementAccountId, account } = settings;
  if (managementAccountId && account && account !== managementAccountId) {
    // Deploying into a delegated administrator account: Identity Center refuses assignments
    // into the management account from there, so a grant would fail at run time.
    const named = policy.accounts.find((a) => a.id === managementAccountId);
    if (named)
      problems.push(
        `policyFile ${settings.policyFile}: account ${named.id} (${named.name}) is the management account, ` +
          `and a delegated administrator (account ${account}) cannot assign access into it; ` +
          'remove it from the policy or deploy into the management account',
      );
  }
  const keyArn = settings.identityCenterKmsKeyArn;
  if (keyArn) {
    // Identity Center only uses a key of its own account and region.
    const [, , , keyRegion, keyAccount] = keyArn.split(':');
    if (keyRegion !== policy.identityCenter.region)
      problems.push(
        `identityCenterKmsKeyArn: the key is in ${keyRegion}, Identity Center in ${policy.identityCenter.region} ` +
          `(policyFile ${settings.policyFile} identityCenter.region); Identity Center uses a key of its own region`,
      );
    if (managementAccountId && keyAccount !== managementAccountId)
      problems.push(
        `identityCenterKmsKeyArn: the key is in account ${keyAccount}, Identity Center in the management ` +
          `account ${managementAccountId}; Identity Center uses a key of its own account`,
      );
  }
  if (problems.length) throw new DeployConfigError(problems);

  return {
    stackName: settings.stackName,
    region: settings.region,
    ...(account ? { account } : {}),
    ...(managementAccountId ? { managementAccountId } : {}),
    policyFile,
    policy,
    ...(settings.alarmEmail ? { alarmEmail: settings.alarmEmail } : {}),
    ...(settings.alertChannel ? { alertChannel: settings.alertChannel } : {}),
    logRetention: settings.logRetentionDays as RetentionDays,
    tracing: settings.tracing,
    dashboard: settings.dashboard,
    ...(keyArn ? { identityCenterKmsKeyArn: keyArn } : {}),
    auditRetentionDays: settings.auditRetentionDays,
    ...(settings.orgTrailTable ? { orgTrailTable: settings.orgTrailTable } : {}),
  };
}
