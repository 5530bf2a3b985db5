import { readFileSync } from 'node:fs';
import path from 'node:path';
import { main } from '../../functions/cli/policy';
import { readDirectoryFile } from '../../functions/core/directory-file';
import { type RunningIdentityCenter, startIdentityCenterStandIn } from '../../local/identity-center';
import { type RunningSlackApi, startSlackApiStandIn } from '../../local/slack-api';

// `npm run policy -- … --live`: the same review, asked of the directory services themselves
// (Organizations, identitystore, sso-admin, Slack) through the real SDK clients and the endpoints
// the environment names, here the stand-ins seeded with the sandbox file.

const SANDBOX_POLICY = path.join(__dirname, '../../config/sandbox-policy.yaml');
const SANDBOX_FILE = path.join(__dirname, '../../config/sandbox.yaml');
const file = readDirectoryFile(readFileSync(SANDBOX_FILE, 'utf8'), SANDBOX_FILE);

let identityCenter: RunningIdentityCenter;
let slack: RunningSlackApi;
const ENV_KEYS = [
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_REGION',
  'AWS_ENDPOINT_URL_ORGANIZATIONS',
  'AWS_ENDPOINT_URL_IDENTITYSTORE',
  'AWS_ENDPOINT_URL_SSO_ADMIN',
  'SLACK_BOT_TOKEN',
  'SLACK_API_URL',
] as const;
const saved = Object.fromEntries(ENV_KEYS.map((key) => [key, process.env[key]]));

beforeAll(async () => {
  identityCenter = await startIdentityCenterStandIn({
    sandbox: file,
    requestsPerSecond: Number.POSITIVE_INFINITY,
  });
  slack = await startSlackApiStandIn({
    tokens: ['xoxb-live-test'],
    users: file.personas.map((p) => ({
      id: p.slackUserId,
      name: p.email.split('@')[0] ?? p.email,
      email: p.email,
    })),
    userGroups: file.slack.userGroups,
  });
  Object.assign(process.env, {
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    AWS_REGION: 'us-east-1',
    AWS_ENDPOINT_URL_ORGANIZATIONS: identityCenter.url,
    AWS_ENDPOINT_URL_IDENTITYSTORE: identityCenter.url,
    AWS_ENDPOINT_URL_SSO_ADMIN: identityCenter.url,
    SLACK_BOT_TOKEN: 'xoxb-live-test',
    SLACK_API_URL: `${slack.url}/api/`,
  });
});
afterAll(async () => {
  for (const key of ENV_KEYS) {
    const value = saved[key];
    if (value === undefined) delete process.env[key];
    else process.env[key] = value;
  }
  await slack?.close();
  await identityCenter?.close();
});

async function run(...args: string[]): Promise<{ code: number; out: string[] }> {
  const out: string[] = [];
  const code = await main(args, (line) => out.push(line));
  return { code, out };
}

describe('npm run policy -- --live', () => {
  it('explains a request with the groups, the OU and the on-call rota as the services answer now', async () => {
    const args = ['explain', SANDBOX_POLICY, '--live'];
    const alice = [
      '--requester',
      'alice@example.com',
      '--account',
      'production',
      '--permission-set',
      'ReadOnly',
    ];
    const now = await run(...args, ...alice);
    expect(now.out).toContain('  decided by rule production-oncall');
    expect(now.out).toContain('  approval: 1 of carol@example.com, dave@example.com');
    // staging comes from its OU through Organizations.
    const staging = await run(
      ...args,
      ...['--requester', 'erin@example.com', '--account', 'staging', '--permission-set', 'ReadOnly'],
    );
    expect(staging.out).toContain('  decided by rule self-service');
    // The rota changes in Slack: carol is off call, dave (a platform admin) remains.
    slack.standIn.setUserGroupMembers('oncall-sre', []);
    expect((await run(...args, ...alice)).out).toContain('  approval: 1 of dave@example.com');
    // Identity Center: alice leaves Engineers, and production is no longer hers to ask.
    identityCenter.standIn.removeGroupMember('Engineers', 'alice');
    const refused = await run(...args, ...alice);
    expect(refused.code).toBe(1);
    expect(refused.out.join('\n')).toMatch(
      /refused: No rule lets alice@example.com request ReadOnly on production/,
    );
    expect(identityCenter.organizations.operationLog().map((e) => e.operation)).toEqual(
      expect.arrayContaining(['ListChildren', 'ListAccountsForParent']),
    );
    expect(identityCenter.standIn.operationLog().map((e) => e.operation)).toEqual(
      expect.arrayContaining(['GetGroupId', 'ListGroupMemberships', 'DescribeUser']),
    );
  });

  it('validate reads the session durations from Identity Center (DescribePermissionSet)', async () => {
    const { code, out } = await run('validate', SANDBOX_POLICY, '--live');
    expect(code).toBe(0);
    expect(out.at(-1)).toMatch(/^OK: .*sandbox-policy.yaml: 8 rules, 4 accounts, 3 permission sets/);
    expect(identityCenter.standIn.operationLog().map((e) => e.operation)).toContain('DescribePermissionSet');
  });
});
