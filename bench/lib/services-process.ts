import './env';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { startStack } from './stack';

// The product's back end (Step Functions host with the worker handlers, DynamoDB, Identity Center
// and Slack stand-ins) in a process of its own, so that a benchmark of the Slack function measures
// only the Slack function: the workflows it starts and resumes run on the other core, as they
// would run elsewhere on AWS.
//
// Child:  node --import tsx bench/lib/services-process.ts '<options JSON>'  → one JSON line: the env
// Parent: startServicesProcess(options) → { env, close }

export interface ServicesOptions {
  msPerSecond: number;
  users?: number;
  slackLatencyMs?: number;
  /** Identity Center quotas off: this process serves benchmarks that are not about quotas. */
  unlimitedIdentityCenter?: boolean;
  policyFile?: string;
  /**
   * Run dynalite in a third process: the Slack function's DynamoDB calls then do not queue behind
   * the workflows this process runs (on AWS, DynamoDB does not share a thread with Step Functions).
   */
  separateDynamo?: boolean;
  /** Run the invoked functions (decisions, audit writer) in a process of their own. */
  separateLambda?: boolean;
}

export interface ServicesProcess {
  env: Record<string, string>;
  close(): Promise<void>;
}

export function startServicesProcess(options: ServicesOptions): Promise<ServicesProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', __filename, JSON.stringify(options)], {
    cwd: path.join(__dirname, '../..'),
    stdio: ['pipe', 'pipe', 'inherit'],
    env: process.env,
  });
  const lines = createInterface({ input: child.stdout });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`services process exited with ${code}`)));
    lines.once('line', (line) => {
      const env = JSON.parse(line) as Record<string, string>;
      child.removeAllListeners('exit');
      resolve({
        env,
        close: () =>
          new Promise<void>((done) => {
            child.once('exit', () => done());
            child.stdin.end(); // the child closes its services when its stdin ends
          }),
      });
    });
  });
}

async function serve(options: ServicesOptions): Promise<void> {
  const stack = await startStack({
    separateDynamo: options.separateDynamo ?? false,
    separateLambda: options.separateLambda ?? false,
    msPerSecond: options.msPerSecond,
    users: options.users ?? 0,
    slackLatencyMs: options.slackLatencyMs ?? 0,
    ...(options.unlimitedIdentityCenter
      ? { identityCenter: { requestsPerSecond: Number.POSITIVE_INFINITY, maxCreationsInFlight: 1_000_000 } }
      : {}),
    ...(options.policyFile ? { policyFile: options.policyFile } : {}),
  });
  process.stdout.write(`${JSON.stringify(stack.env)}\n`);
  process.stdin.resume();
  process.stdin.on('end', () => {
    stack.close().finally(() => process.exit(0));
  });
}

if (require.main === module) {
  serve(JSON.parse(process.argv[2] ?? '{}') as ServicesOptions).catch((error: unknown) => {
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  });
}
