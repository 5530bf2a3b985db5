import * as z from 'zod';
import type { AuditTrail } from './audit';
import { formatMinutes } from './duration';
import {
  countingApprovals,
  evaluateExtension,
  extensionRefusal,
  pendingExtensionOf,
  pendingKey,
  pendingUnder,
  totalWith,
} from './extensions';
import type { ApprovedExtension, Decision, RequestRecord } from './model';
import { checkApprover, findRule, type Policy, type Rule } from './policy';
import type { Clock, Notifier, RequestStore, Workflow } from './ports';
import { windowSeconds } from './window';

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

/** The actor of what the policy decides by itself (an extension under a rule with `approval: none`). */
const POLICY_ACTOR = 'system:policy';
/** The longest window any policy can allow (its schema's ceiling). */
const MAX_WINDOW_MINUTES = 7 * 24 * 60;
/** Extra minutes as the core accepts them: whole minutes, at most the 7-day ceiling. */
const extensionMinutesSchema = z.number().int().positive().max(MAX_WINDOW_MINUTES);
const EXTENSION_DECISION_ATTEMPTS = 4;
/** A guarded write lost to a concurrent click: decide again from what it left. */
const RETRY = Symbol('retry');
const ALREADY_PENDING = 'An extension is already waiting for approval.';
const CHANGED_MEANWHILE = 'This access changed while you asked; please try again.';

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
   * "Extend": more time on an active grant. The rule that allows the new total decides (it may be
   * another rule than the request's own): refused at once when none does, applied at once when
   * that rule needs no approval, otherwise pending until its quorum approves (`decideExtension`).
   */
  async extend(requestId: string, actor: Actor, extraMinutes: number): Promise<WindowOutcome> {
    const { store, policy, audit, notifier } = this.deps;
    const record = await store.getRequest(requestId);
    if (!record) return { kind: 'not-found' };
    const by = normalizeEmail(actor.email);
    const minutes = extensionMinutesSchema.safeParse(extraMinutes);
    if (actor.slackUserId !== record.request.requester.slackUserId) {
      await audit.record(requestId, 'window.extend-refused', by, 'failure', {
        extraMinutes: minutes.success ? minutes.data : null,
        reason: 'not the requester',
      });
      return { kind: 'not-allowed', reason: 'Only the requester can extend this access.' };
    }
    if (record.status !== 'ACTIVE' || !record.expiresAt) return { kind: 'not-active', record };
    // Malformed input (the Slack layer never sends it) is answered without an audit event.
    if (!minutes.success)
      return {
        kind: 'not-allowed',
        reason: 'The extension must be a whole number of minutes above zero, at most 7 days.',
      };
    const extra = minutes.data;
    const totalMinutes = totalWith(record, extra);
    const verdict = evaluateExtension(policy, record, extra);
    // Past the product's 7-day ceiling no policy can allow it: answered like malformed input.
    if (!verdict.allowed && totalMinutes > MAX_WINDOW_MINUTES)
      return { kind: 'not-allowed', reason: extensionRefusal(policy, record, extra, verdict) };
    if (pendingExtensionOf(record)) {
      await audit.record(requestId, 'window.extend-refused', by, 'failure', {
        extraMinutes: extra,
        totalMinutes,
        reason: 'another extension is waiting for approval',
      });
      return { kind: 'not-allowed', reason: ALREADY_PENDING };
    }
    if (!verdict.allowed) {
      const reason = extensionRefusal(policy, record, extra, verdict);
      await audit.record(requestId, 'window.extend-refused', by, 'failure', {
        extraMinutes: extra,
        totalMinutes,
        reason,
      });
      return { kind: 'not-allowed', reason };
    }
    const rule = verdict.rule;
    if (rule.approval === 'none') {
      await audit.record(requestId, 'window.extend-requested', by, 'info', {
        extraMinutes: extra,
        totalMinutes,
        rule: rule.name,
      });
      const applied = await this.applyExtension(record, extra, rule, [POLICY_ACTOR], POLICY_ACTOR, () =>
        audit.record(requestId, 'approval.auto', POLICY_ACTOR, 'success', {
          extensionMinutes: extra,
          rule: rule.name,
        }),
      );
      return applied === RETRY ? { kind: 'not-allowed', reason: CHANGED_MEANWHILE } : applied;
    }
    const pending = pendingUnder(policy, rule, record, extra, this.deps.clock.now().toISOString(), []);
    const stored = await store.updateRequest(
      requestId,
      ['ACTIVE'],
      { pendingExtension: pending, pendingExtensionMinutes: undefined },
      (current) => pendingKey(current) === 'none' && sameExtensions(current, record),
    );
    if (!stored.ok)
      return stored.current?.status === 'ACTIVE'
        ? { kind: 'not-allowed', reason: CHANGED_MEANWHILE }
        : { kind: 'not-active', record: stored.current ?? record };
    await audit.record(requestId, 'window.extend-requested', by, 'info', {
      extraMinutes: extra,
      totalMinutes,
      rule: rule.name,
      approvers: pending.approvers.join(','),
      required: pending.required,
    });
    // The notifier routes by the record's rule (channel, approver DMs): here the extension's.
    const message = await notifier.requestApproval(
      { ...stored.value, ruleName: rule.name },
      pending.approvers,
    );
    let latest = stored.value;
    if (message && !latest.approvalMessage) {
      const kept = await store.updateRequest(
        requestId,
        ['ACTIVE'],
        { approvalMessage: message },
        (c) => !c.approvalMessage,
      );
      if (kept.ok) latest = kept.value;
    }
    return { kind: 'extension-needs-approval', record: latest };
  }

  /**
   * An approver's decision on a pending extension. The policy is evaluated again for the new
   * total (it may have been redeployed while the extension waited): no rule allows it any more →
   * refused and cleared; otherwise the rule allowing it now decides who may approve, how many
   * distinct approvals it takes and whether the requester counts.
   */
  async decideExtension(
    requestId: string,
    actor: Actor,
    decision: 'approve' | 'deny',
    reason?: string,
  ): Promise<WindowOutcome | DecisionOutcome> {
    // A guarded write that loses a race re-reads and decides again on what the other click left.
    for (let attempt = 0; attempt < EXTENSION_DECISION_ATTEMPTS; attempt++) {
      const outcome = await this.decideExtensionOnce(requestId, actor, decision, reason);
      if (outcome !== RETRY) return outcome;
    }
    const record = await this.deps.store.getRequest(requestId);
    return record ? extensionDecided(record) : { kind: 'not-found' };
  }

  private async decideExtensionOnce(
    requestId: string,
    actor: Actor,
    decision: 'approve' | 'deny',
    reason: string | undefined,
  ): Promise<WindowOutcome | DecisionOutcome | typeof RETRY> {
    const { store, policy, audit, notifier } = this.deps;
    const record = await store.getRequest(requestId);
    if (!record) return { kind: 'not-found' };
    const pending = pendingExtensionOf(record);
    if (!pending || record.status !== 'ACTIVE') return extensionDecided(record);
    const by = normalizeEmail(actor.email);
    const unchanged = (current: RequestRecord) => pendingKey(current) === pendingKey(record);
    const clear = { pendingExtension: undefined, pendingExtensionMinutes: undefined };

    const verdict = evaluateExtension(policy, record, pending.minutes);
    if (!verdict.allowed) {
      const why = extensionRefusal(policy, record, pending.minutes, verdict);
      const cleared = await store.updateRequest(requestId, ['ACTIVE'], clear, unchanged);
      if (!cleared.ok) return cleared.current ? RETRY : { kind: 'not-found' };
      await audit.record(requestId, 'window.extend-refused', POLICY_ACTOR, 'failure', {
        extraMinutes: pending.minutes,
        totalMinutes: totalWith(record, pending.minutes),
        reason: why,
        clickedBy: by,
      });
      await notifier.updateRequestMessages(cleared.value);
      await notifier.notifyRequester(
        cleared.value,
        'denied',
        `Extension of ${formatMinutes(pending.minutes)} was refused: ${why}`,
      );
      return { kind: 'not-allowed', reason: `The policy no longer allows this extension. ${why}` };
    }
    const rule = verdict.rule;
    if (rule.approval === 'none') {
      // A redeploy made this total self-service: nobody needs to approve it, nobody can deny it.
      if (decision === 'deny') return { kind: 'not-authorized', reason: 'no-approval' };
      return this.applyExtension(record, pending.minutes, rule, [POLICY_ACTOR], POLICY_ACTOR, () =>
        audit.record(requestId, 'approval.auto', POLICY_ACTOR, 'success', {
          extensionMinutes: pending.minutes,
          rule: rule.name,
        }),
      );
    }
    const check = checkApprover(policy, rule, actor.email, record.request.requester.email);
    if (!check.authorized) return { kind: 'not-authorized', reason: check.reason };

    const at = this.deps.clock.now().toISOString();
    if (decision === 'deny') {
      const cleared = await store.updateRequest(requestId, ['ACTIVE'], clear, unchanged);
      if (!cleared.ok) return cleared.current ? RETRY : { kind: 'not-found' };
      await audit.record(requestId, 'approval.denied', by, 'success', {
        extensionMinutes: pending.minutes,
        rule: rule.name,
        reason: reason ?? null,
      });
      await notifier.updateRequestMessages(cleared.value);
      await notifier.notifyRequester(
        cleared.value,
        'denied',
        `Extension of ${formatMinutes(pending.minutes)} was denied${reason ? `: ${reason}` : '.'}`,
      );
      return { kind: 'not-allowed', reason: 'Extension denied.' };
    }

    // Distinct approvers that still count under the rule deciding now; a second click counts once.
    const counted = countingApprovals(policy, rule, record, pending.approvals);
    const isNew = !counted.some((a) => a.by === by);
    const approvals = isNew ? [...counted, { by, slackUserId: actor.slackUserId, at }] : counted;
    const required = rule.approval.required;
    const approved = () =>
      audit.record(requestId, 'approval.approved', by, 'success', {
        extensionMinutes: pending.minutes,
        rule: rule.name,
        approvals: approvals.length,
        required,
      });
    if (approvals.length < required) {
      if (!isNew) return { kind: 'approval-recorded', record, remaining: required - approvals.length };
      const next = pendingUnder(policy, rule, record, pending.minutes, pending.requestedAt, approvals);
      const saved = await store.updateRequest(
        requestId,
        ['ACTIVE'],
        { pendingExtension: next, pendingExtensionMinutes: undefined },
        unchanged,
      );
      if (!saved.ok) return saved.current ? RETRY : { kind: 'not-found' };
      await approved();
      await notifier.updateRequestMessages(saved.value);
      return { kind: 'approval-recorded', record: saved.value, remaining: required - approvals.length };
    }
    return this.applyExtension(
      record,
      pending.minutes,
      rule,
      approvals.map((a) => a.by),
      by,
      isNew ? approved : async () => undefined,
    );
  }

  /**
   * Applies an extension: the record first (guarded: nobody else decided or extended since it
   * was read), then the window token. The workflow plans the new window from the record
   * (`LifecycleSteps.planExtension`); the expiresAt sent here is only compared with that plan.
   */
  private async applyExtension(
    record: RequestRecord,
    minutes: number,
    rule: Rule,
    approvedBy: string[],
    by: string,
    onApplied: () => Promise<unknown>,
  ): Promise<WindowOutcome | typeof RETRY> {
    const { store, workflow } = this.deps;
    const requestId = record.request.requestId;
    if (!record.expiresAt) return { kind: 'not-active', record };
    const token = await store.takeTaskToken(requestId, 'window');
    if (!token) {
      const current = await store.getRequest(requestId);
      if (current?.status === 'ACTIVE' && pendingKey(current) !== pendingKey(record)) return RETRY;
      return { kind: 'not-active', record: current ?? record };
    }
    const now = this.deps.clock.now();
    const extension: ApprovedExtension = {
      minutes,
      ruleName: rule.name,
      maxTotalMinutes: rule.maxDuration,
      approvedBy,
      at: now.toISOString(),
    };
    const updated = await store.updateRequest(
      requestId,
      ['ACTIVE'],
      {
        extendedMinutes: (record.extendedMinutes ?? 0) + minutes,
        extensions: [...(record.extensions ?? []), extension],
        pendingExtension: undefined,
        pendingExtensionMinutes: undefined,
      },
      (current) => pendingKey(current) === pendingKey(record) && sameExtensions(current, record),
    );
    if (!updated.ok) {
      // Another click changed the request first: the window stays as it was, its token back in place.
      if (updated.current?.status === 'ACTIVE') {
        await store.putTaskToken(requestId, 'window', token);
        return RETRY;
      }
      return updated.current ? { kind: 'not-active', record: updated.current } : { kind: 'not-found' };
    }
    await onApplied();
    const expiresAtMs = Date.parse(record.expiresAt) + minutes * 60_000;
    const expiresAt = new Date(expiresAtMs).toISOString();
    const sent = await workflow.sendSuccess(token, {
      action: 'extend',
      by,
      expiresAt,
      seconds: windowSeconds(expiresAtMs, now.getTime()),
      extraMinutes: minutes,
    });
    if (sent !== 'sent') return { kind: 'not-active', record: updated.value };
    return { kind: 'extended', record: updated.value, expiresAt };
  }

  private mayManage(record: RequestRecord, actor: Actor): boolean {
    if (actor.slackUserId === record.request.requester.slackUserId) return true;
    const rule = record.ruleName ? findRule(this.deps.policy, record.ruleName) : undefined;
    return (
      !!rule && checkApprover(this.deps.policy, rule, actor.email, record.request.requester.email).authorized
    );
  }
}

/** Nothing pending any more: decided by someone else (or refused), or the access is over. */
function extensionDecided(record: RequestRecord): WindowOutcome | DecisionOutcome {
  return record.status === 'ACTIVE' ? { kind: 'already-decided', record } : { kind: 'not-active', record };
}

function sameExtensions(a: RequestRecord, b: RequestRecord): boolean {
  return (a.extendedMinutes ?? 0) === (b.extendedMinutes ?? 0);
}

const normalizeEmail = (email: string) => email.trim().toLowerCase();

function alreadyDecided(record: RequestRecord): DecisionOutcome {
  if (record.status === 'APPROVAL_EXPIRED') return { kind: 'expired', record };
  const by = record.denial?.by ?? record.approvals[record.approvals.length - 1]?.by;
  return { kind: 'already-decided', record, ...(by ? { by } : {}) };
}
