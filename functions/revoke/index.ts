import { lifecycleSteps } from '../shared/runtime';
import { revokeOutput } from '../shared/step-results';
import { workerHandler } from '../shared/worker-handler';

// Revoke: deletes the assignment unless it pre-existed or another live request needs it.
export const handler = workerHandler('Revoke', async (event) =>
  revokeOutput(await (await lifecycleSteps()).revoke(event)),
);
