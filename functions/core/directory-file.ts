import { parse as parseYaml } from 'yaml';
import * as z from 'zod';
import {
  GroupNotFoundError,
  type GroupSource,
  IDENTITY_CENTER_GROUP,
  type OrganizationAccount,
  type OrganizationDirectory,
  SLACK_USER_GROUP,
} from './directory';
import { slackEmailOf, type UserMapping } from './identity-mapping';

// The directory file (config/sandbox.yaml): the organization written down, for what runs without
// AWS. The local stand-ins are seeded from it (Identity Center users, groups, permission sets,
// assignments; Organizations roots, OUs, accounts and tags; Slack personas and user groups), and
// the policy CLI and synth can read it as an offline directory (`fileDirectory`) that answers as
// the adapters answer over the real services. Like policy-file.ts this runs at synth, in the CLI,
// the sandbox and the tests, never in a Lambda (zod classic and yaml stay out of the bundles).
//
// The sandbox file adds the console's own parts (channels, persona roles) on top of this schema
// (local/sandbox/sandbox-file.ts); both go through `parseDirectoryDocument`, the one parser.

// Patterns follow the AWS API references, loosened where the sandbox gains nothing from strictness.
export const INSTANCE_ARN_PATTERN = /^arn:aws(-[a-z]+)*:sso:::instance\/(sso)?ins-[a-zA-Z0-9-.]{16}$/;
export const PERMISSION_SET_ARN_PATTERN =
  /^arn:aws(-[a-z]+)*:sso:::permissionSet\/(sso)?ins-[a-zA-Z0-9-.]{16}\/ps-[a-zA-Z0-9-./]{16}$/;
export const ACCOUNT_ID_PATTERN = /^\d{12}$/;
export const IDENTITY_STORE_ID_PATTERN =
  /^d-[0-9a-f]{10}$|^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
// Organizations API reference, ListChildren ParentId: a root is "r-" and 4 to 32 lowercase
// letters or digits; an OU is "ou-", the 4 to 32 of the root it is in, "-", 8 to 32 more.
// https://docs.aws.amazon.com/organizations/latest/APIReference/API_ListChildren.html
export const ROOT_ID_PATTERN = /^r-[0-9a-z]{4,32}$/;
export const OU_ID_PATTERN = /^ou-[0-9a-z]{4,32}-[0-9a-z]{8,32}$/;
export const SLACK_USER_ID_PATTERN = /^[UW][A-Z0-9]{2,}$/;
export const SLACK_USER_GROUP_ID_PATTERN = /^S[A-Z0-9]{2,}$/;
/** The root of a file without an `organization` section: every account sits in it. */
export const DEFAULT_ROOT_ID = 'r-0000';

/** Organizations account states (API_Account `State`); only ACTIVE accounts are ever selected. */
export const ACCOUNT_STATES = [
  'PENDING_ACTIVATION',
  'ACTIVE',
  'SUSPENDED',
  'PENDING_CLOSURE',
  'CLOSED',
] as const;
export type AccountState = (typeof ACCOUNT_STATES)[number];

const externalIdSchema = z.object({ issuer: z.string().min(1), id: z.string().min(1) }).strict();

const userSchema = z.object({
  userId: z.string().min(1).optional(),
  userName: z.string().min(1),
  email: z.email(),
  displayName: z.string().min(1),
  externalId: externalIdSchema.optional(),
});

const groupSchema = z
  .object({
    displayName: z.string().min(1).max(1024),
    groupId: z.string().min(1).optional(),
    description: z.string().optional(),
    externalId: externalIdSchema.optional(),
    /** Members by userName. */
    members: z.array(z.string().min(1)).default([]),
  })
  .strict();

// Organizations tag limits (API_Tag): key 1-128 characters, value 0-256.
const tagsSchema = z.record(z.string().min(1).max(128), z.string().max(256));
const parentIdSchema = z
  .string()
  .regex(
    new RegExp(`${ROOT_ID_PATTERN.source}|${OU_ID_PATTERN.source}`),
    'must be a root (r-…) or OU (ou-…-…) id',
  );

const unitSchema = z
  .object({
    id: z.string().regex(OU_ID_PATTERN, 'must be an OU id like ou-ab12-abcd1234'),
    name: z.string().min(1).max(128),
    parent: parentIdSchema,
    tags: tagsSchema.default({}),
  })
  .strict();

const organizationSchema = z
  .object({
    rootId: z.string().regex(ROOT_ID_PATTERN, 'must be a root id like r-ab12'),
    units: z.array(unitSchema).default([]),
  })
  .strict();

const accountSchema = z.object({
  id: z.string().regex(ACCOUNT_ID_PATTERN, 'must be 12 digits'),
  name: z.string().min(1),
  /** The root or OU the account is in; default the root. */
  parent: parentIdSchema.optional(),
  tags: tagsSchema.default({}),
  /** Default ACTIVE. */
  state: z.enum(ACCOUNT_STATES).default('ACTIVE'),
  email: z.email().optional(),
});

const permissionSetSchema = z.object({
  name: z.string().min(1),
  arn: z.string().regex(PERMISSION_SET_ARN_PATTERN),
  // ISO-8601 duration, as DescribePermissionSet returns it.
  sessionDuration: z
    .string()
    .regex(/^PT(\d+H)?(\d+M)?$/)
    .optional(),
  description: z.string().optional(),
});

const assignmentSchema = z
  .object({
    accountId: z.string().regex(ACCOUNT_ID_PATTERN),
    permissionSetArn: z.string().regex(PERMISSION_SET_ARN_PATTERN),
    principalId: z.string().min(1).optional(),
    email: z.email().optional(),
    principalType: z.literal('USER').default('USER'),
  })
  .refine((a) => a.principalId !== undefined || a.email !== undefined, {
    message: 'an assignment needs principalId or email',
  });

/** Who the directory knows in Slack (the sandbox adds role and description). */
export const directoryPersonaSchema = z.object({
  slackUserId: z.string().regex(SLACK_USER_ID_PATTERN, 'must be a Slack user id like U0ALICE'),
  name: z.string().min(1),
  realName: z.string().min(1).optional(),
  email: z.email(),
});

const slackUserGroupSchema = z
  .object({
    id: z.string().regex(SLACK_USER_GROUP_ID_PATTERN, 'must be a Slack user group id like S0ONCALL'),
    // Slack handles: lower-case letters, digits, hyphens, periods and underscores.
    handle: z.string().regex(/^[a-z0-9][a-z0-9._-]*$/, 'must be a handle like oncall-sre'),
    name: z.string().min(1),
    /** Members by Slack user id (personas). */
    members: z.array(z.string().regex(SLACK_USER_ID_PATTERN, 'must be a Slack user id')).default([]),
  })
  .strict();

/** The directory's Slack side; other members (the sandbox's channels) are the sandbox file's. */
export const directorySlackSchema = z.object({
  userGroups: z.array(slackUserGroupSchema).default([]),
});

/**
 * The directory file. Not strict at the top level: the sandbox file extends it with the console's
 * sections. Cross-references are checked by `parseDirectoryDocument`, not by the schema, so the
 * sandbox can extend it.
 */
export const directoryFileSchema = z.object({
  instanceArn: z.string().regex(INSTANCE_ARN_PATTERN),
  identityStoreId: z.string().regex(IDENTITY_STORE_ID_PATTERN),
  users: z.array(userSchema).default([]),
  /** Identity Center groups (identitystore), members by userName. */
  groups: z.array(groupSchema).default([]),
  /** The organization's tree; absent: one root, DEFAULT_ROOT_ID, holding every account. */
  organization: organizationSchema.default({ rootId: DEFAULT_ROOT_ID, units: [] }),
  accounts: z.array(accountSchema).default([]),
  permissionSets: z.array(permissionSetSchema).default([]),
  /** Permanent assignments that exist before any request. */
  assignments: z.array(assignmentSchema).default([]),
  personas: z.array(directoryPersonaSchema).default([]),
  slack: directorySlackSchema.default({ userGroups: [] }),
});

export type DirectoryFile = z.infer<typeof directoryFileSchema>;
/** What callers may write: defaults (empty lists, the root, principalType) filled in by the schema. */
export type DirectoryFileInput = z.input<typeof directoryFileSchema>;
export type DirectoryUser = DirectoryFile['users'][number];
export type DirectoryGroup = DirectoryFile['groups'][number];
export type DirectoryAccount = DirectoryFile['accounts'][number];
export type DirectoryUnit = DirectoryFile['organization']['units'][number];

/**
 * Validates a parsed document against `schema` (the directory file's, or one extending it), then
 * its cross-references. Every problem names its path; the error names the source.
 */
export function parseDirectoryDocument<S extends z.ZodType<DirectoryFile>>(
  document: unknown,
  source: string,
  schema: S,
): z.infer<S>;
export function parseDirectoryDocument(document: unknown, source: string): DirectoryFile;
export function parseDirectoryDocument(
  document: unknown,
  source: string,
  schema: z.ZodType<DirectoryFile> = directoryFileSchema,
): DirectoryFile {
  const parsed = schema.safeParse(document);
  if (!parsed.success) throw new Error(`invalid ${source}:\n${z.prettifyError(parsed.error)}`);
  const problems = directoryProblems(parsed.data);
  if (problems.length > 0)
    throw new Error(
      `invalid ${source}:\n${problems.map((p) => `✖ ${p.message}\n  → at ${formatPath(p.path)}`).join('\n')}`,
    );
  return parsed.data;
}

/** Parses the directory file's text (YAML; JSON is YAML too). Errors name `source` and the path. */
export function readDirectoryFile(text: string, source: string): DirectoryFile {
  return parseDirectoryDocument(parseText(text, source), source);
}

/** The document in a YAML or JSON text, or an error naming the source. */
export function parseText(text: string, source: string): unknown {
  try {
    return parseYaml(text);
  } catch (error) {
    throw new Error(`${source} is not valid YAML/JSON: ${error instanceof Error ? error.message : error}`);
  }
}

export interface DirectoryProblem {
  path: (string | number)[];
  message: string;
}

/** What the schema cannot see: duplicates, and names that point at nothing. */
export function directoryProblems(file: DirectoryFile): DirectoryProblem[] {
  const problems: DirectoryProblem[] = [];
  const problem = (path: (string | number)[], message: string) => problems.push({ path, message });
  const duplicates = <T>(
    items: readonly T[],
    key: (item: T) => string,
    path: (index: number) => (string | number)[],
    what: (item: T, first: number) => string,
  ) => {
    const seen = new Map<string, number>();
    items.forEach((item, index) => {
      const k = key(item);
      const first = seen.get(k);
      if (first === undefined) seen.set(k, index);
      else problem(path(index), what(item, first));
    });
  };

  // Identity Center requires every user name and email address to be unique and a user has one
  // email (IAM Identity Center User Guide, "Username and email address uniqueness";
  // identitystore API `Emails`: 1 to 1). A write that would break it is refused, so no GetUserId
  // can meet two users; a file that has two is refused here the same way.
  duplicates(
    file.users,
    (u) => u.userName.toLowerCase(),
    (i) => ['users', i, 'userName'],
    (u, first) =>
      `${u.userName} is also users[${first}]'s userName: Identity Center requires user names to be unique`,
  );
  duplicates(
    file.users,
    (u) => u.email.toLowerCase(),
    (i) => ['users', i, 'email'],
    (u, first) =>
      `${u.email} is also users[${first}]'s email: Identity Center requires email addresses to be unique`,
  );
  duplicates(
    file.users.filter((u) => u.userId !== undefined),
    (u) => u.userId ?? '',
    (i) => ['users', i, 'userId'],
    (u) => `userId ${u.userId} is used twice`,
  );
  const userNames = new Set(file.users.map((u) => u.userName.toLowerCase()));
  const emails = new Set(file.users.map((u) => u.email.toLowerCase()));

  duplicates(
    file.groups,
    (g) => g.displayName.toLowerCase(),
    (i) => ['groups', i, 'displayName'],
    (g, first) => `${g.displayName} is also groups[${first}]'s displayName: group names are unique`,
  );
  file.groups.forEach((group, g) => {
    group.members.forEach((member, m) => {
      if (!userNames.has(member.toLowerCase()))
        problem(['groups', g, 'members', m], `no user has userName ${member}`);
    });
    duplicates(
      group.members,
      (m) => m.toLowerCase(),
      (m) => ['groups', g, 'members', m],
      (m) => `${m} is listed twice`,
    );
  });

  const { rootId, units } = file.organization;
  const rootPart = rootId.slice('r-'.length);
  duplicates(
    units,
    (u) => u.id,
    (i) => ['organization', 'units', i, 'id'],
    (u) => `${u.id} is listed twice`,
  );
  const unitIds = new Set(units.map((u) => u.id));
  const isParent = (id: string) => id === rootId || unitIds.has(id);
  units.forEach((unit, i) => {
    if (!unit.id.startsWith(`ou-${rootPart}-`))
      problem(
        ['organization', 'units', i, 'id'],
        `${unit.id} is not in root ${rootId}: an OU id starts with ou-${rootPart}-`,
      );
    if (!isParent(unit.parent))
      problem(
        ['organization', 'units', i, 'parent'],
        `${unit.parent} is neither the root nor an OU of this file`,
      );
  });
  // OU names are unique among their parent's children (CreateOrganizationalUnit refuses a duplicate).
  duplicates(
    units,
    (u) => `${u.parent}/${u.name.toLowerCase()}`,
    (i) => ['organization', 'units', i, 'name'],
    (u, first) => `${u.name} is also units[${first}]'s name under ${u.parent}`,
  );
  const parentOf = new Map(units.map((u) => [u.id, u.parent]));
  units.forEach((unit, i) => {
    const seen = new Set<string>([unit.id]);
    for (let at = parentOf.get(unit.id); at && at !== rootId; at = parentOf.get(at)) {
      if (seen.has(at)) {
        problem(
          ['organization', 'units', i, 'parent'],
          `${unit.id} is inside itself (a cycle through ${at})`,
        );
        break;
      }
      seen.add(at);
    }
  });

  duplicates(
    file.accounts,
    (a) => a.id,
    (i) => ['accounts', i, 'id'],
    (a) => `account ${a.id} is listed twice`,
  );
  file.accounts.forEach((account, i) => {
    if (account.parent !== undefined && !isParent(account.parent))
      problem(['accounts', i, 'parent'], `${account.parent} is neither the root nor an OU of this file`);
  });

  const accountIds = new Set(file.accounts.map((a) => a.id));
  const permissionSetArns = new Set(file.permissionSets.map((p) => p.arn));
  file.assignments.forEach((assignment, i) => {
    if (!accountIds.has(assignment.accountId))
      problem(['assignments', i, 'accountId'], `account ${assignment.accountId} is not in accounts`);
    if (!permissionSetArns.has(assignment.permissionSetArn))
      problem(['assignments', i, 'permissionSetArn'], 'this permission set is not in permissionSets');
    if (
      assignment.principalId === undefined &&
      assignment.email &&
      !emails.has(assignment.email.toLowerCase())
    )
      problem(['assignments', i, 'email'], `no user has the email ${assignment.email}`);
  });

  duplicates(
    file.personas,
    (p) => p.slackUserId,
    (i) => ['personas', i, 'slackUserId'],
    (p) => `persona ${p.slackUserId} is listed twice`,
  );
  const personaIds = new Set(file.personas.map((p) => p.slackUserId));
  const userGroups = file.slack.userGroups;
  duplicates(
    userGroups,
    (g) => g.id,
    (i) => ['slack', 'userGroups', i, 'id'],
    (g) => `user group ${g.id} is listed twice`,
  );
  duplicates(
    userGroups,
    (g) => g.handle,
    (i) => ['slack', 'userGroups', i, 'handle'],
    (g) => `handle ${g.handle} is used twice`,
  );
  userGroups.forEach((group, g) => {
    group.members.forEach((member, m) => {
      if (!personaIds.has(member))
        problem(['slack', 'userGroups', g, 'members', m], `${member} is not a persona's slackUserId`);
    });
  });
  return problems;
}

function formatPath(path: (string | number)[]): string {
  return path
    .map((part, i) => (typeof part === 'number' ? `[${part}]` : i === 0 ? part : `.${part}`))
    .join('');
}

// ---------------------------------------------------------------------------------------------
// The file as a directory.

export interface FileDirectory {
  /** `identityCenterGroup:<displayName>`: members' emails as Slack knows them, through the mapping. */
  identityCenterGroups: GroupSource;
  /** `slackUserGroup:<handle>`: members' (Slack user ids) personas' emails. */
  slackUserGroups: GroupSource;
  organization: OrganizationDirectory;
  /** The permission set's session duration in minutes (Identity Center's default: 1 hour); undefined for an unknown ARN. */
  sessionDurationMinutes(permissionSetArn: string): number | undefined;
}

/**
 * The file answering as the adapters answer over the stand-ins it seeds (test/adapters prove the
 * two agree): groups by exact display name or handle, member emails lower case and through the
 * identity mapping (a user the mapping cannot name is left out), and only ACTIVE accounts,
 * sorted by id.
 */
export function fileDirectory(file: DirectoryFile, mapping: UserMapping): FileDirectory {
  const usersByName = new Map(file.users.map((u) => [u.userName.toLowerCase(), u]));
  const personasById = new Map(file.personas.map((p) => [p.slackUserId, p]));
  const { rootId, units } = file.organization;
  const parentOf = (account: DirectoryAccount) => account.parent ?? rootId;
  const active = file.accounts.filter((a) => a.state === 'ACTIVE');
  const view = (accounts: readonly DirectoryAccount[]): OrganizationAccount[] =>
    accounts.map((a) => ({ id: a.id, name: a.name })).sort((a, b) => a.id.localeCompare(b.id));

  const identityCenterGroups: GroupSource = {
    async members(name) {
      const group = file.groups.find((g) => g.displayName === name);
      if (!group) throw new GroupNotFoundError(`${IDENTITY_CENTER_GROUP}${name}`);
      return group.members.flatMap((member) => {
        const user = usersByName.get(member.toLowerCase());
        const email =
          user &&
          slackEmailOf(mapping, { userName: user.userName, emails: [{ value: user.email, primary: true }] });
        return email ? [email] : [];
      });
    },
  };

  const slackUserGroups: GroupSource = {
    async members(handle) {
      const group = file.slack.userGroups.find((g) => g.handle === handle);
      if (!group) throw new GroupNotFoundError(`${SLACK_USER_GROUP}${handle}`);
      return group.members.flatMap((id) => {
        const persona = personasById.get(id);
        return persona ? [persona.email.toLowerCase()] : [];
      });
    },
  };

  const organization: OrganizationDirectory = {
    async accountsUnder(parentId) {
      if (parentId !== rootId && !units.some((u) => u.id === parentId))
        throw new Error(`${parentId} is neither the root nor an OU of the organization`);
      const inside = new Set([parentId]);
      // Units are listed in any order: grow the set until no unit joins.
      for (let grew = true; grew; ) {
        grew = false;
        for (const unit of units)
          if (!inside.has(unit.id) && inside.has(unit.parent)) {
            inside.add(unit.id);
            grew = true;
          }
      }
      return view(active.filter((a) => inside.has(parentOf(a))));
    },
    async accountsTagged(key, value) {
      return view(active.filter((a) => a.tags[key] === value));
    },
    async account(id) {
      return view(active.filter((a) => a.id === id))[0];
    },
  };

  return {
    identityCenterGroups,
    slackUserGroups,
    organization,
    sessionDurationMinutes(permissionSetArn) {
      const permissionSet = file.permissionSets.find((p) => p.arn === permissionSetArn);
      if (!permissionSet) return undefined;
      return isoDurationMinutes(permissionSet.sessionDuration ?? 'PT1H');
    },
  };
}

/** Minutes in an ISO-8601 PT#H#M duration (what DescribePermissionSet answers). */
export function isoDurationMinutes(duration: string): number | undefined {
  const match = /^PT(?:(\d+)H)?(?:(\d+)M)?$/.exec(duration);
  if (!match || duration === 'PT') return undefined;
  return Number(match[1] ?? 0) * 60 + Number(match[2] ?? 0);
}
