import { readFileSync } from 'node:fs';
import { type Policy, readCompiledPolicy } from '../core/policy';
import { ENV, requiredEnv } from './config';

/** The policy compiled at synth into the bundle (POLICY_FILE); core/policy-file.ts writes it. */
export function loadPolicy(): Policy {
  const file = requiredEnv(ENV.policyFile);
  return readCompiledPolicy(readFileSync(file, 'utf8'), file);
}
