import type { Clock } from '../core/ports';
import { AssignmentSteps } from '../core/steps/assignment';
import { systemClock } from '../shared/clock';
import { workerSteps } from '../shared/lifecycle-steps';
import { assignmentDirectory } from '../shared/sso-admin';
import { grantOutput } from '../shared/step-results';
import { workerHandler } from '../shared/worker-handler';

// CheckGrant: polls the creation status.
export function createHandler(clock: Clock = systemClock) {
  const worker = workerSteps('CheckGrant', AssignmentSteps, clock, (policy) => ({
    assignments: assignmentDirectory(policy),
  }));
  return workerHandler('CheckGrant', async (event) => grantOutput(await worker().steps.checkGrant(event)));
}

export const handler = createHandler();
