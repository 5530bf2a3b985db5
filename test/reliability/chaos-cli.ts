import { parseArgs } from 'node:util';

// Handlers log every step as JSON; a campaign of thousands of steps keeps them quiet unless asked.
process.env.POWERTOOLS_LOG_LEVEL ??= 'SILENT';

// `npm run chaos [-- --seed=N --lifecycles=N --batch=N --ms-per-second=N --crash-rate=P]`:
// the fault-injection campaign. Prints the figures and the seed to replay; exits 1 when any
// invariant was broken.

const { values } = parseArgs({
  strict: true,
  options: Object.fromEntries(
    ['seed', 'lifecycles', 'batch', 'ms-per-second', 'crash-rate'].map((name) => [name, { type: 'string' }]),
  ) as Record<string, { type: 'string' }>,
});

function option(name: string, fallback: number): number {
  const text = values[name];
  if (text === undefined) return fallback;
  const value = Number(text);
  if (typeof text !== 'string' || !Number.isFinite(value)) throw new Error(`--${name} must be a number`);
  return value;
}

async function main(): Promise<void> {
  const { formatReport, runCampaign } = await import('./campaign');
  const seed = option('seed', Math.floor(Math.random() * 2 ** 31));
  const lifecycles = option('lifecycles', 1000);
  console.log(`chaos campaign: seed ${seed}, ${lifecycles} lifecycles (replay with --seed=${seed})`);
  const report = await runCampaign({
    seed,
    lifecycles,
    batchSize: option('batch', 16),
    msPerSecond: option('ms-per-second', 8),
    crashRate: option('crash-rate', 0.04),
    log: (line) => console.log(line),
  });
  console.log(formatReport(report));
  console.log(
    `lifecycles=${report.lifecycles} faults_injected=${report.faultsInjected} leaked=${report.leaked} ` +
      `wrongly_revoked=${report.wronglyRevoked} audit_gaps=${report.auditGaps} seed=${report.seed}`,
  );
  const broken =
    report.leaked + report.wronglyRevoked + report.auditGaps + report.badDecisions + report.stillRunning;
  process.exitCode = broken > 0 ? 1 : 0;
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 2;
});
