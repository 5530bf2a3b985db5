import {
  DescribeGroupCommand,
  DescribeUserCommand,
  GetGroupIdCommand,
  GetUserIdCommand,
  type IdentitystoreClient,
  paginateListGroupMemberships,
  paginateListGroupMembershipsForMember,
} from '@aws-sdk/client-identitystore';
import {
  DEFAULT_DIRECTORY_CACHE,
  GroupNotFoundError,
  type GroupSource,
  IDENTITY_CENTER_GROUP,
} from '../core/directory';
import { RetryableError } from '../core/errors';
import { slackEmailOf, type UserMapping, userLookup } from '../core/identity-mapping';
import type { Clock } from '../core/ports';
import { mapBounded } from './bounded';
import { isThrottling, isTransientAwsError } from './transient-errors';

// Identity Center groups (identitystore) as a GroupSource: GetGroupId by display name, every
// page of ListGroupMemberships, then DescribeUser per member (a few at a time), each user turned
// into the email Slack knows them by through the policy's identity mapping (a user the mapping
// cannot name, e.g. a userName outside the mapped domain, selects nobody).
//
// API reference (https://docs.aws.amazon.com/singlesignon/latest/IdentityStoreAPIReference/):
// - GetGroupId: AlternateIdentifier.UniqueAttribute, "the only valid path is displayName";
//   ResourceNotFoundException when no group has it (API_GetGroupId.html).
// - ListGroupMemberships: MaxResults 1-100, NextToken; members as MemberId.UserId
//   (API_ListGroupMemberships.html).
// - DescribeUser: UserName, Emails (at most one, with Primary) (API_DescribeUser.html).
// - Every call: ThrottlingException, InternalServerException (HTTP 500), AccessDeniedException.
//
// Memberships are read every time: the DirectoryCache above this adapter owns how long an answer
// lives, and a removal must take effect within its TTL. What this adapter keeps, each for
// `cacheTtlMs` (default the directory cache's TTL), is what would otherwise cost a call per read
// and changes far less often than memberships:
// - user id → email: a group read would otherwise cost one DescribeUser per member. A user id
//   never changes, but the user's email or userName can (the IdP's SCIM sync updates them), and
//   an email a person gave up can later be someone else's in Slack, so the entry expires: an
//   attribute change reaches the policy within cacheTtlMs + the directory TTL (10 minutes by
//   default), a membership change within the directory TTL alone.
// - display name → group id: a group's id never changes; a renamed group keeps answering to its
//   old name until the entry expires, and a group deleted and created again under the same name
//   (a new id: ListGroupMemberships says ResourceNotFoundException) is looked up again at once.
// Every retry of a step therefore costs ListGroupMemberships and the members not cached, not a
// GetGroupId as well: group reads share Identity Center's ~20 calls/s with the grants.

export interface IdentityStoreGroupsOptions {
  /** DescribeUser calls in flight at once (Identity Center allows ~20 calls/s across its APIs). Default 4. */
  concurrency?: number;
  /** How long a user's email and a group's id are reused before they are asked again. */
  cacheTtlMs?: number;
  /** Users (and group ids) kept at most, oldest dropped first. Default 10,000. */
  maxCachedUsers?: number;
}

interface Cached<T> {
  value: T;
  atMs: number;
}

export class IdentityStoreGroups implements GroupSource {
  private readonly users = new Map<string, Cached<string | undefined>>();
  private readonly groupIds = new Map<string, Cached<string>>();
  private readonly groupNames = new Map<string, Cached<string>>();
  private readonly concurrency: number;
  private readonly cacheTtlMs: number;
  private readonly maxCachedUsers: number;

  constructor(
    private readonly client: IdentitystoreClient,
    private readonly identityStoreId: string,
    private readonly mapping: UserMapping,
    private readonly clock: Clock,
    options: IdentityStoreGroupsOptions = {},
  ) {
    this.concurrency = Math.max(1, options.concurrency ?? 4);
    this.cacheTtlMs = options.cacheTtlMs ?? DEFAULT_DIRECTORY_CACHE.ttlMs;
    this.maxCachedUsers = options.maxCachedUsers ?? 10_000;
  }

  async members(name: string): Promise<string[]> {
    const selector = `${IDENTITY_CENTER_GROUP}${name}`;
    const cached = this.groupIds.get(name);
    let userIds: string[] | undefined;
    if (cached && this.isFresh(cached)) {
      userIds = await this.memberIds(cached.value, selector).catch((error: unknown) => {
        // The id is stale (the group was deleted, perhaps created again): look the name up again.
        if (error instanceof GroupNotFoundError) return undefined;
        throw error;
      });
      if (userIds === undefined) this.groupIds.delete(name);
    }
    if (userIds === undefined) {
      const groupId = await this.groupId(name, selector);
      userIds = await this.memberIds(groupId, selector);
    }
    const emails = await mapBounded(userIds, this.concurrency, (userId) => this.emailOf(userId, selector));
    return [...new Set(emails.filter((email): email is string => email !== undefined))];
  }

  /**
   * Of `names`, the groups this Slack person is in: GetUserId through the mapping, every page of
   * ListGroupMembershipsForMember, then DescribeGroup for each group they are in (its display
   * name, cached): 2 + their own groups' calls, whatever the size of the groups or how many the
   * policy names (API_ListGroupMembershipsForMember.html: MaxResults 1-100, NextToken;
   * API_DescribeGroup.html). A person the mapping finds no user for is in no group.
   */
  async groupsOf(email: string, names: readonly string[]): Promise<string[]> {
    const selector = `${IDENTITY_CENTER_GROUP}(groups of ${email})`;
    let lookup: ReturnType<typeof userLookup>;
    try {
      lookup = userLookup(this.mapping, email);
    } catch {
      return []; // userNameLocalPart and an email at another domain: no Identity Center user
    }
    const userId = await this.call('GetUserId', selector, async () => {
      try {
        const answer = await this.client.send(
          new GetUserIdCommand({
            IdentityStoreId: this.identityStoreId,
            AlternateIdentifier: {
              UniqueAttribute: { AttributePath: lookup.attributePath, AttributeValue: lookup.value },
            },
          }),
        );
        return answer.UserId;
      } catch (error) {
        if (error instanceof Error && error.name === 'ResourceNotFoundException') return undefined;
        throw error;
      }
    });
    if (!userId) return [];
    const memberOf = await this.call('ListGroupMembershipsForMember', selector, async () => {
      const ids = new Set<string>();
      const pages = paginateListGroupMembershipsForMember(
        { client: this.client, pageSize: 100 },
        { IdentityStoreId: this.identityStoreId, MemberId: { UserId: userId } },
      );
      for await (const page of pages)
        for (const membership of page.GroupMemberships ?? [])
          if (membership.GroupId) ids.add(membership.GroupId);
      return ids;
    });
    const wanted = new Set(names);
    const displayNames = await mapBounded([...memberOf], this.concurrency, (groupId) =>
      this.displayNameOf(groupId, selector),
    );
    return [
      ...new Set(displayNames.filter((name): name is string => name !== undefined && wanted.has(name))),
    ];
  }

  /** A group's display name, from the cache while it is young enough (a rename reaches us within the TTL). */
  private async displayNameOf(groupId: string, selector: string): Promise<string | undefined> {
    const cached = this.groupNames.get(groupId);
    if (cached && this.isFresh(cached)) return cached.value;
    const group = await this.call('DescribeGroup', selector, async () => {
      try {
        return await this.client.send(
          new DescribeGroupCommand({ IdentityStoreId: this.identityStoreId, GroupId: groupId }),
        );
      } catch (error) {
        // Deleted between the listing and now: the person is in it no more.
        if (error instanceof Error && error.name === 'ResourceNotFoundException') return undefined;
        throw error;
      }
    });
    const name = group?.DisplayName;
    if (name === undefined) {
      this.groupNames.delete(groupId);
      return undefined;
    }
    this.remember(this.groupNames, groupId, name);
    return name;
  }

  private async groupId(name: string, selector: string): Promise<string> {
    const groupId = await this.call('GetGroupId', selector, async () => {
      const answer = await this.client.send(
        new GetGroupIdCommand({
          IdentityStoreId: this.identityStoreId,
          AlternateIdentifier: { UniqueAttribute: { AttributePath: 'displayName', AttributeValue: name } },
        }),
      );
      return answer.GroupId;
    });
    if (!groupId) throw new GroupNotFoundError(selector);
    this.remember(this.groupIds, name, groupId);
    return groupId;
  }

  private memberIds(groupId: string, selector: string): Promise<string[]> {
    return this.call('ListGroupMemberships', selector, async () => {
      const ids: string[] = [];
      const pages = paginateListGroupMemberships(
        { client: this.client, pageSize: 100 },
        { IdentityStoreId: this.identityStoreId, GroupId: groupId },
      );
      for await (const page of pages)
        for (const membership of page.GroupMemberships ?? []) {
          const userId = membership.MemberId?.UserId;
          if (userId) ids.push(userId);
        }
      return [...new Set(ids)];
    });
  }

  private isFresh(entry: Cached<unknown>): boolean {
    return this.clock.now().getTime() - entry.atMs < this.cacheTtlMs;
  }

  /** Keeps `value` (most recent last), dropping the oldest past the bound. */
  private remember<T>(cache: Map<string, Cached<T>>, key: string, value: T): void {
    cache.delete(key);
    cache.set(key, { value, atMs: this.clock.now().getTime() });
    if (cache.size > this.maxCachedUsers) {
      const oldest = cache.keys().next().value;
      if (oldest !== undefined) cache.delete(oldest);
    }
  }

  /** The member's Slack email, from the cache while it is young enough. */
  private async emailOf(userId: string, selector: string): Promise<string | undefined> {
    const entry = this.users.get(userId);
    if (entry && this.isFresh(entry)) return entry.value;
    const user = await this.call('DescribeUser', selector, async () => {
      try {
        return await this.client.send(
          new DescribeUserCommand({ IdentityStoreId: this.identityStoreId, UserId: userId }),
        );
      } catch (error) {
        // Deleted between the listing and now: not a member any more, and nothing to cache.
        if (error instanceof Error && error.name === 'ResourceNotFoundException') return undefined;
        throw error;
      }
    });
    if (!user) {
      this.users.delete(userId);
      return undefined;
    }
    const email = slackEmailOf(this.mapping, {
      userName: user.UserName,
      emails: user.Emails?.map((e) => ({ value: e.Value, primary: e.Primary })),
    });
    this.remember(this.users, userId, email);
    return email;
  }

  /** One call, its errors in the core's terms: a missing group selects nobody, a busy service is retried. */
  private async call<T>(operation: string, selector: string, run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (error) {
      if (error instanceof GroupNotFoundError) throw error;
      if (error instanceof Error && error.name === 'ResourceNotFoundException')
        throw new GroupNotFoundError(selector);
      if (isTransientAwsError(error) || isThrottling(error))
        throw new RetryableError(`identitystore ${operation} for ${selector}: ${(error as Error).name}`, {
          cause: error,
        });
      throw error;
    }
  }
}
