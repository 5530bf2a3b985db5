import path from 'node:path';
import { ArnFormat, CfnOutput, Duration, Fn, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as destinations from 'aws-cdk-lib/aws-lambda-destinations';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';
import { IDENTITY_CENTER_GROUP } from '../functions/core/directory';
import { directorySelectors } from '../functions/core/policy';
import { FUNCTION_TIMEOUT_SECONDS } from '../functions/shared/clients';
import { ENV } from '../functions/shared/config';
import { AuditArchive } from './audit-archive';
import { type FunctionName, WORKERS, writeCompiledPolicy } from './bundling';
import type { DeployConfig } from './config';
import {
  createAssignmentStatement,
  deleteAssignmentStatement,
  describeSessionDurationsStatement,
  describeStatusStatement,
  describeUserStatement,
  endSessionsStatements,
  GROUP_MEMBERSHIP_REASON,
  GROUP_READ_REASON,
  getUserIdStatement,
  groupMembershipStatements,
  identityCenterKeyStatement,
  listAssignmentsStatement,
  provisionReservedRolesStatements,
  RESERVED_ROLES_REASON,
  readGroupsStatements,
  reservedRolesNeeded,
  USER_LOOKUP_REASON,
} from './identity-center-access';
import { Monitoring } from './monitoring';
import { acknowledge } from './nag';
import { ProductFunction, type StateTableAccess } from './product-function';

/** The workflow definition: the same file the local sandbox runs. */
export const ASL_FILE = path.join(__dirname, '../statemachines/access-request.asl.json');

export const STATE_TABLE_INDEXES = {
  byRequester: { partitionKey: 'gsi1pk', sortKey: 'gsi1sk' },
  byStatus: { partitionKey: 'gsi2pk', sortKey: 'gsi2sk' },
  // Sparse: break-glass uses awaiting review (the Home tab's list, the reconciler's escalation).
  byReview: { partitionKey: 'gsi3pk', sortKey: 'gsi3sk' },
} as const;

export interface JitAccessStackProps extends StackProps {
  config: DeployConfig;
}

const FUNCTION_DESCRIPTIONS: Record<FunctionName, string> = {
  admit: "Admission control: reserves a slot for a phase's Identity Center calls at the policy's pace",
  validate: 'Re-checks a request against the policy, resolves the Identity Center user, stores it',
  'request-approval': 'Callback task: stores the approval task token and asks the approvers in Slack',
  grant: 'Creates the account assignment unless the user already holds it',
  'check-grant': 'Polls the account assignment creation',
  'access-window': 'Callback task: holds the access window token (end early, extend)',
  revoke: 'Deletes the account assignment unless it pre-existed or another request needs it',
  'check-revoke': 'Polls the account assignment deletion',
  'end-sessions':
    "After a deletion: denies the user's live role sessions in the permission set's inline policy (opt-in)",
  finish: 'Final status, Slack message updates, requester DM, alerts',
  slack: 'Slack endpoint (Bolt, AwsLambdaReceiver): verifies, validates, acknowledges, hands decisions off',
  decisions: 'Approve, deny, end and extend clicks handed off by the slack function: decides and answers',
  archiver: 'Copies each linked audit event, once, into the Object Lock archive bucket (audit table stream)',
  'audit-writer': 'The only writer of the audit table: appends events, never overwrites one',
  reconciler: 'Every 5 minutes: revokes grants past their window that are still assigned, alerts',
};

/** Functions that post to Slack or answer it, and so need the Slack secret. */
export const SLACK_FUNCTIONS: readonly FunctionName[] = [
  'request-approval',
  'access-window',
  'finish',
  'slack',
  'decisions',
  'reconciler',
  // Only to alert when live sessions could not be ended (core/session-ending.ts).
  'end-sessions',
];

/**
 * Which state-table items each function reads, writes or deletes, by kind (the store's key
 * layout), enforced with dynamodb:LeadingKeys. Read off the code: the Slack function only reads
 * requests (Home tab, Deny/Extend prechecks); holders records are touched only by the functions
 * that create or delete assignments; task tokens are stored by the two callback tasks and taken
 * (deleted) by decisions and finish.
 */
const STATE_ACCESS: Record<FunctionName, StateTableAccess | undefined> = {
  admit: { read: ['admission'], update: ['admission'] },
  // Validate takes the approval post's number on its channel's schedule (GetItem when refused);
  // it reads the requester's earlier requests for a break-glass reason used before.
  validate: {
    read: ['request', 'channelSchedule'],
    write: ['request'],
    update: ['channelSchedule'],
    indexes: ['byRequester'],
  },
  'request-approval': { read: ['request'], write: ['request', 'token'] },
  grant: {
    read: ['request', 'holders', 'memberships'],
    write: ['request', 'holders', 'memberships'],
    update: ['admission'],
  },
  'check-grant': { read: ['request', 'holders'], write: ['request', 'holders'] },
  'access-window': { read: ['request'], write: ['request', 'token'] },
  revoke: {
    read: ['request', 'holders', 'memberships'],
    write: ['request', 'holders', 'memberships'],
    update: ['admission'],
  },
  'check-revoke': { read: ['holders'], write: ['holders'] },
  // The request record for its alert's channel, nothing else.
  'end-sessions': { read: ['request'] },
  finish: { read: ['request'], write: ['request'], delete: ['token'] },
  slack: { read: ['request'], indexes: ['byRequester', 'byStatus', 'byReview'] },
  decisions: {
    read: ['request'],
    write: ['request'],
    delete: ['token'],
    indexes: ['byRequester', 'byStatus'],
  },
  'audit-writer': undefined,
  archiver: undefined,
  reconciler: {
    read: ['request', 'holders', 'memberships'],
    write: ['request', 'holders', 'memberships'],
    indexes: ['byStatus', 'byReview'],
  },
};

export class JitAccessStack extends Stack {
  readonly functions: Record<FunctionName, ProductFunction>;
  readonly stateTable: dynamodb.Table;
  readonly auditTable: dynamodb.Table;
  readonly auditArchive: AuditArchive;
  readonly stateMachine: sfn.StateMachine;
  readonly slackSecret: secretsmanager.Secret;
  readonly alarmTopic: sns.Topic;
  readonly httpApi: apigw.HttpApi;

  constructor(scope: Construct, id: string, props: JitAccessStackProps) {
    super(scope, id, props);
    const { config } = props;
    const { policy } = config;

    // ---------------------------------------------------------------------------------------
    // Data

    // Requests, task tokens and assignment holders: the live state of the product. No TTL (a
    // request's record is read by the reconciler until it is closed; nothing in it is only
    // ephemeral yet). Deleted with the stack: the audit table is the lasting record.
    this.stateTable = new dynamodb.Table(this, 'StateTable', {
      partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
      sortKey: { name: 'sk', type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      encryption: dynamodb.TableEncryption.AWS_MANAGED,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      removalPolicy: RemovalPolicy.DESTROY,
    });
    for (const [indexName, keys] of Object.entries(STATE_TABLE_INDEXES)) {
      this.stateTable.addGlobalSecondaryIndex({
        indexName,
        partitionKey: { name: keys.partitionKey, type: dynamodb.AttributeType.STRING },
        sortKey: { name: keys.sortKey, type: dynamodb.AttributeType.STRING },
        projectionType: dynamodb.ProjectionType.ALL,
      });
    }

    // Audit events: append-only. No TTL, retained on teardown, deletion protection, and a
    // resource policy that denies item updates and deletes to every principal — the product's
    // roles only get PutItem (with attribute_not_exists in the code) and reads anyway.
    this.auditTable = new dynamodb.Table(this, 'AuditTable', {
      partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
      sortKey: { name: 'sk', type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      encryption: dynamodb.TableEncryption.AWS_MANAGED,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      deletionProtection: true,
      removalPolicy: RemovalPolicy.RETAIN,
      // The archiver's feed (infra/audit-archive.ts): each new item, chain links among them.
      stream: dynamodb.StreamViewType.NEW_IMAGE,
      resourcePolicy: new iam.PolicyDocument({
        statements: [
          new iam.PolicyStatement({
            sid: 'AuditEventsAreNeverChangedOrDeleted',
            effect: iam.Effect.DENY,
            principals: [new iam.AnyPrincipal()],
            actions: [
              'dynamodb:UpdateItem',
              'dynamodb:DeleteItem',
              'dynamodb:BatchWriteItem',
              'dynamodb:PartiQLUpdate',
              'dynamodb:PartiQLDelete',
            ],
            // In a table's resource policy `*` is this table (its own ARN would be circular).
            resources: ['*'],
          }),
        ],
      }),
    });

    // Slack credentials, JSON {botToken, signingSecret}. Created with a placeholder bot token and
    // a random signing secret (every Slack request is refused until the real one is stored);
    // `put-secret-value` sets the real values (docs/DEPLOY.md). Redeploys keep them.
    this.slackSecret = new secretsmanager.Secret(this, 'SlackSecret', {
      description: 'Slack app credentials for jit-access: JSON {"botToken","signingSecret"}',
      generateSecretString: {
        secretStringTemplate: JSON.stringify({ botToken: 'xoxb-replace-me' }),
        generateStringKey: 'signingSecret',
        excludePunctuation: true,
        passwordLength: 32,
      },
      removalPolicy: RemovalPolicy.DESTROY,
    });
    acknowledge(
      this.slackSecret,
      'AwsSolutions-SMG4',
      'Slack bot tokens and signing secrets are issued and rotated in Slack (app settings), not ' +
        'by a Lambda: there is no rotation API to call. Rotate there, then put-secret-value.',
    );

    // ---------------------------------------------------------------------------------------
    // Functions

    // The policy as every bundle carries it: validated here at synth (infra/config.ts), compiled
    // to JSON, so no function parses YAML or runs the policy schema.
    const compiledPolicy = writeCompiledPolicy(this, config.policy);
    const fn = (name: FunctionName, options: { memorySize?: number; timeout?: Duration } = {}) =>
      new ProductFunction(this, pascal(name), {
        name,
        description: FUNCTION_DESCRIPTIONS[name],
        compiledPolicyFile: compiledPolicy,
        logRetention: config.logRetention,
        tracing: config.tracing,
        ...options,
        environment: config.alertChannel ? { [ENV.alertChannel]: config.alertChannel } : {},
      });

    const workers = Object.fromEntries(WORKERS.map((w) => [w.name, fn(w.name)])) as Record<
      (typeof WORKERS)[number]['name'],
      ProductFunction
    >;
    // Slack's 3-second acknowledgement: memory buys CPU, and CPU is cold-start time.
    // Timeouts from functions/shared/clients.ts, where every SDK call's timeout is kept below them.
    const timeout = (name: keyof typeof FUNCTION_TIMEOUT_SECONDS) =>
      Duration.seconds(FUNCTION_TIMEOUT_SECONDS[name]);
    const slack = fn('slack', { memorySize: 1024, timeout: timeout('slack') });
    const decisions = fn('decisions', { memorySize: 512, timeout: timeout('decisions') });
    const auditWriter = fn('audit-writer', { timeout: timeout('audit-writer') });
    const archiver = fn('archiver', { timeout: timeout('archiver') });
    // Shorter than the 5-minute schedule so two runs never overlap.
    const reconciler = fn('reconciler', { memorySize: 512, timeout: timeout('reconciler') });
    this.functions = {
      ...workers,
      slack,
      decisions,
      'audit-writer': auditWriter,
      archiver,
      reconciler,
    } as Record<FunctionName, ProductFunction>;

    for (const [name, product] of Object.entries(this.functions) as Array<[FunctionName, ProductFunction]>) {
      // Only the audit writer may put audit items; the others append by invoking it. Only
      // the functions that talk to Slack read its secret (functions/shared/slack.ts loads it on
      // the first message, so validate, grant, revoke and the polls never do).
      const access = STATE_ACCESS[name];
      if (access) product.bindStateTable(this.stateTable, access);
      // The Slack function writes no events at all: what it starts or hands off is audited by
      // the function that acts on it; Admit only paces (a queued request's trail says nothing new).
      // The archiver copies events; it writes none.
      if (name !== 'audit-writer' && name !== 'slack' && name !== 'admit' && name !== 'archiver')
        product.bindAuditWriter(auditWriter.function);
      if (SLACK_FUNCTIONS.includes(name)) {
        product.bindSlackSecret(this.slackSecret);
        // The revoked DM and the Home tab give each ended grant's query over the organization trail.
        if (config.orgTrailTable) product.setEnv(ENV.orgTrailTable, config.orgTrailTable);
      }
    }
    auditWriter.bindAuditTable(this.auditTable, 'append');
    reconciler.bindAuditTable(this.auditTable, 'read');
    this.auditArchive = new AuditArchive(this, 'AuditArchive', {
      auditTable: this.auditTable,
      archiver,
      retentionDays: config.auditRetentionDays,
      ...(config.orgTrailTable ? { orgTrailTable: config.orgTrailTable } : {}),
    });
    // The Slack function hands decision clicks to `decisions` (asynchronous invoke) and holds
    // no permission to decide, complete task tokens or write the trail itself.
    slack.setEnv(ENV.decisionsFunction, decisions.function.functionArn);
    slack.bindInvoke('HandOffDecisions', decisions.function);
    // A click the decisions function still fails after Lambda's two retries is kept (and alarmed),
    // not dropped: the person gets no answer, but the click can be replayed from the queue.
    const lostDecisions = new sqs.Queue(this, 'LostDecisions', {
      retentionPeriod: Duration.days(14),
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
    });
    acknowledge(
      lostDecisions,
      'AwsSolutions-SQS3',
      'This queue is itself the dead-letter destination of the decisions function: nothing consumes it.',
    );
    decisions.function.configureAsyncInvoke({
      retryAttempts: 2,
      // A decision older than this is stale for the person who clicked; it is kept in the queue.
      maxEventAge: Duration.minutes(15),
      onFailure: new destinations.SqsDestination(lostDecisions),
    });

    // Identity Center, per function, from the policy file.
    const reservedRoles = (operation: 'create' | 'delete' | 'update', target: ProductFunction) => {
      // Only when the policy lists this account (or the account is unknown at synth).
      if (!reservedRolesNeeded(policy, config.account)) return;
      for (const statement of provisionReservedRolesStatements(this, operation))
        target.allow(statement, RESERVED_ROLES_REASON);
    };
    workers.validate.allow(getUserIdStatement(policy, config.managementAccountId), USER_LOOKUP_REASON);
    workers.grant
      .allow(listAssignmentsStatement(policy))
      .allow(createAssignmentStatement(policy))
      .allow(describeStatusStatement(policy, ['creation']));
    reservedRoles('create', workers.grant);
    workers['check-grant'].allow(describeStatusStatement(policy, ['creation']));
    workers.revoke
      .allow(deleteAssignmentStatement(policy))
      .allow(describeStatusStatement(policy, ['deletion']));
    reservedRoles('delete', workers.revoke);
    // Group access: only when a rule offers a group, and only the groups offered.
    for (const statement of groupMembershipStatements(policy, ['add'], config.managementAccountId))
      workers.grant.allow(statement, GROUP_MEMBERSHIP_REASON);
    for (const statement of groupMembershipStatements(policy, ['remove'], config.managementAccountId))
      workers.revoke.allow(statement, GROUP_MEMBERSHIP_REASON);
    workers['check-revoke'].allow(describeStatusStatement(policy, ['deletion']));
    slack.allow(getUserIdStatement(policy, config.managementAccountId), USER_LOOKUP_REASON);
    // The request form's line on how long sessions outlive the window (functions/slack/listeners/actions/form.ts).
    const sessionDurationRead = describeSessionDurationsStatement(policy);
    if (sessionDurationRead) slack.allow(sessionDurationRead);
    // identityCenterGroup: selectors: the functions that ask who may request or approve read the
    // groups (functions/shared/directory.ts); a policy without them grants no group read.
    const groupReaders = [
      workers.validate,
      workers['request-approval'],
      workers['access-window'],
      decisions,
      slack,
      reconciler,
    ];
    const readsGroups = directorySelectors(policy).some((ref) => ref.startsWith(IDENTITY_CENTER_GROUP));
    if (readsGroups)
      for (const reader of groupReaders)
        for (const statement of readGroupsStatements(policy, config.managementAccountId))
          reader.allow(statement, GROUP_READ_REASON);
    reconciler
      .allow(listAssignmentsStatement(policy))
      .allow(deleteAssignmentStatement(policy))
      .allow(describeStatusStatement(policy, ['deletion']));
    reservedRoles('delete', reconciler);
    // Group access: the memberships its grants left past their window (core/reconciler.ts).
    for (const statement of groupMembershipStatements(policy, ['remove'], config.managementAccountId))
      reconciler.allow(statement, GROUP_MEMBERSHIP_REASON);
    // People Identity Center no longer has: the reconciler asks about the users of live grants
    // (DescribeUser) and hands each departed one's offboarding to `decisions`, the one role that
    // may end windows (core/offboarding.ts), as the Slack function hands clicks.
    reconciler.allow(describeUserStatement(policy, config.managementAccountId), USER_LOOKUP_REASON);
    reconciler.setEnv(ENV.decisionsFunction, decisions.function.functionArn);
    reconciler.bindInvoke('HandOffOffboarding', decisions.function);
    // Ending sessions at revoke: only for the permission sets whose policy entry opts in; with none,
    // no role may read or edit a permission set (core/session-ending.ts). end-sessions adds the
    // deny statement after a deletion; the reconciler's sweep removes the expired ones.
    const sessionEnders = [workers['end-sessions'], reconciler];
    const sessionEnding = endSessionsStatements(policy);
    for (const statement of sessionEnding) for (const target of sessionEnders) target.allow(statement);
    if (sessionEnding.length) for (const target of sessionEnders) reservedRoles('update', target);
    // A customer managed key on Identity Center: every function that calls sso-admin or
    // identitystore (functions/shared/sso-admin.ts, identity-store.ts) decrypts.
    const { identityCenterKmsKeyArn } = config;
    if (identityCenterKmsKeyArn)
      for (const caller of [
        workers.validate,
        workers.grant,
        workers['check-grant'],
        workers.revoke,
        workers['check-revoke'],
        ...(sessionEnding.length ? [workers['end-sessions']] : []),
        slack,
        reconciler,
        ...(readsGroups ? groupReaders : []),
      ])
        caller.allow(identityCenterKeyStatement(policy, identityCenterKmsKeyArn));

    // ---------------------------------------------------------------------------------------
    // Workflow

    const stateMachineLogs = new logs.LogGroup(this, 'StateMachineLogs', {
      // The /aws/vendedlogs/ prefix keeps CloudWatch Logs' resource policy small.
      logGroupName: `/aws/vendedlogs/states/${config.stackName}-access-request`,
      retention: config.logRetention,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    const stateMachineRole = new iam.Role(this, 'StateMachineRole', {
      assumedBy: new iam.ServicePrincipal('states.amazonaws.com'),
      description: 'jit-access access-request state machine',
    });
    // Exactly the workers, unqualified ARNs (the ASL passes FunctionName = the ARN).
    stateMachineRole.addToPolicy(
      new iam.PolicyStatement({
        sid: 'InvokeWorkers',
        actions: ['lambda:InvokeFunction'],
        resources: WORKERS.map((w) => workers[w.name].function.functionArn),
      }),
    );

    this.stateMachine = new sfn.StateMachine(this, 'AccessRequest', {
      stateMachineType: sfn.StateMachineType.STANDARD,
      definitionBody: sfn.DefinitionBody.fromFile(ASL_FILE),
      definitionSubstitutions: Object.fromEntries(
        WORKERS.map((w) => [w.substitution as string, workers[w.name].function.functionArn]),
      ),
      role: stateMachineRole,
      logs: {
        destination: stateMachineLogs,
        level: sfn.LogLevel.ALL,
        // Execution data holds Slack task tokens and request payloads: never in the logs.
        includeExecutionData: false,
      },
      tracingEnabled: config.tracing,
      comment: 'One access request for one assignment: validate, approve, grant, hold the window, revoke',
    });
    acknowledge(
      stateMachineRole,
      'AwsSolutions-IAM5[Resource::*]',
      'Added by CDK for logging to CloudWatch Logs: logs:CreateLogDelivery, GetLogDelivery, ' +
        'UpdateLogDelivery, DeleteLogDelivery, ListLogDeliveries, PutResourcePolicy, ' +
        'DescribeResourcePolicies and DescribeLogGroups have no resource-level permissions' +
        (config.tracing ? '; likewise the X-Ray actions (tracing=true).' : '.'),
    );
    if (!config.tracing)
      acknowledge(
        this.stateMachine,
        'AwsSolutions-SF2',
        'X-Ray is optional (context tracing=true turns it on for the state machine and every ' +
          'function); execution history and the ALL-level log already show every transition.',
      );

    // Starting an execution is safe to leave at the edge: Validate re-checks the request
    // against the policy. Completing a task token (a decision) is not: only `decisions` may.
    slack.bindStateMachine(this.stateMachine, { machineActions: ['states:StartExecution'] });
    decisions.bindStateMachine(this.stateMachine, {
      machineActions: ['states:SendTaskSuccess', 'states:SendTaskFailure'],
    });
    // The reconciler asks about and stops one execution by name (StepFunctionsWorkflow isRunning,
    // stop): DescribeExecution and StopExecution; it never lists executions.
    reconciler.bindStateMachine(this.stateMachine, {
      executionActions: ['states:DescribeExecution', 'states:StopExecution'],
    });

    // ---------------------------------------------------------------------------------------
    // Slack endpoint: an HTTP API in front of the slack function. Slack authenticates with its
    // request signature (checked by Bolt), so the route has no authorizer; the stage throttles
    // so a flood of unsigned requests cannot run up the function.

    const apiAccessLogs = new logs.LogGroup(this, 'SlackApiAccessLogs', {
      retention: config.logRetention,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.httpApi = new apigw.HttpApi(this, 'SlackApi', {
      description: 'Slack events, commands and interactions for jit-access',
      createDefaultStage: false,
    });
    const stage = new apigw.HttpStage(this, 'SlackApiStage', {
      httpApi: this.httpApi,
      stageName: '$default',
      autoDeploy: true,
      throttle: { rateLimit: 50, burstLimit: 100 },
      accessLogSettings: { destination: new apigw.LogGroupLogDestination(apiAccessLogs) },
    });
    const [slackRoute] = this.httpApi.addRoutes({
      path: '/slack/events',
      methods: [apigw.HttpMethod.POST],
      integration: new HttpLambdaIntegration('SlackIntegration', slack.function, {
        payloadFormatVersion: apigw.PayloadFormatVersion.VERSION_2_0,
      }),
    });
    if (slackRoute)
      acknowledge(
        slackRoute,
        'AwsSolutions-APIG4',
        'Slack cannot send AWS credentials or tokens: every request is authenticated by its Slack ' +
          'signature (HMAC-SHA256 with the signing secret, 5-minute window), verified by Bolt in ' +
          'the slack function before any listener runs; unsigned requests get 401.',
      );

    // ---------------------------------------------------------------------------------------
    // Reconciler schedule

    new events.Rule(this, 'ReconcilerSchedule', {
      description: 'Runs the jit-access reconciler every 5 minutes',
      schedule: events.Schedule.rate(Duration.minutes(5)),
      targets: [
        new targets.LambdaFunction(reconciler.function, {
          retryAttempts: 2,
          maxEventAge: Duration.minutes(4),
        }),
      ],
    });

    // ---------------------------------------------------------------------------------------
    // Alarms

    this.alarmTopic = new sns.Topic(this, 'AlarmTopic', {
      displayName: 'jit-access alarms',
      enforceSSL: true,
    });
    // The topic policy (beside enforceSSL's TLS deny) replaces SNS's default policy, so the
    // publishers must be allowed here: CloudWatch alarms of this account and region. The ARN
    // pattern `alarm:*` rather than this stack's alarm ARNs: listing them would not be circular
    // (the TopicPolicy is a resource of its own that may reference the alarms), but any alarm
    // added later, in Monitoring or by an operator (the metric-filter variant of the secret-read
    // alarm in docs/SECURITY.md), would then notify nobody until listed too. Who can create an
    // alarm in this account can already see and change this stack.
    this.alarmTopic.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'CloudWatchAlarmsOfThisAccount',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['sns:Publish'],
        resources: [this.alarmTopic.topicArn],
        conditions: {
          StringEquals: { 'aws:SourceAccount': this.account },
          ArnLike: {
            'aws:SourceArn': this.formatArn({
              service: 'cloudwatch',
              resource: 'alarm',
              resourceName: '*',
              arnFormat: ArnFormat.COLON_RESOURCE_NAME,
            }),
          },
        },
      }),
    );
    // The EventBridge rule docs/DEPLOY.md has operators create (Slack secret read by anything but
    // this product's roles): that one rule, by name, may notify here too.
    this.alarmTopic.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'SlackSecretReadRule',
        principals: [new iam.ServicePrincipal('events.amazonaws.com')],
        actions: ['sns:Publish'],
        resources: [this.alarmTopic.topicArn],
        conditions: {
          StringEquals: { 'aws:SourceAccount': this.account },
          ArnEquals: {
            'aws:SourceArn': this.formatArn({
              service: 'events',
              resource: 'rule',
              resourceName: secretReadRuleName(config.stackName),
            }),
          },
        },
      }),
    );
    if (config.alarmEmail)
      this.alarmTopic.addSubscription(new subscriptions.EmailSubscription(config.alarmEmail));

    new Monitoring(this, 'Monitoring', {
      topic: this.alarmTopic,
      stateMachine: this.stateMachine,
      stateMachineLogs,
      functions: this.functions,
      lostDecisions,
      archive: this.auditArchive,
      dashboard: config.dashboard,
      dashboardName: `${config.stackName}-jit-access`,
    });

    // ---------------------------------------------------------------------------------------
    // Outputs

    new CfnOutput(this, 'SlackEndpoint', {
      description: 'Base URL for slack/manifest.yaml: replaces https://slack.example.com (slack/README.md)',
      value: this.httpApi.apiEndpoint,
    });
    new CfnOutput(this, 'SlackRequestUrl', {
      description: 'Request URL for the Slack app (slash command, interactivity, events)',
      value: `${stage.url}slack/events`,
    });
    new CfnOutput(this, 'SlackSecretArn', {
      description: 'Put {"botToken","signingSecret"} here (docs/DEPLOY.md)',
      value: this.slackSecret.secretArn,
    });
    new CfnOutput(this, 'SlackSecretReaderRoleArns', {
      description: 'The roles that read the Slack secret: alert on any other reader (docs/DEPLOY.md)',
      value: Fn.join(
        ',',
        SLACK_FUNCTIONS.map((name) => this.functions[name].role.roleArn),
      ),
    });
    new CfnOutput(this, 'StateMachineArn', { value: this.stateMachine.stateMachineArn });
    new CfnOutput(this, 'StateTableName', { value: this.stateTable.tableName });
    new CfnOutput(this, 'AuditTableName', { value: this.auditTable.tableName });
    new CfnOutput(this, 'AuditArchiveBucket', { value: this.auditArchive.bucket.bucketName });
    new CfnOutput(this, 'AlarmTopicArn', { value: this.alarmTopic.topicArn });
  }
}

/**
 * Name of the EventBridge rule that alerts on reads of the Slack secret by anything but this
 * product's roles (created by operators, docs/DEPLOY.md; allowed to publish to the alarm topic).
 * EventBridge rule names are at most 64 characters.
 */
export function secretReadRuleName(stackName: string): string {
  return `${stackName.slice(0, 46)}-slack-secret-read`;
}

function pascal(name: string): string {
  return name.replace(/(^|-)([a-z])/g, (_m, _dash, letter: string) => letter.toUpperCase());
}
