import { createHash } from 'node:crypto';
import * as z from 'zod/mini';

/** A request id as buttons, jobs and step inputs carry it. */
export const requestIdSchema = z.string().check(z.regex(/^[A-Za-z0-9_-]{6,64}$/));

/**
 * The request id of a form submission: derived from the modal's view id (unique per opened
 * modal, identical when Slack retries or the person double-clicks Submit), so a second
 * submission names the same execution and starts nothing new.
 */
export function requestIdForView(teamId: string, viewId: string): string {
  const digest = createHash('sha256').update(`${teamId}:${viewId}`).digest('hex');
  return `req-${digest.slice(0, 24)}`;
}
