import type { Clock } from '../core/ports';
import { RECONCILER_ACTOR, Reconciler, type ReconcilerOptions } from '../core/reconciler';
import { SessionDenySweep, SessionEnding, sessionEndingPermissionSets } from '../core/session-ending';
import { auditTrail } from '../shared/audit-trail';
import { systemClock } from '../shared/clock';
import { decisionHandoff } from '../shared/decision-handoff';
import { deployedPolicy } from '../shared/directory';
import { dynamoDbClient, requestStore } from '../shared/dynamodb';
import { groupMemberships, userDirectory } from '../shared/identity-store';
import { logger } from '../shared/logger';
import { once } from '../shared/once';
import { slackNotifier, slackUserGroups, slackWebApi } from '../shared/slack';
import { assignmentDirectory, permissionSetPolicies } from '../shared/sso-admin';
import { stepFunctionsWorkflow } from '../shared/step-functions';
import { workerHandler } from '../shared/worker-handler';

// Reconciler (EventBridge schedule, every 5 minutes): compares the grants in the store with
// Identity Center, revokes what outlived its request, stops stuck executions, repairs holders
// records, sends the "ends in 10 minutes" DMs. Every action is an audit event (logged as JSON
// with `audit.action`; the "reconciler.orphan-found" metric filter alarms on findings).

export class ReconcilerPassError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ReconcilerPassError';
  }
}

/** The reconciler's core: the same adapters as the workflow, with the Step Functions client. */
export function createReconciler(clock: Clock = systemClock, options: Partial<ReconcilerOptions> = {}) {
  return once(async () => {
    const client = await slackWebApi();
    // A window's cap is the longest its requester may have now: their groups are asked.
    const { policy, refresh } = deployedPolicy(
      clock,
      slackUserGroups(async () => client),
    );
    const dynamo = dynamoDbClient();
    const audit = auditTrail(dynamo, clock);
    const notifier = slackNotifier(policy, client);
    // Only when a permission set ends sessions at revoke (its role may then read and edit it).
    const store = requestStore(dynamo, clock);
    const handoff = decisionHandoff();
    const permissionSets = sessionEndingPermissionSets(policy).length
      ? permissionSetPolicies(policy)
      : undefined;
    const sessionDenies = permissionSets
      ? {
          sessionDenies: new SessionDenySweep(
            { policy, permissionSets, audit, notifier, clock },
            // Its provisioning polls at the reconciler's pace.
            options.pollIntervalMs === undefined ? {} : { pollIntervalMs: options.pollIntervalMs },
          ),
          // The reconciler's own revokes end the sessions as the workflow's do.
          sessionEnding: new SessionEnding({
            policy,
            store,
            audit,
            permissionSets,
            notifier,
            clock,
            actor: RECONCILER_ACTOR,
          }),
        }
      : {};
    return new Reconciler(
      {
        policy,
        store,
        assignments: assignmentDirectory(policy),
        // Group access: the memberships its grants left (only a policy with group rules).
        ...(policy.rules.some((rule) => rule.accessGroups?.length)
          ? { memberships: groupMemberships(policy) }
          : {}),
        workflow: stepFunctionsWorkflow(),
        audit,
        notifier,
        clock,
        directory: refresh,
        ...sessionDenies,
        // A person Identity Center no longer has: offboarded by the decisions function.
        departures: {
          users: userDirectory(policy),
          offboard: (slackUserId, reason) => handoff.submit({ kind: 'offboard', slackUserId, reason }),
        },
      },
      options,
    );
  });
}

export function createHandler(clock: Clock = systemClock, options: Partial<ReconcilerOptions> = {}) {
  const reconciler = createReconciler(clock, options);
  return workerHandler('Reconciler', async () => {
    const report = await (await reconciler()).run();
    const { errors, ...counts } = report;
    const summary = { ...counts, errorCount: errors.length, errors: errors.slice(0, 20) };
    if (errors.length === 0) {
      logger.info('reconciler pass', { report: summary });
      return summary;
    }
    // One item's error (a throttled call) is retried by the next pass; a pass that could read
    // nothing at all is an outage: fail the invocation so the Errors alarm fires.
    if (counts.requestsChecked + counts.holdersChecked === 0)
      throw new ReconcilerPassError(`Reconciler pass read nothing: ${errors.slice(0, 3).join('; ')}`);
    logger.warn('reconciler pass with errors', { report: summary });
    return summary;
  });
}

export const handler = createHandler();
