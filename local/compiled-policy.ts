import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { compilablePolicy } from '../functions/cli/directory';
import { compilePolicy } from '../functions/core/policy-file';

/**
 * The policy YAML compiled as synth compiles it for the bundles (core/policy-file.ts), its
 * `ou:`/`tag:` accounts resolved from `directoryFile` (the sandbox file) as synth resolves them
 * from cdk.json's `directory`, for the local stack's POLICY_FILE: the functions read the same
 * JSON locally as on AWS. Named by its content, so concurrent test workers share one file and
 * never see a half-written one.
 */
export async function compiledPolicyFile(sourcePath: string, directoryFile?: string): Promise<string> {
  const { policy } = await compilablePolicy(readFileSync(sourcePath, 'utf8'), directoryFile);
  const json = compilePolicy(policy);
  const dir = path.join(os.tmpdir(), 'jit-access-policy');
  const file = path.join(dir, `${createHash('sha256').update(json).digest('hex').slice(0, 16)}.json`);
  mkdirSync(dir, { recursive: true });
  const partial = `${file}.${process.pid}.tmp`;
  writeFileSync(partial, json);
  renameSync(partial, file);
  return file;
}
