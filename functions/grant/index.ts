import { lifecycleSteps } from '../shared/runtime';
import { grantOutput } from '../shared/step-results';
import { workerHandler } from '../shared/worker-handler';

// Grant: creates the assignment unless the user already holds it.
export const handler = workerHandler('Grant', async (event) =>
  grantOutput(await (await lifecycleSteps()).grant(event)),
);
