import { SlackUserGroups, USERS_INFO_CONCURRENCY } from '../../functions/adapters/slack-user-groups';
import { SlackWebApiClient } from '../../functions/adapters/slack-web-api';
import { GroupNotFoundError } from '../../functions/core/directory';
import { RetryableError } from '../../functions/core/errors';
import { SLACK_CLIENTS } from '../../functions/shared/clients';
import { ConfigError, ENV } from '../../functions/shared/config';
import { slackUserGroups } from '../../functions/shared/slack';
import { createManualClock } from '../../local/identity-center';
import {
  type RunningSlackApi,
  type SlackApiStandInOptions,
  type SlackUserSeed,
  startSlackApiStandIn,
} from '../../local/slack-api';

// `slackUserGroup:` members through the workers' Slack client as deployed (SLACK_CLIENTS.worker)
// against the Slack stand-in: usergroups.list → usergroups.users.list → users.info per member.
// A rate limit or an outage comes back at once as RetryableError (never a Lambda asleep on
// Retry-After, never a partial group); a group that is not there (unknown, disabled) is
// GroupNotFoundError.

const TOKEN = 'xoxb-groups';
const clock = createManualClock(Date.UTC(2026, 11, 1, 9));
const users: SlackUserSeed[] = [
  { id: 'U0ALICE', name: 'alice', email: 'Alice@Example.COM' },
  { id: 'U0BOB', name: 'bob', email: 'bob@example.com' },
  { id: 'U0CAROL', name: 'carol' },
  { id: 'U0DAVE', name: 'dave', email: 'dave@example.com', deleted: true },
  { id: 'U0BOT', name: 'pagerbot', email: 'pagerbot@example.com', isBot: true },
  { id: 'U0ERIN', name: 'erin', email: 'erin@example.com' },
];
const userGroups = [
  // carol has no email, dave is deactivated, pagerbot is a bot, U0GHOST is unknown to users.info.
  {
    id: 'S0ONCALL',
    handle: 'oncall-sre',
    name: 'SRE on call',
    members: ['U0ALICE', 'U0BOB', 'U0CAROL', 'U0DAVE', 'U0BOT', 'U0GHOST'],
  },
  { id: 'S0DBA', handle: 'dba', name: 'Databases', members: ['U0ERIN'] },
  { id: 'S0OLD', handle: 'old-rota', name: 'Old rota', members: ['U0ERIN'], disabled: true },
];

let running: RunningSlackApi;
let client: SlackWebApiClient;
let groups: SlackUserGroups;

async function start(options: SlackApiStandInOptions = {}): Promise<void> {
  await running?.close();
  running = await startSlackApiStandIn({ tokens: [TOKEN], now: clock.now, users, userGroups, ...options });
  client = workerClient(TOKEN);
  groups = new SlackUserGroups(client);
}

function workerClient(token: string): SlackWebApiClient {
  return new SlackWebApiClient(token, SLACK_CLIENTS.worker.options, { slackApiUrl: `${running.url}/api/` });
}

const statuses = (method: string) => running.standIn.calls(method).map((c) => c.status);
const failure = (work: Promise<unknown>) =>
  work.then(
    () => undefined,
    (error: unknown) => error,
  );

beforeEach(() => start());
afterAll(() => running?.close());

describe('Slack user groups as a GroupSource', () => {
  it("resolves a group's members to lower-case emails, skipping those without one", async () => {
    await expect(groups.members('oncall-sre')).resolves.toEqual(['alice@example.com', 'bob@example.com']);
    const [list] = running.standIn.calls('usergroups.list');
    expect(list?.args).toMatchObject({ include_disabled: 'false' });
    expect(running.standIn.calls('usergroups.users.list').map((c) => c.args)).toEqual([
      expect.objectContaining({ usergroup: 'S0ONCALL' }),
    ]);
    expect(running.standIn.calls('users.info').map((c) => c.args.user)).toEqual(userGroups[0]?.members);
  });

  it('answers GroupNotFoundError for a handle no group has (a name or a prefix is not a handle)', async () => {
    for (const handle of ['nope', 'oncall', 'SRE on call', 'S0ONCALL']) {
      const error = await failure(groups.members(handle));
      expect(error).toBeInstanceOf(GroupNotFoundError);
      expect(error).toMatchObject({ selector: `slackUserGroup:${handle}` });
    }
    expect(running.standIn.calls('usergroups.users.list')).toEqual([]);
  });

  it('answers GroupNotFoundError for a disabled group, until it is enabled again', async () => {
    await expect(groups.members('old-rota')).rejects.toBeInstanceOf(GroupNotFoundError);
    await expect(groups.members('dba')).resolves.toEqual(['erin@example.com']);
    running.standIn.disableUserGroup('dba');
    await expect(groups.members('dba')).rejects.toBeInstanceOf(GroupNotFoundError);
    running.standIn.enableUserGroup('dba');
    await expect(groups.members('dba')).resolves.toEqual(['erin@example.com']);
  });

  it('does not take a disabled group Slack lists anyway (date_delete non-zero)', async () => {
    // As if usergroups.list listed disabled groups whatever it was asked.
    const list = client.usergroups.list.bind(client.usergroups);
    client.usergroups.list = (args) => list({ ...args, include_disabled: true });
    await expect(groups.members('old-rota')).rejects.toBeInstanceOf(GroupNotFoundError);
    expect(running.standIn.calls('usergroups.list')[0]?.response).toMatchObject({
      usergroups: expect.arrayContaining([expect.objectContaining({ handle: 'old-rota' })]),
    });
    expect(running.standIn.calls('usergroups.users.list')).toEqual([]);
  });

  it('answers GroupNotFoundError for a group disabled between the list and its members (no_such_subteam)', async () => {
    const stop = running.standIn.subscribe((event) => {
      if (event.type === 'call' && event.call.method === 'usergroups.list')
        running.standIn.disableUserGroup('dba');
    });
    await expect(groups.members('dba')).rejects.toEqual(new GroupNotFoundError('slackUserGroup:dba'));
    stop();
    expect(running.standIn.calls('usergroups.users.list').map((c) => c.response)).toEqual([
      { ok: false, error: 'no_such_subteam' },
    ]);
  });

  it('sees a rota change on the next call: nothing about the group is kept', async () => {
    await expect(groups.members('dba')).resolves.toEqual(['erin@example.com']);
    running.standIn.setUserGroupMembers('dba', ['U0BOB', 'U0ALICE']);
    await expect(groups.members('dba')).resolves.toEqual(['bob@example.com', 'alice@example.com']);
    running.standIn.setUserGroupMembers('S0DBA', []);
    await expect(groups.members('dba')).resolves.toEqual([]);
    expect(running.standIn.calls('usergroups.users.list')).toHaveLength(3);
  });

  it.each(['usergroups.list', 'usergroups.users.list', 'users.info'])(
    'answers a rate limit on %s at once with RetryableError instead of sleeping out Retry-After',
    async (method) => {
      running.standIn.setFaults({ failNext: [{ method, fault: 'ratelimited', retryAfterSeconds: 30 }] });
      const started = performance.now();
      const error = await failure(groups.members('dba'));
      expect(error).toBeInstanceOf(RetryableError);
      expect((error as Error).message).toContain('Slack');
      expect(performance.now() - started).toBeLessThan(2_000);
      // Not retried inside the call; asked again later (the step's retry), it goes through.
      expect(statuses(method)).toEqual([429]);
      await expect(groups.members('dba')).resolves.toEqual(['erin@example.com']);
    },
  );

  it("meets Slack's Tier 2 limit as RetryableError, and resolves again once the minute refills", async () => {
    await start({ rateLimits: true });
    // 20 usergroups.list and 20 usergroups.users.list a minute.
    for (let i = 0; i < 20; i++) await groups.members('dba');
    await expect(groups.members('dba')).rejects.toBeInstanceOf(RetryableError);
    expect(running.standIn.counters()).toMatchObject({ rateLimited: 1, rateLimitedByTier: 1 });
    clock.advance(3_000);
    await expect(groups.members('dba')).resolves.toEqual(['erin@example.com']);
  });

  it('never answers part of a group: a member whose lookup fails fails the group', async () => {
    running.standIn.setFaults({ failNext: [{ method: 'users.info', fault: 'ratelimited' }] });
    await expect(groups.members('oncall-sre')).rejects.toBeInstanceOf(RetryableError);
  });

  it("turns a Slack outage into RetryableError after the client's one retry; one 500 is retried away", async () => {
    running.standIn.setFaults({ failNext: [{ method: 'usergroups.list', fault: 'internal_error' }] });
    await expect(groups.members('dba')).resolves.toEqual(['erin@example.com']);
    expect(statuses('usergroups.list')).toEqual([500, 200]);
    running.standIn.setFaults({
      failNext: [
        { method: 'usergroups.users.list', fault: 'internal_error' },
        { method: 'usergroups.users.list', fault: 'internal_error' },
      ],
    });
    await expect(groups.members('dba')).rejects.toBeInstanceOf(RetryableError);
    expect(statuses('usergroups.users.list')).toEqual([200, 500, 500]);
  });

  it('passes what retrying cannot fix unchanged: fatal_error, a token Slack refuses', async () => {
    running.standIn.setFaults({ failNext: [{ method: 'usergroups.users.list', fault: 'fatal_error' }] });
    const fatal = await failure(groups.members('dba'));
    expect(fatal).not.toBeInstanceOf(RetryableError);
    expect(fatal).not.toBeInstanceOf(GroupNotFoundError);
    expect(fatal).toMatchObject({ data: { error: 'fatal_error' } });

    const refused = await failure(new SlackUserGroups(workerClient('xoxb-revoked')).members('dba'));
    expect(refused).not.toBeInstanceOf(RetryableError);
    expect(refused).not.toBeInstanceOf(GroupNotFoundError);
    expect(refused).toMatchObject({ data: { error: 'invalid_auth' } });
  });
});

describe('users.info concurrency', () => {
  const crowd: SlackUserSeed[] = Array.from({ length: 20 }, (_, i) => ({
    id: `U0P${i}`,
    name: `p${i}`,
    email: `P${i}@example.com`,
  }));

  async function measure(concurrency?: number): Promise<{ max: number; emails: string[] }> {
    await start({
      users: crowd,
      userGroups: [{ id: 'S0ALL', handle: 'everyone', name: 'Everyone', members: crowd.map((u) => u.id) }],
      // Real time before each answer, so lookups overlap.
      latencyMs: 5,
    });
    let inFlight = 0;
    let max = 0;
    const info = client.users.info.bind(client.users);
    client.users.info = async (args) => {
      inFlight += 1;
      max = Math.max(max, inFlight);
      try {
        return await info(args);
      } finally {
        inFlight -= 1;
      }
    };
    const source = new SlackUserGroups(client, concurrency === undefined ? {} : { concurrency });
    const emails = await source.members('everyone');
    return { max, emails };
  }

  it('looks members up a bounded number at a time, in the order Slack lists them', async () => {
    const bounded = await measure(3);
    expect(bounded.max).toBe(3);
    expect(bounded.emails).toEqual(crowd.map((u) => u.email?.toLowerCase()));
    const byDefault = await measure();
    expect(byDefault.max).toBe(USERS_INFO_CONCURRENCY);
  });

  it('stops looking members up after the first failure', async () => {
    await start({
      users: crowd,
      userGroups: [{ id: 'S0ALL', handle: 'everyone', name: 'All', members: crowd.map((u) => u.id) }],
    });
    running.standIn.setFaults({ failNext: [{ method: 'users.info', fault: 'ratelimited' }] });
    // Two at a time; the second lookup is sent once the first (refused) has come back, so its
    // answer arrives after the failure is known.
    const info = client.users.info.bind(client.users);
    let first: Promise<unknown> | undefined;
    client.users.info = async (args) => {
      if (!first) {
        first = info(args);
        return (await first) as Awaited<ReturnType<typeof info>>;
      }
      await first.catch(() => undefined);
      return info(args);
    };
    await expect(new SlackUserGroups(client, { concurrency: 2 }).members('everyone')).rejects.toBeInstanceOf(
      RetryableError,
    );
    // The other worker finished the lookup it had started and took no more.
    expect(statuses('users.info')).toEqual([429, 200]);
  });
});

describe('slackUserGroups (functions/shared/slack.ts)', () => {
  const keys = [ENV.slackApiUrl, ENV.slackBotToken, ENV.slackSigningSecret, ENV.slackSecretArn];
  const saved = Object.fromEntries(keys.map((k) => [k, process.env[k]]));
  afterEach(() => {
    for (const k of keys) {
      if (saved[k] === undefined) delete process.env[k];
      else process.env[k] = saved[k];
    }
  });

  it('builds the production client from the environment on the first lookup, with the workers’ settings', async () => {
    for (const k of keys) delete process.env[k];
    const source = slackUserGroups();
    // Nothing read yet: a function that never resolves a group never needs the secret.
    await expect(source.members('dba')).rejects.toBeInstanceOf(ConfigError);
    process.env[ENV.slackApiUrl] = `${running.url}/api/`;
    process.env[ENV.slackBotToken] = TOKEN;
    process.env[ENV.slackSigningSecret] = 'signing';
    await expect(source.members('dba')).resolves.toEqual(['erin@example.com']);
    // rejectRateLimitedCalls (SLACK_CLIENTS.worker): a 30 s Retry-After is not slept out.
    running.standIn.setFaults({
      failNext: [{ method: 'usergroups.list', fault: 'ratelimited', retryAfterSeconds: 30 }],
    });
    const started = performance.now();
    await expect(source.members('dba')).rejects.toBeInstanceOf(RetryableError);
    expect(performance.now() - started).toBeLessThan(2_000);
  });

  it('uses the client it is given', async () => {
    const given = jest.fn(async () => client);
    const source = slackUserGroups(given);
    expect(given).not.toHaveBeenCalled();
    await expect(source.members('oncall-sre')).resolves.toEqual(['alice@example.com', 'bob@example.com']);
    await source.members('dba');
    expect(given).toHaveBeenCalledTimes(1);
  });
});
