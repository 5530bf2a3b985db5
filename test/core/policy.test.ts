import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { parseDurationMinutes } from '../../functions/core/duration';
import { PolicyError } from '../../functions/core/errors';
import {
  approversFor,
  checkApprover,
  evaluateRequest,
  findRule,
  optionsFor,
} from '../../functions/core/policy';
import { parsePolicy, validatePolicy } from '../../functions/core/policy-file';

const EXAMPLE = readFileSync(path.join(__dirname, '../fixtures/email-groups-policy.yaml'), 'utf8');
const policy = parsePolicy(EXAMPLE);
const PS = {
  readOnly: 'arn:aws:sso:::permissionSet/ssoins-7223a1b2c3d4e5f6/ps-1a2b3c4d5e6f7a8b',
  admin: 'arn:aws:sso:::permissionSet/ssoins-7223a1b2c3d4e5f6/ps-0a0b0c0d0e0f0a0b',
};

// biome-ignore lint/suspicious/noExplicitAny: each case edits an arbitrary path of the parsed YAML document
type PolicyDocument = Record<string, any>;

/** The example policy as an object, changed by `edit`, then validated: returns the problems. */
function problemsAfter(edit: (doc: PolicyDocument) => void): string[] {
  const doc = parseYaml(EXAMPLE) as PolicyDocument;
  edit(doc);
  try {
    validatePolicy(doc);
    return [];
  } catch (error) {
    if (error instanceof PolicyError) return error.problems;
    throw error;
  }
}

describe('policy file validation', () => {
  it('accepts the example policy and normalizes durations to minutes', () => {
    expect(findRule(policy, 'production-engineers')?.maxDuration).toBe(240);
    expect(findRule(policy, 'staging-self-service')?.approval).toBe('none');
  });

  it('names the path and the problem for a bad duration', () => {
    expect(problemsAfter((d) => (d.rules[2].maxDuration = '9x'))).toEqual([
      'rules[2].maxDuration: "9x" is not a duration',
    ]);
  });

  it('rejects an approval timeout that is not a duration', () => {
    expect(problemsAfter((d) => (d.rules[0].approval.timeout = 'soon'))).toEqual([
      'rules[0].approval.timeout: "soon" is not a duration',
    ]);
  });

  it('rejects durations over seven days', () => {
    expect(problemsAfter((d) => (d.rules[1].maxDuration = '8d'))[0]).toMatch(
      /^rules\[1\]\.maxDuration: .*7-day limit/,
    );
  });

  it('rejects a malformed account id', () => {
    expect(problemsAfter((d) => (d.accounts[0].id = '1234'))).toEqual([
      'accounts[0].id: must be a 12-digit account id',
    ]);
  });

  it('rejects a malformed permission set ARN', () => {
    expect(problemsAfter((d) => (d.permissionSets[1].arn = 'arn:aws:iam::role/x'))[0]).toMatch(
      /^permissionSets\[1\]\.arn: must look like/,
    );
  });

  it('rejects a permission set of another Identity Center instance', () => {
    expect(
      problemsAfter(
        (d) =>
          (d.permissionSets[0].arn =
            'arn:aws:sso:::permissionSet/ssoins-0000000000000000/ps-1a2b3c4d5e6f7a8b'),
      ),
    ).toEqual([
      'permissionSets[0].arn: belongs to another Identity Center instance than identityCenter.instanceArn',
    ]);
  });

  it('rejects a malformed instance ARN', () => {
    expect(problemsAfter((d) => (d.identityCenter.instanceArn = 'ssoins-1'))[0]).toMatch(
      /^identityCenter\.instanceArn: /,
    );
  });

  it('rejects a rule naming an unknown account', () => {
    expect(problemsAfter((d) => (d.rules[0].accounts = ['prod']))).toEqual([
      'rules[0].accounts[0]: "prod" is not an account id or name listed under accounts',
    ]);
  });

  it('rejects a rule naming an unknown permission set', () => {
    expect(problemsAfter((d) => (d.rules[1].permissionSets = ['ReadOnly', 'God']))).toEqual([
      'rules[1].permissionSets[1]: "God" is not a permission set listed under permissionSets',
    ]);
  });

  it('rejects an undefined group', () => {
    expect(problemsAfter((d) => (d.rules[0].approval.approvers = ['group:nobody']))).toContain(
      'rules[0]: group "nobody" is not defined under groups',
    );
  });

  it('rejects more required approvals than approvers', () => {
    expect(problemsAfter((d) => (d.rules[0].approval.required = 3))).toEqual([
      'rules[0].approval.required: 3 approvals needed but only 2 approver(s) named',
    ]);
  });

  it('rejects unknown keys (a typo must not silently weaken policy)', () => {
    expect(problemsAfter((d) => (d.rules[0].approval.allowSelfAproval = true))[0]).toMatch(
      /^rules\[0\]\.approval/,
    );
  });

  it('rejects a missing section', () => {
    expect(problemsAfter((d) => delete d.rules)).toEqual([
      'rules: Invalid input: expected array, received undefined',
    ]);
  });

  it('rejects duplicate account names and rule names', () => {
    const problems = problemsAfter((d) => {
      d.accounts[1].name = 'production';
      d.rules[1].name = 'production-admin';
    });
    expect(problems).toEqual([
      'accounts: name "production" is listed twice',
      'rules: name "production-admin" is listed twice',
      'rules[2].accounts[0]: "staging" is not an account id or name listed under accounts',
    ]);
  });

  it('rejects a wildcard approver (approvers must be named)', () => {
    expect(problemsAfter((d) => (d.rules[0].approval.approvers = ['*@example.com']))[0]).toMatch(
      /^rules\[0\]\.approval(\.approvers\[0\])?: /,
    );
  });

  it('rejects an unsupported version and reports every problem at once', () => {
    const problems = problemsAfter((d) => {
      d.version = 2;
      d.slack.approvalChannel = '#general';
    });
    expect(problems).toHaveLength(2);
    expect(problems[0]).toMatch(/^version: /);
    expect(problems[1]).toBe('slack.approvalChannel: must be a Slack channel id like C0123ABCD');
  });

  it('quotes an odd key in the path and refuses it as a group name', () => {
    expect(problemsAfter((d) => (d.groups[':'] = 'x'))).toEqual([
      'groups[":"]: not a valid name: group names are letters, digits, _, . or -',
    ]);
    expect(problemsAfter((d) => (d.groups['a b'] = ['x@example.com']))[0]).toMatch(/^groups(\["a b"\])?: /);
  });

  it('reports YAML syntax errors as a file problem', () => {
    expect(() => parsePolicy('rules: [unclosed')).toThrow(/\(file\): not valid YAML/);
  });
});

describe('policy questions', () => {
  it('offers a requester only the options their rules allow, with the longest duration', () => {
    const options = optionsFor(policy, 'alice@example.com');
    const keys = options.map((o) => `${o.account.name}/${o.permissionSet.name}/${o.maxMinutes}`).sort();
    expect(keys).toEqual([
      'production/PowerUser/240',
      'production/ReadOnly/240',
      'sandbox/PowerUser/480',
      'sandbox/ReadOnly/480',
      'staging/PowerUser/480',
      'staging/ReadOnly/480',
    ]);
  });

  it('offers nothing to someone outside every rule', () => {
    expect(optionsFor(policy, 'mallory@evil.test')).toEqual([]);
  });

  it('matches wildcards and groups case-insensitively', () => {
    expect(optionsFor(policy, 'Zed@Example.COM').length).toBe(4);
    expect(optionsFor(policy, 'CAROL@example.com').some((o) => o.permissionSet.name === 'Admin')).toBe(true);
  });

  it('does not let a wildcard cross the @ (evil@example.com.attacker.test)', () => {
    expect(optionsFor(policy, 'x@example.com.attacker.test')).toEqual([]);
  });

  it('allows a request within a rule and says whether approval is needed', () => {
    const verdict = evaluateRequest(policy, {
      requesterEmail: 'alice@example.com',
      accountId: '111111111111',
      permissionSet: PS.readOnly,
      durationMinutes: 60,
    });
    expect(verdict).toMatchObject({
      allowed: true,
      approvalRequired: true,
      rule: { name: 'production-engineers' },
    });
    const auto = evaluateRequest(policy, {
      requesterEmail: 'alice@example.com',
      accountId: '222222222222',
      permissionSet: 'ReadOnly',
      durationMinutes: 60,
    });
    expect(auto).toMatchObject({ allowed: true, approvalRequired: false });
  });

  it('refuses an unknown account, an unknown permission set, an over-long duration, a stranger', () => {
    const base = {
      requesterEmail: 'alice@example.com',
      accountId: '111111111111',
      permissionSet: 'ReadOnly',
      durationMinutes: 60,
    };
    expect(evaluateRequest(policy, { ...base, accountId: '999999999999' })).toMatchObject({
      allowed: false,
      field: 'account',
    });
    expect(evaluateRequest(policy, { ...base, permissionSet: 'Nope' })).toMatchObject({
      allowed: false,
      field: 'permissionSet',
    });
    expect(evaluateRequest(policy, { ...base, durationMinutes: 241 })).toEqual({
      allowed: false,
      field: 'duration',
      reason: '241 minutes is over the 240-minute maximum for ReadOnly on production.',
    });
    expect(evaluateRequest(policy, { ...base, permissionSet: PS.admin })).toMatchObject({
      allowed: false,
      field: 'requester',
    });
    expect(evaluateRequest(policy, { ...base, requesterEmail: 'mallory@evil.test' })).toMatchObject({
      allowed: false,
    });
  });

  it('names the approvers, without the requester unless self-approval is allowed', () => {
    const rule = findRule(policy, 'production-admin')!;
    expect(approversFor(policy, rule, 'carol@example.com')).toEqual(['dave@example.com']);
  });

  it('authorizes a click only from a named approver who is not the requester', () => {
    const rule = findRule(policy, 'production-engineers')!;
    expect(checkApprover(policy, rule, 'carol@example.com', 'alice@example.com')).toEqual({
      authorized: true,
    });
    expect(checkApprover(policy, rule, 'bob@example.com', 'alice@example.com')).toEqual({
      authorized: false,
      reason: 'not-approver',
    });
    expect(checkApprover(policy, rule, 'Carol@Example.com', 'carol@example.com')).toEqual({
      authorized: false,
      reason: 'self-approval',
    });
    const auto = findRule(policy, 'staging-self-service')!;
    expect(checkApprover(policy, auto, 'carol@example.com', 'alice@example.com')).toEqual({
      authorized: false,
      reason: 'no-approval',
    });
  });
});

describe('durations', () => {
  it.each([
    ['90', 90],
    ['90m', 90],
    ['4h', 240],
    ['1h30m', 90],
    ['1d', 1440],
    [' 2H ', 120],
  ])('parses %p as %p minutes', (text, minutes) => {
    expect(parseDurationMinutes(text)).toBe(minutes);
  });

  it.each(['', '0', '9x', 'h', '-5m', '1.5h', '30s'])('rejects %p', (text) => {
    expect(parseDurationMinutes(text)).toBeUndefined();
  });
});
