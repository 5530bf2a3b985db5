import { readFileSync } from 'node:fs';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { IdentitystoreClient } from '@aws-sdk/client-identitystore';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { SFNClient } from '@aws-sdk/client-sfn';
import { SSOAdminClient } from '@aws-sdk/client-sso-admin';
import { WebClient } from '@slack/web-api';
import { DynamoDbAdmissionSchedule } from '../adapters/dynamodb-admission-schedule';
import { DynamoDbAuditLog } from '../adapters/dynamodb-audit-log';
import { DynamoDbRequestStore } from '../adapters/dynamodb-request-store';
import { IdentityStoreUsers } from '../adapters/identity-store-users';
import { LambdaAuditLog } from '../adapters/lambda-audit-log';
import { LambdaDecisionHandoff } from '../adapters/lambda-decisions';
import { SlackNotifier } from '../adapters/slack-notifier';
import { SsoAdminDirectory } from '../adapters/sso-admin-directory';
import { StepFunctionsWorkflow } from '../adapters/step-functions-workflow';
import type { OrgTrail } from '../core/activity-query';
import { Admission, ChannelPacing } from '../core/admission';
import { AuditTrail } from '../core/audit';
import { RequestDecisions } from '../core/decisions';
import { approvalChannelFor, findRule, type Policy, parsePolicy } from '../core/policy';
import type { Clock, Notifier } from '../core/ports';
import { Reconciler, type ReconcilerOptions } from '../core/reconciler';
import { LifecycleSteps } from '../core/steps';
import type { DecisionContext } from '../slack/interaction';
import { SlackPeople } from '../slack/people';
import { AWS_CALLS, awsClientConfig, SLACK_CLIENTS } from './clients';
import { ENV, optionalEnv, requiredEnv } from './config';
import { sortableIds } from './ids';
import { logger, notificationNotSent } from './logger';
import { loadSlackCredentials } from './slack-credentials';

// Wires adapters to the core, once per container. Everything is built on first use so a
// function only pays for what it touches, and tests can set the environment first.

let currentClock: Clock = { now: () => new Date() };
/** Every adapter and core object built here reads time through this, so tests can scale it. */
const systemClock: Clock = { now: () => currentClock.now() };

/** Replaces the clock of everything wired here (the campaign runs on scaled time); no argument restores real time. */
export function setRuntimeClock(clock?: Clock): void {
  currentClock = clock ?? { now: () => new Date() };
}

let cachedPolicy: Policy | undefined;
export function policy(): Policy {
  cachedPolicy ??= parsePolicy(readFileSync(requiredEnv(ENV.policyFile), 'utf8'));
  return cachedPolicy;
}

// Retries and timeouts of every client: functions/shared/clients.ts (who retries what, and why).

let dynamo: DynamoDBClient | undefined;
function dynamoClient(): DynamoDBClient {
  dynamo ??= new DynamoDBClient(awsClientConfig(AWS_CALLS.dynamoDb));
  return dynamo;
}

let store: DynamoDbRequestStore | undefined;
export function requestStore(): DynamoDbRequestStore {
  store ??= new DynamoDbRequestStore(dynamoClient(), requiredEnv(ENV.stateTable), systemClock);
  return store;
}

let lambda: LambdaClient | undefined;
/** Synchronous invokes of the audit writer (their timeout outlasts the writer's own). */
export function lambdaClient(): LambdaClient {
  lambda ??= new LambdaClient(awsClientConfig(AWS_CALLS.auditWriterInvoke));
  return lambda;
}

let asyncLambda: LambdaClient | undefined;
/** Asynchronous invokes (the Slack function's hand-off), within the Slack function's 10 s. */
function asyncLambdaClient(): LambdaClient {
  asyncLambda ??= new LambdaClient(awsClientConfig(AWS_CALLS.asyncInvoke));
  return asyncLambda;
}

let auditLog: DynamoDbAuditLog | undefined;
/** The audit table itself: appended to only by the audit-writer function, read by the reconciler. */
export function auditTable(): DynamoDbAuditLog {
  auditLog ??= new DynamoDbAuditLog(dynamoClient(), requiredEnv(ENV.auditTable));
  return auditLog;
}

let audit: AuditTrail | undefined;
/** The trail as every function writes it: through the audit-writer function (infra grants no other role PutItem). */
export function auditTrail(): AuditTrail {
  audit ??= new AuditTrail(
    new LambdaAuditLog(lambdaClient(), requiredEnv(ENV.auditWriterFunction), {
      list: (requestId) => auditTable().list(requestId),
    }),
    systemClock,
    sortableIds,
    (event) => logger.info('audit', { audit: event }),
  );
  return audit;
}

let admissionInstance: Admission | undefined;
/** Admission control at Identity Center's pace (core/admission.ts), as the policy sets it. */
export function admission(): Admission {
  const { callsPerSecond, maxWait } = policy().admission;
  admissionInstance ??= new Admission(
    new DynamoDbAdmissionSchedule(dynamoClient(), requiredEnv(ENV.stateTable)),
    { callsPerSecond, maxWaitSeconds: maxWait * 60 },
    () => systemClock.now(),
  );
  return admissionInstance;
}

/** Approval posts at each channel's pace (core/admission.ts), waiting at most admission.maxWait. */
function channelPacing(): ChannelPacing {
  return new ChannelPacing(
    (channel) =>
      new DynamoDbAdmissionSchedule(dynamoClient(), requiredEnv(ENV.stateTable), `slack-channel#${channel}`),
    policy().admission.maxWait * 60,
    () => systemClock.now(),
  );
}

let assignments: SsoAdminDirectory | undefined;
export function assignmentDirectory(): SsoAdminDirectory {
  const p = policy();
  assignments ??= new SsoAdminDirectory(
    new SSOAdminClient({ region: p.identityCenter.region, ...awsClientConfig(AWS_CALLS.ssoAdmin) }),
    p.identityCenter.instanceArn,
  );
  return assignments;
}

let users: IdentityStoreUsers | undefined;
export function userDirectory(): IdentityStoreUsers {
  const p = policy();
  users ??= new IdentityStoreUsers(
    new IdentitystoreClient({ region: p.identityCenter.region, ...awsClientConfig(AWS_CALLS.identityStore) }),
    p.identityCenter.identityStoreId,
  );
  return users;
}

let workflow: StepFunctionsWorkflow | undefined;
export function stepFunctionsWorkflow(): StepFunctionsWorkflow {
  workflow ??= new StepFunctionsWorkflow(
    new SFNClient(awsClientConfig(AWS_CALLS.stepFunctions)),
    requiredEnv(ENV.stateMachineArn),
  );
  return workflow;
}

let slackClient: Promise<WebClient> | undefined;
export function slackWebClient(): Promise<WebClient> {
  slackClient ??= loadSlackCredentials().then((credentials) => {
    const slackApiUrl = optionalEnv(ENV.slackApiUrl);
    return new WebClient(credentials.botToken, {
      ...(slackApiUrl ? { slackApiUrl } : {}),
      ...SLACK_CLIENTS.worker.options,
    });
  });
  return slackClient;
}

let notifier: Promise<SlackNotifier> | undefined;
export function slackNotifier(): Promise<SlackNotifier> {
  notifier ??= slackWebClient().then((client) => {
    const p = policy();
    const alertChannel = optionalEnv(ENV.alertChannel);
    const portalUrl = p.identityCenter.portalUrl;
    const trail = orgTrail();
    return new SlackNotifier(client, {
      approvalChannelFor: (record) => {
        const rule = record.ruleName ? findRule(p, record.ruleName) : undefined;
        return rule ? approvalChannelFor(p, rule) : p.slack.approvalChannel;
      },
      notifyApproversByDm: (record) => {
        const rule = record.ruleName ? findRule(p, record.ruleName) : undefined;
        return !!rule && rule.approval !== 'none' && rule.approval.notifyApproversByDm;
      },
      ...(alertChannel ? { alertChannel } : {}),
      ...(portalUrl ? { portalUrl } : {}),
      ...(trail ? { orgTrail: trail } : {}),
    });
  });
  return notifier;
}

/** The organization trail's Athena table, when the deployment names one (ORG_TRAIL_TABLE). */
export function orgTrail(): OrgTrail | undefined {
  const table = optionalEnv(ENV.orgTrailTable);
  return table ? { table, region: optionalEnv('AWS_REGION') ?? 'us-east-1' } : undefined;
}

let decisionContext: Promise<{ ctx: DecisionContext; client: WebClient }> | undefined;
/** The decisions function's wiring: the core's decisions, the store, Slack (client, people cache). */
export function decisionContextFromRuntime(): Promise<{ ctx: DecisionContext; client: WebClient }> {
  decisionContext ??= Promise.all([requestDecisions(), slackNotifier(), slackWebClient()]).then(
    ([decisions, notifier, client]) => ({
      ctx: {
        policy: policy(),
        store: requestStore(),
        clock: systemClock,
        people: new SlackPeople(),
        ...(orgTrail() ? { orgTrail: orgTrail() } : {}),
        decisions,
        notifier,
      },
      client,
    }),
  );
  return decisionContext;
}

let handoff: LambdaDecisionHandoff | undefined;
/** How the Slack function passes a decision click on (DECISIONS_FUNCTION, asynchronous invoke). */
export function decisionHandoff(): LambdaDecisionHandoff {
  handoff ??= new LambdaDecisionHandoff(asyncLambdaClient(), requiredEnv(ENV.decisionsFunction));
  return handoff;
}

/**
 * The Slack notifier, built on its first message: steps that never notify (validate, grant,
 * revoke and the polls) then never read the Slack secret, and their roles need no access to it.
 */
const deferredSlackNotifier: Notifier = {
  requestApproval: async (...args) => (await slackNotifier()).requestApproval(...args),
  updateRequestMessages: async (...args) => (await slackNotifier()).updateRequestMessages(...args),
  notifyRequester: async (...args) => (await slackNotifier()).notifyRequester(...args),
  alert: async (...args) => (await slackNotifier()).alert(...args),
};

let steps: Promise<LifecycleSteps> | undefined;
export function lifecycleSteps(): Promise<LifecycleSteps> {
  steps ??= Promise.resolve(
    new LifecycleSteps({
      policy: policy(),
      store: requestStore(),
      audit: auditTrail(),
      assignments: assignmentDirectory(),
      users: userDirectory(),
      notifier: deferredSlackNotifier,
      clock: systemClock,
      onNotifyFailed: notificationNotSent,
      channelPacing: channelPacing(),
    }),
  );
  return steps;
}

let decisions: Promise<RequestDecisions> | undefined;
export function requestDecisions(): Promise<RequestDecisions> {
  decisions ??= slackNotifier().then(
    (n) =>
      new RequestDecisions({
        policy: policy(),
        store: requestStore(),
        audit: auditTrail(),
        workflow: stepFunctionsWorkflow(),
        notifier: n,
        clock: systemClock,
        onNotifyFailed: notificationNotSent,
      }),
  );
  return decisions;
}

let reconcilerInstance: Promise<Reconciler> | undefined;
/** The reconciler Lambda's core: the same adapters as the workflow, with the Step Functions client. */
export function reconciler(options: Partial<ReconcilerOptions> = {}): Promise<Reconciler> {
  reconcilerInstance ??= slackNotifier().then(
    (n) =>
      new Reconciler(
        {
          policy: policy(),
          store: requestStore(),
          assignments: assignmentDirectory(),
          workflow: stepFunctionsWorkflow(),
          audit: auditTrail(),
          notifier: n,
          clock: systemClock,
        },
        options,
      ),
  );
  return reconcilerInstance;
}

/** Forgets every cached client and setting (tests change the environment between suites). */
export function resetRuntime(): void {
  cachedPolicy = undefined;
  dynamo = undefined;
  store = undefined;
  lambda = undefined;
  asyncLambda = undefined;
  auditLog = undefined;
  audit = undefined;
  admissionInstance = undefined;
  assignments = undefined;
  users = undefined;
  workflow = undefined;
  slackClient = undefined;
  notifier = undefined;
  steps = undefined;
  decisions = undefined;
  decisionContext = undefined;
  handoff = undefined;
  reconcilerInstance = undefined;
}
