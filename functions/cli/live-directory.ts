import { DescribePermissionSetCommand, SSOAdminClient } from '@aws-sdk/client-sso-admin';
import { WebClient } from '@slack/web-api';
import { SlackUserGroups } from '../adapters/slack-user-groups';
import { isoDurationMinutes } from '../core/directory-file';
import type { Policy } from '../core/policy';
import { AWS_CALLS, awsClientConfig, SLACK_CLIENTS } from '../shared/clients';
import { identityStoreGroups } from '../shared/identity-store';
import { organizationAccounts } from '../shared/organizations';
import type { PolicyDirectory } from './directory';

/**
 * The live directory, with the caller's credentials (the default AWS credential chain; Slack's
 * bot token from SLACK_BOT_TOKEN, SLACK_API_URL as the functions read it): Organizations for accounts, identitystore for groups, Slack
 * user groups when a token is given, and DescribePermissionSet for session durations. Loaded
 * only for `live`, so an offline run never builds an SDK client.
 */
export function liveDirectory(policy: Policy): PolicyDirectory {
  const token = process.env.SLACK_BOT_TOKEN;
  const slackApiUrl = process.env.SLACK_API_URL;
  const ssoAdmin = new SSOAdminClient({
    region: policy.identityCenter.region,
    ...awsClientConfig(AWS_CALLS.ssoAdmin),
  });
  return {
    source: 'live directory',
    organization: organizationAccounts(),
    groups: {
      identityCenterGroup: identityStoreGroups(policy),
      ...(token
        ? {
            slackUserGroup: new SlackUserGroups(
              new WebClient(token, {
                ...SLACK_CLIENTS.worker.options,
                ...(slackApiUrl ? { slackApiUrl } : {}),
              }),
            ),
          }
        : {}),
    },
    sessionDurationMinutes: async (permissionSetArn) => {
      const { PermissionSet } = await ssoAdmin.send(
        new DescribePermissionSetCommand({
          InstanceArn: policy.identityCenter.instanceArn,
          PermissionSetArn: permissionSetArn,
        }),
      );
      // Identity Center's default session duration is one hour (ISO 8601 `PT1H`).
      return isoDurationMinutes(PermissionSet?.SessionDuration ?? 'PT1H');
    },
  };
}
