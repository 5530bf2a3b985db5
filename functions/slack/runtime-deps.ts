import { directorySelectors } from '../core/policy';
import type { Clock } from '../core/ports';
import { systemClock } from '../shared/clock';
import { orgTrail } from '../shared/config';
import { decisionHandoff } from '../shared/decision-handoff';
import { deployedPolicy } from '../shared/directory';
import { dynamoDbClient, requestReader } from '../shared/dynamodb';
import { userDirectory } from '../shared/identity-store';
import { once } from '../shared/once';
import { slackUserGroups, slackWebApi } from '../shared/slack';
import { sessionDurations } from '../shared/sso-admin';
import { stepFunctionsExecutions } from '../shared/step-functions';
import type { SlackAppDeps } from './deps';

/** The app's dependencies from the environment, built once per container (functions/slack/index.ts). */
export function slackAppDeps(clock: Clock = systemClock): SlackAppDeps {
  // Slack user groups through the workers' client (rate limits rejected, not slept on).
  const { policy, refresh } = deployedPolicy(clock, slackUserGroups(once(slackWebApi)));
  const trail = orgTrail();
  return {
    policy,
    // A policy without directory groups adds nothing to an event's path (no middleware lookup).
    ...(directorySelectors(policy).length ? { directory: refresh } : {}),
    store: requestReader(dynamoDbClient()),
    handoff: decisionHandoff(),
    workflow: stepFunctionsExecutions(),
    users: userDirectory(policy),
    clock,
    ...(trail ? { orgTrail: trail } : {}),
    // Read only for permission sets that do not end sessions at revoke (IAM allows no other).
    ...(policy.permissionSets.some((ps) => !ps.endSessionsOnRevoke)
      ? { sessionDurations: sessionDurations(policy) }
      : {}),
  };
}
