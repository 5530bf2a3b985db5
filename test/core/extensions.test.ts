import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { isApproverOf, precheckDecision } from '../../functions/core/authority';
import { evaluateExtension, extensionChoices, pendingExtensionOf } from '../../functions/core/extensions';
import type { AuditEvent, RequestRecord } from '../../functions/core/model';
import { type PolicyInput, parsePolicy } from '../../functions/core/policy-file';
import { allowedWindow } from '../../functions/core/window';
import { approvalMessage } from '../../functions/slack/render/messages';
import { auditTrail, lifecycleSteps } from '../../local/product-wiring';
import {
  ACCOUNTS,
  audited,
  type Harness,
  PEOPLE,
  PERMISSION_SETS,
  requestDecisions,
  requestStore,
  startHarness,
  tokenStored,
} from '../workflow/harness';

// Extensions are decided by the rule their new total falls under, and a window never outgrows
// the policy whatever a callback or the store says. Behaviour tests on the real ASL, the real
// handlers and DynamoDB (dynalite), with the policies each case needs.

const actor = (p: { email: string; slackUserId: string }) => ({ email: p.email, slackUserId: p.slackUserId });
const alice = actor(PEOPLE.alice);
const bob = actor(PEOPLE.bob);
const carol = actor(PEOPLE.carol);
const dave = actor(PEOPLE.dave);

type RuleInput = PolicyInput['rules'][number];

/** Rule A and rule B of the report: one account and permission set, a short on-call rule first. */
const ONCALL_SHORT: RuleInput = {
  name: 'oncall-short',
  requesters: ['group:engineers'],
  accounts: ['production'],
  permissionSets: ['ReadOnly'],
  maxDuration: '1h',
  approval: { approvers: ['group:oncall'] },
};
const ADMINS_LONG: RuleInput = {
  name: 'admins-long',
  requesters: ['group:engineers'],
  accounts: ['production'],
  permissionSets: ['ReadOnly'],
  maxDuration: '8h',
  approval: { approvers: ['group:admins'] },
};
/** Staging: an auto-approved hour, longer only with an admin's approval. */
const STAGING_AUTO: RuleInput = {
  name: 'staging-auto',
  requesters: ['group:engineers'],
  accounts: ['staging'],
  permissionSets: ['ReadOnly'],
  maxDuration: '1h',
  approval: 'none',
};
const STAGING_APPROVED: RuleInput = {
  name: 'staging-approved',
  requesters: ['group:engineers'],
  accounts: ['staging'],
  permissionSets: ['ReadOnly'],
  maxDuration: '4h',
  approval: { approvers: ['group:admins'] },
};

function policyDocument(rules: RuleInput[], groups: Record<string, string[]> = {}): PolicyInput {
  return {
    version: 1,
    identityCenter: {
      instanceArn: 'arn:aws:sso:::instance/ssoins-7223a1b2c3d4e5f6',
      identityStoreId: 'd-9067a1b2c3',
      region: 'us-east-1',
    },
    slack: { approvalChannel: 'C0APPROVALS' },
    accounts: [
      { id: ACCOUNTS.production, name: 'production' },
      { id: ACCOUNTS.staging, name: 'staging' },
    ],
    permissionSets: [
      { name: 'ReadOnly', arn: PERMISSION_SETS.readOnly },
      { name: 'PowerUser', arn: PERMISSION_SETS.powerUser },
    ],
    groups: {
      engineers: [PEOPLE.alice.email],
      oncall: [PEOPLE.carol.email],
      admins: [PEOPLE.dave.email],
      ...groups,
    },
    rules,
  };
}

const policyDir = mkdtempSync(path.join(tmpdir(), 'jit-extension-policies-'));
let policyCount = 0;

/** A policy file (JSON is YAML); parsed here first so a broken fixture fails the test, not a handler. */
function writePolicy(file: string, rules: RuleInput[], groups?: Record<string, string[]>): void {
  const text = JSON.stringify(policyDocument(rules, groups), null, 2);
  parsePolicy(text);
  writeFileSync(file, text);
}

let harness: Harness;
let policyFile: string;
let counter = 0;
const newId = () => `req-ext-${++counter}-${Date.now().toString(36)}`;

async function start(rules: RuleInput[], groups?: Record<string, string[]>, msPerSecond = 10) {
  policyFile = path.join(policyDir, `policy-${++policyCount}.json`);
  writePolicy(policyFile, rules, groups);
  harness = await startHarness({ policyFile, msPerSecond });
}

/** A policy redeploy: the new file, and every function's cached policy forgotten. */
async function redeploy(rules: RuleInput[], groups?: Record<string, string[]>): Promise<void> {
  writePolicy(policyFile, rules, groups);
  await harness.redeploy();
}

const decisions = () => requestDecisions();
const record = async (requestId: string) => {
  const stored = await requestStore().getRequest(requestId);
  if (!stored) throw new Error(`request ${requestId} is not stored`);
  return stored;
};
const events = (requestId: string): Promise<AuditEvent[]> => auditTrail().list(requestId);
const currentPolicy = () => parsePolicy(readFileSync(policyFile, 'utf8'));

/** Alice's request, approved when its rule needs it, with its window open. */
async function activeGrant(input: { accountId: string; durationMinutes: number; approver?: typeof carol }) {
  const requestId = newId();
  const execution = await harness.start({
    requestId,
    accountId: input.accountId,
    durationMinutes: input.durationMinutes,
  });
  if (input.approver) {
    await tokenStored(harness, requestId, 'approval');
    await audited(harness, requestId, 'approval.requested');
    expect((await (await decisions()).decide(requestId, input.approver, 'approve')).kind).toBe('approved');
  }
  await tokenStored(harness, requestId, 'window');
  await audited(harness, requestId, 'window.opened');
  return { requestId, execution, opened: await record(requestId) };
}

/** Ends the window and the execution (every test leaves nothing running). */
async function endAndFinish(requestId: string, execution: string) {
  await tokenStored(harness, requestId, 'window');
  expect((await (await decisions()).endAccess(requestId, alice)).kind).toBe('ended');
  expect((await harness.finished(execution)).status).toBe('SUCCEEDED');
}

const minutesBetween = (from: string | undefined, to: string | undefined) =>
  (Date.parse(to ?? '') - Date.parse(from ?? '')) / 60_000;

afterEach(async () => {
  await harness?.close();
});

describe('extensions: the rule of the new total decides', () => {
  it('refuses the original rule\u2019s approver when the new total falls under another rule; that rule\u2019s approver approves', async () => {
    await start([ONCALL_SHORT, ADMINS_LONG]);
    const { requestId, execution, opened } = await activeGrant({
      accountId: ACCOUNTS.production,
      durationMinutes: 60,
      approver: carol,
    });

    const asked = await (await decisions()).extend(requestId, alice, 120);
    expect(asked.kind).toBe('extension-needs-approval');
    expect((await record(requestId)).pendingExtension).toMatchObject({
      minutes: 120,
      ruleName: 'admins-long',
      approvers: [PEOPLE.dave.email],
      required: 1,
      allowSelfApproval: false,
      approvals: [],
    });

    // The reported escape: the on-call approver of the 1 h rule approving 2 h more.
    expect(await (await decisions()).decideExtension(requestId, carol, 'approve')).toEqual({
      kind: 'not-authorized',
      reason: 'not-approver',
    });
    expect(await (await decisions()).decideExtension(requestId, bob, 'approve')).toEqual({
      kind: 'not-authorized',
      reason: 'not-approver',
    });
    expect((await record(requestId)).extendedMinutes ?? 0).toBe(0);

    const approved = await (await decisions()).decideExtension(requestId, dave, 'approve');
    expect(approved.kind).toBe('extended');
    await audited(harness, requestId, 'window.extended');
    const after = await record(requestId);
    expect(after.extendedMinutes).toBe(120);
    expect(after.pendingExtension).toBeUndefined();
    expect(after.extensions).toEqual([
      expect.objectContaining({
        minutes: 120,
        ruleName: 'admins-long',
        maxTotalMinutes: 480,
        approvedBy: [PEOPLE.dave.email],
      }),
    ]);
    expect(minutesBetween(opened.expiresAt, after.expiresAt)).toBe(120);

    await endAndFinish(requestId, execution);
    const trail = await events(requestId);
    const extensionApproval = trail.find(
      (e) => e.action === 'approval.approved' && e.details.extensionMinutes !== undefined,
    );
    expect(extensionApproval).toMatchObject({
      actor: PEOPLE.dave.email,
      details: { extensionMinutes: 120, rule: 'admins-long', approvals: 1, required: 1 },
    });
    expect(trail.map((e) => e.action)).toEqual([
      'request.submitted',
      'approval.requested',
      'approval.approved',
      'grant.requested',
      'grant.succeeded',
      'window.opened',
      'window.extend-requested',
      'approval.approved',
      'window.extended',
      'window.ended-early',
      'revoke.requested',
      'revoke.succeeded',
      'request.closed',
    ]);
  });

  it('shows the pending extension to the new rule\u2019s approvers only (Home tab, Deny precheck, message buttons)', async () => {
    await start([ONCALL_SHORT, ADMINS_LONG]);
    const { requestId, execution } = await activeGrant({
      accountId: ACCOUNTS.production,
      durationMinutes: 60,
      approver: carol,
    });
    expect((await (await decisions()).extend(requestId, alice, 120)).kind).toBe('extension-needs-approval');
    const pending = await record(requestId);
    const policy = currentPolicy();

    expect(isApproverOf(policy, pending, PEOPLE.dave.email, 'extension')).toBe(true);
    expect(isApproverOf(policy, pending, PEOPLE.carol.email, 'extension')).toBe(false);
    expect(precheckDecision(policy, pending, PEOPLE.dave.email, 'extension')).toEqual({ ok: true });
    expect(precheckDecision(policy, pending, PEOPLE.carol.email, 'extension')).toEqual({
      ok: false,
      reason: 'not-approver',
    });
    const blocks = JSON.stringify(approvalMessage(pending).blocks);
    expect(blocks).toContain('approve_extension');
    expect(blocks).toContain('admins-long');
    // The approval message in the channel was re-rendered with the extension's buttons.
    const update = harness
      .slackCalls('chat.update')
      .filter((c) => c.args.ts === pending.approvalMessage?.ts)
      .at(-1);
    expect(JSON.stringify(update?.args.blocks)).toContain('approve_extension');

    await endAndFinish(requestId, execution);
  });

  it('lets the new rule\u2019s approvers approve when the original rule needs no approval', async () => {
    await start([STAGING_AUTO, STAGING_APPROVED]);
    const { requestId, execution, opened } = await activeGrant({
      accountId: ACCOUNTS.staging,
      durationMinutes: 60,
    });

    expect((await (await decisions()).extend(requestId, alice, 60)).kind).toBe('extension-needs-approval');
    const pending = await record(requestId);
    expect(pending.pendingExtension).toMatchObject({ ruleName: 'staging-approved', required: 1 });
    expect(isApproverOf(currentPolicy(), pending, PEOPLE.dave.email, 'extension')).toBe(true);
    // An auto-approved request had no approval message: the extension posts one, with its buttons.
    expect(pending.approvalMessage).toBeDefined();
    const posted = harness.slackCalls('chat.postMessage').find((c) => c.args.channel === 'C0APPROVALS');
    expect(JSON.stringify(posted?.args.blocks)).toContain('approve_extension');

    expect(await (await decisions()).decideExtension(requestId, carol, 'approve')).toEqual({
      kind: 'not-authorized',
      reason: 'not-approver',
    });
    expect((await (await decisions()).decideExtension(requestId, dave, 'approve')).kind).toBe('extended');
    await audited(harness, requestId, 'window.extended');
    expect(minutesBetween(opened.expiresAt, (await record(requestId)).expiresAt)).toBe(60);

    await endAndFinish(requestId, execution);
  });

  it('applies an extension at once when the rule of the new total needs no approval', async () => {
    const SELF_SERVICE_LONG: RuleInput = { ...STAGING_APPROVED, name: 'staging-long-auto', approval: 'none' };
    await start([{ ...STAGING_AUTO, approval: { approvers: ['group:oncall'] } }, SELF_SERVICE_LONG]);
    const { requestId, execution, opened } = await activeGrant({
      accountId: ACCOUNTS.staging,
      durationMinutes: 60,
      approver: carol,
    });

    const outcome = await (await decisions()).extend(requestId, alice, 90);
    expect(outcome.kind).toBe('extended');
    await audited(harness, requestId, 'window.extended');
    const after = await record(requestId);
    expect(minutesBetween(opened.expiresAt, after.expiresAt)).toBe(90);
    expect(after.extensions?.[0]).toMatchObject({
      ruleName: 'staging-long-auto',
      approvedBy: ['system:policy'],
    });
    expect(
      (await events(requestId)).find((e) => e.action === 'approval.auto' && e.details.extensionMinutes),
    ).toMatchObject({
      actor: 'system:policy',
      details: { extensionMinutes: 90, rule: 'staging-long-auto' },
    });

    await endAndFinish(requestId, execution);
  });

  it('refuses the requester unless the deciding rule allows self-approval', async () => {
    const withAlice = { admins: [PEOPLE.dave.email, PEOPLE.alice.email] };
    await start([ONCALL_SHORT, ADMINS_LONG], withAlice);
    const first = await activeGrant({ accountId: ACCOUNTS.production, durationMinutes: 60, approver: carol });
    expect((await (await decisions()).extend(first.requestId, alice, 60)).kind).toBe(
      'extension-needs-approval',
    );
    expect((await record(first.requestId)).pendingExtension?.approvers).toEqual([PEOPLE.dave.email]);

    expect(await (await decisions()).decideExtension(first.requestId, alice, 'approve')).toEqual({
      kind: 'not-authorized',
      reason: 'self-approval',
    });
    expect((await record(first.requestId)).pendingExtension?.approvals).toEqual([]);
    await endAndFinish(first.requestId, first.execution);

    // The same people under a rule that allows self-approval: the requester's approval counts.
    await redeploy(
      [ONCALL_SHORT, { ...ADMINS_LONG, approval: { approvers: ['group:admins'], allowSelfApproval: true } }],
      withAlice,
    );
    const second = await activeGrant({
      accountId: ACCOUNTS.production,
      durationMinutes: 60,
      approver: carol,
    });
    expect((await (await decisions()).extend(second.requestId, alice, 60)).kind).toBe(
      'extension-needs-approval',
    );
    expect((await record(second.requestId)).pendingExtension).toMatchObject({ allowSelfApproval: true });
    expect((await (await decisions()).decideExtension(second.requestId, alice, 'approve')).kind).toBe(
      'extended',
    );
    await audited(harness, second.requestId, 'window.extended');
    expect((await record(second.requestId)).extensions?.[0]?.approvedBy).toEqual([PEOPLE.alice.email]);
    await endAndFinish(second.requestId, second.execution);
  });

  /** An active 1 h grant on production with +1 h pending under a rule that needs two admins. */
  async function pendingQuorumExtension() {
    const quorum: RuleInput = {
      ...ADMINS_LONG,
      name: 'admins-quorum',
      approval: { approvers: ['group:admins'], required: 2 },
    };
    await start([ONCALL_SHORT, quorum], {
      admins: [PEOPLE.dave.email, PEOPLE.bob.email, PEOPLE.carol.email],
    });
    const grant = await activeGrant({ accountId: ACCOUNTS.production, durationMinutes: 60, approver: carol });
    expect((await (await decisions()).extend(grant.requestId, alice, 60)).kind).toBe(
      'extension-needs-approval',
    );
    return grant;
  }

  it('collects distinct approvals up to the quorum of the deciding rule', async () => {
    const { requestId, execution, opened } = await pendingQuorumExtension();

    expect(await (await decisions()).decideExtension(requestId, dave, 'approve')).toMatchObject({
      kind: 'approval-recorded',
      remaining: 1,
    });
    // The same approver again (another case of the email): still one approval.
    expect(
      await (await decisions()).decideExtension(requestId, { ...dave, email: 'DAVE@example.com' }, 'approve'),
    ).toMatchObject({ kind: 'approval-recorded', remaining: 1 });
    const halfway = await record(requestId);
    expect(halfway.pendingExtension?.approvals.map((a) => a.by)).toEqual([PEOPLE.dave.email]);
    expect(halfway.extendedMinutes ?? 0).toBe(0);
    expect(await requestStore().peekTaskToken(requestId, 'window')).toBeDefined(); // the window was not touched

    expect((await (await decisions()).decideExtension(requestId, bob, 'approve')).kind).toBe('extended');
    await audited(harness, requestId, 'window.extended');
    const after = await record(requestId);
    expect(after.extensions?.[0]?.approvedBy).toEqual([PEOPLE.dave.email, PEOPLE.bob.email]);
    expect(minutesBetween(opened.expiresAt, after.expiresAt)).toBe(60);
    const approvals = (await events(requestId)).filter(
      (e) => e.action === 'approval.approved' && e.details.extensionMinutes !== undefined,
    );
    expect(approvals.map((e) => [e.actor, e.details.approvals, e.details.required])).toEqual([
      [PEOPLE.dave.email, 1, 2],
      [PEOPLE.bob.email, 2, 2],
    ]);

    await endAndFinish(requestId, execution);
  });

  it('applies an extension once when its approvers click at the same time', async () => {
    const { requestId, execution, opened } = await pendingQuorumExtension();

    const clicks = [dave, bob, carol, dave, bob];
    const outcomes = await Promise.all(
      clicks.map(async (who) => (await decisions()).decideExtension(requestId, who, 'approve')),
    );

    expect(outcomes.filter((o) => o.kind === 'extended')).toHaveLength(1);
    await audited(harness, requestId, 'window.extended');
    const after = await record(requestId);
    expect(after.extendedMinutes).toBe(60);
    expect(after.extensions).toHaveLength(1);
    expect(new Set(after.extensions?.[0]?.approvedBy).size).toBe(2);
    expect(minutesBetween(opened.expiresAt, after.expiresAt)).toBe(60);
    const extended = (await events(requestId)).filter((e) => e.action === 'window.extended');
    expect(extended).toHaveLength(1);

    await endAndFinish(requestId, execution);
  });

  it('denies with one approver\u2019s denial, tells the requester, and audits it', async () => {
    await start([ONCALL_SHORT, ADMINS_LONG]);
    const { requestId, execution, opened } = await activeGrant({
      accountId: ACCOUNTS.production,
      durationMinutes: 60,
      approver: carol,
    });
    expect((await (await decisions()).extend(requestId, alice, 120)).kind).toBe('extension-needs-approval');

    expect(await (await decisions()).decideExtension(requestId, carol, 'deny', 'no')).toEqual({
      kind: 'not-authorized',
      reason: 'not-approver',
    });
    expect(await (await decisions()).decideExtension(requestId, dave, 'deny', 'Not tonight')).toEqual({
      kind: 'not-allowed',
      reason: 'Extension denied.',
    });
    const after = await record(requestId);
    expect(after.pendingExtension).toBeUndefined();
    expect(after.expiresAt).toBe(opened.expiresAt);
    expect((await events(requestId)).find((e) => e.action === 'approval.denied')).toMatchObject({
      actor: PEOPLE.dave.email,
      details: { extensionMinutes: 120, rule: 'admins-long', reason: 'Not tonight' },
    });
    const dm = harness
      .slackCalls('chat.postMessage')
      .filter((c) => c.args.channel === PEOPLE.alice.slackUserId)
      .at(-1);
    expect(String(dm?.args.text)).toContain('Extension of 2h was denied: Not tonight');

    await endAndFinish(requestId, execution);
  });

  it('refuses an extension by anyone but the requester, and audits the attempt', async () => {
    await start([ONCALL_SHORT, ADMINS_LONG]);
    const { requestId, execution, opened } = await activeGrant({
      accountId: ACCOUNTS.production,
      durationMinutes: 60,
      approver: carol,
    });

    for (const stranger of [bob, dave]) {
      expect(await (await decisions()).extend(requestId, stranger, 60)).toEqual({
        kind: 'not-allowed',
        reason: 'Only the requester can extend this access.',
      });
    }
    const after = await record(requestId);
    expect(after.pendingExtension).toBeUndefined();
    expect(after.expiresAt).toBe(opened.expiresAt);
    expect(await requestStore().peekTaskToken(requestId, 'window')).toBeDefined();
    const refused = (await events(requestId)).filter((e) => e.action === 'window.extend-refused');
    expect(refused.map((e) => e.actor)).toEqual([PEOPLE.bob.email, PEOPLE.dave.email]);

    await endAndFinish(requestId, execution);
  });

  it('refuses at once a total no rule allows, naming the longest allowed', async () => {
    await start([ONCALL_SHORT, ADMINS_LONG]);
    const { requestId, execution, opened } = await activeGrant({
      accountId: ACCOUNTS.production,
      durationMinutes: 60,
      approver: carol,
    });

    expect(await (await decisions()).extend(requestId, alice, 540)).toEqual({
      kind: 'not-allowed',
      reason: 'No rule allows 10h in total for ReadOnly on production; the longest allowed is 8h.',
    });
    const after = await record(requestId);
    expect(after.pendingExtension).toBeUndefined();
    expect(after.expiresAt).toBe(opened.expiresAt);
    expect((await events(requestId)).find((e) => e.action === 'window.extend-refused')).toMatchObject({
      actor: PEOPLE.alice.email,
      details: { extraMinutes: 540, totalMinutes: 600 },
    });

    await endAndFinish(requestId, execution);
  });

  it('decides an extension pending from the previous version (pendingExtensionMinutes) by the rule of its new total', async () => {
    await start([ONCALL_SHORT, ADMINS_LONG]);
    const { requestId, execution, opened } = await activeGrant({
      accountId: ACCOUNTS.production,
      durationMinutes: 60,
      approver: carol,
    });
    // What the previous version stored: bare minutes, meant for the request's own rule's approvers.
    await requestStore().updateRequest(requestId, ['ACTIVE'], { pendingExtensionMinutes: 120 });
    const legacy = await record(requestId);
    expect(pendingExtensionOf(legacy)).toMatchObject({ minutes: 120, ruleName: 'oncall-short' });
    expect(isApproverOf(currentPolicy(), legacy, PEOPLE.dave.email, 'extension')).toBe(true);
    expect(isApproverOf(currentPolicy(), legacy, PEOPLE.carol.email, 'extension')).toBe(false);

    expect(await (await decisions()).decideExtension(requestId, carol, 'approve')).toEqual({
      kind: 'not-authorized',
      reason: 'not-approver',
    });
    expect((await (await decisions()).decideExtension(requestId, dave, 'approve')).kind).toBe('extended');
    await audited(harness, requestId, 'window.extended');
    const after = await record(requestId);
    expect(after.pendingExtensionMinutes).toBeUndefined();
    expect(after.extensions?.[0]).toMatchObject({ minutes: 120, ruleName: 'admins-long' });
    expect(minutesBetween(opened.expiresAt, after.expiresAt)).toBe(120);

    await endAndFinish(requestId, execution);
  });
});

describe('extensions: a policy redeployed while an extension waits', () => {
  it('refuses and clears it when the new total is no longer allowed', async () => {
    await start([ONCALL_SHORT, ADMINS_LONG]);
    const { requestId, execution, opened } = await activeGrant({
      accountId: ACCOUNTS.production,
      durationMinutes: 60,
      approver: carol,
    });
    expect((await (await decisions()).extend(requestId, alice, 120)).kind).toBe('extension-needs-approval');

    await redeploy([ONCALL_SHORT, { ...ADMINS_LONG, maxDuration: '2h' }]);
    expect(await (await decisions()).decideExtension(requestId, dave, 'approve')).toEqual({
      kind: 'not-allowed',
      reason:
        'The policy no longer allows this extension. No rule allows 3h in total for ReadOnly on production; the longest allowed is 2h.',
    });
    const after = await record(requestId);
    expect(after.pendingExtension).toBeUndefined();
    expect(after.extendedMinutes ?? 0).toBe(0);
    expect(after.expiresAt).toBe(opened.expiresAt);
    expect((await events(requestId)).find((e) => e.action === 'window.extend-refused')).toMatchObject({
      actor: 'system:policy',
      details: { extraMinutes: 120, totalMinutes: 180, clickedBy: PEOPLE.dave.email },
    });
    const dm = harness
      .slackCalls('chat.postMessage')
      .filter((c) => c.args.channel === PEOPLE.alice.slackUserId)
      .at(-1);
    expect(String(dm?.args.text)).toContain('the longest allowed is 2h');
    // Nothing is left to decide.
    expect((await (await decisions()).decideExtension(requestId, dave, 'approve')).kind).toBe(
      'already-decided',
    );

    await endAndFinish(requestId, execution);
  });

  it('checks the approver against the approvers deployed now', async () => {
    await start([ONCALL_SHORT, ADMINS_LONG]);
    const { requestId, execution } = await activeGrant({
      accountId: ACCOUNTS.production,
      durationMinutes: 60,
      approver: carol,
    });
    expect((await (await decisions()).extend(requestId, alice, 120)).kind).toBe('extension-needs-approval');

    // The admins are now Bob, not Dave.
    await redeploy([ONCALL_SHORT, ADMINS_LONG], { admins: [PEOPLE.bob.email] });
    const pending = await record(requestId);
    expect(isApproverOf(currentPolicy(), pending, PEOPLE.dave.email, 'extension')).toBe(false);
    expect(isApproverOf(currentPolicy(), pending, PEOPLE.bob.email, 'extension')).toBe(true);
    expect(await (await decisions()).decideExtension(requestId, dave, 'approve')).toEqual({
      kind: 'not-authorized',
      reason: 'not-approver',
    });
    expect((await (await decisions()).decideExtension(requestId, bob, 'approve')).kind).toBe('extended');
    await audited(harness, requestId, 'window.extended');

    await endAndFinish(requestId, execution);
  });

  it('moves a waiting extension to the rule deciding it now, with that rule\u2019s approvers', async () => {
    await start([ONCALL_SHORT, ADMINS_LONG]);
    const { requestId, execution } = await activeGrant({
      accountId: ACCOUNTS.production,
      durationMinutes: 60,
      approver: carol,
    });
    expect((await (await decisions()).extend(requestId, alice, 60)).kind).toBe('extension-needs-approval');
    expect((await record(requestId)).pendingExtension?.ruleName).toBe('admins-long');

    // The on-call rule now covers 2 h: it decides the 2 h total, and the admins do not.
    await redeploy([{ ...ONCALL_SHORT, maxDuration: '2h' }, ADMINS_LONG]);
    expect(await (await decisions()).decideExtension(requestId, dave, 'approve')).toEqual({
      kind: 'not-authorized',
      reason: 'not-approver',
    });
    expect((await (await decisions()).decideExtension(requestId, carol, 'approve')).kind).toBe('extended');
    await audited(harness, requestId, 'window.extended');
    expect((await record(requestId)).extensions?.[0]?.ruleName).toBe('oncall-short');

    await endAndFinish(requestId, execution);
  });
});

describe('extensions: a window never outgrows the policy', () => {
  it('refuses a forged extend callback, audits it, and keeps the window the policy allows', async () => {
    // One ASL second = 1 ms: the 1 h window lasts 3.6 s; the forged one would last 115 days.
    await start([STAGING_AUTO, STAGING_APPROVED], {}, 1);
    const { requestId, execution, opened } = await activeGrant({
      accountId: ACCOUNTS.staging,
      durationMinutes: 60,
    });
    const token = await requestStore().peekTaskToken(requestId, 'window');
    if (!token) throw new Error('no window token');

    // Someone holding the token completes it themselves, asking for far more than any rule allows.
    const forged = {
      action: 'extend',
      by: 'mallory',
      expiresAt: '2099-01-01T00:00:00.000Z',
      seconds: 10_000_000,
    };
    await harness.host.sendTaskSuccess(token, JSON.stringify(forged));
    const result = await harness.finished(execution);

    expect(result.status).toBe('SUCCEEDED');
    const refused = (await events(requestId)).find((e) => e.action === 'window.extend-refused');
    expect(refused).toMatchObject({
      actor: 'system:workflow',
      details: {
        askedExpiresAt: forged.expiresAt,
        askedSeconds: forged.seconds,
        allowedExpiresAt: opened.expiresAt,
        allowedMinutes: 60,
      },
    });
    const planned = harness.host
      .history(execution)
      .filter((e) => e.type === 'StateExited' && e.stateName === 'ExtendWindow')
      .map((e) => (e.output as { grant: { window: { expiresAt: string; seconds: number } } }).grant.window);
    expect(planned).toHaveLength(1);
    expect(planned[0]?.expiresAt).toBe(opened.expiresAt);
    expect(planned[0]?.seconds).toBeGreaterThanOrEqual(1);
    expect(planned[0]?.seconds).toBeLessThanOrEqual(3600);
    const trail = (await events(requestId)).map((e) => e.action);
    expect(trail).toContain('window.expired');
    expect(trail).not.toContain('window.extended');
    const closed = await record(requestId);
    expect(closed).toMatchObject({ status: 'REVOKED', expiresAt: opened.expiresAt });
    expect(harness.identityCenter.listAssignments()).toEqual([]);
  });

  it('plans exactly the approved extension when a callback asks for more', async () => {
    await start([ONCALL_SHORT, ADMINS_LONG]);
    const { requestId, execution, opened } = await activeGrant({
      accountId: ACCOUNTS.production,
      durationMinutes: 60,
      approver: carol,
    });
    // An approved hour on the record, then a callback asking for a day.
    expect((await (await decisions()).extend(requestId, alice, 60)).kind).toBe('extension-needs-approval');
    await requestStore().updateRequest(requestId, ['ACTIVE'], {
      extendedMinutes: 60,
      extensions: [
        {
          minutes: 60,
          ruleName: 'admins-long',
          maxTotalMinutes: 480,
          approvedBy: [PEOPLE.dave.email],
          at: new Date().toISOString(),
        },
      ],
      pendingExtension: undefined,
    });
    const token = await requestStore().takeTaskToken(requestId, 'window');
    if (!token) throw new Error('no window token');
    const day = new Date(Date.parse(opened.expiresAt ?? '') + 24 * 3600_000).toISOString();
    await harness.host.sendTaskSuccess(
      token,
      JSON.stringify({ action: 'extend', expiresAt: day, seconds: 90_000 }),
    );
    await audited(harness, requestId, 'window.extended');

    const after = await record(requestId);
    expect(minutesBetween(opened.expiresAt, after.expiresAt)).toBe(60);
    expect((await events(requestId)).find((e) => e.action === 'window.extend-refused')).toMatchObject({
      details: { askedExpiresAt: day, allowedMinutes: 120 },
    });

    await endAndFinish(requestId, execution);
  });

  it('does not record a window longer than the policy allows, whatever the state machine asks (an execution of an earlier definition)', async () => {
    await start([STAGING_AUTO, STAGING_APPROVED]);
    const { requestId, execution, opened } = await activeGrant({
      accountId: ACCOUNTS.staging,
      durationMinutes: 60,
    });
    const token = await requestStore().peekTaskToken(requestId, 'window');
    const steps = lifecycleSteps();
    // The previous definition's ExtendWindow copied the callback's expiresAt into the next AccessWindow.
    await steps.openWindow({
      taskToken: token,
      requestId,
      expiresAt: '2099-01-01T00:00:00.000Z',
    });

    const after = await record(requestId);
    expect(after.expiresAt).toBe(opened.expiresAt);
    expect((await events(requestId)).find((e) => e.action === 'window.extend-refused')).toMatchObject({
      details: { askedExpiresAt: '2099-01-01T00:00:00.000Z', allowedExpiresAt: opened.expiresAt },
    });

    await endAndFinish(requestId, execution);
  });
});

describe('extensions: pure rules', () => {
  const policy = parsePolicy(
    JSON.stringify(
      policyDocument([ONCALL_SHORT, { ...ADMINS_LONG, name: 'admins-4h', maxDuration: '4h' }, ADMINS_LONG]),
    ),
  );
  const active = (durationMinutes: number, extendedMinutes = 0): RequestRecord => ({
    version: 1,
    request: {
      requestId: 'req-pure-000001',
      requester: { email: PEOPLE.alice.email, slackUserId: PEOPLE.alice.slackUserId },
      accountId: ACCOUNTS.production,
      permissionSetArn: PERMISSION_SETS.readOnly,
      durationMinutes,
      reason: 'incident',
      requestedAt: '2026-11-25T09:00:00.000Z',
    },
    status: 'ACTIVE',
    ruleName: 'oncall-short',
    approvals: [],
    expiresAt: '2026-11-25T10:00:00.000Z',
    extendedMinutes,
    updatedAt: '2026-11-25T09:00:00.000Z',
  });

  it('offers exactly the extensions some rule allows, each rule\u2019s maximum among them', () => {
    const choices = extensionChoices(policy, active(30));
    expect(choices).toEqual([15, 30, 60, 120, 210, 240, 450]);
    for (const extra of choices) expect(evaluateExtension(policy, active(30), extra).allowed).toBe(true);
    expect(evaluateExtension(policy, active(30), 451).allowed).toBe(false);
    expect(evaluateExtension(policy, active(30), 30)).toMatchObject({ rule: { name: 'oncall-short' } });
    expect(evaluateExtension(policy, active(30), 210)).toMatchObject({ rule: { name: 'admins-4h' } });
    expect(extensionChoices(policy, active(60, 420))).toEqual([]);
  });

  it('caps a window at its start plus the longest total the policy allows', () => {
    const start = Date.parse('2026-11-25T09:00:00.000Z');
    const facts = { startedAtMs: start, durationMinutes: 60, extensions: [], policyMaxMinutes: 480 };
    expect(allowedWindow({ ...facts, extendedMinutes: 120 }).allowedMinutes).toBe(180);
    // A stored sum beyond every rule (a forged or stale record) is capped at the policy's maximum.
    expect(allowedWindow({ ...facts, extendedMinutes: 100_000 })).toEqual({
      allowedMinutes: 480,
      expiresAtMs: start + 480 * 60_000,
      expiresAt: '2026-11-25T17:00:00.000Z',
    });
    // An extension past its own rule's maximum does not count, nor does anything after it.
    const approved = (minutes: number, maxTotalMinutes: number) => ({
      minutes,
      ruleName: 'r',
      maxTotalMinutes,
      approvedBy: ['x'],
      at: '2026-11-25T09:30:00.000Z',
    });
    expect(
      allowedWindow({
        ...facts,
        extendedMinutes: 150,
        extensions: [approved(30, 120), approved(120, 60), approved(0, 480)],
      }).allowedMinutes,
    ).toBe(90);
    // No rule matches any more: extensions count for nothing, the request's own hour stands.
    expect(
      allowedWindow({ ...facts, extendedMinutes: 120, policyMaxMinutes: undefined }).allowedMinutes,
    ).toBe(60);
  });
});
