import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Clock } from '../../functions/core/ports';
import { FUNCTION_TIMEOUT_SECONDS } from '../../functions/shared/clients';
import {
  type LambdaHandler,
  LocalStepFunctions,
  type LocalStepFunctionsOptions,
} from './local-step-functions';

// The product's state machine wired for local runs: the very ASL file that CDK deploys, with
// each Lambda ARN substitution pointing at the real worker handler, invoked in-process.

export const DEFINITION_PATH = path.join(__dirname, '../../statemachines/access-request.asl.json');

/** Definition substitution → functions/<folder>. */
export const WORKER_FUNCTIONS = {
  AdmitFunctionArn: 'admit',
  ValidateFunctionArn: 'validate',
  RequestApprovalFunctionArn: 'request-approval',
  GrantFunctionArn: 'grant',
  CheckGrantFunctionArn: 'check-grant',
  AccessWindowFunctionArn: 'access-window',
  RevokeFunctionArn: 'revoke',
  CheckRevokeFunctionArn: 'check-revoke',
  EndSessionsFunctionArn: 'end-sessions',
  FinishFunctionArn: 'finish',
} as const;
export type WorkerName = (typeof WORKER_FUNCTIONS)[keyof typeof WORKER_FUNCTIONS];

export const LOCAL_ACCOUNT = '000000000000';

export function localFunctionArn(name: string, region = 'us-east-1'): string {
  return `arn:aws:lambda:${region}:${LOCAL_ACCOUNT}:function:jit-access-${name}`;
}

export function localStateMachineArn(region = 'us-east-1'): string {
  return `arn:aws:states:${region}:${LOCAL_ACCOUNT}:stateMachine:jit-access-request`;
}

export function loadDefinition(): object {
  return JSON.parse(readFileSync(DEFINITION_PATH, 'utf8')) as object;
}

type HandlerModule = { createHandler: (clock?: Clock) => LambdaHandler };

/**
 * The real handlers, each a fresh instance (its clients are built from the environment on its
 * first event), on the given clock: the model clock of a time-scaled run, real time otherwise.
 */
export function loadWorkerHandlers(clock?: Clock): Record<WorkerName, LambdaHandler> {
  const load = (name: WorkerName): LambdaHandler => {
    const module = require(path.join(__dirname, '../../functions', name)) as HandlerModule;
    return module.createHandler(clock);
  };
  return Object.fromEntries(Object.values(WORKER_FUNCTIONS).map((name) => [name, load(name)])) as Record<
    WorkerName,
    LambdaHandler
  >;
}

export interface ProductStepFunctionsOptions
  extends Partial<Omit<LocalStepFunctionsOptions, 'definition' | 'substitutions'>> {
  region?: string;
  /** The clock the product's handlers read (default: real time). */
  clock?: Clock;
  /** Replace some handlers (fault injection: a crash before/after the AWS call). */
  wrapHandler?: (name: WorkerName, handler: LambdaHandler) => LambdaHandler;
}

/** The host, and a redeploy: every worker a new instance (its policy and clients read afresh), as after a deployment. */
export type ProductStepFunctions = LocalStepFunctions & { redeploy(): void };

export function createProductStepFunctions(options: ProductStepFunctionsOptions = {}): ProductStepFunctions {
  const { region = 'us-east-1', wrapHandler, functions: extraFunctions, clock, ...rest } = options;
  let handlers = loadWorkerHandlers(clock);
  const substitutions: Record<string, string> = {};
  const functions: Record<string, LambdaHandler> = { ...extraFunctions };
  for (const [substitution, name] of Object.entries(WORKER_FUNCTIONS)) {
    const arn = localFunctionArn(name, region);
    substitutions[substitution] = arn;
    const current: LambdaHandler = (event, context) => handlers[name](event, context);
    functions[arn] = wrapHandler ? wrapHandler(name, current) : current;
  }
  const host = new LocalStepFunctions({
    definition: loadDefinition(),
    substitutions,
    functions,
    stateMachineArn: localStateMachineArn(region),
    // The workers' Lambda timeout, as deployed: a hung handler fails its task with Lambda.Unknown.
    functionTimeoutMs: FUNCTION_TIMEOUT_SECONDS.worker * 1000,
    ...rest,
  });
  return Object.assign(host, {
    redeploy: () => {
      handlers = loadWorkerHandlers(clock);
    },
  }) as ProductStepFunctions;
}
