import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { main } from '../../functions/cli/policy';

const SANDBOX_POLICY = path.join(__dirname, '../../config/sandbox-policy.yaml');
const ALICE_READ_ONLY = [
  'explain',
  SANDBOX_POLICY,
  ...['--requester', 'alice@example.com', '--account', 'production', '--permission-set', 'ReadOnly'],
];
const dir = mkdtempSync(path.join(os.tmpdir(), 'policy-cli-'));

async function run(...args: string[]): Promise<{ code: number; out: string[] }> {
  const out: string[] = [];
  const code = await main(args, (line) => out.push(line));
  return { code, out };
}

function variant(name: string, edit: (text: string) => string): string {
  const file = path.join(dir, name);
  writeFileSync(file, edit(readFileSync(SANDBOX_POLICY, 'utf8')));
  return file;
}

const SANDBOX_FILE = path.join(__dirname, '../../config/sandbox.yaml');
function directoryVariant(name: string, edit: (text: string) => string): string {
  const file = path.join(dir, name);
  writeFileSync(file, edit(readFileSync(SANDBOX_FILE, 'utf8')));
  return file;
}

describe('npm run policy', () => {
  it('explain prints the deciding rule and its approvers', async () => {
    const { code, out } = await run(...ALICE_READ_ONLY);
    expect(code).toBe(0);
    expect(out).toContain('  decided by rule production-oncall');
    expect(out).toContain('  approval: 1 of carol@example.com, dave@example.com');
    expect(out).toContain(
      '  rule production-admin: not this one, alice@example.com is not among its requesters (identityCenterGroup:SRE)',
    );
  });

  it('explain answers for a group request: the deciding group rule, why earlier rules did not decide, its approvers', async () => {
    const { code, out } = await run(
      'explain',
      SANDBOX_POLICY,
      ...['--requester', 'alice@example.com', '--group', 'IncidentResponders', '--duration', '1h'],
    );
    expect(code).toBe(0);
    expect(out[0]).toBe('alice@example.com, group IncidentResponders, 1h:');
    expect(out).toContain(
      '  rule billing-readers: not this one, it does not offer the group IncidentResponders',
    );
    expect(out).toContain('  decided by rule incident-responders');
    expect(out).toContainEqual(expect.stringMatching(/^ {2}approval: 1 of /));
    expect(out).toContain('  longest any rule allows: 2h');
    const tooLong = await run(
      'explain',
      SANDBOX_POLICY,
      ...['--requester', 'alice@example.com', '--group', 'IncidentResponders', '--duration', '3h'],
    );
    expect(tooLong.code).toBe(1);
    expect(tooLong.out.at(-1)).toMatch(/^ {2}refused: /);
    const unknown = await run(
      'explain',
      SANDBOX_POLICY,
      '--requester',
      'alice@example.com',
      '--group',
      'Nope',
    );
    expect(unknown.out.at(-1)).toBe('  refused: Group Nope is not in the policy.');
    await expect(
      run(
        'explain',
        SANDBOX_POLICY,
        ...['--requester', 'alice@example.com', '--group', 'IncidentResponders', '--account', 'production'],
      ),
    ).rejects.toThrow(/--account with --permission-set or else --group/);
  });

  it('the example policy validates against the default directory and resolves its OU', async () => {
    const example = path.join(__dirname, '../../config/access-policy.example.yaml');
    const validated = await run('validate', example);
    expect(validated.code).toBe(0);
    expect(validated.out.at(-1)).toMatch(/^OK: .*: 4 rules, 4 accounts, 3 permission sets/);
    const staging = await run(
      'explain',
      example,
      ...['--requester', 'alice@example.com', '--account', 'staging', '--permission-set', 'PowerUser'],
    );
    expect(staging.out).toContain('  decided by rule non-production-self-service');
    const production = await run(
      'explain',
      example,
      ...['--requester', 'alice@example.com', '--account', 'production', '--permission-set', 'ReadOnly'],
    );
    expect(production.out).toContain('  decided by rule production-engineers');
    expect(production.out).toContain('  approval: 1 of carol@example.com, dave@example.com');
  });

  it('explain prints the deciding rule’s ticket requirement', async () => {
    expect((await run(...ALICE_READ_ONLY)).out).toContain('  ticket: not required');
    const admin = await run(
      'explain',
      SANDBOX_POLICY,
      ...['--requester', 'dave@example.com', '--account', 'production'],
      ...['--permission-set', 'AdministratorAccess'],
    );
    expect(admin.code).toBe(0);
    expect(admin.out).toContain('  decided by rule production-admin');
    expect(admin.out).toContain('  ticket: required, matching ^(INC|CHG)-\\d+$');
  });

  it('explain exits 1 on a refused request and says why', async () => {
    const { code, out } = await run(...ALICE_READ_ONLY, '--duration', '5h');
    expect(code).toBe(1);
    expect(out.at(-1)).toMatch(/^ {2}refused: 300 minutes is over the 240-minute maximum/);
  });

  it('validate names each problem with its path and exits 1', async () => {
    const valid = await run('validate', SANDBOX_POLICY);
    expect(valid.code).toBe(0);
    expect(valid.out).toContain(
      'warning: rule production-admin cannot approve requests by dave@example.com: 0 approver(s) other than the requester, 1 required',
    );
    expect(valid.out.at(-1)).toBe(
      `OK: ${SANDBOX_POLICY}: 8 rules, 4 accounts, 3 permission sets, 2 warnings`,
    );
    const broken = variant('broken.yaml', (t) => t.replace('maxDuration: 8h', 'maxDuration: 8 weeks'));
    const { code, out } = await run('validate', broken);
    expect(code).toBe(1);
    expect(out).toEqual(['error: rules[5].maxDuration: "8 weeks" is not a duration']);
  });

  it('diff lists what a change grants (+) and takes away (-), as text and JSON, with --exit-code', async () => {
    const widened = variant('widened.yaml', (t) => {
      const edited = t.replaceAll(
        'requesters: [identityCenterGroup:Engineers, identityCenterGroup:SRE]',
        'requesters: [identityCenterGroup:Engineers, identityCenterGroup:SRE, erin@example.com]',
      );
      expect(edited).not.toBe(t);
      return edited;
    });
    const text = await run('diff', SANDBOX_POLICY, widened);
    expect(text.code).toBe(0);
    expect(text.out).toContain(
      '+ erin@example.com: ReadOnly on production (111111111111): up to 1h: 1 of [carol@example.com, dave@example.com], may start up to 2d later (rule production-oncall); up to 4h: 1 of [dave@example.com] (rule production-extended)',
    );
    // The same requesters join the incident-responders group rule: a group gained too.
    expect(text.out).toContainEqual(
      expect.stringMatching(
        /^\+ erin@example\.com: group IncidentResponders \([0-9a-f-]+\): up to 2h: 1 of \[/,
      ),
    );
    expect(text.out.at(-1)).toBe('6 gained, 0 lost, 0 changed');
    const narrowed = await run('diff', widened, SANDBOX_POLICY, '--json', '--exit-code');
    expect(narrowed.code).toBe(1);
    const changes = JSON.parse(narrowed.out.join('\n')) as Array<{ requester: string; change: string }>;
    expect(changes.map((c) => [c.requester, c.change])).toEqual(
      Array.from({ length: 6 }, () => ['erin@example.com', 'lost']),
    );
    expect(await run('diff', SANDBOX_POLICY, SANDBOX_POLICY, '--exit-code')).toEqual({
      code: 0,
      out: ['No change in what anyone may request.'],
    });
  });

  it('resolves groups, OUs and tags from the directory: cdk.json by default, --directory FILE otherwise', async () => {
    // Default: cdk.json's `directory` (config/sandbox.yaml): staging and sandbox come from their OU.
    const byDefault = await run(
      'explain',
      SANDBOX_POLICY,
      ...['--requester', 'erin@example.com', '--account', 'staging', '--permission-set', 'ReadOnly'],
    );
    expect(byDefault.out).toContain('  decided by rule self-service');
    // A directory where carol is rotated off call: production-oncall is approved by dave alone.
    const rota = directoryVariant('rota.yaml', (t) => {
      const edited = t.replace(/members: \[U0CAROL\]/, 'members: []');
      expect(edited).not.toBe(t);
      return edited;
    });
    const offCall = await run(...ALICE_READ_ONLY, '--directory', rota);
    expect(offCall.out).toContain('  approval: 1 of dave@example.com');
    expect(await run('diff', SANDBOX_POLICY, SANDBOX_POLICY, '--directory', rota)).toEqual({
      code: 0,
      out: ['No change in what anyone may request.'],
    });
    await expect(run(...ALICE_READ_ONLY, '--directory', rota, '--live')).rejects.toThrow(
      /exclude each other/,
    );
  });

  it('validate warns about a group the directory does not have and a session longer than a rule allows', async () => {
    const directory = directoryVariant('long-sessions.yaml', (t) => {
      const edited = t.replace(
        /(name: AdministratorAccess\n\s+arn: [^\n]+\n\s+sessionDuration: )PT1H/,
        '$1PT12H',
      );
      expect(edited).not.toBe(t);
      return edited;
    });
    const typo = variant('typo.yaml', (t) =>
      t.replace('[identityCenterGroup:PlatformAdmins]', '[identityCenterGroup:PlatfromAdmins]'),
    );
    const { code, out } = await run('validate', typo, '--directory', directory);
    expect(code).toBe(0);
    expect(out).toContain(
      `warning: identityCenterGroup:PlatfromAdmins is not in the directory file ${directory}: it selects nobody`,
    );
    expect(out).toContain(
      'warning: rule production-admin allows AdministratorAccess for at most 1h, but its session duration is 12h: a session opened near the end outlives the grant',
    );
    // The misspelt group leaves production-admin with no approver at all.
    expect(out).toContain(
      'warning: rule production-admin cannot approve requests by carol@example.com: 0 approver(s) other than the requester, 1 required',
    );
  });

  it('validate does not warn about the session duration of a permission set that ends sessions at revoke', async () => {
    // PowerUser (endSessionsOnRevoke in the sandbox policy) with 12-hour sessions and a 1-hour rule.
    const directory = directoryVariant('long-power-user.yaml', (t) => {
      const edited = t.replace(/(name: PowerUser\n\s+arn: [^\n]+\n\s+sessionDuration: )PT1H/, '$1PT12H');
      expect(edited).not.toBe(t);
      return edited;
    });
    const ends = await run('validate', SANDBOX_POLICY, '--directory', directory);
    expect(ends.code).toBe(0);
    expect(ends.out.filter((line) => line.includes('session duration'))).toEqual([]);
    // Without the option the warning stays.
    const without = variant('power-user-keeps-sessions.yaml', (t) =>
      t.replace('    endSessionsOnRevoke: true\n', ''),
    );
    const kept = await run('validate', without, '--directory', directory);
    expect(kept.out).toContain(
      'warning: rule production-oncall allows PowerUser for at most 1h, but its session duration is 12h: a session opened near the end outlives the grant',
    );
  });

  it('refuses an unknown flag (a real argument parser, strict)', async () => {
    await expect(run('validate', SANDBOX_POLICY, '--bogus')).rejects.toThrow(/Unknown option '--bogus'/);
  });
});
