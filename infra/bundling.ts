import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Stage } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import type { BuildOptions } from 'esbuild';
import type { Policy } from '../functions/core/policy';
import { compilePolicy } from '../functions/core/policy-file';

// The one place that says how each Lambda is bundled. The CDK stack (NodejsFunction) and the
// benchmark (esbuild API, outside CDK) both read it, so they build the same bundles.
//
// AWS SDK v3 is bundled, not taken from the Lambda runtime: the bundle then runs exactly the
// SDK versions the tests ran (the runtime's copy changes under us with each runtime update),
// esbuild tree-shakes and minifies it with the rest, and one minified file loads faster than
// resolving hundreds of files under /var/runtime/node_modules.

export const PROJECT_ROOT = path.join(__dirname, '..');

/** Node.js major version of the Lambda runtime (Runtime.NODEJS_24_X) and the esbuild target. */
export const NODE_MAJOR = 24;
export const ESBUILD_TARGET = `node${NODE_MAJOR}`;

/** File name of the compiled access policy inside every bundle; POLICY_FILE=/var/task/<this>. */
export const POLICY_FILE_IN_BUNDLE = 'access-policy.json';

/**
 * Writes the compiled policy (core/policy-file.ts) next to the cloud assembly and returns its
 * path, named by its content: a policy change changes every bundle's asset hash.
 */
export function writeCompiledPolicy(scope: IConstruct, policy: Policy): string {
  const json = compilePolicy(policy);
  const outdir = Stage.of(scope)?.outdir ?? os.tmpdir();
  const file = path.join(
    outdir,
    `access-policy.${createHash('sha256').update(json).digest('hex').slice(0, 16)}.json`,
  );
  mkdirSync(outdir, { recursive: true });
  writeFileSync(file, json);
  return file;
}

export type FunctionName =
  | 'admit'
  | 'validate'
  | 'request-approval'
  | 'grant'
  | 'check-grant'
  | 'access-window'
  | 'revoke'
  | 'check-revoke'
  | 'end-sessions'
  | 'finish'
  | 'slack'
  | 'decisions'
  | 'audit-writer'
  | 'archiver'
  | 'reconciler';

export interface FunctionEntry {
  name: FunctionName;
  /** Entry file, relative to the project root. */
  entry: string;
  /** The `${...}` placeholder of the ASL file that receives this function's ARN (workers only). */
  substitution?: string;
}

/** The 10 workers the state machine invokes, in workflow order. */
export const WORKERS: readonly FunctionEntry[] = [
  { name: 'admit', entry: 'functions/admit/index.ts', substitution: 'AdmitFunctionArn' },
  { name: 'validate', entry: 'functions/validate/index.ts', substitution: 'ValidateFunctionArn' },
  {
    name: 'request-approval',
    entry: 'functions/request-approval/index.ts',
    substitution: 'RequestApprovalFunctionArn',
  },
  { name: 'grant', entry: 'functions/grant/index.ts', substitution: 'GrantFunctionArn' },
  { name: 'check-grant', entry: 'functions/check-grant/index.ts', substitution: 'CheckGrantFunctionArn' },
  {
    name: 'access-window',
    entry: 'functions/access-window/index.ts',
    substitution: 'AccessWindowFunctionArn',
  },
  { name: 'revoke', entry: 'functions/revoke/index.ts', substitution: 'RevokeFunctionArn' },
  { name: 'check-revoke', entry: 'functions/check-revoke/index.ts', substitution: 'CheckRevokeFunctionArn' },
  // EndSessions, CheckEndSessions and SessionsNotEnded (a permission set that ends sessions at revoke).
  { name: 'end-sessions', entry: 'functions/end-sessions/index.ts', substitution: 'EndSessionsFunctionArn' },
  { name: 'finish', entry: 'functions/finish/index.ts', substitution: 'FinishFunctionArn' },
];

/** Every deployed function: the workers, the Slack endpoint, its decisions, the audit writer and archiver, the reconciler. */
export const FUNCTIONS: readonly FunctionEntry[] = [
  ...WORKERS,
  { name: 'slack', entry: 'functions/slack/index.ts' },
  { name: 'decisions', entry: 'functions/decisions/index.ts' },
  { name: 'audit-writer', entry: 'functions/audit-writer/index.ts' },
  { name: 'archiver', entry: 'functions/archiver/index.ts' },
  { name: 'reconciler', entry: 'functions/reconciler/index.ts' },
];

// @slack/bolt's index loads every receiver at import time: Socket Mode (undici, ws), Express
// (express, mime-db, iconv-lite through raw-body). Behind AwsLambdaReceiver none of them ever
// runs, and Bolt only touches them inside constructors and request handlers, so the slack
// bundle replaces them with stubs that throw if anything does call them. That takes the bundle
// from ~1.5 MB to well under 1 MB. Paths are relative to the project root (esbuild's working
// directory in CDK and in `esbuildBuildOptions`).
const BOLT_UNUSED_RECEIVER_STUBS: Record<string, string> = {
  '@slack/socket-mode': './infra/bundling-stubs/slack-socket-mode.cjs',
  express: './infra/bundling-stubs/express.cjs',
  'raw-body': './infra/bundling-stubs/raw-body.cjs',
  // OAuth installs (InstallProvider) only exist with clientId/clientSecret, never here; this also
  // drops jsonwebtoken and semver.
  '@slack/oauth': './infra/bundling-stubs/slack-oauth.cjs',
  // Custom routes, matched only by the HTTP and Socket Mode receivers.
  'path-to-regexp': './infra/bundling-stubs/path-to-regexp.cjs',
  // Bolt without its index (which loads every receiver and the Assistant): App and the receivers
  // functions/ imports, from the package's own files.
  '@slack/bolt': './infra/bundling-stubs/slack-bolt-lambda.cjs',
};

/**
 * Every bundle: the default credential chain reduced to its link that answers in Lambda, the
 * SDK's event-stream codec, which only operations the product never calls use, and DynamoDB's
 * endpoint-discovery cache as a Map.
 */
const LAMBDA_SDK: Record<string, string> = {
  '@aws-sdk/credential-provider-node': './infra/bundling-stubs/credential-provider-env-only.cjs',
  '@smithy/core/event-streams': './infra/bundling-stubs/smithy-event-streams.cjs',
  // DynamoDB's endpoint-discovery cache without its LRU: endpoint discovery is off, the cache empty.
  '@aws-sdk/endpoint-cache': './infra/bundling-stubs/endpoint-cache.cjs',
};

// p-queue (inside @slack/web-api) pins eventemitter3 4.0.7 and web-api itself takes 5.0.4; their
// index.js are the same file byte for byte, so the bundles that post to Slack keep one copy.
const ONE_EVENTEMITTER: Record<string, string> = { eventemitter3: './node_modules/eventemitter3' };

/** esbuild options of one function, in the vocabulary both CDK and the esbuild API share. */
export interface FunctionBundling {
  minify: boolean;
  sourcemap: boolean;
  /** Source maps without the sources: stack traces still map, the .map file is far smaller. */
  sourcesContent: boolean;
  target: string;
  format: 'cjs';
  /** ESM entry points first: better tree-shaking of the AWS SDK and Powertools. */
  mainFields: string[];
  /** Nothing is external: the AWS SDK is bundled (see the top of this file). */
  external: string[];
  alias: Record<string, string>;
}

export function functionBundling(name: FunctionName): FunctionBundling {
  return {
    minify: true,
    sourcemap: true,
    sourcesContent: false,
    target: ESBUILD_TARGET,
    format: 'cjs',
    mainFields: ['module', 'main'],
    external: [],
    alias:
      name === 'slack'
        ? { ...LAMBDA_SDK, ...ONE_EVENTEMITTER, ...BOLT_UNUSED_RECEIVER_STUBS }
        : { ...LAMBDA_SDK, ...ONE_EVENTEMITTER },
  };
}

export function functionEntry(name: FunctionName): FunctionEntry {
  const entry = FUNCTIONS.find((f) => f.name === name);
  if (!entry) throw new Error(`Unknown function ${name}`);
  return entry;
}

/**
 * Complete esbuild API options building the same bundle CDK deploys (index.js + index.js.map in
 * `outdir`), for benchmarks: `await esbuild.build(esbuildBuildOptions('slack', dir))`.
 * The deployed asset also holds the policy file (copied by CDK after bundling).
 */
export function esbuildBuildOptions(name: FunctionName, outdir: string): BuildOptions {
  const options = functionBundling(name);
  return {
    absWorkingDir: PROJECT_ROOT,
    entryPoints: [path.join(PROJECT_ROOT, functionEntry(name).entry)],
    outfile: path.join(outdir, 'index.js'),
    bundle: true,
    platform: 'node',
    format: options.format,
    target: options.target,
    minify: options.minify,
    sourcemap: options.sourcemap,
    sourcesContent: options.sourcesContent,
    mainFields: options.mainFields,
    external: options.external,
    alias: options.alias,
    logLevel: 'warning',
  };
}
