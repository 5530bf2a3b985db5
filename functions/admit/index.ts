import * as z from 'zod';
import { heldCounter } from '../core/admission';
import type { Clock } from '../core/ports';
import { systemClock } from '../shared/clock';
import { admission, dynamoDbClient } from '../shared/dynamodb';
import { once } from '../shared/once';
import { loadPolicy } from '../shared/policy';
import { workerHandler } from '../shared/worker-handler';

// Admit: reserves a slot on the admission schedule for a phase's Identity Center calls; the
// state machine Waits until `at`. A grant that would queue past the policy's admission.maxWait is
// refused with AdmissionRefused (its requester is told). Writes no request record or event: a
// retried Admit only reserves another slot, which slows the queue by one phase's calls.
// A grant's input names its account, permission set, window and round (see Admission.admit).
const inputSchema = z
  .object({
    phase: z.enum(['validate', 'grant']),
    accountId: z
      .string()
      .regex(/^\d{12}$/)
      .optional(),
    permissionSetArn: z.string().min(1).max(1224).optional(),
    durationMinutes: z.number().int().positive().optional().catch(undefined),
    /** A grant's admissions before this one (the definition's $.grantRound.n). */
    round: z.number().int().nonnegative().optional().catch(undefined),
  })
  .passthrough();

export function createHandler(clock: Clock = systemClock) {
  const schedule = once(() => admission(dynamoDbClient(), loadPolicy(), clock));
  return workerHandler('Admit', async (event) => {
    const { phase, accountId, permissionSetArn, durationMinutes, round } = inputSchema.parse(event);
    return schedule().admit(
      phase,
      accountId && permissionSetArn ? heldCounter(accountId, permissionSetArn) : undefined,
      durationMinutes === undefined ? undefined : durationMinutes * 60,
      round,
    );
  });
}

export const handler = createHandler();
