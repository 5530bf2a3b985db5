import { IdentitystoreClient } from '@aws-sdk/client-identitystore';
import { IdentityStoreUsers } from '../adapters/identity-store-users';
import type { Policy } from '../core/policy';
import { AWS_CALLS, awsClientConfig } from './clients';

/** Identity Center's users (identitystore), in the policy's region. */
export function userDirectory(policy: Policy): IdentityStoreUsers {
  return new IdentityStoreUsers(
    new IdentitystoreClient({
      region: policy.identityCenter.region,
      ...awsClientConfig(AWS_CALLS.identityStore),
    }),
    policy.identityCenter.identityStoreId,
  );
}
