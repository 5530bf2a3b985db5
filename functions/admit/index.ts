import { en } from 'zod/locales';
import * as z from 'zod/mini';
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
const inputSchema = z.looseObject({
  phase: z.enum(['validate', 'grant']),
  // null for a group request (core/group-access.ts): no account, no held-grants counter.
  accountId: z.nullish(z.string().check(z.regex(/^\d{12}$/))),
  permissionSetArn: z.nullish(z.string().check(z.minLength(1), z.maxLength(1224))),
  durationMinutes: z.catch(z.optional(z.int().check(z.positive())), undefined),
  /** A grant's admissions before this one (the definition's $.grantRound.n). */
  round: z.catch(z.optional(z.int().check(z.nonnegative())), undefined),
  /** A scheduled grant's start (the definition's $.validation.startAt; null when none). */
  startAt: z.catch(z.optional(z.iso.datetime()), undefined),
});

// A refused input's error names what was wrong in words (zod/mini carries no locale).
z.config(en());

export function createHandler(clock: Clock = systemClock) {
  const schedule = once(() => admission(dynamoDbClient(), loadPolicy(), clock));
  return workerHandler('Admit', async (event) => {
    const { phase, accountId, permissionSetArn, durationMinutes, round, startAt } = inputSchema.parse(event);
    return schedule().admit(
      phase,
      accountId && permissionSetArn ? heldCounter(accountId, permissionSetArn) : undefined,
      durationMinutes === undefined ? undefined : durationMinutes * 60,
      round,
      startAt,
    );
  });
}

export const handler = createHandler();
