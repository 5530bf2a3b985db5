import * as z from 'zod/mini';
import { SsoAdminDirectory } from '../adapters/sso-admin-directory';
import type { Admission } from '../core/admission';
import { heldCounter, PHASE_CALLS } from '../core/admission';
import { logger } from './logger';

const pairSchema = z.object({
  accountId: z.string().check(z.minLength(1)),
  permissionSetArn: z.string().check(z.minLength(1)),
});

/** The held-grants counter of the account and permission set a step input names, if it names them. */
export function pairOf(event: unknown): string | undefined {
  const parsed = pairSchema.safeParse(event);
  return parsed.success ? heldCounter(parsed.data.accountId, parsed.data.permissionSetArn) : undefined;
}

// What AdmitGrant reserved, as the state machine passes it to Grant and Revoke: `admission` is its
// result ({at, calls, revokeCalls}) or, when it failed, its error (nothing reserved);
// `retryCount` is `$$.State.RetryCount`: only a step's first attempt runs on the reservation (a
// retry's calls were never reserved).
const reservationSchema = z.object({
  admission: z.catch(
    z.optional(
      z.object({
        calls: z.catch(z.int().check(z.nonnegative()), 0),
        revokeCalls: z.catch(z.int().check(z.nonnegative()), 0),
      }),
    ),
    undefined,
  ),
  retryCount: z.catch(z.optional(z.int().check(z.nonnegative())), undefined),
});

/**
 * The calls a Grant or Revoke attempt runs on. An input without `admission` comes from a
 * definition that did not pass it: its Grant had reserved the common case, its Revoke nothing.
 */
export function reservedCalls(step: 'grant' | 'revoke', event: unknown): number {
  const parsed = reservationSchema.safeParse(event);
  if (!parsed.success || (parsed.data.retryCount ?? 0) > 0) return 0;
  const { admission } = parsed.data;
  if (admission === undefined) return step === 'grant' ? PHASE_CALLS.grant : 0;
  return step === 'grant' ? admission.calls : admission.revokeCalls;
}

export interface Accounting<T> {
  /** The schedule the step's calls are settled with. */
  admission: Admission;
  /** The step's account and permission set (see pairOf). */
  pair?: string;
  /** Grant: the principals its pre-existing check listed raise the pair's held count. */
  observeListing?: boolean;
  /** Revoke: whether this run deleted the assignment (the pair then holds one grant fewer). */
  released?: (result: T) => boolean;
}

/**
 * Runs a step and then settles with the admission schedule (core/admission.ts): charges the
 * Identity Center calls it made beyond what it had reserved, plus the one Describe its poll will
 * make, so the grants queued behind it make room; and keeps the count of grants held on its
 * account and permission set, which sizes later reservations. Best effort: pacing never fails a step.
 */
export async function chargingCalls<T>(
  reserved: number,
  run: () => Promise<T>,
  accounting: Accounting<T>,
): Promise<T> {
  const { tally, result } = await SsoAdminDirectory.tallying(run);
  const made = tally.calls;
  const pollToCome = made > 0 ? 1 : 0;
  const { admission, pair, observeListing, released } = accounting;
  const settle = async () => {
    await admission.charge(made + pollToCome - reserved);
    if (pair && observeListing && tally.listed !== undefined) await admission.observe(pair, tally.listed);
    if (pair && result.status === 'fulfilled' && made > 0 && released?.(result.value))
      await admission.release(pair);
  };
  await settle().catch((error: unknown) =>
    logger.warn('calls not charged to the admission schedule', { error }),
  );
  if (result.status === 'rejected') throw result.reason;
  return result.value;
}
