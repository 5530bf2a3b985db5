import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';

// Patterns follow the AWS API models, loosened where the sandbox gains nothing from strictness.
export const INSTANCE_ARN_PATTERN = /^arn:aws(-[a-z]+)*:sso:::instance\/(sso)?ins-[a-zA-Z0-9-.]{16}$/;
export const PERMISSION_SET_ARN_PATTERN =
  /^arn:aws(-[a-z]+)*:sso:::permissionSet\/(sso)?ins-[a-zA-Z0-9-.]{16}\/ps-[a-zA-Z0-9-./]{16}$/;
export const ACCOUNT_ID_PATTERN = /^\d{12}$/;
export const IDENTITY_STORE_ID_PATTERN =
  /^d-[0-9a-f]{10}$|^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

const sandboxUserSchema = z.object({
  userId: z.string().min(1).optional(),
  userName: z.string().min(1),
  email: z.email(),
  displayName: z.string().min(1),
});

const sandboxAssignmentSchema = z
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

/** The sandbox file: the organisation the Identity Center stand-in starts from. */
export const sandboxFileSchema = z.object({
  instanceArn: z.string().regex(INSTANCE_ARN_PATTERN),
  identityStoreId: z.string().regex(IDENTITY_STORE_ID_PATTERN),
  users: z.array(sandboxUserSchema).default([]),
  accounts: z
    .array(z.object({ id: z.string().regex(ACCOUNT_ID_PATTERN), name: z.string().min(1) }))
    .default([]),
  permissionSets: z
    .array(
      z.object({
        name: z.string().min(1),
        arn: z.string().regex(PERMISSION_SET_ARN_PATTERN),
        // ISO-8601 duration, as DescribePermissionSet returns it.
        sessionDuration: z
          .string()
          .regex(/^PT(\d+H)?(\d+M)?$/)
          .optional(),
        description: z.string().optional(),
      }),
    )
    .default([]),
  /** Permanent assignments that exist before any request. */
  assignments: z.array(sandboxAssignmentSchema).default([]),
});

export type SandboxFile = z.infer<typeof sandboxFileSchema>;
/** What callers may write: defaults (empty lists, principalType) filled in by the schema. */
export type SandboxFileInput = z.input<typeof sandboxFileSchema>;

/** Reads a sandbox file (YAML, or JSON by extension) and validates it. */
export async function loadSandboxFile(path: string): Promise<SandboxFile> {
  const text = await readFile(path, 'utf8');
  const raw: unknown = extname(path).toLowerCase() === '.json' ? JSON.parse(text) : parseYaml(text);
  const parsed = sandboxFileSchema.safeParse(raw);
  if (!parsed.success) {
    throw new Error(`invalid sandbox file ${path}: ${z.prettifyError(parsed.error)}`);
  }
  return parsed.data;
}

/** Identity Store user ids are UUIDs; derive one from the user name so seeds stay stable across runs. */
export function deriveUserId(identityStoreId: string, userName: string): string {
  const hex = createHash('sha256').update(`${identityStoreId}/${userName.toLowerCase()}`).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

const DEFAULT_INSTANCE = 'ssoins-7223a1b2c3d4e5f6';
export const DEFAULT_PERMISSION_SET_ARNS = {
  readOnly: `arn:aws:sso:::permissionSet/${DEFAULT_INSTANCE}/ps-1a2b3c4d5e6f7a8b`,
  admin: `arn:aws:sso:::permissionSet/${DEFAULT_INSTANCE}/ps-9f8e7d6c5b4a3f2e`,
} as const;

/** A small organisation for tests: two accounts, two permission sets, three people, one permanent assignment. */
export const defaultSandboxSeed: SandboxFile = sandboxFileSchema.parse({
  instanceArn: `arn:aws:sso:::instance/${DEFAULT_INSTANCE}`,
  identityStoreId: 'd-9067a1b2c3',
  users: [
    { userName: 'alice', email: 'alice@example.com', displayName: 'Alice Approver' },
    { userName: 'bob', email: 'bob@example.com', displayName: 'Bob Builder' },
    { userName: 'carol', email: 'Carol.Oncall@example.com', displayName: 'Carol Oncall' },
  ],
  accounts: [
    { id: '111111111111', name: 'sandbox-dev' },
    { id: '222222222222', name: 'sandbox-prod' },
  ],
  permissionSets: [
    { name: 'ReadOnly', arn: DEFAULT_PERMISSION_SET_ARNS.readOnly, sessionDuration: 'PT1H' },
    { name: 'AdministratorAccess', arn: DEFAULT_PERMISSION_SET_ARNS.admin, sessionDuration: 'PT2H' },
  ],
  assignments: [
    {
      accountId: '111111111111',
      permissionSetArn: DEFAULT_PERMISSION_SET_ARNS.readOnly,
      email: 'alice@example.com',
    },
  ],
} satisfies SandboxFileInput);
