import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DirectoryCache, type GroupKind, type GroupSource } from '../core/directory';
import { type Policy, withDirectory } from '../core/policy';
import type { Clock } from '../core/ports';
import { LifecycleSteps, type StepDependencies } from '../core/steps';
import { auditTrail } from './audit-trail';
import { ConfigError } from './config';
import { dynamoDbClient, requestStore } from './dynamodb';
import { directoryAnswerStale, notificationNotSent } from './logger';
import { once } from './once';
import { loadPolicy } from './policy';

/** The ports a worker adds to the store and the trail every step uses. */
export type WorkerPorts = Partial<
  Pick<StepDependencies, 'assignments' | 'users' | 'notifier' | 'channelPacing'>
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

export interface Worker {
  steps: LifecycleSteps;
  policy: Policy;
  dynamo: DynamoDBClient;
  /** Brings the directory groups up to date (core/directory.ts): before a step that asks about people. */
  refreshDirectory(): Promise<void>;
}

/**
 * One worker's LifecycleSteps, built on its first event: the store, the trail and its own ports.
 * `ready()` is the worker with its directory groups refreshed, for the steps that ask who may
 * request or approve.
 */
export function workerSteps(
  step: string,
  clock: Clock,
  ports: (policy: Policy, dynamo: DynamoDBClient) => WorkerPorts = () => ({}),
): (() => Worker) & { ready(): Promise<Worker> } {
  const worker = once(() => {
    const compiled = loadPolicy();
    const dynamo = dynamoDbClient();
    const own = ports(compiled, dynamo);
    const { policy, refresh } = withDirectory(
      compiled,
      new DirectoryCache(own.groups ?? {}, clock, undefined, directoryAnswerStale),
    );
    const steps = new LifecycleSteps({
      policy,
      store: requestStore(dynamo, clock),
      audit: auditTrail(dynamo, clock),
      assignments: own.assignments ?? unwired('Identity Center assignments', step),
      users: own.users ?? unwired('the identity store', step),
      notifier: own.notifier ?? unwired('Slack', step),
      clock,
      onNotifyFailed: notificationNotSent,
      ...(own.channelPacing ? { channelPacing: own.channelPacing } : {}),
    });
    return { steps, policy, dynamo, refreshDirectory: refresh };
  });
  return Object.assign(worker, {
    ready: async () => {
      const built = worker();
      await built.refreshDirectory();
      return built;
    },
  });
}
