import type { PermissionSet } from '../../functions/core/policy';
import type { SessionDurations } from '../../functions/core/ports';
import {
  exposureText,
  SessionDurationCache,
  sessionDurationMinutes,
  sessionExposureOf,
} from '../../functions/core/session-exposure';

// The request form's line on how long a grant's sessions outlive its window: the text, the
// session duration read as DescribePermissionSet answers it, and the per-container cache that
// keeps the read off the form's path once warm and never lets a failure reach the form.

const READ_ONLY: PermissionSet = {
  name: 'ReadOnly',
  arn: 'arn:aws:sso:::permissionSet/ssoins-7223a1b2c3d4e5f6/ps-1a2b3c4d5e6f7a8b',
  endSessionsOnRevoke: false,
};
const POWER_USER: PermissionSet = {
  name: 'PowerUser',
  arn: 'arn:aws:sso:::permissionSet/ssoins-7223a1b2c3d4e5f6/ps-9f8e7d6c5b4a3f2e',
  endSessionsOnRevoke: true,
};

describe('exposureText', () => {
  it('adds the session duration to the window', () => {
    expect(exposureText(60, 'ReadOnly', { kind: 'outlives', sessionMinutes: 240 })).toBe(
      "Access for 1h; sessions signed in during it stay valid up to 4h after it ends (ReadOnly's session duration), so up to 5h in all.",
    );
    expect(exposureText(90, 'Admin', { kind: 'outlives', sessionMinutes: 720 })).toBe(
      "Access for 1h 30m; sessions signed in during it stay valid up to 12h after it ends (Admin's session duration), so up to 13h 30m in all.",
    );
  });

  it('says sessions end at revoke for a permission set that ends them', () => {
    expect(exposureText(120, 'PowerUser', { kind: 'ends-at-revoke' })).toBe(
      'Access for 2h. Sessions end at revoke.',
    );
  });
});

describe('sessionDurationMinutes', () => {
  it.each([
    ['PT1H', 60],
    ['PT12H', 720],
    ['PT1H30M', 90],
    ['PT90M', 90],
    ['PT3600S', 60],
    ['PT61S', 2],
  ])('reads %s as %i minutes', (iso, minutes) => {
    expect(sessionDurationMinutes(iso)).toBe(minutes);
  });

  it.each([undefined, '', 'PT', 'PT0H', '1H', 'P1D', 'PT1.5H', 'pt1h'])('reads %p as nothing', (iso) => {
    expect(sessionDurationMinutes(iso)).toBeUndefined();
  });
});

/** A source whose answers the test gives: a duration, an error, or a promise left pending. */
function source() {
  const calls: string[] = [];
  const answers: Array<string | Error | Promise<string>> = [];
  const durations: SessionDurations = {
    async sessionDuration(arn) {
      calls.push(arn);
      const answer = answers.shift() ?? 'PT1H';
      if (answer instanceof Error) throw answer;
      return answer;
    },
  };
  return { durations, calls, answers };
}

function clock() {
  let now = Date.parse('2026-12-03T10:00:00Z');
  return { now: () => new Date(now), advance: (ms: number) => (now += ms) };
}

const OPTIONS = { ttlMs: 300_000, retryAfterMs: 60_000, waitMs: 50 };

describe('SessionDurationCache', () => {
  it('reads once, then answers from the cache without a call until the TTL has passed', async () => {
    const { durations, calls, answers } = source();
    const time = clock();
    const cache = new SessionDurationCache(durations, time, OPTIONS);
    answers.push('PT4H', 'PT2H');

    expect(await cache.minutes(READ_ONLY.arn)).toBe(240);
    time.advance(299_000);
    expect(await cache.minutes(READ_ONLY.arn)).toBe(240);
    expect(calls).toHaveLength(1);

    time.advance(2_000);
    expect(await cache.minutes(READ_ONLY.arn)).toBe(120);
    expect(calls).toHaveLength(2);
  });

  it('makes one call for concurrent asks of the same permission set', async () => {
    const { durations, calls } = source();
    const cache = new SessionDurationCache(durations, clock(), OPTIONS);
    const answers = await Promise.all([cache.minutes(READ_ONLY.arn), cache.minutes(READ_ONLY.arn)]);
    expect(answers).toEqual([60, 60]);
    expect(calls).toHaveLength(1);
  });

  it('answers nothing when the first read fails, reports it, and tries again only after retryAfterMs', async () => {
    const { durations, calls, answers } = source();
    const time = clock();
    const failures: string[] = [];
    const cache = new SessionDurationCache(durations, time, OPTIONS, (what) => failures.push(what));
    answers.push(Object.assign(new Error('denied'), { name: 'AccessDeniedException' }), 'PT3H');

    expect(await cache.minutes(READ_ONLY.arn)).toBeUndefined();
    expect(failures).toEqual([`DescribePermissionSet ${READ_ONLY.arn}`]);
    expect(await cache.minutes(READ_ONLY.arn)).toBeUndefined();
    expect(calls).toHaveLength(1);

    time.advance(60_000);
    expect(await cache.minutes(READ_ONLY.arn)).toBe(180);
    expect(calls).toHaveLength(2);
  });

  it('keeps the last answer while a later read fails, and refuses an answer that is no duration', async () => {
    const { durations, answers } = source();
    const time = clock();
    const failures: unknown[] = [];
    const cache = new SessionDurationCache(durations, time, OPTIONS, (_what, error) => failures.push(error));
    answers.push('PT2H', new Error('throttled'), 'P1D');

    expect(await cache.minutes(READ_ONLY.arn)).toBe(120);
    time.advance(300_000);
    expect(await cache.minutes(READ_ONLY.arn)).toBe(120);
    time.advance(60_000);
    expect(await cache.minutes(READ_ONLY.arn)).toBe(120);
    expect(failures.map((e) => (e as Error).message)).toEqual([
      'throttled',
      'SessionDuration "P1D" is not a duration',
    ]);
  });

  it('waits for a slow first read at most waitMs, and the read still fills the cache when it lands', async () => {
    const { durations, calls, answers } = source();
    const cache = new SessionDurationCache(durations, clock(), OPTIONS);
    let land: (value: string) => void = () => {};
    answers.push(new Promise<string>((resolve) => (land = resolve)));

    const started = Date.now();
    expect(await cache.minutes(READ_ONLY.arn)).toBeUndefined();
    expect(Date.now() - started).toBeLessThan(1000);

    land('PT8H');
    await new Promise((resolve) => setImmediate(resolve));
    expect(await cache.minutes(READ_ONLY.arn)).toBe(480);
    expect(calls).toHaveLength(1);
  });

  it('survives a source that throws before returning a promise', async () => {
    const cache = new SessionDurationCache(
      {
        sessionDuration: () => {
          throw new Error('no client');
        },
      },
      clock(),
      OPTIONS,
    );
    expect(await cache.minutes(READ_ONLY.arn)).toBeUndefined();
  });
});

describe('sessionExposureOf', () => {
  it('knows a permission set that ends sessions at revoke from the policy, with no read', async () => {
    const { durations, calls } = source();
    const cache = new SessionDurationCache(durations, clock(), OPTIONS);
    expect(await sessionExposureOf(POWER_USER, cache)).toEqual({ kind: 'ends-at-revoke' });
    expect(await sessionExposureOf(POWER_USER, undefined)).toEqual({ kind: 'ends-at-revoke' });
    expect(calls).toEqual([]);
  });

  it('gives the session duration of the others, or nothing without one', async () => {
    const { durations, answers } = source();
    answers.push('PT4H');
    const cache = new SessionDurationCache(durations, clock(), OPTIONS);
    expect(await sessionExposureOf(READ_ONLY, cache)).toEqual({ kind: 'outlives', sessionMinutes: 240 });
    expect(await sessionExposureOf(READ_ONLY, undefined)).toBeUndefined();
  });
});
