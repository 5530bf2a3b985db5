import { roleSessionSql } from '../functions/core/activity-query';

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
    description:
      'Requests denied, cancelled by their requester, rejected or whose approval expired, with their reasons',
    sql: `${submitted}
SELECT e.at, e.action, s.requester, s.account_id, s.permission_set_arn, s.reason,
       json_extract_scalar(e.details, '$.reason') AS decision_reason, e.requestid
FROM events e JOIN submitted s ON s.requestid = e.requestid
WHERE e.action IN ('approval.denied', 'request.cancelled', 'approval.expired', 'request.rejected')
  AND e.date BETWEEN '2026-10-01' AND '2026-12-31'
ORDER BY e.at`,
  },
  'auto-approved-grants': {
    description: 'Grants that no person approved (auto-approval and break-glass rules)',
    sql: `${submitted}
SELECT g.at AS granted_at, s.requester, s.account_id, s.permission_set_arn, s.reason, g.requestid
FROM events g
JOIN submitted s ON s.requestid = g.requestid
JOIN events a ON a.requestid = g.requestid AND a.action = 'approval.auto'
WHERE g.action = 'grant.succeeded'
ORDER BY g.at`,
  },
  'break-glass-uses': {
    description:
      'Every break-glass use: who, on what, why, its review (by whom, verdict) and whether it escalated',
    sql: `${submitted}
SELECT b.at AS activated_at, s.requester, s.account_id, s.permission_set_arn, s.reason, s.ticket,
       r.actor AS reviewed_by, json_extract_scalar(r.details, '$.verdict') AS verdict,
       x.at AS escalated_at, b.requestid
FROM events b
JOIN submitted s ON s.requestid = b.requestid
LEFT JOIN events r ON r.requestid = b.requestid AND r.action = 'breakglass.reviewed'
LEFT JOIN events x ON x.requestid = b.requestid AND x.action = 'breakglass.escalated'
WHERE b.action = 'breakglass.activated'
  AND b.date BETWEEN '2026-10-01' AND '2026-12-31'
ORDER BY b.at`,
  },
  'break-glass-unreviewed': {
    description: 'Break-glass uses no reviewer has marked yet (granted, with no breakglass.reviewed event)',
    sql: `${submitted}
SELECT b.at AS activated_at, s.requester, s.account_id, s.permission_set_arn, s.reason, b.requestid
FROM events b
JOIN submitted s ON s.requestid = b.requestid
JOIN events g ON g.requestid = b.requestid AND g.action = 'grant.succeeded'
WHERE b.action = 'breakglass.activated'
  AND NOT EXISTS (
    SELECT 1 FROM events r WHERE r.requestid = b.requestid AND r.action = 'breakglass.reviewed')
ORDER BY b.at`,
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
 * With an organization CloudTrail table in Athena (cdk.json `orgTrailTable`), the API calls made
 * with one grant's role session in its account, from its start until its last session can have
 * ended (functions/core/activity-query.ts). The revoked DM carries this query filled in for its
 * grant; the named query is the template.
 */
export function roleSessionQuery(orgTrailTable: string): { description: string; sql: string } {
  return {
    description:
      "The API calls made with one grant's role session in its account, from its start to 12 h after its revoke (organization trail)",
    sql: `-- Replace: account id, permission set name, user name, the window (start; revoke + the session duration).\n${roleSessionSql(
      orgTrailTable,
      {
        accountId: '111111111111',
        permissionSetName: 'ReadOnly',
        userName: 'alice@example.com',
        from: '2026-12-01T09:00:00Z',
        to: '2026-12-01T22:00:00Z',
      },
    )}`,
  };
}
