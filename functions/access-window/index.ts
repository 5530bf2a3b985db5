import type { Context } from 'aws-lambda';
import * as z from 'zod/mini';
import type { Clock } from '../core/ports';
import { WindowSteps } from '../core/steps/window';
import { systemClock } from '../shared/clock';
import { directoryGroups } from '../shared/directory';
import { workerSteps } from '../shared/lifecycle-steps';
import { once } from '../shared/once';
import { slackPort, slackUserGroups, slackWebApi } from '../shared/slack';
import { workerHandler } from '../shared/worker-handler';

// Two states of the access window share this function:
//  - AccessWindow (callback task): keeps the token that ends or extends the window, tells the requester;
//  - ExtendWindow (`{"plan": "extend", ...}`): plans the next window from server-side facts.

const extendPlanRequest = z.object({ plan: z.literal('extend') });

export function createHandler(clock: Clock = systemClock) {
  // The window's cap is the longest the requester may have now: their groups are asked.
  const worker = workerSteps('AccessWindow', WindowSteps, clock, (policy) => ({
    ...slackPort(policy),
    groups: directoryGroups(policy, clock, slackUserGroups(once(slackWebApi))),
  }));
  const openWindow = workerHandler('AccessWindow', async (event) => worker().steps.openWindow(event));
  const planExtension = workerHandler('ExtendWindow', async (event) => worker().steps.planExtension(event));
  return (event: unknown, context?: Context) =>
    extendPlanRequest.safeParse(event).success ? planExtension(event, context) : openWindow(event, context);
}

export const handler = createHandler();
