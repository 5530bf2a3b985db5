import {
  decisionHandoff,
  orgTrail,
  policy,
  requestStore,
  stepFunctionsWorkflow,
  userDirectory,
} from '../shared/runtime';
import type { SlackAppDeps } from './deps';

/** The app's dependencies from the environment (functions/shared/runtime.ts), once per container. */
export async function slackAppDepsFromRuntime(): Promise<SlackAppDeps> {
  return {
    policy: policy(),
    store: requestStore(),
    handoff: decisionHandoff(),
    workflow: stepFunctionsWorkflow(),
    users: userDirectory(),
    clock: { now: () => new Date() },
    ...(orgTrail() ? { orgTrail: orgTrail() } : {}),
  };
}
