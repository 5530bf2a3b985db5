import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import {
  type DirectoryFile,
  type DirectoryFileInput,
  directoryFileSchema,
  readDirectoryFile,
} from '../../functions/core/directory-file';

// The seed is the directory file (functions/core/directory-file.ts): one schema and one parser
// for config/sandbox.yaml, whether the stand-ins, the console, the policy CLI or synth read it.
export {
  ACCOUNT_ID_PATTERN,
  IDENTITY_STORE_ID_PATTERN,
  INSTANCE_ARN_PATTERN,
  PERMISSION_SET_ARN_PATTERN,
} from '../../functions/core/directory-file';

/** The sandbox file: the organisation the stand-ins start from. */
export const sandboxFileSchema = directoryFileSchema;
export type SandboxFile = DirectoryFile;
/** What callers may write: defaults (empty lists, principalType) filled in by the schema. */
export type SandboxFileInput = DirectoryFileInput;

/** Reads a sandbox file (YAML or JSON) and validates it, cross-references included. */
export async function loadSandboxFile(path: string): Promise<SandboxFile> {
  return readDirectoryFile(await readFile(path, 'utf8'), path);
}

/** Identity Store user ids are UUIDs; derive one from the user name so seeds stay stable across runs. */
export function deriveUserId(identityStoreId: string, userName: string): string {
  return uuidFrom(`${identityStoreId}/${userName.toLowerCase()}`);
}

/** Group ids likewise, from the display name (a namespace of their own). */
export function deriveGroupId(identityStoreId: string, displayName: string): string {
  return uuidFrom(`${identityStoreId}/group/${displayName}`);
}

/** Membership ids, from the group and the user. */
export function deriveMembershipId(groupId: string, userId: string): string {
  return uuidFrom(`membership/${groupId}/${userId}`);
}

function uuidFrom(text: string): string {
  const hex = createHash('sha256').update(text).digest('hex');
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
