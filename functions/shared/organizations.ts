import { OrganizationsClient } from '@aws-sdk/client-organizations';
import { OrganizationsAccounts } from '../adapters/organizations-accounts';
import { AWS_CALLS, awsClientConfig } from './clients';

/**
 * The organization's accounts (Organizations), for the policy compiler: synth, the policy CLI,
 * the sandbox. Organizations is global: one endpoint per partition, organizations.us-east-1 for
 * every Region of `aws` (https://docs.aws.amazon.com/general/latest/gr/ao.html), so the region
 * only picks the partition. AWS_ENDPOINT_URL_ORGANIZATIONS points it at the stand-in.
 */
export function organizationAccounts(region = 'us-east-1'): OrganizationsAccounts {
  return new OrganizationsAccounts(
    new OrganizationsClient({ region, ...awsClientConfig(AWS_CALLS.organizations) }),
  );
}
