import { IdentitystoreClient } from '@aws-sdk/client-identitystore';
import { IdentityStoreGroups } from '../adapters/identity-store-groups';
import { IdentityStoreMemberships } from '../adapters/identity-store-memberships';
import { IdentityStoreUsers } from '../adapters/identity-store-users';
import { DEFAULT_USER_MAPPING } from '../core/identity-mapping';
import type { Policy } from '../core/policy';
import type { Clock } from '../core/ports';
import { AWS_CALLS, awsClientConfig } from './clients';
import { systemClock } from './clock';

function identityStoreClient(
  policy: Policy,
  settings: Parameters<typeof awsClientConfig>[0] = AWS_CALLS.identityStore,
): IdentitystoreClient {
  return new IdentitystoreClient({ region: policy.identityCenter.region, ...awsClientConfig(settings) });
}

/** Identity Center's users (identitystore), in the policy's region, matched as the policy's userMapping says. */
export function userDirectory(policy: Policy): IdentityStoreUsers {
  return new IdentityStoreUsers(
    identityStoreClient(policy),
    policy.identityCenter.identityStoreId,
    policy.identityCenter.userMapping ?? DEFAULT_USER_MAPPING,
  );
}

/** Identity Center groups (`identityCenterGroup:` selectors): members as Slack emails, through the userMapping. */
export function identityStoreGroups(policy: Policy, clock: Clock = systemClock): IdentityStoreGroups {
  return new IdentityStoreGroups(
    identityStoreClient(policy, AWS_CALLS.identityStoreGroups),
    policy.identityCenter.identityStoreId,
    policy.identityCenter.userMapping ?? DEFAULT_USER_MAPPING,
    clock,
  );
}

/** Identity Center group memberships (group access: core/group-access.ts), added and removed for a window. */
export function groupMemberships(policy: Policy): IdentityStoreMemberships {
  return new IdentityStoreMemberships(identityStoreClient(policy), policy.identityCenter.identityStoreId);
}
