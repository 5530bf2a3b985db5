import { sortableIds } from '../shared/ids';
import {
  policy,
  requestDecisions,
  requestStore,
  slackNotifier,
  stepFunctionsWorkflow,
  userDirectory,
} from '../shared/runtime';
import type { SlackAppDeps } from './deps';

/** The app's dependencies from the environment (functions/shared/runtime.ts), once per container. */
export async function slackAppDepsFromRuntime(): Promise<SlackAppDeps> {
  const [decisions, notifier] = await Promise.all([requestDecisions(), slackNotifier()]);
  return {
    policy: policy(),
    store: requestStore(),
    decisions,
    workflow: stepFunctionsWorkflow(),
    users: userDirectory(),
    clock: { now: () => new Date() },
    ids: sortableIds,
    notifier,
  };
}
