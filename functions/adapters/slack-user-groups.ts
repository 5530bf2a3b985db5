import { GroupNotFoundError, type GroupSource, SLACK_USER_GROUP } from '../core/directory';
import { SlackPeople, slackErrorCode } from '../slack/people';
import { classifySlackError } from './slack-notifier';
import type { SlackWebApi } from './slack-web-api';

// `slackUserGroup:<handle>` selectors: the members of a Slack user group (on-call tools keep one in
// sync with the rota), as the emails of their Slack profiles.
//
// Slack's reference (bot scope usergroups:read for both methods, both "Tier 2: 20+ per minute"):
// - usergroups.list (https://docs.slack.dev/reference/methods/usergroups.list): the workspace's
//   groups "in no particular order", disabled ones only with include_disabled; "When a User Group
//   has been disabled its date_delete parameter will be non-zero"
//   (https://docs.slack.dev/reference/methods/usergroups.disable). Not paginated.
// - usergroups.users.list (https://docs.slack.dev/reference/methods/usergroups.users.list):
//   `{ok, users: [user ids]}`; no_such_subteam ("No usergroup found with the given Id") when the
//   group went away after the list.
// - users.info per member (Tier 4), through SlackPeople (slack/people.ts), the lookup the Slack
//   listeners use: deactivated users, bots and profiles without an email select nobody.
// A rate limit (the client rejects it at once instead of sleeping out Retry-After), a 5xx after
// the client's retry or a network failure becomes RetryableError (classifySlackError); the
// DirectoryCache keeps its last answer meanwhile. Anything else (invalid_auth, missing_scope,
// plan_upgrade_required) passes unchanged. No partial answer: one failed lookup fails the group.

/** users.info calls in flight at once for one group (Tier 4 allows 100+ a minute). */
export const USERS_INFO_CONCURRENCY = 8;

export interface SlackUserGroupsOptions {
  /** users.info calls in flight at once. Default USERS_INFO_CONCURRENCY. */
  concurrency?: number;
  /** The user id → email lookup and its cache; give the Slack function's to share it. */
  people?: SlackPeople;
}

export class SlackUserGroups implements GroupSource {
  private readonly concurrency: number;
  private readonly people: SlackPeople;

  constructor(
    private readonly client: SlackWebApi,
    options: SlackUserGroupsOptions = {},
  ) {
    this.concurrency = Math.max(1, Math.floor(options.concurrency ?? USERS_INFO_CONCURRENCY));
    this.people = options.people ?? new SlackPeople();
  }

  /** Lower-case emails of the enabled group with this handle; GroupNotFoundError when there is none. */
  async members(handle: string): Promise<string[]> {
    const selector = `${SLACK_USER_GROUP}${handle}`;
    const groupId = await this.groupId(handle);
    if (!groupId) throw new GroupNotFoundError(selector);
    const userIds = await this.userIds(groupId, selector);
    const emails = await mapBounded(userIds, this.concurrency, (userId) => this.emailOf(userId));
    return [...new Set(emails.flatMap((email) => (email ? [email.toLowerCase()] : [])))];
  }

  private async groupId(handle: string): Promise<string | undefined> {
    let listed: Awaited<ReturnType<SlackWebApi['usergroups']['list']>>;
    try {
      listed = await this.client.usergroups.list({ include_disabled: false });
    } catch (error) {
      throw classifySlackError(error);
    }
    // A disabled group is not asked for, and not taken if Slack sends one anyway.
    return listed.usergroups?.find((g) => g.handle === handle && !g.date_delete && g.id)?.id;
  }

  private async userIds(groupId: string, selector: string): Promise<string[]> {
    try {
      const result = await this.client.usergroups.users.list({ usergroup: groupId });
      return result.users ?? [];
    } catch (error) {
      // Disabled (or gone) between the two calls.
      if (slackErrorCode(error) === 'no_such_subteam') throw new GroupNotFoundError(selector);
      throw classifySlackError(error);
    }
  }

  private async emailOf(userId: string): Promise<string | undefined> {
    const found = await this.people.lookup(this.client, userId);
    if (found.ok) return found.email;
    if (found.reason === 'failed') throw classifySlackError(found.error);
    return undefined;
  }
}

/**
 * `work` over `items` with at most `limit` in flight. The first failure stops new work; the
 * lookups already started are waited for (none outlives the answer), then it rejects.
 */
async function mapBounded<T, R>(
  items: readonly T[],
  limit: number,
  work: (item: T) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  let failure: { error: unknown } | undefined;
  const worker = async (): Promise<void> => {
    while (!failure && next < items.length) {
      const index = next++;
      try {
        results[index] = await work(items[index] as T);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (failure) throw failure.error;
  return results;
}
