import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import {
  activation,
  dueForEscalation,
  mayReview,
  offersBreakGlass,
  reusedReason,
} from '../../functions/core/break-glass';
import { PolicyError } from '../../functions/core/errors';
import type { RequestRecord } from '../../functions/core/model';
import { evaluateRequest, findRule, type Policy } from '../../functions/core/policy';
import { validatePolicy } from '../../functions/core/policy-file';
import { diffPolicies, explain, unreachableRules } from '../../functions/core/policy-review';

// Break-glass rules: the schema's limits, which requests they decide (only those asked for as
// break-glass), who reviews, the reused-reason check and when a use escalates.

const EXAMPLE = readFileSync(path.join(__dirname, '../fixtures/email-groups-policy.yaml'), 'utf8');
const PRODUCTION = '111111111111';
const ADMIN = 'arn:aws:sso:::permissionSet/ssoins-7223a1b2c3d4e5f6/ps-0a0b0c0d0e0f0a0b';

// biome-ignore lint/suspicious/noExplicitAny: each case edits an arbitrary path of the parsed YAML document
type PolicyDocument = Record<string, any>;

const BREAK_GLASS_RULE = {
  name: 'production-break-glass',
  requesters: ['group:sre'],
  accounts: ['production'],
  permissionSets: ['Admin'],
  maxDuration: '1h',
  approval: 'none',
  breakGlass: { reviewers: ['group:sre'], reviewWindow: '4h' },
};

function withEdit(edit: (doc: PolicyDocument) => void): Policy | string[] {
  const doc = parseYaml(EXAMPLE) as PolicyDocument;
  doc.slack.securityChannel = 'C0SECURITY';
  doc.rules.push(structuredClone(BREAK_GLASS_RULE));
  edit(doc);
  try {
    return validatePolicy(doc);
  } catch (error) {
    if (error instanceof PolicyError) return error.problems;
    throw error;
  }
}
const policy = withEdit(() => {}) as Policy;
const rule = (p: Policy) => findRule(p, 'production-break-glass');
const last = (doc: PolicyDocument) => doc.rules[doc.rules.length - 1];

describe('the break-glass rule schema', () => {
  it('accepts a rule with approval none, a short maximum and reviewers', () => {
    expect(rule(policy)?.breakGlass).toEqual({ reviewers: ['group:sre'], reviewWindow: 240 });
  });

  it('refuses an approver step, a long maximum, no reviewers and no security channel, with their paths', () => {
    const problems = withEdit((doc) => {
      delete doc.slack.securityChannel;
      last(doc).approval = { approvers: ['group:sre'] };
      last(doc).maxDuration = '8h';
    });
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^rules\[3\]\.approval: a break-glass rule grants without approval/),
        expect.stringMatching(/^rules\[3\]\.maxDuration: a break-glass rule grants at most 4h/),
        expect.stringMatching(
          /^rules\[3\]\.breakGlass\.alertChannel: a break-glass rule needs a security channel/,
        ),
      ]),
    );
    expect(withEdit((doc) => (last(doc).breakGlass.reviewers = []))).toEqual([
      'rules[3].breakGlass.reviewers: needs at least one reviewer',
    ]);
    expect(withEdit((doc) => (last(doc).breakGlass.reviewers = ['group:nobody']))).toEqual([
      'rules[3]: group "nobody" is not defined under groups',
    ]);
  });
});

describe('which requests a break-glass rule decides', () => {
  const ask = (email: string, breakGlass?: boolean) =>
    evaluateRequest(policy, {
      requesterEmail: email,
      accountId: PRODUCTION,
      permissionSet: ADMIN,
      durationMinutes: 30,
      ...(breakGlass ? { breakGlass } : {}),
    });

  it('decides only requests asked for as break-glass, and no ordinary one', () => {
    expect(ask('carol@example.com', true)).toMatchObject({
      allowed: true,
      approvalRequired: false,
      rule: { name: 'production-break-glass' },
    });
    // The same access asked for ordinarily: the ordinary rule, with its approver.
    expect(ask('carol@example.com')).toMatchObject({
      allowed: true,
      approvalRequired: true,
      rule: { name: 'production-admin' },
    });
    // Not a requester of the break-glass rule.
    expect(ask('alice@example.com', true)).toMatchObject({
      allowed: false,
      reason: 'No break-glass rule lets alice@example.com request Admin on production.',
    });
    expect(offersBreakGlass(policy, 'carol@example.com')).toBe(true);
    expect(offersBreakGlass(policy, 'alice@example.com')).toBe(false);
  });

  it('shows in the review as its own terms; it is neither unreachable nor in explain’s ordinary answer', () => {
    expect(unreachableRules(policy)).toEqual([]);
    const before = withEdit((doc) => doc.rules.pop()) as Policy;
    const changes = diffPolicies(before, policy).filter(
      (c) => c.account.includes(PRODUCTION) && c.permissionSet === 'Admin',
    );
    expect(changes.map((c) => c.requester).sort()).toEqual(['carol@example.com', 'dave@example.com']);
    expect(changes[0]?.after.at(-1)).toMatchObject({
      breakGlass: true,
      rule: 'production-break-glass',
      approval: expect.stringMatching(/^break-glass, no approval, reviewed by \[.+\] within 4h$/),
    });
    const explained = explain(policy, {
      requester: 'carol@example.com',
      account: 'production',
      permissionSet: 'Admin',
      durationMinutes: 30,
    });
    expect(explained.decision).toMatchObject({ allowed: true, rule: 'production-admin' });
  });
});

function useOf(requester: string, reason: string, overrides: Partial<RequestRecord> = {}): RequestRecord {
  const now = new Date(Date.UTC(2026, 11, 2, 3, 0));
  const matched = rule(policy);
  if (!matched) throw new Error('no break-glass rule');
  return {
    version: 1,
    request: {
      requestId: `bg-${reason.length}-${requester}`.replace(/[^A-Za-z0-9_-]/g, '-'),
      requester: { email: requester, slackUserId: 'U0CAROL' },
      accountId: PRODUCTION,
      permissionSetArn: ADMIN,
      durationMinutes: 30,
      reason,
      breakGlass: true,
      requestedAt: now.toISOString(),
    },
    status: 'ACTIVE',
    ruleName: 'production-break-glass',
    approvals: [],
    windowStartedAt: now.toISOString(),
    breakGlass: activation(policy, matched, now),
    updatedAt: now.toISOString(),
    ...overrides,
  };
}

describe('reviewing a use', () => {
  it('lets a reviewer other than its user review it, once', () => {
    const use = useOf('carol@example.com', 'Prod down');
    expect(use.breakGlass).toMatchObject({
      alertChannel: 'C0SECURITY',
      reviewDueAt: '2026-12-02T07:00:00.000Z',
    });
    expect(mayReview(policy, use, 'dave@example.com')).toEqual({ ok: true });
    expect(mayReview(policy, use, 'Carol@Example.com')).toEqual({ ok: false, reason: 'own-use' });
    expect(mayReview(policy, use, 'alice@example.com')).toEqual({ ok: false, reason: 'not-reviewer' });
    const reviewed = useOf('carol@example.com', 'Prod down', {
      breakGlass: {
        ...(use.breakGlass as NonNullable<RequestRecord['breakGlass']>),
        review: { by: 'dave@example.com', slackUserId: 'U0DAVE', at: use.updatedAt, verdict: 'justified' },
      },
    });
    expect(mayReview(policy, reviewed, 'dave@example.com')).toEqual({
      ok: false,
      reason: 'already-reviewed',
    });
    const ordinary = { ...use, breakGlass: undefined };
    expect(mayReview(policy, ordinary, 'dave@example.com')).toEqual({ ok: false, reason: 'not-break-glass' });
  });

  it('escalates an unreviewed live use at its due time, once, and never one that was not granted', () => {
    const use = useOf('carol@example.com', 'Prod down');
    const due = Date.parse(use.breakGlass?.reviewDueAt ?? '');
    expect(dueForEscalation(use, new Date(due - 1))).toBe(false);
    expect(dueForEscalation(use, new Date(due))).toBe(true);
    const state = use.breakGlass as NonNullable<RequestRecord['breakGlass']>;
    expect(dueForEscalation({ ...use, breakGlass: { ...state, escalatedAt: 'x' } }, new Date(due))).toBe(
      false,
    );
    const { windowStartedAt: _never, ...refused } = use;
    expect(dueForEscalation({ ...refused, status: 'REJECTED' }, new Date(due))).toBe(false);
  });

  it('asks a new reason of a second use: case, spacing and punctuation do not make one new', () => {
    const first = useOf('carol@example.com', 'Prod is down: INC-7');
    const second = useOf('carol@example.com', '  prod IS down — inc 7!! ');
    second.request.requestId = 'bg-second';
    expect(reusedReason([first], second.request)?.request.requestId).toBe(first.request.requestId);
    const other = useOf('carol@example.com', 'Database failover INC-8');
    expect(reusedReason([first], other.request)).toBeUndefined();
    // An ordinary request's reason is no break-glass use.
    expect(reusedReason([{ ...first, breakGlass: undefined }], second.request)).toBeUndefined();
    // The use itself (a retried Validate) is not its own earlier use.
    expect(reusedReason([first], first.request)).toBeUndefined();
  });
});
