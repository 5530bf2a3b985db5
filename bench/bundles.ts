import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { type BuildOptions, build, type Metafile } from 'esbuild';
import { esbuildBuildOptions, FUNCTIONS, type FunctionName, PROJECT_ROOT } from '../infra/bundling';

// Builds each Lambda exactly as it is deployed (infra/bundling.ts is the one source of the esbuild
// options; CDK's NodejsFunction and this file both read it), plus the alternative the issue asks
// to compare: the AWS SDK left out of the bundle and taken from the Lambda runtime.

/** Outside the work tree's tracked files, and under node_modules so that an external SDK resolves. */
export const OUT_ROOT = path.join(PROJECT_ROOT, 'node_modules/.cache/jit-access-bench');

/**
 * `bundled`: as deployed (infra/bundling.ts). `runtime`: the same with the AWS SDK external, taken
 * from the Lambda runtime.
 */
export type SdkChoice = 'bundled' | 'runtime';

export interface BuiltBundle {
  name: FunctionName;
  sdk: SdkChoice;
  file: string;
  bytes: number;
  gzipBytes: number;
  /** Largest inputs by bytes in the output, package-level ("@slack/bolt", "@smithy/*", "functions", …). */
  topInputs: Array<{ input: string; bytes: number }>;
}

/** Every deployed function whose entry exists yet (the Slack function and the reconciler land later). */
export function deployedFunctions(): FunctionName[] {
  return FUNCTIONS.filter((f) => existsSync(path.join(PROJECT_ROOT, f.entry))).map((f) => f.name);
}

/**
 * The deployment options, with the SDK either bundled (as deployed) or external. External means
 * `@aws-sdk/*` stays a `require` that the Lambda Node.js runtime answers from its own copy of SDK
 * v3; in the benchmark's fresh process it resolves from this project's node_modules instead.
 */
export function bundleOptions(name: FunctionName, sdk: SdkChoice, outdir: string): BuildOptions {
  const options = esbuildBuildOptions(name, outdir);
  return {
    ...options,
    external: [...(options.external ?? []), ...(sdk === 'runtime' ? ['@aws-sdk/*'] : [])],
    metafile: true,
    logLevel: 'error',
  };
}

export async function buildBundle(name: FunctionName, sdk: SdkChoice): Promise<BuiltBundle> {
  const outdir = path.join(OUT_ROOT, `sdk-${sdk}`, name);
  const result = await build(bundleOptions(name, sdk, outdir));
  const file = path.join(outdir, 'index.js');
  const bytes = statSync(file).size;
  const gzipBytes = gzipSync(readFileSync(file), { level: 9 }).length;
  return { name, sdk, file, bytes, gzipBytes, topInputs: topInputs(result.metafile, file) };
}

/** Families of many small packages count as one ("@smithy/*"): that is how they weigh in a bundle. */
const GROUPED_SCOPES = ['@aws-sdk', '@smithy', '@aws-crypto'];

function packageOf(input: string): string {
  const match = /node_modules\/((@[^/]+)\/)?([^/]+)/.exec(input);
  if (match?.[3]) {
    const scope = match[2];
    if (scope && GROUPED_SCOPES.includes(scope)) return `${scope}/*`;
    return scope ? `${scope}/${match[3]}` : match[3];
  }
  return input.split('/')[0] ?? input;
}

function topInputs(metafile: Metafile | undefined, file: string): Array<{ input: string; bytes: number }> {
  const output = metafile
    ? Object.entries(metafile.outputs).find(([out]) => path.resolve(PROJECT_ROOT, out) === file)?.[1]
    : undefined;
  if (!output) return [];
  const byPackage = new Map<string, number>();
  for (const [input, { bytesInOutput }] of Object.entries(output.inputs)) {
    const key = packageOf(input);
    byPackage.set(key, (byPackage.get(key) ?? 0) + bytesInOutput);
  }
  return [...byPackage.entries()]
    .map(([input, bytes]) => ({ input, bytes }))
    .sort((a, b) => b.bytes - a.bytes)
    .slice(0, 8);
}
