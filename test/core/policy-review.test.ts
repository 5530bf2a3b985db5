import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseDocument } from 'yaml';
import { findAccount, findPermissionSet, type Policy } from '../../functions/core/policy';
import { parsePolicy } from '../../functions/core/policy-file';
import {
  diffPolicies,
  explain,
  offerFor,
  requestersOf,
  unapprovable,
  unreachableRules,
} from '../../functions/core/policy-review';

const SANDBOX_POLICY = path.join(__dirname, '../../config/sandbox-policy.yaml');
const text = readFileSync(SANDBOX_POLICY, 'utf8');
const policy = parsePolicy(text);

/** The sandbox policy with one edit, made on the YAML document as a reviewer would. */
function edited(edit: (doc: ReturnType<typeof parseDocument>) => void): Policy {
  const doc = parseDocument(text);
  edit(doc);
  return parsePolicy(doc.toString());
}

const ruleIndex = (name: string) => policy.rules.findIndex((r) => r.name === name);

describe('explain', () => {
  it('names the deciding rule, why each earlier one did not decide, and who approves', () => {
    const result = explain(policy, {
      requester: 'alice@example.com',
      account: 'production',
      permissionSet: 'ReadOnly',
      durationMinutes: 30,
    });
    expect(result.decision).toEqual({
      allowed: true,
      rule: 'production-oncall',
      approval: { approvers: ['carol@example.com', 'dave@example.com'], required: 1, selfApproval: false },
    });
    expect(result.passedOver).toEqual([
      { rule: 'production-admin', why: 'alice@example.com is not among its requesters (group:sre)' },
    ]);
    expect(result.longestMinutes).toBe(240);
  });

  it('leaves the requester out of their own approvers', () => {
    const result = explain(policy, {
      requester: 'carol@example.com',
      account: 'production',
      permissionSet: 'ReadOnly',
      durationMinutes: 30,
    });
    expect(result.decision).toMatchObject({ allowed: true, approval: { approvers: ['dave@example.com'] } });
  });

  it('says why a request is refused, each rule in turn', () => {
    const result = explain(policy, {
      requester: 'dave@example.com',
      account: 'production',
      permissionSet: 'AdministratorAccess',
      durationMinutes: 120,
    });
    expect(result.decision).toMatchObject({ allowed: false });
    expect(result.passedOver.map((p) => p.rule)).toEqual(policy.rules.map((r) => r.name));
    expect(result.passedOver[0]?.why).toBe('its maximum of 1h is shorter than 2h');
  });

  it('refuses an account or permission set the policy does not list', () => {
    expect(
      explain(policy, {
        requester: 'a@example.com',
        account: 'nope',
        permissionSet: 'ReadOnly',
        durationMinutes: 5,
      }).decision,
    ).toEqual({ allowed: false, reason: 'Account nope is not in the policy.' });
  });

  it('agrees with the duration ranges of offerFor (the first matching rule decides each duration)', () => {
    const account = findAccount(policy, 'production');
    const ps = findPermissionSet(policy, 'ReadOnly');
    if (!account || !ps) throw new Error('fixture');
    const offer = offerFor(policy, 'alice@example.com', account, ps);
    expect(offer.map((t) => [t.upToMinutes, t.rule])).toEqual([
      [60, 'production-oncall'],
      [240, 'production-extended'],
    ]);
    for (const minutes of [1, 60, 61, 240])
      expect(
        explain(policy, {
          requester: 'alice@example.com',
          account: 'production',
          permissionSet: 'ReadOnly',
          durationMinutes: minutes,
        }).decision,
      ).toMatchObject({ rule: offer.find((t) => minutes <= t.upToMinutes)?.rule });
  });
});

describe('diff', () => {
  it('finds nothing between a policy and itself, nor after renaming a rule', () => {
    expect(diffPolicies(policy, policy)).toEqual([]);
    const renamed = edited((doc) =>
      doc.setIn(['rules', ruleIndex('production-admin'), 'name'], 'prod-admin'),
    );
    expect(diffPolicies(policy, renamed)).toEqual([]);
  });

  it('shows a change that widens access: a new group member gains what the group may request', () => {
    const widened = edited((doc) => doc.addIn(['groups', 'engineers'], 'erin@example.com'));
    const changes = diffPolicies(policy, widened);
    expect(changes.length).toBeGreaterThan(0);
    expect(changes.every((c) => c.requester === 'erin@example.com' && c.change === 'gained')).toBe(true);
    expect(changes).toContainEqual(
      expect.objectContaining({ account: 'production (111111111111)', permissionSet: 'ReadOnly' }),
    );
  });

  it('shows a change that narrows access: a shorter maximum and a lost permission set', () => {
    const narrowed = edited((doc) => {
      doc.setIn(['rules', ruleIndex('production-extended'), 'maxDuration'], '2h');
      doc.setIn(['rules', ruleIndex('production-oncall'), 'permissionSets'], ['ReadOnly']);
    });
    const changes = diffPolicies(policy, narrowed);
    const alice = changes.filter(
      (c) => c.requester === 'alice@example.com' && c.account.startsWith('production'),
    );
    expect(alice.find((c) => c.permissionSet === 'ReadOnly')).toMatchObject({
      change: 'changed',
      before: [expect.objectContaining({ upToMinutes: 60 }), expect.objectContaining({ upToMinutes: 240 })],
      after: [expect.objectContaining({ upToMinutes: 60 }), expect.objectContaining({ upToMinutes: 120 })],
    });
    // PowerUser now only through production-extended (if it offers it), else lost.
    expect(alice.find((c) => c.permissionSet === 'PowerUser')?.change).toMatch(/lost|changed/);
  });

  it('shows a changed quorum as a change of approval', () => {
    const stricter = edited((doc) =>
      doc.setIn(['rules', ruleIndex('production-oncall'), 'approval', 'required'], 2),
    );
    const changes = diffPolicies(policy, stricter);
    expect(changes.length).toBeGreaterThan(0);
    for (const c of changes) {
      expect(c.change).toBe('changed');
      expect(c.after[0]?.approval).toMatch(/^2 of /);
    }
  });

  it('stands one representative in for everyone a wildcard admits', () => {
    expect(requestersOf(policy).map((r) => r.label)).toContain('anyone else matching *@example.com');
    const anyone = edited((doc) => doc.setIn(['rules', ruleIndex('self-service'), 'requesters'], ['*']));
    const changes = diffPolicies(policy, anyone);
    expect(changes.map((c) => `${c.requester} ${c.change} ${c.permissionSet} ${c.account}`).sort()).toEqual(
      ['ReadOnly', 'PowerUser']
        .flatMap((ps) =>
          ['staging (222222222222)', 'sandbox (333333333333)'].map(
            (a) => `anyone not named gained ${ps} ${a}`,
          ),
        )
        .sort(),
    );
  });
});

describe('unreachable rules', () => {
  it('finds none in the sandbox policy, and one shadowed by an earlier, wider rule', () => {
    expect(unreachableRules(policy)).toEqual([]);
    const shadowed = edited((doc) => {
      const rules = doc.getIn(['rules']) as { items: unknown[] };
      const copy = doc.createNode({
        ...policy.rules[ruleIndex('production-oncall')],
        name: 'never-decides',
        maxDuration: '30m',
        approval: 'none',
      });
      rules.items.push(copy);
    });
    expect(unreachableRules(shadowed)).toEqual(['never-decides']);
  });
});

describe('unapprovable requests', () => {
  it('finds the requests whose only approver is the requester', () => {
    // dave is an SRE (a requester of production-admin and production-extended) and the only
    // platform admin (their approvers), and self-approval is off: his own can never be approved.
    expect(unapprovable(policy)).toEqual(
      expect.arrayContaining([
        { rule: 'production-admin', requester: 'dave@example.com', approvers: 0, required: 1 },
        { rule: 'production-extended', requester: 'dave@example.com', approvers: 0, required: 1 },
      ]),
    );
    expect(unapprovable(policy)).toHaveLength(2);
    const secondAdmin = edited((doc) => doc.addIn(['groups', 'platform-admins'], 'carol@example.com'));
    expect(unapprovable(secondAdmin)).toEqual([]);
  });
});
