import { bundleOptions, deployedFunctions } from '../../bench/bundles';
import { runColdInit } from '../../bench/cold-init';
import { check, renderTable, type SectionResult } from '../../bench/lib/report';
import { percentile, summarize } from '../../bench/lib/stats';
import { runLifecycleCost, TRANSITION_TARGET } from '../../bench/lifecycle-cost';
import { signedEvent } from '../../bench/slack-events';
import { listPages, throughputFloor } from '../../bench/throughput';
import { verifySlackSignature } from '../../functions/slack/signature';
import { esbuildBuildOptions } from '../../infra/bundling';

// The benchmark's own arithmetic, and one real section end to end. Timings are not asserted
// (CI machines are noisy); transition counts are, because they do not depend on the machine.

describe('bench statistics', () => {
  it('takes nearest-rank percentiles: p99 of 1..1000 is 990', () => {
    const samples = Array.from({ length: 1000 }, (_, i) => 1000 - i);

    const summary = summarize(samples);

    expect(summary).toMatchObject({ count: 1000, min: 1, p50: 500, p95: 950, p99: 990, max: 1000 });
    expect(percentile([], 50)).toBeNaN();
  });

  it('never passes a figure that could not be taken', () => {
    expect(check(299, '<', 300)).toBe('PASS');
    expect(check(300, '<', 300)).toBe('MISS');
    expect(check(25, '<=', 25)).toBe('PASS');
    expect(check(Number.NaN, '<', 300)).toBe('MISS');
  });
});

describe('throughput floor', () => {
  it('is set by the call quota: 4 calls per grant and 6 per request at 20/s after a burst of 20', () => {
    // Windows longer than the burst: no revoke competes with the grants.
    const floor = throughputFloor(1000, 600);

    expect(floor.allGrantedSeconds).toBeCloseTo(199, 6);
    expect(floor.allRevokedSeconds).toBeCloseTo(199 + 600 + 1, 6);
  });

  it('counts the revokes of windows that end during the burst against the grants', () => {
    const { allGrantedSeconds: t } = throughputFloor(1000, 60);

    // T = (4,000 grant calls + 2 calls for each grant made before T − 60 s − 20) / 20.
    expect(t).toBeCloseTo((4000 + 2 * 1000 * ((t - 60) / t) - 20) / 20, 3);
    expect(t).toBeGreaterThan(199);
  });

  it('counts every List page the pre-existing checks read when all requests share one permission set', () => {
    const floor = throughputFloor(1000, 600);

    // Grant i lists max(1, ceil((i − 10) / 100)) pages: 5,401 in all, instead of 1,000.
    expect(floor.withListPages.pages).toBe(5401);
    expect(floor.withListPages.allGrantedSeconds).toBeCloseTo((3 * 1000 + 5401 - 20) / 20, 5);
  });

  it('counts no page for an assignment already revoked: windows that end during the burst shorten later listings', () => {
    const floor = throughputFloor(1000, 300);
    const t = floor.withListPages.allGrantedSeconds;

    // Fewer pages than if all 1,000 accumulated, and exactly what that pace leaves to read.
    expect(floor.withListPages.pages).toBeLessThan(5401);
    expect(floor.withListPages.pages).toBe(listPages(1000, t, 300));
    // The smallest T by which the calls needed fit the bucket: they do at T, not a second before.
    const needed = (at: number) =>
      (3 * 1000 + listPages(1000, at, 300) + (2 * 1000 * Math.max(0, at - 300)) / at - 20) / 20;
    expect(needed(t)).toBeLessThanOrEqual(t + 1e-6);
    expect(needed(t - 1)).toBeGreaterThan(t - 1);
  });

  it('is set by the window when there are few requests', () => {
    const floor = throughputFloor(10, 60);

    // 40 calls fit in the first 1 s of quota; the last revoke waits for its 60 s window.
    expect(floor.allRevokedSeconds).toBeCloseTo(10 / 10 + 60 + 1, 5);
  });
});

describe('table', () => {
  it('prints every section with its targets, in the issue order', () => {
    const section = (id: SectionResult['id'], status: 'PASS' | 'MISS'): SectionResult => ({
      id,
      title: id,
      rows: [{ measure: 'm', result: 'r', target: 't', status }],
      details: {},
      notes: [],
      durationMs: 0,
    });

    const table = renderTable([section('lifecycle', 'PASS'), section('slack-ack', 'MISS')]);

    const lines = table.split('\n');
    expect(lines[0]).toMatch(/Section\s+\| Measure\s+\| Result\s+\| Target\s+\| Status/);
    expect(table.indexOf('1 slack-ack')).toBeLessThan(table.indexOf('3 lifecycle'));
    expect(table).toContain('MISS');
  });
});

describe('signed Slack events', () => {
  it('carry a v0 signature over the timestamp and the raw body', () => {
    const event = signedEvent('secret', 'command=%2Frequest-access');

    // Checked by the product's own verifier, as the Lambda would.
    expect(
      verifySlackSignature({
        signingSecret: 'secret',
        rawBody: event.body,
        signature: event.headers['x-slack-signature'],
        timestamp: event.headers['x-slack-request-timestamp'],
        nowMs: Date.now(),
      }),
    ).toEqual({ ok: true });
    expect(event.isBase64Encoded).toBe(false);
  });
});

describe('bundles compared by cold init', () => {
  it('builds the deployed options, and only the SDK choice differs', () => {
    const deployed = esbuildBuildOptions('slack', '/tmp/out');

    const bundled = bundleOptions('slack', 'bundled', '/tmp/out');
    const runtime = bundleOptions('slack', 'runtime', '/tmp/out');

    expect(bundled).toEqual({ ...deployed, metafile: true, logLevel: 'error' });
    expect(bundled.external).toEqual(deployed.external);
    expect(runtime.external).toEqual([...(deployed.external ?? []), '@aws-sdk/*']);
    expect(runtime.alias).toEqual(deployed.alias);
  });
});

describe('the deployed bundles on their first event', () => {
  it('every worker and the Slack function, built as deployed (stubs included), handle a realistic event', async () => {
    // One fresh process per bundle against the local stand-ins: the stubs in infra/bundling-stubs/
    // stay unreached on the paths the functions take (a stub throws when reached).
    const result = await runColdInit({ quick: true });

    const rows = result.rows.filter((r) => r.measure.endsWith(': load / 1st event, size (gzip)'));
    expect(rows.map((r) => r.measure.split(':')[0])).toEqual(
      deployedFunctions().filter(
        (name) => !['decisions', 'audit-writer', 'archiver', 'reconciler'].includes(name),
      ),
    );
    expect(rows.filter((r) => r.status === 'FAIL').map((r) => r.result)).toEqual([]);
  }, 120_000);
});

describe('lifecycle cost on the real state machine', () => {
  it('runs every path to its end within the transition budget for approved requests', async () => {
    const result = await runLifecycleCost({ quick: true });

    const paths = (result.details as { paths: Array<{ path: string; status: string; transitions: number }> })
      .paths;
    const finals = paths.map((p) => (p as { finalStatus?: string }).finalStatus);
    // Every path ran its lifecycle (a rejected request would end SUCCEEDED too).
    expect(finals.filter((f) => f === 'REJECTED')).toEqual([]);
    expect(paths.map((p) => [p.path, p.status])).toEqual([
      ['auto-approve', 'SUCCEEDED'],
      ['approve', 'SUCCEEDED'],
      ['deny', 'SUCCEEDED'],
      ['early end', 'SUCCEEDED'],
      ['extend once', 'SUCCEEDED'],
      ['group access, auto-approve', 'SUCCEEDED'],
      ['2 accounts, approved once (both executions)', 'SUCCEEDED'],
      ['scheduled start, auto-approve', 'SUCCEEDED'],
      ['scheduled start, cancelled while waiting', 'SUCCEEDED'],
    ]);
    for (const path of paths.filter((p) =>
      ['auto-approve', 'approve', 'group access, auto-approve'].includes(p.path),
    ))
      expect(path.transitions).toBeLessThanOrEqual(TRANSITION_TARGET);
    const extend = paths.find((p) => p.path === 'extend once');
    const auto = paths.find((p) => p.path === 'auto-approve');
    expect(extend?.transitions).toBeGreaterThan(auto?.transitions ?? Number.POSITIVE_INFINITY);
    // A scheduled start costs its wait: a deferred admission, WaitForStart, the admission again.
    const scheduled = paths.find((p) => p.path === 'scheduled start, auto-approve');
    expect((scheduled?.transitions ?? 0) - (auto?.transitions ?? 0)).toBeGreaterThanOrEqual(3);
    // Two accounts approved once: two lifecycles, the second's approval step posting nothing, so
    // no more than two approved requests' worth.
    const pair = paths.find((p) => p.path.startsWith('2 accounts'));
    const approve = paths.find((p) => p.path === 'approve');
    expect(pair?.transitions).toBeLessThanOrEqual(2 * (approve?.transitions ?? 0));
  }, 60_000);
});
