import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { exportTrail, fromJsonl, report, toJsonl } from '../../functions/cli/audit';
import type { ExecutionInput } from '../../functions/core/model';
import { requestDecisions } from '../../local/product-wiring';
import {
  DEFAULT_POLICY_FILE,
  DEFAULT_SANDBOX_FILE,
  type Sandbox,
  startSandbox,
} from '../../local/sandbox/sandbox';
import { ACCOUNTS, PEOPLE, PERMISSION_SETS, startTestSandbox, waitFor } from './helpers';

// The sandbox wires the real handlers and the real ASL file to the stand-ins through the SDKs'
// endpoint variables; these tests drive the workflow through the AWS SDK alone (the Slack side
// is covered by test/e2e).

let sandbox: Sandbox | undefined;
let sequence = 0;

afterEach(async () => {
  await sandbox?.stop();
  sandbox = undefined;
});

function startRequest(input: { accountId: string; requester: { slackUserId: string; email: string } }) {
  sequence += 1;
  const requestId = `req-sandbox-${sequence}-${Date.now().toString(36)}`;
  const execution: ExecutionInput = {
    version: 1,
    request: {
      requestId,
      requester: input.requester,
      accountId: input.accountId,
      permissionSetArn: PERMISSION_SETS.readOnly,
      durationMinutes: 30,
      reason: 'Looking at the incident dashboard',
      requestedAt: new Date().toISOString(),
    },
  };
  // The product's own path: the SFN SDK at AWS_ENDPOINT_URL_SFN, as the Slack handler starts it.
  return new SFNClient({})
    .send(
      new StartExecutionCommand({
        stateMachineArn: process.env.STATE_MACHINE_ARN,
        name: requestId,
        input: JSON.stringify(execution),
      }),
    )
    .then(() => requestId);
}

/**
 * Read from the stand-in in process: polled every 20 ms through the API, the test alone would
 * spend Identity Center's 20 calls a second and throttle the product it watches.
 */
async function assignedPrincipals(accountId: string): Promise<string[]> {
  const standIn = sandbox?.standIns.identityCenter?.standIn;
  if (!standIn) throw new Error('no Identity Center stand-in');
  return standIn
    .listAssignments()
    .filter((a) => a.accountId === accountId && a.permissionSetArn === PERMISSION_SETS.readOnly)
    .map((a) => a.principalId);
}

function principalOf(sb: Sandbox, email: string): string {
  const user = sb.standIns.identityCenter?.standIn.users().find((u) => u.email === email);
  if (!user) throw new Error(`no Identity Center user ${email}`);
  return user.userId;
}

describe('startSandbox', () => {
  it('serves the console and its state on an ephemeral port and names every service', async () => {
    sandbox = await startTestSandbox();

    const page = await fetch(sandbox.url.replace('localhost', '127.0.0.1'));
    const state = (await (
      await fetch(`${sandbox.url.replace('localhost', '127.0.0.1')}/api/state`)
    ).json()) as {
      personas: Array<{ role: string }>;
      assignments: Array<{ userName: string; permanent: boolean }>;
    };

    expect(page.status).toBe(200);
    expect(await page.text()).toContain('JIT AWS access');
    expect(sandbox.url).toMatch(/^http:\/\/localhost:\d+$/);
    expect(sandbox.slackEventsUrl).toBe(`${sandbox.url}/slack/events`);
    expect(state.personas.map((p) => p.role)).toEqual(['requester', 'approver', 'admin']);
    expect(state.assignments).toEqual([expect.objectContaining({ userName: 'dave', permanent: true })]);
    expect(sandbox.services.map((s) => s.line)).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^Step Functions: local .* at http:\/\/127\.0\.0\.1:\d+/),
        expect.stringMatching(/^Identity Center: stand-in at http:\/\/127\.0\.0\.1:\d+$/),
        expect.stringMatching(/^DynamoDB: dynalite at http:\/\/127\.0\.0\.1:\d+ \(in memory\)$/),
        expect.stringMatching(/^Slack Web API: stand-in at http:\/\/127\.0\.0\.1:\d+\/api\/$/),
      ]),
    );
  });

  it('points the SDK endpoint variables at the stand-ins and restores the environment on stop', async () => {
    const before = process.env.AWS_ENDPOINT_URL_SSO_ADMIN;
    sandbox = await startTestSandbox();

    expect(process.env.AWS_ENDPOINT_URL_SSO_ADMIN).toBe(sandbox.standIns.identityCenter?.url);
    expect(process.env.AWS_ENDPOINT_URL_IDENTITYSTORE).toBe(sandbox.standIns.identityCenter?.url);
    expect(process.env.AWS_ENDPOINT_URL_DYNAMODB).toBe(sandbox.standIns.dynamo?.endpoint);
    expect(process.env.AWS_ENDPOINT_URL_SFN).toBe(sandbox.standIns.stepFunctions.url);
    expect(process.env.STATE_MACHINE_ARN).toBe(sandbox.standIns.stepFunctions.host.stateMachineArn);
    expect(process.env.SLACK_API_URL).toBe(`${sandbox.standIns.slack?.url}/api/`);

    await sandbox.stop();
    sandbox = undefined;
    expect(process.env.AWS_ENDPOINT_URL_SSO_ADMIN).toBe(before);
    expect(process.env.STATE_MACHINE_ARN).toBeUndefined();
  });

  it('refuses a second sandbox in the same process', async () => {
    sandbox = await startTestSandbox();

    await expect(startTestSandbox()).rejects.toThrow(/already running/);
  });

  it('runs an auto-approved request through the real ASL: granted, then revoked when the window ends', async () => {
    sandbox = await startTestSandbox();
    const sb = sandbox;
    const alice = principalOf(sb, PEOPLE.alice.email);

    const requestId = await startRequest({ accountId: ACCOUNTS.staging, requester: PEOPLE.alice });

    await waitFor(async () => (await assignedPrincipals(ACCOUNTS.staging)).includes(alice), 'the grant');
    // 30 minutes at 100 ms a minute: the window closes about 3 s after it opened.
    await waitFor(
      async () => !(await assignedPrincipals(ACCOUNTS.staging)).includes(alice),
      'the revoke',
      15_000,
    );
    const actions = await waitFor(async () => {
      const events = (await sb.state.auditEvents()).filter((e) => e.requestId === requestId);
      return events.some((e) => e.action === 'request.closed') && events.map((e) => e.action);
    }, 'the request to close');
    expect(actions).toEqual(
      expect.arrayContaining(['approval.auto', 'window.opened', 'window.expired', 'revoke.succeeded']),
    );
    const host = sb.standIns.stepFunctions.host;
    const execution = await host.waitForExecution(host.listExecutions()[0]?.executionArn ?? '');
    expect(execution.status).toBe('SUCCEEDED');
  });

  it('archives the trail of a request once, and its export verifies until one byte changes', async () => {
    sandbox = await startTestSandbox();
    const sb = sandbox;
    const requestId = await startRequest({ accountId: ACCOUNTS.staging, requester: PEOPLE.alice });
    await waitFor(
      async () =>
        (await sb.state.auditEvents()).some(
          (e) => e.requestId === requestId && e.action === 'request.closed',
        ),
      'the request to close',
      15_000,
    );
    const archive = sb.standIns.archive;
    if (!archive) throw new Error('the sandbox has no archive');
    const source = { client: new DynamoDBClient({}), table: sb.tables.auditTable };
    // The writer links an event right after putting it: wait for the last link, then deliver.
    const trail = await waitFor(async () => {
      const read = await exportTrail(source, { requestId });
      return read.lines.every((l) => l.link !== null) && read;
    }, 'every event linked');
    await archive.stream.poll();
    // One object per linked event, none twice.
    const keys = archive.s3
      .written()
      .map((w) => w.key)
      .filter((k) => k.includes(`request=${requestId}/`));
    expect(keys).toHaveLength(trail.lines.length);
    expect(new Set(keys).size).toBe(keys.length);
    expect(sb.services.map((x) => x.line)).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^Audit archive: S3 stand-in at http:\/\/127\.0\.0\.1:\d+/),
      ]),
    );
    // The console shows what the archive holds.
    const state = (await (await fetch(`${sb.url.replace('localhost', '127.0.0.1')}/api/state`)).json()) as {
      archive: { objects: number; lagP50Ms: number | null } | null;
    };
    expect(state.archive?.objects).toBeGreaterThanOrEqual(keys.length);
    expect(state.archive?.lagP50Ms).toEqual(expect.any(Number));
    const printed: string[] = [];
    expect(report(trail, (line) => printed.push(line))).toBe(true);
    const text = toJsonl(trail);
    const at = text.indexOf('"actor":"') + 9;
    const flipped = `${text.slice(0, at)}${text[at] === 'x' ? 'y' : 'x'}${text.slice(at + 1)}`;
    expect(report(fromJsonl(flipped), (line) => printed.push(line))).toBe(false);
    expect(printed.at(-2)).toMatch(
      new RegExp(
        `^BROKEN request ${requestId}, event \\S+ \\(link 1\\): event content does not match its link`,
      ),
    );
    source.client.destroy();
  });

  it('waits for an approver, and keeps the permanent assignment of a pre-existing holder', async () => {
    sandbox = await startTestSandbox();
    const sb = sandbox;
    const dave = principalOf(sb, PEOPLE.dave.email);

    const requestId = await startRequest({ accountId: ACCOUNTS.production, requester: PEOPLE.dave });
    await waitFor(
      async () =>
        (await sb.state.auditEvents()).some(
          (e) => e.requestId === requestId && e.action === 'approval.requested',
        ),
      'the approval request',
    );
    const decision = await (await requestDecisions()).decide(requestId, PEOPLE.carol, 'approve');
    expect(decision.kind).toBe('approved');
    const host = sb.standIns.stepFunctions.host;
    const execution = await host.waitForExecution(host.listExecutions()[0]?.executionArn ?? '');

    expect(execution.status).toBe('SUCCEEDED');

    expect(await assignedPrincipals(ACCOUNTS.production)).toContain(dave);
    const kept = (await sb.state.auditEvents()).find(
      (e) => e.requestId === requestId && e.action === 'revoke.kept',
    );
    expect(kept?.details).toEqual(expect.objectContaining({ keptBecause: 'pre-existing' }));
  });
});

describe('the console', () => {
  it('shows an execution waiting for its approval channel slot (admission)', async () => {
    // Real time, so a slot a second or two away is still ahead when the console is read.
    sandbox = await startTestSandbox({ msPerMinute: 60_000 });
    const sb = sandbox;
    await Promise.all(
      [PEOPLE.alice, PEOPLE.alice, PEOPLE.alice].map((requester) =>
        startRequest({ accountId: ACCOUNTS.production, requester }),
      ),
    );
    const waiting = await waitFor(async () => {
      const snap = (await sb.state.snapshot()) as {
        executions: Array<{ admissionSlot: { phase: string; at: string } | null }>;
      };
      return (
        snap.executions.find((e) => e.admissionSlot?.phase === 'approval post')?.admissionSlot ?? undefined
      );
    }, 'an execution waiting for its approval post slot');
    expect(Date.parse(waiting.at)).toBeGreaterThan(Date.now() - 1000);
  });
});

describe('--persist', () => {
  it('keeps requests and the audit trail in its folder across restarts', async () => {
    const folder = await mkdtemp(path.join(os.tmpdir(), 'sandbox-persist-'));
    try {
      sandbox = await startTestSandbox({ persistDir: folder });
      const first = sandbox;
      const requestId = await startRequest({ accountId: ACCOUNTS.staging, requester: PEOPLE.alice });
      const host = first.standIns.stepFunctions.host;
      await host.waitForExecution(host.listExecutions()[0]?.executionArn ?? '');
      expect(first.services.find((s) => s.service === 'DynamoDB')?.line).toContain(`persisted in ${folder}`);
      await first.stop();

      sandbox = await startTestSandbox({ persistDir: folder });
      const again = sandbox;

      expect((await again.state.requests()).map((r) => r.request.requestId)).toContain(requestId);
      expect(
        (await again.state.auditEvents()).filter((e) => e.requestId === requestId).length,
      ).toBeGreaterThan(5);
    } finally {
      await sandbox?.stop();
      sandbox = undefined;
      await rm(folder, { recursive: true, force: true });
    }
  });
});

describe('real services', () => {
  it('uses real Identity Center with credentials and a policy of its own, and says so', async () => {
    const policy = path.join(os.tmpdir(), `real-policy-${process.pid}.yaml`);
    const text = await readFile(DEFAULT_POLICY_FILE, 'utf8');
    await writeFile(policy, text.replaceAll('ssoins-7223a1b2c3d4e5f6', 'ssoins-0123456789abcdef'));
    const credentials = { AWS_ACCESS_KEY_ID: 'AKIAEXAMPLEEXAMPLE', AWS_SECRET_ACCESS_KEY: 'example' };
    const saved = { id: process.env.AWS_ACCESS_KEY_ID, secret: process.env.AWS_SECRET_ACCESS_KEY };
    Object.assign(process.env, credentials);
    try {
      // Nothing calls Identity Center at start: no request leaves the machine.
      sandbox = await startSandbox({ port: 0, policyFile: policy, env: { ...credentials } });

      expect(sandbox.standIns.identityCenter).toBeUndefined();
      expect(process.env.AWS_ENDPOINT_URL_SSO_ADMIN).toBeUndefined();
      expect(process.env.AWS_ACCESS_KEY_ID).toBe(credentials.AWS_ACCESS_KEY_ID);
      expect(sandbox.services.map((s) => s.line)).toEqual(
        expect.arrayContaining([
          'Identity Center: AWS (credentials from the environment, us-east-1)',
          expect.stringMatching(/^DynamoDB: dynalite/),
          expect.stringMatching(/^Slack Web API: stand-in/),
        ]),
      );
    } finally {
      await sandbox?.stop();
      sandbox = undefined;
      for (const [name, value] of [
        ['AWS_ACCESS_KEY_ID', saved.id],
        ['AWS_SECRET_ACCESS_KEY', saved.secret],
      ] as const) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
    }
  });
});

describe('sandbox files', () => {
  it('rejects a policy that names what the Identity Center seed does not know', async () => {
    const policy = path.join(os.tmpdir(), `sandbox-policy-${process.pid}.yaml`);
    const text = await readFile(DEFAULT_POLICY_FILE, 'utf8');
    const edited = text.replace('"111111111111"', '"555555555555"');
    expect(edited).not.toBe(text);
    await writeFile(policy, edited);

    await expect(
      startSandbox({ port: 0, forceStandIns: true, policyFile: policy, sandboxFile: DEFAULT_SANDBOX_FILE }),
    ).rejects.toThrow(/account 555555555555 is not in the sandbox file/);
  });
});
