// Athena named queries over the archive's Glue table `events` (infra/audit-archive.ts; columns in
// docs/AUDIT.md). A request's account and permission set are in its request.submitted event; the
// queries join on it. Replace the literals in quotes (account, permission set, person, dates).

const submitted = `WITH submitted AS (
  SELECT requestid,
         json_extract_scalar(details, '$.accountId') AS account_id,
         json_extract_scalar(details, '$.permissionSetArn') AS permission_set_arn,
         actor AS requester,
         json_extract_scalar(details, '$.reason') AS reason,
         json_extract_scalar(details, '$.ticket') AS ticket
  FROM events WHERE action = 'request.submitted'
)`;

export const AUDIT_QUERIES: Record<string, { description: string; sql: string }> = {
  'grants-of-permission-set': {
    description:
      'Every grant of a permission set on an account in a period: who, when, until, approved by, why',
    sql: `${submitted}
SELECT g.at AS granted_at, json_extract_scalar(g.details, '$.expiresAt') AS expires_at, s.requester,
       s.reason, s.ticket, a.actor AS approved_by, g.requestid
FROM events g
JOIN submitted s ON s.requestid = g.requestid
LEFT JOIN events a ON a.requestid = g.requestid AND a.action IN ('approval.approved', 'approval.auto')
WHERE g.action = 'grant.succeeded'
  AND s.account_id = '111111111111'
  AND s.permission_set_arn LIKE '%/ps-REPLACE'
  AND g.date BETWEEN '2026-10-01' AND '2026-12-31'
ORDER BY g.at`,
  },
  'approvals-by-person': {
    description: 'Every approval, denial and extension decision one person made',
    sql: `${submitted}
SELECT e.at, e.action, s.requester, s.account_id, s.permission_set_arn, e.requestid
FROM events e JOIN submitted s ON s.requestid = e.requestid
WHERE e.actor = 'approver@example.com'
  AND e.action IN ('approval.approved', 'approval.denied', 'window.extended', 'window.extend-refused')
ORDER BY e.at`,
  },
  'denied-or-expired': {
    description: 'Requests denied, rejected or whose approval expired, with their reasons',
    sql: `${submitted}
SELECT e.at, e.action, s.requester, s.account_id, s.permission_set_arn, s.reason,
       json_extract_scalar(e.details, '$.reason') AS decision_reason, e.requestid
FROM events e JOIN submitted s ON s.requestid = e.requestid
WHERE e.action IN ('approval.denied', 'approval.expired', 'request.rejected')
  AND e.date BETWEEN '2026-10-01' AND '2026-12-31'
ORDER BY e.at`,
  },
  'auto-approved-grants': {
    description:
      'Grants that no person approved (auto-approval rules): the review list for break-glass style access',
    sql: `${submitted}
SELECT g.at AS granted_at, s.requester, s.account_id, s.permission_set_arn, s.reason, g.requestid
FROM events g
JOIN submitted s ON s.requestid = g.requestid
JOIN events a ON a.requestid = g.requestid AND a.action = 'approval.auto'
WHERE g.action = 'grant.succeeded'
ORDER BY g.at`,
  },
  'grants-without-revoke': {
    description: 'Grants with no revoke recorded yet (open windows, or a revoke to look into)',
    sql: `${submitted}
SELECT g.at AS granted_at, json_extract_scalar(g.details, '$.expiresAt') AS expires_at, s.requester,
       s.account_id, s.permission_set_arn, g.requestid
FROM events g JOIN submitted s ON s.requestid = g.requestid
WHERE g.action = 'grant.succeeded'
  AND NOT EXISTS (
    SELECT 1 FROM events r
    WHERE r.requestid = g.requestid AND r.action IN ('revoke.succeeded', 'revoke.kept', 'reconciler.revoked'))
ORDER BY g.at`,
  },
};

/**
 * With an organization CloudTrail table in Athena (cdk.json `orgTrailTable`, "database.table" as
 * the CloudTrail console's "Create Athena table" makes it), the API calls made with one grant's
 * role session: Identity Center names the role AWSReservedSSO_<permission set>_<suffix> and the
 * session after the user, in the account, during the window.
 */
export function roleSessionQuery(orgTrailTable: string): { description: string; sql: string } {
  return {
    description:
      "The API calls made with one grant's role session in its account during its window (organization trail)",
    sql: `-- Replace: account id, permission set name, user name (the Identity Center user), window start and end.
SELECT eventtime, eventsource, eventname, awsregion, sourceipaddress, errorcode, requestparameters
FROM ${orgTrailTable}
WHERE recipientaccountid = '111111111111'
  AND useridentity.arn LIKE 'arn:aws:sts::111111111111:assumed-role/AWSReservedSSO_ReadOnly_%/alice%'
  AND from_iso8601_timestamp(eventtime) BETWEEN from_iso8601_timestamp('2026-12-01T09:00:00Z')
                                              AND from_iso8601_timestamp('2026-12-01T10:00:00Z')
ORDER BY eventtime`,
  };
}
