import { lifecycleSteps } from '../shared/runtime';
import { grantOutput } from '../shared/step-results';
import { workerHandler } from '../shared/worker-handler';

// CheckGrant: polls the creation status.
export const handler = workerHandler('CheckGrant', async (event) =>
  grantOutput(await (await lifecycleSteps()).checkGrant(event)),
);
