import {
  athenaConsoleUrl,
  grantActivity,
  MAX_SESSION_HOURS,
  roleSessionSql,
} from '../../functions/core/activity-query';
import type { RequestRecord } from '../../functions/core/model';
import { homeView } from '../../functions/slack/render/home';
import { requesterNotice } from '../../functions/slack/render/messages';

const record = (over: Partial<RequestRecord> = {}): RequestRecord => ({
  version: 1,
  request: {
    requestId: 'req-activity-1',
    requester: { email: "o'brien_x@example.com", slackUserId: 'U0ALICE' },
    accountId: '222222222222',
    permissionSetArn: 'arn:aws:sso:::permissionSet/ssoins-7223a1b2c3d4e5f6/ps-1a2b3c4d5e6f7a8b',
    durationMinutes: 60,
    reason: 'Investigating an incident',
    requestedAt: '2026-12-01T08:55:00.000Z',
  },
  status: 'REVOKED',
  approvals: [],
  permissionSetName: 'Read_Only',
  accountName: 'staging',
  windowStartedAt: '2026-12-01T09:00:00.000Z',
  updatedAt: '2026-12-01T10:00:00.000Z',
  ...over,
});
const trail = { table: 'default.cloudtrail_org', region: 'eu-west-1' };

describe('the role-session query of one grant', () => {
  it('covers the account, the permission set role and the user, from the start to the last session the revoke left', () => {
    const activity = grantActivity(record(), new Date('2026-12-01T10:00:00Z'));
    expect(activity).toEqual({
      accountId: '222222222222',
      permissionSetName: 'Read_Only',
      userName: "o'brien_x@example.com",
      from: '2026-12-01T09:00:00Z',
      to: `2026-12-01T${10 + MAX_SESSION_HOURS}:00:00Z`,
    });
    const sql = roleSessionSql(trail.table, activity ?? ({} as never));
    expect(sql).toContain('FROM default.cloudtrail_org');
    expect(sql).toContain("recipientaccountid = '222222222222'");
    // Quotes doubled; LIKE wildcards in names matched literally (escaped with \).
    expect(sql).toContain(
      "LIKE 'arn:aws:sts::222222222222:assumed-role/AWSReservedSSO_Read\\_Only\\_%/o''brien\\_x@example.com' ESCAPE '\\'",
    );
    expect(sql).toContain("from_iso8601_timestamp('2026-12-01T09:00:00Z')");
    expect(sql).toContain("from_iso8601_timestamp('2026-12-01T22:00:00Z')");
  });

  it('has no query for a request whose access never went live', () => {
    expect(grantActivity(record({ windowStartedAt: undefined }), new Date())).toBeUndefined();
  });

  it('matches any Identity Center role when the permission set name is unknown', () => {
    const activity = grantActivity(
      record({ permissionSetName: undefined }),
      new Date('2026-12-01T10:00:00Z'),
    );
    expect(roleSessionSql(trail.table, activity ?? ({} as never))).toContain(
      'assumed-role/AWSReservedSSO_%/',
    );
  });
});

describe('where people find it', () => {
  it('the revoked DM carries the query and the Athena link when a trail is configured, and not otherwise', () => {
    const withTrail = JSON.stringify(
      requesterNotice(record(), 'revoked', undefined, { orgTrail: trail }).blocks,
    );
    expect(withTrail).toContain(athenaConsoleUrl('eu-west-1'));
    expect(withTrail).toContain('FROM default.cloudtrail_org');
    const without = JSON.stringify(requesterNotice(record(), 'revoked', undefined, {}).blocks);
    expect(without).not.toContain('cloudtrail');
    // Only the revoked notice: the others are about live access.
    const granted = JSON.stringify(
      requesterNotice(record({ status: 'ACTIVE' }), 'granted', undefined, { orgTrail: trail }).blocks,
    );
    expect(granted).not.toContain('cloudtrail');
  });

  it('the Home tab lists the latest ended grants with their queries, only with a trail', () => {
    const ended = [1, 2, 3, 4].map((i) =>
      record({
        request: { ...record().request, requestId: `req-ended-${i}` },
        updatedAt: `2026-12-01T1${i}:00:00.000Z`,
      }),
    );
    const base = {
      active: [],
      pending: [],
      toApprove: [],
      extensionsToApprove: [],
      now: new Date('2026-12-01T15:00:00Z'),
    };
    const home = JSON.stringify(homeView({ ...base, ended, orgTrail: trail }).blocks);
    expect(home).toContain('Recently ended');
    expect(home.match(/FROM default\.cloudtrail_org/g)).toHaveLength(3);
    // Newest first: the oldest of the four is left out.
    // Each reader's own time zone (Slack's date formatting), "HH:MM UTC" as its fallback.
    expect(home).toMatch(/ended <!date\^\d+\^\{date_short_pretty\} \{time\}\|14:00 UTC>/);
    expect(home).not.toContain('|11:00 UTC>');
    expect(JSON.stringify(homeView({ ...base, ended }).blocks)).not.toContain('Recently ended');
  });
});
