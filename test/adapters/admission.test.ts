import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDbAdmissionSchedule } from '../../functions/adapters/dynamodb-admission-schedule';
import {
  Admission,
  AdmissionRefused,
  ChannelPacing,
  heldCounter,
  PHASE_CALLS,
} from '../../functions/core/admission';
import { createLocalTables, type LocalDynamo, localDynamoClient, startLocalDynamo } from '../support/dynamo';

// Admission control on a real DynamoDB API (dynalite): a burst of concurrent reservations gets
// distinct, evenly paced slots from one schedule item; a grant past the longest wait is refused
// without taking a slot; a revoke is charged without waiting.

const TABLES = { stateTable: 'admission-state', auditTable: 'admission-audit' };
let dynamo: LocalDynamo;
let client: DynamoDBClient;
let table = 0;

beforeAll(async () => {
  dynamo = await startLocalDynamo();
  client = localDynamoClient(dynamo.endpoint);
});
afterAll(async () => {
  client.destroy();
  await dynamo.close();
});

async function freshSchedule(): Promise<DynamoDbAdmissionSchedule> {
  table++;
  const names = { stateTable: `${TABLES.stateTable}-${table}`, auditTable: `${TABLES.auditTable}-${table}` };
  await createLocalTables(client, names);
  return new DynamoDbAdmissionSchedule(client, names.stateTable);
}

const T0 = Date.parse('2026-12-01T09:00:00.000Z');

describe('the admission schedule', () => {
  it('gives a burst of concurrent reservations distinct slots, back to back from now', async () => {
    const schedule = await freshSchedule();
    const starts = await Promise.all(Array.from({ length: 60 }, () => schedule.reserve(100, T0)));
    const sorted = [...(starts as number[])].sort((a, b) => a - b);
    expect(sorted).toEqual(Array.from({ length: 60 }, (_, i) => T0 + i * 100));
  });

  it('starts again at now once the schedule has fallen idle', async () => {
    const schedule = await freshSchedule();
    expect(await schedule.reserve(100, T0)).toBe(T0);
    expect(await schedule.reserve(100, T0 + 5_000)).toBe(T0 + 5_000);
    expect(await schedule.reserve(100, T0 + 5_000)).toBe(T0 + 5_100);
  });

  it('refuses a reservation whose slot would be after the latest start, and takes nothing', async () => {
    const schedule = await freshSchedule();
    await schedule.reserve(10_000, T0); // the schedule is busy until T0 + 10 s
    expect(await schedule.reserve(100, T0, T0 + 5_000)).toBeUndefined();
    expect(await schedule.reserve(100, T0, T0 + 10_000)).toBe(T0 + 10_000);
  });
});

describe('admission at Identity Center pace', () => {
  const settings = { callsPerSecond: 18, maxWaitSeconds: 60 };

  it('paces grants at callsPerSecond calls, Wait timestamps in whole seconds', async () => {
    const admission = new Admission(await freshSchedule(), settings, () => new Date(T0));
    const admitted = await Promise.all(Array.from({ length: 60 }, () => admission.admit('grant')));
    const ats = admitted.map((a) => Date.parse(a.at));
    for (const a of admitted) expect(a.at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    // 60 grants × 3 calls at 18 calls/s: the last starts 59 × 3/18 s ≈ 9.8 s after the first.
    expect(Math.max(...ats) - T0).toBe(10_000);
    // No second gets more calls than the pace allows.
    const perSecond = new Map<number, number>();
    for (const at of ats) perSecond.set(at, (perSecond.get(at) ?? 0) + PHASE_CALLS.grant);
    for (const calls of perSecond.values()) expect(calls).toBeLessThanOrEqual(settings.callsPerSecond);
  });

  it('refuses a grant that would queue past maxWait, and tells why', async () => {
    const schedule = await freshSchedule();
    await schedule.reserve(120_000, T0); // two minutes of queue
    const admission = new Admission(schedule, settings, () => new Date(T0));
    await expect(admission.admit('grant')).rejects.toThrow(AdmissionRefused);
    await expect(admission.admit('grant')).rejects.toThrow(/could not start within 1 minutes/);
    // A validation is never refused: it runs now, unpaced.
    expect(await admission.admit('validate')).toEqual({
      at: '2026-12-01T09:00:00Z',
      waitSeconds: 0,
      calls: 0,
      revokeCalls: 0,
      deferred: false,
    });
  });

  it('charges a revoke without waiting: the next grant comes after it', async () => {
    const admission = new Admission(await freshSchedule(), settings, () => new Date(T0));
    await admission.charge(PHASE_CALLS.revoke);
    await admission.charge(PHASE_CALLS.revoke);
    // Two revokes = 4 calls = 222 ms of schedule: the grant waits for the next whole second.
    expect(await admission.admit('grant')).toEqual({
      at: '2026-12-01T09:00:01Z',
      waitSeconds: 1,
      calls: PHASE_CALLS.grant,
      revokeCalls: 0,
      deferred: false,
    });
  });

  it('forecasts the end of a window no longer than maxWait, and makes its revoke room in the span that reaches it', async () => {
    const schedule = await freshSchedule();
    let now = T0;
    const admission = new Admission(schedule, settings, () => new Date(now));
    const window = 30; // seconds, within maxWait (60 s)
    const short = await admission.admit('grant', undefined, window);
    // Its own calls only; the revoke's 2 are reserved where the window ends.
    expect(short).toMatchObject({
      at: '2026-12-01T09:00:00Z',
      calls: PHASE_CALLS.grant,
      revokeCalls: PHASE_CALLS.revoke,
    });
    expect(await schedule.reserve(0, T0)).toBeCloseTo(
      T0 + (PHASE_CALLS.grant * 1000) / settings.callsPerSecond,
      2,
    );
    expect((await schedule.view()).ends).toEqual([{ pair: '-', second: T0 / 1000 + 2 + window, count: 1 }]);
    // A longer window forecasts nothing: its revoke charges when it runs.
    expect(await admission.admit('grant', undefined, settings.maxWaitSeconds + 60)).toMatchObject({
      revokeCalls: 0,
    });
    expect((await schedule.view()).ends).toHaveLength(1);
    // When it ends: a grant whose span starts in that second takes a share of the revoke's calls
    // with its own (the share of the second it spans) ...
    now = T0 + (2 + window) * 1000;
    const before = now;
    await admission.admit('grant');
    const span = ((await schedule.reserve(0, now)) ?? 0) - before;
    const own = (PHASE_CALLS.grant * 1000) / settings.callsPerSecond;
    expect(span).toBeGreaterThan(own);
    // ... and spans that follow one another through it take exactly its 2 calls (its Delete in
    // that second, CheckRevoke's Describe two seconds later: 20 spans reach past both).
    for (let i = 0; i < 19; i++) await admission.admit('grant');
    const total = ((await schedule.reserve(0, now)) ?? 0) - before;
    expect(total).toBeCloseTo(
      ((20 * PHASE_CALLS.grant + PHASE_CALLS.revoke) * 1000) / settings.callsPerSecond,
      0,
    );
  });

  it('forgets calendar entries a minute after their second, with the next forecast', async () => {
    const schedule = await freshSchedule();
    let now = T0;
    const admission = new Admission(schedule, settings, () => new Date(now));
    await admission.admit('grant', undefined, 10);
    now = T0 + 12_000 + 61_000 + 1_000;
    await admission.admit('grant', undefined, 10);
    expect((await schedule.view()).ends).toEqual([
      { pair: '-', second: Math.ceil(now / 1000) + 2 + 10, count: 1 },
    ]);
  });

  it('admits as without a calendar when the schedule cannot be read', async () => {
    const schedule = await freshSchedule();
    const unreadable = Object.assign(Object.create(schedule), {
      view: () => Promise.reject(new Error('throttled')),
      forecastEnd: () => Promise.reject(new Error('throttled')),
    });
    const admission = new Admission(unreadable, settings, () => new Date(T0));
    expect(await admission.admit('grant', undefined, 30)).toMatchObject({
      calls: PHASE_CALLS.grant,
      revokeCalls: PHASE_CALLS.revoke,
    });
    // Its revoke's calls reserved in its own slot, as without a calendar.
    expect(await schedule.reserve(0, T0)).toBeCloseTo(
      T0 + ((PHASE_CALLS.grant + PHASE_CALLS.revoke) * 1000) / settings.callsPerSecond,
      2,
    );
  });
});

describe('grants held on one account and permission set (List pages)', () => {
  const settings = { callsPerSecond: 20, maxWaitSeconds: 3600 };
  const pair = heldCounter(
    '222222222222',
    'arn:aws:sso:::permissionSet/ssoins-7223a1b2c3d4e5f6/ps-1a2b3c4d5e6f7a8b',
  );

  it('reserves a List page per 100 grants held there: the 250th grant of a burst reserves two pages more', async () => {
    const schedule = await freshSchedule();
    const admission = new Admission(schedule, settings, () => new Date(T0));
    // 249 grants admitted on the pair (sequentially, so each sees the count before it).
    for (let i = 0; i < 249; i++) await admission.admit('grant', pair);
    const before = await schedule.reserve(0, T0);
    await admission.admit('grant', pair);
    const after = await schedule.reserve(0, T0);
    // The 250th lists 250 principals: 3 pages, 2 more than the 3 calls of the common case.
    expect((after ?? 0) - (before ?? 0)).toBe(((PHASE_CALLS.grant + 2) * 1000) / settings.callsPerSecond);
    // Grants on another pair reserve the common case.
    const other = heldCounter(
      '333333333333',
      'arn:aws:sso:::permissionSet/ssoins-7223a1b2c3d4e5f6/ps-1a2b3c4d5e6f7a8b',
    );
    await admission.admit('grant', other);
    expect(((await schedule.reserve(0, T0)) ?? 0) - (after ?? 0)).toBe(
      (PHASE_CALLS.grant * 1000) / settings.callsPerSecond,
    );
  });

  it('does not count the grants whose windows the calendar has ending before the slot', async () => {
    const schedule = await freshSchedule();
    const admission = new Admission(schedule, settings, () => new Date(T0));
    // 150 grants with 60-second windows, then a queue that reaches past their ends.
    for (let i = 0; i < 150; i++) await admission.admit('grant', pair, 60);
    expect((await admission.admit('grant', pair, 60)).calls).toBe(PHASE_CALLS.grant + 1); // 151 held: 2 pages
    await schedule.reserve(120_000, T0);
    // Its slot is 2 minutes out: all 151 windows have ended by then, so it lists one page.
    expect((await admission.admit('grant', pair, 60)).calls).toBe(PHASE_CALLS.grant);
  });

  it('counts a grant once however many rounds it is admitted (IdentityCenterBusy), each round reserving its pages', async () => {
    const schedule = await freshSchedule();
    const admission = new Admission(schedule, settings, () => new Date(T0));
    for (let i = 0; i < 150; i++) await admission.admit('grant', pair);
    const first = await admission.admit('grant', pair, undefined, 0);
    const again = await admission.admit('grant', pair, undefined, 1);
    expect(await schedule.count(pair, 0)).toBe(151);
    // 151 held: two pages, one more than the common case, reserved in each round.
    expect(first.calls).toBe(PHASE_CALLS.grant + 1);
    expect(again.calls).toBe(PHASE_CALLS.grant + 1);
  });

  it('counts a revoke out, and raises (never lowers) the count to what a listing saw', async () => {
    const schedule = await freshSchedule();
    const admission = new Admission(schedule, settings, () => new Date(T0));
    await admission.admit('grant', pair);
    await admission.admit('grant', pair);
    await admission.release(pair);
    expect(await schedule.count(pair, 0)).toBe(1);
    // A listing found 120 principals besides this grant's user (made outside the product).
    await admission.observe(pair, 120);
    expect(await schedule.count(pair, 0)).toBe(121);
    await admission.observe(pair, 5);
    expect(await schedule.count(pair, 0)).toBe(121);
  });
});

describe('approval posts at a channel’s pace (ChannelPacing)', () => {
  it('posts the first at once and the rest of a burst one a second, each channel on its own schedule', async () => {
    const names = await freshSchedule().then(() => `${TABLES.stateTable}-${table}`);
    const pacing = new ChannelPacing(
      (channel) => new DynamoDbAdmissionSchedule(client, names, `slack-channel#${channel}`),
      900,
      () => new Date(T0),
    );
    const slots = await Promise.all(Array.from({ length: 5 }, () => pacing.slotFor('C0APPROVALS')));
    expect([...slots].sort()).toEqual([
      '2026-12-01T09:00:01Z',
      '2026-12-01T09:00:02Z',
      '2026-12-01T09:00:03Z',
      '2026-12-01T09:00:04Z',
      null,
    ]);
    // Another channel is not behind this one.
    expect(await pacing.slotFor('C0OTHER')).toBeNull();
  });

  it('posts at once when the channel is busier than maxWait, or its schedule cannot be read', async () => {
    const names = await freshSchedule().then(() => `${TABLES.stateTable}-${table}`);
    const pacing = new ChannelPacing(
      (channel) => new DynamoDbAdmissionSchedule(client, names, `slack-channel#${channel}`),
      2,
      () => new Date(T0),
    );
    const slots = [];
    for (let i = 0; i < 4; i++) slots.push(await pacing.slotFor('C0APPROVALS'));
    expect(slots).toEqual([null, '2026-12-01T09:00:01Z', '2026-12-01T09:00:02Z', null]);
    const broken = new ChannelPacing(
      () => new DynamoDbAdmissionSchedule(client, 'no-such-table', 'slack-channel#C0APPROVALS'),
      900,
      () => new Date(T0),
    );
    expect(await broken.slotFor('C0APPROVALS')).toBeNull();
  });
});
