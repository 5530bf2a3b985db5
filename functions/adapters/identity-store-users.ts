import { GetUserIdCommand, type IdentitystoreClient } from '@aws-sdk/client-identitystore';
import { RetryableError } from '../core/errors';
import type { UserDirectory } from '../core/ports';
import { isTransientAwsError } from './transient-errors';

// Identity Center users by email through identitystore GetUserId (emails.value is matched
// case-insensitively by the service for the primary email).

export class IdentityStoreUsers implements UserDirectory {
  constructor(
    private readonly client: IdentitystoreClient,
    private readonly identityStoreId: string,
  ) {}

  async findUserIdByEmail(email: string): Promise<string | undefined> {
    try {
      const result = await this.client.send(
        new GetUserIdCommand({
          IdentityStoreId: this.identityStoreId,
          AlternateIdentifier: {
            UniqueAttribute: { AttributePath: 'emails.value', AttributeValue: email.trim() },
          },
        }),
      );
      return result.UserId;
    } catch (error) {
      if (error instanceof Error && error.name === 'ResourceNotFoundException') return undefined;
      if (isTransientAwsError(error)) throw new RetryableError(`GetUserId: ${error.name}`, { cause: error });
      throw error;
    }
  }
}
