import type { Clock } from '../core/ports';
import { RequestApprovalStep } from '../core/steps/request-approval';
import { systemClock } from '../shared/clock';
import { directoryGroups } from '../shared/directory';
import { workerSteps } from '../shared/lifecycle-steps';
import { once } from '../shared/once';
import { slackPort, slackUserGroups, slackWebApi } from '../shared/slack';
import { workerHandler } from '../shared/worker-handler';

// RequestApproval (callback task): keeps the token server-side and asks the approvers.
export function createHandler(clock: Clock = systemClock) {
  const worker = workerSteps('RequestApproval', RequestApprovalStep, clock, (policy) => ({
    ...slackPort(policy),
    groups: directoryGroups(policy, clock, slackUserGroups(once(slackWebApi))),
  }));
  return workerHandler('RequestApproval', async (event) => worker().steps.requestApproval(event));
}

export const handler = createHandler();
