import { PHASE_CALLS } from '../core/admission';
import { chargingCalls, pairOf } from '../shared/admission-charge';
import { lifecycleSteps } from '../shared/runtime';
import { grantOutput } from '../shared/step-results';
import { workerHandler } from '../shared/worker-handler';

// Grant: creates the assignment unless the user already holds it. AdmitGrant reserved its calls;
// more (List pages past the first, a retry's calls) are charged to the admission schedule.
export const handler = workerHandler('Grant', (event) =>
  chargingCalls(PHASE_CALLS.grant, async () => grantOutput(await (await lifecycleSteps()).grant(event)), {
    pair: pairOf(event),
    observeListing: true,
  }),
);
