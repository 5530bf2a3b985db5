import './lib/env';
import { fromJsonl, toJsonl } from '../functions/cli/audit';
import { type ChainedEvent, type ChainHeads, nextLink, verifyChains } from '../functions/core/audit-chain';
import { AUDIT_ACTIONS, type AuditEvent } from '../functions/core/model';
import type { SectionResult } from './lib/report';
import { summarize } from './lib/stats';

// 6. Audit verify: `npm run audit -- verify` on an export of 10,000 events (1,000 requests of
// 10 events, the size of a busy month): reading the JSONL and checking every link, timed over
// several runs in this process (the CLI does exactly this after reading the file).

export async function runAuditVerify(options: { quick: boolean }): Promise<SectionResult> {
  const started = Date.now();
  const requests = 1000;
  const perRequest = 10;
  const lines: ChainedEvent[] = [];
  const heads: ChainHeads = {};
  for (let r = 0; r < requests; r++) {
    let previous: ChainedEvent['link'] = null;
    for (let n = 0; n < perRequest; n++) {
      const event: AuditEvent = {
        version: 1,
        requestId: `req-bench-${r}`,
        eventId: `evt-${r}-${n}`,
        at: new Date(Date.UTC(2026, 11, 1) + r * 60_000 + n * 1000).toISOString(),
        actor: n % 3 === 0 ? `person${r}@example.com` : 'system:workflow',
        action: AUDIT_ACTIONS[n % AUDIT_ACTIONS.length] as AuditEvent['action'],
        outcome: 'success',
        details: { accountId: '111111111111', reason: 'Looking at the incident dashboard', n },
      };
      previous = nextLink(previous ?? undefined, event);
      lines.push({ event, link: previous });
    }
    if (previous) heads[previous.requestId] = { seq: previous.seq, hash: previous.hash };
  }
  const text = toJsonl({ lines, heads });
  const runs = options.quick ? 3 : 10;
  const times: number[] = [];
  let breaks = -1;
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    const trail = fromJsonl(text);
    breaks = verifyChains(trail.lines, trail.heads).breaks.length;
    times.push(performance.now() - t0);
  }
  const summary = summarize(times);
  const events = lines.length;
  return {
    id: 'audit-verify',
    title: 'Audit verify',
    rows: [
      {
        measure: `verify an export of ${events.toLocaleString('en-US')} events (${requests} requests), median of ${runs}`,
        result: `${summary.p50.toFixed(0)} ms (${Math.round(events / (summary.p50 / 1000)).toLocaleString('en-US')} events/s; ${(text.length / 1e6).toFixed(1)} MB)`,
        status: breaks === 0 ? 'INFO' : 'FAIL',
      },
    ],
    details: { events, requests, runs, timesMs: times, exportBytes: text.length, breaks },
    notes: [
      'Audit verify: parse the JSONL and recompute every SHA-256 link, in-process (what `npm run audit -- verify FILE` does after reading the file); a generated trail of 10 events per request.',
    ],
    durationMs: Date.now() - started,
  };
}
