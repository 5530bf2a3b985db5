import path from 'node:path';
import { ArnFormat, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { FUNCTION_TIMEOUT_SECONDS } from '../functions/shared/clients';
import { ENV } from '../functions/shared/config';
import {
  type FunctionName,
  functionBundling,
  functionEntry,
  NODE_MAJOR,
  POLICY_FILE_IN_BUNDLE,
  PROJECT_ROOT,
} from './bundling';
import { acknowledge, acknowledgeWildcardResources, wildcardResourceFindings } from './nag';

// One Lambda of the product with its defaults (arm64, Node.js 24, esbuild bundle with source
// maps, its own log group with retention, its own role with nothing but its log group) and
// `bind*` helpers that grant one kind of access and set the matching environment variable.

/** Kinds of state-table items and their partition-key prefixes (the store's key layout). */
export const STATE_ITEM_PREFIXES = {
  request: 'REQUEST#',
  token: 'TOKEN#',
  holders: 'ASSIGNMENT#',
  /** Group memberships' holders records (core/group-access.ts). */
  memberships: 'MEMBERSHIP#',
  /** The Identity Center admission schedule (one item). */
  admission: 'ADMISSION#identity-center',
  /** The approval channels' post schedules, one item per channel. */
  channelSchedule: 'ADMISSION#slack-channel#',
} as const;
export type StateItemKind = keyof typeof STATE_ITEM_PREFIXES;

export interface StateTableAccess {
  read?: readonly StateItemKind[];
  write?: readonly StateItemKind[];
  delete?: readonly StateItemKind[];
  /** UpdateItem: only the admission schedules, whose reservations must be atomic increments. */
  update?: readonly StateItemKind[];
  indexes?: readonly string[];
}

if (lambda.Runtime.NODEJS_24_X.name !== `nodejs${NODE_MAJOR}.x`)
  throw new Error('infra/bundling.ts NODE_MAJOR and the Lambda runtime disagree');

export interface ProductFunctionProps {
  name: FunctionName;
  description: string;
  /** Absolute path of the policy file copied into the bundle. */
  /** The compiled policy (infra/bundling.ts writeCompiledPolicy), copied into the bundle. */
  compiledPolicyFile: string;
  logRetention: logs.RetentionDays;
  tracing: boolean;
  memorySize?: number;
  timeout?: Duration;
  environment?: Record<string, string>;
}

export class ProductFunction extends Construct {
  readonly function: NodejsFunction;
  readonly role: iam.Role;
  readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: ProductFunctionProps) {
    super(scope, id);
    const { name } = props;
    const bundling = functionBundling(name);

    this.logGroup = new logs.LogGroup(this, 'Logs', {
      retention: props.logRetention,
      // Operational logs carry the audit events too: kept on teardown, emptied by retention.
      removalPolicy: RemovalPolicy.RETAIN,
    });

    // An explicit role instead of AWSLambdaBasicExecutionRole: write access to this function's
    // own log group only, never logs:CreateLogGroup or every log group of the account.
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `jit-access ${name} Lambda`,
    });
    this.role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'OwnLogGroup',
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        resources: [this.logGroup.logGroupArn],
      }),
    );

    const policySource = props.compiledPolicyFile;
    this.function = new NodejsFunction(this, 'Function', {
      description: props.description,
      entry: path.join(PROJECT_ROOT, functionEntry(name).entry),
      handler: 'handler',
      projectRoot: PROJECT_ROOT,
      depsLockFilePath: path.join(PROJECT_ROOT, 'package-lock.json'),
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: props.memorySize ?? 256,
      timeout: props.timeout ?? Duration.seconds(FUNCTION_TIMEOUT_SECONDS.worker),
      role: this.role,
      logGroup: this.logGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
      tracing: props.tracing ? lambda.Tracing.ACTIVE : lambda.Tracing.DISABLED,
      environment: {
        [ENV.policyFile]: `/var/task/${POLICY_FILE_IN_BUNDLE}`,
        POWERTOOLS_SERVICE_NAME: 'jit-access',
        POWERTOOLS_LOG_LEVEL: 'INFO',
        // Stack traces point into functions/*.ts, not into the minified bundle.
        NODE_OPTIONS: '--enable-source-maps',
        ...props.environment,
      },
      bundling: {
        minify: bundling.minify,
        sourceMap: bundling.sourcemap,
        sourcesContent: bundling.sourcesContent,
        target: bundling.target,
        format: OutputFormat.CJS,
        mainFields: bundling.mainFields,
        bundleAwsSDK: true,
        externalModules: bundling.external,
        ...(Object.keys(bundling.alias).length
          ? {
              esbuildArgs: { '--alias': Object.entries(bundling.alias).map(([from, to]) => `${from}=${to}`) },
            }
          : {}),
        commandHooks: {
          beforeBundling: () => [],
          beforeInstall: () => [],
          // The compiled policy travels inside the bundle: functions read it from POLICY_FILE.
          afterBundling: (_inputDir: string, outputDir: string) => [
            `cp ${shellQuote(policySource)} ${shellQuote(path.posix.join(outputDir, POLICY_FILE_IN_BUNDLE))}`,
          ],
        },
      },
    });

    if (props.tracing)
      acknowledge(
        this.role,
        'AwsSolutions-IAM5[Resource::*]',
        'X-Ray (tracing=true): xray:PutTraceSegments and xray:PutTelemetryRecords have no ' +
          'resource-level permissions, so CDK grants them on *.',
      );
  }

  /** Sets an environment variable. */
  setEnv(name: string, value: string): this {
    this.function.addEnvironment(name, value);
    return this;
  }

  /**
   * STATE_TABLE and exactly the kinds of items this function touches, enforced by IAM: each kind
   * has its own partition-key prefix (functions/adapters/dynamodb-request-store.ts) and each action
   * is granted only for the prefixes listed, through `dynamodb:LeadingKeys`
   * (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/specifying-conditions.html).
   * Writes are PutItem only (the store writes whole items, conditional on their revision); no
   * UpdateItem, scans or batch writes. `indexes`: Query on those indexes (read-only; task tokens
   * carry no index keys, so no index exposes them).
   */
  bindStateTable(table: dynamodb.ITable, access: StateTableAccess): this {
    this.setEnv(ENV.stateTable, table.tableName);
    const grants: Array<[string, string, readonly StateItemKind[] | undefined]> = [
      ['StateTableRead', 'dynamodb:GetItem', access.read],
      ['StateTableWrite', 'dynamodb:PutItem', access.write],
      ['StateTableDelete', 'dynamodb:DeleteItem', access.delete],
      ['StateTableUpdate', 'dynamodb:UpdateItem', access.update],
    ];
    for (const [sid, action, kinds] of grants) {
      if (!kinds?.length) continue;
      this.role.addToPolicy(
        new iam.PolicyStatement({
          sid,
          actions: [action],
          resources: [table.tableArn],
          conditions: {
            'ForAllValues:StringLike': {
              'dynamodb:LeadingKeys': kinds.map((kind) => `${STATE_ITEM_PREFIXES[kind]}*`),
            },
          },
        }),
      );
    }
    if (access.indexes?.length)
      this.role.addToPolicy(
        new iam.PolicyStatement({
          sid: 'StateTableIndexes',
          actions: ['dynamodb:Query'],
          resources: access.indexes.map((index) => `${table.tableArn}/index/${index}`),
        }),
      );
    return this;
  }

  /**
   * AUDIT_TABLE for the one writer (PutItem, GetItem to tell a replayed event from an
   * overwrite, Query to find its request's chain head) or a reader (Query). No role of the
   * product can update or delete an event.
   */
  bindAuditTable(table: dynamodb.ITable, access: 'append' | 'read'): this {
    this.setEnv(ENV.auditTable, table.tableName);
    this.role.addToPolicy(
      new iam.PolicyStatement({
        sid: access === 'append' ? 'AuditTableAppend' : 'AuditTableRead',
        actions:
          access === 'append'
            ? ['dynamodb:PutItem', 'dynamodb:GetItem', 'dynamodb:Query']
            : ['dynamodb:Query'],
        resources: [table.tableArn],
      }),
    );
    return this;
  }

  /** AUDIT_WRITER_FUNCTION and permission to invoke it: how every other function appends to the trail. */
  bindAuditWriter(writer: lambda.IFunction): this {
    this.setEnv(ENV.auditWriterFunction, writer.functionArn);
    return this.bindInvoke('InvokeAuditWriter', writer);
  }

  /** Permission to invoke one other function of the product (unqualified ARN and its versions). */
  bindInvoke(sid: string, target: lambda.IFunction): this {
    this.role.addToPolicy(
      new iam.PolicyStatement({
        sid,
        actions: ['lambda:InvokeFunction'],
        resources: [target.functionArn],
      }),
    );
    return this;
  }

  /** SLACK_SECRET_ARN and read access to that one secret. */
  bindSlackSecret(secret: secretsmanager.ISecret): this {
    this.setEnv(ENV.slackSecretArn, secret.secretArn);
    this.role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'SlackSecret',
        actions: ['secretsmanager:GetSecretValue'],
        resources: [secret.secretArn],
      }),
    );
    return this;
  }

  /**
   * STATE_MACHINE_ARN and the given actions: `machineActions` on the state machine itself
   * (StartExecution, ListExecutions, SendTask* — Step Functions authorizes task responses against
   * the state machine), `executionActions` on its executions only.
   */
  bindStateMachine(
    stateMachine: sfn.StateMachine,
    access: { machineActions?: string[]; executionActions?: string[] },
  ): this {
    this.setEnv(ENV.stateMachineArn, stateMachine.stateMachineArn);
    if (access.machineActions?.length)
      this.role.addToPolicy(
        new iam.PolicyStatement({
          sid: 'StateMachine',
          actions: access.machineActions,
          resources: [stateMachine.stateMachineArn],
        }),
      );
    if (access.executionActions?.length)
      this.allow(
        new iam.PolicyStatement({
          sid: 'StateMachineExecutions',
          actions: access.executionActions,
          resources: [executionArnPattern(this, stateMachine)],
        }),
        'Execution names are request ids, known only at run time; <state machine name>:* is every ' +
          'execution of this one state machine and nothing else.',
      );
    return this;
  }

  /**
   * Adds a statement built elsewhere (Identity Center access from the policy). A statement with
   * a wildcard in a resource needs `wildcardReason`: it becomes the cdk-nag acknowledgement.
   */
  allow(statement: iam.PolicyStatement, wildcardReason?: string): this {
    if (wildcardResourceFindings(this.role, statement).length) {
      if (!wildcardReason)
        throw new Error(
          `${this.node.path}: statement ${statement.sid ?? ''} has a wildcard resource and no reason`,
        );
      acknowledgeWildcardResources(this.role, statement, wildcardReason);
    }
    this.role.addToPolicy(statement);
    return this;
  }
}

/** `arn:…:states:<region>:<account>:execution:<state machine name>:*` */
export function executionArnPattern(scope: Construct, stateMachine: sfn.StateMachine): string {
  return Stack.of(scope).formatArn({
    service: 'states',
    resource: 'execution',
    arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    resourceName: `${stateMachine.stateMachineName}:*`,
  });
}

function shellQuote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}
