import {
  type DirectoryAccount,
  type DirectoryFile,
  type DirectoryFileInput,
  type DirectoryUnit,
  type DirectoryUser,
  parseDirectoryDocument,
} from '../../functions/core/directory-file';
import type { Policy } from '../../functions/core/policy';
import { type PolicyInput, validatePolicy } from '../../functions/core/policy-file';
import { seededRandom } from '../../local/identity-center/support';

// A directory at the scale of a large organization, and a policy over it, generated from a seed
// (the same seed gives the same file, byte for byte): accounts in nested OUs with env and team
// tags, Identity Center users, groups whose sizes fall off like a real company's (a few
// company-wide groups of hundreds or thousands, a long tail of team groups), and ~40 rules naming
// groups, OUs, tags and carve-outs. The directory is the directory file's format
// (functions/core/directory-file.ts), so it seeds the stand-ins and `fileDirectory` alike.

export interface DirectoryScale {
  accounts: number;
  units: number;
  /** OU nesting below the root; AWS allows five levels (Organizations quotas, "OU maximum nesting in a root"). */
  maxDepth: number;
  groups: number;
  users: number;
  teams: number;
  /** Teams that get their own on-call and self-service rules. */
  policyTeams: number;
  seed: number;
}

export const FULL_SCALE: DirectoryScale = {
  accounts: 2000,
  units: 150,
  maxDepth: 5,
  groups: 300,
  users: 5000,
  teams: 40,
  policyTeams: 12,
  seed: 14,
};

/** CI's smoke size (`--quick`). */
export const QUICK_SCALE: DirectoryScale = {
  accounts: 200,
  units: 30,
  maxDepth: 5,
  groups: 30,
  users: 500,
  teams: 6,
  policyTeams: 6,
  seed: 14,
};

const ROOT_ID = 'r-sc14';
const INSTANCE = 'ssoins-7223a1b2c3d4e5f6';
export const SCALE_IDENTITY_STORE_ID = 'd-9067a1b2c3';

export const SCALE_PERMISSION_SETS = {
  ReadOnly: `arn:aws:sso:::permissionSet/${INSTANCE}/ps-1a2b3c4d5e6f7a8b`,
  PowerUser: `arn:aws:sso:::permissionSet/${INSTANCE}/ps-9f8e7d6c5b4a3f2e`,
  AdministratorAccess: `arn:aws:sso:::permissionSet/${INSTANCE}/ps-0a0b0c0d0e0f0a0b`,
  Billing: `arn:aws:sso:::permissionSet/${INSTANCE}/ps-1b1b1b1b1b1b1b1b`,
  DataAccess: `arn:aws:sso:::permissionSet/${INSTANCE}/ps-2c2c2c2c2c2c2c2c`,
} as const;

/** Top-level OUs and the env tag their accounts carry (NonProduction: staging or dev). */
const BRANCHES = [
  { name: 'Production', env: ['prod'] },
  { name: 'NonProduction', env: ['staging', 'dev'] },
  { name: 'Sandbox', env: ['sandbox'] },
  { name: 'Infrastructure', env: ['shared'] },
  { name: 'Security', env: ['security'] },
  { name: 'Suspended', env: ['retired'] },
] as const;
const ENVS = ['prod', 'staging', 'dev', 'sandbox', 'shared', 'security'];

const TEAM_WORDS = [
  'payments',
  'checkout',
  'search',
  'identity',
  'ledger',
  'billing',
  'catalog',
  'pricing',
  'growth',
  'mobile',
  'web',
  'data',
  'ml',
  'risk',
  'fraud',
  'support',
  'logistics',
  'inventory',
  'orders',
  'notify',
  'media',
  'maps',
  'ads',
  'infra',
  'network',
  'storage',
  'compute',
  'edge',
  'observe',
  'release',
  'quality',
  'docs',
  'partner',
  'loyalty',
  'tax',
  'treasury',
  'hr',
  'legal',
  'crm',
  'chat',
];
const FIRST = [
  'ada',
  'bo',
  'cy',
  'di',
  'ed',
  'fay',
  'gus',
  'hal',
  'ivy',
  'jo',
  'kai',
  'lu',
  'mo',
  'ned',
  'oli',
  'pia',
];
const LAST = [
  'stone',
  'rivers',
  'park',
  'moss',
  'hart',
  'lane',
  'frost',
  'wells',
  'cole',
  'finch',
  'drake',
  'shaw',
];

/** Company-wide groups first (the largest), then small approver groups, then team groups. */
const LARGE_GROUPS = ['Engineering', 'Developers', 'SRE', 'Contractors', 'DataScience'];
const SMALL_GROUPS = ['Security', 'SecurityLeads', 'PlatformAdmins', 'FinOps', 'Auditors'];
const TEAM_ROLES = ['devs', 'oncall', 'leads', 'admins', 'readers', 'data', 'qa'];

export interface ScaleDirectory {
  scale: DirectoryScale;
  file: DirectoryFile;
  teams: string[];
  /** OU id → depth (1 = directly under the root). */
  depth: Map<string, number>;
  /** Top-level OU ids by branch name. */
  branches: Record<(typeof BRANCHES)[number]['name'], string>;
}

/** The directory at `scale`, validated by the directory file's own parser. */
export function generateDirectory(scale: DirectoryScale = FULL_SCALE): ScaleDirectory {
  const random = seededRandom(scale.seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  const teams = Array.from({ length: scale.teams }, (_, i) =>
    i < TEAM_WORDS.length ? (TEAM_WORDS[i] as string) : `team${i}`,
  );

  // The tree: the branches, then a chain to the deepest level (so the limit is exercised), then
  // every other OU under a random OU that still has room below it.
  const rootPart = ROOT_ID.slice(2);
  const units: DirectoryUnit[] = [];
  const depth = new Map<string, number>();
  const branchOf = new Map<string, (typeof BRANCHES)[number]>();
  const addUnit = (name: string, parent: string, branch: (typeof BRANCHES)[number]) => {
    const id = `ou-${rootPart}-${(units.length + 1).toString(36).padStart(8, '0')}`;
    const level = parent === ROOT_ID ? 1 : (depth.get(parent) ?? 0) + 1;
    units.push({ id, name, parent, tags: level === 1 ? { branch: branch.name.toLowerCase() } : {} });
    depth.set(id, level);
    branchOf.set(id, branch);
    return id;
  };
  const branchIds = Object.fromEntries(
    BRANCHES.slice(0, scale.units).map((branch) => [branch.name, addUnit(branch.name, ROOT_ID, branch)]),
  ) as ScaleDirectory['branches'];
  let chainParent = branchIds.NonProduction;
  for (let level = 2; level <= scale.maxDepth && units.length < scale.units; level++)
    chainParent = addUnit(`${pick(teams)}-${units.length}`, chainParent, BRANCHES[1]);
  while (units.length < scale.units) {
    const open = units.filter(
      (u) => (depth.get(u.id) ?? 0) < scale.maxDepth && branchOf.get(u.id)?.name !== 'Suspended',
    );
    const parent = pick(open);
    addUnit(`${pick(teams)}-${units.length}`, parent.id, branchOf.get(parent.id) ?? BRANCHES[0]);
  }

  // Accounts: mostly in an OU of a live branch, a few in the root, a few closed (in Suspended,
  // SUSPENDED; elsewhere PENDING_CLOSURE). The env tag follows the branch, with some drift.
  const live = units.filter((u) => branchOf.get(u.id)?.name !== 'Suspended');
  const accounts: DirectoryAccount[] = [];
  for (let i = 0; i < scale.accounts; i++) {
    const roll = random();
    const suspended = roll < 0.015;
    const parent = suspended ? branchIds.Suspended : roll < 0.045 ? ROOT_ID : pick(live).id;
    const branch = branchOf.get(parent);
    const env = random() < 0.03 || !branch ? pick(ENVS) : pick(branch.env);
    const team = pick(teams);
    const tags: Record<string, string> = { env };
    if (random() > 0.02) tags.team = team;
    accounts.push({
      id: String(200_000_000_000 + i * 7919),
      name: `${team}-${env}-${String(i).padStart(4, '0')}`,
      parent,
      tags,
      state: suspended ? 'SUSPENDED' : random() < 0.005 ? 'PENDING_CLOSURE' : 'ACTIVE',
    });
  }

  const users: DirectoryUser[] = Array.from({ length: scale.users }, (_, i) => {
    const first = pick(FIRST);
    const last = pick(LAST);
    const userName = `${first}.${last}${String(i).padStart(4, '0')}`;
    // Some IdPs keep the capitals people typed: the product compares emails in lower case.
    const email =
      i % 50 === 7
        ? `${first[0]?.toUpperCase()}${first.slice(1)}.${last}${i}@Example.com`
        : `${userName}@example.com`;
    return { userName, email, displayName: `${first} ${last} ${i}` };
  });

  // Groups: names, then sizes from a Zipf-like weight by rank (the company-wide groups rank
  // first, the approver groups last, team groups shuffled between), each user joining 2 to 5.
  const names = [...LARGE_GROUPS, ...SMALL_GROUPS];
  for (const role of TEAM_ROLES) for (const team of teams) names.push(`${team}-${role}`);
  for (let n = 1; names.length < scale.groups; n++) names.push(`guild-${n}`);
  names.length = Math.min(names.length, scale.groups);
  const middle = names.slice(LARGE_GROUPS.length).filter((n) => !SMALL_GROUPS.includes(n));
  for (let i = middle.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [middle[i], middle[j]] = [middle[j] as string, middle[i] as string];
  }
  const ranked = [...LARGE_GROUPS, ...middle, ...SMALL_GROUPS].slice(0, names.length);
  const cumulative: number[] = [];
  let total = 0;
  for (let rank = 0; rank < ranked.length; rank++) {
    total += 1 / (rank + 1);
    cumulative.push(total);
  }
  const drawRank = () => {
    const target = random() * total;
    let lo = 0;
    let hi = cumulative.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((cumulative[mid] ?? 0) < target) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  const members = ranked.map(() => [] as string[]);
  const joined = new Map<string, number>();
  for (const user of users) {
    const k = Math.min(ranked.length, 2 + Math.floor(random() * 4));
    const chosen = new Set<number>();
    while (chosen.size < k) chosen.add(drawRank());
    for (const rank of chosen) members[rank]?.push(user.userName);
    joined.set(user.userName, k);
  }
  // No group is empty: a group the IdP syncs has someone in it.
  for (const list of members) {
    while (list.length < 2) {
      const user = pick(users);
      if (!list.includes(user.userName) && (joined.get(user.userName) ?? 0) < 5) {
        list.push(user.userName);
        joined.set(user.userName, (joined.get(user.userName) ?? 0) + 1);
      }
    }
  }
  const groups = names.map((displayName) => ({
    displayName,
    members: members[ranked.indexOf(displayName)] ?? [],
  }));

  const input: DirectoryFileInput = {
    instanceArn: `arn:aws:sso:::instance/${INSTANCE}`,
    identityStoreId: SCALE_IDENTITY_STORE_ID,
    users,
    groups,
    organization: { rootId: ROOT_ID, units },
    accounts,
    permissionSets: Object.entries(SCALE_PERMISSION_SETS).map(([name, arn]) => ({
      name,
      arn,
      sessionDuration: 'PT8H',
    })),
  };
  const file = parseDirectoryDocument(input, `generated directory (seed ${scale.seed})`);
  return { scale, file, teams, depth, branches: branchIds };
}

const group = (name: string) => `identityCenterGroup:${name}`;

/**
 * ~40 rules over the generated directory (fewer at the quick size), narrow rules first as the
 * first match decides: break-glass and named accounts, then per team an on-call rule (its
 * accounts by tag, approved by its leads or SRE) and a self-service rule (its accounts minus
 * production), then OU-wide, env-wide and organization-wide rules.
 */
export function scalePolicyInput(directory: ScaleDirectory): PolicyInput {
  const { file, teams, branches, depth } = directory;
  const groupNames = new Set(file.groups.map((g) => g.displayName));
  const has = (name: string) => groupNames.has(name);
  const active = file.accounts.filter((a) => a.state === 'ACTIVE');
  const prodAccounts = active.filter((a) => a.parent === branches.Production || a.tags.env === 'prod');
  const named = [
    { id: prodAccounts[0]?.id ?? '', name: 'production-core' },
    { id: prodAccounts[1]?.id ?? '', name: 'production-payments' },
    { id: active.find((a) => a.tags.env === 'security')?.id ?? active[2]?.id ?? '', name: 'security-audit' },
  ];
  const unlisted = active[active.length - 1]?.id ?? '';
  const root = `ou:${file.organization.rootId}`;
  const rules: PolicyInput['rules'] = [
    {
      name: 'break-glass-admin',
      requesters: [group('PlatformAdmins')],
      accounts: [root],
      permissionSets: ['AdministratorAccess'],
      maxDuration: '1h',
      approval: { approvers: [group('SecurityLeads')], timeout: '15m' },
      ticket: { required: true, pattern: '^(INC|CHG)-\\d+$' },
    },
    {
      name: 'finops-billing',
      requesters: [group('FinOps')],
      accounts: [root],
      exceptAccounts: [`ou:${branches.Sandbox}`],
      permissionSets: ['Billing'],
      maxDuration: '4h',
      approval: 'none',
    },
    {
      name: 'named-production-admin',
      requesters: [group('SRE')],
      accounts: ['production-core', 'production-payments'],
      permissionSets: ['AdministratorAccess', 'PowerUser'],
      maxDuration: '1h',
      approval: { approvers: [group('PlatformAdmins')] },
    },
    {
      name: 'audit-read',
      requesters: [group('Auditors'), group('Security')],
      accounts: ['security-audit', `ou:${branches.Security}`],
      permissionSets: ['ReadOnly'],
      maxDuration: '8h',
      approval: 'none',
    },
    {
      name: 'contractor-one-account',
      requesters: [group('Contractors')],
      accounts: [unlisted],
      permissionSets: ['ReadOnly'],
      maxDuration: '2h',
      approval: { approvers: [group('Security')] },
    },
  ];
  const policyTeams = teams
    .filter((t) => has(`${t}-devs`) && has(`${t}-oncall`) && has(`${t}-leads`))
    .slice(0, directory.scale.policyTeams);
  for (const team of policyTeams)
    rules.push({
      name: `${team}-oncall`,
      requesters: [group(`${team}-oncall`)],
      accounts: [`tag:team=${team}`],
      exceptAccounts: ['tag:env=sandbox'],
      permissionSets: ['ReadOnly', 'PowerUser'],
      maxDuration: '1h',
      approval: { approvers: [group(`${team}-leads`), group('SRE')] },
    });
  for (const team of policyTeams)
    rules.push({
      name: `${team}-self-service`,
      requesters: [group(`${team}-devs`), group(`${team}-leads`)],
      accounts: [`tag:team=${team}`],
      exceptAccounts: ['tag:env=prod', 'production-core'],
      permissionSets: ['ReadOnly', 'PowerUser'],
      maxDuration: '8h',
      approval: 'none',
    });
  // OU-wide: the second level of NonProduction, each a department's accounts, nested OUs included.
  const departments = file.organization.units
    .filter((u) => u.parent === branches.NonProduction && depth.get(u.id) === 2)
    .slice(0, 6);
  for (const unit of departments)
    rules.push({
      name: `department-${unit.name}`,
      requesters: [group('Developers')],
      accounts: [`ou:${unit.id}`],
      exceptAccounts: ['tag:env=prod'],
      permissionSets: ['ReadOnly', 'PowerUser'],
      maxDuration: '4h',
      approval: 'none',
    });
  rules.push(
    {
      name: 'data-access-production',
      requesters: [group('DataScience')],
      accounts: [`ou:${branches.Production}`],
      exceptAccounts: ['production-payments'],
      permissionSets: ['DataAccess'],
      maxDuration: '4h',
      approval: { approvers: [group(`${policyTeams[0] ?? teams[0]}-leads`), group('Security')] },
    },
    {
      name: 'sre-production-read',
      requesters: [group('SRE')],
      accounts: ['tag:env=prod'],
      permissionSets: ['ReadOnly'],
      maxDuration: '2h',
      approval: { approvers: [group('PlatformAdmins')], allowSelfApproval: false },
    },
    {
      name: 'engineering-staging-read',
      requesters: [group('Engineering')],
      accounts: ['tag:env=staging'],
      permissionSets: ['ReadOnly'],
      maxDuration: '8h',
      approval: 'none',
    },
    {
      name: 'engineering-sandbox',
      requesters: [group('Engineering'), group('Developers')],
      accounts: [`ou:${branches.Sandbox}`],
      permissionSets: ['PowerUser', 'AdministratorAccess'],
      maxDuration: '12h',
      approval: 'none',
    },
    {
      name: 'security-read-everything',
      requesters: [group('Security')],
      accounts: [root],
      permissionSets: ['ReadOnly'],
      maxDuration: '12h',
      approval: 'none',
    },
    {
      name: 'everyone-sandbox-read',
      requesters: ['*@example.com'],
      accounts: [`ou:${branches.Sandbox}`],
      permissionSets: ['ReadOnly'],
      maxDuration: '2h',
      approval: 'none',
    },
  );
  return {
    version: 1,
    identityCenter: {
      instanceArn: file.instanceArn,
      identityStoreId: file.identityStoreId,
      region: 'us-east-1',
    },
    slack: { approvalChannel: 'C0APPROVALS' },
    accounts: named,
    permissionSets: Object.entries(SCALE_PERMISSION_SETS).map(([name, arn]) => ({ name, arn })),
    rules,
  };
}

/** The policy, validated by the product's own schema (its accounts not yet resolved). */
export function scalePolicy(directory: ScaleDirectory): Policy {
  return validatePolicy(scalePolicyInput(directory));
}
