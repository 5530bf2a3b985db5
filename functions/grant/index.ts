import { chargingCalls, pairOf, reservedCalls } from '../shared/admission-charge';
import { lifecycleSteps } from '../shared/runtime';
import { grantOutput } from '../shared/step-results';
import { workerHandler } from '../shared/worker-handler';

// Grant: creates the assignment unless the user already holds it. AdmitGrant reserved its calls
// (List pages included); what it makes beyond them (a retry's calls, pages the reservation did not
// foresee) is charged to the admission schedule.
export const handler = workerHandler('Grant', (event) =>
  chargingCalls(
    reservedCalls('grant', event),
    async () => grantOutput(await (await lifecycleSteps()).grant(event)),
    {
      pair: pairOf(event),
      observeListing: true,
    },
  ),
);
