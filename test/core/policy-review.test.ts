import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseDocument } from 'yaml';
import { loadPolicyWithDirectory } from '../../functions/cli/directory';
import { findAccount, findPermissionSet, type Policy } from '../../functions/core/policy';
import {
  diffPolicies,
  explain,
  offerFor,
  requestersOf,
  unapprovable,
  unreachableRules,
} from '../../functions/core/policy-review';

const SANDBOX_POLICY = path.join(__dirname, '../../config/sandbox-policy.yaml');
const SANDBOX_FILE = path.join(__dirname, '../../config/sandbox.yaml');
const text = readFileSync(SANDBOX_POLICY, 'utf8');
const directoryText = readFileSync(SANDBOX_FILE, 'utf8');
const tempDir = mkdtempSync(path.join(tmpdir(), 'policy-review-'));
afterAll(() => rmSync(tempDir, { recursive: true, force: true }));

/** The sandbox policy as the functions see it: accounts and groups resolved from the sandbox file. */
const load = async (policyText: string, directoryFile = SANDBOX_FILE) =>
  (await loadPolicyWithDirectory(policyText, directoryFile)).policy;

let policy: Policy;
beforeAll(async () => {
  policy = await load(text);
});

/** The sandbox policy with one edit, made on the YAML document as a reviewer would. */
function edited(edit: (doc: ReturnType<typeof parseDocument>) => void): Promise<Policy> {
  const doc = parseDocument(text);
  edit(doc);
  return load(doc.toString());
}

/** The sandbox policy under a directory with one edit (a person joins a group, in the IdP). */
function underDirectory(edit: (doc: ReturnType<typeof parseDocument>) => void): Promise<Policy> {
  const doc = parseDocument(directoryText);
  edit(doc);
  const file = path.join(tempDir, `directory-${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(file, doc.toString());
  return load(text, file);
}

/** The index of the group with this display name in the sandbox file's `groups`. */
const groupIndex = (displayName: string) =>
  (parseDocument(directoryText).toJS() as { groups: Array<{ displayName: string }> }).groups.findIndex(
    (g) => g.displayName === displayName,
  );

const ruleIndex = (name: string) => policy.rules.findIndex((r) => r.name === name);

describe('explain', () => {
  it('names the deciding rule, why each earlier one did not decide, and who approves', async () => {
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
      ticket: { required: false },
    });
    expect(result.passedOver).toEqual([
      {
        rule: 'production-admin',
        why: 'alice@example.com is not among its requesters (identityCenterGroup:SRE)',
      },
    ]);
    expect(result.longestMinutes).toBe(240);
  });

  it('leaves the requester out of their own approvers', async () => {
    const result = explain(policy, {
      requester: 'carol@example.com',
      account: 'production',
      permissionSet: 'ReadOnly',
      durationMinutes: 30,
    });
    expect(result.decision).toMatchObject({ allowed: true, approval: { approvers: ['dave@example.com'] } });
  });

  it('says why a request is refused, each rule in turn', async () => {
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

  it('refuses an account or permission set the policy does not list', async () => {
    expect(
      explain(policy, {
        requester: 'a@example.com',
        account: 'nope',
        permissionSet: 'ReadOnly',
        durationMinutes: 5,
      }).decision,
    ).toEqual({ allowed: false, reason: 'Account nope is not in the policy.' });
  });

  it('agrees with the duration ranges of offerFor (the first matching rule decides each duration)', async () => {
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
  it('finds nothing between a policy and itself, nor after renaming a rule', async () => {
    expect(diffPolicies(policy, policy)).toEqual([]);
    const renamed = await edited((doc) =>
      doc.setIn(['rules', ruleIndex('production-admin'), 'name'], 'prod-admin'),
    );
    expect(diffPolicies(policy, renamed)).toEqual([]);
  });

  it('shows a change that widens access: a new group member gains what the group may request', async () => {
    const widened = await underDirectory((doc) => {
      doc.addIn(['users'], { userName: 'erin', email: 'erin@example.com', displayName: 'Erin New' });
      doc.addIn(['groups', groupIndex('Engineers'), 'members'], 'erin');
    });
    const changes = diffPolicies(policy, widened);
    expect(changes.length).toBeGreaterThan(0);
    expect(changes.every((c) => c.requester === 'erin@example.com' && c.change === 'gained')).toBe(true);
    expect(changes).toContainEqual(
      expect.objectContaining({ account: 'production (111111111111)', permissionSet: 'ReadOnly' }),
    );
  });

  it('shows a change that narrows access: a shorter maximum and a lost permission set', async () => {
    const narrowed = await edited((doc) => {
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

  it('shows a changed quorum as a change of approval', async () => {
    const stricter = await edited((doc) =>
      doc.setIn(['rules', ruleIndex('production-oncall'), 'approval', 'required'], 2),
    );
    const changes = diffPolicies(policy, stricter);
    expect(changes.length).toBeGreaterThan(0);
    for (const c of changes) {
      expect(c.change).toBe('changed');
      expect(c.after[0]?.approval).toMatch(/^2 of /);
    }
  });

  it('shows a new ticket requirement as a change of the terms', async () => {
    const withTicket = await edited((doc) =>
      doc.setIn(['rules', ruleIndex('production-oncall'), 'ticket'], {
        required: true,
        pattern: '^INC-\\d+$',
      }),
    );
    const changes = diffPolicies(policy, withTicket);
    expect(changes.length).toBeGreaterThan(0);
    expect(changes.every((c) => c.change === 'changed')).toBe(true);
    expect(changes[0]?.after[0]?.approval).toMatch(
      /, ticket required, matching \^INC-\\d\+\$, may start up to 2d later$/,
    );
  });

  it('shows a later start allowed, or taken away, as a change of the terms', async () => {
    const noLaterStart = await edited((doc) =>
      doc.deleteIn(['rules', ruleIndex('production-oncall'), 'scheduledStart']),
    );
    const changes = diffPolicies(policy, noLaterStart);
    expect(changes.length).toBeGreaterThan(0);
    expect(changes.every((c) => c.change === 'changed')).toBe(true);
    expect(changes[0]?.before[0]?.approval).toMatch(/, may start up to 2d later$/);
    expect(changes[0]?.after[0]?.approval).not.toMatch(/may start/);
  });

  it('shows group access gained, changed and lost per requester and group', async () => {
    const stricter = await edited((doc) =>
      doc.setIn(['rules', ruleIndex('billing-readers'), 'approval'], {
        approvers: ['identityCenterGroup:PlatformAdmins'],
      }),
    );
    const changed = diffPolicies(policy, stricter);
    expect(changed.length).toBeGreaterThan(0);
    expect(changed.every((c) => c.change === 'changed' && c.group?.startsWith('BillingReaders ('))).toBe(
      true,
    );
    expect(changed[0]).toMatchObject({ account: '', permissionSet: '', before: [{ approval: 'auto' }] });
    expect(changed[0]?.after[0]?.approval).toMatch(/^1 of \[/);

    const without = await edited((doc) => doc.deleteIn(['rules', ruleIndex('billing-readers')]));
    const lost = diffPolicies(policy, without);
    expect(lost.length).toBeGreaterThan(0);
    expect(lost.every((c) => c.change === 'lost' && c.group?.startsWith('BillingReaders ('))).toBe(true);
    expect(diffPolicies(without, policy).every((c) => c.change === 'gained')).toBe(true);
  });

  it('stands one representative in for everyone a wildcard admits', async () => {
    expect(requestersOf(policy).map((r) => r.label)).toContain('anyone else matching *@example.com');
    const anyone = await edited((doc) =>
      doc.setIn(['rules', ruleIndex('self-service'), 'requesters'], ['*']),
    );
    const changes = diffPolicies(policy, anyone);
    expect(changes.map((c) => `${c.requester} ${c.change} ${c.permissionSet} ${c.account}`).sort()).toEqual(
      ['ReadOnly', 'PowerUser']
        .flatMap((ps) =>
          ['staging (222222222222)', 'sandbox (333333333333)', 'qa (444444444444)'].map(
            (a) => `anyone not named gained ${ps} ${a}`,
          ),
        )
        .sort(),
    );
  });
});

describe('unreachable rules', () => {
  it('finds none in the sandbox policy, and one shadowed by an earlier, wider rule', async () => {
    expect(unreachableRules(policy)).toEqual([]);
    const shadowed = await edited((doc) => {
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
  it('finds the requests whose only approver is the requester', async () => {
    // dave is an SRE (a requester of production-admin and production-extended) and the only
    // platform admin (their approvers), and self-approval is off: his own can never be approved.
    expect(unapprovable(policy)).toEqual(
      expect.arrayContaining([
        { rule: 'production-admin', requester: 'dave@example.com', approvers: 0, required: 1 },
        { rule: 'production-extended', requester: 'dave@example.com', approvers: 0, required: 1 },
      ]),
    );
    expect(unapprovable(policy)).toHaveLength(2);
    const secondAdmin = await underDirectory((doc) =>
      doc.addIn(['groups', groupIndex('PlatformAdmins'), 'members'], 'carol'),
    );
    expect(unapprovable(secondAdmin)).toEqual([]);
  });
});
