import { isThrottling } from '../adapters/transient-errors';
import { IdentityCenterBusy } from '../core/admission';
import type { Clock } from '../core/ports';
import { AssignmentSteps } from '../core/steps/assignment';
import { chargingCalls, pairOf, reservedCalls } from '../shared/admission-charge';
import { systemClock } from '../shared/clock';
import { admission } from '../shared/dynamodb';
import { groupMemberships } from '../shared/identity-store';
import { workerSteps } from '../shared/lifecycle-steps';
import { once } from '../shared/once';
import { assignmentDirectory } from '../shared/sso-admin';
import { grantOutput } from '../shared/step-results';
import { workerHandler } from '../shared/worker-handler';

// Grant: creates the assignment unless the user already holds it. AdmitGrant reserved its calls
// (List pages included); what it makes beyond them (a retry's calls, pages the reservation did not
// foresee) is charged to the admission schedule. Throttled by Identity Center, it fails with
// IdentityCenterBusy and the state machine admits it again (a new number) instead of retrying it.
export function createHandler(clock: Clock = systemClock) {
  const worker = workerSteps('Grant', AssignmentSteps, clock, (policy) => ({
    assignments: assignmentDirectory(policy),
    // Group requests (core/group-access.ts): identitystore memberships, synchronous.
    memberships: groupMemberships(policy),
  }));
  const schedule = once(() => admission(worker().dynamo, worker().policy, clock));
  return workerHandler('Grant', async (event) => {
    try {
      return await chargingCalls(
        reservedCalls('grant', event),
        async () => grantOutput(await worker().steps.grant(event)),
        { admission: schedule(), pair: pairOf(event), observeListing: true },
      );
    } catch (error) {
      if (isThrottling(error))
        throw new IdentityCenterBusy(
          'Identity Center was too busy to grant this access. Please request again later.',
          {
            cause: error,
          },
        );
      throw error;
    }
  });
}

export const handler = createHandler();
