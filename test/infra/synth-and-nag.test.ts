import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { NormalizedSchema } from '@smithy/core/schema';
import { type CfnElement, Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import { compilablePolicy } from '../../functions/cli/directory';
import { readCompiledPolicy } from '../../functions/core/policy';
import { FUNCTIONS, PROJECT_ROOT } from '../../infra/bundling';
import { SLACK_FUNCTIONS } from '../../infra/jit-access-stack';
import {
  CDK_CONTEXT,
  EXAMPLE_POLICY_FILE,
  newOutdir,
  removeOutdirs,
  type Synthesized,
  synthesize,
} from './synth';

// The real thing, once: every function bundled by esbuild, cdk-nag's AWS Solutions checks as a
// validation plugin (a finding that is not acknowledged fails synth).

interface Acknowledgement {
  path: string;
  id: string;
  reason: string;
}

interface ValidationReport {
  pluginReports: Array<{
    violations: Array<{ ruleName: string; violatingConstructs: Array<{ constructPath: string }> }>;
  }>;
}

function acknowledgements(root: IConstruct): Acknowledgement[] {
  return root.node.findAll().flatMap((construct) =>
    construct.node.metadata
      .filter((entry) => entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
      .flatMap((entry) =>
        Object.entries(entry.data as Record<string, string>).map(([qualified, reason]) => ({
          path: construct.node.path,
          id: qualified.replace(/^annotation::/i, ''),
          reason,
        })),
      ),
  );
}

let synth: Synthesized;
let assetDirs: Record<string, string>;

afterAll(removeOutdirs);

beforeAll(async () => {
  synth = await synthesize({ bundle: true, nag: true });
  synth.app.synth();
  assetDirs = Object.fromEntries(
    FUNCTIONS.map(({ name }) => {
      const fn = synth.stack.functions[name].function.node.defaultChild as CfnElement;
      const key: string =
        synth.template.toJSON().Resources[synth.stack.getLogicalId(fn)].Properties.Code.S3Key;
      return [name, path.join(synth.outdir, `asset.${key.replace(/\.zip$/, '')}`)];
    }),
  );
}, 180_000);

describe('cdk-nag AwsSolutionsChecks', () => {
  it('reports no unacknowledged finding', () => {
    // synth() above would have thrown ValidationFailed; the report, if any, has no violation
    const report = path.join(synth.outdir, 'validation-report.json');
    if (existsSync(report)) {
      const parsed = JSON.parse(readFileSync(report, 'utf8')) as ValidationReport;
      expect(parsed.pluginReports.flatMap((p) => p.violations)).toEqual([]);
    }
  });

  it('gives every acknowledgement a specific reason', () => {
    const acks = acknowledgements(synth.app);
    expect(acks.length).toBeGreaterThan(0);
    for (const ack of acks) {
      expect(ack.id).toMatch(/^AwsSolutions-[A-Z]+\d+(\[.+\])?$/);
      expect(ack.reason.length).toBeGreaterThanOrEqual(80);
    }
    // A blanket "Resource::*" acknowledgement only where CDK itself grants on *.
    const star = acks.filter((a) => a.id === 'AwsSolutions-IAM5[Resource::*]').map((a) => a.path);
    // The archiver's: the DynamoDB event source grants dynamodb:ListStreams, which has no resource.
    expect(star).toEqual(['JitAccess/Archiver/Role', 'JitAccess/StateMachineRole']);
  });

  it('has no stale acknowledgement: each one silences a finding that exists without it', async () => {
    // Prepare: the same app with every acknowledgement off
    const outdir = newOutdir();
    await expect(synthesize({ nag: true, outdir, context: { nagAcknowledgements: false } })).rejects.toThrow(
      /\(AwsSolutions\)/,
    );
    const report = JSON.parse(
      readFileSync(path.join(outdir, 'validation-report.json'), 'utf8'),
    ) as ValidationReport;
    const violations = report.pluginReports.flatMap((p) =>
      p.violations.flatMap((v) =>
        v.violatingConstructs.map((c) => ({ id: v.ruleName, path: c.constructPath })),
      ),
    );

    // Assess
    for (const ack of acknowledgements(synth.app)) {
      const matched = violations.some(
        (v) => v.id === ack.id && (v.path === ack.path || v.path.startsWith(`${ack.path}/`)),
      );
      expect({ ack, matched }).toEqual({ ack, matched: true });
    }
  }, 120_000);
});

describe('bundles', () => {
  it('builds every function with a source map and the compiled policy beside it', async () => {
    // As synth compiles it: validated, and every rule's accounts resolved to listed ids.
    const { policy } = await compilablePolicy(
      readFileSync(EXAMPLE_POLICY_FILE, 'utf8'),
      path.join(PROJECT_ROOT, CDK_CONTEXT.directory as string),
    );
    for (const { name } of FUNCTIONS) {
      const dir = assetDirs[name] as string;
      expect(existsSync(path.join(dir, 'index.js'))).toBe(true);
      expect(existsSync(path.join(dir, 'index.js.map'))).toBe(true);
      // The validated policy, as the functions read it; no YAML in the bundle.
      const copied = readFileSync(path.join(dir, 'access-policy.json'), 'utf8');
      expect(readCompiledPolicy(copied, 'bundle')).toEqual(policy);
      expect(existsSync(path.join(dir, 'access-policy.yaml'))).toBe(false);
    }
  });

  it('no bundle carries a YAML parser, the policy schema or the SDK credential chain beyond the environment', () => {
    for (const { name } of FUNCTIONS) {
      const code = readFileSync(path.join(assetDirs[name] as string, 'index.js.map'), 'utf8');
      const sources = (JSON.parse(code) as { sources: string[] }).sources;
      expect({ name, yaml: sources.filter((s) => /node_modules\/yaml\//.test(s)) }).toEqual({
        name,
        yaml: [],
      });
      expect({ name, schema: sources.filter((s) => s.endsWith('core/policy-file.ts')) }).toEqual({
        name,
        schema: [],
      });
      expect({
        name,
        sts: sources.filter((s) => /credential-provider-(ini|sso|web-identity|process)/.test(s)),
      }).toEqual({
        name,
        sts: [],
      });
    }
  });

  it('only the functions that hold the Slack token bundle a Slack client and Secrets Manager; only Bolt’s function @slack/web-api', () => {
    for (const { name } of FUNCTIONS) {
      const code = readFileSync(path.join(assetDirs[name] as string, 'index.js.map'), 'utf8');
      const sources = (JSON.parse(code) as { sources: string[] }).sources;
      const slack = sources.some((s) =>
        /(node_modules\/@aws-sdk\/client-secrets-manager\/|functions\/adapters\/slack-web-api\.ts$)/.test(s),
      );
      // The workers, decisions and the reconciler call Slack through adapters/slack-web-api.ts.
      const webApi = sources.some((s) => /node_modules\/@slack\/web-api\//.test(s));
      expect({ name, slack, webApi }).toEqual({
        name,
        slack: SLACK_FUNCTIONS.includes(name),
        webApi: name === 'slack',
      });
    }
  });

  it('no bundle can send an event-stream operation (infra/bundling-stubs/smithy-event-streams.cjs)', () => {
    // Every SDK command a bundle carries, from its source map: none may stream events, so the
    // stub that replaces the event-stream codec is never reached.
    const sent = new Set<string>();
    for (const { name } of FUNCTIONS) {
      const code = readFileSync(path.join(assetDirs[name] as string, 'index.js.map'), 'utf8');
      for (const source of (JSON.parse(code) as { sources: string[] }).sources) {
        const command =
          /node_modules\/(@aws-sdk\/client-[a-z0-9-]+)\/dist-es\/commands\/(\w+Command)\.js$/.exec(source);
        if (command) sent.add(`${command[1]} ${command[2]}`);
      }
    }
    const streaming = [...sent].filter((entry) => {
      const [pkg, commandName] = entry.split(' ') as [string, string];
      const Command = require(pkg)[commandName];
      const [, , , , input, output] = new Command({}).schema;
      return !!(
        NormalizedSchema.of(input).getEventStreamMember() ||
        NormalizedSchema.of(output).getEventStreamMember()
      );
    });
    expect(sent).toContain('@aws-sdk/client-s3 PutObjectCommand');
    expect(sent).toContain('@aws-sdk/client-sfn SendTaskSuccessCommand');
    // Lambda's Invoke is adapters/lambda-invoke.ts, not the Lambda client (its schema module).
    expect([...sent].filter((entry) => entry.startsWith('@aws-sdk/client-lambda '))).toEqual([]);
    expect(streaming).toEqual([]);
    // The check itself tells a streaming operation.
    const { InvokeWithResponseStreamCommand } = require('@aws-sdk/client-lambda');
    const [, , , , , output] = new InvokeWithResponseStreamCommand({}).schema;
    expect(NormalizedSchema.of(output).getEventStreamMember()).toBeTruthy();
  });

  it('the slack bundle carries only the Step Functions and sso-admin commands it sends', () => {
    const code = readFileSync(path.join(assetDirs.slack as string, 'index.js.map'), 'utf8');
    const commands = (JSON.parse(code) as { sources: string[] }).sources.flatMap((source) => {
      const command = /@aws-sdk\/client-(sfn|sso-admin)\/dist-es\/commands\/(\w+)\.js$/.exec(source);
      return command ? [`${command[1]} ${command[2]}`] : [];
    });
    expect(commands.sort()).toEqual(['sfn StartExecutionCommand', 'sso-admin DescribePermissionSetCommand']);
  });

  it('bundles load in plain Node.js and export a two-argument handler', () => {
    const script = `
      const out = {};
      for (const [name, dir] of Object.entries(JSON.parse(process.argv[1]))) {
        const loaded = require(require('node:path').join(dir, 'index.js'));
        out[name] = { type: typeof loaded.handler, length: loaded.handler && loaded.handler.length };
      }
      process.stdout.write(JSON.stringify(out));`;
    const result = JSON.parse(
      execFileSync(process.execPath, ['-e', script, JSON.stringify(assetDirs)], {
        env: { ...process.env, POWERTOOLS_LOG_LEVEL: 'SILENT', AWS_REGION: 'us-east-1' },
        encoding: 'utf8',
      }),
    ) as Record<string, { type: string; length: number }>;
    for (const { name } of FUNCTIONS) {
      expect(result[name]?.type).toBe('function');
      expect(result[name]?.length).toBeLessThanOrEqual(2);
    }
  });

  it('keeps the AWS SDK inside the bundles and Bolt’s unused receivers out of the slack bundle', () => {
    const slack = readFileSync(path.join(assetDirs.slack as string, 'index.js'), 'utf8');
    expect(slack.includes('is not bundled in this Lambda (infra/bundling.ts)')).toBe(true);
    const slackSources = (
      JSON.parse(readFileSync(path.join(assetDirs.slack as string, 'index.js.map'), 'utf8')) as {
        sources: string[];
      }
    ).sources;
    expect(
      slackSources.filter((s) =>
        /@slack\/bolt\/dist\/(index|receivers\/ExpressReceiver|Assistant)\.js$|node_modules\/(path-to-regexp|p-queue\/node_modules)\//.test(
          s,
        ),
      ),
    ).toEqual([]);
    for (const { name } of FUNCTIONS) {
      const code = readFileSync(path.join(assetDirs[name] as string, 'index.js'), 'utf8');
      // Only the SDK's optional CRT signer (sigv4a, loaded in a try) stays a runtime require.
      const sdkRequires = new Set([...code.matchAll(/require\("(@aws-sdk\/[^"]+)"\)/g)].map((m) => m[1]));
      expect([...sdkRequires].filter((m) => m !== '@aws-sdk/signature-v4-crt')).toEqual([]);
    }
    const sizes = Object.fromEntries(
      FUNCTIONS.map(({ name }) => [
        name,
        `${Math.round(statSync(path.join(assetDirs[name] as string, 'index.js')).size / 1024)} KiB`,
      ]),
    );
    process.stdout.write(`bundle sizes (minified): ${JSON.stringify(sizes)}\n`);
  });
});
