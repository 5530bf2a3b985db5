import { readFileSync } from 'node:fs';
import {
  type GroupKind,
  GroupNotFoundError,
  type GroupSource,
  groupSelector,
  type OrganizationDirectory,
  staticDirectory,
} from '../core/directory';
import { fileDirectory, readDirectoryFile } from '../core/directory-file';
import { resolvePolicyAccounts } from '../core/organization';
import { directorySelectors, type Policy } from '../core/policy';
import { parsePolicy } from '../core/policy-file';

// The directory a policy is compiled and reviewed against, outside any Lambda: synth (cdk.json
// `directory`), the policy CLI (--directory FILE or --live) and the sandbox. A directory file is
// the sandbox file's format (functions/core/directory-file.ts); `live` reads Organizations,
// identitystore and Slack with the credentials of whoever runs the command.

export interface PolicyDirectory {
  /** Where the answers come from, for messages ("directory file config/sandbox.yaml"). */
  source: string;
  organization: OrganizationDirectory;
  groups: Partial<Record<GroupKind, GroupSource>>;
  /** A permission set's session duration in minutes, when the directory knows it. */
  sessionDurationMinutes(permissionSetArn: string): Promise<number | undefined>;
}

/** A directory file, or `live` (see liveDirectory). `policy` gives the identity mapping and region. */
export async function openDirectory(where: string, policy: Policy): Promise<PolicyDirectory> {
  if (where === 'live') return (await import('./live-directory')).liveDirectory(policy);
  const file = fileDirectory(
    readDirectoryFile(readFileSync(where, 'utf8'), where),
    policy.identityCenter.userMapping,
  );
  return {
    source: `directory file ${where}`,
    organization: file.organization,
    groups: { identityCenterGroup: file.identityCenterGroups, slackUserGroup: file.slackUserGroups },
    sessionDurationMinutes: async (arn) => file.sessionDurationMinutes(arn),
  };
}

/**
 * The policy as synth compiles it: parsed, validated, its accounts resolved through the
 * directory (groups stay selectors: the functions resolve them while running).
 */
export async function compilablePolicy(
  text: string,
  where: string | undefined,
): Promise<{ policy: Policy; directory: PolicyDirectory | undefined }> {
  const parsed = parsePolicy(text);
  const directory = where ? await openDirectory(where, parsed) : undefined;
  return { policy: await resolvePolicyAccounts(parsed, directory?.organization), directory };
}

/** A policy as the functions would see it with the directory now, and what the directory lacked. */
export interface ResolvedPolicy {
  policy: Policy;
  directory: PolicyDirectory | undefined;
  /** Directory groups the policy names that the directory does not have (they select nobody). */
  missingGroups: string[];
}

/**
 * Parses the policy, resolves its accounts (as synth compiles them) and answers every directory
 * group it names. Without a directory, a policy naming `ou:`, `tag:` or directory groups is
 * refused with what it needs.
 */
export async function loadPolicyWithDirectory(
  text: string,
  where: string | undefined,
): Promise<ResolvedPolicy> {
  const { policy, directory } = await compilablePolicy(text, where);
  const selectors = directorySelectors(policy);
  if (selectors.length === 0) return { policy, directory, missingGroups: [] };
  if (!directory)
    throw new Error(
      `the policy names directory groups (${selectors.join(', ')}): give --directory FILE or --live to resolve them`,
    );
  const members: Record<string, string[]> = {};
  const missingGroups: string[] = [];
  for (const selector of selectors) {
    const group = groupSelector(selector);
    const source = group && directory.groups[group.kind];
    if (!group || !source) throw new Error(`${selector}: ${directory.source} cannot answer for it`);
    try {
      members[selector] = (await source.members(group.name)).map((m) => m.toLowerCase());
    } catch (error) {
      if (!(error instanceof GroupNotFoundError)) throw error;
      members[selector] = [];
      missingGroups.push(selector);
    }
  }
  return { policy: { ...policy, directory: staticDirectory(members) }, directory, missingGroups };
}
