import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { GroupKind, GroupSource } from '../core/directory';
import type { Policy } from '../core/policy';
import type { Clock } from '../core/ports';
import type { StepDependencies } from '../core/steps/base';
import { auditTrail } from './audit-trail';
import { ConfigError } from './config';
import { policyDirectory } from './directory';
import { dynamoDbClient, requestStore } from './dynamodb';
import { notificationNotSent } from './logger';
import { once } from './once';
import { loadPolicy } from './policy';

/** The ports a worker adds to the store and the trail every step uses. */
export type WorkerPorts = Partial<
  Pick<StepDependencies, 'assignments' | 'users' | 'notifier' | 'channelPacing' | 'memberships'>
> & {
  /** The directory groups this worker's questions may name (requesters, approvers). */
  groups?: Partial<Record<GroupKind, GroupSource>>;
};

/**
 * A port this function does not wire: its bundle leaves the adapter out and its role has no
 * permission for it, so reaching it is a wiring error, said as one (not a missing method).
 */
function unwired<T extends object>(port: string, step: string): T {
  return new Proxy({} as T, {
    get: (_target, method) => {
      // Not a thenable: `await` on the port must not call through.
      if (method === 'then') return undefined;
      return () => {
        throw new ConfigError(`${step} is not wired to ${port} (${String(method)})`);
      };
    },
  });
}

export interface Worker<S> {
  steps: S;
  policy: Policy;
  dynamo: DynamoDBClient;
}

/**
 * One worker's step rules (its own module of core/steps/, so its bundle carries only those),
 * built on its first event: the store, the trail and its own ports (the directory groups among
 * them: the steps refresh what they ask about, core/directory.ts).
 */
export function workerSteps<S>(
  step: string,
  Steps: new (deps: StepDependencies) => S,
  clock: Clock,
  ports: (policy: Policy, dynamo: DynamoDBClient) => WorkerPorts = () => ({}),
): () => Worker<S> {
  return once(() => {
    const compiled = loadPolicy();
    const dynamo = dynamoDbClient();
    const own = ports(compiled, dynamo);
    const { policy, refresh } = policyDirectory(compiled, clock, own.groups ?? {});
    const steps = new Steps({
      policy,
      store: requestStore(dynamo, clock),
      audit: auditTrail(dynamo, clock),
      assignments: own.assignments ?? unwired('Identity Center assignments', step),
      users: own.users ?? unwired('the identity store', step),
      notifier: own.notifier ?? unwired('Slack', step),
      clock,
      onNotifyFailed: notificationNotSent,
      ...(own.channelPacing ? { channelPacing: own.channelPacing } : {}),
      ...(own.memberships ? { memberships: own.memberships } : {}),
      directory: refresh,
    });
    return { steps, policy, dynamo };
  });
}
