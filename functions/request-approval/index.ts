import type { Clock } from '../core/ports';
import { systemClock } from '../shared/clock';
import { directoryGroups } from '../shared/directory';
import { workerSteps } from '../shared/lifecycle-steps';
import { once } from '../shared/once';
import { slackPort, slackUserGroups, slackWebClient } from '../shared/slack';
import { workerHandler } from '../shared/worker-handler';

// RequestApproval (callback task): keeps the token server-side and asks the approvers.
export function createHandler(clock: Clock = systemClock) {
  const worker = workerSteps('RequestApproval', clock, (policy) => ({
    ...slackPort(policy),
    groups: directoryGroups(policy, clock, slackUserGroups(once(slackWebClient))),
  }));
  return workerHandler('RequestApproval', async (event) => worker().steps.requestApproval(event));
}

export const handler = createHandler();
