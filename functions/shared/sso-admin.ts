import { SSOAdminClient } from '@aws-sdk/client-sso-admin';
import { SsoAdminDirectory } from '../adapters/sso-admin-directory';
import { SsoAdminPermissionSets } from '../adapters/sso-admin-permission-sets';
import type { Policy } from '../core/policy';
import { AWS_CALLS, awsClientConfig } from './clients';

/** Identity Center's account assignments (sso-admin), in the policy's region. */
export function assignmentDirectory(policy: Policy): SsoAdminDirectory {
  return new SsoAdminDirectory(ssoAdminClient(policy), policy.identityCenter.instanceArn);
}

/** Permission sets' inline policies and provisioning (sso-admin), for ending sessions at revoke. */
export function permissionSetPolicies(policy: Policy): SsoAdminPermissionSets {
  return new SsoAdminPermissionSets(ssoAdminClient(policy), policy.identityCenter.instanceArn);
}

function ssoAdminClient(policy: Policy): SSOAdminClient {
  return new SSOAdminClient({ region: policy.identityCenter.region, ...awsClientConfig(AWS_CALLS.ssoAdmin) });
}
