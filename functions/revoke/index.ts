import type { Clock } from '../core/ports';
import { AssignmentSteps } from '../core/steps/assignment';
import { chargingCalls, pairOf, reservedCalls } from '../shared/admission-charge';
import { systemClock } from '../shared/clock';
import { admission } from '../shared/dynamodb';
import { groupMemberships } from '../shared/identity-store';
import { workerSteps } from '../shared/lifecycle-steps';
import { once } from '../shared/once';
import { assignmentDirectory } from '../shared/sso-admin';
import { revokeOutput, sessionsToEnd } from '../shared/step-results';
import { workerHandler } from '../shared/worker-handler';

// Revoke: deletes the assignment unless it pre-existed or another live request needs it. A
// revoke never queues for admission (ending access on time comes first): the calls its grant's
// admission did not reserve for it are charged to the schedule afterwards, so the grants queued
// behind make room.
export function createHandler(clock: Clock = systemClock) {
  const worker = workerSteps('Revoke', AssignmentSteps, clock, (policy) => ({
    assignments: assignmentDirectory(policy),
    // Group requests (core/group-access.ts): identitystore memberships, synchronous.
    memberships: groupMemberships(policy),
  }));
  const schedule = once(() => admission(worker().dynamo, worker().policy, clock));
  return workerHandler('Revoke', (event) =>
    chargingCalls(
      reservedCalls('revoke', event),
      async () => revokeOutput(await worker().steps.revoke(event), sessionsToEnd(worker().policy, event)),
      {
        admission: schedule(),
        pair: pairOf(event),
        // A deletion this run started or saw through (a kept assignment, a failed deletion, or a
        // retry of a started one, which calls nothing, release nothing).
        released: (result) => result.status === 'IN_PROGRESS' || result.status === 'SUCCEEDED',
      },
    ),
  );
}

export const handler = createHandler();
