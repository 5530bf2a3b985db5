import { spawn } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';

// Parts of the local stack in processes of their own, so they run on another core than the
// Step Functions host and its workers (on AWS, DynamoDB and the Lambda service do not share a
// thread with Step Functions). Each child is stopped by ending its stdin.

/** dynalite alone in a child process; resolves with its endpoint. */
export function startDynamoProcess(): Promise<{ endpoint: string; close(): void }> {
  const script = `
    const { startLocalDynamo } = require(${JSON.stringify(path.join(__dirname, '../../local/dynamodb/local-dynamo'))});
    startLocalDynamo().then((d) => { process.stdout.write(d.endpoint + '\\n'); process.stdin.resume(); process.stdin.on('end', () => process.exit(0)); });
  `;
  const child = spawn(process.execPath, ['--import', 'tsx', '-e', script], {
    cwd: path.join(__dirname, '../..'),
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    createInterface({ input: child.stdout }).once('line', (endpoint) =>
      resolve({ endpoint: endpoint.trim(), close: () => child.stdin.end() }),
    );
  });
}

/**
 * The functions other functions invoke (decisions, audit writer) in a process of their own, with
 * the stack's environment: on AWS the Lambda service answers an asynchronous invoke at once and
 * the decisions function runs on other compute, not on the event loop that runs the workflows.
 */
export function startLambdaProcess(env: Record<string, string>): Promise<{ url: string; close(): void }> {
  const script = `
    Object.assign(process.env, JSON.parse(process.argv[1]));
    const { startProductLambdas } = require(${JSON.stringify(path.join(__dirname, '../../local/lambda/product-functions'))});
    startProductLambdas().then((l) => { process.env.AWS_ENDPOINT_URL_LAMBDA = l.endpoint.url; process.stdout.write(l.endpoint.url + '\\n'); process.stdin.resume(); process.stdin.on('end', () => l.endpoint.close().then(() => process.exit(0))); });
  `;
  const child = spawn(process.execPath, ['--import', 'tsx', '-e', script, JSON.stringify(env)], {
    cwd: path.join(__dirname, '../..'),
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    createInterface({ input: child.stdout }).once('line', (url) =>
      resolve({ url: url.trim(), close: () => child.stdin.end() }),
    );
  });
}
