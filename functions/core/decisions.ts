import * as z from 'zod/mini';
import { type AuditTrail, ENDED_EARLY, type Occurrence } from './audit';
import {
  decidingRule,
  isCancellable,
  mayCancel,
  mayDecide,
  mayEnd,
  mayExtend,
  mayOffboard,
} from './authority';
import { bestEffort, type OnFailed } from './best-effort';
import { mayReview, REVIEW_REFUSALS } from './break-glass';
import { type DirectoryRefresh, NOTHING_TO_REFRESH } from './directory';
import { formatMinutes } from './duration';
import { CANCELLED_TASK_ERROR } from './errors';
import {
  countingApprovals,
  evaluateExtension,
  extensionRefusal,
  pendingExtensionOf,
  pendingKey,
  pendingUnder,
  totalWith,
} from './extensions';
import { EDITS, GRANTING_PHASE, movesInto } from './lifecycle';
import type {
  ApprovedExtension,
  BreakGlassVerdict,
  Decision,
  PendingExtension,
  RequestRecord,
} from './model';
import { CONFLICT, type Conflict, changeBreakGlass, keepApprovalCopy, retryOnConflict } from './optimistic';
import type { Policy, Rule } from './policy';
import type { Clock, Notifier, RequestStore, Workflow } from './ports';
import { setLeadOf, setRecords, withSetMessages } from './request-set';
import { windowSeconds } from './window';

// What people do to a running request from Slack: approve, deny, cancel, end early, extend.
// Each answer is a value the Slack layer turns into a message; nothing here throws for a
// person's mistake.
// Lambda redelivers a decision job whose run failed (minutes later): every decision is first-wins
// in the request record, its events have deterministic ids (core/audit.ts) and are written after
// the write that wins, and a redelivery of a decision already recorded completes what the first
// delivery left undone (its event, the task token) instead of deciding again. Extensions, which
// a second click may rightly ask for again, are told apart by the job's id.

export interface DecisionDependencies {
  policy: Policy;
  store: RequestStore;
  audit: AuditTrail;
  workflow: Workflow;
  notifier: Notifier;
  clock: Clock;
  /** Where a message that could not be re-rendered after a decision is reported. */
  onNotifyFailed?: OnFailed;
  /** Brings the policy's directory groups up to date before a decision asks who may decide. */
  directory?: DirectoryRefresh;
}

export interface Actor {
  email: string;
  slackUserId: string;
  /** The product offboarding this requester (core/offboarding.ts; `mayOffboard`): set by the core, never from Slack. */
  offboarding?: true;
}

export type DecisionOutcome =
  | { kind: 'approved'; record: RequestRecord }
  | { kind: 'approval-recorded'; record: RequestRecord; remaining: number }
  | { kind: 'denied'; record: RequestRecord }
  | { kind: 'cancelled'; record: RequestRecord }
  | { kind: 'not-found' }
  | { kind: 'not-authorized'; reason: 'not-approver' | 'self-approval' | 'no-approval' | 'not-requester' }
  | { kind: 'already-decided'; record: RequestRecord; by?: string }
  | { kind: 'expired'; record: RequestRecord }
  /** Some accounts of the set are not stored yet (their Validate still running): decided once they are. */
  | { kind: 'set-incomplete'; record: RequestRecord; missing: number };

/** What a whole-set action did to each member (core/request-set.ts): its account and its own outcome. */
export interface SetWindowOutcome {
  kind: 'set';
  results: { requestId: string; account: string; outcome: WindowOutcome }[];
}

export type WindowOutcome =
  | { kind: 'ended'; record: RequestRecord }
  /** Still being granted: kept (`endedBy`), the window ends as it opens (steps.ts `openWindow`). */
  | { kind: 'end-requested'; record: RequestRecord }
  | { kind: 'extended'; record: RequestRecord; expiresAt: string }
  | { kind: 'extension-needs-approval'; record: RequestRecord }
  | { kind: 'not-found' }
  | { kind: 'not-allowed'; reason: string }
  | { kind: 'not-active'; record: RequestRecord };

/** How long a set's accounts may take to be stored after it was requested (their executions' Validate). */
const SET_ASSEMBLY_MS = 5 * 60_000;
/** The actor of what the policy decides by itself (an extension under a rule with `approval: none`). */
const POLICY_ACTOR = 'system:policy';
/** The longest window any policy can allow (its schema's ceiling). */
const MAX_WINDOW_MINUTES = 7 * 24 * 60;
/** Extra minutes as the core accepts them: whole minutes, at most the 7-day ceiling. */
const extensionMinutesSchema = z.int().check(z.positive(), z.maximum(MAX_WINDOW_MINUTES));
const EXTENSION_DECISION_ATTEMPTS = 4;
const ALREADY_PENDING = 'An extension is already waiting for approval.';
const CHANGED_MEANWHILE = 'This access changed while you asked; please try again.';
const ALREADY_ANSWERED = 'This extension request was already answered.';

const BREAK_GLASS_NOT_EXTENDED =
  'A break-glass use is never extended: when it ends, ask again with a new reason, or through an ordinary rule.';

export type ReviewOutcome =
  | { kind: 'reviewed'; record: RequestRecord }
  | { kind: 'not-found' }
  | { kind: 'refused'; reason: string };

export class RequestDecisions {
  private readonly deps: DecisionDependencies;

  constructor(deps: DecisionDependencies) {
    this.deps = { ...deps, notifier: withSetMessages(deps.notifier, deps.store) };
  }

  private get directory(): DirectoryRefresh {
    return this.deps.directory ?? NOTHING_TO_REFRESH;
  }

  /**
   * A reviewer marks a break-glass use justified or flagged for follow-up. The first review wins;
   * a redelivery of this reviewer's own review completes its event and the alert's update.
   */
  async review(
    requestId: string,
    actor: Actor,
    verdict: BreakGlassVerdict,
    reason?: string,
  ): Promise<ReviewOutcome> {
    const { store, policy, audit, notifier } = this.deps;
    const record = await store.getRequest(requestId);
    if (!record) return { kind: 'not-found' };
    await this.directory.forPeople([actor.email]);
    const by = normalizeEmail(actor.email);
    const own = record.breakGlass?.review;
    const redelivery = own?.by === by && own.verdict === verdict;
    if (!redelivery) {
      const check = mayReview(policy, record, by);
      if (!check.ok) return { kind: 'refused', reason: REVIEW_REFUSALS[check.reason] };
    }
    const review = {
      by,
      slackUserId: actor.slackUserId,
      at: this.deps.clock.now().toISOString(),
      verdict,
      ...(reason ? { reason } : {}),
    };
    const written = redelivery
      ? record
      : await changeBreakGlass(store, requestId, (current) =>
          current.review ? undefined : { ...current, review },
        );
    const stored = written?.breakGlass?.review;
    if (!written || !stored || stored.by !== by)
      return { kind: 'refused', reason: REVIEW_REFUSALS['already-reviewed'] };
    await audit.record(
      requestId,
      'breakglass.reviewed',
      by,
      'info',
      {
        verdict: stored.verdict,
        reason: stored.reason ?? null,
        escalated: written.breakGlass?.escalatedAt !== undefined,
      },
      { step: 'breakglass-review' },
    );
    await bestEffort(
      'break-glass alert',
      () => notifier.breakGlassUpdate(written, false),
      this.deps.onNotifyFailed,
    );
    return { kind: 'reviewed', record: written };
  }

  /**
   * An approver's click. The first decision wins; only approvers named by policy count. A request
   * of several accounts (core/request-set.ts) is decided for every member at once: the approver
   * must be allowed to decide each, then each member is decided as a request of its own (its own
   * record, trail and task token), and the set's message is rendered once.
   */
  async decide(
    requestId: string,
    actor: Actor,
    decision: 'approve' | 'deny',
    reason?: string,
  ): Promise<DecisionOutcome> {
    const { store, policy } = this.deps;
    const record = await store.getRequest(requestId);
    if (!record) return { kind: 'not-found' };
    if (!record.request.set) return this.decideOne(record, actor, decision, reason, false);
    await this.directory.forPeople([actor.email]);
    const members = await setRecords(store, record);
    // A click that came before every account's execution stored its request would decide only
    // those stored, and leave the rest waiting for a decision nobody is asked for again. Refused
    // while the set is young; after that a member that never came (its execution never started)
    // does not hold the others back.
    const missing = record.request.set.members.length - members.length;
    const ageMs = this.deps.clock.now().getTime() - Date.parse(record.request.requestedAt);
    if (missing > 0 && !(ageMs > SET_ASSEMBLY_MS)) return { kind: 'set-incomplete', record, missing };
    for (const member of members) {
      const verdict = mayDecide(policy, decidingRule(policy, member, 'request'), member, actor.email);
      if (!verdict.authorized) return { kind: 'not-authorized', reason: verdict.reason };
    }
    // Member by member, in the set's order; a member already decided the other way stops this
    // decision there: two clicks racing (an approval, a denial) meet first at the same member,
    // whose conditional write lets one win, and only the winner goes on, so every member ends
    // decided the same way. Members withdrawn or expired on their own are passed over.
    const outcomes: DecisionOutcome[] = [];
    for (const member of members) {
      const outcome = await this.decideOne(member, actor, decision, reason, true);
      outcomes.push(outcome);
      if (outcome.kind === 'already-decided' && decidedOtherwise(outcome.record, decision)) break;
    }
    const approved = outcomes.find((o) => o.kind === 'approved');
    const latest = await store.getRequest(setLeadOf(record.request));
    if (latest) await this.notify('request messages', () => this.deps.notifier.updateRequestMessages(latest));
    if (approved?.kind === 'approved')
      await this.notify('requester DM', () =>
        this.deps.notifier.notifyRequester(approved.record, 'approved'),
      );
    return (
      approved ?? outcomes.find((o) => o.kind !== 'already-decided') ?? outcomes[0] ?? { kind: 'not-found' }
    );
  }

  /** One request's decision; `inSet`: its set's decision renders the messages once, after every member. */
  private async decideOne(
    stored: RequestRecord,
    actor: Actor,
    decision: 'approve' | 'deny',
    reason: string | undefined,
    inSet: boolean,
  ): Promise<DecisionOutcome> {
    const { store, policy, audit, workflow } = this.deps;
    let record = stored;
    const requestId = record.request.requestId;
    if (!inSet) await this.directory.forPeople([actor.email]);
    const verdict = mayDecide(policy, decidingRule(policy, record, 'request'), record, actor.email);
    if (!verdict.authorized) return { kind: 'not-authorized', reason: verdict.reason };
    const by = actor.email.toLowerCase();
    const entry: Decision = {
      by,
      slackUserId: actor.slackUserId,
      at: this.deps.clock.now().toISOString(),
      ...(reason ? { reason } : {}),
    };

    if (decision === 'deny') {
      if (record.status !== 'DENIED' || record.denial?.by !== by) {
        if (record.status !== 'PENDING_APPROVAL') return alreadyDecided(record);
        const written = await store.updateRequest(requestId, movesInto('DENIED'), {
          status: 'DENIED',
          denial: entry,
        });
        if (!written.ok) return written.current ? alreadyDecided(written.current) : { kind: 'not-found' };
        record = written.value;
      }
      // This person's denial is stored (by this delivery or an earlier one): its event, and the
      // task's failure if no delivery sent it yet.
      await audit.record(
        requestId,
        'approval.denied',
        by,
        'success',
        { reason: record.denial?.reason ?? null },
        { step: 'decide', key: 'denial' },
      );
      const token = await store.takeTaskToken(requestId, 'approval');
      if (token)
        await workflow.sendFailure(
          token,
          'Denied',
          JSON.stringify({ reason: record.denial?.reason ?? 'denied', by }),
        );
      const denied = record;
      if (!inSet)
        await this.notify('request messages', () => this.deps.notifier.updateRequestMessages(denied));
      return { kind: 'denied', record };
    }

    if (!record.approvals.some((a) => a.by === by)) {
      if (record.status !== 'PENDING_APPROVAL') return alreadyDecided(record);
      const added = await store.addApproval(requestId, entry);
      if (!added.ok) {
        // Refused: decided meanwhile, or this very click delivered twice at once (then carry on).
        if (!added.current) return { kind: 'not-found' };
        if (!added.current.approvals.some((a) => a.by === by)) return alreadyDecided(added.current);
      }
      record = added.ok ? added.value : (added.current as RequestRecord);
    }
    // This approver's approval is stored (by this delivery or an earlier one): its event, once.
    const required = record.approvalsRequired ?? 1;
    await audit.record(
      requestId,
      'approval.approved',
      by,
      'success',
      { approvals: record.approvals.findIndex((a) => a.by === by) + 1, required },
      { step: 'decide', key: `approval:${by}` },
    );
    if (record.status === 'PENDING_APPROVAL' && record.approvals.length < required) {
      const recorded = record;
      if (!inSet)
        await this.notify('request messages', () => this.deps.notifier.updateRequestMessages(recorded));
      return { kind: 'approval-recorded', record, remaining: required - record.approvals.length };
    }
    let approvedHere = false;
    if (record.status === 'PENDING_APPROVAL') {
      const approved = await store.updateRequest(requestId, movesInto('APPROVED'), {
        status: 'APPROVED',
      });
      if (!approved.ok && approved.current?.status !== 'APPROVED')
        return approved.current ? alreadyDecided(approved.current) : { kind: 'not-found' };
      record = approved.ok ? approved.value : (approved.current as RequestRecord);
      approvedHere = approved.ok;
    }
    if (record.status !== 'APPROVED') return alreadyDecided(record);
    // Whoever finds the token completes the approval task: this delivery, or a redelivery after
    // one that died before sending it. Approved here with no token stored: the approval post is
    // still waiting for its channel slot, and RequestApproval finds the request approved.
    const token = await store.takeTaskToken(requestId, 'approval');
    if (!token && !approvedHere) return alreadyDecided(record);
    if (token) {
      const sent = await workflow.sendSuccess(token, {
        decision: 'approved',
        approvers: record.approvals.map((a) => a.by),
      });
      if (sent === 'expired') return { kind: 'expired', record };
    }
    const approved = record;
    if (inSet) return { kind: 'approved', record };
    await this.notify('request messages', () => this.deps.notifier.updateRequestMessages(approved));
    await this.notify('requester DM', () => this.deps.notifier.notifyRequester(approved, 'approved'));
    return { kind: 'approved', record };
  }

  /**
   * "Cancel request": the requester withdraws a request nobody has decided yet. Decided like a
   * denial: first decision wins in the record (a concurrent approval that stored APPROVED first
   * makes this click "already approved"; one that comes after finds it cancelled), then the
   * event, then the approval task fails with `Cancelled` (the state machine closes the request
   * through Finish, which tells the requester). A redelivery of a cancellation already stored
   * completes its event and the task's failure.
   */
  async cancel(requestId: string, actor: Actor): Promise<DecisionOutcome> {
    const { store, audit, workflow } = this.deps;
    let record = await store.getRequest(requestId);
    if (!record) return { kind: 'not-found' };
    if (!mayCancel(record, actor.slackUserId) && !mayOffboard(record, actor))
      return { kind: 'not-authorized', reason: 'not-requester' };
    const by = normalizeEmail(actor.email);
    if (record.status !== 'CANCELLED') {
      if (!isCancellable(record)) return alreadyDecided(record);
      const cancellation: Decision = {
        by,
        slackUserId: actor.slackUserId,
        at: this.deps.clock.now().toISOString(),
      };
      // Against the record as stored: an approval, or the grant of a scheduled start, wins or loses whole.
      const written = await store.updateRequest(
        requestId,
        movesInto('CANCELLED'),
        { status: 'CANCELLED', cancellation },
        isCancellable,
      );
      if (!written.ok) return written.current ? alreadyDecided(written.current) : { kind: 'not-found' };
      record = written.value;
    }
    // The cancellation is stored (by this delivery or an earlier one): its event, and the task's
    // failure if no delivery sent it yet (none finds a token while the post waits for its slot:
    // RequestApproval then sees the status and fails the task itself).
    await audit.record(
      requestId,
      'request.cancelled',
      record.cancellation?.by ?? by,
      'success',
      { approvals: record.approvals.length, required: record.approvalsRequired ?? 1 },
      { step: 'decide', key: 'cancellation' },
    );
    const token = await store.takeTaskToken(requestId, 'approval');
    if (token)
      await workflow.sendFailure(token, CANCELLED_TASK_ERROR, JSON.stringify({ reason: 'cancelled', by }));
    const cancelled = record;
    await this.notify('request messages', () => this.deps.notifier.updateRequestMessages(cancelled));
    return { kind: 'cancelled', record };
  }

  /** After a decision is stored, Slack only reports it: a refusal never fails the click. */
  private notify(what: string, send: () => Promise<void>): Promise<void> {
    return bestEffort(what, send, this.deps.onNotifyFailed);
  }

  /**
   * "End all" / "Extend all" on a request of several accounts: the same action on each member's
   * window, each decided as for one account (its own authority, token and trail); what happened to
   * each account is answered. A request of one account is acted on alone.
   */
  async onWholeSet(
    requestId: string,
    actor: Actor,
    action: { kind: 'end' } | { kind: 'extend'; minutes: number; jobId?: string },
  ): Promise<SetWindowOutcome> {
    const record = await this.deps.store.getRequest(requestId);
    const ids = record
      ? (await setRecords(this.deps.store, record)).map((r) => r.request.requestId)
      : [requestId];
    const results: SetWindowOutcome['results'] = [];
    for (const id of ids) {
      const outcome =
        action.kind === 'end'
          ? await this.endAccess(id, actor)
          : await this.extend(id, actor, action.minutes, action.jobId);
      const member = 'record' in outcome ? outcome.record : undefined;
      results.push({
        requestId: id,
        account: member?.accountName ?? member?.request.accountId ?? id,
        outcome,
      });
    }
    return { kind: 'set', results };
  }

  /** "End access now": the requester (or an approver of the rule) ends the window early. */
  async endAccess(requestId: string, actor: Actor): Promise<WindowOutcome> {
    const { store, audit, workflow } = this.deps;
    const record = await store.getRequest(requestId);
    if (!record) return { kind: 'not-found' };
    if (!mayOffboard(record, actor)) {
      await this.directory.forPeople([actor.email]);
      if (!mayEnd(this.deps.policy, record, actor))
        return { kind: 'not-allowed', reason: 'Only the requester or an approver can end this access.' };
    }
    if (record.status !== 'ACTIVE')
      return GRANTING_PHASE.includes(record.status)
        ? this.endWhenOpened(record, actor)
        : { kind: 'not-active', record };
    const token = await store.takeTaskToken(requestId, 'window');
    if (!token) return { kind: 'not-active', record };
    const updated = await store.updateRequest(requestId, EDITS.window, {
      endedBy: actor.email.toLowerCase(),
    });
    const sent = await workflow.sendSuccess(token, { action: 'end', by: actor.email.toLowerCase() });
    // Only a click that reached the window ended it; one that lost the race with the window's
    // own timeout did nothing (the trail then shows window.expired, not both).
    if (sent === 'sent')
      await audit.record(
        requestId,
        'window.ended-early',
        actor.email.toLowerCase(),
        'success',
        {},
        ENDED_EARLY,
      );
    const latest = updated.ok ? updated.value : record;
    return sent === 'sent' ? { kind: 'ended', record: latest } : { kind: 'not-active', record: latest };
  }

  /**
   * End asked for while access is being granted (End all on a set, whose accounts open one by
   * one): kept on the record as `endedBy`, and AccessWindow ends the window as it opens instead of
   * announcing it (steps.ts `openWindow`; Revoke then records window.ended-early by this actor).
   * Not for a request waiting for its scheduled start: its requester cancels that instead.
   */
  private async endWhenOpened(record: RequestRecord, actor: Actor): Promise<WindowOutcome> {
    if (isCancellable(record)) return { kind: 'not-active', record };
    const requestId = record.request.requestId;
    const asked = await this.deps.store.updateRequest(
      requestId,
      EDITS.endRequest,
      { endedBy: actor.email.toLowerCase() },
      (current) => !current.endedBy && !isCancellable(current),
    );
    if (asked.ok) return { kind: 'end-requested', record: asked.value };
    const current = asked.current ?? record;
    // Opened meanwhile: its token is stored (before ACTIVE), so it ends like any open window.
    if (current.status === 'ACTIVE') return this.endAccess(requestId, actor);
    // Asked already (a second click, another approver): the first one ends it.
    if (current.endedBy && GRANTING_PHASE.includes(current.status))
      return { kind: 'end-requested', record: current };
    return { kind: 'not-active', record: current };
  }

  /**
   * "Extend": more time on an active grant. The rule that allows the new total decides (it may be
   * another rule than the request's own): refused at once when none does, applied at once when
   * that rule needs no approval, otherwise pending until its quorum approves (`decideExtension`).
   * `jobId` names the click (the Slack function's job): a redelivered job asks for nothing twice.
   */
  async extend(
    requestId: string,
    actor: Actor,
    extraMinutes: number,
    jobId?: string,
  ): Promise<WindowOutcome> {
    const { store, policy, audit, notifier } = this.deps;
    const record = await store.getRequest(requestId);
    if (!record) return { kind: 'not-found' };
    // The rule of the new total and its approvers (whom to ask): whole member lists.
    await this.directory.all();
    const by = normalizeEmail(actor.email);
    const minutes = extensionMinutesSchema.safeParse(extraMinutes);
    // A refusal writes nothing else: the job's id is all that tells a redelivery from a new click.
    const refusal: Occurrence | undefined = jobId ? { step: 'extend', key: `job:${jobId}` } : undefined;
    if (record.breakGlass) {
      await audit.record(
        requestId,
        'window.extend-refused',
        by,
        'failure',
        { extraMinutes: minutes.success ? minutes.data : null, reason: 'break-glass use' },
        refusal,
      );
      return { kind: 'not-allowed', reason: BREAK_GLASS_NOT_EXTENDED };
    }
    if (!mayExtend(record, actor.slackUserId)) {
      await audit.record(
        requestId,
        'window.extend-refused',
        by,
        'failure',
        { extraMinutes: minutes.success ? minutes.data : null, reason: 'not the requester' },
        refusal,
      );
      return { kind: 'not-allowed', reason: 'Only the requester can extend this access.' };
    }
    // Asked for by an earlier delivery of this job: waiting for its approvers, or decided. Its
    // events again, as far as the record still tells them (the first delivery's copies, or the
    // ones a failure after its write lost).
    if (jobId && record.extensionJobs?.includes(jobId)) {
      const pending = pendingExtensionOf(record);
      if (pending?.jobId === jobId) {
        await this.auditExtensionRequested(record, by, pending);
        return { kind: 'extension-needs-approval', record };
      }
      await this.auditSelfServiceExtension(record, by, jobId);
      return { kind: 'not-allowed', reason: ALREADY_ANSWERED };
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
      await audit.record(
        requestId,
        'window.extend-refused',
        by,
        'failure',
        { extraMinutes: extra, totalMinutes, reason: 'another extension is waiting for approval' },
        refusal,
      );
      return { kind: 'not-allowed', reason: ALREADY_PENDING };
    }
    if (!verdict.allowed) {
      const reason = extensionRefusal(policy, record, extra, verdict);
      await audit.record(
        requestId,
        'window.extend-refused',
        by,
        'failure',
        { extraMinutes: extra, totalMinutes, reason },
        refusal,
      );
      return { kind: 'not-allowed', reason };
    }
    const rule = verdict.rule;
    if (rule.approval === 'none') {
      // Both events once the extension is applied (a click that loses the window's token asked for nothing).
      const applied = await this.applyExtension(
        record,
        extra,
        rule,
        [POLICY_ACTOR],
        POLICY_ACTOR,
        async (extension) => {
          await audit.record(
            requestId,
            'window.extend-requested',
            by,
            'info',
            { extraMinutes: extra, totalMinutes, rule: rule.name },
            extension,
          );
          await audit.record(
            requestId,
            'approval.auto',
            POLICY_ACTOR,
            'success',
            { extensionMinutes: extra, rule: rule.name },
            extension,
          );
        },
        jobId,
      );
      return applied === CONFLICT ? { kind: 'not-allowed', reason: CHANGED_MEANWHILE } : applied;
    }
    const pending: PendingExtension = {
      ...pendingUnder(policy, rule, record, extra, this.deps.clock.now().toISOString(), []),
      ...(jobId ? { jobId } : {}),
    };
    const stored = await store.updateRequest(
      requestId,
      EDITS.window,
      {
        pendingExtension: pending,
        pendingExtensionMinutes: undefined,
        ...(jobId ? { extensionJobs: [...(record.extensionJobs ?? []), jobId] } : {}),
      },
      (current) => pendingKey(current) === 'none' && sameExtensions(current, record),
    );
    if (!stored.ok)
      return stored.current?.status === 'ACTIVE'
        ? { kind: 'not-allowed', reason: CHANGED_MEANWHILE }
        : { kind: 'not-active', record: stored.current ?? record };
    await this.auditExtensionRequested(stored.value, by, pending);
    // The notifier routes by the record's rule (channel, approver DMs): here the extension's.
    let latest = stored.value;
    await notifier.requestApproval(
      { ...stored.value, ruleName: rule.name },
      pending.approvers,
      async (message) => {
        const kept = await store.updateRequest(
          requestId,
          EDITS.window,
          { approvalMessage: message },
          (c) => !c.approvalMessage,
        );
        if (kept.ok) latest = kept.value;
        return kept.ok ? kept.value : kept.current;
      },
      // The approvers' DMs (and a post in the extension rule's own channel): re-rendered when it is decided.
      async (copy) => {
        const kept = await keepApprovalCopy(store, requestId, copy);
        if (kept) latest = kept;
        return kept;
      },
    );
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
    jobId?: string,
  ): Promise<WindowOutcome | DecisionOutcome> {
    // A guarded write that loses a race re-reads and decides again on what the other click left.
    return retryOnConflict(
      EXTENSION_DECISION_ATTEMPTS,
      () => this.decideExtensionOnce(requestId, actor, decision, reason, jobId),
      async () => {
        const record = await this.deps.store.getRequest(requestId);
        return record ? extensionDecided(record) : { kind: 'not-found' };
      },
    );
  }

  private async decideExtensionOnce(
    requestId: string,
    actor: Actor,
    decision: 'approve' | 'deny',
    reason: string | undefined,
    jobId: string | undefined,
  ): Promise<WindowOutcome | DecisionOutcome | Conflict> {
    const { store, policy, audit, notifier } = this.deps;
    const record = await store.getRequest(requestId);
    if (!record) return { kind: 'not-found' };
    await this.directory.all();
    const pending = pendingExtensionOf(record);
    const by = normalizeEmail(actor.email);
    // A redelivered job decided an extension already (maybe the one before this pending one): its
    // event again, where the record still tells it (the first delivery's copy, or the one lost).
    if (jobId && record.extensionJobs?.includes(jobId)) {
      await this.auditDecidedExtension(record, by, jobId);
      return extensionDecided(record);
    }
    if (!pending || record.status !== 'ACTIVE') return extensionDecided(record);
    const unchanged = (current: RequestRecord) => pendingKey(current) === pendingKey(record);
    // Every write deciding on the extension records the job that made it.
    const decidedBy = jobId ? { extensionJobs: [...(record.extensionJobs ?? []), jobId] } : {};
    const clear = { pendingExtension: undefined, pendingExtensionMinutes: undefined, ...decidedBy };

    const verdict = evaluateExtension(policy, record, pending.minutes);
    if (!verdict.allowed) {
      const why = extensionRefusal(policy, record, pending.minutes, verdict);
      const cleared = await store.updateRequest(requestId, EDITS.window, clear, unchanged);
      if (!cleared.ok) return cleared.current ? CONFLICT : { kind: 'not-found' };
      await audit.record(
        requestId,
        'window.extend-refused',
        POLICY_ACTOR,
        'failure',
        {
          extraMinutes: pending.minutes,
          totalMinutes: totalWith(record, pending.minutes),
          reason: why,
          clickedBy: by,
        },
        pendingOccurrence(pending, 'refused'),
      );
      await this.notify('request messages', () => notifier.updateRequestMessages(cleared.value));
      await this.notify('requester DM', () =>
        notifier.notifyRequester(
          cleared.value,
          'denied',
          `Extension of ${formatMinutes(pending.minutes)} was refused: ${why}`,
        ),
      );
      return { kind: 'not-allowed', reason: `The policy no longer allows this extension. ${why}` };
    }
    const rule = verdict.rule;
    if (rule.approval === 'none') {
      // A redeploy made this total self-service: nobody needs to approve it, nobody can deny it.
      if (decision === 'deny') return { kind: 'not-authorized', reason: 'no-approval' };
      return this.applyExtension(
        record,
        pending.minutes,
        rule,
        [POLICY_ACTOR],
        POLICY_ACTOR,
        (extension) =>
          audit.record(
            requestId,
            'approval.auto',
            POLICY_ACTOR,
            'success',
            { extensionMinutes: pending.minutes, rule: rule.name },
            extension,
          ),
        jobId,
      );
    }
    const check = mayDecide(policy, rule, record, actor.email);
    if (!check.authorized) return { kind: 'not-authorized', reason: check.reason };

    const at = this.deps.clock.now().toISOString();
    if (decision === 'deny') {
      const cleared = await store.updateRequest(requestId, EDITS.window, clear, unchanged);
      if (!cleared.ok) return cleared.current ? CONFLICT : { kind: 'not-found' };
      await audit.record(
        requestId,
        'approval.denied',
        by,
        'success',
        { extensionMinutes: pending.minutes, rule: rule.name, reason: reason ?? null },
        pendingOccurrence(pending, 'denied'),
      );
      await this.notify('request messages', () => notifier.updateRequestMessages(cleared.value));
      await this.notify('requester DM', () =>
        notifier.notifyRequester(
          cleared.value,
          'denied',
          `Extension of ${formatMinutes(pending.minutes)} was denied${reason ? `: ${reason}` : '.'}`,
        ),
      );
      return { kind: 'not-allowed', reason: 'Extension denied.' };
    }

    // Distinct approvers that still count under the rule deciding now; a second click counts once.
    const counted = countingApprovals(policy, rule, record, pending.approvals);
    const isNew = !counted.some((a) => a.by === by);
    const approvals = isNew ? [...counted, { by, slackUserId: actor.slackUserId, at }] : counted;
    const required = rule.approval.required;
    const approved = (occurrence: Occurrence | undefined) =>
      audit.record(
        requestId,
        'approval.approved',
        by,
        'success',
        { extensionMinutes: pending.minutes, rule: rule.name, approvals: approvals.length, required },
        occurrence,
      );
    if (approvals.length < required) {
      if (!isNew) return { kind: 'approval-recorded', record, remaining: required - approvals.length };
      const next: PendingExtension = {
        ...pendingUnder(policy, rule, record, pending.minutes, pending.requestedAt, approvals),
        ...(pending.jobId ? { jobId: pending.jobId } : {}),
      };
      const saved = await store.updateRequest(
        requestId,
        EDITS.window,
        { pendingExtension: next, pendingExtensionMinutes: undefined, ...decidedBy },
        unchanged,
      );
      if (!saved.ok) return saved.current ? CONFLICT : { kind: 'not-found' };
      await approved(pendingOccurrence(pending, `approved:${by}`));
      await this.notify('request messages', () => notifier.updateRequestMessages(saved.value));
      return { kind: 'approval-recorded', record: saved.value, remaining: required - approvals.length };
    }
    return this.applyExtension(
      record,
      pending.minutes,
      rule,
      approvals.map((a) => a.by),
      by,
      // The approval that completes the quorum is named by the extension it applies.
      isNew ? approved : async () => undefined,
      jobId,
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
    /** The events of the extension, written once it is applied (`extension` names its occurrence). */
    onApplied: (extension: Occurrence) => Promise<unknown>,
    /** The job applying it (an extend click, or the deciding approver's), recorded in the same write. */
    jobId?: string,
  ): Promise<WindowOutcome | Conflict> {
    const { store, workflow } = this.deps;
    const requestId = record.request.requestId;
    if (!record.expiresAt) return { kind: 'not-active', record };
    const token = await store.takeTaskToken(requestId, 'window');
    if (!token) {
      const current = await store.getRequest(requestId);
      if (current?.status === 'ACTIVE' && pendingKey(current) !== pendingKey(record)) return CONFLICT;
      return { kind: 'not-active', record: current ?? record };
    }
    const now = this.deps.clock.now();
    const extension: ApprovedExtension = {
      minutes,
      ruleName: rule.name,
      maxTotalMinutes: rule.maxDuration,
      approvedBy,
      at: now.toISOString(),
      required: rule.approval === 'none' ? 0 : rule.approval.required,
      ...(jobId ? { jobId } : {}),
    };
    const updated = await store.updateRequest(
      requestId,
      EDITS.window,
      {
        extendedMinutes: (record.extendedMinutes ?? 0) + minutes,
        extensions: [...(record.extensions ?? []), extension],
        pendingExtension: undefined,
        pendingExtensionMinutes: undefined,
        ...(jobId ? { extensionJobs: [...(record.extensionJobs ?? []), jobId] } : {}),
      },
      (current) => pendingKey(current) === pendingKey(record) && sameExtensions(current, record),
    );
    if (!updated.ok) {
      // Another click changed the request first: the window stays as it was, its token back in place.
      if (updated.current?.status === 'ACTIVE') {
        await store.putTaskToken(requestId, 'window', token);
        return CONFLICT;
      }
      return updated.current ? { kind: 'not-active', record: updated.current } : { kind: 'not-found' };
    }
    const expiresAtMs = Date.parse(record.expiresAt) + minutes * 60_000;
    const expiresAt = new Date(expiresAtMs).toISOString();
    // The window first: the token is this run's alone, and a failure after taking it (the audit
    // writer's) would leave the extension on the record and the window as it was.
    const sent = await workflow.sendSuccess(token, {
      action: 'extend',
      by,
      expiresAt,
      seconds: windowSeconds(expiresAtMs, now.getTime()),
      extraMinutes: minutes,
    });
    await onApplied(extensionOccurrence((record.extensions ?? []).length));
    if (sent !== 'sent') return { kind: 'not-active', record: updated.value };
    // At once, for the approvers; the window step renders again with the new end time.
    await this.notify('request messages', () => this.deps.notifier.updateRequestMessages(updated.value));
    return { kind: 'extended', record: updated.value, expiresAt };
  }

  /** A pending extension's request, from the pending extension itself (a redelivery writes the same). */
  private async auditExtensionRequested(record: RequestRecord, by: string, pending: PendingExtension) {
    await this.deps.audit.record(
      record.request.requestId,
      'window.extend-requested',
      by,
      'info',
      {
        extraMinutes: pending.minutes,
        totalMinutes: totalWith(record, pending.minutes),
        rule: pending.ruleName,
        approvers: pending.approvers.join(','),
        required: pending.required,
      },
      pendingOccurrence(pending, 'requested'),
    );
  }

  /** A decision this job made on an extension, as the record still tells it: an approval still pending, or the one that applied it. */
  private async auditDecidedExtension(record: RequestRecord, by: string, jobId: string) {
    const requestId = record.request.requestId;
    const pending = pendingExtensionOf(record);
    const waiting = pending?.approvals.findIndex((a) => a.by === by) ?? -1;
    if (pending?.jobId && waiting >= 0) {
      await this.deps.audit.record(
        requestId,
        'approval.approved',
        by,
        'success',
        {
          extensionMinutes: pending.minutes,
          rule: pending.ruleName,
          approvals: waiting + 1,
          required: pending.required,
        },
        pendingOccurrence(pending, `approved:${by}`),
      );
      return;
    }
    const extensions = record.extensions ?? [];
    const index = extensions.findIndex((e) => e.jobId === jobId);
    const extension = extensions[index];
    if (!extension) return; // denied or refused: the cleared extension took what its event says with it
    const occurrence = extensionOccurrence(index);
    if (extension.approvedBy.join() === POLICY_ACTOR)
      await this.deps.audit.record(
        requestId,
        'approval.auto',
        POLICY_ACTOR,
        'success',
        { extensionMinutes: extension.minutes, rule: extension.ruleName },
        occurrence,
      );
    else if (extension.required !== undefined && extension.approvedBy.includes(by))
      await this.deps.audit.record(
        requestId,
        'approval.approved',
        by,
        'success',
        {
          extensionMinutes: extension.minutes,
          rule: extension.ruleName,
          approvals: extension.approvedBy.length,
          required: extension.required,
        },
        occurrence,
      );
  }

  /** The events of a self-service extension this job applied, from the applied extension. */
  private async auditSelfServiceExtension(record: RequestRecord, by: string, jobId: string) {
    const extensions = record.extensions ?? [];
    const index = extensions.findIndex((e) => e.jobId === jobId);
    const extension = extensions[index];
    if (!extension || extension.approvedBy.join() !== POLICY_ACTOR) return;
    // The total it made: what the record has now, less the extensions applied after it.
    const later = extensions.slice(index + 1).reduce((sum, e) => sum + e.minutes, 0);
    const totalMinutes = record.request.durationMinutes + (record.extendedMinutes ?? 0) - later;
    const occurrence = extensionOccurrence(index);
    await this.deps.audit.record(
      record.request.requestId,
      'window.extend-requested',
      by,
      'info',
      { extraMinutes: extension.minutes, totalMinutes, rule: extension.ruleName },
      occurrence,
    );
    await this.deps.audit.record(
      record.request.requestId,
      'approval.auto',
      POLICY_ACTOR,
      'success',
      { extensionMinutes: extension.minutes, rule: extension.ruleName },
      occurrence,
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

/** The events of an applied extension, named by its place in the record. */
const extensionOccurrence = (index: number): Occurrence => ({ step: 'extend', key: `extension:${index}` });

/** An event of a pending extension (its request, a decision on it), named by the job that asked for it; without one, each is its own. */
function pendingOccurrence(pending: PendingExtension, what: string): Occurrence | undefined {
  return pending.jobId ? { step: 'extension', key: `${pending.jobId}:${what}` } : undefined;
}

/** Decided the other way than `decision` (by an approver: not a cancellation or an expiry). */
function decidedOtherwise(record: RequestRecord, decision: 'approve' | 'deny'): boolean {
  if (decision === 'approve') return record.denial !== undefined;
  return record.approvals.length > 0 && !NOT_APPROVED.has(record.status);
}
const NOT_APPROVED: ReadonlySet<string> = new Set([
  'PENDING_APPROVAL',
  'DENIED',
  'CANCELLED',
  'APPROVAL_EXPIRED',
  'REJECTED',
]);

function alreadyDecided(record: RequestRecord): DecisionOutcome {
  if (record.status === 'APPROVAL_EXPIRED') return { kind: 'expired', record };
  const by =
    record.cancellation?.by ?? record.denial?.by ?? record.approvals[record.approvals.length - 1]?.by;
  return { kind: 'already-decided', record, ...(by ? { by } : {}) };
}
