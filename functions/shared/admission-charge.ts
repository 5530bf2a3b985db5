import * as z from 'zod';
import { SsoAdminDirectory } from '../adapters/sso-admin-directory';
import { heldCounter } from '../core/admission';
import { logger } from './logger';
import { admission } from './runtime';

const pairSchema = z.object({ accountId: z.string().min(1), permissionSetArn: z.string().min(1) });

/** The held-grants counter of the account and permission set a step input names, if it names them. */
export function pairOf(event: unknown): string | undefined {
  const parsed = pairSchema.safeParse(event);
  return parsed.success ? heldCounter(parsed.data.accountId, parsed.data.permissionSetArn) : undefined;
}

export interface Accounting<T> {
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
  accounting: Accounting<T> = {},
): Promise<T> {
  const { tally, result } = await SsoAdminDirectory.tallying(run);
  const made = tally.calls;
  const pollToCome = made > 0 ? 1 : 0;
  const { pair, observeListing, released } = accounting;
  const settle = async () => {
    await admission().charge(made + pollToCome - reserved);
    if (pair && observeListing && tally.listed !== undefined) await admission().observe(pair, tally.listed);
    if (pair && result.status === 'fulfilled' && made > 0 && released?.(result.value))
      await admission().release(pair);
  };
  await settle().catch((error: unknown) =>
    logger.warn('calls not charged to the admission schedule', { error }),
  );
  if (result.status === 'rejected') throw result.reason;
  return result.value;
}
