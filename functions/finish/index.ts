import type { Clock } from '../core/ports';
import { FinishStep } from '../core/steps/finish';
import { systemClock } from '../shared/clock';
import { workerSteps } from '../shared/lifecycle-steps';
import { slackPort } from '../shared/slack';

import { workerHandler } from '../shared/worker-handler';

// Finish: final status, message updates and the requester's DM.
export function createHandler(clock: Clock = systemClock) {
  const worker = workerSteps('Finish', FinishStep, clock, slackPort);
  return workerHandler('Finish', async (event) => worker().steps.finish(event));
}

export const handler = createHandler();
