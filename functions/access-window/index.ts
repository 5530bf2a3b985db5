import type { Context } from 'aws-lambda';
import * as z from 'zod';
import { lifecycleSteps } from '../shared/runtime';
import { workerHandler } from '../shared/worker-handler';

// Two states of the access window share this function:
//  - AccessWindow (callback task): keeps the token that ends or extends the window, tells the requester;
//  - ExtendWindow (`{"plan": "extend", ...}`): plans the next window from server-side facts.

const openWindow = workerHandler('AccessWindow', async (event) => (await lifecycleSteps()).openWindow(event));
const planExtension = workerHandler('ExtendWindow', async (event) =>
  (await lifecycleSteps()).planExtension(event),
);

const extendPlanRequest = z.object({ plan: z.literal('extend') });

export const handler = (event: unknown, context?: Context) =>
  extendPlanRequest.safeParse(event).success ? planExtension(event, context) : openWindow(event, context);
