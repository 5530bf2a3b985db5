import { execFile } from 'node:child_process';
import { statSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { ESBUILD_TARGET, PROJECT_ROOT } from '../infra/bundling';
import { OUT_ROOT } from './bundles';
import { median } from './lib/stats';

// Where a bundle's load time goes: each dependency bundled alone (same esbuild settings as the
// Lambdas), loaded by fresh processes. The parts overlap (the SDK clients share @smithy/*), so
// they do not add up exactly to a whole bundle; they say which dependency is worth attention.

const execFileAsync = promisify(execFile);

export const PACKAGE_CASES: Record<string, string> = {
  'SDK: 6 clients (the former one root)': `
    import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
    import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
    import { SFNClient } from '@aws-sdk/client-sfn';
    import { SSOAdminClient } from '@aws-sdk/client-sso-admin';
    import { IdentitystoreClient } from '@aws-sdk/client-identitystore';
    import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
    export const clients = [DynamoDBClient, DynamoDBDocumentClient, SFNClient, SSOAdminClient, IdentitystoreClient, SecretsManagerClient];`,
  'SDK: grant (DynamoDB, sso-admin, identitystore, Invoke)': `
    import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
    import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
    import { SSOAdminClient } from '@aws-sdk/client-sso-admin';
    import { IdentitystoreClient } from '@aws-sdk/client-identitystore';
    import { LambdaInvoker } from './functions/adapters/lambda-invoke';
    export const clients = [DynamoDBClient, DynamoDBDocumentClient, SSOAdminClient, IdentitystoreClient, LambdaInvoker];`,
  'zod (* as z)': `import * as z from 'zod'; export const s = z.object({ a: z.string().email() });`,
  'zod/mini': `import * as z from 'zod/mini'; export const s = z.object({ a: z.email() });`,
  yaml: `import { parse } from 'yaml'; export const p = parse;`,
  'web-api': `import { WebClient } from '@slack/web-api'; export const W = WebClient;`,
  logger: `import { Logger } from '@aws-lambda-powertools/logger'; export const l = new Logger();`,
  'bolt (stubs)': `import { App, AwsLambdaReceiver } from '@slack/bolt'; export const a = [App, AwsLambdaReceiver];`,
};

export interface PackageCost {
  name: string;
  bytes: number;
  loadMs: number;
}

export async function measurePackageCosts(
  runs: number,
  aliases: Record<string, string> = {},
): Promise<PackageCost[]> {
  const costs: PackageCost[] = [];
  for (const [index, [name, contents]] of Object.entries(PACKAGE_CASES).entries()) {
    const file = path.join(OUT_ROOT, 'packages', `case-${index}.js`);
    await build({
      stdin: { contents, resolveDir: PROJECT_ROOT, loader: 'ts' },
      absWorkingDir: PROJECT_ROOT,
      bundle: true,
      platform: 'node',
      format: 'cjs',
      target: ESBUILD_TARGET,
      minify: true,
      mainFields: ['module', 'main'],
      alias: name.startsWith('bolt') ? aliases : {},
      outfile: file,
      logLevel: 'error',
    });
    const samples: number[] = [];
    for (let run = 0; run < runs; run++) {
      const { stdout } = await execFileAsync(process.execPath, [
        '-e',
        `const t = performance.now(); require(${JSON.stringify(file)}); process.stdout.write(String(performance.now() - t));`,
      ]);
      samples.push(Number(stdout));
    }
    costs.push({ name, bytes: statSync(file).size, loadMs: median(samples) });
  }
  return costs;
}
