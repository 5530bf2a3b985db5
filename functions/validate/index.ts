import { lifecycleSteps } from '../shared/runtime';
import { validationOutput } from '../shared/step-results';
import { workerHandler } from '../shared/worker-handler';

// Validate: re-checks the request against policy, resolves the user, stores the request.
export const handler = workerHandler('Validate', async (event) =>
  validationOutput(await (await lifecycleSteps()).validate(event)),
);
