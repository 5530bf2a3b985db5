import { logger } from './logger';
import { admission, assignmentDirectory } from './runtime';

/**
 * Runs a step and then charges the admission schedule (core/admission.ts) for the Identity
 * Center calls it made beyond what it had reserved, plus the one Describe its poll will make:
 * the grants queued behind it then make room. Best effort: pacing never fails a step.
 */
export async function chargingCalls<T>(reserved: number, run: () => Promise<T>): Promise<T> {
  const directory = assignmentDirectory();
  const before = directory.callsAnswered;
  try {
    return await run();
  } finally {
    const made = directory.callsAnswered - before;
    const pollToCome = made > 0 ? 1 : 0;
    await admission()
      .charge(made + pollToCome - reserved)
      .catch((error: unknown) => logger.warn('calls not charged to the admission schedule', { error }));
  }
}
