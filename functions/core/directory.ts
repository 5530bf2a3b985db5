import { errorMessage, RetryableError } from './errors';
import type { Clock } from './ports';

// Directory selectors: people and accounts named by the organization's own directory instead of
// hand-typed lists. Groups (who may request or approve) are resolved while the product runs,
// through a per-container cache, so a person removed from a group loses the right after the
// TTL. Accounts (ou:, tag:) are resolved when the policy is compiled (core/organization.ts),
// so the IAM statements synth writes name every account a rule can reach.

/** `identityCenterGroup:<DisplayName>`: an identitystore group (SCIM from the IdP). */
export const IDENTITY_CENTER_GROUP = 'identityCenterGroup:';
/** `slackUserGroup:<handle>`: a Slack user group (on-call tools keep it in sync with the rota). */
export const SLACK_USER_GROUP = 'slackUserGroup:';

export type GroupKind = 'identityCenterGroup' | 'slackUserGroup';

/** The kind and name of a directory group selector, or undefined for anything else. */
export function groupSelector(ref: string): { kind: GroupKind; name: string } | undefined {
  if (ref.startsWith(IDENTITY_CENTER_GROUP))
    return { kind: 'identityCenterGroup', name: ref.slice(IDENTITY_CENTER_GROUP.length) };
  if (ref.startsWith(SLACK_USER_GROUP))
    return { kind: 'slackUserGroup', name: ref.slice(SLACK_USER_GROUP.length) };
  return undefined;
}

/** A group the directory does not have (a typo, a group renamed in the IdP): it selects nobody. */
export class GroupNotFoundError extends Error {
  constructor(readonly selector: string) {
    super(`${selector} does not exist in the directory`);
    this.name = 'GroupNotFoundError';
  }
}

/** One kind of directory group: its members as the emails people have in Slack. */
export interface GroupSource {
  /** Member emails (lower case) of the group named `name`; GroupNotFoundError when there is none. */
  members(name: string): Promise<string[]>;
}

/** An account of the organization, as Organizations names it. */
export interface OrganizationAccount {
  id: string;
  name: string;
}

/** The organization's accounts, read when the policy is compiled (synth, the CLI, the sandbox). */
export interface OrganizationDirectory {
  /** Every account below this OU (or root), nested OUs included; an error naming it when there is none. */
  accountsUnder(parentId: string): Promise<OrganizationAccount[]>;
  /** Every account carrying this tag with this value. */
  accountsTagged(key: string, value: string): Promise<OrganizationAccount[]>;
  /** The account with this id, or undefined when the organization has none. */
  account(id: string): Promise<OrganizationAccount | undefined>;
}

/** What the policy's questions read: the members of a directory group, already resolved. */
export interface DirectoryView {
  /** Member emails of a group selector; nobody for a group the directory does not have. */
  membersOf(selector: string): readonly string[];
}

/** A fixed view (the CLI against a directory file, tests). */
export function staticDirectory(members: Record<string, readonly string[]>): DirectoryView {
  return { membersOf: (selector) => members[selector] ?? [] };
}

export interface DirectoryCacheOptions {
  /** How long a resolved group is used before it is read again: the delay before a removal takes effect. */
  ttlMs: number;
  /** How long a group may still be used while the directory fails to answer; after that, nobody. */
  maxStaleMs: number;
}

/**
 * Five minutes: a person removed from a group can no longer request or approve five minutes
 * later. While the directory is failing, the last answer stays in use for at most an hour.
 */
export const DEFAULT_DIRECTORY_CACHE: DirectoryCacheOptions = { ttlMs: 5 * 60_000, maxStaleMs: 60 * 60_000 };

interface Entry {
  members: readonly string[];
  resolvedAtMs: number;
}

/** Directory unreachable and no answer young enough to use: the step is retried, never decided on a guess. */
export class DirectoryUnavailableError extends RetryableError {
  constructor(selector: string, cause: unknown) {
    super(`The directory did not answer for ${selector}: ${errorMessage(cause)}`, { cause });
  }
}

/**
 * Directory groups, cached per container. `refresh` runs before an event's policy questions
 * (which are synchronous) and reads again what is older than the TTL; when the directory fails,
 * the previous answer is used until it is `maxStaleMs` old (stale-if-error: a Lambda is frozen
 * once it answers, so a revalidation cannot run in the background after the response). A group
 * that does not exist selects nobody, and is asked again after the TTL like any other.
 */
export class DirectoryCache implements DirectoryView {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly sources: Partial<Record<GroupKind, GroupSource>>,
    private readonly clock: Clock,
    private readonly options: DirectoryCacheOptions = DEFAULT_DIRECTORY_CACHE,
    private readonly onStale: (selector: string, error: unknown) => void = () => {},
  ) {}

  /** Resolves every selector (of a kind this function has a source for) older than the TTL, in parallel. */
  async refresh(selectors: readonly string[]): Promise<void> {
    await Promise.all([...new Set(selectors)].map((selector) => this.refreshOne(selector)));
  }

  membersOf(selector: string): readonly string[] {
    const entry = this.entries.get(selector);
    if (!entry) throw new Error(`${selector} was not resolved before the policy was asked (refresh first)`);
    return entry.members;
  }

  private async refreshOne(selector: string): Promise<void> {
    const now = this.clock.now().getTime();
    const entry = this.entries.get(selector);
    if (entry && now - entry.resolvedAtMs < this.options.ttlMs) return;
    const parsed = groupSelector(selector);
    if (!parsed) throw new Error(`${selector} is not a directory group`);
    // A function wired for one kind only (Validate has no Slack token) leaves the other
    // unresolved: asking about it is then a wiring error (membersOf), not a silent "nobody".
    const source = this.sources[parsed.kind];
    if (!source) return;
    try {
      const members = await source.members(parsed.name);
      this.entries.set(selector, {
        members: [...new Set(members.map((m) => m.toLowerCase()))],
        resolvedAtMs: now,
      });
    } catch (error) {
      if (error instanceof GroupNotFoundError) {
        this.entries.set(selector, { members: [], resolvedAtMs: now });
        this.onStale(selector, error);
        return;
      }
      if (entry && now - entry.resolvedAtMs < this.options.maxStaleMs) {
        this.onStale(selector, error);
        return;
      }
      this.entries.delete(selector);
      throw new DirectoryUnavailableError(selector, error);
    }
  }
}
