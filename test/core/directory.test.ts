import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import {
  DEFAULT_DIRECTORY_CACHE,
  DirectoryCache,
  DirectoryUnavailableError,
  GroupNotFoundError,
  type GroupSource,
  type OrganizationDirectory,
  staticDirectory,
} from '../../functions/core/directory';
import { PolicyError } from '../../functions/core/errors';
import { resolvePolicyAccounts } from '../../functions/core/organization';
import {
  approversFor,
  checkApprover,
  directorySelectors,
  evaluateRequest,
  optionsFor,
  type Policy,
  ruleAccounts,
  withDirectory,
} from '../../functions/core/policy';
import { compilePolicy, validatePolicy } from '../../functions/core/policy-file';
import { ManualClock } from '../reliability/fakes';

const EXAMPLE = readFileSync(path.join(__dirname, '../fixtures/email-groups-policy.yaml'), 'utf8');
// biome-ignore lint/suspicious/noExplicitAny: each case edits an arbitrary path of the parsed YAML document
type PolicyDocument = Record<string, any>;

function policyWith(edit: (doc: PolicyDocument) => void): Policy {
  const doc = parseYaml(EXAMPLE) as PolicyDocument;
  edit(doc);
  return validatePolicy(doc);
}

function problemsOf(edit: (doc: PolicyDocument) => void): string[] {
  try {
    policyWith(edit);
    return [];
  } catch (error) {
    if (error instanceof PolicyError) return error.problems;
    throw error;
  }
}

/** A group source whose answers a test changes, counting its calls and failing on demand. */
class ScriptedGroups implements GroupSource {
  calls = 0;
  failing: Error | undefined;
  constructor(public groups: Record<string, string[]>) {}
  async members(name: string): Promise<string[]> {
    this.calls++;
    if (this.failing) throw this.failing;
    const members = this.groups[name];
    if (!members) throw new GroupNotFoundError(`identityCenterGroup:${name}`);
    return members;
  }
}

describe('directory group selectors in the policy', () => {
  it('accepts identityCenterGroup requesters and approvers, and slackUserGroup approvers', () => {
    const policy = policyWith((d) => {
      d.rules[0].requesters = ['identityCenterGroup:Production Engineers'];
      d.rules[0].approval.approvers = ['identityCenterGroup:SRE', 'slackUserGroup:oncall-sre'];
    });
    expect(directorySelectors(policy)).toEqual([
      'identityCenterGroup:Production Engineers',
      'identityCenterGroup:SRE',
      'slackUserGroup:oncall-sre',
    ]);
  });

  it('refuses a Slack user group as requesters, and malformed selectors, with their paths', () => {
    expect(problemsOf((d) => (d.rules[0].requesters = ['slackUserGroup:oncall-sre']))).toEqual([
      'rules[0].requesters[0]: slackUserGroup selects approvers only',
    ]);
    expect(problemsOf((d) => (d.rules[0].approval.approvers = ['identityCenterGroup:']))).toEqual([
      expect.stringMatching(/^rules\[0\]\.approval\.approvers\[0\]: must be an email/),
    ]);
    expect(problemsOf((d) => (d.rules[0].approval.approvers = ['slackUserGroup:On Call']))).toEqual([
      expect.stringMatching(/^rules\[0\]\.approval\.approvers\[0\]: must be an email/),
    ]);
  });

  it('answers requester and approver questions from the resolved groups', () => {
    const compiled = policyWith((d) => {
      d.rules[0].requesters = ['identityCenterGroup:Engineers'];
      d.rules[0].approval.approvers = ['identityCenterGroup:SRE'];
      d.rules[0].approval.allowSelfApproval = false;
    });
    const policy: Policy = {
      ...compiled,
      directory: staticDirectory({
        'identityCenterGroup:Engineers': ['erin@example.com'],
        'identityCenterGroup:SRE': ['carol@example.com', 'erin@example.com'],
      }),
    };
    const rule = policy.rules[0];
    if (!rule || rule.approval === 'none') throw new Error('fixture');
    expect(approversFor(policy, rule, 'erin@example.com')).toEqual(['carol@example.com']);
    expect(checkApprover(policy, rule, 'carol@example.com', 'erin@example.com')).toEqual({
      authorized: true,
    });
    expect(checkApprover(policy, rule, 'mallory@example.com', 'erin@example.com')).toEqual({
      authorized: false,
      reason: 'not-approver',
    });
    expect(optionsFor(policy, 'erin@example.com').some((o) => o.ruleName === rule.name)).toBe(true);
    expect(optionsFor(policy, 'mallory@example.com').some((o) => o.ruleName === rule.name)).toBe(false);
  });

  it('fails loudly, not as "nobody", when a directory group is asked with no directory wired', () => {
    const policy = policyWith((d) => (d.rules[0].approval.approvers = ['identityCenterGroup:SRE']));
    const rule = policy.rules[0];
    if (!rule || rule.approval === 'none') throw new Error('fixture');
    expect(() => approversFor(policy, rule, 'erin@example.com')).toThrow(/no directory answers/);
  });
});

describe('DirectoryCache', () => {
  const SRE = 'identityCenterGroup:SRE';
  let clock: ManualClock;
  let groups: ScriptedGroups;
  let cache: DirectoryCache;
  let stale: string[];
  beforeEach(() => {
    clock = new ManualClock();
    groups = new ScriptedGroups({ SRE: ['Carol@Example.com', 'dave@example.com'] });
    stale = [];
    cache = new DirectoryCache({ identityCenterGroup: groups }, clock, DEFAULT_DIRECTORY_CACHE, (s) =>
      stale.push(s),
    );
  });

  it('reads a group once per TTL, and a removal takes effect when the TTL has passed', async () => {
    await cache.refresh([SRE]);
    expect(cache.membersOf(SRE)).toEqual(['carol@example.com', 'dave@example.com']);
    groups.groups.SRE = ['dave@example.com'];
    clock.advance(DEFAULT_DIRECTORY_CACHE.ttlMs - 1);
    await cache.refresh([SRE]);
    expect(groups.calls).toBe(1);
    expect(cache.membersOf(SRE)).toContain('carol@example.com');
    clock.advance(1);
    await cache.refresh([SRE]);
    expect(groups.calls).toBe(2);
    expect(cache.membersOf(SRE)).toEqual(['dave@example.com']);
  });

  it('keeps the last answer while the directory fails, up to maxStale, then refuses to guess', async () => {
    await cache.refresh([SRE]);
    groups.failing = Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' });
    clock.advance(DEFAULT_DIRECTORY_CACHE.ttlMs);
    await cache.refresh([SRE]);
    expect(cache.membersOf(SRE)).toEqual(['carol@example.com', 'dave@example.com']);
    expect(stale).toEqual([SRE]);
    clock.advance(DEFAULT_DIRECTORY_CACHE.maxStaleMs - DEFAULT_DIRECTORY_CACHE.ttlMs);
    const refused = cache.refresh([SRE]);
    await expect(refused).rejects.toBeInstanceOf(DirectoryUnavailableError);
    await expect(refused).rejects.toMatchObject({ name: 'RetryableError' });
    expect(() => cache.membersOf(SRE)).toThrow(/not resolved/);
  });

  it('a refresh that fails keeps what a concurrent one stored meanwhile (invocations sharing a process)', async () => {
    const calls: Array<{ resolve: (value: string[]) => void; reject: (error: Error) => void }> = [];
    const pending = () => new Promise<string[]>((resolve, reject) => calls.push({ resolve, reject }));
    const source = { members: pending, groupsOf: pending };
    const shared = new DirectoryCache({ identityCenterGroup: source }, clock);
    const settle = () => new Promise((resolve) => setImmediate(resolve));

    const failing = shared.refresh([SRE]);
    const answering = shared.refresh([SRE]);
    await settle();
    calls[1]?.resolve(['carol@example.com']);
    await answering;
    calls[0]?.reject(new Error('Rate exceeded'));
    await expect(failing).resolves.toBeUndefined();
    expect(shared.membersOf(SRE)).toEqual(['carol@example.com']);

    const personFailing = shared.refreshFor(['dave@example.com'], [SRE]);
    const personAnswering = shared.refreshFor(['dave@example.com'], [SRE]);
    await settle();
    calls[3]?.resolve(['SRE']);
    await personAnswering;
    calls[2]?.reject(new Error('Rate exceeded'));
    await expect(personFailing).resolves.toBeUndefined();
    expect(shared.hasMember(SRE, 'dave@example.com')).toBe(true);
  });

  it('with no answer at all, a directory error is retryable rather than "nobody may approve"', async () => {
    groups.failing = new Error('socket hang up');
    await expect(cache.refresh([SRE])).rejects.toThrow(/did not answer for identityCenterGroup:SRE/);
  });

  it('a group the directory does not have selects nobody, and is asked again after the TTL', async () => {
    await cache.refresh(['identityCenterGroup:Nope']);
    expect(cache.membersOf('identityCenterGroup:Nope')).toEqual([]);
    groups.groups.Nope = ['erin@example.com'];
    clock.advance(DEFAULT_DIRECTORY_CACHE.ttlMs);
    await cache.refresh(['identityCenterGroup:Nope']);
    expect(cache.membersOf('identityCenterGroup:Nope')).toEqual(['erin@example.com']);
  });

  it('leaves a kind it has no source for unresolved, so asking about it is a wiring error', async () => {
    await cache.refresh([SRE, 'slackUserGroup:oncall-sre']);
    expect(() => cache.membersOf('slackUserGroup:oncall-sre')).toThrow(/not resolved/);
  });

  it('withDirectory refreshes only the groups the policy names, and none for a policy without', async () => {
    const plain = policyWith(() => {});
    const none = withDirectory(plain, cache);
    await none.refresh.all();
    await none.refresh.forPeople(['carol@example.com']);
    expect(none.policy).toBe(plain);
    expect(groups.calls).toBe(0);
    const named = withDirectory(
      policyWith((d) => (d.rules[0].approval.approvers = [SRE])),
      cache,
    );
    await named.refresh.all();
    expect(groups.calls).toBe(1);
    expect(named.policy.directory?.membersOf(SRE)).toHaveLength(2);
    expect(compilePolicy(named.policy)).not.toContain('directory');
  });
});

/** A source that also answers "which of these groups is this person in" (as identitystore can). */
class PersonAwareGroups extends ScriptedGroups {
  personCalls = 0;
  async groupsOf(email: string, names: readonly string[]): Promise<string[]> {
    this.personCalls++;
    if (this.failing) throw this.failing;
    return names.filter((name) => this.groups[name]?.map((m) => m.toLowerCase()).includes(email));
  }
}

describe("DirectoryCache: a person's own groups", () => {
  const SRE = 'identityCenterGroup:SRE';
  const ADMINS = 'identityCenterGroup:Admins';
  let clock: ManualClock;
  let groups: PersonAwareGroups;
  let cache: DirectoryCache;
  beforeEach(() => {
    clock = new ManualClock();
    groups = new PersonAwareGroups({ SRE: ['carol@example.com'], Admins: ['dave@example.com'] });
    cache = new DirectoryCache({ identityCenterGroup: groups }, clock);
  });

  it('answers membership from one call per person, never reading the member lists', async () => {
    await cache.refreshFor(['Carol@example.com', 'erin@example.com'], [SRE, ADMINS]);
    expect(groups.personCalls).toBe(2);
    expect(groups.calls).toBe(0);
    expect(cache.hasMember(SRE, 'carol@example.com')).toBe(true);
    expect(cache.hasMember(ADMINS, 'carol@example.com')).toBe(false);
    expect(cache.hasMember(SRE, 'erin@example.com')).toBe(false);
    // Nobody asked about dave: a wiring error, not "not a member".
    expect(() => cache.hasMember(ADMINS, 'dave@example.com')).toThrow(/not resolved for dave@example.com/);
    // Whom to ask (member lists) is a different question.
    expect(() => cache.membersOf(SRE)).toThrow(/not resolved/);
  });

  it('asks again after the TTL, keeps the last answer while the directory fails, and takes the younger of two answers', async () => {
    await cache.refreshFor(['carol@example.com'], [SRE]);
    groups.groups.SRE = [];
    clock.advance(DEFAULT_DIRECTORY_CACHE.ttlMs - 1);
    await cache.refreshFor(['carol@example.com'], [SRE]);
    expect(groups.personCalls).toBe(1);
    expect(cache.hasMember(SRE, 'carol@example.com')).toBe(true);
    clock.advance(1);
    groups.failing = new Error('ThrottlingException');
    await cache.refreshFor(['carol@example.com'], [SRE]);
    expect(cache.hasMember(SRE, 'carol@example.com')).toBe(true);
    groups.failing = undefined;
    // A member list read now (carol removed) is younger than her own answer: it wins.
    clock.advance(1);
    await cache.refresh([SRE]);
    expect(cache.hasMember(SRE, 'carol@example.com')).toBe(false);
    clock.advance(DEFAULT_DIRECTORY_CACHE.maxStaleMs);
    groups.failing = new Error('socket hang up');
    await expect(cache.refreshFor(['carol@example.com'], [SRE])).rejects.toBeInstanceOf(
      DirectoryUnavailableError,
    );
  });

  it('falls back to member lists for a source that cannot answer per person (Slack user groups)', async () => {
    const slack = new ScriptedGroups({ 'oncall-sre': ['carol@example.com'] });
    const both = new DirectoryCache({ identityCenterGroup: groups, slackUserGroup: slack }, clock);
    await both.refreshFor(['carol@example.com'], [SRE, 'slackUserGroup:oncall-sre']);
    expect(slack.calls).toBe(1);
    expect(both.hasMember('slackUserGroup:oncall-sre', 'carol@example.com')).toBe(true);
    expect(both.hasMember(SRE, 'carol@example.com')).toBe(true);
  });
});

/** An organization: root r-ab12 → Workloads → Production (2 accounts), Non-production (1), and a suspended one. */
function organization(): OrganizationDirectory & { calls: string[] } {
  const tree: Record<
    string,
    { ous: string[]; accounts: Array<{ id: string; name: string; tags: Record<string, string> }> }
  > = {
    'r-ab12': { ous: ['ou-ab12-workload'], accounts: [] },
    'ou-ab12-workload': { ous: ['ou-ab12-prod0000', 'ou-ab12-nonprod0'], accounts: [] },
    'ou-ab12-prod0000': {
      ous: [],
      accounts: [
        { id: '444444444444', name: 'payments-prod', tags: { env: 'prod' } },
        { id: '555555555555', name: 'search-prod', tags: { env: 'prod', pci: 'yes' } },
      ],
    },
    'ou-ab12-nonprod0': {
      ous: [],
      accounts: [{ id: '666666666666', name: 'payments-dev', tags: { env: 'dev' } }],
    },
  };
  const calls: string[] = [];
  const all = () => Object.values(tree).flatMap((n) => n.accounts);
  const under = (id: string): Array<{ id: string; name: string }> => {
    const node = tree[id];
    if (!node) throw new Error(`${id} is not an OU or root of the organization`);
    return [...node.accounts, ...node.ous.flatMap(under)];
  };
  return {
    calls,
    accountsUnder: async (id) => {
      calls.push(`under ${id}`);
      return under(id).map(({ id, name }) => ({ id, name }));
    },
    accountsTagged: async (key, value) => {
      calls.push(`tag ${key}=${value}`);
      return all()
        .filter((a) => a.tags[key] === value)
        .map(({ id, name }) => ({ id, name }));
    },
    account: async (id) => all().find((a) => a.id === id),
  };
}

describe('account selectors, resolved when the policy is compiled', () => {
  it('expands ou: (nested OUs included) and tag:, takes exceptAccounts out, and names accounts from Organizations', async () => {
    const policy = policyWith((d) => {
      d.rules[0].accounts = ['ou:ou-ab12-workload'];
      d.rules[0].exceptAccounts = ['tag:pci=yes'];
      d.rules[1].accounts = ['tag:env=prod', 'production'];
    });
    const org = organization();
    const resolved = await resolvePolicyAccounts(policy, org);
    const [first, second] = resolved.rules;
    if (!first || !second) throw new Error('fixture');
    expect(first.accounts.sort()).toEqual(['444444444444', '666666666666']);
    expect(
      ruleAccounts(resolved, first)
        .map((a) => a.name)
        .sort(),
    ).toEqual(['payments-dev', 'payments-prod']);
    const production = policy.accounts.find((a) => a.name === 'production')?.id;
    expect(second.accounts.sort()).toEqual(['444444444444', '555555555555', production].sort());
    expect(org.calls).toEqual(['under ou-ab12-workload', 'tag pci=yes', 'tag env=prod']);
    // The compiled policy names every account a rule reaches: IAM is generated from this list.
    expect(resolved.accounts.map((a) => a.id)).toEqual(
      expect.arrayContaining(['444444444444', '555555555555', '666666666666']),
    );
    const verdict = evaluateRequest(resolved, {
      requesterEmail: 'alice@example.com',
      accountId: '555555555555',
      permissionSet: resolved.permissionSets[0]?.arn ?? '',
      durationMinutes: 30,
    });
    expect(verdict.allowed || verdict.field !== 'account').toBe(true);
    expect(compilePolicy(resolved)).toContain('"search-prod"');
  });

  it('refuses to compile a policy whose OUs were not resolved, and names what it needs', async () => {
    const policy = policyWith((d) => (d.rules[0].accounts = ['ou:ou-ab12-workload']));
    expect(() => compilePolicy(policy)).toThrow(/resolve the accounts first/);
    await expect(resolvePolicyAccounts(policy, undefined)).rejects.toMatchObject({
      problems: [
        expect.stringMatching(
          /^rules\[0\]\.accounts\[0\]: "ou:ou-ab12-workload" is resolved through the organization/,
        ),
      ],
    });
  });

  it('reports an OU that does not exist, a rule left with no account and a malformed selector, with paths', async () => {
    expect(problemsOf((d) => (d.rules[0].accounts = ['ou:prod']))).toEqual([
      'rules[0].accounts[0]: "ou:prod" is not an OU or root id (ou:ou-<root>-<ou> or ou:r-<root>)',
    ]);
    expect(problemsOf((d) => (d.rules[0].accounts = ['tag:env']))).toEqual([
      'rules[0].accounts[0]: "tag:env" is not a tag selector (tag:<key>=<value>)',
    ]);
    const missing = policyWith((d) => (d.rules[0].accounts = ['ou:ou-ab12-gone0000']));
    await expect(resolvePolicyAccounts(missing, organization())).rejects.toMatchObject({
      problems: ['rules[0].accounts[0]: ou-ab12-gone0000 is not an OU or root of the organization'],
    });
    const empty = policyWith((d) => {
      d.rules[0].accounts = ['ou:ou-ab12-nonprod0'];
      d.rules[0].exceptAccounts = ['666666666666'];
    });
    await expect(resolvePolicyAccounts(empty, organization())).rejects.toMatchObject({
      problems: ['rules[0].accounts: selects no account'],
    });
  });

  it('takes an unlisted account id from Organizations, and refuses one the organization does not have', async () => {
    const byId = policyWith((d) => (d.rules[0].accounts = ['666666666666']));
    const resolved = await resolvePolicyAccounts(byId, organization());
    expect(resolved.accounts.find((a) => a.id === '666666666666')?.name).toBe('payments-dev');
    const unknown = policyWith((d) => (d.rules[0].accounts = ['999999999999']));
    await expect(resolvePolicyAccounts(unknown, organization())).rejects.toMatchObject({
      problems: ['rules[0].accounts[0]: account 999999999999 is not an active account of the organization'],
    });
  });
});
