import { RequestDecisions } from '../core/decisions';
import { AccessError } from '../core/errors';
import { Offboarding } from '../core/offboarding';
import type { Clock } from '../core/ports';
import { auditTrail } from '../shared/audit-trail';
import { systemClock } from '../shared/clock';
import { orgTrail } from '../shared/config';
import { deployedPolicy } from '../shared/directory';
import { dynamoDbClient, requestStore } from '../shared/dynamodb';
import { notificationNotSent } from '../shared/logger';
import { once } from '../shared/once';
import { slackNotifier, slackUserGroups, slackWebApi } from '../shared/slack';
import { stepFunctionsWorkflow } from '../shared/step-functions';
import { workerHandler } from '../shared/worker-handler';
import { type DecisionJobContext, decisionJobSchema, performDecision } from '../slack/decision-job';
import { SlackPeople } from '../slack/people';

// Decisions: Approve, Deny, Cancel, End access now and Extend (and a deactivated person's
// offboarding, core/offboarding.ts), handed off by the Slack function after it
// verified the request's signature and acknowledged Slack. This function's role is the one that
// may complete task tokens and record decisions; it checks the clicker against the policy in the
// core, like any other input it does not trust.

export function createHandler(clock: Clock = systemClock) {
  // The core's decisions, the store, Slack (client, people cache): built on the first click.
  const wiring = once(async () => {
    const client = await slackWebApi();
    const { policy, refresh } = deployedPolicy(
      clock,
      slackUserGroups(async () => client),
    );
    const dynamo = dynamoDbClient();
    const store = requestStore(dynamo, clock);
    const notifier = slackNotifier(policy, client);
    const trail = orgTrail();
    const audit = auditTrail(dynamo, clock);
    const decisions = new RequestDecisions({
      policy,
      store,
      audit,
      workflow: stepFunctionsWorkflow(),
      notifier,
      clock,
      onNotifyFailed: notificationNotSent,
      directory: refresh,
    });
    const ctx: DecisionJobContext = {
      policy,
      store,
      clock,
      people: new SlackPeople(),
      directory: refresh,
      ...(trail ? { orgTrail: trail } : {}),
      decisions,
      offboarding: new Offboarding({ store, audit, decisions, notifier }),
    };
    return { ctx, client };
  });
  return workerHandler('Decisions', async (event) => {
    const job = decisionJobSchema.safeParse(event);
    if (!job.success)
      throw new AccessError(
        'invalid-decision-job',
        `Decision refused: ${job.error.issues[0]?.path.join('.') ?? ''} ${job.error.issues[0]?.message ?? ''}`,
      );
    const { ctx, client } = await wiring();
    await performDecision(ctx, client, job.data);
  });
}

export const handler = createHandler();
