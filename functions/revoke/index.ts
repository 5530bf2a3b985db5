import { chargingCalls, pairOf, reservedCalls } from '../shared/admission-charge';
import { lifecycleSteps } from '../shared/runtime';
import { revokeOutput } from '../shared/step-results';
import { workerHandler } from '../shared/worker-handler';

// Revoke: deletes the assignment unless it pre-existed or another live request needs it. A
// revoke never queues for admission (ending access on time comes first): the calls its grant's
// admission did not reserve for it are charged to the schedule afterwards, so the grants queued
// behind make room.
export const handler = workerHandler('Revoke', (event) =>
  chargingCalls(
    reservedCalls('revoke', event),
    async () => revokeOutput(await (await lifecycleSteps()).revoke(event)),
    {
      pair: pairOf(event),
      // A deletion this run started or saw through (a kept assignment, a failed deletion, or a
      // retry of a started one, which calls nothing, release nothing).
      released: (result) => result.status === 'IN_PROGRESS' || result.status === 'SUCCEEDED',
    },
  ),
);
