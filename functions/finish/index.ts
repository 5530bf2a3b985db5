import { lifecycleSteps } from '../shared/runtime';

import { workerHandler } from '../shared/worker-handler';

// Finish: final status, message updates and the requester's DM.
export const handler = workerHandler('Finish', async (event) => (await lifecycleSteps()).finish(event));
