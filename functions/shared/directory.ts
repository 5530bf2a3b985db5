import type { WebClient } from '@slack/web-api';
import {
  DirectoryCache,
  type DirectoryRefresh,
  type GroupKind,
  type GroupSource,
  groupSelector,
} from '../core/directory';
import { directorySelectors, type Policy, withDirectory } from '../core/policy';
import type { Clock } from '../core/ports';
import { identityStoreGroups } from './identity-store';
import { directoryAnswerStale } from './logger';
import { loadPolicy } from './policy';
import { slackUserGroups } from './slack';

/**
 * The directory groups a function can resolve: identitystore groups (IAM readGroupsStatements,
 * given only when the policy names them) and, for a function that holds the Slack token, Slack
 * user groups. Nothing is built for a kind the policy does not name.
 */
export function directoryGroups(
  policy: Policy,
  clock: Clock,
  slack?: () => Promise<WebClient>,
): Partial<Record<GroupKind, GroupSource>> {
  const kinds = new Set(directorySelectors(policy).map((ref) => groupSelector(ref)?.kind));
  return {
    ...(kinds.has('identityCenterGroup') ? { identityCenterGroup: identityStoreGroups(policy, clock) } : {}),
    ...(kinds.has('slackUserGroup') && slack ? { slackUserGroup: slackUserGroups(slack) } : {}),
  };
}

/** The policy answering its directory groups through a per-container cache, and its refresh. */
export function policyDirectory(
  policy: Policy,
  clock: Clock,
  groups: Partial<Record<GroupKind, GroupSource>>,
): { policy: Policy; refresh: DirectoryRefresh } {
  return withDirectory(policy, new DirectoryCache(groups, clock, undefined, directoryAnswerStale));
}

/**
 * The deployed policy (loadPolicy) answering its directory groups, for a function that asks about
 * people: identitystore groups, and Slack user groups through `slack` when it holds the token.
 */
export function deployedPolicy(
  clock: Clock,
  slack?: () => Promise<WebClient>,
): { policy: Policy; refresh: DirectoryRefresh } {
  const compiled = loadPolicy();
  return policyDirectory(compiled, clock, directoryGroups(compiled, clock, slack));
}
