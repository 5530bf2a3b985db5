import type { RequestRecord } from './model';

// "What did they do with it": the organization trail's API calls made with one grant's role
// session, as an Athena query over an existing CloudTrail table (cdk.json `orgTrailTable`, the
// table the CloudTrail console's "Create Athena table" makes). IAM Identity Center signs people in
// to a role named AWSReservedSSO_<permission set name>_<suffix> in the account, with a role
// session named after the user (its aws:userid is "<role id>:<user name>", which is why the
// user guide's "Revoke active IAM role sessions created by permission sets" prefers
// identitystore:userId: the name changes with the user). The product knows the Slack email, which
// IdPs commonly provision as the user name; the query says so where an auditor can change it.

/**
 * Sessions issued before a revoke keep working until the permission set's session duration ends
 * (at most 12 hours), so the calls made with a grant can come that long after it.
 */
export const MAX_SESSION_HOURS = 12;

/** Where the organization trail is queried: its Athena table and the region of the console. */
export interface OrgTrail {
  table: string;
  region: string;
}

export interface GrantActivity {
  accountId: string;
  /** The permission set's name (the role's middle part); unknown: any AWSReservedSSO role. */
  permissionSetName?: string | undefined;
  /** The role session's name: the Identity Center user name. */
  userName: string;
  /** When access went live, and when the last session it allowed can have ended (ISO 8601). */
  from: string;
  to: string;
}

function sqlString(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

/** A LIKE pattern matching `value` literally (its % and _ escaped with \). */
function likeLiteral(value: string): string {
  return value.replace(/[\\%_]/g, (c) => `\\${c}`);
}

/** The query for one grant, or (infra) a template with example values to replace. */
export function roleSessionSql(table: string, grant: GrantActivity): string {
  const role = `AWSReservedSSO_${grant.permissionSetName ? `${likeLiteral(grant.permissionSetName)}\\_` : ''}%`;
  const arn = `arn:aws:sts::${grant.accountId}:assumed-role/${role}/${likeLiteral(grant.userName)}`;
  return `-- The role session is named after the Identity Center user name (here the email); change it if yours differ.
SELECT eventtime, eventsource, eventname, awsregion, sourceipaddress, errorcode, requestparameters
FROM ${table}
WHERE recipientaccountid = ${sqlString(grant.accountId)}
  AND useridentity.arn LIKE ${sqlString(arn)} ESCAPE '\\'
  AND from_iso8601_timestamp(eventtime) BETWEEN from_iso8601_timestamp(${sqlString(grant.from)})
                                              AND from_iso8601_timestamp(${sqlString(grant.to)})
ORDER BY eventtime`;
}

/**
 * The activity window of a grant that went live: from its start to `endedAt` (the revoke) plus
 * the longest session a permission set can issue. Undefined when access never went live.
 */
export function grantActivity(record: RequestRecord, endedAt: Date): GrantActivity | undefined {
  // A group membership names no account: what it gave is the group's assignments.
  if (!record.windowStartedAt || record.request.accountId === null) return undefined;
  return {
    accountId: record.request.accountId,
    permissionSetName: record.permissionSetName,
    userName: record.request.requester.email,
    from: new Date(record.windowStartedAt).toISOString().replace(/\.\d{3}Z$/, 'Z'),
    to: new Date(endedAt.getTime() + MAX_SESSION_HOURS * 3600_000).toISOString().replace(/\.\d{3}Z$/, 'Z'),
  };
}

/** The Athena query editor of a region (Athena has no documented link that opens a query filled in). */
export function athenaConsoleUrl(region: string): string {
  return `https://${region}.console.aws.amazon.com/athena/home?region=${region}#/query-editor`;
}
