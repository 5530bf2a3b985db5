import type { Clock } from '../core/ports';
import { systemClock } from '../shared/clock';
import { orgTrail } from '../shared/config';
import { decisionHandoff } from '../shared/decision-handoff';
import { dynamoDbClient, requestStore } from '../shared/dynamodb';
import { userDirectory } from '../shared/identity-store';
import { loadPolicy } from '../shared/policy';
import { stepFunctionsWorkflow } from '../shared/step-functions';
import type { SlackAppDeps } from './deps';

/** The app's dependencies from the environment, built once per container (functions/slack/index.ts). */
export function slackAppDeps(clock: Clock = systemClock): SlackAppDeps {
  const policy = loadPolicy();
  const trail = orgTrail();
  return {
    policy,
    store: requestStore(dynamoDbClient(), clock),
    handoff: decisionHandoff(),
    workflow: stepFunctionsWorkflow(),
    users: userDirectory(policy),
    clock,
    ...(trail ? { orgTrail: trail } : {}),
  };
}
