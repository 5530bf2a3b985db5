import * as z from 'zod';
import type { AuditTrail } from './audit';
import { AccessError, errorMessage, RetryableError } from './errors';
import {
  type AccessRequest,
  type AssignmentKey,
  accessRequestSchema,
  executionInputSchema,
  type HoldersRecord,
  type RequestRecord,
  type RequestStatus,
} from './model';
import { approversFor, evaluateRequest, findRule, type Policy } from './policy';
import type {
  AssignmentDirectory,
  AssignmentOperationStatus,
  Clock,
  Notifier,
  RequesterNotice,
  RequestStore,
  UserDirectory,
} from './ports';
import { windowLimit, windowSeconds, windowStartMs } from './window';

// The rules of one request's lifecycle, one method per state machine task. Every method is
// safe to run twice (Step Functions retries, Lambda redelivers): writes are conditional and a
// second run finds the first run's work and carries on from it.

export interface StepDependencies {
  policy: Policy;
  store: RequestStore;
  audit: AuditTrail;
  assignments: AssignmentDirectory;
  users: UserDirectory;
  notifier: Notifier;
  clock: Clock;
}

const SYSTEM = 'system:workflow';
/** Bounded optimistic-lock loop on the holders record before handing the retry to Step Functions. */
const HOLDERS_WRITE_ATTEMPTS = 5;

export type ValidationResult =
  | {
      valid: true;
      approvalRequired: boolean;
      approvalTimeoutSeconds: number;
      principalId: string;
      ruleName: string;
    }
  | { valid: false; reason: string };

const assignmentStepSchema = z.object({
  version: z.number().int().optional(),
  requestId: z.string().min(1),
  accountId: z.string().regex(/^\d{12}$/),
  permissionSetArn: z.string().min(1),
  principalId: z.string().min(1),
});
export type AssignmentStepInput = z.infer<typeof assignmentStepSchema>;

const checkStepSchema = assignmentStepSchema.extend({
  operationId: z.string().min(1),
  // Older executions may carry no attempt (or null): start counting again rather than fail the poll.
  attempt: z.number().int().nonnegative().catch(0),
});
export type CheckStepInput = z.input<typeof checkStepSchema>;

const revokeStepSchema = assignmentStepSchema.extend({
  // Older executions may lack a reason: the revoke path must still run.
  reason: z.enum(['expired', 'ended-early', 'failure']).catch('failure'),
});
export type RevokeStepInput = z.input<typeof revokeStepSchema>;

export interface WindowPlan {
  /** When access went live: every later window of the request is capped from it. */
  startedAt: string;
  expiresAt: string;
  seconds: number;
}

const isoTime = z.string().datetime();
/** How long an extend callback may take from the Slack click's SendTaskSuccess to the ExtendWindow state. */
const CALLBACK_TRANSIT_MS = 60_000;

const openWindowSchema = z.object({
  taskToken: z.string().min(1),
  requestId: z.string().min(1),
  expiresAt: isoTime,
  // The state's `$.grant.window` (absent from executions of earlier definitions).
  window: z.object({ startedAt: isoTime.optional() }).catch({}).optional(),
});

/** The callback's answer to an extension, as far as it is compared with the plan (untrusted). */
const extendCallbackSchema = z.object({
  expiresAt: isoTime.optional().catch(undefined),
  seconds: z.number().finite().optional().catch(undefined),
});

const planExtensionSchema = z.object({
  plan: z.literal('extend'),
  requestId: z.string().min(1),
  /** The execution input's own duration ($.request.durationMinutes). */
  durationMinutes: z.number().int().positive(),
  /** `$.grant.window` as the previous window was planned. */
  window: z.object({ startedAt: isoTime.optional().catch(undefined) }).catch({}),
  /** `$.windowResult`: what the AccessWindow callback was completed with. */
  callback: z.unknown(),
  /** When the callback arrived (`$$.State.EnteredTime` of ExtendWindow). */
  callbackAt: isoTime.optional().catch(undefined),
});
export type PlanExtensionInput = z.input<typeof planExtensionSchema>;

export type GrantResult =
  | { status: 'IN_PROGRESS'; operationId: string; attempt: number }
  | { status: 'SUCCEEDED'; window: WindowPlan; alreadyAssigned: boolean }
  | { status: 'FAILED'; failureReason: string };

export type RevokeResult =
  | { status: 'IN_PROGRESS'; operationId: string; attempt: number }
  | { status: 'SUCCEEDED' }
  | { status: 'KEPT'; keptBecause: 'pre-existing' | 'shared' | 'not-tracked' }
  | { status: 'FAILED'; failureReason: string };

const OUTCOMES = [
  'denied',
  'approval-expired',
  'rejected',
  'revoked',
  'grant-failed',
  'revoke-failed',
] as const;
const finishSchema = z.object({
  requestId: z.string().min(1),
  /** The execution's request, passed when Validate failed and nothing may be stored yet. */
  request: z.unknown().optional(),
  outcome: z.enum(OUTCOMES),
  // Step Functions error objects; fields may be null when a path had nothing to carry.
  error: z.object({ Error: z.string().nullish(), Cause: z.string().nullish() }).optional(),
});
export type FinishInput = z.input<typeof finishSchema>;

const OUTCOME_STATUS: Record<
  (typeof OUTCOMES)[number],
  { status: RequestStatus; from: RequestStatus[]; notice: RequesterNotice }
> = {
  denied: { status: 'DENIED', from: ['PENDING_APPROVAL', 'DENIED'], notice: 'denied' },
  'approval-expired': {
    status: 'APPROVAL_EXPIRED',
    from: ['PENDING_APPROVAL', 'APPROVED'],
    notice: 'approval-expired',
  },
  rejected: { status: 'REJECTED', from: ['PENDING_APPROVAL', 'APPROVED', 'REJECTED'], notice: 'rejected' },
  revoked: {
    status: 'REVOKED',
    from: ['GRANTING', 'ACTIVE', 'REVOKING', 'APPROVED', 'GRANT_FAILED'],
    notice: 'revoked',
  },
  'grant-failed': {
    status: 'GRANT_FAILED',
    from: ['APPROVED', 'GRANTING', 'ACTIVE', 'REVOKING', 'GRANT_FAILED'],
    notice: 'grant-failed',
  },
  'revoke-failed': {
    status: 'REVOKE_FAILED',
    from: ['APPROVED', 'GRANTING', 'ACTIVE', 'REVOKING', 'GRANT_FAILED'],
    notice: 'revoke-failed',
  },
};

function parseInput<T>(schema: z.ZodType<T>, input: unknown, step: string): T {
  const result = schema.safeParse(input);
  if (!result.success) {
    throw new AccessError(
      'invalid-step-input',
      `${step}: invalid input: ${result.error.issues[0]?.message ?? 'unknown'}`,
    );
  }
  return result.data;
}

export class LifecycleSteps {
  constructor(private readonly deps: StepDependencies) {}

  private now(): Date {
    return this.deps.clock.now();
  }

  /** Validate: re-checks the request against policy, resolves the Identity Center user, stores the request. */
  async validate(input: unknown): Promise<ValidationResult> {
    const { policy, store, audit, users } = this.deps;
    const parsed = executionInputSchema.safeParse(input);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      return {
        valid: false,
        reason: `Malformed request: ${issue?.path.join('.') ?? ''} ${issue?.message ?? ''}`.trim(),
      };
    }
    const request = parsed.data.request;
    const verdict = evaluateRequest(policy, {
      requesterEmail: request.requester.email,
      accountId: request.accountId,
      permissionSet: request.permissionSetArn,
      durationMinutes: request.durationMinutes,
    });
    const principalId = verdict.allowed ? await users.findUserIdByEmail(request.requester.email) : undefined;
    const reason = !verdict.allowed
      ? verdict.reason
      : !principalId
        ? `No Identity Center user has the email ${request.requester.email}.`
        : undefined;

    const base: RequestRecord = {
      version: 1,
      request,
      status: reason
        ? 'REJECTED'
        : verdict.allowed && verdict.approvalRequired
          ? 'PENDING_APPROVAL'
          : 'APPROVED',
      approvals: [],
      updatedAt: this.now().toISOString(),
      ...(verdict.allowed
        ? {
            ruleName: verdict.rule.name,
            accountName: verdict.account.name,
            permissionSetName: verdict.permissionSet.name,
            approvalsRequired: verdict.rule.approval === 'none' ? 0 : verdict.rule.approval.required,
          }
        : {}),
      ...(principalId ? { principalId } : {}),
      ...(reason ? { failureReason: reason } : {}),
    };
    const { created, record } = await store.createRequest(base);
    if (created) {
      await audit.record(request.requestId, 'request.submitted', request.requester.email, 'info', {
        accountId: request.accountId,
        permissionSetArn: request.permissionSetArn,
        durationMinutes: request.durationMinutes,
        reason: request.reason,
        ticket: request.ticket ?? null,
      });
    }
    if (record.status === 'REJECTED' || reason || !verdict.allowed || !principalId) {
      const why = record.failureReason ?? reason ?? 'rejected';
      if (created)
        await audit.record(request.requestId, 'request.rejected', SYSTEM, 'failure', { reason: why });
      return { valid: false, reason: why };
    }
    if (created && !verdict.approvalRequired) {
      await audit.record(request.requestId, 'approval.auto', SYSTEM, 'success', { rule: verdict.rule.name });
    }
    const approval = verdict.rule.approval;
    return {
      valid: true,
      approvalRequired: verdict.approvalRequired,
      approvalTimeoutSeconds: approval === 'none' ? 0 : approval.timeout * 60,
      principalId,
      ruleName: verdict.rule.name,
    };
  }

  /** RequestApproval (callback): keeps the task token server-side and asks the approvers. */
  async requestApproval(input: unknown): Promise<void> {
    const { taskToken, requestId } = parseInput(
      z.object({ taskToken: z.string().min(1), requestId: z.string().min(1) }),
      input,
      'RequestApproval',
    );
    const { store, policy, notifier, audit } = this.deps;
    const record = await this.requireRequest(requestId);
    // The token is stored before anyone is asked, so the first click always finds it.
    await store.putTaskToken(requestId, 'approval', taskToken);
    if (record.approvalMessage) return; // a retry: the approvers were already asked
    const rule = record.ruleName ? findRule(policy, record.ruleName) : undefined;
    if (!rule)
      throw new AccessError(
        'rule-gone',
        `Rule ${record.ruleName} of request ${requestId} is no longer in the policy`,
      );
    const approvers = approversFor(policy, rule, record.request.requester.email);
    await audit.record(requestId, 'approval.requested', SYSTEM, 'info', {
      approvers: approvers.join(','),
      required: record.approvalsRequired ?? 1,
    });
    const message = await notifier.requestApproval(record, approvers);
    if (message) await store.updateRequest(requestId, ['PENDING_APPROVAL'], { approvalMessage: message });
  }

  /** Grant: creates the assignment unless the user already holds it; registers this request as a holder. */
  async grant(input: unknown): Promise<GrantResult> {
    const step = parseInput(assignmentStepSchema, input, 'Grant');
    const { assignments, audit, store } = this.deps;
    const key = keyOf(step);
    // Only an approved request, for exactly the assignment it asked for (a forged or stale
    // payload must not create anything).
    const request = await this.requireRequest(step.requestId);
    assertSameAssignment(request, step);
    if (request.status !== 'APPROVED' && request.status !== 'GRANTING')
      throw new AccessError(
        'not-approved',
        `Grant: request ${step.requestId} is ${request.status}, not approved`,
      );
    for (let attempt = 0; attempt < HOLDERS_WRITE_ATTEMPTS; attempt++) {
      const holders = await store.getHolders(key);
      if (holders?.holders.includes(step.requestId)) {
        // A retry of this step: carry on from what the first run did.
        if (holders.state === 'PRESENT') return this.opened(step, true, holders.preExisting);
        // Asking again is a new operation: fence it like the first one.
        await this.updateHolders(key, (h) =>
          h.state === 'CREATING' && h.holders.includes(step.requestId)
            ? {
                ...h,
                creationsInFlight: [
                  ...(h.creationsInFlight ?? []),
                  { requestId: step.requestId, issuedAt: this.now().toISOString() },
                ],
              }
            : undefined,
        );
        return this.inProgress(await this.create(key, step.requestId), step);
      }
      if (holders?.state === 'DELETING' || holders?.state === 'CREATING') {
        throw new RetryableError(
          `Assignment ${describeKey(key)} is ${holders.state.toLowerCase()} for another request`,
        );
      }
      if (holders && holders.state === 'PRESENT' && holders.holders.length > 0) {
        if (
          await store.putHolders(
            this.withHolders(holders, [...holders.holders, step.requestId]),
            holders.revision,
          )
        ) {
          await audit.record(step.requestId, 'grant.existing', SYSTEM, 'success', {
            sharedWith: holders.holders.join(','),
            preExisting: holders.preExisting,
          });
          return this.opened(step, true, holders.preExisting);
        }
        continue;
      }
      // Nobody of ours holds it: ask Identity Center whether the user already has it.
      const principals = await assignments.listUserPrincipals(key.accountId, key.permissionSetArn);
      const alreadyAssigned = principals.includes(key.principalId);
      // Assigned while a creation of ours is still unaccounted for: that is our own creation
      // landing late (after its request let go), not access someone else gave: hold it, and
      // this request's revoke deletes it.
      const inFlight = holders?.creationsInFlight ?? [];
      const lateCreation = alreadyAssigned && inFlight.length > 0;
      const now = this.now().toISOString();
      const next: HoldersRecord = {
        ...key,
        preExisting: alreadyAssigned && !lateCreation,
        holders: [step.requestId],
        state: alreadyAssigned ? 'PRESENT' : 'CREATING',
        // Fenced before the call: if this step dies mid-call, the record says a creation may land.
        creationsInFlight: alreadyAssigned
          ? inFlight
          : [...inFlight, { requestId: step.requestId, issuedAt: now }],
        revision: (holders?.revision ?? 0) + 1,
        updatedAt: now,
      };
      if (!(await store.putHolders(next, holders?.revision))) continue;
      if (alreadyAssigned) {
        await audit.record(step.requestId, 'grant.existing', SYSTEM, 'success', {
          preExisting: !lateCreation,
          ...(lateCreation ? { lateCreationOf: inFlight.map((c) => c.requestId).join(',') } : {}),
        });
        return this.opened(step, true, !lateCreation);
      }
      await store.updateRequest(step.requestId, ['APPROVED', 'GRANTING'], { status: 'GRANTING' });
      const operation = await this.create(key, step.requestId);
      await audit.record(step.requestId, 'grant.requested', SYSTEM, 'info', {
        principalId: key.principalId,
        accountId: key.accountId,
        permissionSetArn: key.permissionSetArn,
        operationId: operation.requestId,
      });
      return this.inProgress(operation, step);
    }
    throw new RetryableError(`Concurrent changes to the holders of ${describeKey(key)}`);
  }

  /** CheckGrant: polls the creation; SUCCEEDED opens the window, FAILED releases the holder with AWS's reason. */
  async checkGrant(input: unknown): Promise<GrantResult> {
    const step = parseInput(checkStepSchema, input, 'CheckGrant');
    const status = await this.deps.assignments.creationStatus(step.operationId);
    if (status.status === 'IN_PROGRESS')
      return { status: 'IN_PROGRESS', operationId: step.operationId, attempt: step.attempt + 1 };
    const key = keyOf(step);
    if (status.status === 'SUCCEEDED') {
      // Accounted for once it is PRESENT under its holders; if the record moved on meanwhile (its
      // request was revoked while creating), the creation stays open for the reconciler.
      await this.updateHolders(key, (h) =>
        h.state === 'CREATING'
          ? { ...h, state: 'PRESENT', creationsInFlight: settled(h, step.requestId, step.operationId) }
          : undefined,
      );
      return this.opened(step, false, false);
    }
    await this.updateHolders(key, (h) => {
      const remaining = h.holders.filter((id) => id !== step.requestId);
      // A FAILED creation leaves nothing behind: it is no longer in flight.
      return {
        ...h,
        holders: remaining,
        state: remaining.length ? h.state : 'ABSENT',
        creationsInFlight: settled(h, step.requestId, step.operationId),
      };
    });
    await this.deps.store.updateRequest(step.requestId, ['APPROVED', 'GRANTING'], {
      status: 'GRANT_FAILED',
      failureReason: status.failureReason,
    });
    await this.deps.audit.record(step.requestId, 'grant.failed', SYSTEM, 'failure', {
      failureReason: status.failureReason,
    });
    return { status: 'FAILED', failureReason: status.failureReason };
  }

  /**
   * AccessWindow (callback): keeps the token that ends or extends the window; tells the requester.
   * Never records an expiresAt beyond what the policy allows (an execution of an earlier
   * definition copies the extend callback's expiresAt here unchecked): the capped one is stored,
   * so the reconciler ends the window there whatever the task's own timer says.
   */
  async openWindow(input: unknown): Promise<void> {
    const step = parseInput(openWindowSchema, input, 'AccessWindow');
    const { taskToken, requestId } = step;
    const { store, notifier, audit, policy } = this.deps;
    const before = await this.requireRequest(requestId);
    await store.putTaskToken(requestId, 'window', taskToken);
    const now = this.now().getTime();
    const opening = before.status !== 'ACTIVE';
    // The first opening without a start from the workflow (an earlier definition) starts now.
    // With no start known at all (a window opened by an earlier version), windowStartMs falls
    // back to the earliest the window can have opened, and that guess is not stored.
    const known = [
      step.window?.startedAt,
      before.windowStartedAt,
      opening ? new Date(now).toISOString() : undefined,
    ];
    const startedAtMs = windowStartMs(before, known, now);
    const limit = windowLimit(policy, before, startedAtMs);
    const askedMs = Date.parse(step.expiresAt);
    const refused = askedMs > limit.expiresAtMs;
    const expiresAt = refused ? limit.expiresAt : new Date(askedMs).toISOString();
    if (refused)
      await audit.record(requestId, 'window.extend-refused', SYSTEM, 'failure', {
        askedExpiresAt: step.expiresAt,
        allowedExpiresAt: limit.expiresAt,
        allowedMinutes: limit.allowedMinutes,
        reason: 'the window asked for ends after the longest the policy allows',
      });
    const extended = !opening && before.expiresAt !== undefined && before.expiresAt !== expiresAt;
    if (!opening && before.expiresAt === expiresAt) return; // a retry, or a refused window: nothing changes
    const updated = await store.updateRequest(requestId, ['APPROVED', 'GRANTING', 'ACTIVE'], {
      status: 'ACTIVE',
      expiresAt,
      ...(known.some(Boolean) ? { windowStartedAt: new Date(startedAtMs).toISOString() } : {}),
    });
    // Not ACTIVE-able any more: the window's timeout already fired and Revoke moved the request
    // on (or it failed). Announcing it now would tell the requester about access that is gone.
    if (!updated.ok) return;
    const record = updated.value;
    await audit.record(requestId, extended ? 'window.extended' : 'window.opened', SYSTEM, 'success', {
      expiresAt,
    });
    await notifier.updateRequestMessages(record);
    await notifier.notifyRequester(record, extended ? 'extended' : 'granted');
  }

  /**
   * ExtendWindow: the next window after an extend callback, planned from server-side facts only:
   * the window's start, the request's own duration, the extensions applied to the record and the
   * policy as deployed (`windowLimit`). The callback's expiresAt/seconds are only compared with
   * the plan: asking for more is refused (audited) and the plan is used anyway.
   */
  async planExtension(input: unknown): Promise<WindowPlan> {
    const step = parseInput(planExtensionSchema, input, 'ExtendWindow');
    const { policy, audit } = this.deps;
    const record = await this.requireRequest(step.requestId);
    const now = this.now().getTime();
    const startedAtMs = windowStartMs(record, [step.window.startedAt, record.windowStartedAt], now);
    const limit = windowLimit(policy, record, startedAtMs, step.durationMinutes);
    const plan: WindowPlan = {
      startedAt: new Date(startedAtMs).toISOString(),
      expiresAt: limit.expiresAt,
      seconds: windowSeconds(limit.expiresAtMs, now),
    };
    const asked = extendCallbackSchema.safeParse(step.callback);
    const askedExpiresAt = asked.success ? asked.data.expiresAt : undefined;
    const askedSeconds = asked.success ? asked.data.seconds : undefined;
    // `seconds` counts from when the callback was sent, a moment before it arrived (`callbackAt`):
    // compared with some leeway for that transit. expiresAt is exact; the plan is exact either way.
    const from = (step.callbackAt ? Date.parse(step.callbackAt) : now) - CALLBACK_TRANSIT_MS;
    const tooLate = askedExpiresAt !== undefined && Date.parse(askedExpiresAt) > limit.expiresAtMs;
    const tooLong = askedSeconds !== undefined && from + askedSeconds * 1000 > limit.expiresAtMs;
    const unreadable = askedExpiresAt === undefined && askedSeconds === undefined;
    if (tooLate || tooLong || unreadable)
      await audit.record(step.requestId, 'window.extend-refused', SYSTEM, 'failure', {
        askedExpiresAt: askedExpiresAt ?? null,
        askedSeconds: askedSeconds ?? null,
        allowedExpiresAt: limit.expiresAt,
        allowedMinutes: limit.allowedMinutes,
        reason: unreadable
          ? 'the extend callback names no window'
          : 'the extend callback asks for more than the policy allows',
      });
    return plan;
  }

  /** Revoke: deletes the assignment only when no pre-existing record and no other live request needs it. */
  async revoke(input: unknown): Promise<RevokeResult> {
    const step = parseInput(revokeStepSchema, input, 'Revoke');
    const { audit, store } = this.deps;
    const key = keyOf(step);
    // Tolerant of older payloads, not of another assignment than the request's.
    const request = await store.getRequest(step.requestId);
    if (request) assertSameAssignment(request, step);
    await store.updateRequest(step.requestId, ['APPROVED', 'GRANTING', 'ACTIVE', 'GRANT_FAILED'], {
      status: 'REVOKING',
    });
    for (let attempt = 0; attempt < HOLDERS_WRITE_ATTEMPTS; attempt++) {
      const holders = await store.getHolders(key);
      if (!holders) {
        // Nothing this product created is recorded for it: deleting could remove access it never granted.
        await audit.record(step.requestId, 'revoke.kept', SYSTEM, 'info', { keptBecause: 'not-tracked' });
        return { status: 'KEPT', keptBecause: 'not-tracked' };
      }
      if (holders.state === 'DELETING' && holders.deletingBy === step.requestId) {
        if (holders.deletionRequestId)
          return { status: 'IN_PROGRESS', operationId: holders.deletionRequestId, attempt: 0 };
        return this.startDeletion(key, step.requestId);
      }
      if (!holders.holders.includes(step.requestId)) {
        // Already released by an earlier run of this step (or the grant never registered).
        return holders.state === 'ABSENT' || holders.holders.length === 0
          ? { status: 'SUCCEEDED' }
          : { status: 'KEPT', keptBecause: 'shared' };
      }
      if (step.reason === 'expired') await audit.record(step.requestId, 'window.expired', SYSTEM, 'info', {});
      const remaining = holders.holders.filter((id) => id !== step.requestId);
      if (remaining.length > 0 || holders.preExisting || holders.state === 'ABSENT') {
        if (!(await store.putHolders(this.withHolders(holders, remaining), holders.revision))) continue;
        const keptBecause = holders.preExisting ? 'pre-existing' : 'shared';
        if (holders.state === 'ABSENT') return { status: 'SUCCEEDED' };
        await audit.record(step.requestId, 'revoke.kept', SYSTEM, 'success', {
          keptBecause,
          stillNeededBy: remaining.join(','),
        });
        return { status: 'KEPT', keptBecause };
      }
      const deleting: HoldersRecord = {
        ...this.withHolders(holders, []),
        state: 'DELETING',
        deletingBy: step.requestId,
      };
      delete deleting.deletionRequestId;
      if (!(await store.putHolders(deleting, holders.revision))) continue;
      return this.startDeletion(key, step.requestId);
    }
    throw new RetryableError(`Concurrent changes to the holders of ${describeKey(key)}`);
  }

  /** CheckRevoke: polls the deletion; SUCCEEDED marks the assignment absent. */
  async checkRevoke(input: unknown): Promise<RevokeResult> {
    const step = parseInput(checkStepSchema, input, 'CheckRevoke');
    const status = await this.deps.assignments.deletionStatus(step.operationId);
    if (status.status === 'IN_PROGRESS')
      return { status: 'IN_PROGRESS', operationId: step.operationId, attempt: step.attempt + 1 };
    const key = keyOf(step);
    if (status.status === 'SUCCEEDED' || isAlreadyGone(status)) {
      await this.markDeleted(key, step.requestId);
      await this.deps.audit.record(step.requestId, 'revoke.succeeded', SYSTEM, 'success', {
        operationId: step.operationId,
      });
      return { status: 'SUCCEEDED' };
    }
    await this.deps.audit.record(step.requestId, 'revoke.failed', SYSTEM, 'failure', {
      failureReason: status.failureReason,
    });
    return { status: 'FAILED', failureReason: status.failureReason };
  }

  /** Finish: the request's final status, its messages and the requester's DM. */
  async finish(input: unknown): Promise<{ status: RequestStatus }> {
    const step = parseInput(finishSchema, input, 'Finish');
    const { store, notifier, audit } = this.deps;
    const target = OUTCOME_STATUS[step.outcome];
    const failureReason = step.error ? describeStepError(step.error) : undefined;
    const updated = await store.updateRequest(step.requestId, target.from, {
      status: target.status,
      ...(failureReason ? { failureReason } : {}),
    });
    const record = updated.ok
      ? updated.value
      : ((await store.getRequest(step.requestId)) ?? (await this.storeUnvalidated(step, failureReason)));
    if (!record) throw new AccessError('not-found', `Request ${step.requestId} is not stored`);
    if (step.outcome === 'approval-expired')
      await audit.record(step.requestId, 'approval.expired', SYSTEM, 'info', {});
    await audit.record(
      step.requestId,
      'request.closed',
      SYSTEM,
      step.outcome.endsWith('failed') ? 'failure' : 'success',
      {
        outcome: step.outcome,
        ...(failureReason ? { failureReason } : {}),
      },
    );
    // After the event, so a crash in between leaves closedAt unset and the reconciler closes it.
    const closed = await store.updateRequest(step.requestId, [record.status], {
      closedAt: this.now().toISOString(),
    });
    await store.takeTaskToken(step.requestId, 'window');
    const latest = closed.ok ? closed.value : record;
    await notifier.updateRequestMessages(latest);
    await notifier.notifyRequester(latest, target.notice, failureReason);
    if (step.outcome === 'revoke-failed')
      await notifier.alert(
        `Revoke failed for request ${step.requestId}: ${failureReason ?? 'unknown reason'}`,
        record,
      );
    return { status: record.status };
  }

  // ---------------------------------------------------------------------------------------------

  /**
   * Validate failed before storing the request: keep a REJECTED record built from the execution
   * input, so the requester is told and the request shows up in Slack.
   */
  private async storeUnvalidated(step: z.infer<typeof finishSchema>, failureReason?: string) {
    const request = accessRequestSchema.safeParse(step.request);
    if (!request.success || request.data.requestId !== step.requestId) return undefined;
    const reason = failureReason ?? 'The request could not be validated';
    const { created, record } = await this.deps.store.createRequest({
      version: 1,
      request: request.data,
      status: 'REJECTED',
      approvals: [],
      failureReason: reason,
      updatedAt: this.now().toISOString(),
    });
    if (created) {
      // The same opening of the trail Validate would have written.
      await this.deps.audit.record(
        step.requestId,
        'request.submitted',
        request.data.requester.email,
        'info',
        {
          accountId: request.data.accountId,
          permissionSetArn: request.data.permissionSetArn,
          durationMinutes: request.data.durationMinutes,
          reason: request.data.reason,
          ticket: request.data.ticket ?? null,
        },
      );
      await this.deps.audit.record(step.requestId, 'request.rejected', SYSTEM, 'failure', { reason });
    }
    return record;
  }

  private async requireRequest(requestId: string): Promise<RequestRecord> {
    const record = await this.deps.store.getRequest(requestId);
    if (!record) throw new AccessError('not-found', `Request ${requestId} is not stored`);
    return record;
  }

  private withHolders(holders: HoldersRecord, ids: string[]): HoldersRecord {
    return { ...holders, holders: ids, revision: holders.revision + 1, updatedAt: this.now().toISOString() };
  }

  private async updateHolders(
    key: AssignmentKey,
    change: (h: HoldersRecord) => HoldersRecord | undefined,
  ): Promise<void> {
    for (let attempt = 0; attempt < HOLDERS_WRITE_ATTEMPTS; attempt++) {
      const current = await this.deps.store.getHolders(key);
      if (!current) return;
      const next = change(current);
      if (!next) return;
      if (
        await this.deps.store.putHolders(
          { ...next, revision: current.revision + 1, updatedAt: this.now().toISOString() },
          current.revision,
        )
      )
        return;
    }
    throw new RetryableError(`Concurrent changes to the holders of ${describeKey(key)}`);
  }

  /** CreateAccountAssignment, then the operation id on this request's open creation (best effort: without it the reconciler waits out the creation instead of asking for its status). */
  private async create(key: AssignmentKey, requestId: string): Promise<AssignmentOperationStatus> {
    const operation = await this.deps.assignments.create(key);
    await this.updateHolders(key, (h) => {
      const open = h.creationsInFlight ?? [];
      // The newest fence of this request without an id is this call's.
      const index = open.findLastIndex((c) => c.requestId === requestId && !c.operationId);
      if (index < 0) return undefined;
      return {
        ...h,
        creationsInFlight: open.map((c, i) => (i === index ? { ...c, operationId: operation.requestId } : c)),
      };
    });
    return operation;
  }

  private async startDeletion(key: AssignmentKey, requestId: string): Promise<RevokeResult> {
    await this.deps.audit.record(requestId, 'revoke.requested', SYSTEM, 'info', {
      principalId: key.principalId,
    });
    let operation: AssignmentOperationStatus;
    try {
      operation = await this.deps.assignments.delete(key);
    } catch (error) {
      if (error instanceof AccessError && error.code === 'assignment-not-found') {
        await this.markDeleted(key, requestId);
        await this.deps.audit.record(requestId, 'revoke.succeeded', SYSTEM, 'success', {
          note: 'already absent',
        });
        return { status: 'SUCCEEDED' };
      }
      throw error;
    }
    await this.updateHolders(key, (h) =>
      h.state === 'DELETING' && h.deletingBy === requestId
        ? { ...h, deletionRequestId: operation.requestId }
        : undefined,
    );
    if (operation.status === 'IN_PROGRESS')
      return { status: 'IN_PROGRESS', operationId: operation.requestId, attempt: 0 };
    return this.checkRevoke({ ...key, requestId, operationId: operation.requestId, attempt: 0 });
  }

  private async markDeleted(key: AssignmentKey, requestId: string): Promise<void> {
    await this.updateHolders(key, (h) => {
      if (h.state !== 'DELETING' || h.deletingBy !== requestId) return undefined;
      const next: HoldersRecord = { ...h, state: 'ABSENT', preExisting: false };
      delete next.deletingBy;
      delete next.deletionRequestId;
      return next;
    });
  }

  private inProgress(
    operation: AssignmentOperationStatus,
    step: AssignmentStepInput,
  ): Promise<GrantResult> | GrantResult {
    if (operation.status === 'IN_PROGRESS')
      return { status: 'IN_PROGRESS', operationId: operation.requestId, attempt: 0 };
    return this.checkGrant({ ...step, operationId: operation.requestId, attempt: 0 });
  }

  /** Access is live: plan the window from now (its start flows on in `$.grant.window`). */
  private async opened(
    step: AssignmentStepInput,
    alreadyAssigned: boolean,
    preExisting: boolean,
  ): Promise<GrantResult> {
    const record = await this.requireRequest(step.requestId);
    const seconds = record.request.durationMinutes * 60;
    const startedAt = this.now();
    const expiresAt = new Date(startedAt.getTime() + seconds * 1000).toISOString();
    await this.deps.audit.record(step.requestId, 'grant.succeeded', SYSTEM, 'success', {
      alreadyAssigned,
      preExisting,
      startedAt: startedAt.toISOString(),
      expiresAt,
    });
    return {
      status: 'SUCCEEDED',
      window: { startedAt: startedAt.toISOString(), expiresAt, seconds },
      alreadyAssigned,
    };
  }
}

function assertSameAssignment(record: RequestRecord, step: AssignmentStepInput): void {
  const matches =
    record.request.accountId === step.accountId &&
    record.request.permissionSetArn === step.permissionSetArn &&
    (record.principalId === undefined || record.principalId === step.principalId);
  if (!matches)
    throw new AccessError(
      'input-mismatch',
      `Request ${step.requestId} is not for ${describeKey(keyOf(step))}: refusing to change it`,
    );
}

/**
 * The record's open creations without the one whose outcome is now known. A fence without an
 * operation id (its call never returned, as far as the record knows) stays for the reconciler.
 */
function settled(holders: HoldersRecord, requestId: string, operationId: string) {
  return (holders.creationsInFlight ?? []).filter(
    (c) => !(c.requestId === requestId && c.operationId === operationId),
  );
}

function keyOf(step: AssignmentStepInput): AssignmentKey {
  return {
    accountId: step.accountId,
    permissionSetArn: step.permissionSetArn,
    principalId: step.principalId,
  };
}

function describeKey(key: AssignmentKey): string {
  return `${key.permissionSetArn.split('/').pop()} on ${key.accountId} for ${key.principalId}`;
}

function isAlreadyGone(status: AssignmentOperationStatus): boolean {
  return status.status === 'FAILED' && /does not exist|not found|no assignment/i.test(status.failureReason);
}

/** A readable reason from a Step Functions error object ({Error, Cause}); Cause may be Lambda's JSON. */
export function describeStepError(error: { Error?: string | null; Cause?: string | null }): string {
  const cause = error.Cause ?? '';
  try {
    const parsed: unknown = JSON.parse(cause);
    if (parsed && typeof parsed === 'object' && 'errorMessage' in parsed)
      return `${error.Error ?? 'Error'}: ${String((parsed as { errorMessage: unknown }).errorMessage)}`;
    if (parsed && typeof parsed === 'object' && 'reason' in parsed)
      return String((parsed as { reason: unknown }).reason);
  } catch {
    // Cause is plain text.
  }
  return [error.Error, cause].filter(Boolean).join(': ') || 'unknown error';
}

export type { AccessRequest };
export { errorMessage };
