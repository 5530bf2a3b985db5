import { readFileSync } from 'node:fs';
import { parsePolicy } from '../../functions/core/policy-file';
import type { FunctionName } from '../../infra/bundling';
import { secretReadRuleName } from '../../infra/jit-access-stack';
import {
  ACCOUNT,
  type Context,
  type IamModel,
  IDENTITY_CENTER_KEY_ARN,
  iamModel,
  item,
  OTHER_ACCOUNT,
  type RoleName,
  requestUniverse,
  STATE_TABLE_ITEMS,
} from './iam-harness';
import { EXAMPLE_POLICY_FILE, removeOutdirs } from './synth';

// Who may do what, asked of an independent IAM evaluator (@cloud-copilot/iam-simulate, through
// test/infra/iam-harness.ts) about the synthesized template: identity policies of every role, the
// audit table's resource policy and the alarm topic's policy, with the request context keys AWS
// sets (dynamodb:LeadingKeys = the item's partition key, aws:SourceAccount/SourceArn,
// aws:SecureTransport, kms:ViaService). A test here fails when a boundary regresses, whatever
// statement shape caused it.
//
// State-table items by partition key (functions/adapters/dynamodb-request-store.ts):
//   REQUEST#<id> / REQUEST           request records
//   TOKEN#<id> / approval|window     task tokens
//   ASSIGNMENT#<acct>#<ps>#<user>    holders records (sk HOLDERS)
//   MEMBERSHIP#<group>#<user>        group memberships' holders records (sk HOLDERS)
//   ADMISSION#identity-center        the admission schedule (sk SCHEDULE)
//   ADMISSION#slack-channel#<id>     an approval channel's post schedule (sk SCHEDULE)

const policy = parsePolicy(readFileSync(EXAMPLE_POLICY_FILE, 'utf8'));
const INSTANCE = policy.identityCenter.instanceArn;
const PERMISSION_SETS = policy.permissionSets.map((ps) => ps.arn);
// The accounts the policy lists by id; its OU rules add more at synth (compiledAccounts()).
const ACCOUNTS = policy.accounts.map((a) => `arn:aws:sso:::account/${a.id}`);
const STORE = `arn:aws:identitystore::${ACCOUNT}:identitystore/${policy.identityCenter.identityStoreId}`;
const USER = 'arn:aws:identitystore:::user/9067a1b2c3-0123-4567-89ab-cdef01234567';
const GROUP = 'arn:aws:identitystore:::group/9067a1b2c3-89ab-cdef-0123-456789abcdef';

const REQUEST = item(STATE_TABLE_ITEMS.request);
const TOKEN = item(STATE_TABLE_ITEMS.token);
const HOLDERS = item(STATE_TABLE_ITEMS.holders);
const SCHEDULE = item(STATE_TABLE_ITEMS.admission);
const CHANNEL_SCHEDULE = item(STATE_TABLE_ITEMS.channelSchedule);
const AUDIT_EVENT = item('r-1');
const STATE_ITEMS: Array<[string, Context]> = [
  ['request record', REQUEST],
  ['task token', TOKEN],
  ['holders record', HOLDERS],
];
const WRITES = ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'];
const EVERY_TABLE_ACTION = [
  'dynamodb:GetItem',
  'dynamodb:BatchGetItem',
  'dynamodb:PutItem',
  'dynamodb:UpdateItem',
  'dynamodb:DeleteItem',
  'dynamodb:BatchWriteItem',
  'dynamodb:ConditionCheckItem',
  'dynamodb:Query',
  'dynamodb:Scan',
  'dynamodb:PartiQLSelect',
  'dynamodb:PartiQLInsert',
  'dynamodb:PartiQLUpdate',
  'dynamodb:PartiQLDelete',
  'dynamodb:DescribeTable',
];
const AUDIT_CHANGES = [
  'dynamodb:UpdateItem',
  'dynamodb:DeleteItem',
  'dynamodb:BatchWriteItem',
  'dynamodb:PartiQLUpdate',
  'dynamodb:PartiQLDelete',
];
const IDENTITY_CENTER_WRITES: Array<[string, string[]]> = [
  ['sso:CreateAccountAssignment', [INSTANCE, PERMISSION_SETS[0] as string, ACCOUNTS[0] as string]],
  ['sso:DeleteAccountAssignment', [INSTANCE, PERMISSION_SETS[0] as string, ACCOUNTS[0] as string]],
  ['sso:ProvisionPermissionSet', [INSTANCE, PERMISSION_SETS[0] as string, ACCOUNTS[0] as string]],
  ['sso:PutInlinePolicyToPermissionSet', [INSTANCE, PERMISSION_SETS[0] as string]],
  ['identitystore:CreateGroupMembership', [STORE, GROUP, USER]],
  ['identitystore:DeleteGroupMembership', [STORE]],
  ['identitystore:CreateUser', [STORE]],
  ['identitystore:UpdateUser', [STORE, USER]],
  ['identitystore:DeleteUser', [STORE, USER]],
];

let m: IamModel;
let roles: RoleName[];

beforeAll(async () => {
  m = await iamModel();
  roles = Object.keys(m.roles) as RoleName[];
}, 120_000);
afterAll(removeOutdirs);

const index = (name: string) => `${m.stateTableArn}/index/${name}`;

/** Every role of the stack that may do it (sorted). */
async function whoMay(action: string, resource: string, context: Context = {}): Promise<RoleName[]> {
  const allowed: RoleName[] = [];
  for (const role of roles) if (await m.can(role, action, resource, context)) allowed.push(role);
  return allowed.sort();
}

/** `{role, action, allowed}` for each, so a failure names what changed. */
async function verdicts(role: RoleName, checks: Array<[string, string, Context?]>) {
  const out: Array<{ role: RoleName; action: string; on: string; allowed: boolean }> = [];
  for (const [action, resource, context] of checks)
    out.push({
      role,
      action,
      on: `${resource}${context ? ` ${JSON.stringify(context)}` : ''}`,
      allowed: await m.can(role, action, resource, context),
    });
  return out;
}
const all = (allowed: boolean, checks: Awaited<ReturnType<typeof verdicts>>) =>
  checks.map((c) => ({ ...c, allowed }));

async function expectNoIdentityCenterWrites(role: RoleName) {
  for (const [action, resources] of IDENTITY_CENTER_WRITES)
    for (const resource of resources)
      expect({ role, action, resource, allowed: await m.can(role, action, resource) }).toEqual({
        role,
        action,
        resource,
        allowed: false,
      });
}

async function expectNothingOnAuditTable(role: RoleName) {
  const checks = await verdicts(
    role,
    EVERY_TABLE_ACTION.map((action) => [action, m.auditTableArn, AUDIT_EVENT] as [string, string, Context]),
  );
  expect(checks).toEqual(all(false, checks));
}

describe('slack function (the public entry)', () => {
  it('reads request records, never task tokens or holders records', async () => {
    expect(await m.can('slack', 'dynamodb:GetItem', m.stateTableArn, REQUEST)).toBe(true);
    expect(await m.can('slack', 'dynamodb:GetItem', m.stateTableArn, TOKEN)).toBe(false);
    expect(await m.can('slack', 'dynamodb:GetItem', m.stateTableArn, HOLDERS)).toBe(false);
    // nor through a Query of the table itself
    expect(await m.can('slack', 'dynamodb:Query', m.stateTableArn, TOKEN)).toBe(false);
    expect(await m.can('slack', 'dynamodb:Query', m.stateTableArn, HOLDERS)).toBe(false);
  });

  it('queries the byRequester and byStatus indexes', async () => {
    expect(await m.whyNot('slack', 'dynamodb:Query', index('byRequester'), item('REQUESTER#U0123'))).toMatch(
      /: Allowed;/,
    );
    expect(
      await m.whyNot('slack', 'dynamodb:Query', index('byStatus'), item('STATUS#PENDING_APPROVAL')),
    ).toMatch(/: Allowed;/);
  });

  it('writes and deletes no state-table item', async () => {
    const checks = await verdicts(
      'slack',
      [...WRITES, 'dynamodb:BatchWriteItem', 'dynamodb:PartiQLInsert', 'dynamodb:PartiQLUpdate'].flatMap(
        (action) => STATE_ITEMS.map(([, key]) => [action, m.stateTableArn, key] as [string, string, Context]),
      ),
    );
    expect(checks).toEqual(all(false, checks));
  });

  it('has no access to the audit table at all', () => expectNothingOnAuditTable('slack'));

  it('starts executions and completes no task token', async () => {
    expect(await m.can('slack', 'states:StartExecution', m.stateMachineArn)).toBe(true);
    expect(await m.can('slack', 'states:SendTaskSuccess', m.stateMachineArn)).toBe(false);
    expect(await m.can('slack', 'states:SendTaskFailure', m.stateMachineArn)).toBe(false);
    expect(await m.can('slack', 'states:SendTaskSuccess', '*')).toBe(false);
  });

  it('makes no other Step Functions call (no DescribeExecution: nothing in functions/slack asks)', async () => {
    const execution = `${m.stateMachineArn.replace(':stateMachine:', ':execution:')}:r-1`;
    expect(await m.can('slack', 'states:DescribeExecution', execution)).toBe(false);
    expect(await m.can('slack', 'states:StopExecution', execution)).toBe(false);
    expect(await m.can('slack', 'states:ListExecutions', m.stateMachineArn)).toBe(false);
  });

  it('invokes the decisions function and no other function', async () => {
    const invokable = [];
    for (const name of m.functionNames)
      if (await m.can('slack', 'lambda:InvokeFunction', m.functionArn(name))) invokable.push(name);
    expect(invokable).toEqual(['decisions']);
  });

  it('changes nothing in Identity Center and looks users up by email', async () => {
    await expectNoIdentityCenterWrites('slack');
    expect(await m.can('slack', 'sso:ListAccountAssignments', INSTANCE)).toBe(false);
    expect(await m.canAll('slack', 'identitystore:GetUserId', [STORE, USER])).toBe(true);
  });

  it('reads the session duration of the policy’s permission sets (the request form’s line), and nothing else of a permission set', async () => {
    for (const ps of PERMISSION_SETS)
      expect({ ps, allowed: await m.canAll('slack', 'sso:DescribePermissionSet', [INSTANCE, ps]) }).toEqual({
        ps,
        allowed: true,
      });
    const otherPermissionSet = `${INSTANCE.replace(':instance/', ':permissionSet/')}/ps-ffffffffffffffff`;
    const otherInstance = 'arn:aws:sso:::instance/ssoins-ffffffffffffffff';
    for (const resource of [otherPermissionSet, otherInstance])
      expect({ resource, allowed: await m.can('slack', 'sso:DescribePermissionSet', resource) }).toEqual({
        resource,
        allowed: false,
      });
    for (const action of [
      'sso:GetInlinePolicyForPermissionSet',
      'sso:PutInlinePolicyToPermissionSet',
      'sso:DeleteInlinePolicyFromPermissionSet',
      'sso:ProvisionPermissionSet',
      'sso:DescribePermissionSetProvisioningStatus',
      'sso:ListPermissionSets',
      'sso:UpdatePermissionSet',
    ])
      expect({ action, allowed: await m.can('slack', action, INSTANCE) }).toEqual({ action, allowed: false });
  });
});

describe('decisions function', () => {
  it('reads and writes request records', async () => {
    expect(await m.can('decisions', 'dynamodb:GetItem', m.stateTableArn, REQUEST)).toBe(true);
    expect(await m.can('decisions', 'dynamodb:PutItem', m.stateTableArn, REQUEST)).toBe(true);
  });

  it('takes (deletes) a task token but never stores one', async () => {
    expect(await m.can('decisions', 'dynamodb:DeleteItem', m.stateTableArn, TOKEN)).toBe(true);
    expect(await m.can('decisions', 'dynamodb:PutItem', m.stateTableArn, TOKEN)).toBe(false);
    expect(await m.can('decisions', 'dynamodb:UpdateItem', m.stateTableArn, TOKEN)).toBe(false);
  });

  it('writes no holders record', async () => {
    const checks = await verdicts(
      'decisions',
      WRITES.map((action) => [action, m.stateTableArn, HOLDERS] as [string, string, Context]),
    );
    expect(checks).toEqual(all(false, checks));
  });

  it('completes task tokens of this state machine', async () => {
    expect(await m.can('decisions', 'states:SendTaskSuccess', m.stateMachineArn)).toBe(true);
    expect(await m.can('decisions', 'states:SendTaskFailure', m.stateMachineArn)).toBe(true);
    expect(
      await m.can(
        'decisions',
        'states:StopExecution',
        `${m.stateMachineArn.replace(':stateMachine:', ':execution:')}:r-1`,
      ),
    ).toBe(false);
  });

  it('appends to the trail only through the audit writer', async () => {
    expect(await m.can('decisions', 'lambda:InvokeFunction', m.functionArn('audit-writer'))).toBe(true);
    await expectNothingOnAuditTable('decisions');
  });

  it('changes nothing in Identity Center', () => expectNoIdentityCenterWrites('decisions'));
});

describe('audit-writer function', () => {
  const WRITER_ACTIONS = ['dynamodb:PutItem', 'dynamodb:GetItem', 'dynamodb:Query'];

  it('appends events, reads one back (a replayed event is told from an overwrite) and reads its chain, nothing more on the table', async () => {
    expect(await m.can('audit-writer', 'dynamodb:PutItem', m.auditTableArn, AUDIT_EVENT)).toBe(true);
    // functions/adapters/dynamodb-audit-log.ts append: on a conditional failure it GetItems the
    // stored event to accept the same event again and refuse a different one; it Queries the
    // request's chain links to find the head it links after.
    expect(await m.can('audit-writer', 'dynamodb:GetItem', m.auditTableArn, AUDIT_EVENT)).toBe(true);
    expect(await m.can('audit-writer', 'dynamodb:Query', m.auditTableArn, AUDIT_EVENT)).toBe(true);
    const checks = await verdicts(
      'audit-writer',
      EVERY_TABLE_ACTION.filter((a) => !WRITER_ACTIONS.includes(a)).map(
        (action) => [action, m.auditTableArn, AUDIT_EVENT] as [string, string, Context],
      ),
    );
    expect(checks).toEqual(all(false, checks));
  });

  it('has nothing on the state table', async () => {
    const checks = await verdicts('audit-writer', [
      ...EVERY_TABLE_ACTION.flatMap((action) =>
        STATE_ITEMS.map(([, key]) => [action, m.stateTableArn, key] as [string, string, Context]),
      ),
      ['dynamodb:Query', index('byRequester')],
      ['dynamodb:Query', index('byStatus')],
    ]);
    expect(checks).toEqual(all(false, checks));
  });

  it('may do nothing else that any role of the stack may do', async () => {
    const own = m.role('audit-writer');
    const ownLogs = JSON.stringify(own.policies)
      .match(/arn:aws:logs:[^"]+/)?.[0]
      ?.replace(/:\*$/, '');
    const extra = [];
    for (const request of await requestUniverse(m)) {
      if (!(await m.can('audit-writer', request.action, request.resource, request.context))) continue;
      const expected =
        (request.resource === m.auditTableArn && WRITER_ACTIONS.includes(request.action)) ||
        (ownLogs !== undefined && request.resource.startsWith(ownLogs) && request.action.startsWith('logs:'));
      if (!expected) extra.push(request);
    }
    expect(extra).toEqual([]);
  });
});

describe('reconciler and Step Functions', () => {
  it('describes and stops one execution by name, and lists none (functions/adapters/step-functions-workflow.ts)', async () => {
    const execution = `${m.stateMachineArn.replace(':stateMachine:', ':execution:')}:r-1`;
    expect(await m.can('reconciler', 'states:DescribeExecution', execution)).toBe(true);
    expect(await m.can('reconciler', 'states:StopExecution', execution)).toBe(true);
    expect(await m.can('reconciler', 'states:ListExecutions', m.stateMachineArn)).toBe(false);
    expect(await m.can('reconciler', 'states:StartExecution', m.stateMachineArn)).toBe(false);
    expect(await m.can('reconciler', 'states:SendTaskSuccess', m.stateMachineArn)).toBe(false);
    const otherMachine = `arn:aws:states:${m.region}:${ACCOUNT}:execution:OtherMachine:r-1`;
    expect(await m.can('reconciler', 'states:StopExecution', otherMachine)).toBe(false);
  });
});

describe('audit table: append-only in two layers', () => {
  it('no role may update, delete, batch-write or PartiQL-change an event (identity policies)', async () => {
    const allowed = [];
    for (const role of roles)
      for (const action of AUDIT_CHANGES)
        if (await m.identityAllows(role, action, m.auditTableArn, AUDIT_EVENT))
          allowed.push({ role, action });
    expect(allowed).toEqual([]);
  });

  it('the table policy denies those to any principal, even one allowed everything (and only those)', async () => {
    for (const action of AUDIT_CHANGES)
      expect({ action, allowed: await m.resourcePolicyAllows(action, m.auditTableArn, AUDIT_EVENT) }).toEqual(
        {
          action,
          allowed: false,
        },
      );
    expect(await m.resourcePolicyAllows('dynamodb:PutItem', m.auditTableArn, AUDIT_EVENT)).toBe(true);
    expect(await m.resourcePolicyAllows('dynamodb:Query', m.auditTableArn, AUDIT_EVENT)).toBe(true);
  });

  it('at most two roles may put an event, the audit writer among them', async () => {
    const writers = await whoMay('dynamodb:PutItem', m.auditTableArn, AUDIT_EVENT);
    expect(writers).toContain('audit-writer');
    expect(writers.length).toBeLessThanOrEqual(2);
  });
});

describe('audit archive: new objects only, never deleted or unlocked', () => {
  const object = () => `${m.archiveBucketArn}/events/date=2026-12-01/request=r-1/00000001.json`;
  const NEW_KEY = { 's3:if-none-match': '*' };
  const ARCHIVE_CHANGES = [
    's3:DeleteObject',
    's3:DeleteObjectVersion',
    's3:PutObjectRetention',
    's3:BypassGovernanceRetention',
    's3:PutObjectLegalHold',
  ];

  it('lets the archiver put a new object under events/ and nothing else in the bucket', async () => {
    expect(await m.can('archiver', 's3:PutObject', object(), NEW_KEY)).toBe(true);
    // Without If-None-Match a put could overwrite a key: refused to the archiver itself.
    expect(await m.can('archiver', 's3:PutObject', object())).toBe(false);
    expect(await m.can('archiver', 's3:PutObject', `${m.archiveBucketArn}/other/x.json`, NEW_KEY)).toBe(
      false,
    );
    for (const action of [...ARCHIVE_CHANGES, 's3:GetObject'])
      expect({ action, allowed: await m.can('archiver', action, object()) }).toEqual({
        action,
        allowed: false,
      });
    expect(await m.can('archiver', 's3:ListBucket', m.archiveBucketArn)).toBe(false);
  });

  it('no other role may write to the bucket at all', async () => {
    const writers = await whoMay('s3:PutObject', object(), NEW_KEY);
    expect(writers).toEqual(['archiver']);
  });

  it('the bucket policy refuses deletes, unlocks and any overwrite to a principal allowed everything', async () => {
    for (const action of ARCHIVE_CHANGES)
      expect({ action, allowed: await m.resourcePolicyAllows(action, object()) }).toEqual({
        action,
        allowed: false,
      });
    expect(await m.resourcePolicyAllows('s3:PutBucketObjectLockConfiguration', m.archiveBucketArn)).toBe(
      false,
    );
    expect(await m.resourcePolicyAllows('s3:PutObject', object())).toBe(false);
    expect(await m.resourcePolicyAllows('s3:PutObject', object(), NEW_KEY)).toBe(true);
    // TLS only (the bucket's enforceSSL statement).
    expect(await m.resourcePolicyAllows('s3:GetObject', object(), { 'aws:SecureTransport': 'false' })).toBe(
      false,
    );
    expect(await m.resourcePolicyAllows('s3:GetObject', object(), { 'aws:SecureTransport': 'true' })).toBe(
      true,
    );
  });

  it('locks every object in compliance mode for the configured retention, versioned and encrypted', () => {
    m.synth.template.hasResourceProperties('AWS::S3::Bucket', {
      ObjectLockEnabled: true,
      ObjectLockConfiguration: {
        ObjectLockEnabled: 'Enabled',
        Rule: { DefaultRetention: { Mode: 'COMPLIANCE', Days: 400 } },
      },
      VersioningConfiguration: { Status: 'Enabled' },
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
      },
    });
  });

  it('feeds the archiver only inserted chain links, in order, with failures kept', () => {
    m.synth.template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      StartingPosition: 'TRIM_HORIZON',
      ParallelizationFactor: 1,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      FilterCriteria: {
        Filters: [
          {
            Pattern: JSON.stringify({
              eventName: ['INSERT'],
              dynamodb: { NewImage: { sk: { S: [{ prefix: 'CHAIN#' }] } } },
            }),
          },
        ],
      },
    });
  });
});

describe('Identity Center assignments', () => {
  // Every account the compiled policy reaches: the listed one and those its OU resolved to.
  const compiledAccounts = () => m.synth.config.policy.accounts.map((a) => `arn:aws:sso:::account/${a.id}`);
  const everyAssignment = () =>
    PERMISSION_SETS.flatMap((ps) => compiledAccounts().map((account) => [INSTANCE, ps, account]));

  it('reaches the accounts below the OU as well as the listed one', () => {
    expect(compiledAccounts().sort()).toEqual(
      ['111111111111', '222222222222', '333333333333', '444444444444'].map(
        (id) => `arn:aws:sso:::account/${id}`,
      ),
    );
  });

  async function whoMayAssign(action: string, resources: string[]) {
    const allowed: RoleName[] = [];
    for (const role of roles) if (await m.canAll(role, action, resources)) allowed.push(role);
    return allowed.sort();
  }

  it('only grant may create one, for every permission set and account the policy names', async () => {
    for (const resources of everyAssignment())
      expect({ resources, roles: await whoMayAssign('sso:CreateAccountAssignment', resources) }).toEqual({
        resources,
        roles: ['grant'],
      });
  });

  it('only revoke and the reconciler may delete one, for every permission set and account the policy names', async () => {
    for (const resources of everyAssignment())
      expect({ resources, roles: await whoMayAssign('sso:DeleteAccountAssignment', resources) }).toEqual({
        resources,
        roles: ['reconciler', 'revoke'],
      });
  });

  it('refuses an account, a permission set or an instance the policy does not name', async () => {
    const otherAccount = `arn:aws:sso:::account/${OTHER_ACCOUNT}`;
    const otherPermissionSet = `${INSTANCE.replace(':instance/', ':permissionSet/')}/ps-ffffffffffffffff`;
    const otherInstance = 'arn:aws:sso:::instance/ssoins-ffffffffffffffff';
    const cases: Array<[RoleName, string]> = [
      ['grant', 'sso:CreateAccountAssignment'],
      ['revoke', 'sso:DeleteAccountAssignment'],
      ['reconciler', 'sso:DeleteAccountAssignment'],
    ];
    for (const [role, action] of cases) {
      expect(
        await m.canAll(role, action, [INSTANCE, PERMISSION_SETS[0] as string, ACCOUNTS[0] as string]),
      ).toBe(true);
      for (const resource of [otherAccount, otherPermissionSet, otherInstance])
        expect({ role, action, resource, allowed: await m.can(role, action, resource) }).toEqual({
          role,
          action,
          resource,
          allowed: false,
        });
    }
  });

  it('gives the reserved-role IAM actions to grant (create) and revoke/reconciler (delete), on the reserved path of this account only', async () => {
    // Identity Center creates and deletes AWSReservedSSO_* roles in its own account with the
    // caller's permissions: the question is what the identity policies allow. Directly, no
    // principal may change a role under role/aws-reserved/ (the evaluator models that too).
    const reserved = `arn:aws:iam::${ACCOUNT}:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_ReadOnly_0123456789abcdef`;
    const whoseIdentityAllows = async (action: string, resource: string) => {
      const allowed: RoleName[] = [];
      for (const role of roles) if (await m.identityAllows(role, action, resource)) allowed.push(role);
      return allowed.sort();
    };
    expect(await whoseIdentityAllows('iam:CreateRole', reserved)).toEqual(['grant']);
    expect(await whoseIdentityAllows('iam:AttachRolePolicy', reserved)).toEqual(['grant']);
    expect(await whoseIdentityAllows('iam:DeleteRole', reserved)).toEqual(['reconciler', 'revoke']);
    expect(
      await whoseIdentityAllows(
        'iam:GetSAMLProvider',
        `arn:aws:iam::${ACCOUNT}:saml-provider/AWSSSO_0123456789abcdef_DO_NOT_DELETE`,
      ),
    ).toEqual(['grant', 'reconciler', 'revoke']);
    expect(await whoMay('iam:CreateRole', reserved)).toEqual([]);
    for (const resource of [
      `arn:aws:iam::${ACCOUNT}:role/Administrator`,
      `arn:aws:iam::${OTHER_ACCOUNT}:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_ReadOnly_0123456789abcdef`,
    ])
      for (const action of ['iam:CreateRole', 'iam:AttachRolePolicy', 'iam:PutRolePolicy', 'iam:DeleteRole'])
        expect({ action, resource, roles: await whoseIdentityAllows(action, resource) }).toEqual({
          action,
          resource,
          roles: [],
        });
  });
});

// Ending sessions at revoke (functions/core/session-ending.ts) edits permission sets: opt-in per
// permission set (endSessionsOnRevoke). The example policy opts none in.
const PERMISSION_SET_EDITS = [
  'sso:GetInlinePolicyForPermissionSet',
  'sso:PutInlinePolicyToPermissionSet',
  'sso:DeleteInlinePolicyFromPermissionSet',
  'sso:DescribePermissionSet',
];

describe('permission sets, when none ends sessions at revoke (the example policy)', () => {
  it('no role may edit or provision a permission set, nor ask about a provisioning; only slack reads their session durations', async () => {
    const compiledAccounts = m.synth.config.policy.accounts.map((a) => `arn:aws:sso:::account/${a.id}`);
    for (const resource of [INSTANCE, ...PERMISSION_SETS]) {
      for (const action of PERMISSION_SET_EDITS)
        expect({ action, resource, roles: await whoMay(action, resource) }).toEqual({
          action,
          resource,
          // The request form's line on how long sessions outlive the window.
          roles: action === 'sso:DescribePermissionSet' ? ['slack'] : [],
        });
    }
    for (const resource of [INSTANCE, ...PERMISSION_SETS, ...compiledAccounts])
      expect({ resource, roles: await whoMay('sso:ProvisionPermissionSet', resource) }).toEqual({
        resource,
        roles: [],
      });
    expect(await whoMay('sso:DescribePermissionSetProvisioningStatus', INSTANCE)).toEqual([]);
  });

  it('the end-sessions function exists but holds no Identity Center permission at all', async () => {
    await expectNoIdentityCenterWrites('end-sessions');
    for (const action of ['sso:ListAccountAssignments', 'sso:DescribeAccountAssignmentDeletionStatus'])
      expect(await m.can('end-sessions', action, INSTANCE)).toBe(false);
    // It reads request records (its alert's channel), nothing else of the state table.
    expect(await m.can('end-sessions', 'dynamodb:GetItem', m.stateTableArn, REQUEST)).toBe(true);
    for (const [, context] of STATE_ITEMS)
      for (const action of WRITES)
        expect(await m.can('end-sessions', action, m.stateTableArn, context)).toBe(false);
    expect(await m.can('end-sessions', 'dynamodb:GetItem', m.stateTableArn, HOLDERS)).toBe(false);
  });
});

describe('Identity Center group memberships (group access)', () => {
  const OFFERED = 'arn:aws:identitystore:::group/9067a1b2c3-1b2c3d4e-5f60-4a1b-8c2d-3e4f5a6b7c8d';
  const MEMBERSHIP = 'arn:aws:identitystore:::membership/9067a1b2c3-0000-4000-8000-000000000001';
  async function whoMayAll(action: string, resources: string[]) {
    const allowed: RoleName[] = [];
    for (const role of roles) if (await m.canAll(role, action, resources)) allowed.push(role);
    return allowed.sort();
  }

  it('only grant may add a member, and only to a group a rule offers', async () => {
    expect(await whoMayAll('identitystore:CreateGroupMembership', [STORE, OFFERED, USER])).toEqual(['grant']);
    expect(await whoMay('identitystore:CreateGroupMembership', GROUP)).toEqual([]);
  });

  it('only revoke and the reconciler may remove a membership, of an offered group', async () => {
    expect(
      await whoMayAll('identitystore:DeleteGroupMembership', [STORE, OFFERED, MEMBERSHIP, USER]),
    ).toEqual(['reconciler', 'revoke']);
    expect(await whoMay('identitystore:DeleteGroupMembership', GROUP)).toEqual([]);
  });

  it('grant, revoke and the reconciler look a membership up, in an offered group only', async () => {
    expect(await whoMayAll('identitystore:GetGroupMembershipId', [STORE, OFFERED, MEMBERSHIP, USER])).toEqual(
      ['grant', 'reconciler', 'revoke'],
    );
    expect(await whoMay('identitystore:GetGroupMembershipId', GROUP)).toEqual([]);
  });

  it('refuses another identity store', async () => {
    const otherStore = `arn:aws:identitystore::${ACCOUNT}:identitystore/d-ffffffffff`;
    for (const role of ['grant', 'revoke', 'reconciler'] as RoleName[])
      expect(await m.can(role, 'identitystore:CreateGroupMembership', otherStore)).toBe(false);
  });

  it('their holders records (MEMBERSHIP#…) are written only by grant, revoke and the reconciler', async () => {
    const MEMBERSHIPS = item(STATE_TABLE_ITEMS.memberships);
    expect(await whoMay('dynamodb:PutItem', m.stateTableArn, MEMBERSHIPS)).toEqual([
      'grant',
      'reconciler',
      'revoke',
    ]);
    expect(await whoMay('dynamodb:UpdateItem', m.stateTableArn, MEMBERSHIPS)).toEqual([]);
    expect(await whoMay('dynamodb:DeleteItem', m.stateTableArn, MEMBERSHIPS)).toEqual([]);
  });
});

describe('holders records (ASSIGNMENT#…)', () => {
  it('are written only by grant, check-grant, revoke, check-revoke and the reconciler', async () => {
    expect(await whoMay('dynamodb:PutItem', m.stateTableArn, HOLDERS)).toEqual(
      ['check-grant', 'check-revoke', 'grant', 'reconciler', 'revoke'].sort(),
    );
  });

  it('are never updated in place or deleted', async () => {
    expect(await whoMay('dynamodb:UpdateItem', m.stateTableArn, HOLDERS)).toEqual([]);
    expect(await whoMay('dynamodb:DeleteItem', m.stateTableArn, HOLDERS)).toEqual([]);
  });
});

describe('the admission schedule (ADMISSION#…)', () => {
  it('is moved (UpdateItem) only by admit, grant and revoke, and is the only item anyone may update', async () => {
    expect(await whoMay('dynamodb:UpdateItem', m.stateTableArn, SCHEDULE)).toEqual([
      'admit',
      'grant',
      'revoke',
    ]);
    for (const [, context] of [
      ['request', REQUEST],
      ['token', TOKEN],
      ['holders', HOLDERS],
    ] as const)
      expect(await whoMay('dynamodb:UpdateItem', m.stateTableArn, context)).toEqual([]);
  });

  it('an approval channel’s post schedule is moved and read only by validate, which cannot touch the Identity Center one', async () => {
    expect(await whoMay('dynamodb:UpdateItem', m.stateTableArn, CHANNEL_SCHEDULE)).toEqual(['validate']);
    expect(await whoMay('dynamodb:GetItem', m.stateTableArn, CHANNEL_SCHEDULE)).toEqual(['validate']);
    expect(await whoMay('dynamodb:PutItem', m.stateTableArn, CHANNEL_SCHEDULE)).toEqual([]);
    expect(await whoMay('dynamodb:DeleteItem', m.stateTableArn, CHANNEL_SCHEDULE)).toEqual([]);
    expect(await m.can('validate', 'dynamodb:UpdateItem', m.stateTableArn, SCHEDULE)).toBe(false);
    expect(await m.can('validate', 'dynamodb:GetItem', m.stateTableArn, SCHEDULE)).toBe(false);
  });

  it('gives admit nothing else: no other item, no Identity Center, no trail, no invoke', async () => {
    for (const [, context] of STATE_ITEMS)
      for (const action of ['dynamodb:GetItem', ...WRITES])
        expect(await m.can('admit', action, m.stateTableArn, context)).toBe(false);
    expect(await m.can('admit', 'dynamodb:PutItem', m.stateTableArn, SCHEDULE)).toBe(false);
    expect(await m.can('admit', 'dynamodb:DeleteItem', m.stateTableArn, SCHEDULE)).toBe(false);
    for (const [action, resources] of IDENTITY_CENTER_WRITES)
      expect(await m.can('admit', action, resources[0] as string)).toBe(false);
    expect(await m.can('admit', 'lambda:InvokeFunction', m.functionArn('audit-writer'))).toBe(false);
  });
});

describe('task tokens (TOKEN#…)', () => {
  it('are stored only by request-approval and access-window (the two callback tasks)', async () => {
    expect(await whoMay('dynamodb:PutItem', m.stateTableArn, TOKEN)).toEqual([
      'access-window',
      'request-approval',
    ]);
  });

  it('are taken (deleted) only by decisions and finish (the window token)', async () => {
    expect(await whoMay('dynamodb:DeleteItem', m.stateTableArn, TOKEN)).toEqual(['decisions', 'finish']);
    expect(await whoMay('dynamodb:UpdateItem', m.stateTableArn, TOKEN)).toEqual([]);
  });

  it('are read by no role but decisions (taking one is a DeleteItem returning it; nothing peeks)', async () => {
    const readers = await whoMay('dynamodb:GetItem', m.stateTableArn, TOKEN);
    expect(readers.filter((r) => r !== 'decisions')).toEqual([]);
    expect(await whoMay('dynamodb:Query', m.stateTableArn, TOKEN)).toEqual([]);
  });

  it('are completed (SendTaskSuccess/Failure) only by decisions', async () => {
    expect(await whoMay('states:SendTaskSuccess', m.stateMachineArn)).toEqual(['decisions']);
    expect(await whoMay('states:SendTaskFailure', m.stateMachineArn)).toEqual(['decisions']);
  });
});

describe('alarm topic', () => {
  const cloudWatch = (account: string, alarmArn: string, secure = true): Context => ({
    'aws:SourceAccount': account,
    'aws:SourceArn': alarmArn,
    'aws:SecureTransport': String(secure),
  });

  it('takes notifications from every alarm of this stack (CloudWatch, this account)', async () => {
    expect(m.alarmArns.length).toBeGreaterThan(0);
    for (const alarm of m.alarmArns)
      expect({
        alarm,
        allowed: await m.serviceCan(
          'cloudwatch.amazonaws.com',
          'sns:Publish',
          m.alarmTopicArn,
          cloudWatch(ACCOUNT, alarm),
        ),
      }).toEqual({ alarm, allowed: true });
  });

  it('refuses CloudWatch on behalf of another account, and CloudWatch without a source', async () => {
    const foreign = `arn:aws:cloudwatch:${m.region}:${OTHER_ACCOUNT}:alarm:Anything`;
    expect(
      await m.serviceCan(
        'cloudwatch.amazonaws.com',
        'sns:Publish',
        m.alarmTopicArn,
        cloudWatch(OTHER_ACCOUNT, foreign),
      ),
    ).toBe(false);
    expect(
      await m.serviceCan(
        'cloudwatch.amazonaws.com',
        'sns:Publish',
        m.alarmTopicArn,
        cloudWatch(ACCOUNT, foreign),
      ),
    ).toBe(false);
    expect(
      await m.serviceCan('cloudwatch.amazonaws.com', 'sns:Publish', m.alarmTopicArn, {
        'aws:SecureTransport': 'true',
      }),
    ).toBe(false);
    // both keys are checked: the source account on its own too
    const ours = m.alarmArns[0] as string;
    expect(
      await m.serviceCan(
        'cloudwatch.amazonaws.com',
        'sns:Publish',
        m.alarmTopicArn,
        cloudWatch(OTHER_ACCOUNT, ours),
      ),
    ).toBe(false);
    expect(
      await m.serviceCan('cloudwatch.amazonaws.com', 'sns:Publish', m.alarmTopicArn, {
        'aws:SourceArn': ours,
        'aws:SecureTransport': 'true',
      }),
    ).toBe(false);
  });

  it('refuses any principal over plain HTTP', async () => {
    const alarm = m.alarmArns[0] as string;
    expect(
      await m.serviceCan(
        'cloudwatch.amazonaws.com',
        'sns:Publish',
        m.alarmTopicArn,
        cloudWatch(ACCOUNT, alarm, false),
      ),
    ).toBe(false);
    expect(
      await m.resourcePolicyAllows('sns:Publish', m.alarmTopicArn, { 'aws:SecureTransport': 'false' }),
    ).toBe(false);
    expect(
      await m.resourcePolicyAllows('sns:Publish', m.alarmTopicArn, { 'aws:SecureTransport': 'true' }),
    ).toBe(true);
  });

  it('takes notifications from the Slack-secret-read EventBridge rule of docs/DEPLOY.md and no other rule', async () => {
    const rule = (name: string) => ({
      'aws:SourceAccount': ACCOUNT,
      'aws:SourceArn': `arn:aws:events:${m.region}:${ACCOUNT}:rule/${name}`,
      'aws:SecureTransport': 'true',
    });
    const name = secretReadRuleName(m.synth.config.stackName);
    expect(await m.serviceCan('events.amazonaws.com', 'sns:Publish', m.alarmTopicArn, rule(name))).toBe(true);
    expect(
      await m.serviceCan('events.amazonaws.com', 'sns:Publish', m.alarmTopicArn, rule('other-rule')),
    ).toBe(false);
  });
});

describe('Identity Center customer managed key (context identityCenterKmsKeyArn)', () => {
  // The example policy names Identity Center groups: the functions that read them decrypt too.
  const CALLERS: FunctionName[] = [
    'validate',
    'grant',
    'check-grant',
    'revoke',
    'check-revoke',
    'slack',
    'reconciler',
    'request-approval',
    'access-window',
    'decisions',
  ];

  it('lets exactly the functions that call sso-admin or identitystore decrypt through those services', async () => {
    for (const service of ['sso', 'identitystore'])
      expect(
        await whoMay('kms:Decrypt', IDENTITY_CENTER_KEY_ARN, {
          'kms:ViaService': `${service}.${m.region}.amazonaws.com`,
        }),
      ).toEqual([...CALLERS].sort());
  });

  it('lets no role use the key directly or through another service', async () => {
    expect(await whoMay('kms:Decrypt', IDENTITY_CENTER_KEY_ARN)).toEqual([]);
    expect(
      await whoMay('kms:Decrypt', IDENTITY_CENTER_KEY_ARN, {
        'kms:ViaService': `dynamodb.${m.region}.amazonaws.com`,
      }),
    ).toEqual([]);
    expect(
      await whoMay('kms:Encrypt', IDENTITY_CENTER_KEY_ARN, {
        'kms:ViaService': `sso.${m.region}.amazonaws.com`,
      }),
    ).toEqual([]);
  });
});

describe('a deployment account the policy does not list, and no customer managed key', () => {
  // One more synth, with context account = an account the example policy does not name.
  let other: IamModel;
  beforeAll(async () => {
    other = await iamModel({ account: ACCOUNT, identityCenterKmsKeyArn: '' });
  }, 120_000);

  it('gives no role the reserved-role IAM actions (Identity Center never provisions roles here)', async () => {
    const reserved = `arn:aws:iam::${ACCOUNT}:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_ReadOnly_0123456789abcdef`;
    const allowed = [];
    for (const role of Object.keys(other.roles) as RoleName[])
      for (const action of ['iam:CreateRole', 'iam:AttachRolePolicy', 'iam:DeleteRole', 'iam:GetRole'])
        if (await other.identityAllows(role, action, reserved)) allowed.push({ role, action });
    expect(allowed).toEqual([]);
    expect(JSON.stringify(Object.values(other.roles).map((r) => r?.policies))).not.toMatch(/"iam:/);
  });

  it('gives no role kms:Decrypt', () => {
    expect(JSON.stringify(Object.values(other.roles).map((r) => r?.policies))).not.toMatch(/"kms:/);
  });
});

describe('a policy naming Identity Center groups (the sandbox policy)', () => {
  // One more synth: identityCenterGroup: selectors bring the group reads, to the functions that ask.
  let groups: IamModel;
  beforeAll(async () => {
    groups = await iamModel({ policyFile: 'config/sandbox-policy.yaml' });
  }, 120_000);
  const GROUP = 'arn:aws:identitystore:::group/9067a1b2c3-0123-4567-89ab-cdef01234567';
  // The AllGroupMemberships resource type is `membership/*` itself: the evaluator takes no pattern.
  const readers = async (action: string, resources: string[]) => {
    const allowed: RoleName[] = [];
    for (const role of Object.keys(groups.roles) as RoleName[])
      if (await groups.canAll(role, action, resources)) allowed.push(role);
    return allowed.sort();
  };
  const ASKERS = ['access-window', 'decisions', 'reconciler', 'request-approval', 'slack', 'validate'];

  it('lets exactly the functions that ask who may request or approve read groups and a person’s memberships', async () => {
    expect(await readers('identitystore:ListGroupMemberships', [STORE, GROUP])).toEqual(ASKERS);
    expect(await readers('identitystore:ListGroupMembershipsForMember', [STORE, USER])).toEqual(ASKERS);
    expect(await readers('identitystore:DescribeGroup', [STORE, GROUP])).toEqual(ASKERS);
    expect(await readers('identitystore:DescribeUser', [STORE, USER])).toEqual(ASKERS);
  });

  it('lets no role change a group or a membership', async () => {
    for (const action of [
      'identitystore:CreateGroupMembership',
      'identitystore:DeleteGroupMembership',
      'identitystore:UpdateGroup',
      'identitystore:CreateGroup',
    ])
      expect(await readers(action, [STORE, GROUP, USER])).toEqual([]);
  });

  describe('PowerUser ends sessions at revoke (endSessionsOnRevoke in config/sandbox-policy.yaml)', () => {
    const instance = () => groups.synth.config.policy.identityCenter.instanceArn;
    const byName = (name: string) => {
      const found = groups.synth.config.policy.permissionSets.find((ps) => ps.name === name);
      if (!found) throw new Error(`no permission set ${name}`);
      return found;
    };
    const account = (id: string) => `arn:aws:sso:::account/${id}`;

    it('is the one permission set of the policy that opts in', () => {
      expect(
        groups.synth.config.policy.permissionSets.filter((ps) => ps.endSessionsOnRevoke).map((ps) => ps.name),
      ).toEqual(['PowerUser']);
    });

    it('lets only end-sessions and the reconciler read and edit its inline policy and provision it to the accounts the rules grant it on', async () => {
      const powerUser = byName('PowerUser').arn;
      for (const action of PERMISSION_SET_EDITS)
        expect({ action, roles: await readers(action, [instance(), powerUser]) }).toEqual({
          action,
          roles: ['end-sessions', 'reconciler'],
        });
      for (const id of ['111111111111', '222222222222', '333333333333', '444444444444'])
        expect({
          id,
          roles: await readers('sso:ProvisionPermissionSet', [instance(), powerUser, account(id)]),
        }).toEqual({
          id,
          roles: ['end-sessions', 'reconciler'],
        });
      expect(
        await readers('sso:ProvisionPermissionSet', [instance(), powerUser, account(OTHER_ACCOUNT)]),
      ).toEqual([]);
      expect(await readers('sso:DescribePermissionSetProvisioningStatus', [instance()])).toEqual([
        'end-sessions',
        'reconciler',
      ]);
    });

    it('lets no role touch the permission sets that do not opt in; slack reads their session durations', async () => {
      for (const name of ['ReadOnly', 'AdministratorAccess']) {
        const arn = byName(name).arn;
        for (const action of [...PERMISSION_SET_EDITS, 'sso:ProvisionPermissionSet'])
          expect({ name, action, roles: await readers(action, [instance(), arn]) }).toEqual({
            name,
            action,
            roles: action === 'sso:DescribePermissionSet' ? ['slack'] : [],
          });
      }
    });

    it('does not let slack read the session duration of PowerUser: the form says its sessions end at revoke', async () => {
      expect(
        await groups.canAll('slack', 'sso:DescribePermissionSet', [instance(), byName('PowerUser').arn]),
      ).toBe(false);
    });

    it('gives end-sessions nothing else in Identity Center: no assignment, no listing, no identity store', async () => {
      const resources = [instance(), byName('PowerUser').arn, account('222222222222')];
      for (const action of [
        'sso:CreateAccountAssignment',
        'sso:DeleteAccountAssignment',
        'sso:ListAccountAssignments',
        'sso:AttachManagedPolicyToPermissionSet',
        'sso:UpdatePermissionSet',
      ])
        expect({ action, allowed: await groups.canAll('end-sessions', action, resources) }).toEqual({
          action,
          allowed: false,
        });
      expect(await groups.can('end-sessions', 'identitystore:GetUserId', STORE)).toBe(false);
    });

    it('lets end-sessions and the reconciler rewrite a reserved SSO role’s inline policy (provisioning to the account Identity Center runs in), and nothing more of it', async () => {
      const reserved = `arn:aws:iam::${ACCOUNT}:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_PowerUser_0123456789abcdef`;
      const whoseIdentityAllows = async (action: string) => {
        const allowed: RoleName[] = [];
        for (const role of Object.keys(groups.roles) as RoleName[])
          if (await groups.identityAllows(role, action, reserved)) allowed.push(role);
        return allowed.sort();
      };
      expect(await whoseIdentityAllows('iam:PutRolePolicy')).toEqual(['end-sessions', 'grant', 'reconciler']);
      expect(await whoseIdentityAllows('iam:DeleteRolePolicy')).toEqual([
        'end-sessions',
        'reconciler',
        'revoke',
      ]);
      expect(await whoseIdentityAllows('iam:CreateRole')).toEqual(['grant']);
      expect(await whoseIdentityAllows('iam:DeleteRole')).toEqual(['reconciler', 'revoke']);
    });
  });

  it('scopes the assignment writes to the accounts the OU resolved to, not account/*', async () => {
    const grantable = await groups.can(
      'grant',
      'sso:CreateAccountAssignment',
      'arn:aws:sso:::account/222222222222',
    );
    const elsewhere = await groups.can(
      'grant',
      'sso:CreateAccountAssignment',
      'arn:aws:sso:::account/999999999999',
    );
    expect({ grantable, elsewhere }).toEqual({ grantable: true, elsewhere: false });
  });
});
