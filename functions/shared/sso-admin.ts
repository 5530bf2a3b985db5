import { SSOAdminClient } from '@aws-sdk/client-sso-admin';
import { SsoAdminDirectory } from '../adapters/sso-admin-directory';
import { SsoAdminPermissionSets, SsoAdminSessionDurations } from '../adapters/sso-admin-permission-sets';
import type { Policy } from '../core/policy';
import type { SessionDurations } from '../core/ports';
import { AWS_CALLS, awsClientConfig } from './clients';
import { once } from './once';

/** Identity Center's account assignments (sso-admin), in the policy's region. */
export function assignmentDirectory(policy: Policy): SsoAdminDirectory {
  return new SsoAdminDirectory(ssoAdminClient(policy), policy.identityCenter.instanceArn);
}

/** Permission sets' inline policies and provisioning (sso-admin), for ending sessions at revoke. */
export function permissionSetPolicies(policy: Policy): SsoAdminPermissionSets {
  return new SsoAdminPermissionSets(ssoAdminClient(policy), policy.identityCenter.instanceArn);
}

/**
 * Permission sets' session durations (DescribePermissionSet), for the Slack function's request
 * form. The client is built at the first read, so a container that never shows the line never
 * builds it.
 */
export function sessionDurations(policy: Policy): SessionDurations {
  const permissionSets = once(
    () => new SsoAdminSessionDurations(ssoAdminClient(policy), policy.identityCenter.instanceArn),
  );
  return { sessionDuration: (permissionSetArn) => permissionSets().sessionDuration(permissionSetArn) };
}

function ssoAdminClient(policy: Policy): SSOAdminClient {
  return new SSOAdminClient({ region: policy.identityCenter.region, ...awsClientConfig(AWS_CALLS.ssoAdmin) });
}
