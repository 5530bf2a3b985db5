import {
  type Account,
  DescribeAccountCommand,
  type OrganizationsClient,
  paginateListAccounts,
  paginateListAccountsForParent,
  paginateListChildren,
  paginateListTagsForResource,
} from '@aws-sdk/client-organizations';
import type { OrganizationAccount, OrganizationDirectory } from '../core/directory';
import { RetryableError } from '../core/errors';
import { mapBounded } from './bounded';
import { isThrottling, isTransientAwsError } from './transient-errors';

// The organization's accounts for the policy compiler (synth, the CLI, the sandbox): `ou:<id>`
// is every account below the root or OU, nested OUs included; `tag:<key>=<value>` every account
// carrying the tag. From the management account or a delegated administrator.
//
// Organizations API reference (https://docs.aws.amazon.com/organizations/latest/APIReference/):
// - ListChildren (ChildType ORGANIZATIONAL_UNIT) and ListAccountsForParent: MaxResults 1-20;
//   ListAccountsForParent lists only the accounts directly in the parent, so the walk descends
//   through ListChildren; ParentNotFoundException for an id that is no root or OU.
// - ListAccounts: MaxResults 1-20. ListTagsForResource: NextToken only.
// - DescribeAccount: AccountNotFoundException.
// - A List call "can occasionally return an empty set of results even when more results are
//   available": the SDK paginators follow NextToken until there is none, never stopping on an
//   empty page.
// - TooManyRequestsException (throttling, HTTP 400) and ServiceException (HTTP 500) on any call.
//
// Only ACTIVE accounts count (Account.State; the deprecated Status where State is absent). A
// SUSPENDED account is closed (CloseAccount ends in it; it can be reopened within 90 days),
// PENDING_CLOSURE is closing, PENDING_ACTIVATION never finished sign-up, CLOSED is gone: none can
// be signed in to ("Monitor the state of your AWS accounts", Organizations User Guide), so a rule
// over them would grant nothing usable, and compiling them in would leave IAM statements naming
// an account that, if reopened, gets access nobody reviewed for it. A reopened account comes back
// at the next compile.

export interface OrganizationsAccountsOptions {
  /** ListTagsForResource / branch walks in flight at once. Default 4. */
  concurrency?: number;
}

export class OrganizationsAccounts implements OrganizationDirectory {
  private readonly requests = new Map<string, number>();
  private readonly concurrency: number;
  // One instance serves one compile (synth, a CLI run): each parent, the account list and each
  // account's tags are read once however many selectors ask, so a policy of many OUs and tags
  // costs one walk of the organization, not one per selector. The next compile reads afresh.
  private readonly parents = new Map<string, Promise<{ accounts: Account[]; units: string[] }>>();
  private readonly tags = new Map<string, Promise<Record<string, string>>>();
  private allAccounts: Promise<Account[]> | undefined;

  /**
   * Adds a counting step to `client` (every request sent, SDK retries included: what
   * Organizations' throttling sees), so give it a client of its own.
   */
  constructor(
    private readonly client: OrganizationsClient,
    options: OrganizationsAccountsOptions = {},
  ) {
    this.concurrency = Math.max(1, options.concurrency ?? 4);
    client.middlewareStack.add(
      (next, context) => async (args) => {
        const operation = (context.commandName ?? 'unknown').replace(/Command$/, '');
        this.requests.set(operation, (this.requests.get(operation) ?? 0) + 1);
        return next(args);
      },
      { step: 'deserialize', name: 'countOrganizationsRequests', override: true },
    );
  }

  /** Requests sent so far, in all and per operation (a benchmark reports them). */
  apiCalls(): { total: number; byOperation: Record<string, number> } {
    const byOperation = Object.fromEntries(this.requests);
    return { total: [...this.requests.values()].reduce((a, b) => a + b, 0), byOperation };
  }

  resetApiCalls(): void {
    this.requests.clear();
  }

  async accountsUnder(parentId: string): Promise<OrganizationAccount[]> {
    const found: OrganizationAccount[] = [];
    // An OU has one parent, so the tree has no cycle; `seen` makes sure of it anyway.
    const seen = new Set([parentId]);
    // Breadth first, a level's parents `concurrency` at a time: each parent costs one
    // ListAccountsForParent and one ListChildren per page.
    for (let level = [parentId]; level.length > 0; ) {
      const children = await mapBounded(level, this.concurrency, async (parent) => {
        const { accounts, units } = await this.parent(parent);
        found.push(...accounts.filter(isActive).map(view));
        return units;
      });
      level = children.flat().filter((id) => !seen.has(id) && seen.add(id));
    }
    return sortById(found);
  }

  /** A parent's accounts and child OUs, read once per instance. */
  private parent(parent: string): Promise<{ accounts: Account[]; units: string[] }> {
    let read = this.parents.get(parent);
    if (!read) {
      read = (async () => {
        const [accounts, units] = await Promise.all([
          this.collect('ListAccountsForParent', parent, async () => {
            const out: Account[] = [];
            for await (const page of paginateListAccountsForParent(
              { client: this.client, pageSize: 20 },
              { ParentId: parent },
            ))
              out.push(...(page.Accounts ?? []));
            return out;
          }),
          this.collect('ListChildren', parent, async () => {
            const out: string[] = [];
            for await (const page of paginateListChildren(
              { client: this.client, pageSize: 20 },
              { ParentId: parent, ChildType: 'ORGANIZATIONAL_UNIT' },
            ))
              for (const child of page.Children ?? []) if (child.Id) out.push(child.Id);
            return out;
          }),
        ]);
        return { accounts, units };
      })();
      // A failed read is not kept: the next selector asks again.
      read.catch(() => this.parents.delete(parent));
      this.parents.set(parent, read);
    }
    return read;
  }

  async accountsTagged(key: string, value: string): Promise<OrganizationAccount[]> {
    this.allAccounts ??= this.collect('ListAccounts', undefined, async () => {
      const out: Account[] = [];
      for await (const page of paginateListAccounts({ client: this.client, pageSize: 20 }, {}))
        out.push(...(page.Accounts ?? []));
      return out;
    });
    this.allAccounts.catch(() => {
      this.allAccounts = undefined;
    });
    const active = (await this.allAccounts).filter(isActive);
    const tagged = await mapBounded(active, this.concurrency, async (account) => {
      const id = account.Id ?? '';
      let read = this.tags.get(id);
      if (!read) {
        read = this.collect('ListTagsForResource', id, async () => {
          const out: Record<string, string> = {};
          for await (const page of paginateListTagsForResource({ client: this.client }, { ResourceId: id }))
            for (const tag of page.Tags ?? []) if (tag.Key !== undefined) out[tag.Key] = tag.Value ?? '';
          return out;
        });
        read.catch(() => this.tags.delete(id));
        this.tags.set(id, read);
      }
      return (await read)[key] === value;
    });
    return sortById(active.filter((_, i) => tagged[i]).map(view));
  }

  async account(id: string): Promise<OrganizationAccount | undefined> {
    const account = await this.collect('DescribeAccount', id, async () => {
      try {
        return (await this.client.send(new DescribeAccountCommand({ AccountId: id }))).Account;
      } catch (error) {
        if (error instanceof Error && error.name === 'AccountNotFoundException') return undefined;
        throw error;
      }
    });
    return account && isActive(account) ? view(account) : undefined;
  }

  /** One operation's calls, their errors in the core's terms. */
  private async collect<T>(operation: string, target: string | undefined, run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (error) {
      const on = target ? ` for ${target}` : '';
      if (error instanceof Error && error.name === 'ParentNotFoundException')
        throw new Error(`${target}: the organization has no root or OU with this id (${operation})`, {
          cause: error,
        });
      if (isThrottling(error) || isTransientAwsError(error))
        throw new RetryableError(`Organizations ${operation}${on}: ${(error as Error).name}`, {
          cause: error,
        });
      throw error;
    }
  }
}

function isActive(account: Account): boolean {
  return (account.State ?? account.Status) === 'ACTIVE';
}

function view(account: Account): OrganizationAccount {
  return { id: account.Id ?? '', name: account.Name ?? account.Id ?? '' };
}

function sortById(accounts: OrganizationAccount[]): OrganizationAccount[] {
  const unique = new Map(accounts.map((a) => [a.id, a]));
  return [...unique.values()].sort((a, b) => a.id.localeCompare(b.id));
}
