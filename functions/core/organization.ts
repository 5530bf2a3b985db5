import type { OrganizationAccount, OrganizationDirectory } from './directory';
import { PolicyError } from './errors';
import type { Account, Policy } from './policy';

// Account selectors (`ou:<id>`, `tag:<key>=<value>`, a bare account id the policy does not
// list) are resolved when the policy is compiled (synth, the sandbox, the CLI), never in a
// Lambda: the compiled policy names every account a rule reaches, so the IAM statements synth
// writes from it are scoped to those accounts (no `account/*`), and no function needs
// Organizations permissions. A new account under an OU becomes requestable at the next deploy.

/** Organizations ids (Organizations API reference, Root and OrganizationalUnit `Id` patterns). */
export const ROOT_ID = /^r-[0-9a-z]{4,32}$/;
export const OU_ID = /^ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}$/;
const ACCOUNT_ID = /^\d{12}$/;

export type AccountSelector = { kind: 'ou'; parentId: string } | { kind: 'tag'; key: string; value: string };

/** The selector an account entry of a rule names, or undefined for an id, a name or `*`. */
export function accountSelector(entry: string): AccountSelector | undefined {
  if (entry.startsWith('ou:')) return { kind: 'ou', parentId: entry.slice(3) };
  if (entry.startsWith('tag:')) {
    const [key = '', ...rest] = entry.slice(4).split('=');
    return { kind: 'tag', key, value: rest.join('=') };
  }
  return undefined;
}

/** What is wrong with an account entry's syntax (undefined: nothing). */
export function accountEntryProblem(entry: string): string | undefined {
  const selector = accountSelector(entry);
  if (!selector) return undefined;
  if (selector.kind === 'ou')
    return ROOT_ID.test(selector.parentId) || OU_ID.test(selector.parentId)
      ? undefined
      : `"${entry}" is not an OU or root id (ou:ou-<root>-<ou> or ou:r-<root>)`;
  return selector.key && selector.value && /^[\w.:/+\-@ ]{1,128}$/.test(selector.key)
    ? undefined
    : `"${entry}" is not a tag selector (tag:<key>=<value>)`;
}

/** Does this policy need the organization to be compiled (an OU, a tag or an unlisted account id)? */
export function needsOrganization(policy: Policy): boolean {
  const listed = new Set(policy.accounts.flatMap((a) => [a.id, a.name]));
  return policy.rules.some((rule) =>
    rule.accounts.some((entry) => accountSelector(entry) || (ACCOUNT_ID.test(entry) && !listed.has(entry))),
  );
}

/**
 * The policy with every rule's accounts as listed account ids: OUs and tags expanded through
 * the organization, `exceptAccounts` taken out, names taken from Organizations for accounts the
 * policy does not list. Problems (an OU that does not exist, a rule left with no account) are
 * reported with their path, all at once.
 */
export async function resolvePolicyAccounts(
  policy: Policy,
  organization: OrganizationDirectory | undefined,
): Promise<Policy> {
  const problems: string[] = [];
  const accounts = new Map<string, Account>(policy.accounts.map((a) => [a.id, a]));
  const byName = new Map(policy.accounts.map((a) => [a.name, a.id]));
  const learn = (found: OrganizationAccount) => {
    if (!accounts.has(found.id)) {
      // Two Organizations accounts may share a name; the policy's names must not collide.
      const name = byName.has(found.name) ? `${found.name} (${found.id})` : found.name;
      accounts.set(found.id, { id: found.id, name });
      byName.set(name, found.id);
    }
    return found.id;
  };
  const expand = async (entry: string, path: string): Promise<string[]> => {
    if (entry === '*') return [...policy.accounts.map((a) => a.id)];
    const listed = byName.get(entry) ?? (accounts.has(entry) ? entry : undefined);
    if (listed) return [listed];
    const selector = accountSelector(entry);
    if (!selector && !ACCOUNT_ID.test(entry)) {
      problems.push(`${path}: "${entry}" is not an account id or name listed under accounts`);
      return [];
    }
    if (!organization) {
      problems.push(
        `${path}: "${entry}" is resolved through the organization: give a directory file (cdk.json directoryFile, --directory) or read it live`,
      );
      return [];
    }
    try {
      if (!selector) {
        const found = await organization.account(entry);
        if (!found) problems.push(`${path}: account ${entry} is not an active account of the organization`);
        return found ? [learn(found)] : [];
      }
      const found =
        selector.kind === 'ou'
          ? await organization.accountsUnder(selector.parentId)
          : await organization.accountsTagged(selector.key, selector.value);
      return found.map(learn);
    } catch (error) {
      problems.push(`${path}: ${error instanceof Error ? error.message : String(error)}`);
      return [];
    }
  };

  const rules: Policy['rules'] = [];
  for (const [i, rule] of policy.rules.entries()) {
    // A group rule reaches groups, no account.
    if (rule.accessGroups?.length) {
      rules.push(rule);
      continue;
    }
    const ids = new Set<string>();
    for (const [j, entry] of rule.accounts.entries())
      for (const id of await expand(entry, `rules[${i}].accounts[${j}]`)) ids.add(id);
    for (const [j, entry] of (rule.exceptAccounts ?? []).entries())
      for (const id of await expand(entry, `rules[${i}].exceptAccounts[${j}]`)) ids.delete(id);
    if (ids.size === 0 && !problems.some((p) => p.startsWith(`rules[${i}].`)))
      problems.push(`rules[${i}].accounts: selects no account`);
    rules.push({ ...rule, accounts: [...ids], exceptAccounts: [] });
  }
  if (problems.length) throw new PolicyError(problems);
  if (accounts.size === 0 && !policy.rules.some((r) => r.accessGroups?.length))
    throw new PolicyError(['accounts: the policy reaches no account']);
  // Only accounts some rule reaches are kept from Organizations; listed ones stay as written.
  const reached = new Set(rules.flatMap((r) => r.accounts));
  const listedIds = new Set(policy.accounts.map((a) => a.id));
  return {
    ...policy,
    accounts: [...accounts.values()].filter((a) => listedIds.has(a.id) || reached.has(a.id)),
    rules,
  };
}
