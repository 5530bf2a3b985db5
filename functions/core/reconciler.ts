import { reminderDue } from './approval-reminder';
import type { AuditTrail } from './audit';
import { bestEffort } from './best-effort';
import { dueForEscalation } from './break-glass';
import { type DirectoryRefresh, NOTHING_TO_REFRESH } from './directory';
import { AccessError, errorMessage, RetryableError } from './errors';
import { membershipKeyOf } from './group-access';
import {
  bumped,
  deleted,
  deletionAsked,
  deletionClaimed,
  holdersKept,
  membershipRemovalClaimed,
  membershipRemoved,
} from './holders';
import { CLOSE_AS, EDITS } from './lifecycle';
import {
  type AssignmentKey,
  type AuditEvent,
  assignmentKeyText,
  type CreationInFlight,
  FINAL_STATUSES,
  type HoldersRecord,
  type MembershipHoldersRecord,
  type MembershipKey,
  membershipKeyText,
  type RequestRecord,
  type RequestStatus,
} from './model';
import { changeBreakGlass, changeHolders } from './optimistic';
import { approversFor, findRule, type Policy } from './policy';
import type {
  AssignmentDirectory,
  AssignmentOperationStatus,
  Clock,
  GroupMemberships,
  Notifier,
  RequestStore,
  Workflow,
} from './ports';
import { withSetMessages } from './request-set';
import type { SessionDenySweepReport, SessionEnding } from './session-ending';
import { windowLimit, windowStartMs } from './window';

// The reconciler: a scheduled pass that compares what the store says this product granted with
// what Identity Center actually has, and cleans up after failures the workflow could not handle.
//
// It changes holders records with the same conditional writes as the workflow (revision checks),
// so it is safe to run while executions are running and while another pass runs:
//  - a holder is released only when its request is dead: its execution has ended (or was stopped
//    here because it outlived its window) and the request's window or settle time has passed;
//  - an assignment is deleted only when no live holder remains and it was not pre-existing, and
//    only by whoever wins the conditional write that moves the record to DELETING (the "claim");
//  - a record written recently is left alone (`settleSeconds`): a worker Lambda that was running
//    when its execution stopped may still be finishing its write or its AWS call.
// Every action is an audit event; findings also go to the alert channel.

export const RECONCILER_ACTOR = 'system:reconciler';
/** `deletingBy` of a holders record the reconciler is deleting. */
export const RECONCILER_CLAIM = 'reconciler';
/** Users of live grants asked of Identity Center in one pass (a different slice each pass). */
const DEPARTURE_CHECKS = 100;
/** The schedule's period: which slice of users a pass checks. */
const PASS_MS = 5 * 60_000;
/** Writes a pass tries to confirm a deletion before leaving it to the next pass. */
const MARK_ABSENT_ATTEMPTS = 3;

export interface ReconcilerDependencies {
  policy: Policy;
  store: RequestStore;
  assignments: AssignmentDirectory;
  workflow: Workflow;
  audit: AuditTrail;
  notifier: Notifier;
  clock: Clock;
  /** Identity Center group memberships (group access, core/group-access.ts); without them memberships are not reviewed. */
  memberships?: GroupMemberships;
  /** Waits between deletion status polls (tests pass a no-op). */
  wait?: (ms: number) => Promise<void>;
  /** Brings the policy's directory groups up to date before a window's cap is computed. */
  directory?: DirectoryRefresh;
  /** Removes session deny statements whose sessions have all expired (core/session-ending.ts). */
  sessionDenies?: { run(): Promise<SessionDenySweepReport> };
  /**
   * Ends the live sessions of an assignment this pass deleted, as the workflow's EndSessions does
   * (only for a permission set with endSessionsOnRevoke; SKIPPED otherwise).
   */
  sessionEnding?: Pick<SessionEnding, 'start' | 'check'>;
  /**
   * A person Identity Center no longer has (deleted there, or by the IdP's SCIM deprovisioning):
   * `users` answers whether a live grant's user is gone (identitystore DescribeUser), `offboard`
   * hands their offboarding to the decisions function (core/offboarding.ts), the one role that
   * may end windows and cancel requests. Both or neither.
   */
  departures?: {
    users: { isGone(principalId: string): Promise<boolean> };
    offboard(slackUserId: string, reason: 'identity-center-user-gone'): Promise<void>;
  };
}

export interface ReconcilerOptions {
  /** After a window's end, how long the workflow has to revoke before the reconciler steps in. */
  graceSeconds: number;
  /**
   * A holders record or request written more recently than this may still have a worker in
   * flight (a Lambda keeps running after its execution stops): left for a later pass. At least
   * the longest worker Lambda timeout.
   */
  settleSeconds: number;
  /** A DELETING claim of another reconciler pass is honoured this long (≥ the reconciler's timeout). */
  claimLeaseSeconds: number;
  /** A running execution in APPROVED/GRANTING/REVOKING unchanged this long is stuck (its own polling is bounded at minutes). */
  stuckSeconds: number;
  /** The "ends in about 10 minutes" DM. */
  expiryNoticeMinutes: number;
  /** Attempts of an Identity Center call refused as throttled or conflicting, within a pass. */
  transientAttempts: number;
  /** Deletion status polls within a pass before leaving the rest to the next pass. */
  deletionPolls: number;
  pollIntervalMs: number;
}

export const DEFAULT_RECONCILER_OPTIONS: ReconcilerOptions = {
  graceSeconds: 120,
  settleSeconds: 900,
  claimLeaseSeconds: 300,
  stuckSeconds: 3600,
  expiryNoticeMinutes: 10,
  transientAttempts: 4,
  deletionPolls: 3,
  pollIntervalMs: 2000,
};

export interface ReconcileReport {
  startedAt: string;
  finishedAt: string;
  requestsChecked: number;
  holdersChecked: number;
  expiringNotices: number;
  /** Approvers reminded of a request still waiting (core/approval-reminder.ts). */
  reminders: number;
  /** Break-glass uses unreviewed past their review window, escalated by this pass. */
  escalatedReviews: number;
  stoppedExecutions: number;
  closedRequests: number;
  releasedHolders: number;
  orphansFound: number;
  untrackedFound: number;
  deletionsRequested: number;
  deletionsConfirmed: number;
  repairedRecords: number;
  /** Session deny statements removed (only when a permission set ends sessions at revoke). */
  sessionDeniesRemoved?: number;
  /** Deletions of this pass whose live sessions were ended (deny statement provisioned). */
  sessionsEnded?: number;
  /** People with a live grant whom Identity Center no longer has: their offboarding handed off. */
  departuresFound?: number;
  /** Left for a later pass (recent writes, claims of another pass, transient errors). */
  deferred: number;
  errors: string[];
}

/** Statuses in which the request's execution should be running. */
const OPEN_STATUSES: readonly RequestStatus[] = [
  'PENDING_APPROVAL',
  'APPROVED',
  'GRANTING',
  'ACTIVE',
  'REVOKING',
];
/** Every status a pass reads: open ones, and closed ones whose Finish may have crashed (no closedAt). */
const SCANNED_STATUSES: readonly RequestStatus[] = [...OPEN_STATUSES, ...FINAL_STATUSES, 'GRANT_FAILED'];

type Verdict = 'live' | 'dead' | 'unknown';

/** The audit trail id of findings that belong to an assignment rather than to one request. */
export function assignmentAuditId(key: AssignmentKey): string {
  return `assignment:${assignmentKeyText(key)}`;
}

export class Reconciler {
  private readonly options: ReconcilerOptions;
  private readonly wait: (ms: number) => Promise<void>;

  private readonly deps: ReconcilerDependencies;

  constructor(deps: ReconcilerDependencies, options: Partial<ReconcilerOptions> = {}) {
    this.deps = { ...deps, notifier: withSetMessages(deps.notifier, deps.store) };
    this.options = { ...DEFAULT_RECONCILER_OPTIONS, ...options };
    this.wait = deps.wait ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
  }

  /** One pass. Never throws for a single item: its error is in the report and the next pass retries. */
  async run(): Promise<ReconcileReport> {
    const pass = new Pass(this.deps, this.options, this.wait);
    return pass.run();
  }
}

/** The state of one pass: caches (one execution lookup per request, one listing per account × permission set). */
class Pass {
  private readonly now: Date;
  private readonly report: ReconcileReport;
  private readonly verdicts = new Map<string, Promise<Verdict>>();
  private readonly running = new Map<string, boolean>();
  private readonly listings = new Map<string, Promise<Set<string> | undefined>>();

  constructor(
    private readonly deps: ReconcilerDependencies,
    private readonly options: ReconcilerOptions,
    private readonly wait: (ms: number) => Promise<void>,
  ) {
    this.now = deps.clock.now();
    this.report = {
      startedAt: this.now.toISOString(),
      finishedAt: '',
      requestsChecked: 0,
      holdersChecked: 0,
      expiringNotices: 0,
      escalatedReviews: 0,
      reminders: 0,
      stoppedExecutions: 0,
      closedRequests: 0,
      releasedHolders: 0,
      orphansFound: 0,
      untrackedFound: 0,
      deletionsRequested: 0,
      deletionsConfirmed: 0,
      repairedRecords: 0,
      deferred: 0,
      errors: [],
    };
  }

  async run(): Promise<ReconcileReport> {
    const { store } = this.deps;
    const live: RequestRecord[] = [];
    for (const status of SCANNED_STATUSES) {
      let records: RequestRecord[];
      try {
        // Every page: a cap would leave the oldest requests of a busy status unreviewed for ever.
        records = await store.listByStatus(status);
      } catch (error) {
        this.fail(`listing ${status} requests`, error);
        continue;
      }
      for (const record of records) {
        if (record.closedAt) continue;
        if (record.status === 'ACTIVE') live.push(record);
        this.report.requestsChecked++;
        await this.bestEffort(`request ${record.request.requestId}`, () => this.reviewRequest(record));
      }
    }
    let holders: HoldersRecord[] = [];
    try {
      holders = await store.listHolders();
    } catch (error) {
      this.fail('listing holders records', error);
    }
    for (const record of holders) {
      this.report.holdersChecked++;
      await this.bestEffort(`assignment ${assignmentKeyText(record)}`, () => this.reviewHolders(record));
    }
    await this.reviewMemberships();
    await this.bestEffort('break-glass reviews', () => this.escalateReviews());
    await this.offboardDeparted(live);
    const sessionDenies = this.deps.sessionDenies;
    if (sessionDenies)
      await this.bestEffort('session deny statements', async () => {
        const swept = await sessionDenies.run();
        this.report.sessionDeniesRemoved = swept.statementsRemoved;
        this.report.errors.push(...swept.errors);
      });
    this.report.finishedAt = this.deps.clock.now().toISOString();
    return this.report;
  }

  // ---- people Identity Center no longer has --------------------------------------------------

  /**
   * The users of live grants whom Identity Center no longer has: each one's offboarding is handed
   * off (their windows end now, their pending requests are withdrawn). Deleting a user in Identity
   * Center stops their sign-ins, not their sessions nor the product's records; this makes those
   * follow. At most `DEPARTURE_CHECKS` users a pass, a different slice each pass, so a large
   * deployment spends a bounded share of identitystore's 20 calls a second. A redelivered or
   * repeated offboarding finds its work done (core/offboarding.ts is idempotent).
   */
  private async offboardDeparted(live: RequestRecord[]): Promise<void> {
    const departures = this.deps.departures;
    if (!departures) return;
    const requesters = new Map<string, string>();
    for (const record of live)
      if (record.principalId) requesters.set(record.principalId, record.request.requester.slackUserId);
    const principals = [...requesters.keys()].sort();
    const slices = Math.max(1, Math.ceil(principals.length / DEPARTURE_CHECKS));
    const slice = Math.floor(this.now.getTime() / PASS_MS) % slices;
    for (const principalId of principals.slice(slice * DEPARTURE_CHECKS, (slice + 1) * DEPARTURE_CHECKS)) {
      await this.bestEffort(`user ${principalId}`, async () => {
        if (!(await departures.users.isGone(principalId))) return;
        await departures.offboard(requesters.get(principalId) as string, 'identity-center-user-gone');
        this.report.departuresFound = (this.report.departuresFound ?? 0) + 1;
      });
    }
  }

  // ---- break-glass reviews -------------------------------------------------------------------

  /**
   * Break-glass uses unreviewed past their review window: each escalates once (the first pass to
   * write `escalatedAt` posts the channel-wide mention; its event raises the alarm).
   */
  private async escalateReviews(): Promise<void> {
    const { store, notifier } = this.deps;
    for (const pending of await store.listPendingReviews()) {
      const requestId = pending.request.requestId;
      const escalatedAt = this.now.toISOString();
      const written = dueForEscalation(pending, this.now)
        ? await changeBreakGlass(store, requestId, (current, record) =>
            dueForEscalation({ ...record, breakGlass: current }, this.now)
              ? { ...current, escalatedAt }
              : undefined,
          )
        : undefined;
      const escalated = written ?? pending;
      if (!escalated.breakGlass?.escalatedAt) continue;
      // Again on every pass until reviewed: the first copy stays (its id is the occurrence's), and
      // a pass that died between the write and the event leaves no gap in the trail.
      await this.deps.audit.record(
        requestId,
        'breakglass.escalated',
        RECONCILER_ACTOR,
        'failure',
        { reviewDueAt: escalated.breakGlass.reviewDueAt, alertChannel: escalated.breakGlass.alertChannel },
        { step: 'reconciler', key: 'breakglass-escalation' },
      );
      if (!written) continue;
      this.report.escalatedReviews++;
      await this.bestEffort(`escalating ${requestId}`, () => notifier.breakGlassUpdate(written, true));
    }
  }

  // ---- requests ------------------------------------------------------------------------------

  private async reviewRequest(record: RequestRecord): Promise<void> {
    const requestId = record.request.requestId;
    const verdict = await this.verdict(requestId);
    if (verdict === 'unknown') {
      this.report.deferred++;
      return;
    }
    if (verdict === 'live') {
      if (record.status === 'ACTIVE' && this.running.get(requestId)) await this.noticeExpiring(requestId);
      if (record.status === 'PENDING_APPROVAL' && this.running.get(requestId)) await this.remind(requestId);
      return;
    }
    // Dead: its execution has ended (or was stopped here). Release its assignment, then close it.
    const latest = await this.deps.store.getRequest(requestId);
    if (!latest || latest.closedAt) return;
    if (latest.principalId && latest.request.groupId === undefined) {
      const key = keyOf(latest, latest.principalId);
      const holders = await this.deps.store.getHolders(key);
      if (holders && (holders.holders.includes(requestId) || holders.deletingBy === requestId))
        await this.reviewHolders(holders);
    }
    const membership = latest.principalId ? membershipKeyOf(latest, latest.principalId) : undefined;
    if (membership && this.deps.memberships) {
      const holders = await this.deps.store.getMembershipHolders(membership);
      if (
        holders &&
        (holders.holders.includes(requestId) ||
          holders.addingBy === requestId ||
          holders.removingBy === requestId)
      )
        await this.reviewMembership(holders);
    }
    await this.close(latest);
  }

  /** Is this request's access still justified? Stops an execution that outlived its window. */
  private verdict(requestId: string): Promise<Verdict> {
    let verdict = this.verdicts.get(requestId);
    if (!verdict) {
      verdict = this.decide(requestId).catch((error: unknown) => {
        this.fail(`checking request ${requestId}`, error);
        return 'unknown' as const;
      });
      this.verdicts.set(requestId, verdict);
    }
    return verdict;
  }

  private async decide(requestId: string): Promise<Verdict> {
    const { store, workflow } = this.deps;
    const record = await store.getRequest(requestId);
    const running = await workflow.isRunning(requestId);
    this.running.set(requestId, running);
    if (!record) return running ? 'live' : 'dead';
    const windowEnd = await this.windowEnd(record);
    if (running) {
      const stuck = this.pastGrace(windowEnd)
        ? `its access window ended at ${windowEnd?.at}${windowEnd?.capped ? ` (the longest the policy allows; the record says ${record.expiresAt})` : ''} and it is still waiting`
        : (['APPROVED', 'GRANTING', 'REVOKING'] as RequestStatus[]).includes(record.status) &&
            this.olderThan(record.updatedAt, this.options.stuckSeconds) &&
            // Approved and waiting for a scheduled start: it moves on at the start, not before.
            (record.status !== 'APPROVED' ||
              !record.request.startAt ||
              this.olderThan(record.request.startAt, this.options.stuckSeconds))
          ? `it has been ${record.status} since ${record.updatedAt}`
          : undefined;
      if (!stuck) return 'live';
      await this.stop(record, stuck);
      return 'dead';
    }
    if (record.closedAt || FINAL_STATUSES.includes(record.status) || record.status === 'GRANT_FAILED')
      return 'dead';
    // An open request whose execution is gone. An active window is honoured to its end (the
    // execution may run under an earlier state machine); anything else once it has settled.
    if (record.status === 'ACTIVE') return this.pastGrace(windowEnd) ? 'dead' : 'live';
    return this.olderThan(record.updatedAt, this.options.settleSeconds) ? 'dead' : 'live';
  }

  private async stop(record: RequestRecord, why: string): Promise<void> {
    const requestId = record.request.requestId;
    await this.deps.workflow.stop(requestId, `Stopped by the reconciler: ${why}`);
    this.running.set(requestId, false);
    this.report.stoppedExecutions++;
    await this.audit(requestId, 'reconciler.stopped-execution', 'success', { reason: why });
    await this.alert(`Stopped the execution of request ${requestId}: ${why}. Revoking its access.`, record);
  }

  /** The "about 10 minutes left" DM, once per window end (an extension moves the end: a new notice). */
  private async noticeExpiring(requestId: string): Promise<void> {
    const record = await this.deps.store.getRequest(requestId);
    const expiresAt = record?.expiresAt;
    if (record?.status !== 'ACTIVE' || !expiresAt || record.expiringNoticeFor === expiresAt) return;
    const left = Date.parse(expiresAt) - this.now.getTime();
    const noticeMs = this.options.expiryNoticeMinutes * 60_000;
    const windowMinutes = record.request.durationMinutes + (record.extendedMinutes ?? 0);
    if (!(left > 0 && left <= noticeMs) || windowMinutes <= this.options.expiryNoticeMinutes) return;
    const marked = await this.deps.store.updateRequest(
      requestId,
      EDITS.window,
      { expiringNoticeFor: expiresAt },
      (current) => current.expiresAt === expiresAt && current.expiringNoticeFor !== expiresAt,
    );
    if (!marked.ok) return; // another pass sent it, or the window changed
    this.report.expiringNotices++;
    await this.audit(requestId, 'window.expiring-soon', 'info', { expiresAt });
    await this.bestEffort('expiring-soon DM', () =>
      this.deps.notifier.notifyRequester(marked.value, 'expiring-soon'),
    );
  }

  /** Reminds the approvers of a request still waiting past its reminder time, once. */
  private async remind(requestId: string): Promise<void> {
    const { store, policy, notifier } = this.deps;
    const record = await store.getRequest(requestId);
    if (!record || !reminderDue(policy, record, this.now)) return;
    const marked = await store.updateRequest(
      requestId,
      EDITS.approvalMessage,
      { approvalReminderSentAt: this.now.toISOString() },
      (current) => !current.approvalReminderSentAt,
    );
    if (!marked.ok) return; // decided meanwhile, or another pass reminded
    const rule = marked.value.ruleName ? findRule(policy, marked.value.ruleName) : undefined;
    if (!rule) return;
    await (this.deps.directory ?? NOTHING_TO_REFRESH).all();
    // Those who have not approved yet (an approval of a quorum already counts).
    const approved = new Set(marked.value.approvals.map((a) => a.by));
    const approvers = approversFor(policy, rule, marked.value.request.requester.email).filter(
      (email) => !approved.has(email),
    );
    this.report.reminders++;
    await this.deps.audit.record(
      requestId,
      'approval.reminded',
      RECONCILER_ACTOR,
      'info',
      { approvers: approvers.join(',') },
      { step: 'reconciler', key: 'approval-reminder' },
    );
    await this.bestEffort('approval reminder', () => notifier.remindApprovers(marked.value, approvers));
  }

  /** Closes a request whose execution ended without doing so (or whose Finish crashed). */
  private async close(record: RequestRecord): Promise<void> {
    const { store, audit } = this.deps;
    const requestId = record.request.requestId;
    let current = record;
    const target = CLOSE_AS[record.status];
    if (target) {
      // From the status it was judged in: a request that moved meanwhile waits for the next pass.
      const closed = await store.updateRequest(
        requestId,
        [record.status],
        {
          status: target.status,
          failureReason:
            record.failureReason ?? 'The workflow ended early; the reconciler revoked any access it left.',
        },
        (stored) => !stored.closedAt,
      );
      if (!closed.ok) {
        this.report.deferred++;
        return;
      }
      current = closed.value;
    }
    const events = await audit.list(requestId);
    if (!events.some((event) => event.action === 'request.closed')) {
      await this.audit(
        requestId,
        'request.closed',
        current.status === 'REVOKE_FAILED' || current.status === 'GRANT_FAILED' ? 'failure' : 'success',
        { outcome: current.status.toLowerCase().replace(/_/g, '-'), closedBy: 'reconciler' },
      );
    }
    const marked = await store.updateRequest(
      requestId,
      [current.status],
      { closedAt: this.now.toISOString() },
      (stored) => !stored.closedAt,
    );
    this.report.closedRequests++;
    const latest = marked.ok ? marked.value : current;
    if (target) {
      await this.bestEffort('request messages', () => this.deps.notifier.updateRequestMessages(latest));
      await this.bestEffort('requester DM', () => this.deps.notifier.notifyRequester(latest, target.notice));
    }
    // The "Access ready" DM of a window closed here (or by a Finish that died before its
    // messages): its End/Extend buttons go.
    if (latest.requesterDm && latest.status !== 'ACTIVE')
      await this.bestEffort('access ready DM', () => this.deps.notifier.updateRequesterDm(latest));
  }

  // ---- group memberships (core/group-access.ts) ------------------------------------------------

  private async reviewMemberships(): Promise<void> {
    if (!this.deps.memberships) return;
    let records: MembershipHoldersRecord[] = [];
    try {
      records = await this.deps.store.listMembershipHolders();
    } catch (error) {
      this.fail('listing membership holders records', error);
    }
    for (const record of records) {
      this.report.holdersChecked++;
      await this.bestEffort(`membership ${membershipKeyText(record)}`, () => this.reviewMembership(record));
    }
  }

  /**
   * A membership of this product's with no live request behind it is removed: its holders are
   * dead (their windows ended, their executions gone), or nobody holds it at all. A membership
   * that pre-existed is only released, never removed. A removal or an addition left half done by
   * a worker that died is finished (or judged) once it has settled.
   */
  private async reviewMembership(record: MembershipHoldersRecord): Promise<void> {
    const { store } = this.deps;
    const memberships = this.deps.memberships;
    if (!memberships) return;
    const holders = await store.getMembershipHolders(record);
    if (!holders) return;
    const claimedBy = holders.removingBy;
    if (claimedBy) {
      const lease =
        claimedBy === RECONCILER_CLAIM ? this.options.claimLeaseSeconds : this.options.settleSeconds;
      if (!this.olderThan(holders.updatedAt, lease)) {
        this.report.deferred++;
        return;
      }
      // Another pass (or a revoke) died mid-removal: finish it under a claim of this pass's.
      const forRequests = claimedBy === RECONCILER_CLAIM ? (holders.removingFor ?? []) : [claimedBy];
      const claim = await this.claimMembership(holders, forRequests, holders.membershipId);
      if (claim) await this.removeClaimed(claim, forRequests);
      return;
    }
    if (holders.addingBy && !this.olderThan(holders.updatedAt, this.options.settleSeconds)) {
      this.report.deferred++; // a grant may still be adding it
      return;
    }
    const verdicts = await Promise.all(holders.holders.map((id) => this.verdict(id)));
    const dead = holders.holders.filter((_, i) => verdicts[i] === 'dead');
    const live = holders.holders.filter((_, i) => verdicts[i] !== 'dead');
    const leftover = holders.holders.length === 0 && !holders.preExisting && holders.state === 'PRESENT';
    if (dead.length === 0 && !leftover) return;
    if (live.length > 0 || holders.preExisting || (holders.state === 'ABSENT' && !holders.addingBy)) {
      const kept = bumped(holdersKept(holders, live), this.now.toISOString());
      if (!(await store.putMembershipHolders(kept, holders.revision))) {
        this.report.deferred++;
        return;
      }
      this.report.releasedHolders += dead.length;
      if (holders.state === 'ABSENT') return;
      await this.auditKept(dead, live, holders.preExisting);
      return;
    }
    // Ours, and nobody live needs it (an addition never confirmed is looked up: it may have landed).
    const membershipId =
      holders.membershipId ??
      (await this.retrying(() => memberships.membershipId(holders.groupId, holders.principalId)));
    const claim = await this.claimMembership(holders, dead, membershipId);
    if (!claim) return;
    this.report.releasedHolders += dead.length;
    this.report.orphansFound++;
    for (const requestId of dead.length ? dead : [membershipAuditId(holders)])
      await this.audit(requestId, 'reconciler.orphan-found', 'failure', {
        ...membershipDetails(holders),
        finding: dead.length ? 'grant-outlived-its-request' : 'unheld-membership',
      });
    await this.alert(
      `Found the ${describeMembership(holders)} with no live request behind it (${dead.join(', ') || 'no holder'}); removing it.`,
    );
    await this.removeClaimed(claim, dead);
  }

  private async claimMembership(
    holders: MembershipHoldersRecord,
    forRequests: string[],
    membershipId: string | undefined,
  ): Promise<MembershipHoldersRecord | undefined> {
    const claim = bumped(
      membershipRemovalClaimed(holders, RECONCILER_CLAIM, membershipId, forRequests),
      this.now.toISOString(),
    );
    if (await this.deps.store.putMembershipHolders(claim, holders.revision)) return claim;
    this.report.deferred++;
    return undefined;
  }

  /** DeleteGroupMembership under this pass's claim; one already gone (its user or group too) is removed. */
  private async removeClaimed(claim: MembershipHoldersRecord, forRequests: string[]): Promise<void> {
    const memberships = this.deps.memberships;
    if (!memberships) return;
    const auditIds = forRequests.length ? forRequests : [membershipAuditId(claim)];
    let removed = false;
    try {
      const id = claim.membershipId;
      removed = id ? await this.retrying(() => memberships.remove(id)) : false;
    } catch (error) {
      // The claim stays: a later pass retries after the lease.
      this.fail(`removing the ${describeMembership(claim)}`, error);
      this.report.deferred++;
      for (const id of auditIds)
        await this.audit(id, 'revoke.failed', 'failure', {
          ...membershipDetails(claim),
          failureReason: errorMessage(error),
          note: 'a later pass retries',
        });
      return;
    }
    if (removed) this.report.deletionsRequested++;
    for (const id of auditIds)
      await this.audit(id, 'reconciler.revoked', 'success', {
        ...membershipDetails(claim),
        membershipId: claim.membershipId ?? null,
        ...(removed ? {} : { note: 'already absent' }),
      });
    const absent = bumped(membershipRemoved(claim), this.now.toISOString());
    if (await this.deps.store.putMembershipHolders(absent, claim.revision)) this.report.deletionsConfirmed++;
    else this.report.deferred++; // the next pass finds the claim and confirms it
  }

  // ---- assignments ---------------------------------------------------------------------------

  private async reviewHolders(record: HoldersRecord): Promise<void> {
    // Always from a fresh read: the listing may be stale, and writes check the revision anyway.
    const holders = await this.deps.store.getHolders(record);
    if (!holders) return;
    if (holders.state === 'DELETING') return this.repairDeleting(holders);
    // A creation of ours still unaccounted for decides first: what it left is ours to delete.
    if (holders.state !== 'CREATING' && holders.creationsInFlight?.length)
      return this.resolveCreations(holders);
    if (holders.state === 'ABSENT') return this.checkUntracked(holders);

    const verdicts = await Promise.all(holders.holders.map((id) => this.verdict(id)));
    const dead = holders.holders.filter((_, i) => verdicts[i] === 'dead');
    const live = holders.holders.filter((_, i) => verdicts[i] !== 'dead');
    const leftover = holders.holders.length === 0 && !holders.preExisting;
    if (dead.length === 0 && !leftover) return;
    if (holders.state === 'CREATING' && !this.olderThan(holders.updatedAt, this.options.settleSeconds)) {
      this.report.deferred++; // a grant may still be creating it
      return;
    }
    if (live.length > 0 || holders.preExisting) {
      const kept = bumped(holdersKept(holders, live), this.now.toISOString());
      if (!(await this.deps.store.putHolders(kept, holders.revision))) {
        this.report.deferred++;
        return;
      }
      this.report.releasedHolders += dead.length;
      await this.auditKept(dead, live, holders.preExisting);
      return;
    }
    const claim = await this.claim(holders, dead);
    if (!claim) return;
    this.report.releasedHolders += dead.length;
    this.report.orphansFound++;
    const where = describeKey(holders);
    for (const requestId of dead.length ? dead : [assignmentAuditId(holders)])
      await this.audit(requestId, 'reconciler.orphan-found', 'failure', {
        ...keyDetails(holders),
        finding: dead.length ? 'grant-outlived-its-request' : 'unheld-assignment',
      });
    await this.alert(
      `Found ${where} still assigned with no live request behind it (${dead.join(', ') || 'no holder'}); deleting it.`,
    );
    await this.deleteClaimed(claim, dead);
  }

  /** A record left DELETING: confirm a finished deletion, or delete again after a failed or lost one. */
  private async repairDeleting(holders: HoldersRecord): Promise<void> {
    const owner =
      holders.deletingBy && holders.deletingBy !== RECONCILER_CLAIM ? holders.deletingBy : undefined;
    const owners = [...(owner ? [owner] : []), ...(holders.deletingFor ?? [])];
    if (holders.deletionRequestId) {
      const deletionId = holders.deletionRequestId;
      const status = await this.retrying(() => this.deps.assignments.deletionStatus(deletionId));
      if (status.status === 'IN_PROGRESS') {
        this.report.deferred++;
        return;
      }
      if (status.status === 'SUCCEEDED' || isAlreadyGone(status)) {
        if (await this.markAbsent(holders)) {
          this.report.repairedRecords++;
          const ids = owners.length ? owners : [assignmentAuditId(holders)];
          for (const id of ids)
            await this.audit(id, 'revoke.succeeded', 'success', {
              operationId: holders.deletionRequestId,
              note: 'deletion confirmed by the reconciler',
            });
          // Its deleter stopped before its EndSessions (or the reconciler deleted it): ended here.
          await this.endSessions(holders, ids);
        }
        return;
      }
      // FAILED: nobody retries a failed deletion but the reconciler.
      const claim = await this.claim(holders, owners);
      if (!claim) return;
      this.report.repairedRecords++;
      await this.alert(
        `The deletion of ${describeKey(holders)} failed (${status.failureReason}); deleting it again.`,
      );
      await this.deleteClaimed(claim, owners);
      return;
    }
    // No deletion recorded: the deleter stopped between its claim and its call (or was refused).
    const lease = owner ? this.options.settleSeconds : this.options.claimLeaseSeconds;
    if (!this.olderThan(holders.updatedAt, lease)) {
      this.report.deferred++;
      return;
    }
    const claim = await this.claim(holders, owners);
    if (!claim) return;
    this.report.repairedRecords++;
    await this.deleteClaimed(claim, owners);
  }

  /**
   * Creations this product issued whose outcome no step saw (a grant stopped, crashed or
   * released mid-creation). Once none can still be in progress: if one landed and nobody holds the
   * assignment, it is this product's own leftover — standing access nobody approved any more — so
   * it is deleted (an administrator's assignment never carries our fence, so it is never touched
   * here). Otherwise the fences are closed and the record is reviewed as usual on the next pass.
   */
  private async resolveCreations(holders: HoldersRecord): Promise<void> {
    const open = holders.creationsInFlight ?? [];
    const fates = await Promise.all(open.map((creation) => this.creationFate(creation)));
    if (fates.includes('in-progress')) {
      this.report.deferred++;
      return;
    }
    const landed = open.filter((_, i) => fates[i] === 'landed');
    const unheld = holders.holders.length === 0 && !holders.preExisting;
    if (landed.length > 0 && unheld && (await this.isAssigned(holders)) === true) {
      const owners = [...new Set(landed.map((c) => c.requestId))];
      // Every fence is settled: the deletion accounts for all of them.
      const claim = await this.claim({ ...holders, creationsInFlight: [] }, owners);
      if (!claim) return;
      this.report.orphansFound++;
      for (const requestId of owners)
        await this.audit(requestId, 'reconciler.orphan-found', 'failure', {
          ...keyDetails(holders),
          finding: 'late-creation',
          operationIds: landed.map((c) => c.operationId ?? 'unknown').join(','),
        });
      await this.alert(
        `${describeKey(holders)} was created by this product after its request had let go of it (${owners.join(', ')}); deleting it.`,
      );
      await this.deleteClaimed(claim, owners);
      return;
    }
    const closed = bumped({ ...holders, creationsInFlight: [] }, this.now.toISOString());
    if (!(await this.deps.store.putHolders(closed, holders.revision))) this.report.deferred++;
  }

  /** Can this creation still land? Asked by its operation id; without one, after the settle period it may have. */
  private async creationFate(creation: CreationInFlight): Promise<'in-progress' | 'landed' | 'failed'> {
    const settled = this.olderThan(creation.issuedAt, this.options.settleSeconds);
    if (creation.operationId) {
      const operationId = creation.operationId;
      try {
        const status = await this.retrying(() => this.deps.assignments.creationStatus(operationId));
        if (status.status === 'IN_PROGRESS') return 'in-progress';
        return status.status === 'SUCCEEDED' ? 'landed' : 'failed';
      } catch (error) {
        // Status not readable (throttled, or too old to be kept): judge by time, as without an id.
        this.fail(`reading creation ${operationId}`, error);
      }
    }
    return settled ? 'landed' : 'in-progress';
  }

  /** ABSENT but assigned again: not ours any more. Alert once; then delete or treat as pre-existing. */
  private async checkUntracked(holders: HoldersRecord): Promise<void> {
    if (holders.holders.length > 0 || !this.olderThan(holders.updatedAt, this.options.settleSeconds)) return;
    const assigned = await this.isAssigned(holders);
    if (assigned !== true) return;
    const revoke = this.deps.policy.reconciler.revokeUntracked;
    const auditId = assignmentAuditId(holders);
    if (revoke) {
      const claim = await this.claim(holders, []);
      if (!claim) return;
      this.report.untrackedFound++;
      await this.audit(auditId, 'reconciler.orphan-found', 'failure', {
        ...keyDetails(holders),
        finding: 'assigned-outside-the-product',
        action: 'delete',
      });
      await this.alert(
        `${describeKey(holders)} was assigned again after this product removed it; policy says revoke: deleting it.`,
      );
      await this.deleteClaimed(claim, []);
      return;
    }
    const adopted = bumped<HoldersRecord>(
      { ...holders, state: 'PRESENT', preExisting: true },
      this.now.toISOString(),
    );
    if (!(await this.deps.store.putHolders(adopted, holders.revision))) {
      this.report.deferred++;
      return;
    }
    this.report.untrackedFound++;
    await this.audit(auditId, 'reconciler.orphan-found', 'failure', {
      ...keyDetails(holders),
      finding: 'assigned-outside-the-product',
      action: 'kept as pre-existing',
    });
    await this.alert(
      `${describeKey(holders)} was assigned again after this product removed it; keeping it as a pre-existing assignment (policy reconciler.revokeUntracked is false).`,
    );
  }

  /** Moves the record to DELETING by the reconciler; only the pass whose write wins deletes. */
  private async claim(holders: HoldersRecord, forRequests: string[]): Promise<HoldersRecord | undefined> {
    const claim = bumped(deletionClaimed(holders, RECONCILER_CLAIM, forRequests), this.now.toISOString());
    if (await this.deps.store.putHolders(claim, holders.revision)) return claim;
    this.report.deferred++;
    return undefined;
  }

  private async deleteClaimed(claim: HoldersRecord, forRequests: string[]): Promise<void> {
    const { assignments, store } = this.deps;
    const auditIds = forRequests.length ? forRequests : [assignmentAuditId(claim)];
    let operation: AssignmentOperationStatus;
    try {
      operation = await this.retrying(() => assignments.delete(claim));
    } catch (error) {
      if (error instanceof AccessError && error.code === 'assignment-not-found') {
        if (await this.markAbsent(claim)) this.report.deletionsConfirmed++;
        for (const id of auditIds)
          await this.audit(id, 'reconciler.revoked', 'success', {
            ...keyDetails(claim),
            note: 'already absent',
          });
        return;
      }
      // Throttled, or a creation still in progress: the claim stays; a later pass retries after the lease.
      this.fail(`deleting ${assignmentKeyText(claim)}`, error);
      this.report.deferred++;
      for (const id of auditIds)
        await this.audit(id, 'revoke.failed', 'failure', {
          ...keyDetails(claim),
          failureReason: errorMessage(error),
          note: 'a later pass retries',
        });
      return;
    }
    this.report.deletionsRequested++;
    const recorded = bumped(
      deletionAsked(claim, RECONCILER_CLAIM, operation.requestId) ?? claim,
      this.now.toISOString(),
    );
    const current = (await store.putHolders(recorded, claim.revision)) ? recorded : claim;
    for (const id of auditIds)
      await this.audit(id, 'reconciler.revoked', 'success', {
        ...keyDetails(claim),
        operationId: operation.requestId,
      });
    let status = operation;
    for (let poll = 0; status.status === 'IN_PROGRESS' && poll < this.options.deletionPolls; poll++) {
      await this.wait(this.options.pollIntervalMs);
      status = await this.retrying(() => assignments.deletionStatus(operation.requestId));
    }
    if (status.status === 'SUCCEEDED' || isAlreadyGone(status)) {
      if (await this.markAbsent(current)) {
        this.report.deletionsConfirmed++;
        await this.endSessions(claim, auditIds);
      }
    } else if (status.status === 'FAILED') {
      for (const id of auditIds)
        await this.audit(id, 'revoke.failed', 'failure', {
          operationId: operation.requestId,
          failureReason: status.failureReason,
        });
      await this.alert(
        `Deleting ${describeKey(claim)} failed: ${status.failureReason}. The next pass tries again.`,
      );
    } else {
      this.report.deferred++; // the next pass confirms it
    }
  }

  /**
   * After a deletion this pass confirmed, the sessions issued before it end too (the deny
   * statement, provisioned to the account), recorded under the first request it was deleted for.
   * Polled like the deletion; a provisioning still in progress after the polls carries on in
   * Identity Center (`sessions.end-requested` is in the trail). Never undoes the revoke: a failure
   * is audited and alerted by SessionEnding and counted here as an error.
   */
  private async endSessions(key: AssignmentKey, auditIds: string[]): Promise<void> {
    const ending = this.deps.sessionEnding;
    const requestId = auditIds[0];
    if (!ending || !requestId) return;
    const step = {
      requestId,
      accountId: key.accountId,
      permissionSetArn: key.permissionSetArn,
      principalId: key.principalId,
      revokedAt: this.now.toISOString(),
    };
    await this.bestEffort(`ending the sessions of ${assignmentKeyText(key)}`, async () => {
      let result = await ending.start(step);
      for (let poll = 0; result.status === 'IN_PROGRESS' && poll < this.options.deletionPolls; poll++) {
        await this.wait(this.options.pollIntervalMs);
        result = await ending.check({ ...step, operationId: result.operationId, attempt: result.attempt });
      }
      if (result.status === 'SUCCEEDED') this.report.sessionsEnded = (this.report.sessionsEnded ?? 0) + 1;
      else if (result.status === 'FAILED')
        this.fail(`ending the sessions of ${assignmentKeyText(key)}`, result.failureReason);
      else if (result.status === 'IN_PROGRESS') this.report.deferred++;
    });
  }

  /** DELETING → ABSENT, if the record is still in the deletion we know of. */
  private async markAbsent(known: HoldersRecord): Promise<boolean> {
    const options = { attempts: MARK_ABSENT_ATTEMPTS, now: () => this.now.toISOString() };
    const by = known.deletingBy;
    const outcome = await changeHolders(this.deps.store, known, options, (current) =>
      by === undefined ? undefined : deleted(current, by, known.deletionRequestId),
    );
    // Lost to every concurrent write: a later pass confirms it.
    return outcome === 'written';
  }

  /** Is the assignment in Identity Center? One listing per account × permission set and pass. */
  private async isAssigned(key: AssignmentKey): Promise<boolean | undefined> {
    const pair = `${key.accountId}|${key.permissionSetArn}`;
    let listing = this.listings.get(pair);
    if (!listing) {
      listing = this.deps.assignments
        .listUserPrincipals(key.accountId, key.permissionSetArn)
        .then((principals) => new Set(principals))
        .catch((error: unknown) => {
          this.fail(`listing assignments of ${pair}`, error);
          return undefined;
        });
      this.listings.set(pair, listing);
    }
    return (await listing)?.has(key.principalId);
  }

  // ---- helpers -------------------------------------------------------------------------------

  /** Identity Center throttles at about 20 calls/s: a pass retries transient refusals itself. */
  private async retrying<T>(call: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await call();
      } catch (error) {
        if (!(error instanceof RetryableError) || attempt >= this.options.transientAttempts) throw error;
        await this.wait(this.options.pollIntervalMs * 2 ** (attempt - 1));
      }
    }
  }

  /**
   * When an active window ends: min(record.expiresAt, cap), the cap being the window's start plus
   * the longest total the policy allows it (core/window.ts), so a forged or stale expiresAt in the
   * store does not keep access alive.
   */
  private async windowEnd(record: RequestRecord): Promise<{ at: string; capped: boolean } | undefined> {
    if (record.status !== 'ACTIVE' || !record.expiresAt) return undefined;
    const nowMs = this.now.getTime();
    // The start as the window recorded it; for a record of an earlier version, the start its
    // grant.succeeded event gives (an append-only trail the request record cannot rewrite:
    // the window's planned end minus the request's own duration, or else the event's time).
    // updatedAt is no start at all (every write moves it). Without either, windowStartMs takes
    // the earliest the window can have opened, which never allows more than the policy does.
    const startedAt = record.windowStartedAt ?? (await this.grantStart(record));
    // With the directory unable to answer, the cap is what was approved (core/window.ts): an
    // outage must never keep the reconciler from ending an expired window, nor widen one.
    const requesterKnown = await (this.deps.directory ?? NOTHING_TO_REFRESH)
      .forPeople([record.request.requester.email])
      .then(
        () => true,
        () => false,
      );
    const limit = windowLimit(
      this.deps.policy,
      record,
      windowStartMs(record, [startedAt], nowMs),
      undefined,
      requesterKnown,
    );
    const recorded = Date.parse(record.expiresAt);
    if (!(limit.expiresAtMs < recorded)) return { at: record.expiresAt, capped: false };
    return { at: limit.expiresAt, capped: true };
  }

  private async grantStart(record: RequestRecord): Promise<string | undefined> {
    const events = await this.deps.audit.list(record.request.requestId);
    const granted = events.filter((e) => e.action === 'grant.succeeded').at(-1);
    if (!granted) return undefined;
    const { startedAt, expiresAt } = granted.details;
    if (typeof startedAt === 'string') return startedAt;
    const planned = typeof expiresAt === 'string' ? Date.parse(expiresAt) : Number.NaN;
    if (Number.isFinite(planned))
      return new Date(planned - record.request.durationMinutes * 60_000).toISOString();
    return granted.at;
  }

  private pastGrace(windowEnd: { at: string } | undefined): boolean {
    if (!windowEnd) return false;
    return this.now.getTime() > Date.parse(windowEnd.at) + this.options.graceSeconds * 1000;
  }

  /** The access of `dead` requests was let go, the assignment or membership kept for others or as it was. */
  private async auditKept(dead: string[], live: string[], preExisting: boolean): Promise<void> {
    const keptBecause = preExisting ? 'pre-existing' : 'shared';
    for (const requestId of dead)
      await this.audit(requestId, 'revoke.kept', 'success', {
        keptBecause,
        stillNeededBy: live.join(','),
        releasedBy: 'reconciler',
      });
  }

  private olderThan(iso: string | undefined, seconds: number): boolean {
    const at = iso ? Date.parse(iso) : Number.NaN;
    return Number.isNaN(at) || this.now.getTime() - at >= seconds * 1000;
  }

  private audit(
    requestId: string,
    action: AuditEvent['action'],
    outcome: AuditEvent['outcome'],
    details: AuditEvent['details'],
  ): Promise<AuditEvent> {
    return this.deps.audit.record(requestId, action, RECONCILER_ACTOR, outcome, details);
  }

  private alert(text: string, record?: RequestRecord): Promise<void> {
    return this.bestEffort('alert', () => this.deps.notifier.alert(text, record));
  }

  /** Slack being down, or one record failing, must not stop a pass that is removing access. */
  private bestEffort(what: string, action: () => Promise<void>): Promise<void> {
    return bestEffort(what, action, (failed, error) => this.fail(failed, error));
  }

  private fail(what: string, error: unknown): void {
    this.report.errors.push(`${what}: ${errorMessage(error)}`);
  }
}

/** The audit trail id of findings that belong to a group membership rather than to one request. */
export function membershipAuditId(key: MembershipKey): string {
  return `membership:${membershipKeyText(key)}`;
}

function membershipDetails(key: MembershipKey): AuditEvent['details'] {
  return { groupId: key.groupId, principalId: key.principalId };
}

function describeMembership(key: MembershipKey): string {
  return `membership of ${key.principalId} in group ${key.groupId}`;
}

function keyOf(record: RequestRecord, principalId: string): AssignmentKey {
  return {
    accountId: record.request.accountId ?? '',
    permissionSetArn: record.request.permissionSetArn ?? '',
    principalId,
  };
}

function keyDetails(key: AssignmentKey): AuditEvent['details'] {
  return { accountId: key.accountId, permissionSetArn: key.permissionSetArn, principalId: key.principalId };
}

function describeKey(key: AssignmentKey): string {
  return `${key.permissionSetArn.split('/').pop()} on ${key.accountId} for ${key.principalId}`;
}

function isAlreadyGone(status: AssignmentOperationStatus): boolean {
  return status.status === 'FAILED' && /does not exist|not found|no assignment/i.test(status.failureReason);
}
