import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { reconciler } from '../../local/product-wiring';
import { ManualClock } from '../reliability/fakes';
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
} from './harness';

// Break-glass through the real state machine and handlers: granted at once (no approval task),
// the security channel alerted with the review buttons, a reviewer's mark, a reused reason
// refused, no extension, and an unreviewed use escalated by the reconciler.

const dir = mkdtempSync(path.join(os.tmpdir(), 'break-glass-'));
const policyFile = path.join(dir, 'policy.yaml');
writeFileSync(
  policyFile,
  `version: 1
identityCenter:
  instanceArn: arn:aws:sso:::instance/ssoins-7223a1b2c3d4e5f6
  identityStoreId: d-9067a1b2c3
  region: us-east-1
slack:
  approvalChannel: C0APPROVALS
  securityChannel: C0SECURITY
accounts:
  - { id: "${ACCOUNTS.production}", name: production }
permissionSets:
  - { name: ReadOnly, arn: "${PERMISSION_SETS.readOnly}" }
  - { name: PowerUser, arn: "${PERMISSION_SETS.powerUser}" }
groups:
  sre: [carol@example.com, dave@example.com]
rules:
  - name: production-ordinary
    requesters: [group:sre]
    accounts: [production]
    permissionSets: [PowerUser]
    maxDuration: 1h
    approval: { approvers: [group:sre], timeout: 30m }
  - name: production-break-glass
    requesters: [group:sre]
    accounts: [production]
    permissionSets: [PowerUser]
    maxDuration: 1h
    approval: none
    breakGlass:
      reviewers: [dave@example.com, carol@example.com]
      reviewWindow: 2h
`,
);

let harness: Harness;
beforeAll(async () => {
  harness = await startHarness({ policyFile });
}, 60_000);
afterAll(async () => {
  await harness?.close();
  rmSync(dir, { recursive: true, force: true });
});

const carol = { email: PEOPLE.carol.email, slackUserId: PEOPLE.carol.slackUserId };
const dave = { email: PEOPLE.dave.email, slackUserId: PEOPLE.dave.slackUserId };
const alice = { email: PEOPLE.alice.email, slackUserId: PEOPLE.alice.slackUserId };
const key = {
  accountId: ACCOUNTS.production,
  permissionSetArn: PERMISSION_SETS.powerUser,
  principalId: 'user-carol',
};
let sequence = 0;
const breakGlass = (reason: string) => ({
  requestId: `breakglass-${++sequence}-${Date.now()}`,
  requester: carol,
  accountId: ACCOUNTS.production,
  permissionSetArn: PERMISSION_SETS.powerUser,
  durationMinutes: 30,
  reason,
  breakGlass: true as const,
});
const alertsFor = (requestId: string) =>
  harness
    .slackCalls('chat.postMessage')
    .filter(
      (c) => c.args.channel === 'C0SECURITY' && JSON.stringify(c.args.blocks ?? '').includes(requestId),
    );

describe('break-glass', () => {
  let live: string;

  it('grants at once without an approver, alerts the security channel and DMs the other reviewer', async () => {
    const request = breakGlass('Production is down, INC-1 paging nobody');
    live = request.requestId;
    await harness.start(request);
    await tokenStored(harness, live, 'window');
    expect(harness.hasAssignment(key)).toBe(true);
    await audited(harness, live, 'breakglass.alerted');
    const actions = await harness.auditActions(live);
    expect(actions).toEqual(
      expect.arrayContaining(['approval.auto', 'breakglass.activated', 'breakglass.alerted']),
    );
    expect(actions).not.toContain('approval.requested');
    const record = await requestStore().getRequest(live);
    expect(record).toMatchObject({ status: 'ACTIVE', breakGlass: { alertChannel: 'C0SECURITY' } });
    expect(record?.breakGlass?.alertMessage?.channel).toBe('C0SECURITY');
    const alert = alertsFor(live);
    expect(alert).toHaveLength(1);
    expect(JSON.stringify(alert[0]?.args.blocks)).toContain('breakglass_justified');
    // carol broke the glass: only dave is a reviewer other than her, and gets the DM.
    // The DMs follow the kept alert (best-effort, after its event).
    const dmsToDave = () =>
      harness
        .slackCalls('chat.postMessage')
        .filter(
          (c) =>
            c.args.channel === PEOPLE.dave.slackUserId && JSON.stringify(c.args.blocks ?? '').includes(live),
        );
    await harness.waitFor(async () => dmsToDave().length > 0, 'the reviewer DM');
    expect(dmsToDave()).toHaveLength(1);
    expect(
      harness
        .slackCalls('chat.postMessage')
        .filter(
          (c) =>
            c.args.channel === PEOPLE.carol.slackUserId &&
            JSON.stringify(c.args.blocks ?? '').includes('breakglass_'),
        ),
    ).toHaveLength(0);
  });

  it('an ordinary request for the same access still needs an approver', async () => {
    const requestId = `ordinary-${Date.now()}`;
    await harness.start({ ...breakGlass('Routine check'), requestId, breakGlass: undefined });
    await tokenStored(harness, requestId, 'approval');
    expect((await requestStore().getRequest(requestId))?.status).toBe('PENDING_APPROVAL');
  });

  it('refuses a second use with the same reason, and any extension', async () => {
    const again = breakGlass('production is down — INC-1 paging nobody!');
    const arn = await harness.start(again);
    await harness.finished(arn);
    const record = await requestStore().getRequest(again.requestId);
    expect(record?.status).toBe('REJECTED');
    expect(record?.failureReason).toMatch(/gave the same reason: a new use needs a reason of its own/);

    const decisions = await requestDecisions();
    const extended = await decisions.extend(live, carol, 30, 'job-extend-1');
    expect(extended).toMatchObject({ kind: 'not-allowed', reason: expect.stringMatching(/never extended/) });
    expect(await harness.auditActions(live)).toContain('window.extend-refused');
  });

  it('is reviewed once, by a reviewer other than its user; the alert loses its buttons', async () => {
    const decisions = await requestDecisions();
    expect(await decisions.review(live, carol, 'justified')).toEqual({
      kind: 'refused',
      reason: 'You cannot review your own break-glass use.',
    });
    expect(await decisions.review(live, alice, 'justified')).toMatchObject({
      kind: 'refused',
      reason: expect.stringMatching(/Only a reviewer/),
    });
    expect(await decisions.review(live, dave, 'flagged')).toMatchObject({ kind: 'reviewed' });
    // A redelivery of the same click: the same review, its event once.
    expect(await decisions.review(live, dave, 'flagged')).toMatchObject({ kind: 'reviewed' });
    expect(await decisions.review(live, dave, 'justified')).toMatchObject({ kind: 'refused' });
    const record = await requestStore().getRequest(live);
    expect(record?.breakGlass?.review).toMatchObject({ by: PEOPLE.dave.email, verdict: 'flagged' });
    expect((await harness.auditActions(live)).filter((a) => a === 'breakglass.reviewed')).toHaveLength(1);
    const update = harness
      .slackCalls('chat.update')
      .filter((c) => c.args.ts === record?.breakGlass?.alertMessage?.ts)
      .at(-1);
    expect(JSON.stringify(update?.args.blocks)).toContain('flagged for follow-up');
    expect(JSON.stringify(update?.args.blocks)).not.toContain('breakglass_justified');
    expect(await requestStore().listPendingReviews()).not.toContainEqual(
      expect.objectContaining({ request: expect.objectContaining({ requestId: live }) }),
    );
  });

  it('escalates a use left unreviewed past its window, once', async () => {
    const request = breakGlass('Database failover INC-2');
    await harness.start(request);
    await tokenStored(harness, request.requestId, 'window');
    await audited(harness, request.requestId, 'breakglass.alerted');
    expect((await requestStore().listPendingReviews()).map((r) => r.request.requestId)).toContain(
      request.requestId,
    );

    const clock = new ManualClock(Date.now());
    const pass = async () => (await reconciler({}, clock)).run();
    expect((await pass()).escalatedReviews).toBe(0);
    clock.advanceMinutes(121);
    expect((await pass()).escalatedReviews).toBe(1);
    expect((await pass()).escalatedReviews).toBe(0);
    const actions = await harness.auditActions(request.requestId);
    expect(actions.filter((a) => a === 'breakglass.escalated')).toHaveLength(1);
    const mentions = harness
      .slackCalls('chat.postMessage')
      .filter((c) => c.args.channel === 'C0SECURITY' && String(c.args.text).startsWith('<!channel>'));
    expect(mentions.filter((c) => String(c.args.text).includes(request.requestId))).toHaveLength(1);
    // Still reviewable after escalating; the review says it came late.
    const decisions = await requestDecisions();
    expect(await decisions.review(request.requestId, dave, 'justified')).toMatchObject({ kind: 'reviewed' });
  });
});
