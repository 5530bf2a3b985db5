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

/**
 * The directory groups a function can resolve: identitystore groups (IAM readGroupsStatements,
 * given only when the policy names them) and, for a function that holds the Slack token, Slack
 * user groups (`slackUserGroups` in shared/slack.ts, passed in so that a function without the
 * token does not bundle the Slack client). Nothing is built for a kind the policy does not name.
 */
export function directoryGroups(
  policy: Policy,
  clock: Clock,
  slackUserGroups?: GroupSource,
): Partial<Record<GroupKind, GroupSource>> {
  const kinds = new Set(directorySelectors(policy).map((ref) => groupSelector(ref)?.kind));
  return {
    ...(kinds.has('identityCenterGroup') ? { identityCenterGroup: identityStoreGroups(policy, clock) } : {}),
    ...(kinds.has('slackUserGroup') && slackUserGroups ? { slackUserGroup: slackUserGroups } : {}),
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
 * people: identitystore groups, and Slack user groups when it holds the token.
 */
export function deployedPolicy(
  clock: Clock,
  slackUserGroups?: GroupSource,
): { policy: Policy; refresh: DirectoryRefresh } {
  const compiled = loadPolicy();
  return policyDirectory(compiled, clock, directoryGroups(compiled, clock, slackUserGroups));
}
