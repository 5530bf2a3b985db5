import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { PolicyError } from '../../functions/core/errors';
import type { ExecutionInput } from '../../functions/core/model';
import { findRule, type Policy } from '../../functions/core/policy';
import { parsePolicy, validatePolicy } from '../../functions/core/policy-file';
import { explain } from '../../functions/core/policy-review';
import { LifecycleSteps } from '../../functions/core/steps';
import { checkTicket, ticketPromptFor, ticketRuleText } from '../../functions/core/ticket';
import {
  FakeDirectory,
  ManualClock,
  MemoryStore,
  memoryAudit,
  RecordingNotifier,
} from '../reliability/fakes';

// A rule's ticket requirement: its schema, the one check the form and Validate share, and what
// the form and the review say about it.

const EXAMPLE = readFileSync(path.join(__dirname, '../fixtures/email-groups-policy.yaml'), 'utf8');
const TICKET = { required: true, pattern: '^(INC|CHG)-\\d+$', hint: 'INC-1234 or CHG-1234' };

// biome-ignore lint/suspicious/noExplicitAny: each case edits an arbitrary path of the parsed YAML document
type PolicyDocument = Record<string, any>;

/** The example policy with `edit` applied: the policy, or the problems validation found. */
function withEdit(edit: (doc: PolicyDocument) => void): Policy | string[] {
  const doc = parseYaml(EXAMPLE) as PolicyDocument;
  edit(doc);
  try {
    return validatePolicy(doc);
  } catch (error) {
    if (error instanceof PolicyError) return error.problems;
    throw error;
  }
}

/** The example policy whose production-engineers rule (rules[1]) asks for `ticket`. */
function policyWithTicket(ticket: object = TICKET): Policy {
  const policy = withEdit((d) => (d.rules[1].ticket = ticket));
  if (Array.isArray(policy)) throw new Error(policy.join('; '));
  return policy;
}

const rule = (policy: Policy, name = 'production-engineers') => {
  const found = findRule(policy, name);
  if (!found) throw new Error(`no rule ${name}`);
  return found;
};

describe('the ticket field of a rule', () => {
  it('is absent unless the rule says it, and required defaults to false', () => {
    expect(rule(parsePolicy(EXAMPLE)).ticket).toBeUndefined();
    expect(rule(policyWithTicket({ pattern: '^INC-\\d+$' })).ticket).toEqual({
      required: false,
      pattern: '^INC-\\d+$',
    });
    expect(rule(policyWithTicket()).ticket).toEqual(TICKET);
  });

  it('refuses a pattern that is not a regular expression, naming its path', () => {
    expect(withEdit((d) => (d.rules[0].ticket = { required: true, pattern: '^(INC-\\d+$' }))).toEqual([
      'rules[0].ticket.pattern: not a valid regular expression: /^(INC-\\d+$/: Unterminated group',
    ]);
  });

  it('refuses unknown keys, a required that is not a boolean and an empty hint', () => {
    expect(withEdit((d) => (d.rules[1].ticket = { required: 'yes', format: 'x', hint: '' }))).toEqual([
      'rules[1].ticket.required: Invalid input: expected boolean, received string',
      'rules[1].ticket.hint: Too small: expected string to have >=1 characters',
      'rules[1].ticket: Unrecognized key: "format"',
    ]);
  });
});

describe('checkTicket', () => {
  const required = rule(policyWithTicket());

  it('accepts anything, or nothing, under a rule without a ticket requirement', () => {
    const free = rule(parsePolicy(EXAMPLE));
    expect(checkTicket(free, undefined)).toEqual({ ok: true });
    expect(checkTicket(free, 'whatever')).toEqual({ ok: true });
  });

  it('wants one when required, and says what it looks like', () => {
    for (const missing of [undefined, '', '   '])
      expect(checkTicket(required, missing)).toEqual({
        ok: false,
        problem: 'missing',
        message: 'This access needs a ticket reference (INC-1234 or CHG-1234).',
      });
  });

  it('matches the pattern against the trimmed reference', () => {
    expect(checkTicket(required, '  CHG-77 ')).toEqual({ ok: true });
    expect(checkTicket(required, 'INC-42')).toEqual({ ok: true });
    expect(checkTicket(required, 'OPS-42')).toEqual({
      ok: false,
      problem: 'mismatch',
      message: 'That ticket reference is not one this access accepts (INC-1234 or CHG-1234).',
    });
    // Anchored by the pattern itself, so a reference with more around it does not match.
    expect(checkTicket(required, 'see INC-42').ok).toBe(false);
  });

  it('names the pattern when the rule gives no hint; an optional ticket need only match when given', () => {
    const optional = rule(policyWithTicket({ pattern: '^INC-\\d+$' }));
    expect(checkTicket(optional, undefined)).toEqual({ ok: true });
    expect(checkTicket(optional, 'CHG-1')).toMatchObject({
      ok: false,
      message: 'That ticket reference is not one this access accepts (it must match ^INC-\\d+$).',
    });
  });
});

describe('what the form and the review say', () => {
  const policy = policyWithTicket();

  it('prompts for a ticket when a rule that could decide asks for one', () => {
    // Alice may also ask for staging (no ticket), so only some of her requests need one...
    expect(ticketPromptFor(policy, 'alice@example.com')).toEqual({
      required: 'sometimes',
      hints: ['INC-1234 or CHG-1234'],
    });
    // ...every one on production with ReadOnly does, by account id or name...
    expect(
      ticketPromptFor(policy, 'alice@example.com', { accountId: '111111111111', permissionSet: 'ReadOnly' }),
    ).toEqual({ required: 'always', hints: ['INC-1234 or CHG-1234'] });
    expect(ticketPromptFor(policy, 'alice@example.com', { accountId: 'production' })?.required).toBe(
      'always',
    );
    // ...and none on staging, nor anywhere under a policy without ticket rules.
    expect(ticketPromptFor(policy, 'alice@example.com', { accountId: '222222222222' })).toBeUndefined();
    expect(ticketPromptFor(parsePolicy(EXAMPLE), 'alice@example.com')).toBeUndefined();
  });

  it('explain gives the deciding rule’s ticket requirement', () => {
    const request = { requester: 'alice@example.com', permissionSet: 'ReadOnly', durationMinutes: 60 };
    const production = explain(policy, { ...request, account: 'production' }).decision;
    expect(production).toMatchObject({ rule: 'production-engineers', ticket: TICKET });
    const staging = explain(policy, { ...request, account: 'staging' }).decision;
    expect(staging).toMatchObject({ rule: 'staging-self-service', ticket: { required: false } });
  });

  it('says a ticket rule in one line', () => {
    expect(ticketRuleText(TICKET)).toBe('required, matching ^(INC|CHG)-\\d+$');
    expect(ticketRuleText({ required: true })).toBe('required');
    expect(ticketRuleText({ required: false, pattern: '^INC-\\d+$' })).toBe(
      'not required; when given, matching ^INC-\\d+$',
    );
    expect(ticketRuleText({ required: false })).toBe('not required');
    expect(ticketRuleText(undefined)).toBe('not required');
  });
});

describe('Validate re-checks the ticket against the deciding rule', () => {
  const policy = policyWithTicket();
  const PRODUCTION = '111111111111';
  const READ_ONLY = 'arn:aws:sso:::permissionSet/ssoins-7223a1b2c3d4e5f6/ps-1a2b3c4d5e6f7a8b';

  function world() {
    const clock = new ManualClock();
    const store = new MemoryStore(clock);
    const { log, trail } = memoryAudit(clock);
    const lookups: string[] = [];
    const steps = new LifecycleSteps({
      policy,
      store,
      audit: trail,
      assignments: new FakeDirectory(),
      users: {
        findUserIdByEmail: async (email) => {
          lookups.push(email);
          return '9067a1b2c3-alice';
        },
      },
      notifier: new RecordingNotifier(),
      clock,
    });
    return { store, log, steps, lookups };
  }

  /** An execution input as a (possibly compromised) Slack function could start it. */
  const input = (requestId: string, ticket?: string, accountId = PRODUCTION): ExecutionInput => ({
    version: 1,
    request: {
      requestId,
      requester: { email: 'alice@example.com', slackUserId: 'U0ALICE' },
      accountId,
      permissionSetArn: READ_ONLY,
      durationMinutes: 60,
      reason: 'investigate',
      ...(ticket !== undefined ? { ticket } : {}),
      requestedAt: '2026-11-25T09:00:00.000Z',
    },
  });

  it('stores an accepted ticket and writes it in request.submitted', async () => {
    const { store, log, steps } = world();
    const result = await steps.validate(input('req-ticket-ok', 'INC-42'));

    expect(result).toMatchObject({ valid: true, ruleName: 'production-engineers' });
    const record = await store.getRequest('req-ticket-ok');
    expect(record).toMatchObject({ status: 'PENDING_APPROVAL', request: { ticket: 'INC-42' } });
    const submitted = log.events.find((e) => e.action === 'request.submitted');
    expect(submitted?.details.ticket).toBe('INC-42');
  });

  it.each([
    ['without a ticket', undefined, 'This access needs a ticket reference (INC-1234 or CHG-1234).'],
    ['with a blank ticket', '  ', 'This access needs a ticket reference (INC-1234 or CHG-1234).'],
    [
      'with a ticket the pattern refuses',
      'OPS-42',
      'That ticket reference is not one this access accepts (INC-1234 or CHG-1234).',
    ],
  ])('refuses a request %s, stores it REJECTED and audits why', async (_name, ticket, message) => {
    const { store, log, steps, lookups } = world();
    const result = await steps.validate(input('req-ticket-no', ticket));

    const reason = `Rule production-engineers: ${message}`;
    expect(result).toEqual({ valid: false, reason });
    expect(await store.getRequest('req-ticket-no')).toMatchObject({
      status: 'REJECTED',
      failureReason: reason,
    });
    expect(log.actions('req-ticket-no')).toEqual(['request.submitted', 'request.rejected']);
    expect(log.events.find((e) => e.action === 'request.rejected')?.details.reason).toBe(reason);
    // Refused before Identity Center is asked for the user.
    expect(lookups).toEqual([]);
  });

  it('asks nothing of a request decided by a rule without a ticket requirement', async () => {
    const { steps } = world();
    const staging = await steps.validate(input('req-ticket-staging', undefined, '222222222222'));
    expect(staging).toMatchObject({ valid: true, ruleName: 'staging-self-service' });
  });
});
