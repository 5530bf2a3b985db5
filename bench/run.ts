import './lib/env';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs as parseCommandLine } from 'node:util';
import { renderTable, SECTION_IDS, type SectionId, type SectionResult } from './lib/report';
import type { SectionOptions } from './section';

// `npm run bench` — every section, one table, bench/results.json.
//   --quick                 the short version CI runs as a smoke test (targets shown, not enforced)
//   --only a,b              run some sections: lifecycle, revoke-lag, throughput, cold-init, slack-ack, audit-verify, directory
//   --time-scale N          throughput: model seconds per real second (default 1 = real time; quick 6)
//   --requests N            throughput: requests submitted at once (default 1000; quick 50)
//   --window-minutes N      throughput: each request's window (default 5; quick 1)
//   --strict                exit 1 when a target is missed (default: only when a section fails)
//   --out FILE              where to write the results (default bench/results.json)

interface Args {
  quick: boolean;
  strict: boolean;
  only: SectionId[];
  out: string;
  section: Omit<SectionOptions, 'quick'>;
}

function parseArgs(argv: string[]): Args {
  const { values } = parseCommandLine({
    args: argv,
    strict: true,
    options: {
      quick: { type: 'boolean', default: false },
      strict: { type: 'boolean', default: false },
      only: { type: 'string' },
      'time-scale': { type: 'string' },
      requests: { type: 'string' },
      'window-minutes': { type: 'string' },
      out: { type: 'string', default: path.join(__dirname, 'results.json') },
    },
  });
  let only = [...SECTION_IDS];
  if (values.only !== undefined) {
    const wanted = values.only.split(',');
    const unknown = wanted.filter((id) => !SECTION_IDS.includes(id as SectionId));
    if (unknown.length)
      throw new Error(`Unknown section(s) ${unknown.join(', ')}; known: ${SECTION_IDS.join(', ')}`);
    only = SECTION_IDS.filter((id) => wanted.includes(id));
  }
  const section: Args['section'] = {};
  if (values['time-scale'] !== undefined)
    section.timeScale = positiveNumber('--time-scale', values['time-scale']);
  if (values.requests !== undefined) section.requests = positiveNumber('--requests', values.requests);
  if (values['window-minutes'] !== undefined)
    section.windowMinutes = positiveNumber('--window-minutes', values['window-minutes']);
  return { quick: values.quick, strict: values.strict, only, out: path.resolve(values.out), section };
}

function positiveNumber(flag: string, text: string): number {
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${flag} needs a positive number, got ${text}`);
  return value;
}

/** One section in a fresh process (see bench/section.ts); its stderr is passed through. */
function runSection(id: SectionId, options: SectionOptions, dir: string): Promise<SectionResult> {
  const resultFile = path.join(dir, `${id}.json`);
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', path.join(__dirname, 'section.ts'), id, JSON.stringify(options), resultFile],
      { cwd: path.join(__dirname, '..'), stdio: ['ignore', 'ignore', 'inherit'], env: process.env },
    );
    child.on('error', reject);
    child.on('exit', (code) => {
      if (code !== 0) {
        reject(new Error(`section ${id} exited with ${code}`));
        return;
      }
      try {
        resolve(JSON.parse(readFileSync(resultFile, 'utf8')) as SectionResult);
      } catch (error) {
        reject(error);
      }
    });
  });
}

function machine() {
  const cpus = os.cpus();
  return {
    cpu: cpus[0]?.model ?? 'unknown',
    cores: cpus.length,
    memoryGb: Math.round(os.totalmem() / 1024 ** 3),
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
  };
}

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
  const started = Date.now();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'jit-bench-'));
  const sections: SectionResult[] = [];
  const failures: string[] = [];
  const info = machine();
  process.stderr.write(
    `bench${args.quick ? ' --quick' : ''}: ${args.only.join(', ')} on ${info.cores} x ${info.cpu}, node ${info.node}\n`,
  );
  try {
    for (const id of args.only) {
      const sectionStarted = Date.now();
      process.stderr.write(`  ${id} …\n`);
      try {
        const loadBefore = os.loadavg()[0] ?? 0;
        const result = await runSection(id, { quick: args.quick, ...args.section }, dir);
        // Other work on the machine skews timings: each section records the 1-minute load around it.
        result.details.loadAverage = { before: loadBefore, after: os.loadavg()[0] ?? 0 };
        sections.push(result);
        process.stderr.write(`  ${id} done in ${((Date.now() - sectionStarted) / 1000).toFixed(0)} s\n`);
      } catch (error) {
        failures.push(`${id}: ${error instanceof Error ? error.message : String(error)}`);
        process.stderr.write(`  ${id} FAILED: ${failures[failures.length - 1]}\n`);
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const durationMs = Date.now() - started;
  const statuses = sections.flatMap((s) => s.rows.map((r) => r.status));
  const summary = {
    pass: statuses.filter((s) => s === 'PASS').length,
    miss: statuses.filter((s) => s === 'MISS').length,
    fail: statuses.filter((s) => s === 'FAIL').length + failures.length,
  };
  process.stdout.write(`\n${renderTable(sections)}\n\n`);
  for (const note of sections.flatMap((s) => s.notes)) process.stdout.write(`- ${note}\n`);
  process.stdout.write(
    `\n${summary.pass} PASS, ${summary.miss} MISS, ${summary.fail} FAIL in ${(durationMs / 1000).toFixed(0)} s` +
      `${args.quick ? ' (quick: a smoke test, targets not enforced)' : ''}\n`,
  );
  for (const failure of failures) process.stdout.write(`FAILED ${failure}\n`);
  writeFileSync(
    args.out,
    `${JSON.stringify(
      {
        takenAt: new Date(started).toISOString(),
        quick: args.quick,
        machine: info,
        durationMs,
        summary,
        failures,
        sections,
      },
      null,
      2,
    )}\n`,
  );
  process.stdout.write(`Results: ${path.relative(process.cwd(), args.out)}\n`);
  if (summary.fail > 0) return 1;
  return args.strict && summary.miss > 0 ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(2);
  },
);
