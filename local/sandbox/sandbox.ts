import { EnvironmentChanges, startLocalStack } from '../stack';
import '../step-functions/polyfills';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { loadPolicyWithDirectory } from '../../functions/cli/directory';
import type { Policy } from '../../functions/core/policy';
import { createHandler as createReconcilerHandler } from '../../functions/reconciler';
import { type AuditStreamStandIn, startAuditStream } from '../dynamodb/audit-stream';
import { type LocalDynamo, startLocalDynamo } from '../dynamodb/local-dynamo';
import type { RunningIdentityCenter } from '../identity-center/server';
import type { FaultSettings } from '../identity-center/stand-in';
import { type RunningS3, startS3StandIn } from '../s3/server';
import type { RunningSlackApi } from '../slack-api/server';
import type { LambdaHandler, LocalStepFunctions } from '../step-functions/local-step-functions';
import type { WorkerName } from '../step-functions/product-workflow';
import { type RunningConsoleServer, startConsoleServer } from './console-server';
import { loadSandboxConfig, type SandboxConfig } from './sandbox-file';
import { describeAwsIdentity, planServices, type ServicePlan } from './services';
import { SignedSlackClient } from './signed-client';
import { type SlackAppHandle, startSlackApp } from './slack-app';
import type { SlackTeam } from './slack-payloads';
import { SandboxState } from './state';
import { describeScale, msPerAslSecond, REAL_TIME_MS_PER_MINUTE } from './time-scale';

/** The organization trail table the sandbox's messages name (an example: nothing answers it locally). */
export const SANDBOX_ORG_TRAIL_TABLE = 'example.org_cloudtrail';

// The whole product on one machine: the real Slack handler (Bolt on its HTTP receiver) and the
// real worker handlers, the very same ASL file run by the local Step Functions host, and
// wire-faithful stand-ins for Identity Center, DynamoDB and the Slack Web API, reached through the
// SDKs' own endpoint variables. Everything a person does in the web console becomes the signed
// HTTP request Slack would send to /slack/events.

export const REPO_ROOT = path.join(__dirname, '../..');
export const DEFAULT_SANDBOX_FILE = path.join(REPO_ROOT, 'config/sandbox.yaml');
export const DEFAULT_POLICY_FILE = path.join(REPO_ROOT, 'config/sandbox-policy.yaml');
export const DEFAULT_PERSIST_DIR = path.join(REPO_ROOT, '.sandbox-data');
export const DEFAULT_PORT = 3000;
/** The deployed schedule's rate (infra: EventBridge rate(5 minutes)). */
export const RECONCILER_INTERVAL_MS = 5 * 60_000;
/** The archive bucket's name in the sandbox. */
export const ARCHIVE_BUCKET = 'jit-access-audit-archive';

export interface SandboxOptions {
  /** The console + Slack request URL port. Default: $PORT, else 3000; 0 picks a free port. */
  port?: number;
  /** Interface to bind. Default 127.0.0.1 (the console can act as anyone: keep it off the network). */
  host?: string;
  sandboxFile?: string;
  policyFile?: string;
  /** Real milliseconds per product minute (`--minute=1s` → 1000). Default 60000: real time. */
  msPerMinute?: number;
  /** Keep DynamoDB in this folder (dynalite on disk) instead of memory. */
  persistDir?: string;
  /** Where credentials are looked for (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** Use every stand-in whatever credentials the environment holds (tests). */
  forceStandIns?: boolean;
  identityCenter?: {
    /** How long a creation/deletion stays IN_PROGRESS (real ms). Default 1000. */
    provisioningDelayMs?: number;
    requestsPerSecond?: number;
    maxCreationsInFlight?: number;
    faults?: Partial<FaultSettings>;
    seed?: number;
  };
  /** Real ms per Retry interval of the state machine (default: scaled with the minute). */
  retryIntervalMs?: number;
  /** Replace worker handlers (fault injection, benchmarks). */
  wrapHandler?: (name: WorkerName, handler: LambdaHandler) => LambdaHandler;
  /** Where the per-service lines go. Default: nowhere (main.ts prints them). */
  log?: (line: string) => void;
}

export interface ServiceLine {
  service:
    | 'Step Functions'
    | 'Lambda'
    | 'Identity Center'
    | 'DynamoDB'
    | 'Audit archive'
    | 'Slack Web API'
    | 'Slack app';
  mode: 'local' | 'stand-in' | 'real' | 'missing';
  line: string;
}

export interface Sandbox {
  /** The web console, e.g. http://localhost:3000 */
  url: string;
  /** The request URL a Slack app would point at: http://localhost:<port>/slack/events */
  slackEventsUrl: string;
  port: number;
  services: ServiceLine[];
  standIns: {
    identityCenter?: RunningIdentityCenter;
    slack?: RunningSlackApi;
    stepFunctions: { host: LocalStepFunctions; url: string };
    dynamo?: LocalDynamo & { persistedIn?: string };
    /** The audit archive bucket and the table stream that feeds it (with DynamoDB's stand-in). */
    archive?: { s3: RunningS3; stream: AuditStreamStandIn };
  };
  /** Sends signed Slack requests (commands, clicks, submissions, Home) as a persona. */
  signedSlackClient: SignedSlackClient;
  /** Reads the tables and stand-ins as the console shows them. */
  state: SandboxState;
  config: SandboxConfig;
  policy: Policy;
  plan: ServicePlan;
  tables: { stateTable: string; auditTable: string };
  /** True once functions/slack is mounted at /slack/events. */
  slackAppReady: boolean;
  stop(): Promise<void>;
}

let running: Promise<unknown> | undefined;

/**
 * Starts the sandbox. One per process: the handlers read their configuration from process.env,
 * which the sandbox sets and restores on stop().
 */
export async function startSandbox(options: SandboxOptions = {}): Promise<Sandbox> {
  if (running) throw new Error('A sandbox is already running in this process: stop() it first');
  const started = start(options);
  running = started;
  try {
    return await started;
  } catch (error) {
    running = undefined;
    throw error;
  }
}

async function start(options: SandboxOptions): Promise<Sandbox> {
  const env = options.env ?? process.env;
  const log = options.log ?? (() => {});
  const sandboxFile = path.resolve(options.sandboxFile ?? DEFAULT_SANDBOX_FILE);
  const policyFile = path.resolve(options.policyFile ?? DEFAULT_POLICY_FILE);
  const msPerMinute = options.msPerMinute ?? REAL_TIME_MS_PER_MINUTE;
  const port = options.port ?? portFromEnv(env) ?? DEFAULT_PORT;
  const bindHost = options.host ?? '127.0.0.1';

  const [config, policy] = await Promise.all([
    loadSandboxConfig(sandboxFile),
    // The sandbox file is the policy's directory: its OUs and tags resolve the accounts.
    readFile(policyFile, 'utf8').then(
      async (text) => (await loadPolicyWithDirectory(text, sandboxFile)).policy,
    ),
  ]);
  const plan = planServices({
    env,
    policyInstanceArn: policy.identityCenter.instanceArn,
    sandboxInstanceArn: config.identityCenter.instanceArn,
    forceStandIns: options.forceStandIns === true,
  });
  if (plan.identityCenter.mode === 'stand-in') checkConsistency(config, policy, policyFile, sandboxFile);

  const cleanups: Array<() => Promise<void> | void> = [];
  const restoreEnv = new EnvironmentChanges();
  cleanups.push(() => restoreEnv.restore());
  try {
    // ---- the product on the local stack (local/stack.ts), a real service where configured ----
    const region = policy.identityCenter.region;
    const persistedIn = plan.dynamo.mode === 'stand-in' ? options.persistDir : undefined;
    if (persistedIn) await mkdir(persistedIn, { recursive: true });
    const dynamo =
      plan.dynamo.mode === 'stand-in'
        ? {
            ...(await startLocalDynamo(persistedIn ? { path: persistedIn } : {})),
            ...(persistedIn ? { persistedIn } : {}),
          }
        : undefined;
    // Step Functions: the ASL file, the worker handlers in-process, each invocation tracked so
    // that stopping lets the ones running finish against the stand-ins.
    const inFlight = new Set<Promise<unknown>>();
    const trackInFlight =
      (handler: LambdaHandler): LambdaHandler =>
      (event, context) => {
        const invocation = handler(event, context);
        inFlight.add(invocation);
        const forget = () => inFlight.delete(invocation);
        invocation.then(forget, forget);
        return invocation;
      };
    const stack = await startLocalStack({
      policyFile,
      // The sandbox file is the policy's directory: its OUs and tags resolve the accounts.
      directoryFile: sandboxFile,
      tables: { stateTable: plan.dynamo.stateTable, auditTable: plan.dynamo.auditTable },
      region: env.AWS_REGION || region,
      dynamo: dynamo ?? { real: true },
      identityCenter:
        plan.identityCenter.mode === 'stand-in'
          ? {
              sandbox: config.identityCenter,
              provisioningDelayMs: options.identityCenter?.provisioningDelayMs ?? 1000,
              ...(options.identityCenter?.requestsPerSecond !== undefined
                ? { requestsPerSecond: options.identityCenter.requestsPerSecond }
                : {}),
              ...(options.identityCenter?.maxCreationsInFlight !== undefined
                ? { maxCreationsInFlight: options.identityCenter.maxCreationsInFlight }
                : {}),
              ...(options.identityCenter?.faults ? { faults: options.identityCenter.faults } : {}),
              ...(options.identityCenter?.seed !== undefined ? { seed: options.identityCenter.seed } : {}),
            }
          : { real: true },
      slack:
        plan.slack.mode === 'stand-in'
          ? {
              users: config.personas.map((p) => ({
                id: p.slackUserId,
                name: p.name,
                realName: p.realName ?? p.name,
                email: p.email,
              })),
              tokens: [plan.slack.botToken],
              // Request ids derive from view ids: with persisted data they must not repeat across runs.
              ...(options.persistDir ? { firstId: Math.floor(Date.now() / 1000) } : {}),
              teamId: config.slack.teamId,
              teamDomain: config.slack.teamDomain,
              // slackUserGroup: approvers (the on-call rota).
              userGroups: config.slack.userGroups,
            }
          : { real: true },
      slackCredentials: { botToken: plan.slack.botToken, signingSecret: plan.slack.signingSecret },
      env: {
        // The product's logs show in the sandbox's terminal, as the developer set them.
        POWERTOOLS_LOG_LEVEL: env.POWERTOOLS_LOG_LEVEL,
        ALERT_CHANNEL: env.ALERT_CHANNEL || undefined,
        // There is no CloudTrail here: an example table name, so the revoked DM and the Home tab
        // show the organization-trail query a deployment with cdk.json `orgTrailTable` gives.
        ORG_TRAIL_TABLE: env.ORG_TRAIL_TABLE || SANDBOX_ORG_TRAIL_TABLE,
      },
      stepFunctions: {
        msPerSecond: msPerAslSecond(msPerMinute),
        // The product runs on real time here: a timestamp it computed (a scheduled start, an
        // admission slot) is waited for in real time; durations (windows, timeouts) are scaled.
        realTimeTimestamps: true,
        ...(options.retryIntervalMs !== undefined ? { retryIntervalMs: options.retryIntervalMs } : {}),
        wrapHandler: (name, handler) =>
          trackInFlight(options.wrapHandler ? options.wrapHandler(name, handler) : handler),
      },
      // An aborted execution does not stop a handler already running: let it finish against the
      // stand-ins before they close (bounded: a handler stuck on a fault is left behind).
      afterWorkflowStopped: () => settleWithin(inFlight, 5000),
    });
    cleanups.push(() => stack.close());
    const { slack, identityCenter, lambdas, host, sfn } = stack;

    const dynamoClient = new DynamoDBClient({ region });
    cleanups.push(() => dynamoClient.destroy());

    // ---- the audit archive: an S3 stand-in fed by a modelled table stream (docs/AUDIT.md) ----
    let archive: { s3: RunningS3; stream: AuditStreamStandIn } | undefined;
    if (plan.dynamo.mode === 'stand-in') {
      const directory = options.persistDir
        ? path.join(options.persistDir, 'archive')
        : await mkdtemp(path.join(os.tmpdir(), 'jit-archive-'));
      if (!options.persistDir) cleanups.push(() => rm(directory, { recursive: true, force: true }));
      const s3 = await startS3StandIn({ directory, bucket: ARCHIVE_BUCKET });
      cleanups.push(() => s3.close());
      restoreEnv.set('AWS_ENDPOINT_URL_S3', s3.url);
      restoreEnv.set('AUDIT_ARCHIVE_BUCKET', s3.bucket);
      const archiver = (await import('../../functions/archiver')).createHandler();
      const stream = startAuditStream({
        client: dynamoClient,
        table: plan.dynamo.auditTable,
        handler: (event) => archiver(event),
      });
      cleanups.push(() => stream.close());
      archive = { s3, stream };
    }

    // ---- the reconciler, on the schedule EventBridge runs it in AWS (every 5 minutes) ----
    // On the product's own clock (real time, like the records it reads), whatever the minute
    // scale: it closes what a crashed step left, revokes overdue grants, escalates unreviewed
    // break-glass uses.
    const reconcile = trackInFlight(createReconcilerHandler() as LambdaHandler);
    const reconcilerTimer = setInterval(() => {
      reconcile({}, {} as never).catch(() => undefined);
    }, RECONCILER_INTERVAL_MS);
    reconcilerTimer.unref();
    cleanups.push(() => clearInterval(reconcilerTimer));

    // ---- the Slack app on Bolt's HTTP receiver ----
    let slackApp: SlackAppHandle | undefined = await startSlackApp({
      signingSecret: plan.slack.signingSecret,
      botToken: plan.slack.botToken,
      ...(slack ? { slackApiUrl: `${slack.url}/api/` } : {}),
    });
    cleanups.push(async () => {
      await slackApp?.close?.();
      slackApp = undefined;
    });
    // Bolt calls auth.test as the App is built; let it land before anyone can stop the stand-in
    // (a call cut off by stop() would retry on a timer for a minute).
    if (slack) await waitUntil(() => slack.standIn.calls('auth.test').length > 0, 2000);

    // ---- the console and /slack/events on one port ----
    const team: SlackTeam = {
      teamId: config.slack.teamId,
      teamDomain: config.slack.teamDomain,
      appId: slack?.standIn.appId ?? 'A0JITAPP',
      botUserId: slack?.standIn.botUserId ?? 'U0JITBOT',
      verificationToken: 'sandbox-verification-token',
    };
    // The console server binds first so the request URL (with its port) is known to the client.
    let signedSlackClient: SignedSlackClient | undefined;
    let state: SandboxState | undefined;
    const consoleServer: RunningConsoleServer = await startConsoleServer({
      port,
      host: bindHost,
      state: () => requireValue(state),
      client: () => requireValue(signedSlackClient),
      ...(identityCenter ? { identityCenter: identityCenter.standIn } : {}),
      ...(slack ? { slackStandIn: slack.standIn } : {}),
      slackListener: () => slackApp?.listener,
      subscribe: (listener) => {
        const unsubscribeSlack = slack?.standIn.subscribe(() => listener('slack'));
        const unsubscribeAcks = requireValue(signedSlackClient).onAckReply(() => listener('slack'));
        return () => {
          unsubscribeSlack?.();
          unsubscribeAcks();
        };
      },
    });
    cleanups.push(() => consoleServer.close());
    const url = `http://localhost:${consoleServer.port}`;
    const slackEventsUrl = `${url}/slack/events`;
    signedSlackClient = new SignedSlackClient({
      requestUrl: slackEventsUrl,
      signingSecret: plan.slack.signingSecret,
      team,
      personas: config.personas,
      channels: config.slack.channels,
      ...(slack ? { slack } : {}),
      botToken: plan.slack.botToken,
    });
    // Slack tells the app when an admin deactivates or reactivates someone (user_change); the
    // stand-in's change is delivered the same way, signed, to /slack/events.
    if (slack) {
      const client = signedSlackClient;
      const unsubscribe = slack.standIn.subscribe((event) => {
        if (event.type !== 'user') return;
        client
          .userChanged(event.userId, event.change === 'deactivated')
          .catch((error: unknown) => log(`user_change for ${event.userId} not delivered: ${String(error)}`));
      });
      cleanups.push(async () => unsubscribe());
    }
    const modes = {
      stepFunctions: 'local',
      identityCenter: plan.identityCenter.mode,
      dynamo: plan.dynamo.mode,
      slack: plan.slack.mode,
    };
    state = new SandboxState({
      config,
      policy,
      ...(slack ? { slack } : {}),
      ...(identityCenter ? { identityCenter } : {}),
      stepFunctions: host,
      dynamo: dynamoClient,
      tables: { stateTable: plan.dynamo.stateTable, auditTable: plan.dynamo.auditTable },
      signedClient: signedSlackClient,
      modes,
      msPerMinute,
      slackEventsUrl,
      slackAppReady: () => slackApp !== undefined,
      ...(archive
        ? { archive: { written: () => archive.s3.written(), lagsMs: () => archive.stream.lagsMs() } }
        : {}),
    });

    const services = describeServices({
      plan,
      env,
      msPerMinute,
      sfnUrl: sfn.url,
      lambdaUrl: lambdas.endpoint.url,
      ...(identityCenter ? { identityCenterUrl: identityCenter.url } : {}),
      ...(dynamo ? { dynamo } : {}),
      ...(archive ? { archive: archive.s3 } : {}),
      ...(slack ? { slackUrl: slack.url } : {}),
      slackEventsUrl,
      slackAppReady: slackApp !== undefined,
      region,
    });
    for (const service of services) log(service.line);

    let stopping: Promise<void> | undefined;
    const sandbox: Sandbox = {
      url,
      slackEventsUrl,
      port: consoleServer.port,
      services,
      standIns: {
        ...(identityCenter ? { identityCenter } : {}),
        ...(slack ? { slack } : {}),
        stepFunctions: { host, url: sfn.url },
        ...(dynamo ? { dynamo } : {}),
        ...(archive ? { archive } : {}),
      },
      signedSlackClient,
      state,
      config,
      policy,
      plan,
      tables: { stateTable: plan.dynamo.stateTable, auditTable: plan.dynamo.auditTable },
      get slackAppReady() {
        return slackApp !== undefined;
      },
      stop() {
        stopping ??= runCleanups(cleanups).finally(() => {
          running = undefined;
        });
        return stopping;
      },
    };
    return sandbox;
  } catch (error) {
    await runCleanups(cleanups).catch(() => undefined);
    throw error;
  }
}

async function settleWithin(pending: Set<Promise<unknown>>, timeoutMs: number): Promise<void> {
  if (pending.size === 0) return;
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    Promise.allSettled([...pending]),
    new Promise((resolve) => {
      timer = setTimeout(resolve, timeoutMs);
    }),
  ]);
  clearTimeout(timer);
}

async function waitUntil(condition: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5));
}

function requireValue<T>(value: T | undefined): T {
  if (value === undefined) throw new Error('The sandbox is still starting');
  return value;
}

async function runCleanups(cleanups: Array<() => Promise<void> | void>): Promise<void> {
  // Last started, first stopped: the console and the workflow before the stand-ins they call.
  const errors: unknown[] = [];
  for (const cleanup of cleanups.splice(0).reverse()) {
    try {
      await cleanup();
    } catch (error) {
      errors.push(error);
    }
  }
  if (errors.length > 0) throw errors[0];
}

function portFromEnv(env: NodeJS.ProcessEnv): number | undefined {
  if (env.PORT === undefined || env.PORT === '') return undefined;
  const port = Number(env.PORT);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`PORT=${env.PORT} is not a port`);
  return port;
}

/** The policy must name what the stand-in knows, or every request fails in a confusing way. */
function checkConsistency(
  config: SandboxConfig,
  policy: Policy,
  policyFile: string,
  sandboxFile: string,
): void {
  const seed = config.identityCenter;
  const problems: string[] = [];
  if (policy.identityCenter.instanceArn !== seed.instanceArn)
    problems.push(
      `identityCenter.instanceArn ${policy.identityCenter.instanceArn} is not ${seed.instanceArn}`,
    );
  if (policy.identityCenter.identityStoreId !== seed.identityStoreId)
    problems.push(
      `identityCenter.identityStoreId ${policy.identityCenter.identityStoreId} is not ${seed.identityStoreId}`,
    );
  for (const account of policy.accounts)
    if (!seed.accounts.some((a) => a.id === account.id))
      problems.push(`account ${account.id} is not in the sandbox file`);
  for (const ps of policy.permissionSets)
    if (!seed.permissionSets.some((p) => p.arn === ps.arn))
      problems.push(`permission set ${ps.name} (${ps.arn}) is not in the sandbox file`);
  if (problems.length > 0)
    throw new Error(
      `${path.relative(REPO_ROOT, policyFile)} does not match ${path.relative(REPO_ROOT, sandboxFile)}:\n  ${problems.join('\n  ')}`,
    );
}

function describeServices(input: {
  plan: ServicePlan;
  env: NodeJS.ProcessEnv;
  msPerMinute: number;
  sfnUrl: string;
  lambdaUrl: string;
  identityCenterUrl?: string;
  dynamo?: LocalDynamo & { persistedIn?: string };
  archive?: RunningS3;
  slackUrl?: string;
  slackEventsUrl: string;
  slackAppReady: boolean;
  region: string;
}): ServiceLine[] {
  const { plan } = input;
  const lines: ServiceLine[] = [
    {
      service: 'Step Functions',
      mode: 'local',
      line: `Step Functions: local (aws-local-stepfunctions) at ${input.sfnUrl}, workers in-process, ${describeScale(input.msPerMinute)}`,
    },
    {
      service: 'Lambda',
      mode: 'local',
      line: `Lambda: local Invoke endpoint at ${input.lambdaUrl} (audit-writer, decisions: in-process)`,
    },
    input.identityCenterUrl
      ? {
          service: 'Identity Center',
          mode: 'stand-in',
          line: `Identity Center: stand-in at ${input.identityCenterUrl}`,
        }
      : {
          service: 'Identity Center',
          mode: 'real',
          line: `Identity Center: AWS (${describeAwsIdentity(plan, input.env)}, ${input.region})`,
        },
    input.dynamo
      ? {
          service: 'DynamoDB',
          mode: 'stand-in',
          line: `DynamoDB: dynalite at ${input.dynamo.endpoint} (${
            input.dynamo.persistedIn ? `persisted in ${input.dynamo.persistedIn}` : 'in memory'
          })`,
        }
      : {
          service: 'DynamoDB',
          mode: 'real',
          line: `DynamoDB: AWS (tables ${plan.dynamo.stateTable}, ${plan.dynamo.auditTable})`,
        },
    ...(input.archive
      ? [
          {
            service: 'Audit archive' as const,
            mode: 'stand-in' as const,
            line: `Audit archive: S3 stand-in at ${input.archive.url} (objects in ${input.archive.directory}), fed by a modelled table stream`,
          },
        ]
      : []),
    input.slackUrl
      ? {
          service: 'Slack Web API',
          mode: 'stand-in',
          line: `Slack Web API: stand-in at ${input.slackUrl}/api/`,
        }
      : { service: 'Slack Web API', mode: 'real', line: 'Slack Web API: Slack (SLACK_BOT_TOKEN)' },
    input.slackAppReady
      ? {
          service: 'Slack app',
          mode: 'local',
          line: `Slack request URL: ${input.slackEventsUrl} (signing secret: ${
            plan.slack.signingSecretSource === 'env' ? 'SLACK_SIGNING_SECRET' : 'sandbox default'
          })`,
        }
      : {
          service: 'Slack app',
          mode: 'missing',
          line: `Slack request URL: ${input.slackEventsUrl} answers 503: functions/slack is not available`,
        },
  ];
  return lines;
}
