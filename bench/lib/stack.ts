import './env';
import path from 'node:path';
import { SFNClient } from '@aws-sdk/client-sfn';
import { StepFunctionsWorkflow } from '../../functions/adapters/step-functions-workflow';
import type { AccessRequest, ExecutionInput } from '../../functions/core/model';
import { AWS_CALLS, awsClientConfig } from '../../functions/shared/clients';
import {
  type IdentityCenterStandInOptions,
  type RunningIdentityCenter,
  type SandboxFileInput,
  sandboxFileSchema,
} from '../../local/identity-center';
import type { RunningSlackApi } from '../../local/slack-api';
import { startLocalStack } from '../../local/stack';
import type { LocalStepFunctions } from '../../local/step-functions/local-step-functions';
import { startDynamoProcess, startLambdaProcess } from './processes';

// The product as the sandbox runs it, assembled for benchmarks: the real ASL file and the real
// worker handlers on the local Step Functions host (reached by the product's SFN adapter over its
// HTTP endpoint), DynamoDB on dynalite, Identity Center and Slack on their stand-ins over HTTP.
// Production code reaches all of them through AWS_ENDPOINT_URL_* and SLACK_API_URL, as in the sandbox.
//
// Time: the whole modelled world runs on one "model clock". The Step Functions host scales every
// ASL second (Wait, Retry intervals, callback timeouts) to `msPerSecond` real ms, and the Identity
// Center stand-in is given the same scaled clock, so its token bucket (≈20 calls per model second),
// its provisioning delay and its in-flight limit keep their AWS proportions to the workflow's
// waits and backoffs. The product's own processing (handlers, DynamoDB, HTTP) is NOT scaled: with
// msPerSecond < 1000 the machinery looks slower relative to the model world, so results err on
// the pessimistic side. msPerSecond = 1000 is real time.

// The policy engine on hand-typed email groups (the format before directory groups): the
// lifecycle and throughput figures leave directory reads out; bench/directory.ts measures those.
export const POLICY_FILE = path.join(__dirname, '../../test/fixtures/email-groups-policy.yaml');

/** From test/fixtures/email-groups-policy.yaml. */
export const ACCOUNTS = { production: '111111111111', staging: '222222222222', sandbox: '333333333333' };
export const PERMISSION_SETS = {
  readOnly: 'arn:aws:sso:::permissionSet/ssoins-7223a1b2c3d4e5f6/ps-1a2b3c4d5e6f7a8b',
  powerUser: 'arn:aws:sso:::permissionSet/ssoins-7223a1b2c3d4e5f6/ps-9f8e7d6c5b4a3f2e',
  admin: 'arn:aws:sso:::permissionSet/ssoins-7223a1b2c3d4e5f6/ps-0a0b0c0d0e0f0a0b',
};

export interface Person {
  email: string;
  slackUserId: string;
}

/** Policy people: alice (group engineers) requests production, carol (group sre) approves. */
export const PEOPLE = {
  alice: { email: 'alice@example.com', slackUserId: 'U0ALICE' },
  bob: { email: 'bob@example.com', slackUserId: 'U0BOB' },
  carol: { email: 'carol@example.com', slackUserId: 'U0CAROL' },
  dave: { email: 'dave@example.com', slackUserId: 'U0DAVE' },
} satisfies Record<string, Person>;

/** Bench users: each is a distinct Identity Center principal, so each request is its own assignment. */
export function benchUser(index: number): Person {
  const n = String(index).padStart(5, '0');
  return { email: `user${n}@example.com`, slackUserId: `U9${n}` };
}

export interface ModelClock {
  msPerSecond: number;
  /** Real epoch ms at which model time and real time coincide. */
  origin: number;
  /** Model epoch ms. */
  now(): number;
  /** Model epoch ms → real epoch ms. */
  toReal(modelMs: number): number;
}

/** The identitystore GroupId of the bench policy's one access group. */
export const ACCESS_GROUP_ID = '9a1b2c3d-0000-4000-8000-00000000a001';

export function modelClock(msPerSecond: number): ModelClock {
  const origin = Date.now();
  const factor = 1000 / msPerSecond;
  return {
    msPerSecond,
    origin,
    now: () => origin + (Date.now() - origin) * factor,
    toReal: (modelMs) => origin + (modelMs - origin) / factor,
  };
}

export interface StackOptions {
  /** Real ms per model second (see the top of this file). */
  msPerSecond: number;
  /** Bench users to seed (user00001@example.com …) besides the four policy people. */
  users?: number;
  /** Identity Center stand-in options; quotas default to AWS's (20 calls/s, 10 creations in flight). */
  identityCenter?: Omit<IdentityCenterStandInOptions, 'now' | 'sandbox'>;
  /** Real ms of latency the Slack stand-in adds to every Web API call. */
  slackLatencyMs?: number;
  /** Slack's published rate limits on the stand-in, on the model clock (default off). */
  slackRateLimits?: boolean;
  /** The access policy (default: test/fixtures/email-groups-policy.yaml). */
  policyFile?: string;
  /** Run dynalite in a process of its own (default: in this process). */
  separateDynamo?: boolean;
  /** Run the invoked functions (decisions, audit writer) in a process of their own. */
  separateLambda?: boolean;
  /**
   * The product's clock and the host's (history timestamps, Wait Timestamps) run on the model
   * clock too, as in the fault campaign: needed wherever the product computes a time the model
   * world acts on (admission slots). Figures are then read in model time. Default: real time.
   */
  productOnModelClock?: boolean;
}

export interface Stack {
  clock: ModelClock;
  host: LocalStepFunctions;
  identityCenter: RunningIdentityCenter;
  slack: RunningSlackApi;
  /** The product's own Step Functions adapter, over HTTP (what the Slack function uses). */
  workflow: StepFunctionsWorkflow;
  env: Record<string, string>;
  /** Starts one request as the Slack function would (StartExecution named after the request id). */
  submit(request: Partial<AccessRequest> & { requestId: string }, requester?: Person): Promise<string>;
  close(): Promise<void>;
}

let sequence = 0;

export async function startStack(options: StackOptions): Promise<Stack> {
  const clock = modelClock(options.msPerSecond);
  const userCount = options.users ?? 0;
  const people: Person[] = [...Object.values(PEOPLE)];
  for (let i = 1; i <= userCount; i++) people.push(benchUser(i));

  const sandbox = sandboxFileSchema.parse({
    instanceArn: 'arn:aws:sso:::instance/ssoins-7223a1b2c3d4e5f6',
    identityStoreId: 'd-9067a1b2c3',
    users: people.map((p) => ({
      userName: p.email.split('@')[0] ?? p.email,
      email: p.email,
      displayName: p.email,
    })),
    accounts: Object.entries(ACCOUNTS).map(([name, id]) => ({ id, name })),
    permissionSets: [
      { name: 'ReadOnly', arn: PERMISSION_SETS.readOnly },
      { name: 'PowerUser', arn: PERMISSION_SETS.powerUser },
      { name: 'Admin', arn: PERMISSION_SETS.admin },
    ],
    // The access group of test/fixtures/group-access-policy.yaml (the lifecycle bench's group path), empty at start.
    groups: [{ displayName: 'Prod-Operators', members: [], groupId: ACCESS_GROUP_ID }],
  } satisfies SandboxFileInput);
  const modelNow = () => new Date(clock.now());
  const productClock = options.productOnModelClock ? { now: modelNow } : undefined;
  sequence += 1;
  const stack = await startLocalStack({
    policyFile: options.policyFile ?? POLICY_FILE,
    tablePrefix: `bench-${sequence}`,
    ...(options.separateDynamo ? { dynamo: await startDynamoProcess() } : {}),
    slack: {
      latencyMs: options.slackLatencyMs ?? 0,
      ...(options.slackRateLimits ? { rateLimits: true, now: clock.now } : {}),
      users: people.map((p) => ({
        id: p.slackUserId,
        name: p.email.split('@')[0] ?? p.email,
        email: p.email,
      })),
    },
    identityCenter: { ...options.identityCenter, sandbox, now: clock.now },
    ...(productClock ? { clock: productClock } : {}),
    stepFunctions: { msPerSecond: options.msPerSecond, ...(productClock ? { now: modelNow } : {}) },
  });
  const { host, env, slack } = stack;
  const { identityCenter } = stack;
  // Started last, with the whole environment (the decisions function reaches Step Functions);
  // nothing has run yet, and each handler reads the environment on its first event.
  const lambdaProcess = options.separateLambda ? await startLambdaProcess(env) : undefined;
  if (lambdaProcess) {
    env.AWS_ENDPOINT_URL_LAMBDA = lambdaProcess.url;
    process.env.AWS_ENDPOINT_URL_LAMBDA = lambdaProcess.url;
  }
  const workflow = new StepFunctionsWorkflow(
    new SFNClient(awsClientConfig(AWS_CALLS.stepFunctions)),
    host.stateMachineArn,
  );

  return {
    clock,
    host,
    identityCenter,
    slack,
    workflow,
    env,
    async submit(partial, requester = PEOPLE.alice) {
      const request: AccessRequest = {
        requester,
        accountId: ACCOUNTS.staging,
        permissionSetArn: PERMISSION_SETS.readOnly,
        durationMinutes: 1,
        reason: 'Benchmark',
        requestedAt: new Date().toISOString(),
        ...partial,
      };
      const input: ExecutionInput = { version: 1, request };
      const { executionArn } = await workflow.start(input);
      return executionArn;
    },
    async close() {
      lambdaProcess?.close();
      await stack.close();
    },
  };
}

export { requestDecisions, requestStore } from '../../local/product-wiring';

/** Polls until `probe` answers something other than undefined/false. */
export async function waitFor<T>(
  probe: () => Promise<T | undefined | false> | T | undefined | false,
  what: string,
  timeoutMs = 30_000,
  everyMs = 5,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const value = await probe();
    if (value !== undefined && value !== false) return value as T;
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
  throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
}
