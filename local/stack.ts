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

// The product on the local stand-ins, assembled in one place for the sandbox, the benchmarks, the
// fault campaign and the workflow tests: DynamoDB on dynalite, Slack and Identity Center on their
// stand-ins over HTTP, the invoked functions on a local Lambda endpoint, the real ASL and worker
// handlers on the local Step Functions host behind its HTTP endpoint. The product reaches all of
// them through AWS_ENDPOINT_URL_* and SLACK_API_URL in process.env (put back on close), as it
// would reach AWS. The sandbox may take a real Slack workspace, Identity Center or DynamoDB
// instead of a stand-in (`{ real: … }`): the product is then simply not pointed elsewhere.

/** A real service in place of its stand-in (the sandbox with credentials for it). */
export interface Real<T = true> {
  real: T;
}

export interface LocalStackOptions {
  /** The policy YAML; the functions read it compiled, as from a bundle. */
  policyFile: string;
  /** Where the policy's `ou:`/`tag:` accounts are resolved (the sandbox file), as synth's `directory`. */
  directoryFile?: string;
  /** Table names: `<prefix>-state`, `<prefix>-audit` (or `tables`). */
  tablePrefix?: string;
  tables?: { stateTable: string; auditTable: string };
  /** The region the handlers run in (default us-east-1). */
  region?: string;
  /** The Slack stand-in (its users, rate limits, faults), or a real workspace. */
  slack?: StartSlackApiOptions | Real;
  /** The bot token and signing secret the product is given (default: the stand-in's local ones). */
  slackCredentials?: { botToken: string; signingSecret: string };
  /** The Identity Center stand-in (its organisation, quotas, provisioning delay, faults), or the real one. */
  identityCenter: StartIdentityCenterOptions | Real;
  /** A DynamoDB already started (persisted, or a separate process), or the real one; default: dynalite in this process. */
  dynamo?: { endpoint: string; close(): void | Promise<void> } | Real;
  /** The clock the product's handlers read (a time-scaled run); default real time. */
  clock?: Clock;
  /** The Step Functions host (time scale, host clock, handler wrappers). */
  stepFunctions?: Omit<ProductStepFunctionsOptions, 'clock' | 'region'>;
  lambdas?: Omit<ProductLambdasOptions, 'clock'>;
  /** More environment for the handlers (ALERT_CHANNEL, …; undefined unsets). */
  env?: Record<string, string | undefined>;
  /** Runs once the workflow has stopped, before the stand-ins close (handlers still finishing). */
  afterWorkflowStopped?: () => Promise<void>;
}

/** What a stand-in option gives: the running stand-in, or nothing for a real service. */
type StandIn<O, R> = O extends Real<unknown> ? undefined : R;

export interface LocalStack<O extends LocalStackOptions = LocalStackOptions> {
  dynamo: StandIn<O['dynamo'], { endpoint: string }>;
  slack: StandIn<O['slack'], RunningSlackApi>;
  identityCenter: StandIn<O['identityCenter'], RunningIdentityCenter>;
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

const isReal = (option: unknown): option is Real<unknown> =>
  typeof option === 'object' && option !== null && 'real' in option;

export async function startLocalStack<O extends LocalStackOptions>(options: O): Promise<LocalStack<O>> {
  const closing: Array<() => void | Promise<void>> = [];
  const environment = new EnvironmentChanges();
  const close = async () => {
    for (const step of closing.reverse()) await step();
    closing.length = 0;
    environment.restore();
  };
  try {
    const region = options.region ?? 'us-east-1';
    const [dynamo, slack, identityCenter] = await Promise.all([
      isReal(options.dynamo) ? undefined : (options.dynamo ?? startLocalDynamo()),
      isReal(options.slack) ? undefined : startSlackApiStandIn(options.slack),
      isReal(options.identityCenter) ? undefined : startIdentityCenterStandIn(options.identityCenter),
    ]);
    if (dynamo) closing.push(() => dynamo.close());
    if (slack) closing.push(() => slack.close());
    if (identityCenter) closing.push(() => identityCenter.close());
    const tables = options.tables ?? {
      stateTable: `${options.tablePrefix ?? 'jit-access-local'}-state`,
      auditTable: `${options.tablePrefix ?? 'jit-access-local'}-audit`,
    };
    const credentials = options.slackCredentials ?? {
      botToken: 'xoxb-local-token',
      signingSecret: 'local-signing-secret',
    };
    const env: Record<string, string | undefined> = {
      AWS_REGION: region,
      // Only local endpoints: they accept any signature, but the SDK signs only with credentials
      // (and a developer's own, an expired SSO profile, must not break a local run). With a real
      // AWS service, the environment's own credentials are used.
      ...(dynamo && identityCenter
        ? { AWS_ACCESS_KEY_ID: 'local', AWS_SECRET_ACCESS_KEY: 'local', AWS_SESSION_TOKEN: undefined }
        : {}),
      AWS_ENDPOINT_URL_DYNAMODB: dynamo?.endpoint,
      AWS_ENDPOINT_URL_SSO_ADMIN: identityCenter?.url,
      AWS_ENDPOINT_URL_IDENTITYSTORE: identityCenter?.url,
      // Organizations is served by the same stand-in (local/organizations), seeded from the same file.
      AWS_ENDPOINT_URL_ORGANIZATIONS: identityCenter?.url,
      POLICY_FILE: await compiledPolicyFile(options.policyFile, options.directoryFile),
      STATE_TABLE: tables.stateTable,
      AUDIT_TABLE: tables.auditTable,
      SLACK_BOT_TOKEN: credentials.botToken,
      SLACK_SIGNING_SECRET: credentials.signingSecret,
      SLACK_API_URL: slack ? `${slack.url}/api/` : undefined,
      // Credentials from the environment, never Secrets Manager.
      SLACK_SECRET_ARN: undefined,
      POWERTOOLS_LOG_LEVEL: 'SILENT',
      ...options.env,
    };
    // What the handlers read, as set (an undefined value unsets it).
    const applied: Record<string, string> = {};
    const apply = (name: string, value: string | undefined) => {
      environment.set(name, value);
      if (value === undefined) delete applied[name];
      else applied[name] = value;
    };
    for (const [name, value] of Object.entries(env)) apply(name, value);

    const clock = options.clock ? { clock: options.clock } : {};
    // Started before the workflow, so it closes after the last worker has finished.
    const lambdas = await startProductLambdas({ ...options.lambdas, ...clock });
    closing.push(() => lambdas.endpoint.close());
    for (const [name, value] of Object.entries(lambdas.env)) apply(name, value);
    if (dynamo) {
      const tableClient = new DynamoDBClient({});
      await createLocalTables(tableClient, tables);
      tableClient.destroy();
    }

    const host = createProductStepFunctions({ ...options.stepFunctions, region, ...clock });
    const sfn = await startStepFunctionsEndpoint(host);
    closing.push(async () => {
      await host.shutdown();
      await options.afterWorkflowStopped?.();
      await sfn.close();
    });
    apply('AWS_ENDPOINT_URL_SFN', sfn.url);
    apply('STATE_MACHINE_ARN', host.stateMachineArn);

    const stack: LocalStack = {
      dynamo,
      slack,
      identityCenter,
      lambdas,
      host,
      sfn,
      tables,
      env: applied,
      async redeploy() {
        apply('POLICY_FILE', await compiledPolicyFile(options.policyFile, options.directoryFile));
        host.redeploy();
        lambdas.redeploy();
      },
      close,
    };
    return stack as LocalStack<O>;
  } catch (error) {
    await close().catch(() => undefined);
    throw error;
  }
}

/** Sets process.env values and puts the previous ones back on restore(). */
export class EnvironmentChanges {
  private readonly previous = new Map<string, string | undefined>();

  set(name: string, value: string | undefined): void {
    if (!this.previous.has(name)) this.previous.set(name, process.env[name]);
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }

  restore(): void {
    for (const [name, value] of this.previous) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
    this.previous.clear();
  }
}
