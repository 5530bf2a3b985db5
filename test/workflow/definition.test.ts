import { readFileSync } from 'node:fs';
import { DEFINITION_PATH, WORKER_FUNCTIONS } from '../../local/step-functions/product-workflow';

// The ASL file itself: valid for AWS with its ${...} placeholders, and built to the rules the
// product depends on (every task retried and caught, a bounded execution).

// asl-validator ships no types.
const validate = require('asl-validator') as (
  definition: unknown,
  options?: unknown,
) => { isValid: boolean; errors: Array<{ message: string }>; errorsText: (separator?: string) => string };

const text = readFileSync(DEFINITION_PATH, 'utf8');
type ChoiceRule = {
  Next?: string;
  Variable?: string;
  Not?: ChoiceRule;
  And?: ChoiceRule[];
  Or?: ChoiceRule[];
} & Record<string, unknown>;
type State = {
  Type: string;
  Resource?: string;
  Retry?: Array<{
    ErrorEquals: string[];
    JitterStrategy?: string;
    BackoffRate?: number;
    MaxAttempts?: number;
  }>;
  Catch?: Array<{ Next: string }>;
  Parameters?: { FunctionName?: string };
  TimeoutSecondsPath?: string;
  Choices?: ChoiceRule[];
  Default?: string;
  Next?: string;
};
const definition = JSON.parse(text) as { TimeoutSeconds?: number; States: Record<string, State> };

describe('statemachines/access-request.asl.json', () => {
  it('passes asl-validator with its substitutions in place', () => {
    const result = validate(definition);
    expect(result.errorsText()).toBe('');
    expect(result.isValid).toBe(true);
  });

  it('would catch a broken definition (a Next that names no state)', () => {
    const broken = JSON.parse(text) as { States: Record<string, { Next?: string }> };
    broken.States.Grant = { ...broken.States.Grant, Next: 'NoSuchState' };
    expect(validate(broken).isValid).toBe(false);
  });

  it('uses exactly the worker substitutions the infrastructure and the sandbox provide', () => {
    const placeholders = new Set([...text.matchAll(/\$\{(\w+)\}/g)].map((m) => m[1]));
    expect([...placeholders].sort()).toEqual(Object.keys(WORKER_FUNCTIONS).sort());
  });

  it('has a top-level timeout above the longest window plus approval (the full budget: execution-budget.test.ts)', () => {
    expect(definition.TimeoutSeconds).toBeGreaterThan(2 * 7 * 24 * 3600);
  });

  it('retries a function killed at its timeout or a Lambda client timeout on every task (all are idempotent)', () => {
    const tasks = Object.entries(definition.States).filter(([, state]) => state.Type === 'Task');
    for (const [name, state] of tasks)
      expect({ name, first: state.Retry?.[0]?.ErrorEquals }).toEqual({
        name,
        first: expect.arrayContaining(['Lambda.Unknown', 'Lambda.ClientExecutionTimeoutException']),
      });
  });

  it('guards every TimeoutSecondsPath: only a Choice that checks present, numeric and >= 1 leads to its task', () => {
    const callbacks = Object.entries(definition.States).filter(([, state]) => state.TimeoutSecondsPath);
    expect(callbacks.map(([name]) => name).sort()).toEqual(['AccessWindow', 'AwaitApproval']);
    const leadingInto = (name: string) =>
      Object.entries(definition.States).filter(([, state]) =>
        [
          state.Next,
          state.Default,
          ...(state.Choices ?? []).map((c) => c.Next),
          ...(state.Catch ?? []).map((c) => c.Next),
        ].includes(name),
      );
    for (const [name, task] of callbacks) {
      const path = task.TimeoutSecondsPath;
      // A Wait in between (an approval channel's slot) changes nothing on the path: its own
      // way in must be guarded the same way.
      const guards = (target: string): Array<[string, (typeof definition.States)[string], string]> =>
        leadingInto(target).flatMap(([from, state]) =>
          state.Type === 'Wait' ? guards(from) : [[from, state, target] as [string, typeof state, string]],
        );
      const into = guards(name);
      expect(into.length).toBeGreaterThan(0);
      for (const [from, guard, target] of into) {
        const rules = guard.Choices ?? [];
        const refuses = (test: string) =>
          rules.some((r) => r.Not?.Variable === path && r.Not?.[test] === true && r.Next !== target);
        const requiresOne = (r: (typeof rules)[number]) =>
          (r.Variable === path && r.NumericGreaterThanEquals === 1) ||
          (r.And ?? []).some((a) => a.Variable === path && a.NumericGreaterThanEquals === 1);
        const atLeastOne =
          rules.some((r) => r.Variable === path && r.NumericLessThan === 1 && r.Next !== target) ||
          rules.filter((r) => r.Next === target).every(requiresOne);
        expect({
          from,
          type: guard.Type,
          present: refuses('IsPresent'),
          numeric: refuses('IsNumeric'),
          atLeastOne,
        }).toEqual({
          from,
          type: 'Choice',
          present: true,
          numeric: true,
          atLeastOne: true,
        });
      }
    }
  });

  it('writes type tests as Not {…: true}: the local engine never matches IsPresent/IsNumeric/… false', () => {
    const falseTests = [...text.matchAll(/"(Is\w+)": false/g)].map((m) => m[1]);
    expect(falseTests).toEqual([]);
  });

  it('retries every task with exponential backoff and jitter and catches its failures', () => {
    const tasks = Object.entries(definition.States).filter(([, state]) => state.Type === 'Task');
    expect(tasks.length).toBeGreaterThanOrEqual(8);
    for (const [name, state] of tasks) {
      // The transient-error retrier, then at most a catch-all (States.ALL) one.
      expect({ name, retriers: [1, 2].includes(state.Retry?.length ?? 0) }).toEqual({ name, retriers: true });
      // A retrier without MaxAttempts retries 3 times; 0 would disable it.
      const attempts = state.Retry?.[0]?.MaxAttempts ?? 3;
      expect({ name, attempts: attempts >= 3 && attempts <= 25 }).toEqual({ name, attempts: true });
      if (state.Retry?.[1])
        expect({ name, second: state.Retry[1].ErrorEquals }).toEqual({ name, second: ['States.ALL'] });
      expect(state.Retry?.[0]?.ErrorEquals).toEqual(
        expect.arrayContaining(['RetryableError', 'Lambda.TooManyRequestsException']),
      );
      expect(state.Retry?.[0]?.JitterStrategy).toBe('FULL');
      expect(state.Retry?.[0]?.BackoffRate).toBeGreaterThan(1);
      expect({ name, caught: (state.Catch?.length ?? 0) > 0 }).toEqual({ name, caught: true });
    }
  });

  it('routes every failure after the grant to Revoke, and a failed revoke to its own Fail state', () => {
    const catchTargets = (name: string) =>
      ((definition.States[name]?.Catch ?? []) as Array<{ Next: string }>).map((c) => c.Next);
    for (const name of ['Grant', 'CheckGrant', 'AccessWindow', 'ExtendWindow'])
      expect(catchTargets(name)).toContain('RevokeAfterFailure');
    expect(catchTargets('Revoke')).toEqual(['RevokeFailed']);
    expect(definition.States.RevokeFailedEnd).toMatchObject({ Type: 'Fail', Error: 'RevokeFailed' });
  });

  // Forward dataflow over the graph: a state's input has `path` when every edge into it carries
  // it; an edge carries it when the input had it or the edge writes it (ResultPath of a success,
  // or of the Catch taken, equal to `path`, or its parent when a ResultSelector writes the rest).
  // Nothing in the definition removes these paths once set.
  function setOnEveryPathInto(path: string): Map<string, boolean> {
    type Edge = { from: string; to: string; resultPath?: string; selector?: unknown };
    const edges: Edge[] = [];
    for (const [name, state] of Object.entries(definition.States)) {
      const s = state as State & {
        ResultPath?: string;
        Catch?: Array<{ Next: string; ResultPath?: string }>;
      };
      const selector = (s as { ResultSelector?: unknown }).ResultSelector;
      if (s.Next) edges.push({ from: name, to: s.Next, resultPath: s.ResultPath, selector });
      if (s.Default) edges.push({ from: name, to: s.Default });
      for (const rule of s.Choices ?? []) if (rule.Next) edges.push({ from: name, to: rule.Next });
      for (const c of s.Catch ?? []) edges.push({ from: name, to: c.Next, resultPath: c.ResultPath });
    }
    const writes = (e: Edge) => {
      if (e.resultPath === path) return true;
      if (!e.resultPath || !path.startsWith(`${e.resultPath}.`)) return false;
      let selected: unknown = e.selector;
      for (const key of path.slice(e.resultPath.length + 1).split('.'))
        selected =
          selected && typeof selected === 'object' ? (selected as Record<string, unknown>)[key] : undefined;
      return selected !== undefined;
    };
    const start = (definition as unknown as { StartAt: string }).StartAt;
    const has = new Map<string, boolean>(Object.keys(definition.States).map((n) => [n, n !== start]));
    for (let changed = true; changed; ) {
      changed = false;
      for (const name of Object.keys(definition.States)) {
        if (name === start) continue;
        const into = edges.filter((e) => e.to === name);
        const value = into.every((e) => has.get(e.from) || writes(e));
        if (value !== has.get(name)) {
          has.set(name, value);
          changed = true;
        }
      }
    }
    return has;
  }

  /** States whose Parameters or Choices read `path` (or a field of it). */
  function readersOf(path: string): string[] {
    const quoted = new RegExp(`["(]${path.replace(/[$.]/g, '\\$&')}[".,)]`);
    return Object.entries(definition.States)
      .filter(([, state]) => {
        const s = state as State & { Parameters?: unknown };
        return (
          quoted.test(JSON.stringify(s.Parameters ?? {})) || quoted.test(JSON.stringify(s.Choices ?? []))
        );
      })
      .map(([name]) => name)
      .sort();
  }

  it.each([
    ['$.admission', ['Grant', 'GrantSlot', 'Revoke', 'ValidationSlot']],
    ['$.validation.grantRound.n', ['AdmitGrant', 'GrantRoundsLeft', 'NextGrantRound']],
    ['$.endSessions', ['CheckEndSessions', 'EndSessionsStatus']],
    ['$.sessionsError', ['SessionsNotEnded']],
  ])(
    'has %s set on every path into the states that read it (a missing path is an uncatchable States.Runtime)',
    (path, expected) => {
      const has = setOnEveryPathInto(path);
      const readers = readersOf(path);
      expect(readers).toEqual(expected);
      for (const name of readers) expect({ name, has: has.get(name) }).toEqual({ name, has: true });
    },
  );

  it('ends sessions only after the deletion, and never turns into a revoke failure', () => {
    const SESSION_STATES = [
      'EndSessions',
      'EndSessionsStatus',
      'WaitForEndSessions',
      'CheckEndSessions',
      'EndSessionsMalformed',
      'EndSessionsStuck',
      'SessionsNotEnded',
    ];
    const next = (name: string) => {
      const state = definition.States[name] as State;
      return [
        state.Next,
        state.Default,
        ...(state.Choices ?? []).map((c) => c.Next),
        ...(state.Catch ?? []).map((c) => c.Next),
      ].filter((n): n is string => typeof n === 'string');
    };
    // Entered from RevokeStatus only, once the deletion SUCCEEDED and Revoke/CheckRevoke said the
    // permission set ends sessions at revoke (a boolean true: functions/shared/step-results.ts).
    const into = Object.keys(definition.States).filter(
      (name) => !SESSION_STATES.includes(name) && next(name).includes('EndSessions'),
    );
    expect(into).toEqual(['RevokeStatus']);
    expect(definition.States.RevokeStatus?.Choices?.filter((c) => c.Next === 'EndSessions')).toEqual([
      {
        And: [
          { Variable: '$.revoke.status', StringEquals: 'SUCCEEDED' },
          { Variable: '$.revoke.endSessions', IsBoolean: true },
          { Variable: '$.revoke.endSessions', BooleanEquals: true },
        ],
        Next: 'EndSessions',
      },
    ]);
    // Every way out goes on to RevokeOutcome (the request closes as it would have), none to RevokeFailed.
    for (const name of SESSION_STATES)
      for (const target of next(name))
        expect({ name, target: SESSION_STATES.includes(target) ? 'within' : target }).toEqual({
          name,
          target: SESSION_STATES.includes(target) ? 'within' : 'RevokeOutcome',
        });
  });

  it('plans an extended window in a task from server-side facts, never from the callback alone', () => {
    const extend = definition.States.ExtendWindow as State & {
      Parameters: { FunctionName: string; Payload: Record<string, string> };
      ResultPath: string;
      Retry: unknown[];
    };
    expect(extend.Type).toBe('Task');
    // biome-ignore lint/suspicious/noTemplateCurlyInString: the ASL's own substitution placeholder
    expect(extend.Parameters.FunctionName).toBe('${AccessWindowFunctionArn}');
    expect(extend.Parameters.Payload).toMatchObject({
      plan: 'extend',
      'durationMinutes.$': '$.request.durationMinutes',
      'window.$': '$.grant.window',
      'callback.$': '$.windowResult',
    });
    expect(extend.ResultPath).toBe('$.grant.window');
    expect(extend.Retry).toEqual(definition.States.AccessWindow?.Retry);
    // Nothing copies the callback's output into the window the timer reads.
    const copies = Object.entries(definition.States).filter(([, state]) =>
      JSON.stringify(state).match(/"\$\.windowResult\.(expiresAt|seconds)"/),
    );
    expect(copies).toEqual([]);
  });

  it('keeps task tokens out of anything but the callback payloads', () => {
    const tokenUses = [...text.matchAll(/"(\w+)\.\$": "\$\$\.Task\.Token"/g)].map((m) => m[1]);
    expect(tokenUses).toEqual(['taskToken', 'taskToken']);
  });
});
