import path from 'node:path';
import { CfnOutput, Duration, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';
import { ENV } from '../functions/shared/config';
import { type FunctionName, WORKERS } from './bundling';
import type { DeployConfig } from './config';
import {
  createAssignmentStatement,
  deleteAssignmentStatement,
  describeStatusStatement,
  getUserIdStatement,
  listAssignmentsStatement,
  provisionReservedRolesStatements,
  RESERVED_ROLES_REASON,
  USER_LOOKUP_REASON,
} from './identity-center-access';
import { Monitoring } from './monitoring';
import { acknowledge } from './nag';
import { ProductFunction } from './product-function';

/** The workflow definition: the same file the local sandbox runs. */
export const ASL_FILE = path.join(__dirname, '../statemachines/access-request.asl.json');

export const STATE_TABLE_INDEXES = {
  byRequester: { partitionKey: 'gsi1pk', sortKey: 'gsi1sk' },
  byStatus: { partitionKey: 'gsi2pk', sortKey: 'gsi2sk' },
} as const;

export interface JitAccessStackProps extends StackProps {
  config: DeployConfig;
}

const FUNCTION_DESCRIPTIONS: Record<FunctionName, string> = {
  validate: 'Re-checks a request against the policy, resolves the Identity Center user, stores it',
  'request-approval': 'Callback task: stores the approval task token and asks the approvers in Slack',
  grant: 'Creates the account assignment unless the user already holds it',
  'check-grant': 'Polls the account assignment creation',
  'access-window': 'Callback task: holds the access window token (end early, extend)',
  revoke: 'Deletes the account assignment unless it pre-existed or another request needs it',
  'check-revoke': 'Polls the account assignment deletion',
  finish: 'Final status, Slack message updates, requester DM, alerts',
  slack: 'Slack endpoint (Bolt, AwsLambdaReceiver): commands, modals, approval buttons',
  reconciler: 'Every 5 minutes: revokes grants past their window that are still assigned, alerts',
};

/** Functions that post to Slack or answer it, and so need the Slack secret. */
export const SLACK_FUNCTIONS: readonly FunctionName[] = [
  'request-approval',
  'access-window',
  'finish',
  'slack',
  'reconciler',
];

export class JitAccessStack extends Stack {
  readonly functions: Record<FunctionName, ProductFunction>;
  readonly stateTable: dynamodb.Table;
  readonly auditTable: dynamodb.Table;
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

    const fn = (name: FunctionName, options: { memorySize?: number; timeout?: Duration } = {}) =>
      new ProductFunction(this, pascal(name), {
        name,
        description: FUNCTION_DESCRIPTIONS[name],
        policyFile: config.policyFile,
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
    const slack = fn('slack', { memorySize: 1024, timeout: Duration.seconds(10) });
    // Shorter than the 5-minute schedule so two runs never overlap.
    const reconciler = fn('reconciler', { memorySize: 512, timeout: Duration.minutes(4) });
    this.functions = { ...workers, slack, reconciler } as Record<FunctionName, ProductFunction>;

    const indexNames = Object.keys(STATE_TABLE_INDEXES);
    for (const [name, product] of Object.entries(this.functions)) {
      // Every function reads the policy, keeps request state and writes audit events. Only the
      // ones that talk to Slack read its secret (functions/shared/runtime.ts loads it on the
      // first message, so validate, grant, revoke and the polls never do).
      product.bindStateTable(this.stateTable, indexNames).bindAuditTable(this.auditTable);
      if (SLACK_FUNCTIONS.includes(name as FunctionName)) product.bindSlackSecret(this.slackSecret);
    }

    // Identity Center, per function, from the policy file.
    const reservedRoles = (operation: 'create' | 'delete', target: ProductFunction) => {
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
    workers['check-revoke'].allow(describeStatusStatement(policy, ['deletion']));
    slack.allow(getUserIdStatement(policy, config.managementAccountId), USER_LOOKUP_REASON);
    reconciler
      .allow(listAssignmentsStatement(policy))
      .allow(deleteAssignmentStatement(policy))
      .allow(describeStatusStatement(policy, ['deletion']));
    reservedRoles('delete', reconciler);

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
    // Exactly the 8 workers, unqualified ARNs (the ASL passes FunctionName = the ARN).
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

    slack.bindStateMachine(this.stateMachine, {
      machineActions: ['states:StartExecution', 'states:SendTaskSuccess', 'states:SendTaskFailure'],
      executionActions: ['states:DescribeExecution'],
    });
    reconciler.bindStateMachine(this.stateMachine, {
      machineActions: ['states:ListExecutions'],
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
    if (config.alarmEmail)
      this.alarmTopic.addSubscription(new subscriptions.EmailSubscription(config.alarmEmail));

    new Monitoring(this, 'Monitoring', {
      topic: this.alarmTopic,
      stateMachine: this.stateMachine,
      stateMachineLogs,
      functions: this.functions,
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
    new CfnOutput(this, 'StateMachineArn', { value: this.stateMachine.stateMachineArn });
    new CfnOutput(this, 'StateTableName', { value: this.stateTable.tableName });
    new CfnOutput(this, 'AuditTableName', { value: this.auditTable.tableName });
    new CfnOutput(this, 'AlarmTopicArn', { value: this.alarmTopic.topicArn });
  }
}

function pascal(name: string): string {
  return name.replace(/(^|-)([a-z])/g, (_m, _dash, letter: string) => letter.toUpperCase());
}
