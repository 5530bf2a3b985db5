import type { AuditTrail } from './audit';
import type { Decision, RequestRecord } from './model';
import { checkApprover, evaluateRequest, findRule, type Policy } from './policy';
import type { Clock, Notifier, RequestStore, Workflow } from './ports';

// What people do to a running request from Slack: approve, deny, end early, extend.
// Each answer is a value the Slack layer turns into a message; nothing here throws for a
// person's mistake.

export interface DecisionDependencies {
  policy: Policy;
  store: RequestStore;
  audit: AuditTrail;
  workflow: Workflow;
  notifier: Notifier;
  clock: Clock;
}

export interface Actor {
  email: string;
  slackUserId: string;
}

export type DecisionOutcome =
  | { kind: 'approved'; record: RequestRecord }
  | { kind: 'approval-recorded'; record: RequestRecord; remaining: number }
  | { kind: 'denied'; record: RequestRecord }
  | { kind: 'not-found' }
  | { kind: 'not-authorized'; reason: 'not-approver' | 'self-approval' | 'no-approval' }
  | { kind: 'already-decided'; record: RequestRecord; by?: string }
  | { kind: 'expired'; record: RequestRecord };

export type WindowOutcome =
  | { kind: 'ended'; record: RequestRecord }
  | { kind: 'extended'; record: RequestRecord; expiresAt: string }
  | { kind: 'extension-needs-approval'; record: RequestRecord }
  | { kind: 'not-found' }
  | { kind: 'not-allowed'; reason: string }
  | { kind: 'not-active'; record: RequestRecord };

export class RequestDecisions {
  constructor(private readonly deps: DecisionDependencies) {}

  /** An approver's click. The first decision wins; only approvers named by policy count. */
  async decide(
    requestId: string,
    actor: Actor,
    decision: 'approve' | 'deny',
    reason?: string,
  ): Promise<DecisionOutcome> {
    const { store, policy, audit, workflow } = this.deps;
    const record = await store.getRequest(requestId);
    if (!record) return { kind: 'not-found' };
    const rule = record.ruleName ? findRule(policy, record.ruleName) : undefined;
    if (!rule) return { kind: 'not-authorized', reason: 'no-approval' };
    const verdict = checkApprover(policy, rule, actor.email, record.request.requester.email);
    if (!verdict.authorized) return { kind: 'not-authorized', reason: verdict.reason };
    if (record.status !== 'PENDING_APPROVAL') return alreadyDecided(record);

    const at = this.deps.clock.now().toISOString();
    const entry: Decision = {
      by: actor.email.toLowerCase(),
      slackUserId: actor.slackUserId,
      at,
      ...(reason ? { reason } : {}),
    };

    if (decision === 'deny') {
      const denied = await store.updateRequest(requestId, ['PENDING_APPROVAL'], {
        status: 'DENIED',
        denial: entry,
      });
      if (!denied.ok) return denied.current ? alreadyDecided(denied.current) : { kind: 'not-found' };
      await audit.record(requestId, 'approval.denied', entry.by, 'success', { reason: reason ?? null });
      const token = await store.takeTaskToken(requestId, 'approval');
      if (token)
        await workflow.sendFailure(
          token,
          'Denied',
          JSON.stringify({ reason: reason ?? 'denied', by: entry.by }),
        );
      return { kind: 'denied', record: denied.value };
    }

    const added = await store.addApproval(requestId, entry);
    if (!added.ok) return added.current ? alreadyDecided(added.current) : { kind: 'not-found' };
    const required = added.value.approvalsRequired ?? 1;
    await audit.record(requestId, 'approval.approved', entry.by, 'success', {
      approvals: added.value.approvals.length,
      required,
    });
    if (added.value.approvals.length < required) {
      await this.deps.notifier.updateRequestMessages(added.value);
      return {
        kind: 'approval-recorded',
        record: added.value,
        remaining: required - added.value.approvals.length,
      };
    }
    const approved = await store.updateRequest(requestId, ['PENDING_APPROVAL'], { status: 'APPROVED' });
    if (!approved.ok) return approved.current ? alreadyDecided(approved.current) : { kind: 'not-found' };
    const token = await store.takeTaskToken(requestId, 'approval');
    const sent = token
      ? await workflow.sendSuccess(token, {
          decision: 'approved',
          approvers: approved.value.approvals.map((a) => a.by),
        })
      : 'expired';
    if (sent === 'expired') return { kind: 'expired', record: approved.value };
    await this.deps.notifier.updateRequestMessages(approved.value);
    await this.deps.notifier.notifyRequester(approved.value, 'approved');
    return { kind: 'approved', record: approved.value };
  }

  /** "End access now": the requester (or an approver of the rule) ends the window early. */
  async endAccess(requestId: string, actor: Actor): Promise<WindowOutcome> {
    const { store, audit, workflow } = this.deps;
    const record = await store.getRequest(requestId);
    if (!record) return { kind: 'not-found' };
    if (!this.mayManage(record, actor))
      return { kind: 'not-allowed', reason: 'Only the requester or an approver can end this access.' };
    if (record.status !== 'ACTIVE') return { kind: 'not-active', record };
    const token = await store.takeTaskToken(requestId, 'window');
    if (!token) return { kind: 'not-active', record };
    const updated = await store.updateRequest(requestId, ['ACTIVE'], { endedBy: actor.email.toLowerCase() });
    const sent = await workflow.sendSuccess(token, { action: 'end', by: actor.email.toLowerCase() });
    // Only a click that reached the window ended it; one that lost the race with the window's
    // own timeout did nothing (the trail then shows window.expired, not both).
    if (sent === 'sent')
      await audit.record(requestId, 'window.ended-early', actor.email.toLowerCase(), 'success', {});
    const latest = updated.ok ? updated.value : record;
    return sent === 'sent' ? { kind: 'ended', record: latest } : { kind: 'not-active', record: latest };
  }

  /**
   * "Extend": more time on an active grant. The new total must fit the rule's maximum; when the
   * rule needs approval, the extension waits for an approver (`approveExtension`).
   */
  async extend(requestId: string, actor: Actor, extraMinutes: number): Promise<WindowOutcome> {
    const { store, policy, audit } = this.deps;
    const record = await store.getRequest(requestId);
    if (!record) return { kind: 'not-found' };
    if (actor.slackUserId !== record.request.requester.slackUserId)
      return { kind: 'not-allowed', reason: 'Only the requester can extend this access.' };
    if (record.status !== 'ACTIVE' || !record.expiresAt) return { kind: 'not-active', record };
    if (!Number.isInteger(extraMinutes) || extraMinutes <= 0)
      return { kind: 'not-allowed', reason: 'The extension must be a whole number of minutes above zero.' };
    const newTotal = record.request.durationMinutes + (record.extendedMinutes ?? 0) + extraMinutes;
    const verdict = evaluateRequest(policy, {
      requesterEmail: record.request.requester.email,
      accountId: record.request.accountId,
      permissionSet: record.request.permissionSetArn,
      durationMinutes: newTotal,
    });
    if (!verdict.allowed) return { kind: 'not-allowed', reason: verdict.reason };
    await audit.record(requestId, 'window.extend-requested', actor.email.toLowerCase(), 'info', {
      extraMinutes,
    });
    if (verdict.approvalRequired) {
      const pending = await store.updateRequest(requestId, ['ACTIVE'], {
        pendingExtensionMinutes: extraMinutes,
      });
      const latest = pending.ok ? pending.value : record;
      await this.deps.notifier.requestApproval(latest, []);
      return { kind: 'extension-needs-approval', record: latest };
    }
    return this.applyExtension(record, extraMinutes, 'system:policy');
  }

  /** An approver's decision on a pending extension. */
  async decideExtension(
    requestId: string,
    actor: Actor,
    decision: 'approve' | 'deny',
  ): Promise<WindowOutcome | DecisionOutcome> {
    const { store, policy } = this.deps;
    const record = await store.getRequest(requestId);
    if (!record) return { kind: 'not-found' };
    const rule = record.ruleName ? findRule(policy, record.ruleName) : undefined;
    if (!rule) return { kind: 'not-authorized', reason: 'no-approval' };
    const verdict = checkApprover(policy, rule, actor.email, record.request.requester.email);
    if (!verdict.authorized) return { kind: 'not-authorized', reason: verdict.reason };
    const minutes = record.pendingExtensionMinutes;
    if (!minutes || record.status !== 'ACTIVE') return alreadyDecided(record);
    const cleared = await store.updateRequest(requestId, ['ACTIVE'], { pendingExtensionMinutes: 0 });
    if (!cleared.ok || cleared.value.pendingExtensionMinutes)
      return alreadyDecided(cleared.ok ? cleared.value : record);
    if (decision === 'deny') {
      await this.deps.audit.record(requestId, 'approval.denied', actor.email.toLowerCase(), 'success', {
        extensionMinutes: minutes,
      });
      await this.deps.notifier.notifyRequester(
        cleared.value,
        'denied',
        `Extension of ${minutes} minutes was denied.`,
      );
      return { kind: 'not-allowed', reason: 'Extension denied.' };
    }
    await this.deps.audit.record(requestId, 'approval.approved', actor.email.toLowerCase(), 'success', {
      extensionMinutes: minutes,
    });
    return this.applyExtension(cleared.value, minutes, actor.email.toLowerCase());
  }

  private async applyExtension(
    record: RequestRecord,
    extraMinutes: number,
    by: string,
  ): Promise<WindowOutcome> {
    const { store, workflow } = this.deps;
    const requestId = record.request.requestId;
    const token = await store.takeTaskToken(requestId, 'window');
    if (!token || !record.expiresAt) return { kind: 'not-active', record };
    const expiresAtMs = new Date(record.expiresAt).getTime() + extraMinutes * 60_000;
    const expiresAt = new Date(expiresAtMs).toISOString();
    const seconds = Math.max(1, Math.ceil((expiresAtMs - this.deps.clock.now().getTime()) / 1000));
    const updated = await store.updateRequest(requestId, ['ACTIVE'], {
      extendedMinutes: (record.extendedMinutes ?? 0) + extraMinutes,
    });
    const sent = await workflow.sendSuccess(token, {
      action: 'extend',
      by,
      expiresAt,
      seconds,
      extraMinutes,
    });
    const latest = updated.ok ? updated.value : record;
    if (sent !== 'sent') return { kind: 'not-active', record: latest };
    return { kind: 'extended', record: latest, expiresAt };
  }

  private mayManage(record: RequestRecord, actor: Actor): boolean {
    if (actor.slackUserId === record.request.requester.slackUserId) return true;
    const rule = record.ruleName ? findRule(this.deps.policy, record.ruleName) : undefined;
    return (
      !!rule && checkApprover(this.deps.policy, rule, actor.email, record.request.requester.email).authorized
    );
  }
}

function alreadyDecided(record: RequestRecord): DecisionOutcome {
  if (record.status === 'APPROVAL_EXPIRED') return { kind: 'expired', record };
  const by = record.denial?.by ?? record.approvals[record.approvals.length - 1]?.by;
  return { kind: 'already-decided', record, ...(by ? { by } : {}) };
}
