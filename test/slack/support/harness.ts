import { readFileSync } from 'node:fs';
import path from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  SendTaskFailureCommand,
  SendTaskSuccessCommand,
  SFNClient,
  StartExecutionCommand,
  type StartExecutionCommandInput,
} from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { DynamoDbAuditLog } from '../../../functions/adapters/dynamodb-audit-log';
import { DynamoDbRequestStore } from '../../../functions/adapters/dynamodb-request-store';
import { SlackNotifier } from '../../../functions/adapters/slack-notifier';
import { SlackWebApiClient } from '../../../functions/adapters/slack-web-api';
import { StepFunctionsWorkflow } from '../../../functions/adapters/step-functions-workflow';
import { AuditTrail } from '../../../functions/core/audit';
import { RequestDecisions } from '../../../functions/core/decisions';
import type { ExecutionInput, RequestRecord } from '../../../functions/core/model';
import { approvalChannelFor, findRule, type Policy } from '../../../functions/core/policy';
import { parsePolicy } from '../../../functions/core/policy-file';
import type {
  AssignmentDirectory,
  RequestStore,
  SessionDurations,
  UserDirectory,
} from '../../../functions/core/ports';
import { LifecycleSteps } from '../../../functions/core/steps';
import { AWS_CALLS, awsClientConfig, SLACK_CLIENTS } from '../../../functions/shared/clients';
import {
  type DecisionHandoff,
  type DecisionJob,
  decisionJobSchema,
  performDecision,
} from '../../../functions/slack/decision-job';
import type { SlackAppDeps } from '../../../functions/slack/deps';
import { createHttpSlackApp, type HttpSlackApp } from '../../../functions/slack/http';
import { SlackPeople } from '../../../functions/slack/people';
import { slackSignature } from '../../../local/sandbox/slack-payloads';
import { type RunningSlackApi, startSlackApiStandIn } from '../../../local/slack-api';
import { createLocalTables, type LocalDynamo, startLocalDynamo } from '../../support/dynamo';

// One Slack app under test: the real Bolt App on its HTTP receiver, the Slack Web API stand-in
// (records every call), DynamoDB on dynalite, Step Functions through aws-sdk-client-mock, and
// requests signed here exactly as Slack signs them.

export const SIGNING_SECRET = 'test-signing-secret-0123456789abcdef';
export const BOT_TOKEN = 'xoxb-test-token';
export const STATE_MACHINE_ARN = 'arn:aws:states:us-east-1:123456789012:stateMachine:access-request';
export const TEAM_ID = 'T0SANDBOX';

export const PEOPLE = {
  alice: { id: 'U0ALICE', name: 'alice', email: 'alice@example.com' },
  // Slack has Bob's address in mixed case; Identity Center stores it in lower case.
  bob: { id: 'U0BOB', name: 'bob', email: 'Bob@Example.com' },
  carol: { id: 'U0CAROL', name: 'carol', email: 'carol@example.com' },
  dave: { id: 'U0DAVE', name: 'dave', email: 'dave@example.com' },
  // Allowed nothing by the example policy.
  erin: { id: 'U0ERIN', name: 'erin', email: 'erin@elsewhere.org' },
  // In the policy (via *@example.com) but not in Identity Center.
  frank: { id: 'U0FRANK', name: 'frank', email: 'frank@example.com' },
  // A Slack profile without an email (users:read.email missing, or a guest).
  nomail: { id: 'U0NOMAIL', name: 'nomail' },
} as const;

/** Identity Center users, matched exactly (a directory may be case-sensitive). */
const IDENTITY_CENTER: Record<string, string> = {
  'alice@example.com': '9067a1b2c3-alice',
  'bob@example.com': '9067a1b2c3-bob',
  'carol@example.com': '9067a1b2c3-carol',
  'dave@example.com': '9067a1b2c3-dave',
};

export function examplePolicy(): Policy {
  return parsePolicy(readFileSync(path.join(__dirname, '../../fixtures/email-groups-policy.yaml'), 'utf8'));
}

/** Counts calls to every method of an object (the ack-path test reads them). */
export function counting<T extends object>(target: T): { proxy: T; calls: string[] } {
  const calls: string[] = [];
  const proxy = new Proxy(target, {
    get(obj, prop, receiver) {
      const value = Reflect.get(obj, prop, receiver);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        calls.push(String(prop));
        return (value as (...a: unknown[]) => unknown).apply(obj, args);
      };
    },
  });
  return { proxy, calls };
}

export interface Harness {
  policy: Policy;
  slack: RunningSlackApi;
  http: HttpSlackApp;
  url: string;
  sfn: ReturnType<typeof mockClient>;
  store: DynamoDbRequestStore;
  storeCalls: string[];
  userCalls: string[];
  steps: LifecycleSteps;
  notifier: SlackNotifier;
  deps: SlackAppDeps;
  post(
    body: string,
    contentType: string,
    sign?: SignOptions,
    headers?: Record<string, string>,
  ): Promise<Response>;
  command(
    user: Person,
    text?: string,
  ): Promise<{ response: Response; triggerId: string; responseUrl: string }>;
  interact(payload: object, sign?: SignOptions): Promise<Response>;
  click(user: Person, actionId: string, value: string, where: ClickOrigin): Promise<Response>;
  submit(user: Person, view: SubmittedView): Promise<Response>;
  /** An Events API delivery; `headers` as Slack adds them (X-Slack-Retry-Num on a redelivery). */
  event(event: object, headers?: Record<string, string>): Promise<Response>;
  startedExecutions(): StartExecutionCommandInput[];
  /** Runs Validate + RequestApproval of the workflow for an execution input, with this task token. */
  runUntilApproval(input: ExecutionInput, taskToken: string): Promise<RequestRecord>;
  /** Waits for the decision jobs handed off so far (the decisions function's work). */
  decisionsSettled(): Promise<void>;
  /** Every job the Slack app handed to the decisions function, as it received them. */
  handedOff: DecisionJob[];
  close(): Promise<void>;
}

export type Person = { id: string; name: string };
export type ClickOrigin = { channel: string; ts: string } | 'home' | { modal: string };
export interface SubmittedView {
  id: string;
  callbackId: string;
  privateMetadata?: string;
  values: Record<string, Record<string, unknown>>;
}
export interface SignOptions {
  timestamp?: number;
  signature?: string | null;
}

export function sign(body: string, timestamp: number, secret = SIGNING_SECRET): string {
  return slackSignature(secret, timestamp, body);
}

export const FORM = 'application/x-www-form-urlencoded';

export async function startHarness(
  options: { policy?: Policy; sessionDurations?: SessionDurations } = {},
): Promise<Harness> {
  const policy = options.policy ?? examplePolicy();
  const dynamo: LocalDynamo = await startLocalDynamo();
  const client = new DynamoDBClient({
    endpoint: dynamo.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    ...awsClientConfig(AWS_CALLS.dynamoDb),
  });
  const tables = { stateTable: 'jit-state', auditTable: 'jit-audit' };
  await createLocalTables(client, tables);
  const slack = await startSlackApiStandIn({
    users: Object.values(PEOPLE).map((p) => ({
      id: p.id,
      name: p.name,
      ...('email' in p ? { email: p.email } : {}),
    })),
    tokens: [BOT_TOKEN],
    strictTriggerIds: true,
  });
  const slackApiUrl = `${slack.url}/api/`;

  const sfn = mockClient(SFNClient);
  const started = new Set<string>();
  sfn.on(StartExecutionCommand).callsFake((input: StartExecutionCommandInput) => {
    if (input.name && started.has(input.name)) {
      const error = new Error(`Execution Already Exists: '${input.name}'`);
      error.name = 'ExecutionAlreadyExists';
      throw error;
    }
    if (input.name) started.add(input.name);
    return {
      executionArn: `${STATE_MACHINE_ARN.replace(':stateMachine:', ':execution:')}:${input.name}`,
      startDate: new Date(),
    };
  });
  sfn.on(SendTaskSuccessCommand).resolves({});
  sfn.on(SendTaskFailureCommand).resolves({});
  const workflow = new StepFunctionsWorkflow(
    new SFNClient({ region: 'us-east-1', ...awsClientConfig(AWS_CALLS.stepFunctions) }),
    STATE_MACHINE_ARN,
  );

  const realStore = new DynamoDbRequestStore(client, tables.stateTable);
  const { proxy: store, calls: storeCalls } = counting<RequestStore>(realStore);
  const clock = { now: () => new Date() };
  const ids = {
    next: (() => {
      let n = 0;
      return () => `evt-${Date.now()}-${++n}`;
    })(),
  };
  const audit = new AuditTrail(new DynamoDbAuditLog(client, tables.auditTable), clock, ids);
  const notifier = new SlackNotifier(
    new SlackWebApiClient(BOT_TOKEN, SLACK_CLIENTS.worker.options, { slackApiUrl }),
    {
      approvalChannelFor: (record) => {
        const rule = record.ruleName ? findRule(policy, record.ruleName) : undefined;
        return rule ? approvalChannelFor(policy, rule) : policy.slack.approvalChannel;
      },
      notifyApproversByDm: (record) => {
        const rule = record.ruleName ? findRule(policy, record.ruleName) : undefined;
        return !!rule && rule.approval !== 'none' && rule.approval.notifyApproversByDm;
      },
      ...(policy.identityCenter.portalUrl ? { portalUrl: policy.identityCenter.portalUrl } : {}),
      ssoRegion: policy.identityCenter.region,
    },
  );
  const directory: UserDirectory = {
    findUserIdByEmail: async (email) => IDENTITY_CENTER[email],
  };
  const { proxy: users, calls: userCalls } = counting(directory);
  const decisions = new RequestDecisions({ policy, store, audit, workflow, notifier, clock });
  const unused = () => {
    throw new Error('not used by these tests');
  };
  const assignments: AssignmentDirectory = {
    listUserPrincipals: unused,
    create: unused,
    creationStatus: unused,
    delete: unused,
    deletionStatus: unused,
  };
  const steps = new LifecycleSteps({
    policy,
    store: realStore,
    audit,
    assignments,
    users: directory,
    notifier,
    clock,
  });
  // The decisions function, modelled as Lambda's asynchronous invoke: the listener's submit returns
  // at once (Slack's answer never waits for it) and the job, serialized as it would cross the
  // Lambda boundary, runs afterwards; `post` waits for it, so a test still sees all a click caused.
  const pendingJobs = new Set<Promise<void>>();
  const decisionClient = new SlackWebApiClient(BOT_TOKEN, SLACK_CLIENTS.worker.options, { slackApiUrl });
  const decisionContext = { policy, store, clock, people: new SlackPeople(), decisions };
  const handoff: DecisionHandoff = {
    submit: async (job) => {
      const received = decisionJobSchema.parse(JSON.parse(JSON.stringify(job)));
      handedOff.push(received);
      const run = performDecision(decisionContext, decisionClient, received);
      pendingJobs.add(run);
      run.then(
        () => pendingJobs.delete(run),
        () => pendingJobs.delete(run),
      );
    },
  };
  const deps: SlackAppDeps = {
    policy,
    store,
    handoff,
    workflow,
    users,
    clock,
    ...(options.sessionDurations ? { sessionDurations: options.sessionDurations } : {}),
  };
  const decisionsSettled = async () => {
    while (pendingJobs.size > 0) await Promise.all([...pendingJobs]);
  };
  const handedOff: DecisionJob[] = [];

  // processBeforeResponse: the HTTP answer comes when listeners finish, as on Lambda, so a test
  // can assert on everything a request caused as soon as its response arrives.
  const http = createHttpSlackApp({
    signingSecret: SIGNING_SECRET,
    botToken: BOT_TOKEN,
    clientOptions: { ...SLACK_CLIENTS.app.options, slackApiUrl },
    deps,
    processBeforeResponse: true,
  });
  const { url } = await http.start(0);
  // Bolt calls auth.test once, when the App is built (per container, not per request): let it land.
  for (let i = 0; i < 100 && slack.standIn.calls('auth.test').length === 0; i++)
    await new Promise((resolve) => setTimeout(resolve, 10));

  const post = async (
    body: string,
    contentType: string,
    signOptions: SignOptions = {},
    extraHeaders: Record<string, string> = {},
  ) => {
    const timestamp = signOptions.timestamp ?? Math.floor(Date.now() / 1000);
    const headers: Record<string, string> = { ...extraHeaders, 'content-type': contentType };
    if (signOptions.signature !== null) {
      headers['x-slack-request-timestamp'] = String(timestamp);
      headers['x-slack-signature'] = signOptions.signature ?? sign(body, timestamp);
    }
    const response = await fetch(`${url}/slack/events`, { method: 'POST', headers, body });
    await decisionsSettled();
    return response;
  };
  const interact = (payload: object, signOptions?: SignOptions) =>
    post(new URLSearchParams({ payload: JSON.stringify(payload) }).toString(), FORM, signOptions);

  const harness: Harness = {
    decisionsSettled,
    handedOff,
    policy,
    slack,
    http,
    url,
    sfn,
    store: realStore,
    storeCalls,
    userCalls,
    steps,
    notifier,
    deps,
    post,
    interact,
    async command(user, text = '') {
      const triggerId = slack.standIn.issueTriggerId(user.id);
      const responseUrl = slack.responseUrl({ channel: 'C0GENERAL', userId: user.id });
      const body = new URLSearchParams({
        token: 'legacy-verification-token',
        team_id: TEAM_ID,
        team_domain: 'sandbox',
        channel_id: 'C0GENERAL',
        channel_name: 'general',
        user_id: user.id,
        user_name: user.name,
        command: '/request-access',
        text,
        api_app_id: 'A0JITAPP',
        response_url: responseUrl,
        trigger_id: triggerId,
      }).toString();
      return { response: await post(body, FORM), triggerId, responseUrl };
    },
    click(user, actionId, value, where) {
      const base = {
        type: 'block_actions',
        team: { id: TEAM_ID, domain: 'sandbox' },
        user: { id: user.id, username: user.name, name: user.name, team_id: TEAM_ID },
        api_app_id: 'A0JITAPP',
        trigger_id: slack.standIn.issueTriggerId(user.id),
        actions: [
          {
            type: 'button',
            action_id: actionId,
            block_id: 'decision',
            value,
            action_ts: `${Date.now() / 1000}`,
          },
        ],
      };
      if (where === 'home')
        return interact({
          ...base,
          container: { type: 'view', view_id: 'VHOME' },
          view: { id: 'VHOME', type: 'home' },
        });
      if ('modal' in where)
        return interact({
          ...base,
          container: { type: 'view', view_id: where.modal },
          view: { id: where.modal, type: 'modal' },
        });
      return interact({
        ...base,
        container: { type: 'message', message_ts: where.ts, channel_id: where.channel, is_ephemeral: false },
        channel: { id: where.channel, name: 'approvals' },
        message: { type: 'message', ts: where.ts, text: 'Access request' },
        response_url: slack.responseUrl({ channel: where.channel, userId: user.id, messageTs: where.ts }),
      });
    },
    submit(user, view) {
      return interact({
        type: 'view_submission',
        team: { id: TEAM_ID, domain: 'sandbox' },
        user: { id: user.id, username: user.name, name: user.name, team_id: TEAM_ID },
        api_app_id: 'A0JITAPP',
        trigger_id: slack.standIn.issueTriggerId(user.id),
        view: {
          id: view.id,
          team_id: TEAM_ID,
          type: 'modal',
          callback_id: view.callbackId,
          private_metadata: view.privateMetadata ?? '',
          hash: '1.abc',
          blocks: [],
          state: { values: view.values },
        },
      });
    },
    event(event, headers = {}) {
      return post(
        JSON.stringify({
          token: 'legacy-verification-token',
          team_id: TEAM_ID,
          api_app_id: 'A0JITAPP',
          type: 'event_callback',
          event_id: `Ev${Date.now()}`,
          event_time: Math.floor(Date.now() / 1000),
          event,
        }),
        'application/json',
        {},
        headers,
      );
    },
    startedExecutions() {
      return sfn.commandCalls(StartExecutionCommand).map((call) => call.args[0].input);
    },
    async runUntilApproval(input, taskToken) {
      const validation = await steps.validate(input);
      if (!validation.valid) throw new Error(`validation failed: ${validation.reason}`);
      await steps.requestApproval({ taskToken, requestId: input.request.requestId });
      const record = await realStore.getRequest(input.request.requestId);
      if (!record) throw new Error('not stored');
      return record;
    },
    async close() {
      await http.stop();
      await slack.close();
      await dynamo.close();
      sfn.restore();
    },
  };
  return harness;
}

/** A request form's state.values as Slack sends them. */
export function formValues(answers: {
  account?: string;
  permissionSet?: string;
  duration?: string;
  reason?: string | null;
  ticket?: string | null;
}): Record<string, Record<string, unknown>> {
  const select = (value: string | undefined) =>
    value === undefined ? null : { text: { type: 'plain_text', text: value }, value };
  return {
    account: { account: { type: 'external_select', selected_option: select(answers.account) } },
    permission_set: {
      permission_set: { type: 'external_select', selected_option: select(answers.permissionSet) },
    },
    duration: { duration: { type: 'static_select', selected_option: select(answers.duration) } },
    reason: { reason: { type: 'plain_text_input', value: answers.reason ?? null } },
    ticket: { ticket: { type: 'plain_text_input', value: answers.ticket ?? null } },
  };
}
