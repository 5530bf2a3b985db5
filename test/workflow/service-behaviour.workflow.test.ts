import { reconciler } from '../../local/product-wiring';
import type { LambdaHandler } from '../../local/step-functions/local-step-functions';
import type { WorkerName } from '../../local/step-functions/product-workflow';
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

// What real Step Functions and Lambda do that a happy path never shows, through the real ASL
// and handlers: a worker killed at its timeout, a step result the later states cannot use, a
// callback output over the payload quota.

const alice = PEOPLE.alice;
const carol = { email: PEOPLE.carol.email, slackUserId: PEOPLE.carol.slackUserId };
const aliceActor = { email: alice.email, slackUserId: alice.slackUserId };
const stagingReadOnly = [ACCOUNTS.staging, PERMISSION_SETS.readOnly, alice.principalId];
const key = {
  accountId: ACCOUNTS.staging,
  permissionSetArn: PERMISSION_SETS.readOnly,
  principalId: alice.principalId,
};

let harness: Harness;
let counter = 0;
const newId = () => `req-svc-${++counter}-${Date.now().toString(36)}`;

afterEach(async () => {
  await harness?.close();
});

/** The first invocation of `name` never returns (a hung call the SDK did not time out). */
function hangOnce(target: WorkerName) {
  let hung = false;
  return (name: WorkerName, handler: LambdaHandler): LambdaHandler =>
    name !== target
      ? handler
      : async (event, context) => {
          if (!hung) {
            hung = true;
            await new Promise(() => {});
          }
          return handler(event, context);
        };
}

/** Replaces what the `targets` return to the state machine. */
function rewriteResult(targets: WorkerName[], rewrite: (result: Record<string, unknown>) => unknown) {
  return (name: WorkerName, handler: LambdaHandler): LambdaHandler =>
    !targets.includes(name)
      ? handler
      : async (event, context) => rewrite((await handler(event, context)) as Record<string, unknown>);
}

describe('a worker killed at its Lambda timeout (Lambda.Unknown)', () => {
  it('retries Grant, which is idempotent, and the lifecycle completes', async () => {
    harness = await startHarness({ functionTimeoutMs: 3000, wrapHandler: hangOnce('grant') });
    const requestId = newId();
    const execution = await harness.start({ requestId, durationMinutes: 1 });
    const result = await harness.finished(execution);

    expect(result.status).toBe('SUCCEEDED');
    // (The window's own States.Timeout, when it expires, is the other failure in the history.)
    const failures = harness.host
      .history(execution)
      .filter((e) => e.type === 'StateFailed' && e.stateName !== 'AccessWindow');
    expect(failures).toEqual([
      expect.objectContaining({
        stateName: 'Grant',
        error: 'Lambda.Unknown',
        cause: expect.stringContaining('Task timed out'),
      }),
    ]);
    expect(harness.writes()).toEqual([
      ['Create', ...stagingReadOnly],
      ['Delete', ...stagingReadOnly],
    ]);
    expect((await requestStore().getRequest(requestId))?.status).toBe('REVOKED');
  });

  it('retries the approval callback: the new attempt stores its own token, and the approval reaches it', async () => {
    harness = await startHarness({ functionTimeoutMs: 3000, wrapHandler: hangOnce('request-approval') });
    const requestId = newId();
    const execution = await harness.start({ requestId, accountId: ACCOUNTS.production, durationMinutes: 1 });
    await tokenStored(harness, requestId, 'approval');
    expect((await (await requestDecisions()).decide(requestId, carol, 'approve')).kind).toBe('approved');

    expect((await harness.finished(execution)).status).toBe('SUCCEEDED');
    const retried = harness.host.history(execution).filter((e) => e.type === 'StateRetried');
    expect(retried.map((e) => e.stateName)).toEqual(['AwaitApproval']);
    expect(harness.identityCenter.listAssignments()).toEqual([]);
  });
});

describe('a step result the later states cannot use', () => {
  it('before the grant: a non-numeric approval timeout (TimeoutSecondsPath) rejects the request, no States.Runtime', async () => {
    harness = await startHarness({
      wrapHandler: rewriteResult(['validate'], (result) => ({ ...result, approvalTimeoutSeconds: 'soon' })),
    });
    const requestId = newId();
    const result = await harness.finished(await harness.start({ requestId, accountId: ACCOUNTS.production }));

    expect(result).toMatchObject({ status: 'FAILED', error: 'ValidationFailed' });
    expect(harness.host.history(result.executionArn).map((e) => e.stateName)).toContain(
      'ValidationMalformed',
    );
    expect(harness.writes()).toEqual([]);
    expect(await requestStore().getRequest(requestId)).toMatchObject({ status: 'REJECTED' });
    expect(await harness.auditActions(requestId)).toContain('request.closed');
  });

  it.each([
    ['zero seconds', { seconds: 0 }],
    ['no seconds', { seconds: undefined }],
    ['no expiresAt', { expiresAt: undefined }],
  ])(
    'after the grant: a window with %s (TimeoutSecondsPath) revokes, no States.Runtime',
    async (_, change) => {
      harness = await startHarness({
        // Grant answers IN_PROGRESS here; the window comes with CheckGrant's SUCCEEDED.
        wrapHandler: rewriteResult(['grant', 'check-grant'], (result) =>
          result.status === 'SUCCEEDED'
            ? { ...result, window: { ...(result.window as object), ...change } }
            : result,
        ),
      });
      const requestId = newId();
      const result = await harness.finished(await harness.start({ requestId }));

      expect(result).toMatchObject({ status: 'FAILED', error: 'FailedAfterGrant' });
      expect(harness.host.history(result.executionArn).map((e) => e.stateName)).toContain('WindowMalformed');
      expect(harness.writes()).toEqual([
        ['Create', ...stagingReadOnly],
        ['Delete', ...stagingReadOnly],
      ]);
      expect(harness.hasAssignment(key)).toBe(false);
      expect(await requestStore().getRequest(requestId)).toMatchObject({ status: 'GRANT_FAILED' });
    },
  );

  it('after the grant: a Revoke result with no status is a failed revoke (alerted), not States.Runtime', async () => {
    harness = await startHarness({
      wrapHandler: rewriteResult(['revoke'], (result) => ({ ...result, status: null })),
    });
    const requestId = newId();
    const result = await harness.finished(await harness.start({ requestId, durationMinutes: 1 }));

    expect(result).toMatchObject({ status: 'FAILED', error: 'RevokeFailed' });
    expect(harness.host.history(result.executionArn).map((e) => e.stateName)).toContain('RevokeMalformed');
  });
});

describe('a callback output over the 256 KiB payload quota', () => {
  it('is refused by SendTaskSuccess, and the window goes on and ends normally', async () => {
    harness = await startHarness();
    const requestId = newId();
    const execution = await harness.start({ requestId, durationMinutes: 240 });
    const token = await tokenStored(harness, requestId, 'window');
    await audited(harness, requestId, 'window.opened');

    const oversized = JSON.stringify({ action: 'end', padding: 'x'.repeat(262_144) });
    await expect(harness.host.sendTaskSuccess(token, oversized)).rejects.toMatchObject({
      name: 'ValidationException',
    });
    expect(harness.host.describeExecution(execution).status).toBe('RUNNING');

    expect((await (await requestDecisions()).endAccess(requestId, aliceActor)).kind).toBe('ended');
    expect((await harness.finished(execution)).status).toBe('SUCCEEDED');
    expect(harness.hasAssignment(key)).toBe(false);
  });

  it('within the API limit but over the quota once merged into the state: the execution fails with no Catch; the reconciler revokes at the window’s end', async () => {
    harness = await startHarness();
    const requestId = newId();
    const execution = await harness.start({ requestId, durationMinutes: 240 });
    const token = await tokenStored(harness, requestId, 'window');
    await audited(harness, requestId, 'window.opened');

    // Under the API's 262,144 bytes, over them with the state input it is merged into.
    const nearLimit = JSON.stringify({ action: 'end', padding: 'x'.repeat(262_000) });
    expect(Buffer.byteLength(nearLimit)).toBeLessThanOrEqual(262_144);
    await harness.host.sendTaskSuccess(token, nearLimit);
    const result = await harness.finished(execution);

    // States.DataLimitExceeded is terminal: no Catch runs, so Revoke never starts.
    expect(result).toMatchObject({ status: 'FAILED', error: 'States.DataLimitExceeded' });
    expect(harness.hasAssignment(key)).toBe(true);
    // The reconciler honours an ACTIVE window whose execution is gone to its end, then revokes.
    let hoursLater = 0;
    const clock = { now: () => new Date(Date.now() + hoursLater * 3600_000) };
    const pass = await reconciler({ settleSeconds: 0, graceSeconds: 0, pollIntervalMs: 10 }, clock);
    await pass.run();
    expect(harness.hasAssignment(key)).toBe(true);
    hoursLater = 5;
    await pass.run();
    expect(harness.hasAssignment(key)).toBe(false);
  });
});
