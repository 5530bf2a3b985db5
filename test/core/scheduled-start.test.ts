import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Admission, type AdmissionSchedule } from '../../functions/core/admission';
import { RequestDecisions } from '../../functions/core/decisions';
import { NOT_YET_STARTED_ERROR, PolicyError } from '../../functions/core/errors';
import type { ExecutionInput } from '../../functions/core/model';
import { parsePolicy } from '../../functions/core/policy-file';
import { checkRequestForm, startDaysAheadFor } from '../../functions/core/request-form';
import { LifecycleSteps } from '../../functions/core/steps';
import {
  FakeDirectory,
  FakeMemberships,
  FakeWorkflow,
  ManualClock,
  MemoryStore,
  memoryAudit,
  RecordingNotifier,
} from '../reliability/fakes';

// Scheduled start (core/scheduled-start.ts): what the policy allows, what the form and Validate
// refuse, that Grant creates nothing before the start, and that a request waiting for its
// start can be withdrawn while nothing is granted.

const policyText = readFileSync(path.join(__dirname, '../fixtures/email-groups-policy.yaml'), 'utf8');
const policy = parsePolicy(policyText);
const ALICE = { email: 'alice@example.com', slackUserId: 'U0ALICE' };
const READ_ONLY = 'arn:aws:sso:::permissionSet/ssoins-7223a1b2c3d4e5f6/ps-1a2b3c4d5e6f7a8b';
const ADMIN_NAME = 'Admin';
const STAGING = '222222222222';
const PRODUCTION = '111111111111';
const HOUR = 3_600_000;
const NOW = Date.UTC(2026, 10, 25, 9, 0, 0);

const input = (
  startAt: string | undefined,
  over: Partial<ExecutionInput['request']> = {},
  requestId = 'req-scheduled-1',
): ExecutionInput => ({
  version: 1,
  request: {
    requestId,
    requester: ALICE,
    accountId: STAGING, // staging-self-service: auto-approved, `scheduledStart: true` (7 days)
    permissionSetArn: READ_ONLY,
    durationMinutes: 60,
    reason: 'Release day',
    requestedAt: new Date(NOW).toISOString(),
    ...(startAt ? { startAt } : {}),
    ...over,
  },
});

function world() {
  const clock = new ManualClock(NOW);
  const store = new MemoryStore(clock);
  const directory = new FakeDirectory();
  const workflow = new FakeWorkflow();
  const notifier = new RecordingNotifier();
  const { log, trail } = memoryAudit(clock);
  const users = { findUserIdByEmail: async (email: string) => `user-${email.split('@')[0]}` };
  const steps = new LifecycleSteps({
    policy,
    store,
    audit: trail,
    assignments: directory,
    users,
    notifier,
    clock,
  });
  const decisions = new RequestDecisions({ policy, store, audit: trail, workflow, notifier, clock });
  const actions = (id = 'req-scheduled-1') =>
    log.events.filter((e) => e.requestId === id).map((e) => e.action);
  return { clock, store, directory, steps, decisions, actions };
}

const grantInput = (requestId = 'req-scheduled-1') => ({
  version: 1,
  requestId,
  accountId: STAGING,
  permissionSetArn: READ_ONLY,
  principalId: 'user-alice',
});

describe('the policy', () => {
  it('reads `scheduledStart: true` as 7 days ahead and an object as its own limit', () => {
    const rule = (name: string) => policy.rules.find((r) => r.name === name);
    expect(rule('staging-self-service')?.scheduledStart).toEqual({ maxDaysAhead: 7 });
    expect(rule('production-engineers')?.scheduledStart).toEqual({ maxDaysAhead: 2 });
    expect(rule('production-admin')?.scheduledStart).toBeUndefined();
    expect(startDaysAheadFor(policy, ALICE.email)).toBe(7);
  });

  it('refuses a break-glass rule with a later start, and a start further than 30 days', () => {
    const breakGlass = policyText.replace(
      'scheduledStart: true',
      'scheduledStart: true\n    breakGlass: { reviewers: [group:sre], alertChannel: C0SECURITY }',
    );
    expect(() => parsePolicy(breakGlass)).toThrow(PolicyError);
    expect(() => parsePolicy(breakGlass)).toThrow(/break-glass rule grants at once/);
    expect(() => parsePolicy(policyText.replace('maxDaysAhead: 2', 'maxDaysAhead: 31'))).toThrow(
      /maxDaysAhead/,
    );
  });
});

describe('the request form', () => {
  const form = (startAtSeconds: number | undefined, over: Record<string, unknown> = {}) =>
    checkRequestForm(
      policy,
      ALICE.email,
      {
        accountId: STAGING,
        permissionSet: 'ReadOnly',
        durationMinutes: '60',
        reason: 'Release day',
        startAtSeconds,
        ...over,
      },
      new Date(NOW),
    );

  it('takes a start ahead within the rule and carries it into the request', () => {
    const result = form((NOW + 24 * HOUR) / 1000);
    expect(result).toMatchObject({ ok: true, value: { startAt: new Date(NOW + 24 * HOUR).toISOString() } });
    expect(form(undefined)).toMatchObject({ ok: true, value: { verdict: { allowed: true } } });
    expect(form(undefined).ok && 'startAt' in (form(undefined) as { value: object }).value).toBe(false);
  });

  it('names the start field for a start in the past, too close, too far, or under a rule that does not allow one', () => {
    expect(form((NOW - HOUR) / 1000)).toMatchObject({
      ok: false,
      errors: { start: expect.stringMatching(/at least a minute/) },
    });
    expect(form((NOW + 30_000) / 1000)).toMatchObject({
      ok: false,
      errors: { start: expect.stringMatching(/at least a minute/) },
    });
    expect(form((NOW + 8 * 24 * HOUR) / 1000)).toMatchObject({
      ok: false,
      errors: { start: 'A start can be at most 7 days ahead under rule staging-self-service.' },
    });
    // production-engineers allows two days.
    expect(form((NOW + 3 * 24 * HOUR) / 1000, { accountId: PRODUCTION })).toMatchObject({
      ok: false,
      errors: { start: expect.stringMatching(/at most 2 days ahead under rule production-engineers/) },
    });
    // alice may not ask for Admin on production at all; carol (sre) may, under a rule with no later start.
    const bob = checkRequestForm(
      policy,
      'carol@example.com',
      {
        accountId: PRODUCTION,
        permissionSet: ADMIN_NAME,
        durationMinutes: '60',
        reason: 'r',
        startAtSeconds: (NOW + HOUR) / 1000,
      },
      new Date(NOW),
    );
    expect(bob).toMatchObject({
      ok: false,
      errors: { start: expect.stringMatching(/does not allow a later start/) },
    });
  });
});

describe('a group request', () => {
  const groupPolicy = parsePolicy(
    readFileSync(path.join(__dirname, '../fixtures/group-access-policy.yaml'), 'utf8').replace(
      'accessGroups: [Prod-Operators]\n    maxDuration: 2h\n    approval: none',
      'accessGroups: [Prod-Operators]\n    maxDuration: 2h\n    approval: none\n    scheduledStart: true',
    ),
  );
  const groupForm = (group: string, startAtSeconds: number) =>
    checkRequestForm(
      groupPolicy,
      ALICE.email,
      { accountId: `group:${group}`, durationMinutes: '60', reason: 'On call tonight', startAtSeconds },
      new Date(NOW),
    );

  it('may start later under a group rule that allows it, and not under one that does not', () => {
    expect(groupPolicy.rules.find((r) => r.name === 'operators')?.scheduledStart).toEqual({
      maxDaysAhead: 7,
    });
    const operators = groupPolicy.accessGroups?.find((g) => g.name === 'Prod-Operators')?.id ?? '';
    const billing = groupPolicy.accessGroups?.find((g) => g.name === 'Billing-Viewers')?.id ?? '';
    expect(groupForm(operators, (NOW + 5 * HOUR) / 1000)).toMatchObject({
      ok: true,
      value: { groupId: operators, startAt: new Date(NOW + 5 * HOUR).toISOString() },
    });
    expect(groupForm(billing, (NOW + 5 * HOUR) / 1000)).toMatchObject({
      ok: false,
      errors: { start: expect.stringMatching(/Rule billing does not allow a later start/) },
    });
    expect(startDaysAheadFor(groupPolicy, ALICE.email)).toBe(7);
  });
});

describe('a group request cancelled while Grant holds it', () => {
  it('adds nobody to the group and lets go of its fence', async () => {
    const policyText = readFileSync(path.join(__dirname, '../fixtures/group-access-policy.yaml'), 'utf8');
    const groupPolicy = parsePolicy(
      policyText.replace(
        'accessGroups: [Prod-Operators]\n    maxDuration: 2h\n    approval: none',
        'accessGroups: [Prod-Operators]\n    maxDuration: 2h\n    approval: none\n    scheduledStart: true',
      ),
    );
    const operators = groupPolicy.accessGroups?.find((g) => g.name === 'Prod-Operators')?.id ?? '';
    const clock = new ManualClock(NOW);
    const store = new MemoryStore(clock);
    const memberships = new FakeMemberships();
    const { trail } = memoryAudit(clock);
    const deps = { policy: groupPolicy, store, audit: trail, notifier: new RecordingNotifier(), clock };
    const steps = new LifecycleSteps({
      ...deps,
      assignments: new FakeDirectory(),
      users: { findUserIdByEmail: async () => 'user-alice' },
      memberships,
    });
    const decisions = new RequestDecisions({ ...deps, workflow: new FakeWorkflow() });
    const request = input(new Date(NOW + HOUR).toISOString(), {
      accountId: null,
      permissionSetArn: null,
      groupId: operators,
    }).request;
    expect(await steps.validate({ version: 1, request })).toMatchObject({ valid: true });
    clock.advance(HOUR);
    const put = store.putMembershipHolders.bind(store);
    let cancelled = false;
    store.putMembershipHolders = async (record, revision) => {
      const done = await put(record, revision);
      if (!cancelled) {
        cancelled = true;
        expect((await decisions.cancel(request.requestId, ALICE)).kind).toBe('cancelled');
      }
      return done;
    };

    await expect(
      steps.grant({
        version: 1,
        requestId: request.requestId,
        accountId: null,
        permissionSetArn: null,
        principalId: 'user-alice',
      }),
    ).rejects.toMatchObject({ name: 'Cancelled' });
    expect(memberships.calls).not.toContain('CreateGroupMembership');
    const holders = [...store.memberships.values()][0];
    expect(holders).toMatchObject({ holders: [] });
    expect(holders?.addingBy).toBeUndefined();
  });
});

describe('Validate', () => {
  it('stores a start within the rule and hands it to the state machine in whole seconds', async () => {
    const w = world();
    const startAt = new Date(NOW + 24 * HOUR + 500).toISOString();
    const result = await w.steps.validate(input(startAt));
    expect(result).toMatchObject({ valid: true, approvalRequired: false, startAt: '2026-11-26T09:00:01Z' });
    expect((await w.store.getRequest('req-scheduled-1'))?.request.startAt).toBe(startAt);
    // A request without one hands null (the ResultSelector reads a fixed path).
    expect(await world().steps.validate(input(undefined))).toMatchObject({ valid: true, startAt: null });
  });

  it('rejects a start the deciding rule does not allow, counted from when it was asked', async () => {
    const w = world();
    const tooFar = await w.steps.validate(input(new Date(NOW + 8 * 24 * HOUR).toISOString()));
    expect(tooFar).toEqual({
      valid: false,
      reason: 'A start can be at most 7 days ahead under rule staging-self-service.',
    });
    expect((await w.store.getRequest('req-scheduled-1'))?.status).toBe('REJECTED');
    // Validated late (a day after it was asked): the start is still counted from requestedAt.
    const late = world();
    late.clock.advance(24 * HOUR);
    expect(await late.steps.validate(input(new Date(NOW + 6.5 * 24 * HOUR).toISOString()))).toMatchObject({
      valid: true,
    });
  });
});

describe('Grant and cancel before the start', () => {
  it('creates nothing before the start and grants once it has come', async () => {
    const w = world();
    await w.steps.validate(input(new Date(NOW + 2 * HOUR).toISOString()));
    await expect(w.steps.grant(grantInput())).rejects.toMatchObject({ name: NOT_YET_STARTED_ERROR });
    expect(w.directory.count('create')).toBe(0);
    w.clock.advance(2 * HOUR);
    const granted = await w.steps.grant(grantInput());
    expect(granted.status).not.toBe('FAILED');
    expect(w.directory.count('create')).toBe(1);
  });

  it('lets the requester withdraw an approved request waiting for its start; Grant then finds it cancelled', async () => {
    const w = world();
    await w.steps.validate(input(new Date(NOW + 2 * HOUR).toISOString()));
    expect((await w.store.getRequest('req-scheduled-1'))?.status).toBe('APPROVED');
    const outcome = await w.decisions.cancel('req-scheduled-1', ALICE);
    expect(outcome.kind).toBe('cancelled');
    expect(await w.store.getRequest('req-scheduled-1')).toMatchObject({
      status: 'CANCELLED',
      cancellation: { by: ALICE.email },
    });
    w.clock.advance(2 * HOUR);
    await expect(w.steps.grant(grantInput())).rejects.toMatchObject({ name: 'Cancelled' });
    expect(w.directory.count('create')).toBe(0);
    expect(w.actions()).toEqual(['request.submitted', 'approval.auto', 'request.cancelled']);
  });

  it('an End asked for while it waits for its start ends nothing (Cancel does); once granting, it is kept', async () => {
    const w = world();
    await w.steps.validate(input(new Date(NOW + 2 * HOUR).toISOString()));
    const waiting = await w.decisions.endAccess('req-scheduled-1', ALICE);
    expect(waiting).toMatchObject({ kind: 'not-active', record: { status: 'APPROVED' } });
    expect((await w.store.getRequest('req-scheduled-1'))?.endedBy).toBeUndefined();

    w.clock.advance(2 * HOUR);
    await w.steps.grant(grantInput());
    expect(await w.decisions.endAccess('req-scheduled-1', ALICE)).toMatchObject({
      kind: 'end-requested',
      record: { status: 'GRANTING', endedBy: ALICE.email },
    });
  });

  it('creates nothing when the Cancel lands between Grant reading the request and moving it to GRANTING', async () => {
    const w = world();
    await w.steps.validate(input(new Date(NOW + HOUR).toISOString()));
    w.clock.advance(HOUR);
    // The Cancel commits while Grant holds the fence (after its read, before its status write).
    const putHolders = w.store.putHolders.bind(w.store);
    let cancelled = false;
    w.store.putHolders = async (record, revision) => {
      const put = await putHolders(record, revision);
      if (!cancelled) {
        cancelled = true;
        expect((await w.decisions.cancel('req-scheduled-1', ALICE)).kind).toBe('cancelled');
      }
      return put;
    };

    await expect(w.steps.grant(grantInput())).rejects.toMatchObject({ name: 'Cancelled' });
    expect(w.directory.count('create')).toBe(0);
    const holders = await w.store.getHolders({
      accountId: STAGING,
      permissionSetArn: READ_ONLY,
      principalId: 'user-alice',
    });
    expect(holders).toMatchObject({ holders: [], state: 'ABSENT', creationsInFlight: [] });
    expect((await w.store.getRequest('req-scheduled-1'))?.status).toBe('CANCELLED');
  });

  it('lets go of an assignment it only joined when the Cancel lands while Grant holds it', async () => {
    const w = world();
    const key = { accountId: STAGING, permissionSetArn: READ_ONLY, principalId: 'user-alice' };
    w.directory.assign(key); // alice already holds it, outside the product
    await w.steps.validate(input(new Date(NOW + HOUR).toISOString()));
    w.clock.advance(HOUR);
    const putHolders = w.store.putHolders.bind(w.store);
    let cancelled = false;
    w.store.putHolders = async (record, revision) => {
      const put = await putHolders(record, revision);
      if (!cancelled) {
        cancelled = true;
        await w.decisions.cancel('req-scheduled-1', ALICE);
      }
      return put;
    };

    await expect(w.steps.grant(grantInput())).rejects.toMatchObject({ name: 'Cancelled' });
    expect(w.directory.has(key)).toBe(true);
    expect(await w.store.getHolders(key)).toMatchObject({ holders: [], state: 'PRESENT', preExisting: true });
    expect(w.actions()).not.toContain('grant.succeeded');
  });

  it('refuses to withdraw an approved request that starts at once, or one already granting', async () => {
    const w = world();
    await w.steps.validate(input(undefined));
    expect(await w.decisions.cancel('req-scheduled-1', ALICE)).toMatchObject({ kind: 'already-decided' });

    const later = world();
    await later.steps.validate(input(new Date(NOW + HOUR).toISOString()));
    later.clock.advance(HOUR);
    await later.steps.grant(grantInput());
    expect(await later.decisions.cancel('req-scheduled-1', ALICE)).toMatchObject({ kind: 'already-decided' });
    expect((await later.store.getRequest('req-scheduled-1'))?.status).not.toBe('CANCELLED');
  });
});

describe('admission of a scheduled grant', () => {
  it('reserves nothing while the start is ahead, and admits at the pace once it has come', async () => {
    const reserved: number[] = [];
    const schedule: AdmissionSchedule = {
      reserve: async (durationMs, nowMs) => {
        reserved.push(durationMs);
        return nowMs;
      },
      count: async () => 1,
      raise: async () => undefined,
      view: async () => ({ ends: [] }),
      forecastEnd: async () => undefined,
    };
    let now = NOW;
    const admission = new Admission(
      schedule,
      { callsPerSecond: 18, maxWaitSeconds: 900 },
      () => new Date(now),
    );
    const startAt = new Date(NOW + 3 * 24 * HOUR).toISOString();
    expect(await admission.admit('grant', 'held#pair', 3600, 0, startAt)).toEqual({
      at: '2026-11-28T09:00:00Z',
      waitSeconds: 3 * 24 * 3600,
      calls: 0,
      revokeCalls: 0,
      deferred: true,
    });
    expect(reserved).toEqual([]);
    now = NOW + 3 * 24 * HOUR;
    expect(await admission.admit('grant', 'held#pair', 3600, 0, startAt)).toMatchObject({
      deferred: false,
      calls: 3,
    });
    expect(reserved).toHaveLength(1);
  });
});
