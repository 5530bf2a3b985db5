import { isThrottling } from '../adapters/transient-errors';
import { IdentityCenterBusy } from '../core/admission';
import { chargingCalls, pairOf, reservedCalls } from '../shared/admission-charge';
import { lifecycleSteps } from '../shared/runtime';
import { grantOutput } from '../shared/step-results';
import { workerHandler } from '../shared/worker-handler';

// Grant: creates the assignment unless the user already holds it. AdmitGrant reserved its calls
// (List pages included); what it makes beyond them (a retry's calls, pages the reservation did not
// foresee) is charged to the admission schedule. Throttled by Identity Center, it fails with
// IdentityCenterBusy and the state machine admits it again (a new number) instead of retrying it.
export const handler = workerHandler('Grant', async (event) => {
  try {
    return await chargingCalls(
      reservedCalls('grant', event),
      async () => grantOutput(await (await lifecycleSteps()).grant(event)),
      { pair: pairOf(event), observeListing: true },
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
