import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import path from 'node:path';
import { signRequest } from '../../local/sandbox/slack-payloads';

// `npm start` on a fresh clone: prints the console URL within 10 s and serves it, honouring PORT
// and SLACK_SIGNING_SECRET from the environment.

const ROOT = path.join(__dirname, '../..');
const STARTUP_BUDGET_MS = 10_000;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** The environment of a laptop with no cloud credentials. */
function cleanEnvironment(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (
      /^(AWS_|SLACK_|STATE_TABLE|AUDIT_TABLE|POLICY_FILE|STATE_MACHINE_ARN|PORT$|JEST_|POWERTOOLS_)/.test(key)
    )
      continue;
    env[key] = value;
  }
  return { ...env, ...extra };
}

let child: ChildProcess | undefined;

afterEach(async () => {
  const running = child;
  child = undefined;
  if (!running?.pid || running.exitCode !== null) return;
  const exited = new Promise((resolve) => running.once('exit', resolve));
  process.kill(-running.pid, 'SIGTERM');
  await exited;
});

function startNpm(
  env: NodeJS.ProcessEnv,
): Promise<{ output: () => string; consoleUrl: string; elapsedMs: number }> {
  const startedAt = Date.now();
  const spawned = spawn('npm', ['start', '--silent'], { cwd: ROOT, env, detached: true });
  child = spawned;
  let output = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`no console URL within 20 s; output:\n${output}`)),
      20_000,
    );
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /Console: (http:\/\/localhost:\d+)/.exec(output);
      if (match?.[1]) {
        clearTimeout(timer);
        resolve({ output: () => output, consoleUrl: match[1], elapsedMs: Date.now() - startedAt });
      }
    };
    spawned.stdout.on('data', onData);
    spawned.stderr.on('data', onData);
    spawned.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`npm start exited with ${code}; output:\n${output}`));
    });
  });
}

describe('npm start', () => {
  it('prints the console URL within 10 s on $PORT, serves it, and names each service', async () => {
    const port = await freePort();

    const started = await startNpm(cleanEnvironment({ PORT: String(port) }));
    const page = await fetch(`http://127.0.0.1:${port}/`);

    expect(started.elapsedMs).toBeLessThan(STARTUP_BUDGET_MS);
    expect(started.consoleUrl).toBe(`http://localhost:${port}`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<title>JIT AWS access');
    expect(started.output()).toMatch(/Identity Center: stand-in at http:\/\/127\.0\.0\.1:\d+/);
    expect(started.output()).toMatch(/DynamoDB: dynalite .*\(in memory\)/);
    expect(started.output()).toMatch(/Slack Web API: stand-in at /);
    expect(started.output()).toContain(`http://localhost:${port}/slack/events`);
  }, 30_000);

  it('verifies Slack requests with SLACK_SIGNING_SECRET from the environment', async () => {
    const port = await freePort();
    const secret = 'secret-from-the-environment';

    const started = await startNpm(cleanEnvironment({ PORT: String(port), SLACK_SIGNING_SECRET: secret }));
    const body = 'ssl_check=1&token=x';
    const post = (signingSecret: string) => {
      const signed = signRequest(signingSecret, body, 'application/x-www-form-urlencoded');
      return fetch(`http://127.0.0.1:${port}/slack/events`, {
        method: 'POST',
        headers: signed.headers,
        body,
      });
    };

    expect(started.output()).toContain('signing secret: SLACK_SIGNING_SECRET');
    expect((await post(secret)).status).toBe(200);
    expect((await post('sandbox-signing-secret')).status).toBe(401);
  }, 30_000);
});
