import * as z from 'zod/mini';
import type { ChannelPacing } from './admission';
import { type AuditTrail, ENDED_EARLY, type Occurrence } from './audit';
import { bestEffort, type OnFailed } from './best-effort';
import { activation, REASON_HISTORY, reusedReason } from './break-glass';
import { type DirectoryRefresh, NOTHING_TO_REFRESH } from './directory';
import {
  AccessError,
  DecidedBeforeAskedError,
  EndedBeforeOpenedError,
  errorMessage,
  NotYetStartedError,
  RequestCancelledError,
  RetryableError,
} from './errors';
import { type AccessHooks, GroupAccess, membershipKeyOf } from './group-access';
import { DEFAULT_USER_MAPPING, noUserError } from './identity-mapping';
import { EDITS, GRANTING_PHASE, movesInto } from './lifecycle';
import {
  type AccessRequest,
  type AssignmentKey,
  accessRequestSchema,
  executionInputSchema,
  type HoldersRecord,
  type RequestRecord,
  type RequestStatus,
} from './model';
import {
  CONFLICT,
  type Conflict,
  changeBreakGlass,
  changeHolders,
  keepApprovalCopy,
  retryOnConflict,
} from './optimistic';
import {
  approvalChannelFor,
  approversFor,
  evaluateRequest,
  evaluationTarget,
  expandPrincipals,
  findRule,
  normalizeEmail,
  type Policy,
} from './policy';
import type {
  AssignmentDirectory,
  AssignmentOperationStatus,
  Clock,
  GroupMemberships,
  Notifier,
  RequesterNotice,
  RequestStore,
  UserDirectory,
} from './ports';
import { asksThroughLead, setLeadOf, setProblem, withSetMessages } from './request-set';
import { checkStart, pendingStart, startTimestamp } from './scheduled-start';
import { checkTicket } from './ticket';
import { windowLimit, windowSeconds, windowStartMs } from './window';

// The rules of one request's lifecycle, one method per state machine task. Every method is
// idempotent (Step Functions retries, Lambda redelivers): run again with the same input, it leaves
// the same records and the same audit trail as one run (test/reliability/idempotency.properties.test.ts).
//  - Writes are conditional, and a write that would change nothing is not made.
//  - What a retry must repeat exactly is stored by the first run (the window's start).
//  - Events carry deterministic ids (core/audit.ts): a step writes the events its stored state
//    implies, and a retry's copies are the first run's. Events tied to a conditional write are
//    written by the run that won it.

export interface StepDependencies {
  policy: Policy;
  store: RequestStore;
  audit: AuditTrail;
  assignments: AssignmentDirectory;
  users: UserDirectory;
  notifier: Notifier;
  clock: Clock;
  /** Where a notification that could not be sent is reported (the function's log). */
  onNotifyFailed?: OnFailed;
  /** Approval posts paced per channel (Validate takes the number); none: posted at once. */
  channelPacing?: ChannelPacing;
  /** Brings the policy's directory groups up to date before a step asks about people (core/directory.ts). */
  directory?: DirectoryRefresh;
  /** Identity Center group memberships, for group requests (Grant and Revoke: core/group-access.ts). */
  memberships?: GroupMemberships;
}

const SYSTEM = 'system:workflow';
/** Bounded optimistic-lock loop on the holders record before handing the retry to Step Functions. */
const HOLDERS_WRITE_ATTEMPTS = 5;
/**
 * A creation or deletion this request asked for, with no operation id recorded and no error back,
 * may still be in flight for this long (a worker's timeout): another run of the step waits
 * (RetryableError) instead of asking Identity Center a second time.
 */
const CALL_IN_FLIGHT_MS = 30_000;

/** The events of one step run, by occurrence (core/audit.ts). */
const VALIDATE: Occurrence = { step: 'validate' };
const GRANT: Occurrence = { step: 'grant' };
const REVOKE: Occurrence = { step: 'revoke' };
const WINDOW_OPENED: Occurrence = { step: 'access-window' };
type Granted = NonNullable<RequestRecord['granted']>;
/** Access through a creation of this request's. */
const CREATED: Granted = { alreadyAssigned: false, preExisting: false };
const windowEnd = (key: string): Occurrence => ({ step: 'access-window', key });

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

const assignmentStepSchema = z.object({
  version: z.optional(z.int()),
  requestId: z.string().check(z.minLength(1)),
  // null for a group request (its group is the stored request's: core/group-access.ts).
  accountId: z.nullable(z.string().check(z.regex(/^\d{12}$/))),
  permissionSetArn: z.nullable(z.string().check(z.minLength(1))),
  principalId: z.string().check(z.minLength(1)),
});
export type AssignmentStepInput = z.infer<typeof assignmentStepSchema>;

const checkStepSchema = z.extend(assignmentStepSchema, {
  operationId: z.string().check(z.minLength(1)),
  // Older executions may carry no attempt (or null): start counting again rather than fail the poll.
  attempt: z.catch(z.int().check(z.nonnegative()), 0),
});
export type CheckStepInput = z.input<typeof checkStepSchema>;

const revokeStepSchema = z.extend(assignmentStepSchema, {
  // Older executions may lack a reason: the revoke path must still run.
  reason: z.catch(z.enum(['expired', 'ended-early', 'failure']), 'failure'),
});
export type RevokeStepInput = z.input<typeof revokeStepSchema>;

export interface WindowPlan {
  /** When access went live: every later window of the request is capped from it. */
  startedAt: string;
  expiresAt: string;
  seconds: number;
}

const isoTime = z.iso.datetime();
/** How long an extend callback may take from the Slack click's SendTaskSuccess to the ExtendWindow state. */
const CALLBACK_TRANSIT_MS = 60_000;

const openWindowSchema = z.object({
  taskToken: z.string().check(z.minLength(1)),
  requestId: z.string().check(z.minLength(1)),
  expiresAt: isoTime,
  // The state's `$.grant.window` (absent from executions of earlier definitions).
  window: z.optional(z.catch(z.object({ startedAt: z.optional(isoTime) }), {})),
});

/** The callback's answer to an extension, as far as it is compared with the plan (untrusted). */
const extendCallbackSchema = z.object({
  expiresAt: z.catch(z.optional(isoTime), undefined),
  // zod numbers are finite: Infinity and NaN are refused.
  seconds: z.catch(z.optional(z.number()), undefined),
});

const planExtensionSchema = z.object({
  plan: z.literal('extend'),
  requestId: z.string().check(z.minLength(1)),
  /** The execution input's own duration ($.request.durationMinutes). */
  durationMinutes: z.int().check(z.positive()),
  /** `$.grant.window` as the previous window was planned. */
  window: z.catch(z.object({ startedAt: z.catch(z.optional(isoTime), undefined) }), {}),
  /** `$.windowResult`: what the AccessWindow callback was completed with. */
  callback: z.unknown(),
  /** When the callback arrived (`$$.State.EnteredTime` of ExtendWindow). */
  callbackAt: z.catch(z.optional(isoTime), undefined),
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

function parseInput<T>(schema: z.ZodMiniType<T>, input: unknown, step: string): T {
  const result = schema.safeParse(input);
  if (!result.success) {
    throw new AccessError(
      'invalid-step-input',
      `${step}: invalid input: ${result.error.issues[0]?.message ?? 'unknown'}`,
    );
  }
  return result.data;
}

/** What RequestApproval fails its task with when the request was decided before it was posted. */
const DECIDED_BEFORE_ASKED: Partial<Record<RequestStatus, (requestId: string) => Error>> = {
  CANCELLED: (id) => new RequestCancelledError(id),
  DENIED: (id) => new DecidedBeforeAskedError(id, 'denied'),
  APPROVED: (id) => new DecidedBeforeAskedError(id, 'approved'),
};

/** The requester notices a set's first member gives for every member: its decision. */
const SET_NOTICES: ReadonlySet<string> = new Set(['denied', 'approval-expired']);

export class LifecycleSteps {
  private readonly deps: StepDependencies;

  constructor(deps: StepDependencies) {
    this.deps = { ...deps, notifier: withSetMessages(deps.notifier, deps.store) };
  }

  private now(): Date {
    return this.deps.clock.now();
  }

  private get directory(): DirectoryRefresh {
    return this.deps.directory ?? NOTHING_TO_REFRESH;
  }

  /**
   * The requester's groups brought up to date for a live window's cap; false when the directory
   * cannot answer (the cache logged why). Access is already granted: a directory outage must not
   * end it, so the window then keeps what was approved (core/window.ts `windowLimit`).
   */
  private requesterKnown(record: RequestRecord): Promise<boolean> {
    return this.directory.forPeople([record.request.requester.email]).then(
      () => true,
      () => false,
    );
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

  /** RequestApproval (callback): keeps the task token server-side and asks the approvers. */
  async requestApproval(input: unknown): Promise<void> {
    const { taskToken, requestId } = parseInput(
      z.object({ taskToken: z.string().check(z.minLength(1)), requestId: z.string().check(z.minLength(1)) }),
      input,
      'RequestApproval',
    );
    const { store, policy, notifier, audit } = this.deps;
    await this.requireRequest(requestId); // only a stored request gets a token
    // The token is stored before anyone is asked, so the first click always finds it.
    await store.putTaskToken(requestId, 'approval', taskToken);
    // Read after the token is stored: a cancellation (from the Home tab, while the post waited
    // for its channel slot) stores its status before it takes the token, so either it found this
    // token and failed the task, or this read sees it; then nobody is asked and this task fails
    // as the click would have failed it.
    const record = await this.requireRequest(requestId);
    if (record.approvalMessage) return; // a retry: the approvers were already asked
    // Decided (from the Home tab) before anyone was asked: whoever takes the token completes the
    // task. Taken here, the task fails with the decision's name (the state machine routes it as a
    // click's signal); taken by the decision, its signal completes the task and this run ends.
    const decided = DECIDED_BEFORE_ASKED[record.status];
    if (decided) {
      if (await store.takeTaskToken(requestId, 'approval')) throw decided(requestId);
      return;
    }
    const rule = record.ruleName ? findRule(policy, record.ruleName) : undefined;
    if (!rule)
      throw new AccessError(
        'rule-gone',
        `Rule ${record.ruleName} of request ${requestId} is no longer in the policy`,
      );
    await this.directory.all();
    const approvers = approversFor(policy, rule, record.request.requester.email);
    const lead = setLeadOf(record.request);
    await audit.record(
      requestId,
      'approval.requested',
      SYSTEM,
      'info',
      {
        approvers: approvers.join(','),
        required: record.approvalsRequired ?? 1,
        ...(record.request.set ? { set: lead, accounts: record.request.set.members.length } : {}),
      },
      { step: 'request-approval' },
    );
    // One of a set: its token is kept for the set's decision, and the lead's message asks for
    // all (shown with this account from now on, if it was posted before this member was stored).
    if (asksThroughLead(record.request)) {
      await this.bestEffort('set message', () => notifier.updateRequestMessages(record));
      return;
    }
    // The first message kept wins: a concurrent run (which asked too) does not replace it.
    await this.askApprovers(record, () =>
      notifier.requestApproval(
        record,
        approvers,
        async (message) => {
          const kept = await store.updateRequest(
            requestId,
            EDITS.approvalMessage,
            { approvalMessage: message },
            (current) => !current.approvalMessage,
          );
          // Refused when it was decided meanwhile (cancelled by its requester since the read
          // above): the notifier then shows this message as decided at once, and DMs nobody.
          return kept.ok ? kept.value : kept.current;
        },
        // Each approver's DM, so every later re-render reaches it too.
        (copy) => keepApprovalCopy(store, requestId, copy),
      ),
    );
  }

  /**
   * Posts the approval request; an approval channel that cannot take it (the app not invited,
   * the channel archived or gone) is audited and alerted before the step fails with Slack's
   * reason named, so the requester is told why (Finish: rejected) and an admin sees it at first
   * use, not when someone wonders why nobody approves.
   */
  private async askApprovers(record: RequestRecord, ask: () => Promise<void>): Promise<void> {
    try {
      await ask();
    } catch (error) {
      if (!(error instanceof AccessError) || error.code !== 'approval-channel-unusable') throw error;
      const requestId = record.request.requestId;
      await this.deps.audit.record(
        requestId,
        'approval.channel-unusable',
        SYSTEM,
        'failure',
        { failureReason: error.message },
        { step: 'request-approval' },
      );
      await this.bestEffort('channel alert', () => this.deps.notifier.alert(error.message, record));
      throw error;
    }
  }

  /** Grant: creates the assignment unless the user already holds it; registers this request as a holder. */
  async grant(input: unknown): Promise<GrantResult> {
    const step = parseInput(assignmentStepSchema, input, 'Grant');
    const { assignments, store } = this.deps;
    const key = keyOf(step);
    // Only an approved request, for exactly the assignment it asked for (a forged or stale
    // payload must not create anything).
    const request = await this.requireRequest(step.requestId);
    assertSameAssignment(request, step);
    // A retry after this step's own check found the creation FAILED: answer as that run did.
    if (request.status === 'GRANT_FAILED' && !request.closedAt)
      return this.grantFailed(step.requestId, request.failureReason ?? 'The assignment creation failed');
    // Withdrawn by its requester while it waited for its start: nothing was created for it.
    if (request.status === 'CANCELLED') throw new RequestCancelledError(step.requestId);
    if (request.status === 'APPROVED') {
      const start = pendingStart(request.request, this.now().getTime());
      if (start) throw new NotYetStartedError(step.requestId, start);
    }
    if (request.status !== 'APPROVED' && request.status !== 'GRANTING')
      throw new AccessError(
        'not-approved',
        `Grant: request ${step.requestId} is ${request.status}, not approved`,
      );
    const membership = membershipKeyOf(request, step.principalId);
    if (membership) return this.groupAccess().grant(step.requestId, membership, this.accessHooks(step));
    return this.holdersLoop(key, async () => {
      const holders = await store.getHolders(key);
      if (holders?.holders.includes(step.requestId)) {
        // A retry of this step: carry on from what the first run did.
        if (holders.state === 'PRESENT')
          return this.opened(step, undefined, { alreadyAssigned: true, preExisting: holders.preExisting });
        const mine = (holders.creationsInFlight ?? []).filter((c) => c.requestId === step.requestId);
        const asked = mine.findLast((c) => c.operationId)?.operationId;
        if (asked) {
          // Identity Center took the creation: follow it, never ask for a second one.
          await this.grantRequested(step.requestId, key, asked);
          return this.inProgress(await assignments.creationStatus(asked), step);
        }
        const calling = mine.findLast((c) => !c.callFailedAt);
        if (calling && this.within(calling.issuedAt, CALL_IN_FLIGHT_MS))
          throw new RetryableError(
            `A creation of ${describeKey(key)} for ${step.requestId} is being asked for`,
          );
        // The earlier call came back with an error, or its Lambda died: asking again is a new
        // operation, fenced like the first one.
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
        return this.requestCreation(key, step);
      }
      if (holders?.state === 'DELETING' || holders?.state === 'CREATING') {
        throw new RetryableError(
          `Assignment ${describeKey(key)} is ${holders.state.toLowerCase()} for another request`,
        );
      }
      if (holders && holders.state === 'PRESENT' && holders.holders.length > 0) {
        const joined: Granted = {
          alreadyAssigned: true,
          preExisting: holders.preExisting,
          existing: { sharedWith: holders.holders.join(','), preExisting: holders.preExisting },
        };
        await this.intendGrant(step.requestId, joined);
        if (
          await store.putHolders(
            this.withHolders(holders, [...holders.holders, step.requestId]),
            holders.revision,
          )
        )
          return this.opened(step, joined, joined);
        return CONFLICT;
      }
      // Nobody of ours holds it: ask Identity Center whether the user already has it.
      const principals = await assignments.listUserPrincipals(key.accountId, key.permissionSetArn);
      const alreadyAssigned = principals.includes(key.principalId);
      // Assigned while a creation of ours is still unaccounted for: that is our own creation
      // landing late (after its request let go), not access someone else gave: hold it, and
      // this request's revoke deletes it.
      const inFlight = holders?.creationsInFlight ?? [];
      const lateCreation = alreadyAssigned && inFlight.length > 0;
      const found: Granted = {
        alreadyAssigned: true,
        preExisting: !lateCreation,
        existing: {
          preExisting: !lateCreation,
          ...(lateCreation ? { lateCreationOf: inFlight.map((c) => c.requestId).join(',') } : {}),
        },
      };
      if (alreadyAssigned) await this.intendGrant(step.requestId, found);
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
      if (!(await store.putHolders(next, holders?.revision))) return CONFLICT;
      if (alreadyAssigned) return this.opened(step, found, found);
      const moved = await store.updateRequest(step.requestId, movesInto('GRANTING', { orAlready: true }), {
        status: 'GRANTING',
      });
      // Withdrawn by its requester since the read above (a scheduled start's Cancel, which races
      // this very write): nothing is asked of Identity Center, and this request's fence is let go.
      if (!moved.ok && moved.current?.status === 'CANCELLED') return this.withdrawn(key, step.requestId);
      return this.requestCreation(key, step);
    });
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
      return this.opened(step, CREATED, CREATED);
    }
    await this.updateHolders(key, (h) => {
      const remaining = h.holders.filter((id) => id !== step.requestId);
      const open = settled(h, step.requestId, step.operationId);
      // Released by an earlier run of this check: nothing left to write.
      if (remaining.length === h.holders.length && open.length === (h.creationsInFlight ?? []).length)
        return undefined;
      // A FAILED creation leaves nothing behind: it is no longer in flight.
      return {
        ...h,
        holders: remaining,
        state: remaining.length ? h.state : 'ABSENT',
        creationsInFlight: open,
      };
    });
    // Only while granting: a request revoked meanwhile keeps its status.
    await this.deps.store.updateRequest(step.requestId, GRANTING_PHASE, {
      status: 'GRANT_FAILED',
      failureReason: status.failureReason,
    });
    return this.grantFailed(step.requestId, status.failureReason);
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
    const opening = before.status !== 'ACTIVE';
    // Ended while it was being granted (End all on a set, decisions.ts `endWhenOpened`): this
    // task fails instead of opening the window, and the state machine revokes as for an End click.
    if (opening && before.endedBy) throw new EndedBeforeOpenedError(requestId, before.endedBy);
    await store.putTaskToken(requestId, 'window', taskToken);
    const now = this.now().getTime();
    // The first opening without a start from the workflow (an earlier definition) starts now.
    // With no start known at all (a window opened by an earlier version), windowStartMs falls
    // back to the earliest the window can have opened, and that guess is not stored.
    const known = [
      step.window?.startedAt,
      before.windowStartedAt,
      opening ? new Date(now).toISOString() : undefined,
    ];
    const startedAtMs = windowStartMs(before, known, now);
    const requesterKnown = await this.requesterKnown(before);
    const limit = windowLimit(policy, before, startedAtMs, undefined, requesterKnown);
    const askedMs = Date.parse(step.expiresAt);
    const refused = askedMs > limit.expiresAtMs;
    const expiresAt = refused ? limit.expiresAt : new Date(askedMs).toISOString();
    if (refused)
      await audit.record(
        requestId,
        'window.extend-refused',
        SYSTEM,
        'failure',
        {
          askedExpiresAt: step.expiresAt,
          allowedExpiresAt: limit.expiresAt,
          allowedMinutes: limit.allowedMinutes,
          reason: 'the window asked for ends after the longest the policy allows',
        },
        windowEnd(`${step.expiresAt}|${limit.expiresAt}`),
      );
    const extended = !opening && before.expiresAt !== undefined && before.expiresAt !== expiresAt;
    if (!opening && before.expiresAt === expiresAt) {
      // A retry, or a refused window: nothing changes. The first window (its start plus the
      // request's duration, nothing extended): its event again is the first run's copy (or the one it lost).
      const first =
        !before.extendedMinutes &&
        !before.extensions?.length &&
        before.windowStartedAt !== undefined &&
        Date.parse(before.windowStartedAt) + before.request.durationMinutes * 60_000 ===
          Date.parse(expiresAt);
      // Otherwise an extension recorded this end: its event again (named by the end) is that copy.
      await this.recordWindow(requestId, expiresAt, !first);
      // A run that died after opening the window, before its "Access ready" DM was kept: this one
      // announces it (a run that finds the DM kept posts nothing again).
      if (first && !before.requesterDm) {
        await this.bestEffort('request messages', () => notifier.updateRequestMessages(before));
        await this.bestEffort('requester DM', () => this.announceReady(before));
      }
      // A run that died before the break-glass alert: this one posts it.
      await this.alertBreakGlass(before);
      return;
    }
    // Opening: from before ACTIVE only, so of two runs at once one opens (and announces) it.
    // Extending: only the window this run read, so a concurrent run's change is not made twice.
    const updated = await store.updateRequest(
      requestId,
      opening ? movesInto('ACTIVE') : EDITS.window,
      {
        status: 'ACTIVE',
        expiresAt,
        ...(known.some(Boolean) ? { windowStartedAt: new Date(startedAtMs).toISOString() } : {}),
      },
      // An End asked for meanwhile (endedBy) wins over opening: of the two writes, one lands.
      (current) => (opening ? !current.endedBy : current.expiresAt === before.expiresAt),
    );
    const ended = updated.ok ? undefined : updated.current;
    if (opening && ended?.endedBy && GRANTING_PHASE.includes(ended.status))
      throw new EndedBeforeOpenedError(requestId, ended.endedBy);
    // Not ACTIVE-able any more: the window's timeout already fired and Revoke moved the request
    // on (or it failed), or another run of this step made the change. Announcing it now would
    // tell the requester about access that is gone, or twice.
    if (!updated.ok) return;
    const record = updated.value;
    // One event per window end (an extension moves it).
    await this.recordWindow(requestId, expiresAt, extended);
    // Access exists now, whatever Slack says: a failed message must not fail the step (its
    // Catch revokes) — the window and its trail stand, and the person can see it in the Home tab.
    await this.bestEffort('request messages', () => notifier.updateRequestMessages(record));
    if (extended) {
      await this.bestEffort('requester DM', () => notifier.notifyRequester(record, 'extended'));
      // The "Access ready" DM keeps its buttons, and now says until when the window runs.
      if (record.requesterDm)
        await this.bestEffort('access ready DM', () => notifier.updateRequesterDm(record));
    } else await this.bestEffort('requester DM', () => this.announceReady(record));
    await this.alertBreakGlass(record);
  }

  /**
   * The "Access ready" DM (with End/Extend), once: its reference is kept on the record
   * (`requesterDm`) as soon as it is posted, by a conditional write the first DM kept wins, so
   * the end of the access re-renders it without its buttons. A run that finds it kept posts
   * nothing. Access that ended while it was posted (the write then refused: no longer ACTIVE)
   * gets it re-rendered as ended at once, since the end found no DM to re-render.
   */
  private async announceReady(record: RequestRecord): Promise<void> {
    if (record.requesterDm) return;
    const { store, notifier } = this.deps;
    let ended: RequestRecord | undefined;
    await notifier.notifyRequester(record, 'granted', undefined, async (dm) => {
      const kept = await store.updateRequest(
        record.request.requestId,
        EDITS.window,
        { requesterDm: dm },
        (current) => !current.requesterDm,
      );
      const current = kept.ok ? undefined : kept.current;
      if (current && current.status !== 'ACTIVE' && !current.requesterDm)
        ended = { ...current, requesterDm: dm };
    });
    if (ended) await notifier.updateRequesterDm(ended);
  }

  /**
   * A break-glass use that went live: the security channel's alert and the reviewers' DMs, once
   * (the alert's reference is kept as soon as it is posted). Best-effort like every message: the
   * access exists; a use whose alert never went out is posted when it escalates.
   */
  private async alertBreakGlass(record: RequestRecord): Promise<void> {
    const state = record.breakGlass;
    if (!state || state.alertMessage || record.status !== 'ACTIVE') return;
    const { store, notifier, audit, policy } = this.deps;
    await this.bestEffort('break-glass alert', async () => {
      await this.directory.all();
      const rule = record.ruleName ? findRule(policy, record.ruleName) : undefined;
      const reviewers = expandPrincipals(policy, rule?.breakGlass?.reviewers ?? state.reviewers).filter(
        (email) => email !== normalizeEmail(record.request.requester.email),
      );
      await notifier.breakGlassAlert(record, reviewers, async (message) => {
        // The first alert kept wins: a concurrent run's does not replace it.
        await changeBreakGlass(store, record.request.requestId, (current) =>
          current.alertMessage ? undefined : { ...current, alertMessage: message },
        );
        await audit.record(
          record.request.requestId,
          'breakglass.alerted',
          SYSTEM,
          'info',
          { channel: message.channel, reviewers: reviewers.join(',') },
          { step: 'access-window', key: 'breakglass' },
        );
      });
    });
  }

  /** `window.opened` (once per request) or `window.extended` (once per window end). */
  private recordWindow(requestId: string, expiresAt: string, extended: boolean) {
    return extended
      ? this.deps.audit.record(
          requestId,
          'window.extended',
          SYSTEM,
          'success',
          { expiresAt },
          windowEnd(expiresAt),
        )
      : this.deps.audit.record(requestId, 'window.opened', SYSTEM, 'success', { expiresAt }, WINDOW_OPENED);
  }

  private bestEffort(what: string, send: () => Promise<void>): Promise<void> {
    return bestEffort(what, send, this.deps.onNotifyFailed);
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
    const requesterKnown = await this.requesterKnown(record);
    const limit = windowLimit(policy, record, startedAtMs, step.durationMinutes, requesterKnown);
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
    // One refusal per callback: its arrival time (the state's entry, the same on every retry) and
    // what it asked name it.
    if (tooLate || tooLong || unreadable)
      await audit.record(
        step.requestId,
        'window.extend-refused',
        SYSTEM,
        'failure',
        {
          askedExpiresAt: askedExpiresAt ?? null,
          askedSeconds: askedSeconds ?? null,
          allowedExpiresAt: limit.expiresAt,
          allowedMinutes: limit.allowedMinutes,
          reason: unreadable
            ? 'the extend callback names no window'
            : 'the extend callback asks for more than the policy allows',
        },
        {
          step: 'extend-window',
          key: JSON.stringify([
            step.callbackAt ?? null,
            askedExpiresAt ?? null,
            askedSeconds ?? null,
            limit.expiresAt,
          ]),
        },
      );
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
    const revoking = await store.updateRequest(step.requestId, movesInto('REVOKING'), { status: 'REVOKING' });
    const record = revoking.ok ? revoking.value : revoking.current;
    // Why the access ends, once per request (a retry writes the same event), and only while this
    // revoke is the request's (not for a request the reconciler already closed).
    if (!record || record.status === 'REVOKING') {
      if (step.reason === 'expired')
        await audit.record(step.requestId, 'window.expired', SYSTEM, 'info', {}, REVOKE);
      // The End click's own event, should the click have died after ending the window.
      // Ended before its window opened (no expiresAt: AccessWindow never made it ACTIVE) says so.
      if (step.reason === 'ended-early' && record?.endedBy)
        await audit.record(
          step.requestId,
          'window.ended-early',
          record.endedBy,
          'success',
          record.expiresAt ? {} : { beforeOpened: true },
          ENDED_EARLY,
        );
    }
    const membership = request && membershipKeyOf(request, step.principalId);
    if (membership) return this.groupAccess().revoke(step.requestId, membership, this.accessHooks(step));
    return this.holdersLoop(key, async () => {
      const holders = await store.getHolders(key);
      // Nothing this product created is recorded for it: deleting could remove access it never granted.
      if (!holders) return this.notTracked(step.requestId);
      if (holders.state === 'DELETING' && holders.deletingBy === step.requestId) {
        // A retry after the deletion was asked for: follow it, never ask for a second one.
        if (holders.deletionRequestId)
          return this.followDeletion(
            key,
            step.requestId,
            await this.deps.assignments.deletionStatus(holders.deletionRequestId),
          );
        if (!holders.deletionCallFailedAt && this.within(holders.updatedAt, CALL_IN_FLIGHT_MS))
          throw new RetryableError(
            `A deletion of ${describeKey(key)} for ${step.requestId} is being asked for`,
          );
        return this.startDeletion(key, step.requestId);
      }
      if (!holders.holders.includes(step.requestId)) {
        // Already released by an earlier run of this step (or the grant never registered): the
        // same answer, and its event again (the first run's copy, unless the holders changed since).
        if (holders.state === 'ABSENT' || (holders.holders.length === 0 && !holders.preExisting))
          return { status: 'SUCCEEDED' };
        return this.kept(step.requestId, holders.preExisting ? 'pre-existing' : 'shared', holders.holders);
      }
      const remaining = holders.holders.filter((id) => id !== step.requestId);
      if (remaining.length > 0 || holders.preExisting || holders.state === 'ABSENT') {
        if (!(await store.putHolders(this.withHolders(holders, remaining), holders.revision)))
          return CONFLICT;
        if (holders.state === 'ABSENT') return { status: 'SUCCEEDED' };
        return this.kept(step.requestId, holders.preExisting ? 'pre-existing' : 'shared', remaining);
      }
      const deleting: HoldersRecord = {
        ...this.withHolders(holders, []),
        state: 'DELETING',
        deletingBy: step.requestId,
      };
      delete deleting.deletionRequestId;
      delete deleting.deletionCallFailedAt;
      if (!(await store.putHolders(deleting, holders.revision))) return CONFLICT;
      return this.startDeletion(key, step.requestId);
    });
  }

  /** CheckRevoke: polls the deletion; SUCCEEDED marks the assignment absent. */
  async checkRevoke(input: unknown): Promise<RevokeResult> {
    const step = parseInput(checkStepSchema, input, 'CheckRevoke');
    const status = await this.deps.assignments.deletionStatus(step.operationId);
    if (status.status === 'IN_PROGRESS')
      return { status: 'IN_PROGRESS', operationId: step.operationId, attempt: step.attempt + 1 };
    const key = keyOf(step);
    // The deletion's outcome, once per operation: every poll that sees it writes the same event.
    const deletion: Occurrence = { ...REVOKE, key: step.operationId };
    if (status.status === 'SUCCEEDED' || isAlreadyGone(status)) {
      // The event before the record lets go of the claim: a retry that finds the claim polls again
      // and writes it again; one that finds the assignment ABSENT could not.
      await this.deps.audit.record(
        step.requestId,
        'revoke.succeeded',
        SYSTEM,
        'success',
        { operationId: step.operationId },
        deletion,
      );
      await this.markDeleted(key, step.requestId);
      return { status: 'SUCCEEDED' };
    }
    await this.deps.audit.record(
      step.requestId,
      'revoke.failed',
      SYSTEM,
      'failure',
      { failureReason: status.failureReason },
      deletion,
    );
    return { status: 'FAILED', failureReason: status.failureReason };
  }

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

  // ---------------------------------------------------------------------------------------------

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

  /** The first event of every trail: what was asked for, by whom (from the stored request). */
  private async auditOpening(record: RequestRecord): Promise<void> {
    const { request } = record;
    await this.deps.audit.record(
      request.requestId,
      'request.submitted',
      request.requester.email,
      'info',
      {
        accountId: request.accountId,
        permissionSetArn: request.permissionSetArn,
        // Only on a group request: the trails of account requests read as they always did.
        ...(request.groupId !== undefined ? { groupId: request.groupId } : {}),
        durationMinutes: request.durationMinutes,
        reason: request.reason,
        ticket: request.ticket ?? null,
        // Only on a break-glass request: the trails of earlier requests read as they always did.
        ...(request.breakGlass ? { breakGlass: true } : {}),
      },
      VALIDATE,
    );
  }

  /** Group access (core/group-access.ts), on this function's identitystore memberships. */
  private groupAccess(): GroupAccess {
    const { store, audit, clock, memberships } = this.deps;
    if (!memberships)
      throw new AccessError('not-wired', 'This step is not wired to Identity Center group memberships');
    return new GroupAccess({ store, audit, clock, memberships });
  }

  /** What Grant and Revoke do for any kind of access, for group access to call. */
  private accessHooks(step: AssignmentStepInput): AccessHooks<GrantResult, RevokeResult> {
    return {
      intendGrant: (requestId, granted) => this.intendGrant(requestId, granted),
      opened: (known, fallback) => this.opened(step, known, fallback),
      grantFailed: (reason) => this.grantFailed(step.requestId, reason),
      kept: (keptBecause, stillNeededBy) => this.kept(step.requestId, keptBecause, stillNeededBy),
      notTracked: () => this.notTracked(step.requestId),
      succeeded: () => ({ status: 'SUCCEEDED' }),
    };
  }

  /** Revoke found no record of what it would delete: kept, never deleted blind. */
  private async notTracked(requestId: string): Promise<RevokeResult> {
    await this.deps.audit.record(
      requestId,
      'revoke.kept',
      SYSTEM,
      'info',
      { keptBecause: 'not-tracked' },
      { ...REVOKE, key: 'not-tracked' },
    );
    return { status: 'KEPT', keptBecause: 'not-tracked' };
  }

  /** Less than `ms` ago (an unreadable time counts as long ago). */
  private within(iso: string, ms: number): boolean {
    const at = Date.parse(iso);
    return Number.isFinite(at) && this.now().getTime() - at < ms;
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
    const options = { attempts: HOLDERS_WRITE_ATTEMPTS, now: () => this.now().toISOString() };
    if ((await changeHolders(this.deps.store, key, options, change)) === 'conflict')
      throw concurrentChanges(key);
  }

  /** A step's decisions on the holders record, decided again after each lost write; the workflow retries when all lose. */
  private holdersLoop<T>(key: AssignmentKey, attempt: () => Promise<T | Conflict>): Promise<T> {
    return retryOnConflict(HOLDERS_WRITE_ATTEMPTS, attempt, () => {
      throw concurrentChanges(key);
    });
  }

  /** CreateAccountAssignment, then the operation id on this request's open creation (best effort: without it the reconciler waits out the creation instead of asking for its status). */
  private async create(key: AssignmentKey, requestId: string): Promise<AssignmentOperationStatus> {
    let operation: AssignmentOperationStatus;
    try {
      operation = await this.deps.assignments.create(key);
    } catch (error) {
      // The call came back: nothing of this run is in flight any more, so a retry may ask again
      // at once. The fence stays (a timed-out call may still have been accepted).
      await this.updateHolders(key, (h) => {
        const open = h.creationsInFlight ?? [];
        const index = open.findLastIndex(
          (c) => c.requestId === requestId && !c.operationId && !c.callFailedAt,
        );
        if (index < 0) return undefined;
        const failedAt = this.now().toISOString();
        return {
          ...h,
          creationsInFlight: open.map((c, i) => (i === index ? { ...c, callFailedAt: failedAt } : c)),
        };
      }).catch(() => undefined);
      throw error;
    }
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
    let operation: AssignmentOperationStatus;
    try {
      await this.deps.audit.record(
        requestId,
        'revoke.requested',
        SYSTEM,
        'info',
        { principalId: key.principalId },
        REVOKE,
      );
      operation = await this.deps.assignments.delete(key);
    } catch (error) {
      if (error instanceof AccessError && error.code === 'assignment-not-found') {
        // The event first: a retry finds the claim still its own and writes it again.
        await this.deps.audit.record(
          requestId,
          'revoke.succeeded',
          SYSTEM,
          'success',
          { note: 'already absent' },
          { ...REVOKE, key: 'already-absent' },
        );
        await this.markDeleted(key, requestId);
        return { status: 'SUCCEEDED' };
      }
      // Failed before or at the call, which came back: a retry may ask again at once (see CALL_IN_FLIGHT_MS).
      await this.updateHolders(key, (h) =>
        h.state === 'DELETING' && h.deletingBy === requestId && !h.deletionRequestId
          ? { ...h, deletionCallFailedAt: this.now().toISOString() }
          : undefined,
      ).catch(() => undefined);
      throw error;
    }
    await this.updateHolders(key, (h) => {
      if (h.state !== 'DELETING' || h.deletingBy !== requestId) return undefined;
      const next: HoldersRecord = { ...h, deletionRequestId: operation.requestId };
      delete next.deletionCallFailedAt;
      return next;
    });
    return this.followDeletion(key, requestId, operation);
  }

  /** Kept for others (or as it was before): one event per answer, named by who still needs it. */
  private async kept(
    requestId: string,
    keptBecause: 'pre-existing' | 'shared',
    stillNeededBy: string[],
  ): Promise<RevokeResult> {
    await this.deps.audit.record(
      requestId,
      'revoke.kept',
      SYSTEM,
      'success',
      { keptBecause, stillNeededBy: stillNeededBy.join(',') },
      { ...REVOKE, key: `kept:${keptBecause}:${stillNeededBy.join(',')}` },
    );
    return { status: 'KEPT', keptBecause };
  }

  /** Where a deletion stands, as the step that asked for it (or its retry) answers. */
  private followDeletion(
    key: AssignmentKey,
    requestId: string,
    operation: AssignmentOperationStatus,
  ): Promise<RevokeResult> | RevokeResult {
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
      delete next.deletionCallFailedAt;
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

  /**
   * Access is about to be live through an assignment that is already there: how, stored before
   * the holders write that makes it so, for a retry that finds the request a holder (the run
   * that wrote it may have died before its events). Rewritten until the window starts.
   */
  private async intendGrant(requestId: string, granted: Granted): Promise<void> {
    await this.deps.store.updateRequest(
      requestId,
      EDITS.grant,
      { granted },
      (current) => !current.windowStartedAt,
    );
  }

  /**
   * Access is live: the window starts now, or when the first run of Grant/CheckGrant said so. The
   * start (and how access was granted) is stored once, so a retry answers with the same window:
   * planned again from its own clock, the window would end later by every retry's delay.
   * `known`: how this run made it live; a retry that only finds it live passes undefined and
   * takes what the first run stored (`fallback` for records that have none).
   */
  private async opened(
    step: AssignmentStepInput,
    known: Granted | undefined,
    fallback: Granted,
  ): Promise<GrantResult> {
    let record = await this.requireRequest(step.requestId);
    if (!record.windowStartedAt) {
      const fixed = await this.deps.store.updateRequest(
        step.requestId,
        EDITS.grant,
        { windowStartedAt: this.now().toISOString(), granted: known ?? record.granted ?? fallback },
        (current) => !current.windowStartedAt,
      );
      record = fixed.ok ? fixed.value : (fixed.current ?? record);
    }
    // Withdrawn since Grant read it (a scheduled start's Cancel): it joined an assignment that was
    // already there, and lets go of it again; nothing opens.
    if (record.status === 'CANCELLED') {
      const membership = membershipKeyOf(record, step.principalId);
      if (membership) return this.groupAccess().withdrawn(step.requestId, membership);
      return this.withdrawn(keyOf(step), step.requestId);
    }
    // Moved on before the start could be stored (revoked meanwhile): from now, as before.
    const startedAt = record.windowStartedAt ?? this.now().toISOString();
    const granted = record.granted ?? known ?? fallback;
    const seconds = record.request.durationMinutes * 60;
    const expiresAt = new Date(Date.parse(startedAt) + seconds * 1000).toISOString();
    if (granted.existing)
      await this.deps.audit.record(
        step.requestId,
        'grant.existing',
        SYSTEM,
        'success',
        granted.existing,
        GRANT,
      );
    await this.deps.audit.record(
      step.requestId,
      'grant.succeeded',
      SYSTEM,
      'success',
      { alreadyAssigned: granted.alreadyAssigned, preExisting: granted.preExisting, startedAt, expiresAt },
      { ...GRANT, key: startedAt },
    );
    return {
      status: 'SUCCEEDED',
      window: { startedAt, expiresAt, seconds },
      alreadyAssigned: granted.alreadyAssigned,
    };
  }

  /** Asks Identity Center for the creation this request's fence (already written) announces. */
  private async requestCreation(key: AssignmentKey, step: AssignmentStepInput): Promise<GrantResult> {
    const operation = await this.create(key, step.requestId);
    await this.grantRequested(step.requestId, key, operation.requestId);
    return this.inProgress(operation, step);
  }

  /**
   * A request withdrawn while Grant held it (core/scheduled-start.ts): its holder entry and its
   * unasked creation fence are let go — an assignment it only joined stays as it was, one it was
   * about to create is not asked for — and the step fails as Cancelled (the state machine closes it).
   */
  private async withdrawn(key: AssignmentKey, requestId: string): Promise<never> {
    await this.updateHolders(key, (h) => {
      if (!h.holders.includes(requestId)) return undefined;
      const remaining = h.holders.filter((id) => id !== requestId);
      return {
        ...h,
        holders: remaining,
        state: remaining.length || h.state !== 'CREATING' ? h.state : 'ABSENT',
        creationsInFlight: (h.creationsInFlight ?? []).filter(
          (c) => !(c.requestId === requestId && !c.operationId),
        ),
      };
    });
    throw new RequestCancelledError(requestId);
  }

  /** One event per creation asked for (its operation id names it). */
  private async grantRequested(requestId: string, key: AssignmentKey, operationId: string): Promise<void> {
    await this.deps.audit.record(
      requestId,
      'grant.requested',
      SYSTEM,
      'info',
      {
        principalId: key.principalId,
        accountId: key.accountId,
        permissionSetArn: key.permissionSetArn,
        operationId,
      },
      { ...GRANT, key: operationId },
    );
  }

  /** The creation failed: once per request, whichever run (Grant's own check, CheckGrant, a retry) learns it. */
  private async grantFailed(requestId: string, failureReason: string): Promise<GrantResult> {
    await this.deps.audit.record(requestId, 'grant.failed', SYSTEM, 'failure', { failureReason }, GRANT);
    return { status: 'FAILED', failureReason };
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
    accountId: step.accountId ?? '',
    permissionSetArn: step.permissionSetArn ?? '',
    principalId: step.principalId,
  };
}

const concurrentChanges = (key: AssignmentKey) =>
  new RetryableError(`Concurrent changes to the holders of ${describeKey(key)}`);

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
