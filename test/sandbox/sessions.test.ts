import { SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import type { ExecutionInput } from '../../functions/core/model';
import type { Sandbox } from '../../local/sandbox/sandbox';
import { ACCOUNTS, PEOPLE, PERMISSION_SETS, startTestSandbox, waitFor } from './helpers';

// The sandbox policy's PowerUser ends sessions at revoke (config/sandbox-policy.yaml): a role
// session signed in from the console during a grant is refused once the grant is revoked, and one
// of ReadOnly (without the option) lives on.

let sandbox: Sandbox | undefined;
afterEach(async () => {
  await sandbox?.stop();
  sandbox = undefined;
});

interface SessionRow {
  permissionSetName: string;
  endsSessionsOnRevoke: boolean;
  verdict: { allowed: boolean; reason?: string };
}

async function grantAndSignIn(sb: Sandbox, permissionSetArn: string): Promise<string> {
  const requestId = `req-sessions-${permissionSetArn.slice(-4)}-${Date.now().toString(36)}`;
  const execution: ExecutionInput = {
    version: 1,
    request: {
      requestId,
      requester: PEOPLE.alice,
      accountId: ACCOUNTS.staging,
      permissionSetArn,
      durationMinutes: 30,
      reason: 'Fixing the staging deploy',
      requestedAt: new Date().toISOString(),
    },
  };
  await new SFNClient({}).send(
    new StartExecutionCommand({
      stateMachineArn: process.env.STATE_MACHINE_ARN,
      name: requestId,
      input: JSON.stringify(execution),
    }),
  );
  const standIn = sb.standIns.identityCenter?.standIn;
  await waitFor(
    () =>
      standIn
        ?.listAssignments()
        .some((a) => a.permissionSetArn === permissionSetArn && a.accountId === ACCOUNTS.staging),
    'the grant',
  );
  // The console's "sign in" button.
  const reply = await fetch(`${sb.url.replace('localhost', '127.0.0.1')}/api/sessions`, {
    method: 'POST',
    body: JSON.stringify({ userName: 'alice', accountId: ACCOUNTS.staging, permissionSetArn }),
  });
  expect(reply.status).toBe(200);
  return requestId;
}

const sessions = async (sb: Sandbox) =>
  (
    (await (await fetch(`${sb.url.replace('localhost', '127.0.0.1')}/api/state`)).json()) as {
      sessions: SessionRow[];
    }
  ).sessions;

it('refuses the PowerUser session signed in during the grant once it is revoked; a ReadOnly one lives on', async () => {
  sandbox = await startTestSandbox();
  const sb = sandbox;
  await grantAndSignIn(sb, PERMISSION_SETS.powerUser);
  await grantAndSignIn(sb, PERMISSION_SETS.readOnly);
  expect((await sessions(sb)).map((s) => s.verdict.allowed)).toEqual([true, true]);

  // The 30-minute grants end (3 s at the test sandbox's pace) and are revoked.
  const after = await waitFor(async () => {
    const rows = await sessions(sb);
    return rows.some((s) => !s.verdict.allowed) &&
      (sb.standIns.identityCenter?.standIn.listAssignments().length ?? 0) <= 1
      ? rows
      : undefined;
  }, 'the PowerUser session refused');
  expect(after.map((s) => [s.permissionSetName, s.endsSessionsOnRevoke, s.verdict])).toEqual([
    [
      'PowerUser',
      true,
      { allowed: false, reason: 'denied', statementId: expect.stringMatching(/^JitAccessEndSessions/) },
    ],
    ['ReadOnly', false, { allowed: true }],
  ]);
}, 30_000);
