import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { Clock } from '../functions/core/ports';
import { compiledPolicyFile } from './compiled-policy';
import { createLocalTables, startLocalDynamo } from './dynamodb/local-dynamo';
import {
  type RunningIdentityCenter,
  type StartIdentityCenterOptions,
  startIdentityCenterStandIn,
} from './identity-center/server';
import {
  type ProductLambdas,
  type ProductLambdasOptions,
  startProductLambdas,
} from './lambda/product-functions';
import { type RunningSlackApi, type StartSlackApiOptions, startSlackApiStandIn } from './slack-api/server';
import {
  createProductStepFunctions,
  type ProductStepFunctions,
  type ProductStepFunctionsOptions,
} from './step-functions/product-workflow';
import { startStepFunctionsEndpoint } from './step-functions/sfn-http-endpoint';

// The product on the local stand-ins, assembled in one place for the benchmarks, the fault
// campaign and the workflow tests: DynamoDB on dynalite, Slack and Identity Center on their
// stand-ins over HTTP, the invoked functions on a local Lambda endpoint, the real ASL and worker
// handlers on the local Step Functions host behind its HTTP endpoint. The product reaches all of
// them through AWS_ENDPOINT_URL_* and SLACK_API_URL in process.env, as in the sandbox.

export interface LocalStackOptions {
  /** The policy YAML; the functions read it compiled, as from a bundle. */
  policyFile: string;
  /** Where the policy's `ou:`/`tag:` accounts are resolved (the sandbox file), as synth's `directory`. */
  directoryFile?: string;
  /** Table names: `<prefix>-state`, `<prefix>-audit`. */
  tablePrefix: string;
  /** The Slack stand-in (its users, rate limits, faults). */
  slack?: StartSlackApiOptions;
  /** The Identity Center stand-in (its organisation, quotas, provisioning delay, faults). */
  identityCenter: StartIdentityCenterOptions;
  /** A DynamoDB already started (a separate process); default: dynalite in this process. */
  dynamo?: { endpoint: string; close(): void | Promise<void> };
  /** The clock the product's handlers read (a time-scaled run); default real time. */
  clock?: Clock;
  /** The Step Functions host (time scale, host clock, handler wrappers). */
  stepFunctions?: Omit<ProductStepFunctionsOptions, 'clock'>;
  lambdas?: Omit<ProductLambdasOptions, 'clock'>;
  /** More environment for the handlers (ALERT_CHANNEL, …). */
  env?: Record<string, string>;
}

export interface LocalStack {
  dynamo: { endpoint: string };
  slack: RunningSlackApi;
  identityCenter: RunningIdentityCenter;
  lambdas: ProductLambdas;
  host: ProductStepFunctions;
  sfn: Awaited<ReturnType<typeof startStepFunctionsEndpoint>>;
  tables: { stateTable: string; auditTable: string };
  /** What the handlers read, also in process.env. */
  env: Record<string, string>;
  /** A policy redeploy: compiled again, every function a new instance. */
  redeploy(): Promise<void>;
  close(): Promise<void>;
}

export async function startLocalStack(options: LocalStackOptions): Promise<LocalStack> {
  const dynamo = options.dynamo ?? (await startLocalDynamo());
  const slack = await startSlackApiStandIn(options.slack);
  const identityCenter = await startIdentityCenterStandIn(options.identityCenter);
  const tables = { stateTable: `${options.tablePrefix}-state`, auditTable: `${options.tablePrefix}-audit` };
  const env: Record<string, string> = {
    AWS_REGION: 'us-east-1',
    // Local endpoints accept any signature, but the SDK signs only with credentials.
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
    AWS_ENDPOINT_URL_SSO_ADMIN: identityCenter.url,
    AWS_ENDPOINT_URL_IDENTITYSTORE: identityCenter.url,
    // Organizations is served by the same stand-in (local/organizations), seeded from the same file.
    AWS_ENDPOINT_URL_ORGANIZATIONS: identityCenter.url,
    POLICY_FILE: await compiledPolicyFile(options.policyFile, options.directoryFile),
    STATE_TABLE: tables.stateTable,
    AUDIT_TABLE: tables.auditTable,
    SLACK_BOT_TOKEN: 'xoxb-local-token',
    SLACK_SIGNING_SECRET: 'local-signing-secret',
    SLACK_API_URL: `${slack.url}/api/`,
    POWERTOOLS_LOG_LEVEL: 'SILENT',
    ...options.env,
  };
  const clock = options.clock ? { clock: options.clock } : {};
  const lambdas = await startProductLambdas({ ...options.lambdas, ...clock });
  Object.assign(env, lambdas.env);
  Object.assign(process.env, env);
  // Credentials from the environment, never Secrets Manager.
  delete process.env.SLACK_SECRET_ARN;
  const tableClient = new DynamoDBClient({});
  await createLocalTables(tableClient, tables);
  tableClient.destroy();

  const host = createProductStepFunctions({ ...options.stepFunctions, ...clock });
  const sfn = await startStepFunctionsEndpoint(host);
  env.AWS_ENDPOINT_URL_SFN = sfn.url;
  env.STATE_MACHINE_ARN = host.stateMachineArn;
  Object.assign(process.env, { AWS_ENDPOINT_URL_SFN: sfn.url, STATE_MACHINE_ARN: host.stateMachineArn });

  return {
    dynamo,
    slack,
    identityCenter,
    lambdas,
    host,
    sfn,
    tables,
    env,
    async redeploy() {
      process.env.POLICY_FILE = await compiledPolicyFile(options.policyFile, options.directoryFile);
      env.POLICY_FILE = process.env.POLICY_FILE;
      host.redeploy();
      lambdas.redeploy();
    },
    async close() {
      await host.shutdown();
      await sfn.close();
      await lambdas.endpoint.close();
      await identityCenter.close();
      await slack.close();
      await dynamo.close();
    },
  };
}
