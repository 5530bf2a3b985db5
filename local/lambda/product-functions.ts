import path from 'node:path';
import type { Clock } from '../../functions/core/ports';
import type { LambdaHandler } from '../step-functions/local-step-functions';
import { type RunningLambdaEndpoint, startLambdaEndpoint } from './server';

// The product's functions that other functions invoke (not the state machine): the audit writer
// (every function appends through it) and the decisions function (the Slack function hands
// clicks to it). Served by the local Lambda endpoint; production code reaches them through
// AWS_ENDPOINT_URL_LAMBDA and the function names below, exactly as the stack wires them.

export const INVOKED_FUNCTIONS = {
  auditWriter: 'jit-access-audit-writer',
  decisions: 'jit-access-decisions',
} as const;

export interface ProductLambdas {
  endpoint: RunningLambdaEndpoint;
  /** Every function a new instance on its next invoke (policy and clients read afresh). */
  redeploy(): void;
  /** AWS_ENDPOINT_URL_LAMBDA, AUDIT_WRITER_FUNCTION, DECISIONS_FUNCTION. */
  env: Record<string, string>;
}

export interface ProductLambdasOptions {
  /** The clock the product's handlers read (default: real time). */
  clock?: Clock;
  /** Replace a handler (fault injection). */
  wrapHandler?: (name: 'audit-writer' | 'decisions', handler: LambdaHandler) => LambdaHandler;
}

/** Starts the endpoint; the handlers are loaded on demand (their modules read the environment when first used). */
export async function startProductLambdas(options: ProductLambdasOptions = {}): Promise<ProductLambdas> {
  const loaded: Partial<Record<'audit-writer' | 'decisions', LambdaHandler>> = {};
  const load = (folder: 'audit-writer' | 'decisions'): LambdaHandler => {
    return (event, context) => {
      let handler = loaded[folder];
      if (!handler) {
        const instance = (
          require(path.join(__dirname, '../../functions', folder)) as {
            createHandler: (clock?: Clock) => LambdaHandler;
          }
        ).createHandler(options.clock);
        handler = options.wrapHandler ? options.wrapHandler(folder, instance) : instance;
        loaded[folder] = handler;
      }
      return handler(event, context);
    };
  };
  const endpoint = await startLambdaEndpoint({
    [INVOKED_FUNCTIONS.auditWriter]: load('audit-writer'),
    [INVOKED_FUNCTIONS.decisions]: load('decisions'),
  });
  return {
    endpoint,
    redeploy: () => {
      delete loaded['audit-writer'];
      delete loaded.decisions;
    },
    env: {
      AWS_ENDPOINT_URL_LAMBDA: endpoint.url,
      AUDIT_WRITER_FUNCTION: INVOKED_FUNCTIONS.auditWriter,
      DECISIONS_FUNCTION: INVOKED_FUNCTIONS.decisions,
    },
  };
}
