import { lifecycleSteps } from '../shared/runtime';
import { revokeOutput } from '../shared/step-results';
import { workerHandler } from '../shared/worker-handler';

// CheckRevoke: polls the deletion status.
export const handler = workerHandler('CheckRevoke', async (event) =>
  revokeOutput(await (await lifecycleSteps()).checkRevoke(event)),
);
