import { createHandler as createReconcilerHandler } from '../../functions/reconciler';
import type { Sandbox } from '../../local/sandbox/sandbox';
import type { AnswerTiming, SignedSlackClient } from '../../local/sandbox/signed-client';
import { FORM, signRequest, slashCommandBody } from '../../local/sandbox/slack-payloads';
import { ACCOUNTS, PEOPLE, PERMISSION_SETS, startTestSandbox, waitFor } from '../sandbox/helpers';

// The product end to end, driven as Slack drives it: every step is a signed HTTP request to
// /slack/events (slash command, block_suggestion, view_submission, block_actions), the workflow is
// the real ASL on the local Step Functions host, and what Identity Center holds is read back
// through the real sso-admin SDK client against the stand-in. 1 product minute = 100 ms.

const APPROVALS = 'C0APPROVALS';

let sandbox: Sandbox;
let slack: SignedSlackClient;

beforeEach(async () => {
  sandbox = await startTestSandbox();
  slack = sandbox.signedSlackClient;
  // Built after the sandbox set AWS_ENDPOINT_URL_SSO_ADMIN: the SDK's own endpoint resolution.
});

afterEach(async () => {
  // Let running executions end so no handler calls a stand-in that is gone.
  const host = sandbox.standIns.stepFunctions.host;
  await Promise.all(
    host
      .listExecutions({ statusFilter: 'RUNNING' })
      .map((e) => host.stopExecution(e.executionArn).catch(() => undefined)),
  );
  await sandbox.stop();
});

function principalOf(email: string): string {
  const user = sandbox.standIns.identityCenter?.standIn.users().find((u) => u.email === email);
  if (!user) throw new Error(`no Identity Center user ${email}`);
  return user.userId;
}

/**
 * Read from the stand-in in process: polled every 20 ms through the API, the test alone would
 * spend Identity Center's 20 calls a second and throttle the product it watches.
 */
async function assigned(accountId: string, permissionSetArn: string): Promise<string[]> {
  const standIn = sandbox.standIns.identityCenter?.standIn;
  if (!standIn) throw new Error('no Identity Center stand-in');
  return standIn
    .listAssignments()
    .filter((a) => a.accountId === accountId && a.permissionSetArn === permissionSetArn)
    .map((a) => a.principalId);
}

/** `/request-access`, then the form filled and submitted as the person would. */
async function requestAccess(
  who: string,
  form: { account: string; permissionSet: string; duration: string; reason: string },
): Promise<string> {
  const before = new Set((await sandbox.state.requests()).map((r) => r.request.requestId));
  const reply = await slack.command(who, '');
  expect(reply.status).toBe(200);
  await waitFor(() => slack.topView(who)?.view.callback_id === 'request_access_form', 'the request form');
  const submitted = await slack.submit(who, {
    account: form.account,
    permission_set: form.permissionSet,
    duration: form.duration,
    reason: form.reason,
  });
  expect(submitted.reply.status).toBe(200);
  expect(submitted.errors).toBeUndefined();
  const record = await waitFor(
    async () => (await sandbox.state.requests()).find((r) => !before.has(r.request.requestId)),
    'the stored request',
  );
  return record.request.requestId;
}

const approvalMessage = (requestId: string) =>
  slack.channelMessages(APPROVALS).find((m) => (m.text ?? '').includes(requestId));

async function statusOf(requestId: string): Promise<string | undefined> {
  return (await sandbox.state.requests()).find((r) => r.request.requestId === requestId)?.status;
}

async function auditActions(requestId: string): Promise<string[]> {
  return (await sandbox.state.auditEvents()).filter((e) => e.requestId === requestId).map((e) => e.action);
}

/**
 * Opens `who`'s Home tab until it shows `text`, as a person clicks the tab again when it looks
 * stale: on a loaded machine one views.publish can time out (the app's Slack client gives up),
 * and Slack sends app_home_opened again on the next visit.
 */
async function homeShowing(who: string, text: string) {
  let openedAt = 0;
  return waitFor(
    async () => {
      const home = slack.homeView(who);
      if (JSON.stringify(home?.view.blocks ?? []).includes(text)) return home;
      if (Date.now() - openedAt > 2000) {
        openedAt = Date.now();
        await slack.openHome(who);
      }
      return false;
    },
    `${text} on ${who}'s Home tab`,
    20_000,
  );
}

/** Alice's 4 hours of PowerUser on staging (a self-service rule), granted. */
async function selfServiceGrant(): Promise<string> {
  const requestId = await requestAccess('alice', {
    account: 'staging',
    permissionSet: 'PowerUser',
    duration: '240',
    reason: 'Deploying a hotfix',
  });
  const alice = principalOf(PEOPLE.alice.email);
  await waitFor(
    async () => (await assigned(ACCOUNTS.staging, PERMISSION_SETS.powerUser)).includes(alice),
    'the self-service grant',
  );
  return requestId;
}

describe('an access request through Slack', () => {
  it('is approved, granted in Identity Center, and revoked when the window ends', async () => {
    const alice = principalOf(PEOPLE.alice.email);

    const requestId = await requestAccess('alice', {
      account: 'production',
      permissionSet: 'ReadOnly',
      duration: '30',
      reason: 'Investigating INC-42',
    });
    const message = await waitFor(() => approvalMessage(requestId), 'the approval message');
    expect(JSON.stringify(message.blocks)).toContain('approve_request');
    expect(await assigned(ACCOUNTS.production, PERMISSION_SETS.readOnly)).not.toContain(alice);

    const click = await slack.click('carol', { channel: APPROVALS, ts: message.ts }, 'Approve');
    expect(click.status).toBe(200);

    await waitFor(
      async () => (await assigned(ACCOUNTS.production, PERMISSION_SETS.readOnly)).includes(alice),
      'the assignment',
    );
    await waitFor(
      () => slack.directMessages('alice').some((m) => (m.text ?? '').includes('Access ready')),
      'the access-ready DM',
    );
    // 30 minutes at 100 ms a minute.
    await waitFor(
      async () => !(await assigned(ACCOUNTS.production, PERMISSION_SETS.readOnly)).includes(alice),
      'the revoke',
      15_000,
    );
    await waitFor(async () => (await statusOf(requestId)) === 'REVOKED', 'REVOKED');
    await waitFor(
      () => slack.directMessages('alice').some((m) => (m.text ?? '').includes('has been revoked')),
      'the revoked DM',
    );
    expect(await auditActions(requestId)).toEqual(
      expect.arrayContaining([
        'request.submitted',
        'approval.requested',
        'approval.approved',
        'grant.succeeded',
        'window.opened',
        'window.expired',
        'revoke.succeeded',
        'request.closed',
      ]),
    );
    expect(approvalMessage(requestId)?.text).toContain('Expired; access revoked');
    // Every answer the app gave Slack is timed against Slack's 3 s, as the console shows it.
    const { answers } = (await sandbox.state.snapshot()) as unknown as {
      answers: { deadlineMs: number; recent: AnswerTiming[] };
    };
    expect(answers.deadlineMs).toBe(3000);
    expect(answers.recent.map((a) => a.kind)).toEqual(
      expect.arrayContaining(['/request-access', 'view_submission', 'block_actions']),
    );
    for (const answer of answers.recent) expect(answer.elapsedMs).toBeLessThan(answers.deadlineMs);
  });

  it('ends early when the requester clicks End access now', async () => {
    const alice = principalOf(PEOPLE.alice.email);
    const requestId = await selfServiceGrant();
    const granted = await waitFor(
      () => slack.directMessages('alice').find((m) => JSON.stringify(m.blocks ?? []).includes('end_access')),
      'the DM with End access now',
    );

    const click = await slack.click('alice', { channel: 'dm', ts: granted.ts }, 'End access now');

    expect(click.status).toBe(200);
    await waitFor(
      async () => !(await assigned(ACCOUNTS.staging, PERMISSION_SETS.powerUser)).includes(alice),
      'the early revoke',
    );
    await waitFor(async () => (await statusOf(requestId)) === 'REVOKED', 'REVOKED');
    await waitFor(
      () => slack.directMessages('alice').some((m) => (m.text ?? '').includes('has been revoked')),
      'the revoked DM',
    );
    expect(await auditActions(requestId)).toEqual(
      expect.arrayContaining(['approval.auto', 'window.ended-early']),
    );
  });

  it('offboards a person Slack deactivates: their live grant revoked at once, their pending request cancelled', async () => {
    const alice = principalOf(PEOPLE.alice.email);
    const live = await selfServiceGrant();
    await waitFor(async () => (await statusOf(live)) === 'ACTIVE', 'ACTIVE');
    const pending = await requestAccess('alice', {
      account: 'production',
      permissionSet: 'ReadOnly',
      duration: '30',
      reason: 'Looking at INC-77',
    });
    const message = await waitFor(() => approvalMessage(pending), 'the approval message');

    // A Slack admin deactivates her: Slack sends user_change, the app hands the offboarding off.
    sandbox.standIns.slack?.standIn.deactivateUser(PEOPLE.alice.slackUserId);

    await waitFor(
      async () => !(await assigned(ACCOUNTS.staging, PERMISSION_SETS.powerUser)).includes(alice),
      'the offboarding revoke',
    );
    await waitFor(async () => (await statusOf(live)) === 'REVOKED', 'REVOKED');
    await waitFor(async () => (await statusOf(pending)) === 'CANCELLED', 'CANCELLED');
    const events = await sandbox.state.auditEvents();
    const trail = (id: string) => events.filter((e) => e.requestId === id).map((e) => [e.action, e.actor]);
    expect(trail(live)).toEqual(
      expect.arrayContaining([
        ['user.offboarded', 'system:offboarding'],
        ['window.ended-early', 'system:offboarding'],
      ]),
    );
    expect(trail(pending)).toEqual(expect.arrayContaining([['request.cancelled', 'system:offboarding']]));
    expect(trail(`person:${PEOPLE.alice.slackUserId}`)).toEqual([['user.offboarded', 'system:offboarding']]);
    await waitFor(
      () =>
        !JSON.stringify(slack.channelMessages(APPROVALS).find((m) => m.ts === message.ts)?.blocks).includes(
          'approve_request',
        ),
      'the approval message without buttons',
    );
    await waitFor(
      () =>
        (sandbox.standIns.slack?.standIn.messages() ?? []).some((m) =>
          (m.text ?? '').includes(`Offboarded ${PEOPLE.alice.slackUserId} (${PEOPLE.alice.email})`),
        ),
      'the offboarding alert',
    );
  });

  it('offboards a person Identity Center no longer has: the reconciler finds them, their grant ends', async () => {
    const alice = principalOf(PEOPLE.alice.email);
    const live = await selfServiceGrant();
    await waitFor(async () => (await statusOf(live)) === 'ACTIVE', 'ACTIVE');

    // An admin deletes her in Identity Center (or the IdP's SCIM deprovisioning does): her
    // assignments go with her; the product's record and her sessions do not, until the reconciler.
    sandbox.standIns.identityCenter?.standIn.deleteUser(alice);
    await createReconcilerHandler()({}, {} as never);

    await waitFor(async () => (await statusOf(live)) === 'REVOKED', 'REVOKED');
    const events = (await sandbox.state.auditEvents()).filter((e) => e.requestId === live);
    expect(events.map((e) => [e.action, e.actor])).toEqual(
      expect.arrayContaining([
        ['user.offboarded', 'system:offboarding'],
        ['window.ended-early', 'system:offboarding'],
        ['revoke.succeeded', 'system:workflow'],
      ]),
    );
    expect(events.find((e) => e.action === 'user.offboarded')?.details).toMatchObject({
      reason: 'identity-center-user-gone',
    });
  });

  it('breaks the glass: granted at once, the security channel alerted, a reviewer marks it', async () => {
    const ADMIN = 'arn:aws:sso:::permissionSet/ssoins-7223a1b2c3d4e5f6/ps-0a0b0c0d0e0f0a0b';
    const carol = principalOf(PEOPLE.carol.email);
    const before = new Set((await sandbox.state.requests()).map((r) => r.request.requestId));
    await slack.command('carol', '');
    await waitFor(
      () => slack.topView('carol')?.view.callback_id === 'request_access_form',
      'the request form',
    );
    expect(JSON.stringify(slack.topView('carol')?.view.blocks)).toContain('break_glass');
    const submitted = await slack.submit('carol', {
      account: 'production',
      permission_set: 'AdministratorAccess',
      duration: '60',
      reason: 'Production down, no approver answering',
      ticket: 'INC-99',
      break_glass: 'break-glass',
    });
    expect(submitted.errors).toBeUndefined();
    const record = await waitFor(
      async () => (await sandbox.state.requests()).find((r) => !before.has(r.request.requestId)),
      'the stored request',
    );
    const requestId = record.request.requestId;
    // No approval message: granted at once.
    await waitFor(async () => (await assigned(ACCOUNTS.production, ADMIN)).includes(carol), 'the grant');
    expect(approvalMessage(requestId)).toBeUndefined();
    const alert = await waitFor(
      () =>
        slack.channelMessages('C0SECURITY').find((m) => JSON.stringify(m.blocks ?? []).includes(requestId)),
      'the security channel alert',
    );
    expect(JSON.stringify(alert.blocks)).toContain('breakglass_justified');

    // Dave's Home tab lists it to review; Carol's does not (her own use).
    await homeShowing('dave', 'Break-glass uses to review');
    await slack.openHome('carol');
    await waitFor(() => slack.homeView('carol'), "carol's Home tab");
    expect(JSON.stringify(slack.homeView('carol')?.view.blocks)).not.toContain('Break-glass uses to review');

    // carol may not review her own use; dave (a platform admin) marks it.
    await slack.click('carol', { channel: 'C0SECURITY', ts: alert.ts }, 'Justified');
    await slack.click('dave', { channel: 'C0SECURITY', ts: alert.ts }, 'Justified');
    await waitFor(
      () =>
        JSON.stringify(slack.channelMessages('C0SECURITY').find((m) => m.ts === alert.ts)?.blocks).includes(
          'Reviewed by dave@example.com',
        ),
      'the reviewed alert',
    );
    const reviewed = (await sandbox.state.requests()).find((r) => r.request.requestId === requestId);
    expect(reviewed?.breakGlass?.review).toMatchObject({ by: PEOPLE.dave.email, verdict: 'justified' });
    expect(await auditActions(requestId)).toEqual(
      expect.arrayContaining([
        'approval.auto',
        'breakglass.activated',
        'breakglass.alerted',
        'breakglass.reviewed',
      ]),
    );
    // The ready DM offers End, not Extend.
    const ready = await waitFor(
      () =>
        slack
          .directMessages('carol')
          .find(
            (m) =>
              JSON.stringify(m.blocks ?? []).includes(requestId) &&
              JSON.stringify(m.blocks ?? []).includes('end_access'),
          ),
      'the ready DM',
    );
    expect(JSON.stringify(ready.blocks)).not.toContain('extend_access');
  });

  it('is denied with a reason: nothing is granted and the requester is told', async () => {
    const requestId = await requestAccess('alice', {
      account: 'production',
      permissionSet: 'PowerUser',
      duration: '60',
      reason: 'Tuning the database',
    });
    const message = await waitFor(() => approvalMessage(requestId), 'the approval message');

    await slack.click('carol', { channel: APPROVALS, ts: message.ts }, 'Deny');
    await waitFor(() => slack.topView('carol')?.view.callback_id === 'deny_reason_form', 'the deny form');
    const denied = await slack.submit('carol', { deny_reason: 'Not during the change freeze' });

    expect(denied.reply.status).toBe(200);
    await waitFor(async () => (await statusOf(requestId)) === 'DENIED', 'DENIED');
    await waitFor(
      () => slack.directMessages('alice').some((m) => (m.text ?? '').includes('was denied')),
      'the denied DM',
    );
    const counters = sandbox.standIns.identityCenter?.standIn.counters();
    expect(counters?.creationsRequested).toBe(0);
    expect(await auditActions(requestId)).toEqual(
      expect.arrayContaining(['approval.denied', 'request.closed']),
    );
  });

  it('is cancelled by its requester from the Home tab: every approval message loses its buttons, nothing is granted', async () => {
    const alice = principalOf(PEOPLE.alice.email);
    const requestId = await requestAccess('alice', {
      account: 'production',
      permissionSet: 'ReadOnly',
      duration: '30',
      reason: 'Looking at INC-51',
    });
    const message = await waitFor(() => approvalMessage(requestId), 'the approval message');
    expect(JSON.stringify(message.blocks)).toContain('approve_request');
    const approverDm = (who: string) =>
      slack.directMessages(who).find((m) => JSON.stringify(m.blocks ?? []).includes(requestId));
    // The rule DMs its approvers: the on-call SRE's copy has the buttons too.
    const dm = await waitFor(() => approverDm('carol'), "carol's DM of the approval request");
    expect(JSON.stringify(dm.blocks)).toContain('approve_request');

    await homeShowing('alice', 'cancel_request');
    const click = await slack.click('alice', { home: true }, 'Cancel request');

    expect(click.status).toBe(200);
    await waitFor(async () => (await statusOf(requestId)) === 'CANCELLED', 'CANCELLED');
    await waitFor(
      () => slack.directMessages('alice').some((m) => (m.text ?? '').includes('was cancelled')),
      'the cancelled DM',
    );
    await waitFor(
      () => !JSON.stringify(approvalMessage(requestId)?.blocks ?? []).includes('approve_request'),
      'the approval message without its buttons',
    );
    expect(approvalMessage(requestId)?.text).toContain('Cancelled by alice@example.com');
    await waitFor(
      () => !JSON.stringify(approverDm('carol')?.blocks ?? []).includes('approve_request'),
      "carol's DM without its buttons",
    );
    expect(approverDm('carol')?.text).toContain('Cancelled by alice@example.com');
    await waitFor(
      async () => (await auditActions(requestId)).includes('request.closed'),
      'the closed request',
    );
    expect(await auditActions(requestId)).toEqual(
      expect.arrayContaining([
        'request.submitted',
        'approval.requested',
        'request.cancelled',
        'request.closed',
      ]),
    );
    expect(await auditActions(requestId)).not.toContain('approval.approved');
    expect(sandbox.standIns.identityCenter?.standIn.counters().creationsRequested).toBe(0);
    expect(await assigned(ACCOUNTS.production, PERMISSION_SETS.readOnly)).not.toContain(alice);
    // Nothing left to click: the signed client finds no Approve in either copy.
    await expect(slack.click('carol', { channel: APPROVALS, ts: message.ts }, 'Approve')).rejects.toThrow(
      /No button "Approve"/,
    );
    await expect(slack.click('carol', { latestIn: 'dm' }, 'Approve')).rejects.toThrow(/No button "Approve"/);
  });

  it('starts later: the form takes a start, Home says when and offers Cancel, and a cancelled one grants nothing', async () => {
    const alice = principalOf(PEOPLE.alice.email);
    await slack.command('alice', '');
    const form = await waitFor(() => slack.topView('alice'), 'the request form');
    // The self-service rule allows a later start: the form offers the picker.
    expect(JSON.stringify(form.view.blocks)).toContain('datetimepicker');
    const startSeconds = Math.floor(Date.now() / 1000) + 2 * 3600;
    const submitted = await slack.submit('alice', {
      account: 'staging',
      permission_set: 'ReadOnly',
      duration: '60',
      reason: 'Release on the afternoon',
      start_at: startSeconds,
    });
    expect(submitted.errors).toBeUndefined();
    const record = await waitFor(
      async () => (await sandbox.state.requests()).find((r) => r.request.startAt !== undefined),
      'the stored scheduled request',
    );
    expect(Date.parse(record.request.startAt ?? '')).toBe(startSeconds * 1000);
    const requestId = record.request.requestId;
    await waitFor(async () => (await statusOf(requestId)) === 'APPROVED', 'APPROVED (auto)');
    // Approved, waiting for its start: nothing granted, Home says when it starts and offers Cancel.
    expect(await assigned(ACCOUNTS.staging, PERMISSION_SETS.readOnly)).not.toContain(alice);
    // The console's Executions table shows it waiting for its start.
    const waiting = await waitFor(async () => {
      const snap = (await sandbox.state.snapshot()) as {
        executions: Array<{ name: string; admissionSlot: { phase: string; at: string } | null }>;
      };
      const slot = snap.executions.find((e) => e.name === requestId)?.admissionSlot;
      return slot?.phase === 'start' ? slot : undefined;
    }, 'the execution waiting for its start');
    expect(Date.parse(waiting.at)).toBe(startSeconds * 1000);
    const home = await homeShowing('alice', `<!date^${startSeconds}^`);
    expect(JSON.stringify(home.view.blocks)).toContain('cancel_request');

    const click = await slack.click('alice', { home: true }, 'Cancel request');
    expect(click.status).toBe(200);
    await waitFor(async () => (await statusOf(requestId)) === 'CANCELLED', 'CANCELLED');
    // The event follows the stored cancellation (core/decisions.ts `cancel`).
    const trail = await waitFor(async () => {
      const actions = await auditActions(requestId);
      return actions.includes('request.cancelled') ? actions : undefined;
    }, 'request.cancelled in the trail');
    expect(trail).toEqual(
      expect.arrayContaining(['request.submitted', 'approval.auto', 'request.cancelled']),
    );
    expect(trail).not.toContain('grant.requested');
    expect(sandbox.standIns.identityCenter?.standIn.counters().creationsRequested).toBe(0);
  });

  it('several accounts: one approval for three, three assignments, and "End all" takes every one away', async () => {
    const alice = principalOf(PEOPLE.alice.email);
    const admin = 'arn:aws:sso:::permissionSet/ssoins-7223a1b2c3d4e5f6/ps-0a0b0c0d0e0f0a0b';
    const accounts = ['222222222222', '333333333333', '444444444444'];
    await slack.command('alice', '');
    await waitFor(() => slack.topView('alice'), 'the request form');
    const submitted = await slack.submit('alice', {
      account: 'staging',
      permission_set: 'AdministratorAccess',
      more_accounts: ['sandbox', 'qa'],
      duration: '120',
      reason: 'Migrating the queues',
    });
    expect(submitted.errors).toBeUndefined();
    const members = await waitFor(async () => {
      const stored = (await sandbox.state.requests()).filter((r) => r.request.set !== undefined);
      return stored.length === 3 ? stored : undefined;
    }, 'the three stored requests');
    const setId = members[0]?.request.set?.id ?? '';
    // One message in the approval channel for the three.
    const message = await waitFor(() => {
      const found = approvalMessage(setId);
      const text = JSON.stringify(found?.blocks ?? []);
      return accounts.every((a) => text.includes(`(${a}) — waiting for approval`)) ? found : undefined;
    }, 'the set message naming the three accounts');
    expect(slack.channelMessages(APPROVALS).filter((m) => (m.text ?? '').includes(setId))).toHaveLength(1);

    await slack.click('carol', { channel: APPROVALS, ts: message.ts }, 'Approve');
    // The first "Access ready" DM carries End all while the other accounts may still be granted:
    // those end as their windows would open (core/decisions.ts `endWhenOpened`).
    const ready = await waitFor(
      () =>
        slack.directMessages('alice').find((m) => JSON.stringify(m.blocks ?? []).includes('end_access_all')),
      'an Access ready DM with End all',
    );
    await slack.click('alice', { channel: 'dm', ts: ready.ts }, 'End all 3 accounts now');
    for (const account of accounts)
      await waitFor(
        async () => !(await assigned(account, admin)).includes(alice),
        `the revoke on ${account}`,
      );
    for (const member of members)
      await waitFor(
        async () => (await statusOf(member.request.requestId)) === 'REVOKED',
        `${member.request.requestId} REVOKED`,
      );
    // Each member's Finish renders the set's message after its status is stored.
    await waitFor(
      () =>
        JSON.stringify(approvalMessage(setId)?.blocks ?? []).match(/ended early by alice@example.com/g)
          ?.length === 3,
      'the set message showing the three ended',
    );
  });

  it('rejects a request its approval channel cannot take, says why, and audits it for the admins', async () => {
    sandbox.standIns.slack?.standIn.removeBotFromChannel(APPROVALS);
    const requestId = await requestAccess('alice', {
      account: 'production',
      permissionSet: 'ReadOnly',
      duration: '30',
      reason: 'Looking at INC-80',
    });

    await waitFor(async () => (await statusOf(requestId)) === 'REJECTED', 'REJECTED');
    expect(await auditActions(requestId)).toEqual(expect.arrayContaining(['approval.channel-unusable']));
    await waitFor(
      () =>
        slack
          .directMessages('alice')
          .some((m) =>
            (m.text ?? '').includes(
              `The approval channel ${APPROVALS} cannot take the request (not_in_channel)`,
            ),
          ),
      "the requester's DM naming the reason",
    );
  });

  it('refuses a self-approval and a non-approver, and leaves the request waiting', async () => {
    const carol = principalOf(PEOPLE.carol.email);
    const requestId = await requestAccess('carol', {
      account: 'production',
      permissionSet: 'ReadOnly',
      duration: '30',
      reason: 'Checking alarms',
    });
    const message = await waitFor(() => approvalMessage(requestId), 'the approval message');

    await slack.click('carol', { channel: APPROVALS, ts: message.ts }, 'Approve');
    await slack.click('alice', { channel: APPROVALS, ts: message.ts }, 'Approve');

    const told = (userId: string) =>
      sandbox.standIns.slack?.standIn
        .ephemerals(userId)
        .map((e) => e.text ?? '')
        .join('\n') ?? '';
    await waitFor(
      () => told(PEOPLE.carol.slackUserId).includes('cannot approve or deny your own request'),
      'the refusal',
    );
    await waitFor(
      () => told(PEOPLE.alice.slackUserId).includes('not an approver'),
      'the non-approver refusal',
    );
    expect(await statusOf(requestId)).toBe('PENDING_APPROVAL');
    expect(await auditActions(requestId)).not.toContain('approval.approved');
    expect(await assigned(ACCOUNTS.production, PERMISSION_SETS.readOnly)).not.toContain(carol);
  });

  it('extends under the rule of the new total: the on-call approver is refused, the platform admin approves', async () => {
    // Slower time (1 product minute = 1 s): the hour must outlast the clicks.
    await sandbox.stop();
    sandbox = await startTestSandbox({ msPerMinute: 1000 });
    slack = sandbox.signedSlackClient;
    const requestId = await requestAccess('alice', {
      account: 'production',
      permissionSet: 'ReadOnly',
      duration: '60',
      reason: 'Investigating INC-77',
    });
    const message = await waitFor(() => approvalMessage(requestId), 'the approval message');
    await slack.click('carol', { channel: APPROVALS, ts: message.ts }, 'Approve');
    const granted = await waitFor(
      () =>
        slack.directMessages('alice').find((m) => JSON.stringify(m.blocks ?? []).includes('extend_access')),
      'the DM with Extend',
    );

    await slack.click('alice', { channel: 'dm', ts: granted.ts }, 'Extend');
    const modal = await waitFor(
      () =>
        slack.topView('alice')?.view.callback_id === 'extend_access_form' ? slack.topView('alice') : false,
      'the extend form',
    );
    // production-oncall allows 1 h, production-extended 4 h: up to 3 h more.
    expect(JSON.stringify(modal.view.blocks)).toContain('"value":"180"');
    await slack.submit('alice', { extend_minutes: '120' });
    const pending = await waitFor(() => {
      const latest = approvalMessage(requestId);
      return JSON.stringify(latest?.blocks ?? []).includes('approve_extension') ? latest : false;
    }, 'the extension buttons');
    expect(JSON.stringify(pending.blocks)).toContain('production-extended');

    await slack.click('carol', { channel: APPROVALS, ts: pending.ts }, 'Approve extension');
    await waitFor(
      () =>
        (sandbox.standIns.slack?.standIn.ephemerals(PEOPLE.carol.slackUserId) ?? []).some((e) =>
          (e.text ?? '').includes('not an approver'),
        ),
      'the on-call approver refused',
    );
    await slack.openHome('carol');
    const daveHome = await homeShowing('dave', 'approve_extension');
    expect(JSON.stringify(daveHome.view.blocks)).toContain('Extensions waiting for your approval');
    await waitFor(() => slack.homeView('carol'), 'Carol\u2019s Home tab');
    expect(JSON.stringify(slack.homeView('carol')?.view.blocks)).not.toContain('approve_extension');

    await slack.click('dave', { home: true }, 'Approve extension');
    await waitFor(async () => (await auditActions(requestId)).includes('window.extended'), 'window.extended');
    const record = (await sandbox.state.requests()).find((r) => r.request.requestId === requestId);
    expect(record).toMatchObject({
      extendedMinutes: 120,
      extensions: [expect.objectContaining({ ruleName: 'production-extended' })],
    });
  });
});

describe('the Slack request URL', () => {
  const command = () =>
    slashCommandBody(
      {
        teamId: 'T0SANDBOX',
        teamDomain: 'sandbox',
        appId: 'A0JITAPP',
        botUserId: 'U0JITBOT',
        verificationToken: 'v',
      },
      { slackUserId: PEOPLE.alice.slackUserId, name: 'alice' },
      {
        command: '/request-access',
        text: '',
        channelId: 'C0GENERAL',
        channelName: 'general',
        triggerId: sandbox.standIns.slack?.standIn.issueTriggerId(PEOPLE.alice.slackUserId) ?? '',
        responseUrl: 'http://127.0.0.1:1/unused',
      },
    );

  it('refuses forged, stale, future and unsigned requests with 401 and does nothing', async () => {
    const now = Math.floor(Date.now() / 1000);
    const forged = signRequest('not-the-signing-secret', command(), FORM);

    const answers = await Promise.all([
      slack.send(command(), FORM, { signature: forged.headers['x-slack-signature'] ?? '' }),
      slack.send(command(), FORM, { timestamp: now - 6 * 60 }),
      slack.send(command(), FORM, { timestamp: now + 6 * 60 }),
      slack.send(command(), FORM, false),
    ]);

    expect(answers.map((a) => a.status)).toEqual([401, 401, 401, 401]);
    expect(sandbox.standIns.slack?.standIn.calls('views.open')).toEqual([]);
    expect(slack.topView('alice')).toBeUndefined();
  });

  it('accepts the same request signed with the signing secret', async () => {
    const reply = await slack.send(command(), FORM);

    expect(reply.status).toBe(200);
    await waitFor(
      () => slack.topView('alice')?.view.callback_id === 'request_access_form',
      'the request form',
    );
  });

  it('publishes the Home tab when it is opened', async () => {
    const reply = await slack.openHome('carol');

    expect(reply.status).toBe(200);
    await waitFor(() => slack.homeView('carol'), 'the Home tab');
  });
});
