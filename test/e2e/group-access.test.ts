import type { Sandbox } from '../../local/sandbox/sandbox';
import type { SignedSlackClient } from '../../local/sandbox/signed-client';
import { startTestSandbox, waitFor } from '../sandbox/helpers';

// Group access end to end, driven as Slack drives it (signed /slack/events requests): Alice picks
// the sandbox policy's BillingReaders group in the request form, is added to it in the Identity
// Center stand-in for the window (the console's directory panel shows it), and is taken out at its
// end. 1 product minute = 100 ms.

const BILLING_READERS = '9067a1b2c3-b1110000-0000-4a11-8a11-000000000001';

let sandbox: Sandbox;
let slack: SignedSlackClient;

beforeEach(async () => {
  sandbox = await startTestSandbox();
  slack = sandbox.signedSlackClient;
});

afterEach(async () => {
  const host = sandbox.standIns.stepFunctions.host;
  await Promise.all(
    host
      .listExecutions({ statusFilter: 'RUNNING' })
      .map((e) => host.stopExecution(e.executionArn).catch(() => undefined)),
  );
  await sandbox.stop();
});

/** Who the console's directory panel shows in the group (the snapshot it polls), and who of them the product added. */
async function consoleGroup(displayName: string) {
  const snapshot = (await sandbox.state.snapshot()) as {
    directory: {
      groups: Array<{ displayName: string; members: string[]; granted: Record<string, string[]> }>;
    };
  };
  return snapshot.directory.groups.find((g) => g.displayName === displayName);
}
const consoleMembers = async (displayName: string) => (await consoleGroup(displayName))?.members ?? [];

describe('group access through Slack', () => {
  it('adds the requester to the group for the window and takes them out at its end', async () => {
    expect(await consoleMembers('BillingReaders')).toEqual([]);
    const reply = await slack.command('alice', '');
    expect(reply.status).toBe(200);
    await waitFor(
      () => slack.topView('alice')?.view.callback_id === 'request_access_form',
      'the request form',
    );
    const submitted = await slack.submit('alice', {
      account: `group:${BILLING_READERS}`,
      duration: '30',
      reason: 'Checking last month’s bill',
    });
    expect(submitted.errors).toBeUndefined();

    await waitFor(
      async () => (await consoleMembers('BillingReaders')).includes('alice'),
      'alice in BillingReaders',
    );
    const record = await waitFor(
      async () => (await sandbox.state.requests()).find((r) => r.request.groupId === BILLING_READERS),
      'the stored request',
    );
    expect(record).toMatchObject({ groupName: 'BillingReaders', ruleName: 'billing-readers' });
    // The panel marks the membership as the product's, held for this request (once Grant stored
    // its holders record, just after Identity Center answered).
    await waitFor(
      async () => (await consoleGroup('BillingReaders'))?.granted.alice?.includes(record.request.requestId),
      'alice marked granted in BillingReaders',
    );
    // A membership someone had before is not marked (Dave, a permanent IncidentResponders member).
    expect(await consoleGroup('IncidentResponders')).toMatchObject({ members: ['dave'], granted: {} });
    const dm = await waitFor(
      () => slack.directMessages('alice').find((m) => (m.text ?? '').includes('Access ready')),
      'the Access ready DM',
    );
    expect(JSON.stringify(dm)).toContain('BillingReaders');

    // 30 minutes = 3 s: the window ends and the membership goes.
    await waitFor(
      async () => !(await consoleMembers('BillingReaders')).includes('alice'),
      'alice out of BillingReaders',
      15_000,
    );
    await waitFor(
      async () =>
        (await sandbox.state.requests()).find((r) => r.request.requestId === record.request.requestId)
          ?.status === 'REVOKED',
      'the request revoked',
    );
  }, 60_000);
});
