// `npm start`: the local sandbox. Parses the flags, starts everything, prints one line per service
// and the console URL. See docs/SANDBOX.md.
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { SandboxOptions } from './sandbox';

const HELP = `Usage: npm start -- [options]

  --port=N             console + Slack request URL port (default $PORT, else 3000; 0 = any free port)
  --host=ADDR          interface to bind (default 127.0.0.1)
  --minute=1s          real time per product minute (default 60s = real time; 1s makes a 30-minute grant last 30 s)
  --persist[=DIR]      keep DynamoDB on disk (default folder .sandbox-data) instead of in memory
  --sandbox=FILE       the sandbox file (default config/sandbox.yaml)
  --policy=FILE        the access policy (default config/sandbox-policy.yaml)
  --stand-ins          use every stand-in even when real credentials are in the environment
  --provisioning=MS    how long Identity Center keeps an assignment change IN_PROGRESS (default 1000)
  --verbose            the handlers' structured logs (INFO) on stdout
  --help               this text

Environment: PORT, SLACK_SIGNING_SECRET, SLACK_BOT_TOKEN (with the secret: a real workspace),
AWS_PROFILE / AWS credentials (with a policy of your own: real Identity Center; plus STATE_TABLE and
AUDIT_TABLE: real DynamoDB). Step Functions always runs locally.`;

export function parseCli(
  argv: string[],
  cwd = process.cwd(),
): { options: SandboxOptions; verbose: boolean; help: boolean } {
  const { values } = parseArgs({
    args: normalizeArgv(argv),
    options: {
      port: { type: 'string' },
      host: { type: 'string' },
      minute: { type: 'string' },
      persist: { type: 'string' },
      sandbox: { type: 'string' },
      policy: { type: 'string' },
      'stand-ins': { type: 'boolean' },
      provisioning: { type: 'string' },
      verbose: { type: 'boolean' },
      help: { type: 'boolean' },
    },
    allowPositionals: false,
    strict: true,
  });
  // Lazily required so POWERTOOLS_LOG_LEVEL is set before the handlers' logger exists.
  const { parseMinuteScale } = require('./time-scale') as typeof import('./time-scale');
  const { DEFAULT_PERSIST_DIR } = require('./sandbox') as typeof import('./sandbox');
  const options: SandboxOptions = {};
  if (values.port !== undefined) {
    const port = Number(values.port);
    if (!Number.isInteger(port) || port < 0 || port > 65535)
      throw new Error(`--port=${values.port} is not a port`);
    options.port = port;
  }
  if (values.host) options.host = values.host;
  if (values.minute) options.msPerMinute = parseMinuteScale(values.minute);
  if (values.persist !== undefined)
    options.persistDir = values.persist ? path.resolve(cwd, values.persist) : DEFAULT_PERSIST_DIR;
  if (values.sandbox) options.sandboxFile = path.resolve(cwd, values.sandbox);
  if (values.policy) options.policyFile = path.resolve(cwd, values.policy);
  if (values['stand-ins']) options.forceStandIns = true;
  if (values.provisioning !== undefined) {
    const ms = Number(values.provisioning);
    if (!Number.isFinite(ms) || ms < 0)
      throw new Error(`--provisioning=${values.provisioning} is not a number of ms`);
    options.identityCenter = { provisioningDelayMs: ms };
  }
  return { options, verbose: values.verbose === true, help: values.help === true };
}

/** `--persist` alone is a flag; node's parseArgs wants a value for string options. */
function normalizeArgv(argv: string[]): string[] {
  return argv.map((arg) => (arg === '--persist' ? '--persist=' : arg));
}

async function main(): Promise<void> {
  const startedAt = Date.now();
  const argv = process.argv.slice(2);
  const wantsVerbose = argv.includes('--verbose');
  process.env.POWERTOOLS_LOG_LEVEL ??= wantsVerbose ? 'INFO' : 'WARN';
  let parsed: ReturnType<typeof parseCli>;
  try {
    parsed = parseCli(argv);
  } catch (error) {
    console.error(error instanceof Error ? error.message : String(error));
    console.error(HELP);
    process.exitCode = 2;
    return;
  }
  if (parsed.help) {
    console.log(HELP);
    return;
  }
  const { startSandbox } = await import('./sandbox');
  const sandbox = await startSandbox({ ...parsed.options, log: (line) => console.log(`  ${line}`) });
  console.log(`\nConsole: ${sandbox.url}   (ready in ${((Date.now() - startedAt) / 1000).toFixed(1)} s)`);
  const personas = sandbox.config.personas.map((p) => `${p.realName ?? p.name} (${p.role})`).join(', ');
  console.log(`Personas: ${personas}. Type /request-access in the console. Ctrl+C stops.`);
  const endpoints = await announceEndpoints(sandbox);

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) process.exit(1);
    stopping = true;
    console.log(`\n${signal}: stopping the sandbox…`);
    endpoints?.remove();
    sandbox
      .stop()
      .catch((error: unknown) => console.error(error))
      .finally(() => process.exit(0));
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

/**
 * Where this sandbox's DynamoDB listens, for `npm run audit` (functions/cli/audit.ts) while it runs.
 * Written by `npm start` only: the sandboxes tests start in parallel announce nothing.
 */
async function announceEndpoints(
  sandbox: import('./sandbox').Sandbox,
): Promise<{ remove(): void } | undefined> {
  const dynamo = sandbox.standIns.dynamo;
  if (!dynamo) return undefined;
  const { mkdirSync, rmSync, writeFileSync } = await import('node:fs');
  const { SANDBOX_ENDPOINTS_FILE } = await import('../../functions/cli/audit');
  mkdirSync(path.dirname(SANDBOX_ENDPOINTS_FILE), { recursive: true });
  writeFileSync(
    SANDBOX_ENDPOINTS_FILE,
    JSON.stringify({ dynamodb: dynamo.endpoint, auditTable: sandbox.tables.auditTable, pid: process.pid }),
  );
  return { remove: () => rmSync(SANDBOX_ENDPOINTS_FILE, { force: true }) };
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  });
}
