import type { Clock } from '../core/ports';
import { SessionEnding } from '../core/session-ending';
import { auditTrail } from '../shared/audit-trail';
import { systemClock } from '../shared/clock';
import { dynamoDbClient, requestStore } from '../shared/dynamodb';
import { notificationNotSent } from '../shared/logger';
import { once } from '../shared/once';
import { loadPolicy } from '../shared/policy';
import { slackPort } from '../shared/slack';
import { permissionSetPolicies } from '../shared/sso-admin';
import { endSessionsOutput } from '../shared/step-results';
import { workerHandler } from '../shared/worker-handler';

// Three states after a deletion, for a permission set that ends sessions at revoke
// (core/session-ending.ts), by the payload's `phase`:
//  - EndSessions (`start`): the deny statement in the permission set's inline policy, then
//    ProvisionPermissionSet to the account;
//  - CheckEndSessions (`check`): polls the provisioning;
//  - SessionsNotEnded (`report`): what the state machine caught, audited and alerted.
// The only workflow role that may edit a permission set, and only those that opt in (infra).
export function createHandler(clock: Clock = systemClock) {
  const ending = once(() => {
    const policy = loadPolicy();
    const dynamo = dynamoDbClient();
    return new SessionEnding({
      policy,
      store: requestStore(dynamo, clock),
      audit: auditTrail(dynamo, clock),
      permissionSets: permissionSetPolicies(policy),
      ...slackPort(policy),
      clock,
      onNotifyFailed: notificationNotSent,
    });
  });
  return workerHandler('EndSessions', async (event) => endSessionsOutput(await ending().run(event)));
}

export const handler = createHandler();
