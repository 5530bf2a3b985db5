import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { compilePolicy, parsePolicy } from '../functions/core/policy-file';

/**
 * The policy YAML compiled as synth compiles it for the bundles (core/policy-file.ts), for the
 * local stack's POLICY_FILE: the functions read the same JSON locally as on AWS. Named by its
 * content, so concurrent test workers share one file and never see a half-written one.
 */
export function compiledPolicyFile(sourcePath: string): string {
  const json = compilePolicy(parsePolicy(readFileSync(sourcePath, 'utf8')));
  const dir = path.join(os.tmpdir(), 'jit-access-policy');
  const file = path.join(dir, `${createHash('sha256').update(json).digest('hex').slice(0, 16)}.json`);
  mkdirSync(dir, { recursive: true });
  const partial = `${file}.${process.pid}.tmp`;
  writeFileSync(partial, json);
  renameSync(partial, file);
  return file;
}
