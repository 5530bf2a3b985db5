import type { OrgTrail } from '../core/activity-query';

// Configuration is read here; a missing variable fails at first use with its name.

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

export function requiredEnv(name: string): string {
  const value = process.env[name];
  if (!value) throw new ConfigError(`Environment variable ${name} is not set`);
  return value;
}

export function optionalEnv(name: string): string | undefined {
  const value = process.env[name];
  return value ? value : undefined;
}

export const ENV = {
  policyFile: 'POLICY_FILE',
  stateTable: 'STATE_TABLE',
  auditTable: 'AUDIT_TABLE',
  /** The Object Lock bucket the archiver copies the audit trail into. */
  auditArchiveBucket: 'AUDIT_ARCHIVE_BUCKET',
  /** The audit-writer function (name or ARN): every function but the writer appends through it. */
  auditWriterFunction: 'AUDIT_WRITER_FUNCTION',
  /** The decisions function: the Slack function hands every decision click to it. */
  decisionsFunction: 'DECISIONS_FUNCTION',
  stateMachineArn: 'STATE_MACHINE_ARN',
  slackSecretArn: 'SLACK_SECRET_ARN',
  slackBotToken: 'SLACK_BOT_TOKEN',
  slackSigningSecret: 'SLACK_SIGNING_SECRET',
  slackApiUrl: 'SLACK_API_URL',
  alertChannel: 'ALERT_CHANNEL',
  /** An organization CloudTrail table in Athena (cdk.json orgTrailTable): the revoked DM and the Home tab give the query over it. */
  orgTrailTable: 'ORG_TRAIL_TABLE',
} as const;

/** The organization trail's Athena table, when the deployment names one (ORG_TRAIL_TABLE). */
export function orgTrail(): OrgTrail | undefined {
  const table = optionalEnv(ENV.orgTrailTable);
  return table ? { table, region: optionalEnv('AWS_REGION') ?? 'us-east-1' } : undefined;
}
