import { readFileSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { parse as parseYaml, stringify } from 'yaml';
import { parseDurationMinutes } from '../../functions/core/duration';
import { PolicyError } from '../../functions/core/errors';
import { evaluateRequest } from '../../functions/core/policy';
import { parsePolicy, validatePolicy } from '../../functions/core/policy-file';

// Policy files are edited by people and loaded by every function and by the CDK app: whatever a
// file holds, the answer is a policy or a PolicyError naming where the problem is, and an edit
// cannot widen who approves beyond what it names.

const EXAMPLE = readFileSync(path.join(__dirname, '../fixtures/email-groups-policy.yaml'), 'utf8');
const example = () => parseYaml(EXAMPLE) as Record<string, unknown>;

/** parsePolicy's only ways out: a policy, or a PolicyError with at least one located problem. */
function answer(load: () => unknown): 'valid' | 'invalid' {
  try {
    load();
    return 'valid';
  } catch (error) {
    expect(error).toBeInstanceOf(PolicyError);
    const problems = (error as PolicyError).problems;
    expect(problems.length).toBeGreaterThan(0);
    // "<path>: <problem>", where odd keys in the path are quoted (groups[":"]).
    for (const problem of problems) expect(problem).toMatch(/^([^:"]|"(\\.|[^"\\])*")+: /);
    return 'invalid';
  }
}

/** Sets `value` at a random path of a JSON document (objects and arrays). */
function mutate(document: unknown, pathChoices: number[], value: unknown): unknown {
  if (pathChoices.length === 0 || document === null || typeof document !== 'object') return value;
  const [choice = 0, ...rest] = pathChoices;
  if (Array.isArray(document)) {
    if (document.length === 0) return [value];
    const index = choice % document.length;
    return document.map((item, i) => (i === index ? mutate(item, rest, value) : item));
  }
  const keys = Object.keys(document);
  if (keys.length === 0) return { [String(choice)]: value };
  const key = keys[choice % keys.length] as string;
  return {
    ...(document as Record<string, unknown>),
    [key]: mutate((document as Record<string, unknown>)[key], rest, value),
  };
}

describe('bad input: policy files', () => {
  it('answers any text with a policy or a located PolicyError', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.string({ maxLength: 500 }), fc.string({ unit: 'grapheme', maxLength: 500 })),
        (text) => {
          answer(() => parsePolicy(text));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('answers any JSON value with a policy or a located PolicyError', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 4 }), (value) => {
        answer(() => validatePolicy(value));
      }),
      { numRuns: 300 },
    );
  });

  it('answers any single-field edit of a valid policy, and names the field it refuses', () => {
    fc.assert(
      fc.property(
        fc.array(fc.nat(), { minLength: 1, maxLength: 5 }),
        fc.oneof(fc.jsonValue({ maxDepth: 2 }), fc.constant(undefined), fc.string({ maxLength: 5000 })),
        (pathChoices, value) => {
          const edited = mutate(example(), pathChoices, value);
          answer(() => parsePolicy(stringify(edited ?? null)));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('refuses a YAML alias bomb quickly', () => {
    const bomb = [
      'a: &a ["x","x","x","x","x","x","x","x","x","x"]',
      ...Array.from({ length: 9 }, (_, i) => {
        const me = String.fromCharCode(98 + i);
        const prev = String.fromCharCode(97 + i);
        return `${me}: &${me} [*${prev},*${prev},*${prev},*${prev},*${prev},*${prev},*${prev},*${prev},*${prev},*${prev}]`;
      }),
    ].join('\n');
    const started = Date.now();
    expect(answer(() => parsePolicy(bomb))).toBe('invalid');
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('refuses a 5 MB file without hanging', () => {
    const started = Date.now();
    expect(answer(() => parsePolicy(`${EXAMPLE}\n# ${'x'.repeat(5_000_000)}\nrules: 7`))).toBe('invalid');
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('cannot be edited into letting anyone approve: wildcard approvers, unknown groups and impossible quorums are refused', () => {
    const cases: Array<[string, unknown]> = [
      ['rules[0].approval.approvers[0]', '*'],
      ['rules[0].approval.approvers[0]', '*@example.com'],
      ['rules[0].approval.approvers[0]', 'group:nobody'],
      ['rules[0].approval.required', 5],
      ['rules[0].approval.required', 0],
      ['rules[0].maxDuration', '8d'],
      ['rules[0].accounts[0]', 'no-such-account'],
    ];
    for (const [where, value] of cases) {
      interface EditableRule {
        approval: { approvers: unknown[]; required: unknown };
        maxDuration: unknown;
        accounts: unknown[];
      }
      const document = example() as unknown as { rules: EditableRule[] };
      const rule = document.rules[0] as EditableRule;
      if (where.includes('approvers')) rule.approval.approvers[0] = value;
      else if (where.includes('required')) rule.approval.required = value;
      else if (where.includes('maxDuration')) rule.maxDuration = value;
      else rule.accounts[0] = value;
      expect(() => validatePolicy(document)).toThrow(PolicyError);
      try {
        validatePolicy(document);
      } catch (error) {
        expect((error as PolicyError).problems.join('\n')).toContain('rules[0]');
      }
    }
  });

  it('parses any duration text into whole positive minutes or nothing', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.string({ maxLength: 30 }), fc.stringMatching(/^\d{0,4}d?\d{0,3}h?\d{0,4}m?$/)),
        (text) => {
          const minutes = parseDurationMinutes(text);
          if (minutes !== undefined) {
            expect(Number.isInteger(minutes)).toBe(true);
            expect(minutes).toBeGreaterThan(0);
          }
        },
      ),
      { numRuns: 500 },
    );
  });

  it('evaluates any request text without throwing, and allows only what a rule names', () => {
    const policy = parsePolicy(EXAMPLE);
    fc.assert(
      fc.property(
        fc.string({ maxLength: 300 }),
        fc.string({ maxLength: 30 }),
        fc.string({ maxLength: 200 }),
        fc.oneof(fc.integer(), fc.double()),
        (email, account, permissionSet, minutes) => {
          const verdict = evaluateRequest(policy, {
            requesterEmail: email,
            accountId: account,
            permissionSet,
            durationMinutes: minutes,
          });
          if (verdict.allowed) {
            expect(Number.isInteger(minutes) && minutes > 0 && minutes <= verdict.rule.maxDuration).toBe(
              true,
            );
            expect(email.toLowerCase()).toMatch(/@example\.com$/);
          } else {
            expect(verdict.reason.length).toBeGreaterThan(0);
          }
        },
      ),
      { numRuns: 500 },
    );
  });
});
