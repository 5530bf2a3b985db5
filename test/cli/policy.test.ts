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

describe('npm run policy', () => {
  it('explain prints the deciding rule and its approvers', async () => {
    const { code, out } = await run(...ALICE_READ_ONLY);
    expect(code).toBe(0);
    expect(out).toContain('  decided by rule production-oncall');
    expect(out).toContain('  approval: 1 of carol@example.com, dave@example.com');
    expect(out).toContain(
      '  rule production-admin: not this one, alice@example.com is not among its requesters (group:sre)',
    );
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
      `OK: ${SANDBOX_POLICY}: 4 rules, 3 accounts, 3 permission sets, 2 warnings`,
    );
    const broken = variant('broken.yaml', (t) => t.replace('maxDuration: 8h', 'maxDuration: 8 weeks'));
    const { code, out } = await run('validate', broken);
    expect(code).toBe(1);
    expect(out).toEqual(['error: rules[3].maxDuration: "8 weeks" is not a duration']);
  });

  it('diff lists what a change grants (+) and takes away (-), as text and JSON, with --exit-code', async () => {
    const widened = variant('widened.yaml', (t) =>
      t.replace(
        '  engineers:\n    - alice@example.com',
        '  engineers:\n    - alice@example.com\n    - erin@example.com',
      ),
    );
    const text = await run('diff', SANDBOX_POLICY, widened);
    expect(text.code).toBe(0);
    expect(text.out).toContain(
      '+ erin@example.com: ReadOnly on production (111111111111): up to 1h: 1 of [carol@example.com, dave@example.com] (rule production-oncall); up to 4h: 1 of [dave@example.com] (rule production-extended)',
    );
    expect(text.out.at(-1)).toBe('2 gained, 0 lost, 0 changed');
    const narrowed = await run('diff', widened, SANDBOX_POLICY, '--json', '--exit-code');
    expect(narrowed.code).toBe(1);
    const changes = JSON.parse(narrowed.out.join('\n')) as Array<{ requester: string; change: string }>;
    expect(changes.map((c) => [c.requester, c.change])).toEqual([
      ['erin@example.com', 'lost'],
      ['erin@example.com', 'lost'],
    ]);
    expect(await run('diff', SANDBOX_POLICY, SANDBOX_POLICY, '--exit-code')).toEqual({
      code: 0,
      out: ['No change in what anyone may request.'],
    });
  });

  it('refuses an unknown flag (a real argument parser, strict)', async () => {
    await expect(run('validate', SANDBOX_POLICY, '--bogus')).rejects.toThrow(/Unknown option '--bogus'/);
  });
});
