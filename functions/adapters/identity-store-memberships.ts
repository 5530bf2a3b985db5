import {
  CreateGroupMembershipCommand,
  DeleteGroupMembershipCommand,
  GetGroupMembershipIdCommand,
  type IdentitystoreClient,
} from '@aws-sdk/client-identitystore';
import { AccessError, RetryableError } from '../core/errors';
import type { GroupMemberships } from '../core/ports';
import { isTransientAwsError } from './transient-errors';

// Identity Center group memberships through identitystore (Identity Store API Reference):
//  - GetGroupMembershipId (API_GetGroupMembershipId.html) answers the MembershipId of a user in
//    a group, or ResourceNotFoundException when there is none (nor user, nor group).
//  - CreateGroupMembership (API_CreateGroupMembership.html) answers the new MembershipId at once;
//    ConflictException covers both "would violate an existing uniqueness claim" (the user is
//    already a member) and "being concurrently modified": the caller looks the membership up
//    to tell them apart. ResourceNotFoundException: the user or the group does not exist.
//  - DeleteGroupMembership (API_DeleteGroupMembership.html) takes the MembershipId and answers
//    an empty 200; ResourceNotFoundException when the membership (or its user or group) is gone.
// All three are synchronous: no operation to poll, unlike sso-admin's account assignments.

const notFound = (error: unknown) => error instanceof Error && error.name === 'ResourceNotFoundException';

export class IdentityStoreMemberships implements GroupMemberships {
  constructor(
    private readonly client: IdentitystoreClient,
    private readonly identityStoreId: string,
  ) {}

  async membershipId(groupId: string, userId: string): Promise<string | undefined> {
    try {
      const result = await this.client.send(
        new GetGroupMembershipIdCommand({
          IdentityStoreId: this.identityStoreId,
          GroupId: groupId,
          MemberId: { UserId: userId },
        }),
      );
      return result.MembershipId;
    } catch (error) {
      if (notFound(error)) return undefined;
      throw mapped('GetGroupMembershipId', error);
    }
  }

  async add(groupId: string, userId: string): Promise<{ membershipId: string } | { exists: true }> {
    try {
      const result = await this.client.send(
        new CreateGroupMembershipCommand({
          IdentityStoreId: this.identityStoreId,
          GroupId: groupId,
          MemberId: { UserId: userId },
        }),
      );
      if (!result.MembershipId) throw new RetryableError('CreateGroupMembership answered no MembershipId');
      return { membershipId: result.MembershipId };
    } catch (error) {
      if (error instanceof Error && error.name === 'ConflictException') return { exists: true };
      if (notFound(error))
        throw new AccessError(
          'membership-target-gone',
          `Identity Center has no user ${userId} or no group ${groupId}`,
          { cause: error },
        );
      throw mapped('CreateGroupMembership', error);
    }
  }

  async remove(membershipId: string): Promise<boolean> {
    try {
      await this.client.send(
        new DeleteGroupMembershipCommand({
          IdentityStoreId: this.identityStoreId,
          MembershipId: membershipId,
        }),
      );
      return true;
    } catch (error) {
      if (notFound(error)) return false;
      throw mapped('DeleteGroupMembership', error);
    }
  }
}

function mapped(operation: string, error: unknown): unknown {
  if (isTransientAwsError(error)) return new RetryableError(`${operation}: ${error.name}`, { cause: error });
  return error;
}
