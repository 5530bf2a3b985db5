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
  /**
   * Of `names`, the groups this person (a lower-case Slack email) is in: a few calls whatever the
   * groups' sizes, where `members` reads every member. Absent: the cache reads the member lists.
   */
  groupsOf?(email: string, names: readonly string[]): Promise<string[]>;
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
  /** Member emails (lower case) of a group selector; nobody for a group the directory does not have. */
  membersOf(selector: string): readonly string[];
  /** Is this (lower-case) email a member? From the group's member list or the person's own groups. */
  hasMember(selector: string, email: string): boolean;
}

/**
 * What a step runs before its (synchronous) policy questions: `forPeople` when it asks whether
 * given people may request or approve (the requester, the clicker), `all` when it needs whole
 * member lists (whom to ask for an approval).
 */
export interface DirectoryRefresh {
  forPeople(emails: readonly string[]): Promise<void>;
  all(): Promise<void>;
}

/** A policy without directory groups: nothing to refresh. */
export const NOTHING_TO_REFRESH: DirectoryRefresh = { forPeople: async () => {}, all: async () => {} };

/** A fixed view (the CLI against a directory file, tests). */
export function staticDirectory(members: Record<string, readonly string[]>): DirectoryView {
  const sets = new Map(
    Object.entries(members).map(([selector, list]) => [selector, new Set(list.map((m) => m.toLowerCase()))]),
  );
  return {
    membersOf: (selector) => [...(sets.get(selector) ?? [])],
    hasMember: (selector, email) => sets.get(selector)?.has(email) ?? false,
  };
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
  set: ReadonlySet<string>;
  resolvedAtMs: number;
}

/** One person's answer for one kind: which of the asked groups they are in. */
interface PersonEntry {
  asked: ReadonlySet<string>;
  memberOf: ReadonlySet<string>;
  resolvedAtMs: number;
}

/** Directory unreachable and no answer young enough to use: the step is retried, never decided on a guess. */
export class DirectoryUnavailableError extends RetryableError {
  constructor(selector: string, cause: unknown) {
    super(`The directory did not answer for ${selector}: ${errorMessage(cause)}`, { cause });
  }
}

/**
 * Directory groups, cached per container, two ways: a group's member list (`refresh`: whom to
 * ask for an approval) and a person's own groups (`refreshFor`: may this requester request, may
 * this clicker approve; a few calls whatever the groups' sizes, so a cold Slack function answers
 * in time). Either is read again once older than the TTL; when the directory fails, the previous
 * answer is used until it is `maxStaleMs` old (stale-if-error: a Lambda is frozen once it
 * answers, so a revalidation cannot run in the background after the response). A group that does
 * not exist selects nobody, and is asked again after the TTL like any other.
 */
export class DirectoryCache implements DirectoryView {
  private readonly entries = new Map<string, Entry>();
  private readonly people = new Map<string, PersonEntry>();

  constructor(
    private readonly sources: Partial<Record<GroupKind, GroupSource>>,
    private readonly clock: Clock,
    private readonly options: DirectoryCacheOptions = DEFAULT_DIRECTORY_CACHE,
    /** Told of every answer the directory did not give (a stale one used, a missing group, a failure). */
    private readonly onStale: (selector: string, error: unknown) => void = () => {},
  ) {}

  /** Resolves the member list of every selector (of a kind this function has a source for) older than the TTL. */
  async refresh(selectors: readonly string[]): Promise<void> {
    // One group at a time: a cold container must not burst past the directory's rate (identitystore ~20/s).
    for (const selector of new Set(selectors)) await this.refreshOne(selector);
  }

  /** Resolves, for each person, which of `selectors` they belong to (older than the TTL only). */
  async refreshFor(emails: readonly string[], selectors: readonly string[]): Promise<void> {
    const byKind = new Map<GroupKind, string[]>();
    for (const selector of new Set(selectors)) {
      const parsed = groupSelector(selector);
      if (parsed) byKind.set(parsed.kind, [...(byKind.get(parsed.kind) ?? []), selector]);
    }
    for (const [kind, kindSelectors] of byKind) {
      const source = this.sources[kind];
      if (!source) continue;
      const { groupsOf } = source;
      if (!groupsOf) {
        await this.refresh(kindSelectors);
        continue;
      }
      for (const email of new Set(emails.map((e) => e.trim().toLowerCase())))
        await this.refreshPerson(kind, (...args) => groupsOf.apply(source, args), email, kindSelectors);
    }
  }

  membersOf(selector: string): readonly string[] {
    const entry = this.entries.get(selector);
    if (!entry) throw new Error(`${selector} was not resolved before the policy was asked (refresh first)`);
    return entry.members;
  }

  hasMember(selector: string, email: string): boolean {
    const list = this.entries.get(selector);
    const kind = groupSelector(selector)?.kind;
    const person = kind ? this.people.get(`${kind}|${email}`) : undefined;
    const own = person?.asked.has(selector) ? person : undefined;
    if (!list && !own)
      throw new Error(
        `${selector} was not resolved for ${email} before the policy was asked (refresh first)`,
      );
    // The younger answer wins.
    if (own && (!list || own.resolvedAtMs >= list.resolvedAtMs)) return own.memberOf.has(selector);
    return list?.set.has(email) ?? false;
  }

  private store(selector: string, members: string[], resolvedAtMs: number): void {
    const unique = [...new Set(members.map((m) => m.toLowerCase()))];
    this.entries.set(selector, { members: unique, set: new Set(unique), resolvedAtMs });
  }

  private async refreshPerson(
    kind: GroupKind,
    groupsOf: NonNullable<GroupSource['groupsOf']>,
    email: string,
    selectors: readonly string[],
  ): Promise<void> {
    const now = this.clock.now().getTime();
    const key = `${kind}|${email}`;
    const entry = this.people.get(key);
    const covered = entry && selectors.every((s) => entry.asked.has(s));
    if (entry && covered && now - entry.resolvedAtMs < this.options.ttlMs) return;
    const prefix = kind === 'identityCenterGroup' ? IDENTITY_CENTER_GROUP : SLACK_USER_GROUP;
    const names = selectors.map((s) => s.slice(prefix.length));
    try {
      const found = new Set((await groupsOf(email, names)).map((name) => `${prefix}${name}`));
      this.people.set(key, { asked: new Set(selectors), memberOf: found, resolvedAtMs: now });
    } catch (error) {
      if (entry && covered && now - entry.resolvedAtMs < this.options.maxStaleMs) {
        this.onStale(selectors.join(', '), error);
        return;
      }
      // Answered meanwhile by a concurrent refresh (invocations sharing a process: the local stack;
      // a Lambda container runs one at a time): its answer stands, and is not thrown away.
      const answered = this.people.get(key);
      if (answered !== entry && answered && selectors.every((s) => answered.asked.has(s))) return;
      this.people.delete(key);
      this.onStale(selectors.join(', '), error);
      throw new DirectoryUnavailableError(selectors.join(', '), error);
    }
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
      this.store(selector, await source.members(parsed.name), now);
    } catch (error) {
      if (error instanceof GroupNotFoundError) {
        this.store(selector, [], now);
        this.onStale(selector, error);
        return;
      }
      if (entry && now - entry.resolvedAtMs < this.options.maxStaleMs) {
        this.onStale(selector, error);
        return;
      }
      // Answered meanwhile by a concurrent refresh (as for a person's groups above).
      const answered = this.entries.get(selector);
      if (answered && answered !== entry) return;
      this.entries.delete(selector);
      this.onStale(selector, error);
      throw new DirectoryUnavailableError(selector, error);
    }
  }
}
