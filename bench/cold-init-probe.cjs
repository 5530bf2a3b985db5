'use strict';
// One cold start, in a fresh `node` process (bench/cold-init.ts starts one per sample):
//   node cold-init-probe.cjs <bundle index.js> <event.json> <result.json>
// Loads the bundle as the Lambda runtime does (require, then `handler`), hands it one event,
// and writes {bootMs, loadMs, firstEventMs} — measured with performance.now(), whose origin is
// the start of this process.
const { readFileSync, writeFileSync } = require('node:fs');
const { randomUUID } = require('node:crypto');

const [bundle, eventFile, resultFile] = process.argv.slice(2);
if (!bundle || !eventFile || !resultFile) {
  process.stderr.write('usage: node cold-init-probe.cjs <bundle> <event.json> <result.json>\n');
  process.exit(2);
}
const event = JSON.parse(readFileSync(eventFile, 'utf8'));

const bootMs = performance.now();
const module_ = require(bundle);
const loadedMs = performance.now();

const started = Date.now();
const context = {
  callbackWaitsForEmptyEventLoop: true,
  functionName: process.env.AWS_LAMBDA_FUNCTION_NAME || 'bench',
  functionVersion: '$LATEST',
  invokedFunctionArn: `arn:aws:lambda:us-east-1:000000000000:function:${process.env.AWS_LAMBDA_FUNCTION_NAME || 'bench'}`,
  memoryLimitInMB: '256',
  awsRequestId: randomUUID(),
  logGroupName: '/aws/lambda/bench',
  logStreamName: 'bench',
  getRemainingTimeInMillis: () => 30000 - (Date.now() - started),
  done: () => {},
  fail: () => {},
  succeed: () => {},
};

function finish(outcome) {
  const doneMs = performance.now();
  writeFileSync(
    resultFile,
    JSON.stringify({ bootMs, loadMs: loadedMs - bootMs, firstEventMs: doneMs - loadedMs, ...outcome }),
  );
  // SDK and fetch keep-alive sockets would hold the process open; the sample is taken.
  process.exit(0);
}

Promise.resolve()
  .then(() => module_.handler(event, context))
  .then(
    (result) => finish({ ok: true, result }),
    (error) => finish({ ok: false, error: `${error?.name}: ${error?.message}` }),
  );
