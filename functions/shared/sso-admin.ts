import { SSOAdminClient } from '@aws-sdk/client-sso-admin';
import { SsoAdminDirectory } from '../adapters/sso-admin-directory';
import type { Policy } from '../core/policy';
import { AWS_CALLS, awsClientConfig } from './clients';

/** Identity Center's account assignments (sso-admin), in the policy's region. */
export function assignmentDirectory(policy: Policy): SsoAdminDirectory {
  return new SsoAdminDirectory(
    new SSOAdminClient({ region: policy.identityCenter.region, ...awsClientConfig(AWS_CALLS.ssoAdmin) }),
    policy.identityCenter.instanceArn,
  );
}
