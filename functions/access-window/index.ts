import { lifecycleSteps } from '../shared/runtime';

import { workerHandler } from '../shared/worker-handler';

// AccessWindow (callback task): keeps the token that ends or extends the window, tells the requester.
export const handler = workerHandler('AccessWindow', async (event) =>
  (await lifecycleSteps()).openWindow(event),
);
