import type { Clock } from '../core/ports';
import { ValidateStep } from '../core/steps/validate';
import { systemClock } from '../shared/clock';
import { directoryGroups } from '../shared/directory';
import { channelPacing } from '../shared/dynamodb';
import { userDirectory } from '../shared/identity-store';
import { workerSteps } from '../shared/lifecycle-steps';
import { validationOutput } from '../shared/step-results';
import { workerHandler } from '../shared/worker-handler';

// Validate: re-checks the request against policy, resolves the user, stores the request.
export function createHandler(clock: Clock = systemClock) {
  // Who may request: identitystore groups only (this role holds no Slack token).
  const worker = workerSteps('Validate', ValidateStep, clock, (policy, dynamo) => ({
    users: userDirectory(policy),
    channelPacing: channelPacing(dynamo, policy, clock),
    groups: directoryGroups(policy, clock),
  }));
  return workerHandler('Validate', async (event) => validationOutput(await worker().steps.validate(event)));
}

export const handler = createHandler();
