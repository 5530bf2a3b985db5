import {
  floorOf,
  ORGANIZATIONS_QUOTAS,
  quotaFloorMs,
  readOnceCalls,
  runDirectory,
} from '../../bench/directory';
import { FULL_SCALE, generateDirectory, QUICK_SCALE, scalePolicy } from '../../bench/lib/directory-scale';
import { accountSelector } from '../../functions/core/organization';

// The directory section's generator (deterministic, the sizes asked for), its quota arithmetic,
// and the section itself at the quick size. Timings are not asserted (CI machines are noisy).

describe('generated directory', () => {
  const full = generateDirectory(FULL_SCALE);

  it('is the same for the same seed, and another for another seed', () => {
    expect(JSON.stringify(generateDirectory(FULL_SCALE).file)).toBe(JSON.stringify(full.file));
    expect(JSON.stringify(generateDirectory({ ...QUICK_SCALE, seed: 15 }).file)).not.toBe(
      JSON.stringify(generateDirectory(QUICK_SCALE).file),
    );
  });

  it('has 2,000 accounts in 150 OUs nested up to 5 deep, tagged env and team', () => {
    const { file, depth } = full;

    expect(file.accounts).toHaveLength(2000);
    expect(file.organization.units).toHaveLength(150);
    expect(Math.max(...depth.values())).toBe(5);
    const units = new Set(file.organization.units.map((u) => u.id));
    expect(
      file.accounts.every((a) => a.parent === file.organization.rootId || units.has(a.parent ?? '')),
    ).toBe(true);
    expect(file.accounts.every((a) => a.tags.env)).toBe(true);
    expect(file.accounts.filter((a) => a.tags.team).length).toBeGreaterThan(1900);
    expect(file.accounts.some((a) => a.state !== 'ACTIVE')).toBe(true);
  });

  it('has 5,000 users, 300 groups, each user in a few groups and some groups of 500+', () => {
    const { file } = full;
    const groupsOf = new Map<string, number>();
    for (const group of file.groups)
      for (const member of group.members) groupsOf.set(member, (groupsOf.get(member) ?? 0) + 1);

    expect(file.users).toHaveLength(5000);
    expect(new Set(file.users.map((u) => u.email.toLowerCase())).size).toBe(5000);
    expect(file.groups).toHaveLength(300);
    expect(
      file.users.every((u) => (groupsOf.get(u.userName) ?? 0) >= 2 && (groupsOf.get(u.userName) ?? 0) <= 5),
    ).toBe(true);
    expect(file.groups.filter((g) => g.members.length >= 500).length).toBeGreaterThanOrEqual(3);
    expect(file.groups.every((g) => g.members.length > 0)).toBe(true);
  });

  it('comes with a valid policy of ~40 rules over groups, OUs, tags and carve-outs', () => {
    const policy = scalePolicy(full);
    const entries = policy.rules.flatMap((r) => [...r.accounts, ...r.exceptAccounts]);
    const approvers = policy.rules.flatMap((r) => (r.approval === 'none' ? [] : r.approval.approvers));

    expect(policy.rules.length).toBeGreaterThanOrEqual(35);
    expect(policy.rules.length).toBeLessThanOrEqual(45);
    expect(entries.some((e) => accountSelector(e)?.kind === 'ou')).toBe(true);
    expect(entries.some((e) => accountSelector(e)?.kind === 'tag')).toBe(true);
    expect(policy.rules.filter((r) => r.exceptAccounts.length > 0).length).toBeGreaterThan(10);
    expect(
      policy.rules.every((r) =>
        r.requesters.some((q) => q.startsWith('identityCenterGroup:') || q.includes('*')),
      ),
    ).toBe(true);
    expect(approvers.every((a) => a.startsWith('identityCenterGroup:'))).toBe(true);
    expect(policy.permissionSets.length).toBeGreaterThanOrEqual(3);
  });

  it('has the quick size for CI', () => {
    const { file } = generateDirectory(QUICK_SCALE);

    expect([file.accounts.length, file.groups.length, file.users.length]).toEqual([200, 30, 500]);
  });
});

describe('quota floors', () => {
  it('lets the burst through, then the rate', () => {
    expect(quotaFloorMs(15, ORGANIZATIONS_QUOTAS.ListTagsForResource ?? { rate: 1, burst: 1 })).toBe(0);
    expect(quotaFloorMs(115, { rate: 10, burst: 15 })).toBe(10_000);
  });

  it('is set by the slowest API, each with its own bucket', () => {
    const floor = floorOf(
      { ListAccounts: 100, ListTagsForResource: 2015, Mystery: 5 },
      (op) => ORGANIZATIONS_QUOTAS[op],
    );

    expect(floor).toEqual({ ms: 200_000, bottleneck: 'ListTagsForResource', unknown: ['Mystery'] });
  });

  it('counts a read-once resolution: the tree walked once, every account listed and tagged once', () => {
    const { file } = generateDirectory(QUICK_SCALE);

    const calls = readOnceCalls(file);

    expect(calls.ListAccounts).toBe(10);
    expect(calls.ListTagsForResource).toBe(file.accounts.filter((a) => a.state === 'ACTIVE').length);
    expect(calls.ListChildren).toBeGreaterThanOrEqual(file.organization.units.length + 1);
  });
});

describe('directory section at the quick size', () => {
  it('gives every row, and the adapters agree with the file model', async () => {
    const result = await runDirectory({ quick: true, queries: 50, evaluations: 100 });

    expect(result.rows.map((r) => r.measure)).toEqual([
      expect.stringContaining('generated directory'),
      expect.stringContaining('account menu'),
      expect.stringContaining('evaluateRequest'),
      expect.stringContaining('cold accounts'),
      expect.stringContaining('cold member lists'),
      expect.stringContaining('20 calls/s'),
      expect.stringContaining('file model'),
    ]);
    expect(result.rows.map((r) => r.status)).not.toContain('FAIL');
    expect(result.rows.filter((r) => r.target).map((r) => r.status)).toEqual(
      expect.arrayContaining([expect.stringMatching(/^(PASS|MISS)$/)]),
    );
    const details = result.details as {
      coldAccounts: { calls: { total: number } };
      coldGroups: { calls: Record<string, number> };
      agreement: { ruleMismatches: string[]; groupMismatches: string[] };
    };
    expect(details.coldAccounts.calls.total).toBeGreaterThan(0);
    expect(details.coldGroups.calls.GetGroupId).toBeGreaterThan(0);
    expect(details.agreement).toMatchObject({ ruleMismatches: [], groupMismatches: [] });
  }, 60_000);
});
