import { lifecycleSteps } from '../shared/runtime';

import { workerHandler } from '../shared/worker-handler';

// RequestApproval (callback task): keeps the token server-side and asks the approvers.
export const handler = workerHandler('RequestApproval', async (event) =>
  (await lifecycleSteps()).requestApproval(event),
);
