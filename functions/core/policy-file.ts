import { parse as parseYaml } from 'yaml';
import * as z from 'zod';
import { DEFAULT_ADMISSION } from './admission';
import { groupSelector, type OrganizationDirectory, SLACK_USER_GROUP } from './directory';
import { parseDurationMinutes } from './duration';
import { PolicyError } from './errors';
import { DEFAULT_USER_MAPPING } from './identity-mapping';
import { GROUP_ID_PATTERN } from './model';
import {
  accountEntryProblem,
  accountSelector,
  needsOrganization,
  resolvePolicyAccounts,
} from './organization';
import {
  COMPILED_POLICY_FORMAT,
  expandPrincipals,
  MAX_ADMISSION_WAIT_MINUTES,
  MAX_DURATION_MINUTES,
  type Policy,
} from './policy';

// The access policy's file format: the YAML an administrator writes, validated here by the CDK
// app at synth, by the sandbox and by the tests, then compiled into the JSON every bundle
// carries. No Lambda parses YAML or runs this schema: the bundles stay without yaml and zod's
// classic build (its chained API is not tree-shakable), and a function cannot meet a policy
// that synth did not accept.

const ACCOUNT_ID = /^\d{12}$/;
const INSTANCE_ARN = /^arn:aws:sso:::instance\/ssoins-[0-9a-f]{16}$/;
const PERMISSION_SET_ARN = /^arn:aws:sso:::permissionSet\/ssoins-[0-9a-f]{16}\/ps-[0-9a-f]{16}$/;
const IDENTITY_STORE_ID = /^d-[0-9a-f]{10}$|^[0-9a-f-]{36}$/;
const EMAIL_PATTERN = /^[^@\s*]+@[^@\s]+$/;
// Directory groups: an Identity Center group's display name (up to 1,024 characters, the
// identitystore Group DisplayName limit) or a Slack user group's handle.
const DIRECTORY_GROUP = 'identityCenterGroup:\\S.{0,1023}|slackUserGroup:[a-z0-9._-]{1,80}';
const REQUESTER_PATTERN = new RegExp(`^(group:[\\w.-]+|[^@\\s]+@[^@\\s]+|\\*|${DIRECTORY_GROUP})$`);
const APPROVER_PATTERN = new RegExp(`^(group:[\\w.-]+|[^@\\s*]+@[^@\\s*]+|${DIRECTORY_GROUP})$`);
const SLACK_CHANNEL = /^[CGD][A-Z0-9]{2,}$/;

const durationText = (label: string) =>
  z.union([z.string(), z.number()]).transform((value, ctx) => {
    const minutes = typeof value === 'number' ? value : parseDurationMinutes(value);
    if (minutes === undefined || !Number.isInteger(minutes) || minutes <= 0) {
      ctx.addIssue({ code: 'custom', message: `${JSON.stringify(value)} is not a duration` });
      return z.NEVER;
    }
    if (minutes > MAX_DURATION_MINUTES) {
      ctx.addIssue({
        code: 'custom',
        message: `${label} of ${JSON.stringify(value)} is over the 7-day limit`,
      });
      return z.NEVER;
    }
    return minutes;
  });

const approversSchema = z
  .object({
    approvers: z
      .array(
        z
          .string()
          .regex(
            APPROVER_PATTERN,
            'must be an email, group:<name>, identityCenterGroup:<DisplayName> or slackUserGroup:<handle>',
          ),
      )
      .min(1, 'needs at least one approver'),
    required: z.number().int().min(1).max(5).default(1),
    allowSelfApproval: z.boolean().default(false),
    timeout: durationText('approval timeout').default(60),
    channel: z.string().regex(SLACK_CHANNEL, 'must be a Slack channel id like C0123ABCD').optional(),
    notifyApproversByDm: z.boolean().default(true),
    /** When approvers are reminded of a request still waiting (default: half the timeout), or false. */
    reminder: z.union([z.literal(false), durationText('reminder')]).optional(),
  })
  .strict();

// `approval: none` (auto-approve) or an approvers object. A discriminated union so an error in
// the object names its own field instead of a vague "invalid input".
const approvalSchema = z
  .preprocess(
    (value) =>
      value === 'none'
        ? { mode: 'none' }
        : value && typeof value === 'object'
          ? { mode: 'approvers', ...value }
          : value,
    z.discriminatedUnion(
      'mode',
      [z.object({ mode: z.literal('none') }), approversSchema.extend({ mode: z.literal('approvers') })],
      {
        error: 'must be "none" or an object with approvers',
      },
    ),
  )
  .transform((value) => {
    if (value.mode === 'none') return 'none' as const;
    const { mode: _mode, ...approval } = value;
    return approval;
  });

// The pattern is compiled here as core/ticket.ts compiles it (no flags), so a Lambda never meets
// one that does not compile.
const ticketSchema = z
  .object({
    required: z.boolean().default(false),
    pattern: z
      .string()
      .min(1)
      .max(200)
      .superRefine((pattern, ctx) => {
        try {
          new RegExp(pattern);
        } catch (error) {
          const why =
            error instanceof Error ? error.message.replace(/^Invalid regular expression: /, '') : '';
          ctx.addIssue({ code: 'custom', message: `not a valid regular expression: ${why}` });
        }
      })
      .optional(),
    /** Shown under the form's ticket input, e.g. "INC-1234 or CHG-1234". */
    hint: z.string().min(1).max(150).optional(),
  })
  .strict();

/** The longest a break-glass rule may grant: an emergency window, not a way around approval. */
export const MAX_BREAK_GLASS_MINUTES = 4 * 60;

// Break-glass (core/break-glass.ts): granted at once without an approver, alerted, reviewed after.
const breakGlassSchema = z
  .object({
    /** Who reviews each use afterwards (never the requester): emails, groups or directory groups. */
    reviewers: z
      .array(
        z
          .string()
          .regex(
            APPROVER_PATTERN,
            'must be an email, group:<name>, identityCenterGroup:<DisplayName> or slackUserGroup:<handle>',
          ),
      )
      .min(1, 'needs at least one reviewer'),
    /** How long a use may stay unreviewed before it escalates. */
    reviewWindow: durationText('reviewWindow').default(24 * 60),
    /** The security channel the alert goes to (default: slack.securityChannel). */
    alertChannel: z.string().regex(SLACK_CHANNEL, 'must be a Slack channel id like C0123ABCD').optional(),
  })
  .strict();

/** The furthest ahead a scheduled start may be when the rule gives no `maxDaysAhead`. */
export const DEFAULT_START_DAYS_AHEAD = 7;
/** The furthest ahead any rule may let a start be: the state machine's TimeoutSeconds covers it. */
export const MAX_START_DAYS_AHEAD = 30;

// Scheduled start (core/scheduled-start.ts): `scheduledStart: true` or `{ maxDaysAhead: N }`.
const scheduledStartSchema = z
  .union([
    z.literal(true).transform(() => ({ maxDaysAhead: DEFAULT_START_DAYS_AHEAD })),
    z
      .object({
        maxDaysAhead: z.number().int().min(1).max(MAX_START_DAYS_AHEAD).default(DEFAULT_START_DAYS_AHEAD),
      })
      .strict(),
  ])
  .optional();

/** Accounts one request may name when its rule says nothing (core/request-set.ts). */
export const DEFAULT_ACCOUNTS_PER_REQUEST = 10;
/** The most any rule may allow: one request's set is started, asked and rendered as one. */
export const MAX_ACCOUNTS_PER_REQUEST = 20;

const ruleSchema = z
  .object({
    name: z.string().min(1).max(80),
    requesters: z
      .array(
        z
          .string()
          .regex(
            REQUESTER_PATTERN,
            'must be an email, a wildcard like *@example.com, group:<name> or identityCenterGroup:<DisplayName>',
          )
          // Who may request is re-checked by Validate, which holds no Slack token: a Slack user
          // group can choose approvers (the rota), not requesters.
          .refine((ref) => !ref.startsWith(SLACK_USER_GROUP), 'slackUserGroup selects approvers only'),
      )
      .min(1, 'needs at least one requester'),
    /** Names or ids of listed accounts, `*`, `ou:<id>` (nested OUs included), `tag:<key>=<value>`, or an account id. */
    accounts: z
      .array(
        z
          .string()
          .min(1)
          .superRefine((entry, ctx) => {
            const problem = accountEntryProblem(entry);
            if (problem) ctx.addIssue({ code: 'custom', message: problem });
          }),
      )
      // Empty only in a group rule (checkReferences says which a rule needs).
      .default([]),
    /** Carve-outs from `accounts`: names, ids, OUs or tags, taken out after the rest is expanded. */
    exceptAccounts: z
      .array(
        z
          .string()
          .min(1)
          .superRefine((entry, ctx) => {
            const problem = entry === '*' ? '"*" would leave nothing' : accountEntryProblem(entry);
            if (problem) ctx.addIssue({ code: 'custom', message: problem });
          }),
      )
      .default([]),
    permissionSets: z.array(z.string().min(1)).default([]),
    /**
     * A group rule: instead of accounts and permission sets, the Identity Center groups (names
     * listed under the policy's accessGroups) a requester may be added to for the window.
     */
    accessGroups: z.array(z.string().min(1)).default([]),
    maxDuration: durationText('maxDuration'),
    approval: approvalSchema,
    /** The ticket reference a request under this rule must carry (core/ticket.ts checks it). */
    ticket: ticketSchema.optional(),
    /** A break-glass rule: asked for explicitly, granted without approval, reviewed afterwards. */
    breakGlass: breakGlassSchema.optional(),
    /**
     * A request under this rule may ask for its access to start later (at most `maxDaysAhead`
     * days ahead): approval is asked at once, the grant waits for the start.
     */
    scheduledStart: scheduledStartSchema,
    /** How many accounts one request under this rule may name (core/request-set.ts); 1: one at a time. */
    maxAccounts: z.number().int().min(1).max(MAX_ACCOUNTS_PER_REQUEST).default(DEFAULT_ACCOUNTS_PER_REQUEST),
  })
  .strict();

const policySchema = z
  .object({
    version: z.literal(1),
    identityCenter: z
      .object({
        instanceArn: z.string().regex(INSTANCE_ARN, 'must look like arn:aws:sso:::instance/ssoins-<16 hex>'),
        identityStoreId: z.string().regex(IDENTITY_STORE_ID, 'must look like d-<10 hex>'),
        region: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d$/, 'must be an AWS region like eu-west-1'),
        portalUrl: z.string().url().optional(),
        /** How a Slack person is found in Identity Center (core/identity-mapping.ts). */
        userMapping: z
          .discriminatedUnion('by', [
            z.object({ by: z.literal('email') }).strict(),
            z.object({ by: z.literal('userName') }).strict(),
            z
              .object({
                by: z.literal('userNameLocalPart'),
                domain: z
                  .string()
                  .regex(/^[a-z0-9.-]+\.[a-z]{2,}$/i, 'must be an email domain like example.com'),
              })
              .strict(),
          ])
          .default(DEFAULT_USER_MAPPING),
      })
      .strict(),
    slack: z
      .object({
        approvalChannel: z.string().regex(SLACK_CHANNEL, 'must be a Slack channel id like C0123ABCD'),
        adminContact: z.string().min(1).default('your AWS platform team'),
        /** Where break-glass alerts go unless a rule names its own channel. */
        securityChannel: z
          .string()
          .regex(SLACK_CHANNEL, 'must be a Slack channel id like C0123ABCD')
          .optional(),
      })
      .strict(),
    accounts: z
      .array(
        z
          .object({
            id: z.string().regex(ACCOUNT_ID, 'must be a 12-digit account id'),
            name: z.string().min(1),
          })
          .strict(),
      )
      // Empty when every account comes from the organization (core/organization.ts).
      .default([]),
    permissionSets: z
      .array(
        z
          .object({
            name: z.string().regex(/^[\w+=,.@-]{1,32}$/, 'must be a permission set name'),
            arn: z
              .string()
              .regex(PERMISSION_SET_ARN, 'must look like arn:aws:sso:::permissionSet/ssoins-…/ps-…'),
            description: z.string().optional(),
            /**
             * At revoke, end the user's role sessions already issued (core/session-ending.ts): a
             * deny statement in this permission set's inline policy, provisioned to the account.
             * Off by default: it lets the product edit the permission set (docs/POLICY.md).
             */
            endSessionsOnRevoke: z.boolean().default(false),
          })
          .strict(),
      )
      .min(1, 'needs at least one permission set'),
    /**
     * Identity Center groups a group rule may add people to for a window (core/group-access.ts):
     * the group's DisplayName and its identitystore GroupId (IAM names every group offered).
     */
    accessGroups: z
      .array(
        z
          .object({
            name: z.string().min(1).max(1024),
            id: z.string().regex(GROUP_ID_PATTERN, 'must be an identitystore GroupId'),
            description: z.string().optional(),
          })
          .strict(),
      )
      .default([]),
    groups: z
      .record(
        z.string().regex(/^[\w.-]+$/, 'group names are letters, digits, _, . or -'),
        z.array(z.string().regex(EMAIL_PATTERN, 'must be an email')),
      )
      .default({}),
    rules: z.array(ruleSchema).min(1, 'needs at least one rule'),
    /** What the reconciler may do beyond cleaning up after this product's own grants. */
    reconciler: z
      .object({
        /**
         * An assignment whose holders record says this product removed it, found assigned again:
         * false (default) alerts once and then treats it as pre-existing; true deletes it.
         */
        revokeUntracked: z.boolean().default(false),
      })
      .strict()
      .default({ revokeUntracked: false }),
    /**
     * Admission control (core/admission.ts): the Identity Center calls per second the product's
     * lifecycles take between them (the account's quota is about 20), and how long a grant may
     * queue before its requester is told to ask again.
     */
    admission: z
      .object({
        callsPerSecond: z.number().min(1).max(100).default(DEFAULT_ADMISSION.callsPerSecond),
        maxWait: z
          .union([z.string(), z.number()])
          .transform((value, ctx) => {
            const minutes = typeof value === 'number' ? value : parseDurationMinutes(value);
            if (
              minutes === undefined ||
              !Number.isInteger(minutes) ||
              minutes < 1 ||
              minutes > MAX_ADMISSION_WAIT_MINUTES
            ) {
              ctx.addIssue({
                code: 'custom',
                message: `${JSON.stringify(value)} is not a duration from 1m to ${MAX_ADMISSION_WAIT_MINUTES}m`,
              });
              return z.NEVER;
            }
            return minutes;
          })
          .default(DEFAULT_ADMISSION.maxWaitSeconds / 60),
      })
      .strict()
      .default({
        callsPerSecond: DEFAULT_ADMISSION.callsPerSecond,
        maxWait: DEFAULT_ADMISSION.maxWaitSeconds / 60,
      }),
  })
  .strict();

export type PolicyInput = z.input<typeof policySchema>;
export type ParsedPolicy = z.output<typeof policySchema>;

/** `rules[2].maxDuration` from a zod path. */
function formatPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>((text, key) => {
    if (typeof key === 'number') return `${text}[${key}]`;
    // An odd key (a group named ":") is quoted so the path never blurs into the message.
    if (!/^[A-Za-z_$][\w$-]*$/.test(String(key))) return `${text}[${JSON.stringify(String(key))}]`;
    return text ? `${text}.${String(key)}` : String(key);
  }, '');
}

/** zod's message, except for a bad record key, whose own rule says more than "Invalid key in record". */
function describeIssue(issue: z.core.$ZodIssue): string {
  if (issue.code === 'invalid_key') return `not a valid name: ${issue.issues[0]?.message ?? issue.message}`;
  return issue.message;
}

/** Cross-field checks a schema cannot express: references between sections. */
function checkReferences(policy: Policy): string[] {
  const problems: string[] = [];
  const accountKeys = new Set(policy.accounts.flatMap((a) => [a.id, a.name]));
  const permissionSetNames = new Set(policy.permissionSets.map((p) => p.name));
  const groups = new Set(Object.keys(policy.groups));
  const duplicates = (values: string[]) => values.filter((v, i) => values.indexOf(v) !== i);
  for (const id of duplicates(policy.accounts.map((a) => a.id)))
    problems.push(`accounts: id ${id} is listed twice`);
  for (const name of duplicates(policy.accounts.map((a) => a.name)))
    problems.push(`accounts: name "${name}" is listed twice`);
  for (const name of duplicates(policy.permissionSets.map((p) => p.name)))
    problems.push(`permissionSets: name "${name}" is listed twice`);
  for (const name of duplicates(policy.rules.map((r) => r.name)))
    problems.push(`rules: name "${name}" is listed twice`);
  const instanceId = policy.identityCenter.instanceArn.split('/')[1];
  policy.permissionSets.forEach((ps, i) => {
    if (ps.arn.split('/')[1] !== instanceId)
      problems.push(
        `permissionSets[${i}].arn: belongs to another Identity Center instance than identityCenter.instanceArn`,
      );
  });
  const accessGroupNames = new Set(policy.accessGroups.map((g) => g.name));
  for (const name of duplicates(policy.accessGroups.map((g) => g.name)))
    problems.push(`accessGroups: name "${name}" is listed twice`);
  for (const id of duplicates(policy.accessGroups.map((g) => g.id)))
    problems.push(`accessGroups: id ${id} is listed twice`);
  policy.rules.forEach((rule, i) => {
    // A rule gives one kind of access: an account rule's assignments, or a group rule's memberships.
    if (rule.accessGroups.length > 0) {
      if (rule.accounts.length > 0 || rule.permissionSets.length > 0 || rule.exceptAccounts.length > 0)
        problems.push(
          `rules[${i}].accessGroups: a group rule names no accounts or permission sets (make it a rule of its own)`,
        );
      if (rule.breakGlass)
        problems.push(`rules[${i}].breakGlass: break-glass rules grant account assignments, not groups`);
      rule.accessGroups.forEach((name, j) => {
        if (!accessGroupNames.has(name))
          problems.push(`rules[${i}].accessGroups[${j}]: "${name}" is not a group listed under accessGroups`);
      });
    } else {
      if (rule.accounts.length === 0) problems.push(`rules[${i}].accounts: needs at least one account`);
      if (rule.permissionSets.length === 0)
        problems.push(`rules[${i}].permissionSets: needs at least one permission set`);
    }
    rule.accounts.forEach((account, j) => {
      // OUs, tags and unlisted account ids are checked when the organization resolves them.
      if (
        account !== '*' &&
        !accountKeys.has(account) &&
        !accountSelector(account) &&
        !ACCOUNT_ID.test(account)
      )
        problems.push(
          `rules[${i}].accounts[${j}]: "${account}" is not an account id or name listed under accounts`,
        );
    });
    rule.permissionSets.forEach((name, j) => {
      if (name !== '*' && !permissionSetNames.has(name))
        problems.push(
          `rules[${i}].permissionSets[${j}]: "${name}" is not a permission set listed under permissionSets`,
        );
    });
    if (rule.breakGlass) {
      if (rule.approval !== 'none')
        problems.push(
          `rules[${i}].approval: a break-glass rule grants without approval (approval: none); its reviewers look afterwards`,
        );
      if (rule.maxDuration > MAX_BREAK_GLASS_MINUTES)
        problems.push(
          `rules[${i}].maxDuration: a break-glass rule grants at most ${MAX_BREAK_GLASS_MINUTES / 60}h (an emergency window)`,
        );
      if (rule.scheduledStart)
        problems.push(
          `rules[${i}].scheduledStart: a break-glass rule grants at once (an emergency does not wait for a start time)`,
        );
      if (!rule.breakGlass.alertChannel && !policy.slack.securityChannel)
        problems.push(
          `rules[${i}].breakGlass.alertChannel: a break-glass rule needs a security channel (this, or slack.securityChannel)`,
        );
    }
    const references = [
      ...rule.requesters,
      ...(rule.approval === 'none' ? [] : rule.approval.approvers),
      ...(rule.breakGlass?.reviewers ?? []),
    ];
    for (const ref of references) {
      if (ref.startsWith('group:') && !groups.has(ref.slice(6)))
        problems.push(`rules[${i}]: group "${ref.slice(6)}" is not defined under groups`);
    }
    // Directory groups are counted by `npm run policy -- validate` against the directory.
    if (rule.approval !== 'none' && !rule.approval.approvers.some((ref) => groupSelector(ref))) {
      const approverCount = expandPrincipals(policy, rule.approval.approvers).length;
      if (approverCount < rule.approval.required)
        problems.push(
          `rules[${i}].approval.required: ${rule.approval.required} approvals needed but only ${approverCount} approver(s) named`,
        );
    }
  });
  return problems;
}

/** Validates a policy object (already parsed from YAML/JSON). Throws PolicyError naming every problem. */
export function validatePolicy(input: unknown): Policy {
  const result = policySchema.safeParse(input);
  if (!result.success) {
    throw new PolicyError(
      result.error.issues.map((issue) => `${formatPath(issue.path) || '(root)'}: ${describeIssue(issue)}`),
    );
  }
  const problems = checkReferences(result.data);
  if (problems.length) throw new PolicyError(problems);
  return result.data;
}

/** Parses and validates the YAML text of a policy file. */
export function parsePolicy(text: string): Policy {
  let document: unknown;
  try {
    document = parseYaml(text, { prettyErrors: true });
  } catch (error) {
    throw new PolicyError([
      `(file): not valid YAML: ${error instanceof Error ? error.message.split('\n')[0] : error}`,
    ]);
  }
  return validatePolicy(document);
}

/** The JSON a bundle carries: the validated policy, durations in minutes and defaults filled in. */
/** Parses, validates and resolves the accounts of a policy file (the organization: core/organization.ts). */
export async function loadPolicyFile(text: string, organization?: OrganizationDirectory): Promise<Policy> {
  return resolvePolicyAccounts(parsePolicy(text), organization);
}

/**
 * The JSON a bundle carries: the validated policy with its accounts resolved (every rule names
 * listed account ids), durations in minutes and defaults filled in.
 */
export function compilePolicy(policy: Policy): string {
  if (needsOrganization(policy))
    throw new Error('compilePolicy: resolve the accounts first (loadPolicyFile)');
  const { directory: _directory, ...compiled } = policy;
  return `${JSON.stringify({ format: COMPILED_POLICY_FORMAT, policy: compiled })}\n`;
}
