import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { CfnElement } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import { FUNCTIONS, type FunctionName, PROJECT_ROOT, WORKERS } from '../../infra/bundling';
import { ASL_FILE, SLACK_FUNCTIONS } from '../../infra/jit-access-stack';
import { allStatements, asArray, removeOutdirs, type Statement, type Synthesized, synthesize } from './synth';

// The stack as CloudFormation sees it: synthesized once from cdk.json's context (the example
// policy), without bundling or cdk-nag (test/infra/synth-and-nag.test.ts does both).

const INSTANCE_ARN = 'arn:aws:sso:::instance/ssoins-7223a1b2c3d4e5f6';
const PERMISSION_SET_ARNS = [
  'arn:aws:sso:::permissionSet/ssoins-7223a1b2c3d4e5f6/ps-1a2b3c4d5e6f7a8b',
  'arn:aws:sso:::permissionSet/ssoins-7223a1b2c3d4e5f6/ps-9f8e7d6c5b4a3f2e',
  'arn:aws:sso:::permissionSet/ssoins-7223a1b2c3d4e5f6/ps-0a0b0c0d0e0f0a0b',
];
const ACCOUNT_ARNS = ['111111111111', '222222222222', '333333333333', '444444444444'].map(
  (id) => `arn:aws:sso:::account/${id}`,
);
const ASSIGNMENT_RESOURCES = [INSTANCE_ARN, ...PERMISSION_SET_ARNS, ...ACCOUNT_ARNS];

let synth: Synthesized;
const logicalId = (element: unknown) => synth.stack.getLogicalId(element as CfnElement);
const functionId = (name: FunctionName) => logicalId(synth.stack.functions[name].function.node.defaultChild);
const roleId = (name: FunctionName) => logicalId(synth.stack.functions[name].role.node.defaultChild);
const statementsOf = (name: FunctionName) =>
  allStatements(synth.template).filter((s) => JSON.stringify(s.roles).includes(`"${roleId(name)}"`));
const actionsOf = (statement: Statement) => asArray(statement.Action);
const hasAction = (name: FunctionName, action: string) =>
  statementsOf(name).some((s) => actionsOf(s).includes(action));

afterAll(removeOutdirs);

beforeAll(async () => {
  synth = await synthesize({ context: { alarmEmail: 'oncall@example.com', alertChannel: 'C0ALERTS1' } });
});

describe('state machine', () => {
  it('is a Standard state machine loading the ASL file with every placeholder substituted', () => {
    // Prepare
    const asl = readFileSync(ASL_FILE, 'utf8');
    const placeholders = new Set([...asl.matchAll(/\$\{(\w+)\}/g)].map((m) => m[1]));
    const machines = Object.values(synth.template.findResources('AWS::StepFunctions::StateMachine'));
    expect(machines).toHaveLength(1);
    const properties = machines[0]?.Properties ?? {};

    // Assess: the definition is the file itself, shipped as an asset
    expect(properties.StateMachineType).toBe('STANDARD');
    const key: string = properties.DefinitionS3Location.Key;
    synth.app.synth();
    const staged = path.join(synth.outdir, `asset.${key}`);
    expect(existsSync(staged)).toBe(true);
    expect(readFileSync(staged, 'utf8')).toBe(asl);

    // Assess: one substitution per placeholder, each the ARN of its worker
    const substitutions: Record<string, unknown> = properties.DefinitionSubstitutions;
    expect(new Set(Object.keys(substitutions))).toEqual(placeholders);
    for (const worker of WORKERS) {
      expect(substitutions[worker.substitution as string]).toEqual({
        'Fn::GetAtt': [functionId(worker.name), 'Arn'],
      });
    }
    const resolved = Object.keys(substitutions).reduce(
      (text, name) =>
        text.replaceAll(`\${${name}}`, `arn:aws:lambda:us-east-1:123456789012:function:${name}`),
      asl,
    );
    expect(resolved).not.toMatch(/\$\{/);
    expect(() => JSON.parse(resolved)).not.toThrow();
  });

  it('logs every event to CloudWatch without execution data', () => {
    synth.template.hasResourceProperties('AWS::StepFunctions::StateMachine', {
      LoggingConfiguration: {
        Level: 'ALL',
        IncludeExecutionData: false,
        Destinations: [{ CloudWatchLogsLogGroup: { LogGroupArn: Match.anyValue() } }],
      },
    });
    synth.template.hasResourceProperties('AWS::Logs::LogGroup', {
      LogGroupName: '/aws/vendedlogs/states/JitAccess-access-request',
      RetentionInDays: 90,
    });
  });

  it('may invoke exactly the workers', () => {
    const machineRole = logicalId(synth.stack.stateMachine.role.node.defaultChild);
    const invokes = allStatements(synth.template).filter(
      (s) =>
        actionsOf(s).some((a) => a.startsWith('lambda:')) && JSON.stringify(s.roles).includes(machineRole),
    );
    expect(invokes).toHaveLength(1);
    expect(invokes[0]?.roles).toEqual([{ Ref: machineRole }]);
    expect(actionsOf(invokes[0] as Statement)).toEqual(['lambda:InvokeFunction']);
    expect(invokes[0]?.Resource).toEqual(WORKERS.map((w) => ({ 'Fn::GetAtt': [functionId(w.name), 'Arn'] })));
  });

  it('lets functions invoke only the audit writer, and only the Slack function and the reconciler invoke decisions', () => {
    const machineRole = logicalId(synth.stack.stateMachine.role.node.defaultChild);
    const invokes = allStatements(synth.template).filter(
      (s) =>
        actionsOf(s).some((a) => a.startsWith('lambda:')) && !JSON.stringify(s.roles).includes(machineRole),
    );
    const targets = new Map<string, string[]>();
    for (const { name } of FUNCTIONS) {
      const resources = invokes
        .filter((s) => JSON.stringify(s.roles).includes(`"${roleId(name)}"`))
        .flatMap((s) => asArray(s.Resource).map((r) => JSON.stringify(r)));
      targets.set(name, resources.sort());
    }
    const arn = (name: FunctionName) => JSON.stringify({ 'Fn::GetAtt': [functionId(name), 'Arn'] });
    for (const { name } of FUNCTIONS) {
      const expected =
        name === 'audit-writer' || name === 'admit' || name === 'archiver'
          ? []
          : name === 'slack'
            ? [arn('decisions')]
            : name === 'reconciler'
              ? [arn('audit-writer'), arn('decisions')].sort()
              : [arn('audit-writer')];
      expect({ name, invokes: targets.get(name) }).toEqual({ name, invokes: expected });
    }
  });
});

describe('functions', () => {
  it('deploys every function folder on arm64 with Node.js 24 and its handler', () => {
    const folders = readdirSync(path.join(PROJECT_ROOT, 'functions')).filter((folder) =>
      existsSync(path.join(PROJECT_ROOT, 'functions', folder, 'index.ts')),
    );
    expect(FUNCTIONS.map((f) => f.name).sort()).toEqual(folders.sort());
    const functions = synth.template.findResources('AWS::Lambda::Function');
    expect(Object.keys(functions)).toHaveLength(FUNCTIONS.length);
    for (const name of FUNCTIONS.map((f) => f.name)) {
      const props = functions[functionId(name)]?.Properties;
      expect(props).toMatchObject({
        Runtime: 'nodejs24.x',
        Architectures: ['arm64'],
        Handler: 'index.handler',
        LoggingConfig: {
          LogFormat: 'JSON',
          LogGroup: { Ref: logicalId(synth.stack.functions[name].logGroup.node.defaultChild) },
        },
      });
    }
  });

  it('gives every function the policy file, the tables and logger settings, and the Slack secret only to those that talk to Slack', () => {
    const stateTable = logicalId(synth.stack.stateTable.node.defaultChild);
    const auditTable = logicalId(synth.stack.auditTable.node.defaultChild);
    const secret = logicalId(synth.stack.slackSecret.node.defaultChild);
    const machine = logicalId(synth.stack.stateMachine.node.defaultChild);
    for (const { name } of FUNCTIONS) {
      const variables = synth.template.toJSON().Resources[functionId(name)].Properties.Environment.Variables;
      const writer = { 'Fn::GetAtt': [functionId('audit-writer'), 'Arn'] };
      expect(variables).toEqual({
        POLICY_FILE: '/var/task/access-policy.json',
        ...(name === 'audit-writer' || name === 'archiver' ? {} : { STATE_TABLE: { Ref: stateTable } }),
        ...(['audit-writer', 'slack', 'admit', 'archiver'].includes(name)
          ? {}
          : { AUDIT_WRITER_FUNCTION: writer }),
        // The table itself: its one writer, and the reconciler and archiver, which read trails.
        ...(['audit-writer', 'reconciler', 'archiver'].includes(name)
          ? { AUDIT_TABLE: { Ref: auditTable } }
          : {}),
        ...(name === 'archiver'
          ? { AUDIT_ARCHIVE_BUCKET: { Ref: logicalId(synth.stack.auditArchive.bucket.node.defaultChild) } }
          : {}),
        ...(SLACK_FUNCTIONS.includes(name) ? { SLACK_SECRET_ARN: { Ref: secret } } : {}),
        ALERT_CHANNEL: 'C0ALERTS1',
        POWERTOOLS_SERVICE_NAME: 'jit-access',
        POWERTOOLS_LOG_LEVEL: 'INFO',
        NODE_OPTIONS: '--enable-source-maps',
        ...(['slack', 'decisions', 'reconciler'].includes(name)
          ? { STATE_MACHINE_ARN: { Ref: machine } }
          : {}),
        // The Slack function hands clicks off; the reconciler, departed people's offboarding.
        ...(name === 'slack' || name === 'reconciler'
          ? { DECISIONS_FUNCTION: { 'Fn::GetAtt': [functionId('decisions'), 'Arn'] } }
          : {}),
      });
    }
  });

  it('keeps the Slack secret out of the roles of functions that never talk to Slack', () => {
    for (const { name } of FUNCTIONS) {
      const readsSecret = statementsOf(name).some((s) =>
        asArray(s.Action).some((a) => String(a).startsWith('secretsmanager:')),
      );
      expect({ name, readsSecret }).toEqual({ name, readsSecret: SLACK_FUNCTIONS.includes(name) });
    }
  });

  it('gives each function its own log group with the configured retention', () => {
    for (const { name } of FUNCTIONS) {
      const group = logicalId(synth.stack.functions[name].logGroup.node.defaultChild);
      expect(synth.template.toJSON().Resources[group]).toMatchObject({
        Type: 'AWS::Logs::LogGroup',
        Properties: { RetentionInDays: 90 },
        DeletionPolicy: 'Retain',
      });
    }
    for (const group of Object.values(synth.template.findResources('AWS::Logs::LogGroup')))
      expect(group.Properties.RetentionInDays).toBe(90);
  });
});

describe('tables', () => {
  const table = (which: 'stateTable' | 'auditTable') =>
    synth.template.toJSON().Resources[logicalId(synth.stack[which].node.defaultChild)];

  it('keeps the audit table on teardown, with point-in-time recovery, encryption and no TTL', () => {
    const audit = table('auditTable');
    expect(audit).toMatchObject({
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
      Properties: {
        BillingMode: 'PAY_PER_REQUEST',
        KeySchema: [
          { AttributeName: 'pk', KeyType: 'HASH' },
          { AttributeName: 'sk', KeyType: 'RANGE' },
        ],
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        SSESpecification: { SSEEnabled: true },
        DeletionProtectionEnabled: true,
      },
    });
    expect(audit.Properties.TimeToLiveSpecification).toBeUndefined();
  });

  it('denies every principal updates and deletes of audit events in the table policy', () => {
    const statements = table('auditTable').Properties.ResourcePolicy.PolicyDocument.Statement;
    expect(statements).toEqual([
      expect.objectContaining({
        Effect: 'Deny',
        Principal: { AWS: '*' },
        Action: expect.arrayContaining([
          'dynamodb:UpdateItem',
          'dynamodb:DeleteItem',
          'dynamodb:BatchWriteItem',
        ]),
      }),
    ]);
  });

  it('has the state table keys and indexes the request store uses, on demand with PITR and no TTL', () => {
    const state = table('stateTable');
    expect(state.Properties).toMatchObject({
      BillingMode: 'PAY_PER_REQUEST',
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      SSESpecification: { SSEEnabled: true },
    });
    expect(state.Properties.TimeToLiveSpecification).toBeUndefined();
    const indexes = state.Properties.GlobalSecondaryIndexes.map(
      (index: { IndexName: string; KeySchema: Array<{ AttributeName: string }> }) => [
        index.IndexName,
        index.KeySchema.map((k) => k.AttributeName),
      ],
    );
    expect(indexes).toEqual([
      ['byRequester', ['gsi1pk', 'gsi1sk']],
      ['byStatus', ['gsi2pk', 'gsi2sk']],
      ['byReview', ['gsi3pk', 'gsi3sk']],
    ]);
  });
});

describe('audit archive', () => {
  it('queries the archive from Glue with partition projection and named Athena queries', () => {
    synth.template.hasResourceProperties('AWS::Glue::Table', {
      TableInput: {
        Name: 'events',
        PartitionKeys: [{ Name: 'date', Type: 'string' }],
        Parameters: { 'projection.enabled': 'true', 'projection.date.type': 'date' },
      },
    });
    const names = Object.values(synth.template.findResources('AWS::Athena::NamedQuery')).map(
      (q) => (q as { Properties: { Name: string } }).Properties.Name,
    );
    expect(names.sort()).toEqual(
      [
        'approvals-by-person',
        'auto-approved-grants',
        'break-glass-unreviewed',
        'break-glass-uses',
        'denied-or-expired',
        'grants-of-permission-set',
        'grants-without-revoke',
      ].map((n) => `JitAccess-${n}`),
    );
    // Every way a request ends without access is in the not-granted query.
    const notGranted = Object.values(synth.template.findResources('AWS::Athena::NamedQuery'))
      .map((q) => (q as { Properties: { Name: string; QueryString: string } }).Properties)
      .find((q) => q.Name === 'JitAccess-denied-or-expired');
    for (const action of ['approval.denied', 'request.cancelled', 'approval.expired', 'request.rejected'])
      expect(notGranted?.QueryString).toContain(`'${action}'`);
  });

  it('adds the role-session query over an organization trail when orgTrailTable is set', async () => {
    const withTrail = await synthesize({ context: { orgTrailTable: 'default.cloudtrail_org' } });
    {
      const queries = Object.values(withTrail.template.findResources('AWS::Athena::NamedQuery')).map(
        (q) => (q as { Properties: { Name: string; QueryString: string } }).Properties,
      );
      const session = queries.find((q) => q.Name === 'JitAccess-role-session-calls');
      expect(session?.QueryString).toContain('FROM default.cloudtrail_org');
    }
    // The functions that tell people about an ended grant know the table; the others do not.
    const functions = withTrail.template.findResources('AWS::Lambda::Function');
    const envOf = (name: FunctionName) =>
      (functions[functionId(name)]?.Properties as { Environment?: { Variables?: Record<string, unknown> } })
        ?.Environment?.Variables?.ORG_TRAIL_TABLE;
    expect(envOf('finish')).toBe('default.cloudtrail_org');
    expect(envOf('slack')).toBe('default.cloudtrail_org');
    expect(envOf('grant')).toBeUndefined();
    expect(JSON.stringify(synth.template.toJSON())).not.toContain('ORG_TRAIL_TABLE');
  });

  it('archives from the audit table stream with a dead-letter queue and alarms on lag and dead letters', () => {
    synth.template.hasResourceProperties('AWS::DynamoDB::Table', {
      StreamSpecification: { StreamViewType: 'NEW_IMAGE' },
    });
    const alarms = Object.keys(synth.template.findResources('AWS::CloudWatch::Alarm'));
    expect(alarms.some((id) => id.includes('ArchiveLag'))).toBe(true);
    expect(alarms.some((id) => id.includes('ArchiveDeadLetters'))).toBe(true);
  });
});

describe('least privilege', () => {
  it('scopes assignment creation to the instance, permission sets and accounts of the policy', () => {
    const creates = allStatements(synth.template).filter((s) =>
      actionsOf(s).includes('sso:CreateAccountAssignment'),
    );
    expect(creates).toHaveLength(1);
    expect(creates[0]?.roles).toEqual([{ Ref: roleId('grant') }]);
    expect(creates[0]?.Resource).toEqual(ASSIGNMENT_RESOURCES);
  });

  it('scopes assignment deletion the same way, for revoke and the reconciler only', () => {
    const deletes = allStatements(synth.template).filter((s) =>
      actionsOf(s).includes('sso:DeleteAccountAssignment'),
    );
    expect(deletes.map((s) => s.roles)).toEqual([
      [{ Ref: roleId('revoke') }],
      [{ Ref: roleId('reconciler') }],
    ]);
    for (const statement of deletes) expect(statement.Resource).toEqual(ASSIGNMENT_RESOURCES);
  });

  it('never grants an sso or identitystore action on "*"', () => {
    for (const statement of allStatements(synth.template)) {
      if (!actionsOf(statement).some((a) => /^(sso|identitystore):/.test(a))) continue;
      expect(asArray(statement.Resource)).not.toContain('*');
      expect(actionsOf(statement).every((a) => !a.includes('*'))).toBe(true);
    }
  });

  it('gives each function only the Identity Center actions it calls', () => {
    const ssoActions = (name: FunctionName) => [
      ...new Set(
        statementsOf(name)
          .flatMap(actionsOf)
          .filter((a) => /^(sso|identitystore):/.test(a)),
      ),
    ];
    const sorted = (actions: string[]) => [...new Set(actions)].sort();
    // The example policy names identityCenterGroup: selectors: the functions that ask who may
    // request or approve read groups and a person's memberships (functions/shared/directory.ts).
    const GROUP_READS = [
      'identitystore:DescribeGroup',
      'identitystore:DescribeUser',
      'identitystore:GetGroupId',
      'identitystore:GetUserId',
      'identitystore:ListGroupMemberships',
      'identitystore:ListGroupMembershipsForMember',
    ];
    expect(sorted(ssoActions('validate'))).toEqual(sorted(['identitystore:GetUserId', ...GROUP_READS]));
    // The example policy's group rule (accessGroups): grant adds the member, revoke and the
    // reconciler look the membership up and remove it (core/group-access.ts).
    expect(sorted(ssoActions('grant'))).toEqual([
      'identitystore:CreateGroupMembership',
      'identitystore:GetGroupMembershipId',
      'sso:CreateAccountAssignment',
      'sso:DescribeAccountAssignmentCreationStatus',
      'sso:ListAccountAssignments',
    ]);
    expect(sorted(ssoActions('check-grant'))).toEqual(['sso:DescribeAccountAssignmentCreationStatus']);
    expect(sorted(ssoActions('revoke'))).toEqual([
      'identitystore:DeleteGroupMembership',
      'identitystore:GetGroupMembershipId',
      'sso:DeleteAccountAssignment',
      'sso:DescribeAccountAssignmentDeletionStatus',
    ]);
    expect(sorted(ssoActions('check-revoke'))).toEqual(['sso:DescribeAccountAssignmentDeletionStatus']);
    // DescribePermissionSet: the request form's line on how long sessions outlive the window.
    expect(sorted(ssoActions('slack'))).toEqual(
      sorted(['identitystore:GetUserId', 'sso:DescribePermissionSet', ...GROUP_READS]),
    );
    expect(sorted(ssoActions('reconciler'))).toEqual(
      sorted([
        'identitystore:DeleteGroupMembership',
        'identitystore:GetGroupMembershipId',
        'sso:DeleteAccountAssignment',
        'sso:DescribeAccountAssignmentDeletionStatus',
        'sso:ListAccountAssignments',
        ...GROUP_READS,
      ]),
    );
    for (const name of ['request-approval', 'access-window', 'decisions'] as const)
      expect(sorted(ssoActions(name))).toEqual(GROUP_READS);
    expect(ssoActions('finish')).toEqual([]);
    // No permission set of the example policy ends sessions at revoke (endSessionsOnRevoke).
    expect(ssoActions('end-sessions')).toEqual([]);
  });

  it('names each group a rule offers in the membership statements, and no group wildcard', () => {
    const statements = allStatements(synth.template).filter((s) =>
      actionsOf(s).some((a) => a.endsWith('GroupMembership') || a.endsWith('GroupMembershipId')),
    );
    expect(statements.length).toBeGreaterThan(0);
    for (const statement of statements) {
      const resources = ([] as unknown[]).concat(statement.Resource);
      expect(resources).toContain(
        'arn:aws:identitystore:::group/9067a1b2c3-1b2c3d4e-5f60-4a1b-8c2d-3e4f5a6b7c8d',
      );
      expect(resources).not.toContain('arn:aws:identitystore:::group/*');
    }
  });

  it('scopes the describe-status actions to the instance', () => {
    for (const statement of allStatements(synth.template).filter((s) =>
      actionsOf(s).some((a) => a.startsWith('sso:DescribeAccountAssignment')),
    ))
      expect(statement.Resource).toEqual(INSTANCE_ARN);
  });

  it('scopes the IAM actions Identity Center needs to the reserved SSO role path of this account', () => {
    const iamStatements = allStatements(synth.template).filter((s) =>
      actionsOf(s).some((a) => a.startsWith('iam:')),
    );
    expect(iamStatements.length).toBeGreaterThan(0);
    for (const statement of iamStatements) {
      const resource = JSON.stringify(statement.Resource);
      expect(resource).toMatch(
        /:role\/aws-reserved\/sso\.amazonaws\.com\/\*"|:saml-provider\/AWSSSO_\*_DO_NOT_DELETE"/,
      );
      expect(resource).toContain('{"Ref":"AWS::AccountId"}');
    }
    expect(hasAction('grant', 'iam:CreateRole')).toBe(true);
    expect(hasAction('revoke', 'iam:DeleteRole')).toBe(true);
    expect(hasAction('check-grant', 'iam:CreateRole')).toBe(false);
  });

  it('lets no role update or delete an audit event, and only the audit writer put one', () => {
    const audit = logicalId(synth.stack.auditTable.node.defaultChild);
    const onAudit = allStatements(synth.template).filter((s) =>
      JSON.stringify(s.Resource).includes(`"${audit}"`),
    );
    const byRole = onAudit.map((s) => ({ roles: s.roles, actions: actionsOf(s).sort() }));
    expect(byRole).toEqual(
      expect.arrayContaining([
        {
          roles: [{ Ref: roleId('audit-writer') }],
          actions: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query'],
        },
        { roles: [{ Ref: roleId('reconciler') }], actions: ['dynamodb:Query'] },
        { roles: [{ Ref: roleId('archiver') }], actions: ['dynamodb:Query'] },
        // The archiver's event source reads the table's stream.
        {
          roles: [{ Ref: roleId('archiver') }],
          actions: ['dynamodb:DescribeStream', 'dynamodb:GetRecords', 'dynamodb:GetShardIterator'],
        },
      ]),
    );
    expect(byRole).toHaveLength(4);
  });

  it('gives DynamoDB actions only on this stack’s tables and indexes', () => {
    const tables = [synth.stack.stateTable, synth.stack.auditTable].map((t) =>
      logicalId(t.node.defaultChild),
    );
    for (const statement of allStatements(synth.template)) {
      if (!actionsOf(statement).some((a) => a.startsWith('dynamodb:'))) continue;
      for (const resource of asArray(statement.Resource)) {
        const text = JSON.stringify(resource);
        // ListStreams (the archiver's event source) has no resource-level permissions.
        if (resource === '*' && actionsOf(statement).join() === 'dynamodb:ListStreams') continue;
        expect(tables.some((t) => text.includes(`"${t}"`))).toBe(true);
        expect(text).not.toMatch(/index\/\*/);
      }
    }
  });

  it('allows Step Functions actions only on this state machine and its executions', () => {
    const machine = logicalId(synth.stack.stateMachine.node.defaultChild);
    const states = allStatements(synth.template).filter((s) =>
      actionsOf(s).some((a) => a.startsWith('states:')),
    );
    for (const statement of states) expect(JSON.stringify(statement.Resource)).toContain(machine);
    const slackActions = statementsOf('slack')
      .flatMap(actionsOf)
      .filter((a) => a.startsWith('states:'));
    expect(slackActions.sort()).toEqual(['states:StartExecution']);
    const senders = FUNCTIONS.filter((f) => hasAction(f.name, 'states:SendTaskSuccess')).map((f) => f.name);
    expect(senders).toEqual(['decisions']);
  });

  it('has no "*" resource except the actions that have no resource-level permissions', () => {
    const allowedOnStar =
      /^(logs:(CreateLogDelivery|GetLogDelivery|UpdateLogDelivery|DeleteLogDelivery|ListLogDeliveries|PutResourcePolicy|DescribeResourcePolicies|DescribeLogGroups)|xray:.*|dynamodb:ListStreams)$/;
    for (const statement of allStatements(synth.template)) {
      if (!asArray(statement.Resource).includes('*')) continue;
      for (const action of actionsOf(statement)) expect(action).toMatch(allowedOnStar);
    }
  });
});

describe('endpoint, schedule, alarms', () => {
  it('routes POST /slack/events to the slack function through a throttled, logged HTTP API', () => {
    synth.template.hasResourceProperties('AWS::ApiGatewayV2::Route', { RouteKey: 'POST /slack/events' });
    synth.template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      StageName: '$default',
      AutoDeploy: true,
      DefaultRouteSettings: { ThrottlingBurstLimit: 100, ThrottlingRateLimit: 50 },
      AccessLogSettings: { DestinationArn: Match.anyValue() },
    });
    synth.template.hasResourceProperties('AWS::ApiGatewayV2::Integration', {
      IntegrationUri: { 'Fn::GetAtt': [functionId('slack'), 'Arn'] },
      PayloadFormatVersion: '2.0',
    });
    synth.template.hasOutput('SlackRequestUrl', Match.anyValue());
    synth.template.hasOutput('SlackEndpoint', Match.anyValue());
  });

  it('runs the reconciler every 5 minutes', () => {
    synth.template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(5 minutes)',
      Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [functionId('reconciler'), 'Arn'] } })],
    });
  });

  it('alarms to the SNS topic on failed and timed-out executions, revoke failures, orphans and the Slack function', () => {
    const alarms = synth.template.findResources('AWS::CloudWatch::Alarm');
    const topic = logicalId(synth.stack.alarmTopic.node.defaultChild);
    const ids = Object.keys(alarms);
    for (const name of [
      'ExecutionsFailed',
      'ExecutionsTimedOut',
      'RevokeFailed',
      'OrphanFound',
      'ReconcilerErrors',
      'SlackErrors',
      'SlackLatencyP99',
    ])
      expect(ids.some((id) => id.startsWith(`Monitoring${name}`))).toBe(true);
    for (const alarm of Object.values(alarms))
      expect(alarm.Properties.AlarmActions).toEqual([{ Ref: topic }]);
    synth.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      ExtendedStatistic: 'p99',
      MetricName: 'Duration',
      Threshold: 2500,
      ComparisonOperator: 'GreaterThanThreshold',
    });
    synth.template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'oncall@example.com',
    });
  });

  it('counts revoke failures and orphans from the logs', () => {
    const patterns = Object.values(synth.template.findResources('AWS::Logs::MetricFilter')).map(
      (filter) => filter.Properties.FilterPattern,
    );
    expect(patterns).toEqual(
      expect.arrayContaining([
        '{ ($.type = "ExecutionFailed") && ($.details.error = "RevokeFailed") }',
        '{ ($.audit.action = "request.closed") && ($.audit.details.outcome = "revoke-failed") }',
        '{ $.audit.action = "reconciler.orphan-found" }',
      ]),
    );
  });
});
