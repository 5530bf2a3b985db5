import {
  DescribeUserCommand,
  GetUserIdCommand,
  type IdentitystoreClient,
} from '@aws-sdk/client-identitystore';
import { RetryableError } from '../core/errors';
import { DEFAULT_USER_MAPPING, type UserMapping, userLookup } from '../core/identity-mapping';
import type { UserDirectory } from '../core/ports';
import { isTransientAwsError } from './transient-errors';

// Identity Center users through identitystore GetUserId, on the attribute the policy's
// identityCenter.userMapping names: emails.value (the default: the Slack email), userName (the
// Slack email as the userName) or userName = the Slack email's local part at one domain. A
// Slack email the mapping cannot apply to (another domain) is refused with an AccessError
// naming the person and the mapping (core/identity-mapping.ts), without a call.
//
// GetUserId answers one UserId or ResourceNotFoundException; the only valid unique-attribute
// paths are userName and emails.value (API_GetUserId.html). It cannot meet two users: Identity
// Center "requires that all user names and email addresses for your users are non-NULL and
// unique" (IAM Identity Center User Guide, "Username and email address uniqueness",
// users-groups-provisioning.html) and a user has exactly one email (the API's Emails list is 1
// to 1), so the write that would make a second one is refused (ConflictException,
// UNIQUENESS_CONSTRAINT_VIOLATION). emails.value is matched case-insensitively for the primary email.

export class IdentityStoreUsers implements UserDirectory {
  constructor(
    private readonly client: IdentitystoreClient,
    private readonly identityStoreId: string,
    private readonly mapping: UserMapping = DEFAULT_USER_MAPPING,
  ) {}

  async findUserIdByEmail(email: string): Promise<string | undefined> {
    const { attributePath, value } = userLookup(this.mapping, email);
    try {
      const result = await this.client.send(
        new GetUserIdCommand({
          IdentityStoreId: this.identityStoreId,
          AlternateIdentifier: { UniqueAttribute: { AttributePath: attributePath, AttributeValue: value } },
        }),
      );
      return result.UserId;
    } catch (error) {
      if (error instanceof Error && error.name === 'ResourceNotFoundException') return undefined;
      if (isTransientAwsError(error)) throw new RetryableError(`GetUserId: ${error.name}`, { cause: error });
      throw error;
    }
  }

  /**
   * Whether Identity Center still has this user: DescribeUser answers ResourceNotFoundException
   * for a deleted one (API_DescribeUser.html). Only a definite "not found" is "gone"; throttling
   * and the rest throw, so a blip never offboards anyone.
   */
  async isGone(userId: string): Promise<boolean> {
    try {
      await this.client.send(
        new DescribeUserCommand({ IdentityStoreId: this.identityStoreId, UserId: userId }),
      );
      return false;
    } catch (error) {
      if (error instanceof Error && error.name === 'ResourceNotFoundException') return true;
      if (isTransientAwsError(error))
        throw new RetryableError(`DescribeUser: ${error.name}`, { cause: error });
      throw error;
    }
  }
}
