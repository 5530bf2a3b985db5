import { activation, REASON_HISTORY, reusedReason } from '../break-glass';
import { DEFAULT_USER_MAPPING, noUserError } from '../identity-mapping';
import { executionInputSchema, type RequestRecord } from '../model';
import { approvalChannelFor, evaluateRequest, evaluationTarget } from '../policy';
import { asksThroughLead, setProblem } from '../request-set';
import { checkStart, startTimestamp } from '../scheduled-start';
import { checkTicket } from '../ticket';

import { StepBase, SYSTEM, VALIDATE } from './base';

export type ValidationResult =
  | {
      valid: true;
      approvalRequired: boolean;
      approvalTimeoutSeconds: number;
      principalId: string;
      ruleName: string;
      /** When the approval message may be posted (its channel's pace), or null for at once. */
      approvalPostAt: string | null;
      /** A scheduled start (whole seconds, for WaitForStart), or null to grant when approved. */
      startAt: string | null;
    }
  | { valid: false; reason: string };

export class ValidateStep extends StepBase {
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
    await this.directory.forPeople([request.requester.email]);
    const verdict = evaluateRequest(policy, {
      requesterEmail: request.requester.email,
      ...evaluationTarget(request),
      durationMinutes: request.durationMinutes,
      ...(request.breakGlass ? { breakGlass: true } : {}),
    });
    // Asked again here, not only by the form: the Slack function faces the internet and is not
    // trusted to have asked. No user lookup for a ticket refused.
    const ticket = verdict.allowed ? checkTicket(verdict.rule, request.ticket) : undefined;
    // A later start, against the deciding rule, counted from when it was asked.
    const start =
      verdict.allowed && request.startAt
        ? request.breakGlass
          ? {
              ok: false as const,
              message: 'A break-glass request begins at once: it cannot have a later start.',
            }
          : checkStart(verdict.rule, request.startAt, Date.parse(request.requestedAt))
        : undefined;
    // One of several accounts asked together: the set fits its rule (core/request-set.ts).
    const setRefusal = verdict.allowed ? setProblem(request, verdict.rule) : undefined;
    const principalId =
      verdict.allowed && ticket?.ok && (start?.ok ?? true) && !setRefusal
        ? await users.findUserIdByEmail(request.requester.email)
        : undefined;
    // A second break-glass use needs a new reason (core/break-glass.ts).
    const reused =
      principalId && request.breakGlass
        ? reusedReason(await store.listByRequester(request.requester.slackUserId, REASON_HISTORY), request)
        : undefined;
    const reason = !verdict.allowed
      ? verdict.reason
      : ticket && !ticket.ok
        ? `Rule ${verdict.rule.name}: ${ticket.message}`
        : start && !start.ok
          ? start.message
          : setRefusal
            ? setRefusal
            : !principalId
              ? noUserError(
                  policy.identityCenter.userMapping ?? DEFAULT_USER_MAPPING,
                  request.requester.email,
                ).message
              : reused
                ? `Break-glass request ${reused.request.requestId} gave the same reason: a new use needs a reason of its own.`
                : undefined;
    const breakGlass = verdict.allowed && !reason ? activation(policy, verdict.rule, this.now()) : undefined;

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
            ...(verdict.group
              ? { groupName: verdict.group.name }
              : { accountName: verdict.account.name, permissionSetName: verdict.permissionSet.name }),
            approvalsRequired: verdict.rule.approval === 'none' ? 0 : verdict.rule.approval.required,
          }
        : {}),
      ...(principalId ? { principalId } : {}),
      ...(reason ? { failureReason: reason } : {}),
      ...(breakGlass ? { breakGlass } : {}),
    };
    // The opening of the trail follows from the stored record, whichever run stored it: a retry
    // writes the same events (the first run's copies), and completes them if the first run died.
    const { record } = await store.createRequest(base);
    await this.auditOpening(record);
    if (record.status === 'REJECTED' || reason || !verdict.allowed || !principalId) {
      const why = record.failureReason ?? reason ?? 'rejected';
      if (record.status === 'REJECTED')
        await audit.record(
          request.requestId,
          'request.rejected',
          SYSTEM,
          'failure',
          { reason: why },
          VALIDATE,
        );
      return { valid: false, reason: why };
    }
    if (record.approvalsRequired === 0 && record.ruleName) {
      await audit.record(
        request.requestId,
        'approval.auto',
        SYSTEM,
        'success',
        { rule: record.ruleName },
        VALIDATE,
      );
    }
    if (record.breakGlass)
      await audit.record(
        request.requestId,
        'breakglass.activated',
        request.requester.email,
        'info',
        {
          rule: record.ruleName ?? null,
          reason: request.reason,
          ticket: request.ticket ?? null,
          alertChannel: record.breakGlass.alertChannel,
          reviewDueAt: record.breakGlass.reviewDueAt,
        },
        VALIDATE,
      );
    const approval = verdict.rule.approval;
    // A retried Validate takes another number: one second of the channel's schedule, no more.
    // A set posts once, through its first member: the others take no slot.
    const approvalPostAt =
      verdict.approvalRequired && !asksThroughLead(request) && this.deps.channelPacing
        ? await this.deps.channelPacing.slotFor(approvalChannelFor(policy, verdict.rule))
        : null;
    return {
      valid: true,
      approvalRequired: verdict.approvalRequired,
      approvalTimeoutSeconds: approval === 'none' ? 0 : approval.timeout * 60,
      principalId,
      ruleName: verdict.rule.name,
      approvalPostAt,
      startAt: request.startAt ? startTimestamp(request.startAt) : null,
    };
  }
}
