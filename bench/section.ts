import './lib/env';
import { writeFileSync } from 'node:fs';
import { runAuditVerify } from './audit-verify';
import { runColdInit } from './cold-init';
import { runDirectory } from './directory';
import type { SectionId, SectionResult } from './lib/report';
import { runLifecycleCost } from './lifecycle-cost';
import { runRevokeLag } from './revoke-lag';
import { runSlackAck } from './slack-ack';
import { runThroughput } from './throughput';

// Runs one benchmark section in this (fresh) process and writes its SectionResult as JSON:
//   node --import tsx bench/section.ts <section> <options JSON> <result file>
// bench/run.ts starts one process per section so that no section inherits another's warm
// caches, timers, sockets or garbage.

export interface SectionOptions {
  quick: boolean;
  timeScale?: number;
  requests?: number;
  windowMinutes?: number;
}

const runners: Record<SectionId, (options: SectionOptions) => Promise<SectionResult>> = {
  lifecycle: (o) => runLifecycleCost(o),
  'revoke-lag': (o) => runRevokeLag(o),
  throughput: (o) => runThroughput(o),
  'cold-init': (o) => runColdInit(o),
  'slack-ack': (o) => runSlackAck(o),
  'audit-verify': (o) => runAuditVerify(o),
  directory: (o) => runDirectory(o),
};

async function main(): Promise<void> {
  const [id, optionsJson, resultFile] = process.argv.slice(2);
  const runner = runners[id as SectionId];
  if (!runner || !optionsJson || !resultFile) {
    throw new Error(`usage: section.ts <${Object.keys(runners).join('|')}> <options JSON> <result file>`);
  }
  const result = await runner(JSON.parse(optionsJson) as SectionOptions);
  writeFileSync(resultFile, JSON.stringify(result));
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
