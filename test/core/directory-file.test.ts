import { readFileSync } from 'node:fs';
import path from 'node:path';
import { stringify } from 'yaml';
import { GroupNotFoundError } from '../../functions/core/directory';
import {
  type DirectoryFileInput,
  directoryFileSchema,
  fileDirectory,
  readDirectoryFile,
} from '../../functions/core/directory-file';
import { loadSandboxConfig } from '../../local/sandbox/sandbox-file';

// The directory file (functions/core/directory-file.ts): config/sandbox.yaml as the offline
// directory the policy CLI and synth read, and as the stand-ins' seed.

const SANDBOX_FILE = path.join(__dirname, '../../config/sandbox.yaml');
const ARN = 'arn:aws:sso:::instance/ssoins-7223a1b2c3d4e5f6';
const PS = 'arn:aws:sso:::permissionSet/ssoins-7223a1b2c3d4e5f6/ps-1a2b3c4d5e6f7a8b';

/** A small valid file; tests change one thing in it. */
function base(): DirectoryFileInput & Record<string, unknown> {
  return {
    instanceArn: ARN,
    identityStoreId: 'd-9067a1b2c3',
    users: [
      { userName: 'alice', email: 'alice@example.com', displayName: 'Alice' },
      { userName: 'bob@example.com', email: 'Bob@Example.com', displayName: 'Bob' },
      { userName: 'carol', email: 'carol@other.example', displayName: 'Carol' },
    ],
    groups: [{ displayName: 'SRE', members: ['alice', 'bob@example.com', 'carol'] }],
    organization: {
      rootId: 'r-ab12',
      units: [
        { id: 'ou-ab12-aaaaaaaa', name: 'Workloads', parent: 'r-ab12' },
        { id: 'ou-ab12-bbbbbbbb', name: 'Prod', parent: 'ou-ab12-aaaaaaaa' },
      ],
    },
    accounts: [
      { id: '111111111111', name: 'prod', parent: 'ou-ab12-bbbbbbbb', tags: { env: 'prod' } },
      { id: '222222222222', name: 'stage', parent: 'ou-ab12-aaaaaaaa', tags: { env: 'staging' } },
      {
        id: '333333333333',
        name: 'old',
        parent: 'ou-ab12-bbbbbbbb',
        tags: { env: 'prod' },
        state: 'SUSPENDED',
      },
      { id: '444444444444', name: 'root-level' },
    ],
    permissionSets: [{ name: 'ReadOnly', arn: PS, sessionDuration: 'PT1H30M' }],
    personas: [{ slackUserId: 'U0CAROL', name: 'carol', email: 'Carol@Example.com' }],
    slack: { userGroups: [{ id: 'S0ONCALL', handle: 'oncall', name: 'On call', members: ['U0CAROL'] }] },
  };
}

const read = (document: unknown, source = 'dir.yaml') => readDirectoryFile(stringify(document), source);

/** The message of what `run` throws. */
function errorOf(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
  throw new Error('expected an error');
}

describe('config/sandbox.yaml', () => {
  const file = readDirectoryFile(readFileSync(SANDBOX_FILE, 'utf8'), 'config/sandbox.yaml');
  const directory = fileDirectory(file, { by: 'email' });

  it('holds the sandbox groups, organization, tags and Slack user group', async () => {
    expect(await directory.identityCenterGroups.members('Engineers')).toEqual(['alice@example.com']);
    expect(await directory.identityCenterGroups.members('SRE')).toEqual([
      'carol@example.com',
      'dave@example.com',
    ]);
    expect(await directory.identityCenterGroups.members('PlatformAdmins')).toEqual(['dave@example.com']);
    expect(await directory.slackUserGroups.members('oncall-sre')).toEqual(['carol@example.com']);
    expect(file.organization.rootId).toBe('r-sb00');
    const names = async (parent: string) =>
      (await directory.organization.accountsUnder(parent)).map((a) => a.name);
    expect(await names('r-sb00')).toEqual(['production', 'staging', 'sandbox', 'qa']);
    expect(await names('ou-sb00-workload0')).toEqual(['production', 'staging', 'sandbox', 'qa']);
    expect(await names('ou-sb00-prod0000')).toEqual(['production']);
    expect(await names('ou-sb00-nonprod0')).toEqual(['staging', 'sandbox', 'qa']);
    for (const [env, account] of [
      ['prod', 'production'],
      ['staging', 'staging'],
      ['sandbox', 'sandbox'],
    ] as const)
      expect(await directory.organization.accountsTagged('env', env)).toEqual([
        expect.objectContaining({ name: account }),
      ]);
  });

  it('still loads as the sandbox file, with its console parts', async () => {
    const config = await loadSandboxConfig(SANDBOX_FILE);
    expect(config.personas.map((p) => p.role)).toEqual(['requester', 'approver', 'admin']);
    expect(config.slack.channels.map((c) => c.name)).toEqual([
      'general',
      'access-requests',
      'security-alerts',
    ]);
    expect(config.slack.userGroups).toEqual([
      { id: 'S0ONCALL', handle: 'oncall-sre', name: 'SRE on call', members: ['U0CAROL'] },
    ]);
    expect(config.identityCenter.groups.map((g) => g.displayName)).toEqual([
      'Engineers',
      'SRE',
      'PlatformAdmins',
      // Offered by the sandbox policy's group rules (accessGroups).
      'BillingReaders',
      'IncidentResponders',
    ]);
    expect(config.identityCenter.accounts.find((a) => a.name === 'production')?.parent).toBe(
      'ou-sb00-prod0000',
    );
  });
});

describe('readDirectoryFile: problems name the source and the path', () => {
  it.each<[string, (doc: ReturnType<typeof base>) => void, RegExp]>([
    [
      'an OU id of the wrong shape',
      (d) => {
        d.organization = { rootId: 'r-ab12', units: [{ id: 'ou-prod', name: 'P', parent: 'r-ab12' }] };
      },
      /must be an OU id[\s\S]*organization\.units\[0\]\.id/,
    ],
    [
      'a root id of the wrong shape',
      (d) => {
        d.organization = { rootId: 'root-1' };
      },
      /organization\.rootId/,
    ],
    [
      'an OU of another root',
      (d) => {
        d.organization = {
          rootId: 'r-ab12',
          units: [{ id: 'ou-cd34-aaaaaaaa', name: 'P', parent: 'r-ab12' }],
        };
      },
      /ou-cd34-aaaaaaaa is not in root r-ab12[\s\S]*organization\.units\[0\]\.id/,
    ],
    [
      'an account in an OU the file lacks',
      (d) => {
        (d.accounts as { parent?: string }[])[1] = { ...(d.accounts?.[1] ?? {}), parent: 'ou-ab12-cccccccc' };
      },
      /ou-ab12-cccccccc is neither the root nor an OU[\s\S]*accounts\[1\]\.parent/,
    ],
    [
      'OUs inside each other',
      (d) => {
        d.organization = {
          rootId: 'r-ab12',
          units: [
            { id: 'ou-ab12-aaaaaaaa', name: 'A', parent: 'ou-ab12-bbbbbbbb' },
            { id: 'ou-ab12-bbbbbbbb', name: 'B', parent: 'ou-ab12-aaaaaaaa' },
          ],
        };
        d.accounts = [];
      },
      /inside itself[\s\S]*organization\.units\[0\]\.parent/,
    ],
    [
      'a group member who is no user',
      (d) => {
        d.groups = [{ displayName: 'SRE', members: ['alice', 'mallory'] }];
      },
      /no user has userName mallory[\s\S]*groups\[0\]\.members\[1\]/,
    ],
    [
      'two users with one email (Identity Center refuses it)',
      (d) => {
        d.users = [...(d.users ?? []), { userName: 'alice2', email: 'ALICE@example.com', displayName: 'A2' }];
      },
      /email addresses to be unique[\s\S]*users\[3\]\.email/,
    ],
    [
      'two users with one userName',
      (d) => {
        d.users = [...(d.users ?? []), { userName: 'Alice', email: 'a2@example.com', displayName: 'A2' }];
      },
      /user names to be unique[\s\S]*users\[3\]\.userName/,
    ],
    [
      'two groups with one name',
      (d) => {
        d.groups = [
          { displayName: 'SRE', members: [] },
          { displayName: 'sre', members: [] },
        ];
      },
      /groups\[1\]\.displayName/,
    ],
    [
      'a Slack user group member who is no persona',
      (d) => {
        d.slack = { userGroups: [{ id: 'S0ONCALL', handle: 'oncall', name: 'x', members: ['U0NOBODY'] }] };
      },
      /U0NOBODY is not a persona[\s\S]*slack\.userGroups\[0\]\.members\[0\]/,
    ],
    [
      'a Slack user group handle with capitals',
      (d) => {
        d.slack = { userGroups: [{ id: 'S0ONCALL', handle: 'OnCall', name: 'x', members: [] }] };
      },
      /slack\.userGroups\[0\]\.handle/,
    ],
    [
      'an unknown account state',
      (d) => {
        (d.accounts as { state?: string }[])[0] = { ...(d.accounts?.[0] ?? {}), state: 'GONE' };
      },
      /accounts\[0\]\.state/,
    ],
    [
      'an unknown group field',
      (d) => {
        d.groups = [{ displayName: 'SRE', members: [], owner: 'x' } as never];
      },
      /owner[\s\S]*groups\[0\]/,
    ],
  ])('%s', (_, change, expected) => {
    const document = base();
    change(document);
    const message = errorOf(() => read(document, 'dir.yaml'));
    expect(message).toMatch(/^invalid dir\.yaml:/);
    expect(message).toMatch(expected);
  });

  it('names the source of text that is not YAML', () => {
    expect(errorOf(() => readDirectoryFile('users: [unclosed', 'broken.yaml'))).toMatch(
      /^broken\.yaml is not valid YAML/,
    );
  });

  it('accepts the base file and defaults the root for a file without organization', () => {
    expect(() => read(base())).not.toThrow();
    const { organization: _, ...rest } = base();
    const file = read({ ...rest, accounts: [{ id: '111111111111', name: 'a' }] });
    expect(file.organization).toEqual({ rootId: 'r-0000', units: [] });
  });
});

describe('fileDirectory', () => {
  const file = directoryFileSchema.parse(base());

  it('names each group member through the identity mapping', async () => {
    const members = (mapping: Parameters<typeof fileDirectory>[1]) =>
      fileDirectory(file, mapping).identityCenterGroups.members('SRE');
    // By email: every user, lower case.
    expect(await members({ by: 'email' })).toEqual([
      'alice@example.com',
      'bob@example.com',
      'carol@other.example',
    ]);
    // By userName: only a userName that is an email stands for a Slack person.
    expect(await members({ by: 'userName' })).toEqual(['bob@example.com']);
    // By local part: userNames without a domain, at the mapping's domain.
    expect(await members({ by: 'userNameLocalPart', domain: 'Example.com' })).toEqual([
      'alice@example.com',
      'carol@example.com',
    ]);
  });

  it('answers GroupNotFoundError for a group or handle it does not have', async () => {
    const directory = fileDirectory(file, { by: 'email' });
    await expect(directory.identityCenterGroups.members('sre')).rejects.toThrow(GroupNotFoundError);
    await expect(directory.identityCenterGroups.members('Nope')).rejects.toThrow(
      'identityCenterGroup:Nope does not exist',
    );
    await expect(directory.slackUserGroups.members('on-call')).rejects.toThrow('slackUserGroup:on-call');
    expect(await directory.slackUserGroups.members('oncall')).toEqual(['carol@example.com']);
  });

  it('selects ACTIVE accounts below an OU, nested OUs included, sorted by id', async () => {
    const { organization } = fileDirectory(file, { by: 'email' });
    expect(await organization.accountsUnder('ou-ab12-aaaaaaaa')).toEqual([
      { id: '111111111111', name: 'prod' },
      { id: '222222222222', name: 'stage' },
    ]);
    expect((await organization.accountsUnder('r-ab12')).map((a) => a.id)).toEqual([
      '111111111111',
      '222222222222',
      '444444444444',
    ]);
    expect(await organization.accountsTagged('env', 'prod')).toEqual([{ id: '111111111111', name: 'prod' }]);
    expect(await organization.accountsTagged('env', 'Prod')).toEqual([]);
    expect(await organization.account('111111111111')).toEqual({ id: '111111111111', name: 'prod' });
    expect(await organization.account('333333333333')).toBeUndefined();
    expect(await organization.account('999999999999')).toBeUndefined();
    await expect(organization.accountsUnder('ou-ab12-zzzzzzzz')).rejects.toThrow('ou-ab12-zzzzzzzz');
  });

  it('gives session durations in minutes, Identity Center’s hour when the file has none', () => {
    const directory = fileDirectory(file, { by: 'email' });
    expect(directory.sessionDurationMinutes(PS)).toBe(90);
    const noDuration = directoryFileSchema.parse({ ...base(), permissionSets: [{ name: 'R', arn: PS }] });
    expect(fileDirectory(noDuration, { by: 'email' }).sessionDurationMinutes(PS)).toBe(60);
    expect(directory.sessionDurationMinutes(PS.replace('1a2b', '9z9z'))).toBeUndefined();
  });
});
