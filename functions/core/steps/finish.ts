import * as z from 'zod/mini';
import type { Occurrence } from '../audit';
import { AccessError } from '../errors';
import { movesInto } from '../lifecycle';
import { accessRequestSchema, type RequestStatus } from '../model';
import type { RequesterNotice } from '../ports';
import { asksThroughLead, setLeadOf } from '../request-set';
import { parseInput, StepBase, SYSTEM, VALIDATE } from './base';

const OUTCOMES = [
  'denied',
  'cancelled',
  'approval-expired',
  'rejected',
  'revoked',
  'grant-failed',
  'revoke-failed',
] as const;
const finishSchema = z.object({
  requestId: z.string().check(z.minLength(1)),
  /** The execution's request, passed when Validate failed and nothing may be stored yet. */
  request: z.optional(z.unknown()),
  outcome: z.enum(OUTCOMES),
  // Step Functions error objects; fields may be null when a path had nothing to carry.
  error: z.optional(z.object({ Error: z.nullish(z.string()), Cause: z.nullish(z.string()) })),
});
export type FinishInput = z.input<typeof finishSchema>;

const OUTCOME_STATUS: Record<
  (typeof OUTCOMES)[number],
  { status: RequestStatus; from: RequestStatus[]; notice: RequesterNotice }
> = {
  denied: { status: 'DENIED', from: movesInto('DENIED', { orAlready: true }), notice: 'denied' },
  // Stored CANCELLED by the requester's click already (core/decisions.ts `cancel`), as a denial is.
  cancelled: {
    status: 'CANCELLED',
    from: movesInto('CANCELLED', { orAlready: true }),
    notice: 'cancelled',
  },
  'approval-expired': {
    status: 'APPROVAL_EXPIRED',
    from: movesInto('APPROVAL_EXPIRED'),
    notice: 'approval-expired',
  },
  rejected: { status: 'REJECTED', from: movesInto('REJECTED', { orAlready: true }), notice: 'rejected' },
  revoked: { status: 'REVOKED', from: movesInto('REVOKED'), notice: 'revoked' },
  'grant-failed': {
    status: 'GRANT_FAILED',
    from: movesInto('GRANT_FAILED', { orAlready: true }),
    notice: 'grant-failed',
  },
  'revoke-failed': { status: 'REVOKE_FAILED', from: movesInto('REVOKE_FAILED'), notice: 'revoke-failed' },
};

/** The requester notices a set's first member gives for every member: its decision. */
const SET_NOTICES: ReadonlySet<string> = new Set(['denied', 'approval-expired']);

export class FinishStep extends StepBase {
  /** Finish: the request's final status, its messages and the requester's DM. */
  async finish(input: unknown): Promise<{ status: RequestStatus }> {
    const step = parseInput(finishSchema, input, 'Finish');
    const { store, notifier, audit } = this.deps;
    const target = OUTCOME_STATUS[step.outcome];
    // A denial is no failure: its reason is the record's `denial`, whichever way the task failed.
    const failureReason = step.error && step.outcome !== 'denied' ? describeStepError(step.error) : undefined;
    const updated = await store.updateRequest(step.requestId, target.from, {
      status: target.status,
      ...(failureReason ? { failureReason } : {}),
    });
    const record = updated.ok
      ? updated.value
      : ((await this.storeUnvalidated(step, failureReason)) ?? (await store.getRequest(step.requestId)));
    if (!record) throw new AccessError('not-found', `Request ${step.requestId} is not stored`);
    // Stored by a Finish (this run, an earlier or a concurrent one): the opening of the trail
    // Validate would have written, under its ids, before the trail is closed.
    if (record.unvalidated) {
      await this.auditOpening(record);
      await audit.record(
        step.requestId,
        'request.rejected',
        SYSTEM,
        'failure',
        { reason: record.failureReason ?? 'The request could not be validated' },
        VALIDATE,
      );
    }
    const closing: Occurrence = { step: 'finish', key: step.outcome };
    if (step.outcome === 'approval-expired')
      await audit.record(step.requestId, 'approval.expired', SYSTEM, 'info', {}, closing);
    await audit.record(
      step.requestId,
      'request.closed',
      SYSTEM,
      step.outcome.endsWith('failed') ? 'failure' : 'success',
      {
        outcome: step.outcome,
        ...(failureReason ? { failureReason } : {}),
      },
      closing,
    );
    // After the event, so a crash in between leaves closedAt unset and the reconciler closes it.
    // Once: a retry keeps the first run's closedAt.
    const closed = await store.updateRequest(
      step.requestId,
      [record.status],
      { closedAt: this.now().toISOString() },
      (current) => !current.closedAt,
    );
    await store.takeTaskToken(step.requestId, 'window');
    const latest = closed.ok ? closed.value : (closed.current ?? record);
    await notifier.updateRequestMessages(latest);
    // The "Access ready" DM of a window that ended: its End/Extend buttons go (best-effort).
    if (latest.requesterDm && latest.status !== 'ACTIVE')
      await this.bestEffort('access ready DM', () => notifier.updateRequesterDm(latest));
    // A set's decision is told once, by its first member (core/request-set.ts), when that member
    // ended the same way (a first member refused by Validate asked nobody: each member tells).
    const toldBySet =
      SET_NOTICES.has(target.notice) &&
      asksThroughLead(latest.request) &&
      (await store.getRequest(setLeadOf(latest.request)))?.status === latest.status;
    if (!toldBySet) await notifier.notifyRequester(latest, target.notice, failureReason);
    if (step.outcome === 'revoke-failed')
      await notifier.alert(
        `Revoke failed for request ${step.requestId}: ${failureReason ?? 'unknown reason'}`,
        record,
      );
    return { status: record.status };
  }

  /**
   * Validate failed before storing the request: keep a REJECTED record built from the execution
   * input, so the requester is told and the request shows up in Slack. Answers the stored record
   * (whoever stored it) when there is one.
   */
  private async storeUnvalidated(step: z.infer<typeof finishSchema>, failureReason?: string) {
    const request = accessRequestSchema.safeParse(step.request);
    if (!request.success || request.data.requestId !== step.requestId) return undefined;
    const { record } = await this.deps.store.createRequest({
      version: 1,
      request: request.data,
      status: 'REJECTED',
      approvals: [],
      failureReason: failureReason ?? 'The request could not be validated',
      unvalidated: true,
      updatedAt: this.now().toISOString(),
    });
    return record;
  }
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
