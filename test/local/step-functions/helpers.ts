import {
  type LambdaHandler,
  LocalStepFunctions,
  type LocalStepFunctionsOptions,
  type TaskWaitingEvent,
} from '../../../local/step-functions/local-step-functions';

export const functionArn = (name: string) => `arn:aws:lambda:us-east-1:000000000000:function:${name}`;

/** An error whose `name` is its Lambda errorType, as product functions raise them. */
export class NamedError extends Error {
  constructor(name: string, message: string) {
    super(message);
    this.name = name;
  }
}

const hosts: LocalStepFunctions[] = [];

/** A host with fast time (1 ms per ASL second) that `shutdownHosts` cleans up. */
export function createHost(
  definition: object,
  functions: Record<string, LambdaHandler> = {},
  options: Partial<LocalStepFunctionsOptions> = {},
): LocalStepFunctions {
  const substitutions: Record<string, string> = {};
  for (const name of Object.keys(functions)) substitutions[name] = functionArn(name);
  const host = new LocalStepFunctions({
    definition,
    substitutions,
    functions: Object.fromEntries(Object.entries(functions).map(([name, fn]) => [functionArn(name), fn])),
    msPerSecond: 1,
    ...options,
  });
  hosts.push(host);
  return host;
}

export async function shutdownHosts(): Promise<void> {
  await Promise.all(hosts.splice(0).map((host) => host.shutdown()));
}

/** Resolves with the next callback task that hands out a token (optionally in a given state). */
export function nextWaitingTask(host: LocalStepFunctions, stateName?: string): Promise<TaskWaitingEvent> {
  return new Promise((resolve) => {
    const unsubscribe = host.onTaskWaiting((event) => {
      if (stateName !== undefined && event.stateName !== stateName) return;
      unsubscribe();
      resolve(event);
    });
  });
}

export async function run(host: LocalStepFunctions, input: unknown = {}, name?: string) {
  const { executionArn } = await host.startExecution({ name, input: JSON.stringify(input) });
  return host.waitForExecution(executionArn);
}

export const parseOutput = (output: string | undefined): unknown => JSON.parse(output ?? 'null');
