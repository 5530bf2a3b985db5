import { WebClient } from '@slack/web-api';
import { SLACK_CLIENTS } from '../../../functions/shared/clients';
import { createManualClock } from '../../../local/identity-center';
import {
  type RunningSlackApi,
  SlackApiStandIn,
  type SlackApiStandInOptions,
  type SlackUserGroupSeed,
  type StandInEvent,
  startSlackApiStandIn,
} from '../../../local/slack-api';

// The stand-in's user groups, as Slack's reference describes usergroups.list and
// usergroups.users.list (docs.slack.dev/reference/methods/…): seeded, changed by an admin (a rota
// change, a group disabled), Tier 2 rate limits.

const TOKEN = 'xoxb-sandbox';
const clock = createManualClock(Date.UTC(2026, 0, 1, 9));
const userGroups: SlackUserGroupSeed[] = [
  { id: 'S0ONCALL', handle: 'oncall-sre', name: 'SRE on call', members: ['U0ALICE', 'U0BOB'] },
  { id: 'S0DBA', handle: 'dba', name: 'Databases', members: ['U0CAROL'] },
  { id: 'S0OLD', handle: 'old-rota', name: 'Old rota', members: ['U0DAVE'], disabled: true },
];

function standIn(options: SlackApiStandInOptions = {}): SlackApiStandIn {
  return new SlackApiStandIn({ tokens: [TOKEN], now: clock.now, userGroups, ...options });
}
const send = (s: SlackApiStandIn, method: string, args: Record<string, unknown> = {}) =>
  s.request(method, args, TOKEN);

describe('usergroups.list', () => {
  it('answers the enabled groups in Slack’s shape, without users or counts unless asked', () => {
    const reply = send(standIn(), 'usergroups.list');
    expect(reply.status).toBe(200);
    expect(reply.body).toEqual({
      ok: true,
      usergroups: [
        expect.objectContaining({
          id: 'S0ONCALL',
          handle: 'oncall-sre',
          name: 'SRE on call',
          date_delete: 0,
        }),
        expect.objectContaining({ id: 'S0DBA', handle: 'dba', date_delete: 0 }),
      ],
    });
    const [first] = reply.body.usergroups as Record<string, unknown>[];
    expect(first).toMatchObject({
      team_id: 'T0SANDBOX',
      is_usergroup: true,
      is_external: false,
      date_create: Math.floor(clock.now() / 1000),
      prefs: { channels: [], groups: [] },
    });
    expect(first).not.toHaveProperty('users');
    expect(first).not.toHaveProperty('user_count');
  });

  it('adds users with include_users, user_count with include_count, disabled groups with include_disabled', () => {
    // As WebClient's form bodies carry booleans.
    const reply = send(standIn(), 'usergroups.list', {
      include_users: 'true',
      include_count: 'true',
      include_disabled: 'true',
    });
    expect(reply.body.usergroups).toEqual([
      expect.objectContaining({ id: 'S0ONCALL', users: ['U0ALICE', 'U0BOB'], user_count: '2' }),
      expect.objectContaining({ id: 'S0DBA', users: ['U0CAROL'], user_count: '1' }),
      expect.objectContaining({ id: 'S0OLD', users: ['U0DAVE'], date_delete: expect.any(Number) }),
    ]);
    const old = (reply.body.usergroups as { id: string; date_delete: number }[]).find(
      (g) => g.id === 'S0OLD',
    );
    expect(old?.date_delete).toBeGreaterThan(0);
    expect(send(standIn(), 'usergroups.list', { include_users: 'false' }).body.usergroups).toEqual([
      expect.not.objectContaining({ users: expect.anything() }),
      expect.not.objectContaining({ users: expect.anything() }),
    ]);
  });
});

describe('usergroups.users.list', () => {
  it('answers the member ids; no_such_subteam for an unknown group, invalid_arguments without one', () => {
    const s = standIn();
    expect(send(s, 'usergroups.users.list', { usergroup: 'S0ONCALL' }).body).toEqual({
      ok: true,
      users: ['U0ALICE', 'U0BOB'],
    });
    expect(send(s, 'usergroups.users.list', { usergroup: 'S0NOPE' }).body).toEqual({
      ok: false,
      error: 'no_such_subteam',
    });
    expect(send(s, 'usergroups.users.list', {}).body).toEqual({ ok: false, error: 'invalid_arguments' });
  });

  it('answers no_such_subteam for a disabled group unless include_disabled', () => {
    const s = standIn();
    expect(send(s, 'usergroups.users.list', { usergroup: 'S0OLD' }).body).toEqual({
      ok: false,
      error: 'no_such_subteam',
    });
    expect(send(s, 'usergroups.users.list', { usergroup: 'S0OLD', include_disabled: 'true' }).body).toEqual({
      ok: true,
      users: ['U0DAVE'],
    });
  });
});

describe('admin changes', () => {
  it('a rota change replaces the members, by id or handle, and is announced', () => {
    const s = standIn();
    const events: StandInEvent[] = [];
    s.subscribe((e) => events.push(e));
    clock.advance(60_000);
    expect(s.setUserGroupMembers('oncall-sre', ['U0CAROL', 'U0CAROL'])).toBe(true);
    expect(send(s, 'usergroups.users.list', { usergroup: 'S0ONCALL' }).body.users).toEqual(['U0CAROL']);
    expect(s.setUserGroupMembers('S0DBA', [])).toBe(true);
    expect(send(s, 'usergroups.users.list', { usergroup: 'S0DBA' }).body.users).toEqual([]);
    expect(s.setUserGroupMembers('nobody', ['U0ALICE'])).toBe(false);
    const oncall = (send(s, 'usergroups.list').body.usergroups as Record<string, number>[])[0];
    expect(oncall?.date_update).toBe(Math.floor(clock.now() / 1000));
    expect(events.filter((e) => e.type === 'userGroup')).toEqual([
      {
        type: 'userGroup',
        change: 'members',
        group: {
          id: 'S0ONCALL',
          handle: 'oncall-sre',
          name: 'SRE on call',
          members: ['U0CAROL'],
          disabled: false,
        },
      },
      { type: 'userGroup', change: 'members', group: expect.objectContaining({ id: 'S0DBA', members: [] }) },
    ]);
  });

  it('disabling hides a group from usergroups.list and usergroups.users.list; enabling brings it back', () => {
    const s = standIn();
    expect(s.disableUserGroup('S0DBA')).toBe(true);
    expect((send(s, 'usergroups.list').body.usergroups as { id: string }[]).map((g) => g.id)).toEqual([
      'S0ONCALL',
    ]);
    expect(send(s, 'usergroups.users.list', { usergroup: 'S0DBA' }).body.error).toBe('no_such_subteam');
    expect(s.userGroups().find((g) => g.id === 'S0DBA')).toMatchObject({ disabled: true });
    expect(s.enableUserGroup('dba')).toBe(true);
    expect(send(s, 'usergroups.users.list', { usergroup: 'S0DBA' }).body.users).toEqual(['U0CAROL']);
    expect(s.disableUserGroup('S0NOPE')).toBe(false);
  });

  it('reset restores the groups as seeded', () => {
    const s = standIn();
    s.setUserGroupMembers('S0ONCALL', []);
    s.disableUserGroup('S0DBA');
    s.enableUserGroup('S0OLD');
    s.reset();
    expect(s.userGroups()).toEqual([
      {
        id: 'S0ONCALL',
        handle: 'oncall-sre',
        name: 'SRE on call',
        members: ['U0ALICE', 'U0BOB'],
        disabled: false,
      },
      { id: 'S0DBA', handle: 'dba', name: 'Databases', members: ['U0CAROL'], disabled: false },
      { id: 'S0OLD', handle: 'old-rota', name: 'Old rota', members: ['U0DAVE'], disabled: true },
    ]);
  });

  it('refuses seeds with a repeated id or two enabled groups with one handle', () => {
    const group = { id: 'S0A', handle: 'a', name: 'A', members: [] };
    expect(() => standIn({ userGroups: [group, { ...group, handle: 'b' }] })).toThrow('seeded twice');
    expect(() => standIn({ userGroups: [group, { ...group, id: 'S0B' }] })).toThrow('handle a');
    expect(() => standIn({ userGroups: [group, { ...group, id: 'S0B', disabled: true }] })).not.toThrow();
  });
});

describe('rate limits', () => {
  it('are Tier 2 for both methods: 20 a minute each, then 429 with Retry-After', () => {
    const s = standIn({ rateLimits: true });
    const lists = Array.from({ length: 21 }, () => send(s, 'usergroups.list').status);
    expect(lists).toEqual([...Array(20).fill(200), 429]);
    // Each method has its own bucket.
    const users = Array.from({ length: 21 }, () => send(s, 'usergroups.users.list', { usergroup: 'S0DBA' }));
    expect(users.map((r) => r.status)).toEqual([...Array(20).fill(200), 429]);
    // One token every 3 s.
    expect(users[20]?.headers['retry-after']).toBe('3');
    clock.advance(3000);
    expect(send(s, 'usergroups.list').status).toBe(200);
    expect(send(s, 'usergroups.list').status).toBe(429);
  });
});

describe('over HTTP', () => {
  let running: RunningSlackApi;
  afterEach(() => running?.close());

  it('serves usergroups.list and usergroups.users.list to WebClient, and the admin endpoints', async () => {
    running = await startSlackApiStandIn({ tokens: [TOKEN], now: clock.now, userGroups });
    const slack = new WebClient(TOKEN, { slackApiUrl: `${running.url}/api/`, ...SLACK_CLIENTS.app.options });
    const admin = (path: string, body?: unknown) =>
      fetch(`${running.url}/_standin/${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: body === undefined ? '' : JSON.stringify(body),
      });

    const listed = await slack.usergroups.list({ include_users: true });
    expect(listed.usergroups?.map((g) => [g.handle, g.users])).toEqual([
      ['oncall-sre', ['U0ALICE', 'U0BOB']],
      ['dba', ['U0CAROL']],
    ]);
    await expect(slack.usergroups.users.list({ usergroup: 'S0NOPE' })).rejects.toMatchObject({
      data: { ok: false, error: 'no_such_subteam' },
    });

    expect((await admin('usergroups/oncall-sre/members', { users: ['U0DAVE'] })).status).toBe(200);
    expect((await slack.usergroups.users.list({ usergroup: 'S0ONCALL' })).users).toEqual(['U0DAVE']);
    expect((await admin('usergroups/S0ONCALL/members', { users: 'U0DAVE' })).status).toBe(400);
    expect((await admin('usergroups/S0ONCALL/members', {})).status).toBe(400);
    const missing = await admin('usergroups/S0NOPE/members', { users: [] });
    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual({ ok: false, error: 'no_such_subteam' });

    expect((await admin('usergroups/S0ONCALL/disable')).status).toBe(200);
    await expect(slack.usergroups.users.list({ usergroup: 'S0ONCALL' })).rejects.toMatchObject({
      data: { error: 'no_such_subteam' },
    });
    expect((await admin('usergroups/S0ONCALL/enable')).status).toBe(200);
    expect((await admin('usergroups/S0NOPE/disable')).status).toBe(404);
    expect((await admin('usergroups/S0ONCALL/explode')).status).toBe(404);

    const groups = (await (await fetch(`${running.url}/_standin/usergroups`)).json()) as {
      usergroups: unknown[];
    };
    expect(groups.usergroups).toEqual([
      { id: 'S0ONCALL', handle: 'oncall-sre', name: 'SRE on call', members: ['U0DAVE'], disabled: false },
      expect.objectContaining({ id: 'S0DBA' }),
      expect.objectContaining({ id: 'S0OLD', disabled: true }),
    ]);
  });
});
