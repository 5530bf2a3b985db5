import { AccessError } from '../core/errors';
import { decisionContextFromRuntime } from '../shared/runtime';
import { workerHandler } from '../shared/worker-handler';
import { decisionJobSchema, performDecision } from '../slack/decision-job';

// Decisions: Approve, Deny, End access now and Extend, handed off by the Slack function after it
// verified the request's signature and acknowledged Slack. This function's role is the one that
// may complete task tokens and record decisions; it checks the clicker against the policy in the
// core, like any other input it does not trust.

export const handler = workerHandler('Decisions', async (event) => {
  const job = decisionJobSchema.safeParse(event);
  if (!job.success)
    throw new AccessError(
      'invalid-decision-job',
      `Decision refused: ${job.error.issues[0]?.path.join('.') ?? ''} ${job.error.issues[0]?.message ?? ''}`,
    );
  const { ctx, client } = await decisionContextFromRuntime();
  await performDecision(ctx, client, job.data);
});
