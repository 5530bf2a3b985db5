import { RequestDecisions } from '../functions/core/decisions';
import type { Clock } from '../functions/core/ports';
import type { ReconcilerOptions } from '../functions/core/reconciler';
import { LifecycleSteps } from '../functions/core/steps';
import { createReconciler } from '../functions/reconciler';
import { auditTrail as trailOn } from '../functions/shared/audit-trail';
import { systemClock } from '../functions/shared/clock';
import { deployedPolicy } from '../functions/shared/directory';
import { channelPacing, dynamoDbClient, requestStore as storeOn } from '../functions/shared/dynamodb';
import { userDirectory } from '../functions/shared/identity-store';
import { notificationNotSent } from '../functions/shared/logger';
import { once } from '../functions/shared/once';
import { slackNotifier, slackPort, slackUserGroups, slackWebApi } from '../functions/shared/slack';
import { assignmentDirectory } from '../functions/shared/sso-admin';
import { stepFunctionsWorkflow } from '../functions/shared/step-functions';

// The product's objects as its handlers build them (functions/shared/*), from the environment of
// the local stack, built afresh on each call: for the checks of the tests, the benchmarks and the
// fault campaign, which read the store and the trail and drive decisions as a handler would.

export function requestStore(clock: Clock = systemClock) {
  return storeOn(dynamoDbClient(), clock);
}

export function auditTrail(clock: Clock = systemClock) {
  return trailOn(dynamoDbClient(), clock);
}

export async function requestDecisions(clock: Clock = systemClock): Promise<RequestDecisions> {
  const { policy, refresh } = deployedPolicy(clock, slackUserGroups(once(slackWebApi)));
  const dynamo = dynamoDbClient();
  return new RequestDecisions({
    policy,
    directory: refresh,
    store: storeOn(dynamo, clock),
    audit: trailOn(dynamo, clock),
    workflow: stepFunctionsWorkflow(),
    notifier: slackNotifier(policy, await slackWebApi()),
    clock,
    onNotifyFailed: notificationNotSent,
  });
}

/** Every step with every port, as the nine workers have them between them. */
export function lifecycleSteps(clock: Clock = systemClock): LifecycleSteps {
  const { policy, refresh } = deployedPolicy(clock, slackUserGroups(once(slackWebApi)));
  const dynamo = dynamoDbClient();
  return new LifecycleSteps({
    policy,
    directory: refresh,
    store: storeOn(dynamo, clock),
    audit: trailOn(dynamo, clock),
    assignments: assignmentDirectory(policy),
    users: userDirectory(policy),
    ...slackPort(policy),
    clock,
    onNotifyFailed: notificationNotSent,
    channelPacing: channelPacing(dynamo, policy, clock),
  });
}

export function reconciler(options: Partial<ReconcilerOptions> = {}, clock: Clock = systemClock) {
  return createReconciler(clock, options)();
}
