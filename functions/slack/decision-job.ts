import * as z from 'zod/mini';
import type { SlackWebApi } from '../adapters/slack-web-api';
import { VERDICT_TEXT } from '../core/break-glass';
import { OFFBOARDING_REASONS, type Offboarding } from '../core/offboarding';
import { logger } from '../shared/logger';
import {
  type DecisionContext,
  decisionText,
  originSchema,
  publishHome,
  requestIdValue,
  setWindowText,
  slackUserIdSchema,
  tell,
} from './interaction';

// A decision click as the Slack function hands it to the decisions function: who clicked (the
// Slack user id of the signed payload), on which request, from where, and what they chose. The
// Slack function verifies the signature, validates and acknowledges; the decisions function
// (whose role alone may complete task tokens and change request records on a person's behalf)
// resolves the person, decides through the core and answers them.

const base = {
  requestId: requestIdValue,
  slackUserId: slackUserIdSchema,
  origin: originSchema,
  /**
   * Names this click for as long as Lambda redelivers it (given at handoff): an extension asked
   * for or decided by it is not asked for or decided again. Absent in jobs of earlier versions.
   */
  jobId: z.optional(z.string().check(z.regex(/^[A-Za-z0-9_.:-]{1,64}$/))),
};
// Trimmed before the lengths are checked, and passed on trimmed.
const reason = z.string().check(z.trim(), z.minLength(1), z.maxLength(500));

export const decisionJobSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('approve'), ...base }),
  z.strictObject({ kind: z.literal('deny'), ...base, reason }),
  z.strictObject({ kind: z.literal('cancel'), ...base }),
  z.strictObject({ kind: z.literal('approve-extension'), ...base }),
  z.strictObject({ kind: z.literal('deny-extension'), ...base, reason }),
  // `whole`: on every account of a request of several (core/request-set.ts), from its one button.
  z.strictObject({ kind: z.literal('end'), ...base, whole: z.optional(z.literal(true)) }),
  z.strictObject({ kind: z.literal('review'), ...base, verdict: z.enum(['justified', 'flagged']) }),
  z.strictObject({
    kind: z.literal('extend'),
    ...base,
    minutes: z.int().check(z.positive(), z.maximum(7 * 24 * 60)),
    whole: z.optional(z.literal(true)),
  }),
  // Not a click: Slack reported this person deactivated (user_change); nobody is answered.
  z.strictObject({
    kind: z.literal('offboard'),
    slackUserId: slackUserIdSchema,
    reason: z.enum(OFFBOARDING_REASONS),
    jobId: base.jobId,
  }),
]);
export type DecisionJob = z.infer<typeof decisionJobSchema>;

/** What the decisions function carries out a job with: a click's context, and the offboarding of a person. */
export type DecisionJobContext = DecisionContext & { offboarding?: Offboarding };

/**
 * A person's offboarding could not finish: some of their requests are still on their way to
 * access. Thrown after what could be done is done, so Lambda delivers the job again (an
 * asynchronous invoke is retried twice) and the redelivery ends them once they are live.
 */
export class OffboardingUnfinishedError extends Error {
  override readonly name = 'OffboardingUnfinishedError';
}

/** Where the Slack function hands a job: the decisions function (functions/adapters/lambda-decisions.ts). */
export interface DecisionHandoff {
  submit(job: DecisionJob): Promise<void>;
}

/** Carries out one job: the person is resolved from Slack, the core decides, the person is answered where they clicked. */
export async function performDecision(
  ctx: DecisionJobContext,
  client: SlackWebApi,
  job: DecisionJob,
): Promise<void> {
  if (job.kind === 'offboard') return offboard(ctx, client, job);
  const { requestId, slackUserId: userId, origin } = job;
  // Asked of Slack at every job, never the cache: a person deactivated since their last click
  // (users.info `deleted`, https://docs.slack.dev/reference/methods/users.info) decides nothing.
  const lookup = await ctx.people.emailOf(client, userId, { fresh: true });
  if (!lookup.ok) return tell(ctx, client, userId, origin, lookup.message);
  const actor = { email: lookup.email, slackUserId: userId };
  let text: string | undefined;
  switch (job.kind) {
    case 'approve': {
      const outcome = await ctx.decisions.decide(requestId, actor, 'approve');
      logger.info('approval click', { requestId, correlation_id: requestId, outcome: outcome.kind });
      text = decisionText(outcome);
      break;
    }
    case 'deny': {
      const outcome = await ctx.decisions.decide(requestId, actor, 'deny', job.reason);
      logger.info('deny', { requestId, correlation_id: requestId, outcome: outcome.kind });
      text = decisionText(outcome);
      break;
    }
    case 'cancel': {
      const outcome = await ctx.decisions.cancel(requestId, actor);
      logger.info('cancel click', { requestId, correlation_id: requestId, outcome: outcome.kind });
      text = decisionText(outcome);
      break;
    }
    case 'approve-extension': {
      const outcome = await ctx.decisions.decideExtension(requestId, actor, 'approve', undefined, job.jobId);
      logger.info('extension approval click', {
        requestId,
        correlation_id: requestId,
        outcome: outcome.kind,
      });
      text = outcome.kind === 'extended' ? 'Extension approved.' : decisionText(outcome);
      break;
    }
    case 'deny-extension': {
      const outcome = await ctx.decisions.decideExtension(requestId, actor, 'deny', job.reason, job.jobId);
      logger.info('deny extension', { requestId, correlation_id: requestId, outcome: outcome.kind });
      text =
        outcome.kind === 'not-allowed'
          ? 'Extension denied; the requester has been told.'
          : decisionText(outcome);
      break;
    }
    case 'end': {
      if (job.whole) {
        text = setWindowText(await ctx.decisions.onWholeSet(requestId, actor, { kind: 'end' }));
        break;
      }
      const outcome = await ctx.decisions.endAccess(requestId, actor);
      logger.info('end access click', { requestId, correlation_id: requestId, outcome: outcome.kind });
      text = decisionText(outcome);
      break;
    }
    case 'review': {
      const outcome = await ctx.decisions.review(requestId, actor, job.verdict);
      logger.info('break-glass review', { requestId, correlation_id: requestId, outcome: outcome.kind });
      text =
        outcome.kind === 'reviewed'
          ? `Break-glass use marked ${VERDICT_TEXT[job.verdict]}.`
          : outcome.kind === 'not-found'
            ? 'I cannot find this request any more.'
            : outcome.reason;
      break;
    }
    case 'extend': {
      if (job.whole) {
        const action = {
          kind: 'extend' as const,
          minutes: job.minutes,
          ...(job.jobId ? { jobId: job.jobId } : {}),
        };
        text = setWindowText(await ctx.decisions.onWholeSet(requestId, actor, action));
        break;
      }
      const outcome = await ctx.decisions.extend(requestId, actor, job.minutes, job.jobId);
      logger.info('extend', { requestId, correlation_id: requestId, outcome: outcome.kind });
      text = decisionText(outcome);
      break;
    }
  }
  if (origin.kind === 'home') await publishHome(ctx, client, userId, text);
  else if (text) await tell(ctx, client, userId, origin, text);
}

/** Offboards the person the job names (core/offboarding.ts); unfinished, it fails so Lambda delivers it again. */
async function offboard(
  ctx: DecisionJobContext,
  client: SlackWebApi,
  job: Extract<DecisionJob, { kind: 'offboard' }>,
): Promise<void> {
  if (!ctx.offboarding) throw new Error('This function is not wired to offboard people.');
  // Slack is asked again: only a person it still calls deactivated is offboarded (an event
  // delivered after a reactivation does nothing); a failed lookup fails the job, so Lambda retries it.
  if (job.reason === 'slack-deactivated') {
    const now = await ctx.people.lookup(client, job.slackUserId, { fresh: true });
    if (!now.ok && now.reason === 'failed') throw now.error;
    if (now.ok || now.reason !== 'deactivated') {
      logger.info('offboarding skipped: not deactivated', { slackUserId: job.slackUserId });
      return;
    }
  }
  const report = await ctx.offboarding.offboard({ slackUserId: job.slackUserId }, job.reason);
  logger.info('offboarded', {
    slackUserId: job.slackUserId,
    reason: job.reason,
    ended: report.ended.length,
    cancelled: report.cancelled.length,
    inFlight: report.inFlight.length,
  });
  if (report.inFlight.length > 0)
    throw new OffboardingUnfinishedError(
      `Offboarding of ${job.slackUserId}: ${report.inFlight.length} request(s) not live yet: ${report.inFlight.join(', ')}`,
    );
}
