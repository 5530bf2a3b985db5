import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { PROJECT_ROOT } from '../../infra/bundling';
import { buildJitAccessApp, type JitAccessApp } from '../../infra/jit-access-app';

// Synthesizes the product's app the way `cdk synth` does (cdk.json context, plus overrides).
// Bundling is skipped unless asked for (CDK's own `aws:cdk:bundling-stacks` switch), and so is
// cdk-nag: each suite turns on what it checks.

export const CDK_CONTEXT: Record<string, unknown> = JSON.parse(
  readFileSync(path.join(PROJECT_ROOT, 'cdk.json'), 'utf8'),
).context;

export const EXAMPLE_POLICY_FILE = path.join(PROJECT_ROOT, 'config/access-policy.example.yaml');

export interface Synthesized extends JitAccessApp {
  app: App;
  template: Template;
  outdir: string;
}

export async function synthesize(
  options: { context?: Record<string, unknown>; bundle?: boolean; nag?: boolean; outdir?: string } = {},
): Promise<Synthesized> {
  const outdir = options.outdir ?? newOutdir();
  const app = new App({
    outdir,
    context: {
      ...CDK_CONTEXT,
      nag: options.nag ?? false,
      ...(options.bundle ? {} : { 'aws:cdk:bundling-stacks': [] }),
      ...options.context,
    },
  });
  const built = await buildJitAccessApp(app);
  const template = Template.fromStack(built.stack);
  return { ...built, app, template, outdir };
}

const outdirs: string[] = [];

/** A fresh cloud assembly directory, removed by `removeOutdirs` (call it in afterAll). */
export function newOutdir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'jit-access-cdk-'));
  outdirs.push(dir);
  return dir;
}

export function removeOutdirs(): void {
  for (const dir of outdirs.splice(0)) rmSync(dir, { recursive: true, force: true });
}

export type Statement = { Effect: string; Action: string | string[]; Resource: unknown; Sid?: string };

export function asArray<T>(value: T | T[] | undefined): T[] {
  return value === undefined ? [] : Array.isArray(value) ? value : [value];
}

/** Every IAM statement of the template, with the logical id of the policy holding it. */
export function allStatements(template: Template): Array<Statement & { policy: string; roles: unknown }> {
  const policies = template.findResources('AWS::IAM::Policy');
  return Object.entries(policies).flatMap(([policy, resource]) =>
    (resource.Properties.PolicyDocument.Statement as Statement[]).map((statement) => ({
      ...statement,
      policy,
      roles: resource.Properties.Roles,
    })),
  );
}
