import * as z from 'zod';
import { admission } from '../shared/runtime';
import { workerHandler } from '../shared/worker-handler';

// Admit: reserves a slot on the admission schedule for a phase's Identity Center calls; the
// state machine Waits until `at`. A grant that would queue past the policy's admission.maxWait is
// refused with AdmissionRefused (its requester is told). Writes no request record or event: a
// retried Admit only reserves another slot, which slows the queue by one phase's calls.
const inputSchema = z.object({ phase: z.enum(['validate', 'grant']) }).passthrough();

export const handler = workerHandler('Admit', async (event) => {
  const { phase } = inputSchema.parse(event);
  return admission().admit(phase);
});
