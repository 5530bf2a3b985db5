import type { Clock } from '../core/ports';
import { AssignmentSteps } from '../core/steps/assignment';
import { systemClock } from '../shared/clock';
import { workerSteps } from '../shared/lifecycle-steps';
import { assignmentDirectory } from '../shared/sso-admin';
import { revokeOutput, sessionsToEnd } from '../shared/step-results';
import { workerHandler } from '../shared/worker-handler';

// CheckRevoke: polls the deletion status.
export function createHandler(clock: Clock = systemClock) {
  const worker = workerSteps('CheckRevoke', AssignmentSteps, clock, (policy) => ({
    assignments: assignmentDirectory(policy),
  }));
  return workerHandler('CheckRevoke', async (event) =>
    revokeOutput(await worker().steps.checkRevoke(event), sessionsToEnd(worker().policy, event)),
  );
}

export const handler = createHandler();
