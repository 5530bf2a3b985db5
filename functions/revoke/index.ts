import { chargingCalls } from '../shared/admission-charge';
import { lifecycleSteps } from '../shared/runtime';
import { revokeOutput } from '../shared/step-results';
import { workerHandler } from '../shared/worker-handler';

// Revoke: deletes the assignment unless it pre-existed or another live request needs it. A
// revoke never queues for admission (ending access on time comes first): its calls are charged
// to the schedule afterwards, so the grants queued behind make room.
export const handler = workerHandler('Revoke', (event) =>
  chargingCalls(0, async () => revokeOutput(await (await lifecycleSteps()).revoke(event))),
);
