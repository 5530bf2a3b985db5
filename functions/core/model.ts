import { en } from 'zod/locales';
// zod/mini: functional and tree-shakable, so a bundle carries only the validators it uses.
import * as z from 'zod/mini';

// Issue messages in English (zod/mini carries no locale): requesters and operators read them
// (a malformed request's reason, a refused step input, audit event or decision).
z.config(en());

// Shapes that cross process boundaries: the execution input, the stored request, audit events.
// Every payload carries `version` so a deployed upgrade can still read what an older version wrote.

export const REQUEST_ID_PATTERN = /^[A-Za-z0-9_-]{6,64}$/;
/** identitystore GroupId (API reference, CreateGroupMembership: GroupId pattern). */
export const GROUP_ID_PATTERN =
  /^([0-9a-f]{10}-|)[A-Fa-f0-9]{8}-[A-Fa-f0-9]{4}-[A-Fa-f0-9]{4}-[A-Fa-f0-9]{4}-[A-Fa-f0-9]{12}$/;

// The fields, then the check that ties them: an account request or a group request.
const accessRequestFields = z.object({
  requestId: z.string().check(z.regex(REQUEST_ID_PATTERN, 'must be 6-64 letters, digits, - or _')),
  requester: z.object({
    slackUserId: z.string().check(z.regex(/^[UW][A-Z0-9]{2,}$/, 'must be a Slack user id')),
    email: z.email().check(z.maxLength(254)),
  }),
  // A group request (core/group-access.ts) names no account or permission set: both are null,
  // not absent, because the workflow's JSONPath Parameters fail on a missing path.
  accountId: z.nullable(z.string().check(z.regex(/^\d{12}$/, 'must be a 12-digit account id'))),
  permissionSetArn: z.nullable(z.string().check(z.minLength(1), z.maxLength(200))),
  /** The Identity Center group (its identitystore GroupId) a group request asks to be added to. */
  groupId: z.optional(z.string().check(z.regex(GROUP_ID_PATTERN, 'must be an identitystore group id'))),
  durationMinutes: z.int().check(z.positive(), z.maximum(7 * 24 * 60)),
  // Trimmed before the lengths are checked, and stored trimmed.
  reason: z
    .string()
    .check(z.trim(), z.minLength(1, 'is required'), z.maxLength(1000, 'is over 1,000 characters')),
  ticket: z.optional(z.string().check(z.trim(), z.maxLength(100))),
  /** Asked as break-glass (core/break-glass.ts): only break-glass rules decide it. */
  breakGlass: z.optional(z.literal(true)),
  /** A scheduled start (core/scheduled-start.ts): the grant waits for it, the window counts from it. */
  startAt: z.optional(z.iso.datetime()),
  /**
   * Several accounts asked in one form (core/request-set.ts): each account is a request of its
   * own, one execution each, and the set is asked and decided once. `id` is its first member's
   * request id (that member posts the approval message); `members` lists every member's id.
   */
  set: z.optional(
    z.object({
      id: z.string().check(z.regex(REQUEST_ID_PATTERN)),
      members: z.array(z.string().check(z.regex(REQUEST_ID_PATTERN))).check(z.minLength(2), z.maxLength(20)),
    }),
  ),
  requestedAt: z.iso.datetime(),
});

export const accessRequestSchema = accessRequestFields.check(
  z.refine(
    (r) =>
      r.groupId === undefined
        ? r.accountId !== null && r.permissionSetArn !== null
        : r.accountId === null && r.permissionSetArn === null,
    'must name an account and a permission set, or a group (with null account and permission set)',
  ),
  z.refine(
    (r) =>
      r.set === undefined ||
      (r.groupId === undefined &&
        r.breakGlass === undefined &&
        r.set.members[0] === r.set.id &&
        r.set.members.includes(r.requestId) &&
        new Set(r.set.members).size === r.set.members.length),
    'a set names its first member as its id, this request among its distinct members, and no group or break glass',
  ),
);
export type AccessRequest = z.infer<typeof accessRequestSchema>;

/** The state machine's input. */
export const executionInputSchema = z.object({
  version: z.literal(1),
  request: accessRequestSchema,
});
export type ExecutionInput = z.infer<typeof executionInputSchema>;

export const REQUEST_STATUSES = [
  'PENDING_APPROVAL',
  'APPROVED',
  'DENIED',
  'APPROVAL_EXPIRED',
  'REJECTED',
  /**
   * Withdrawn by its requester while it waited for approval (core/decisions.ts `cancel`). A status
   * of its own rather than DENIED with the requester as decider: a denial is an approver's
   * judgement (Athena's denied-or-expired query, the invariant that DENIED has exactly one
   * `approval.denied`, "denied by" in Slack), a cancellation is not one and must not read as one.
   */
  'CANCELLED',
  'GRANTING',
  'ACTIVE',
  'REVOKING',
  'REVOKED',
  'GRANT_FAILED',
  'REVOKE_FAILED',
] as const;
export type RequestStatus = (typeof REQUEST_STATUSES)[number];

/** Statuses in which the request is over: nothing more will happen to it. */
export const FINAL_STATUSES: readonly RequestStatus[] = [
  'DENIED',
  'APPROVAL_EXPIRED',
  'REJECTED',
  'CANCELLED',
  'REVOKED',
  'REVOKE_FAILED',
];

export interface Decision {
  by: string; // approver email
  slackUserId: string;
  at: string;
  reason?: string;
}

export interface MessageRef {
  channel: string;
  ts: string;
}

/**
 * An extension waiting for approvers. It is decided by the rule that allows the new total
 * (request + approved extensions + these minutes), which may be another, stricter rule than the
 * request's own; the rule is re-evaluated at every decision, so these fields say what it was
 * when last evaluated (shown in Slack; the core re-checks against the policy as deployed).
 */
export interface PendingExtension {
  minutes: number;
  ruleName: string;
  /** Emails of the approvers of `ruleName` (the requester excluded unless self-approval is allowed). */
  approvers: string[];
  required: number;
  allowSelfApproval: boolean;
  requestedAt: string;
  /** Distinct approvers so far (one entry per person). */
  approvals: Decision[];
  /** The Slack job that asked for it: names the events of this extension (core/audit.ts). */
  jobId?: string;
}

/** An extension that was applied: what the window's cap counts (core/window.ts). */
export interface ApprovedExtension {
  minutes: number;
  ruleName: string;
  /** The maxDuration of `ruleName` when applied: the total after this extension must fit it. */
  maxTotalMinutes: number;
  /** Approver emails, or "system:policy" when the rule needs no approval. */
  approvedBy: string[];
  at: string;
  /** The approvals its rule required then (0: none): with approvedBy, what the applying approval's event said. */
  required?: number;
  /** The job that applied it (a self-service click, or the approval that completed the quorum). */
  jobId?: string;
}

export type BreakGlassVerdict = 'justified' | 'flagged';

/** A break-glass use's post-hoc review, as stored with the request (core/break-glass.ts). */
export interface BreakGlassState {
  /** The rule's reviewers when activated (selectors; membership is asked at the click). */
  reviewers: string[];
  /** Where the alert went. */
  alertChannel: string;
  /** Unreviewed by then, it escalates. */
  reviewDueAt: string;
  /** The alert in the security channel (its buttons are the review). */
  alertMessage?: MessageRef;
  review?: Decision & { verdict: BreakGlassVerdict };
  escalatedAt?: string;
}

/** The request as stored (one item per request). */
export interface RequestRecord {
  version: 1;
  request: AccessRequest;
  status: RequestStatus;
  ruleName?: string;
  principalId?: string;
  accountName?: string;
  permissionSetName?: string;
  /** A group request's group display name (from the policy when validated). */
  groupName?: string;
  approvalsRequired?: number;
  approvals: Decision[];
  denial?: Decision;
  /** The requester withdrew the request while it waited for approval (status CANCELLED). */
  cancellation?: Decision;
  approvalMessage?: MessageRef;
  /**
   * Every other copy of the approval message (the approvers' DMs, an extension's post in its
   * rule's channel), kept as each is posted: re-rendered with the channel message on every update.
   */
  approvalCopies?: MessageRef[];
  requesterDm?: MessageRef;
  expiresAt?: string;
  /**
   * When access went live: stored by the first run of Grant/CheckGrant that saw it live (retries
   * answer with the same window), confirmed by AccessWindow. The window's cap counts from it.
   */
  windowStartedAt?: string;
  /**
   * How access went live, stored with `windowStartedAt` (grant.succeeded says the same on every
   * retry); through an assignment already there, `existing` is its grant.existing event's details.
   */
  granted?: { alreadyAssigned: boolean; preExisting: boolean; existing?: Record<string, string | boolean> };
  /** The Slack jobs that asked for or decided an extension: a redelivered job does nothing again. */
  extensionJobs?: string[];
  /** Minutes added by approved extensions (the request's own duration stays as asked). */
  extendedMinutes?: number;
  /** The extensions behind `extendedMinutes`, oldest first (absent in records of earlier versions). */
  extensions?: ApprovedExtension[];
  /** An extension waiting for approvers (read it through `pendingExtensionOf`). */
  pendingExtension?: PendingExtension;
  /**
   * Written by earlier versions: an extension waiting for an approver of the request's own rule
   * (0 or absent: none). Still read, as a pending extension under the original rule; cleared
   * when it is decided.
   */
  pendingExtensionMinutes?: number;
  endedBy?: string;
  failureReason?: string;
  /** When the approvers were reminded of this request still waiting (core/approval-reminder.ts). */
  approvalReminderSentAt?: string;
  /** The expiresAt the "ends in 10 minutes" DM was sent for (the reconciler sends it once per window end). */
  expiringNoticeFor?: string;
  /** Stored by Finish from the execution input because Validate stored nothing (its trail opening is Finish's to write). */
  unvalidated?: true;
  /** Set once `request.closed` is in the audit trail (Finish, or the reconciler after a crashed Finish). */
  closedAt?: string;
  /** A break-glass use: its alert and review. */
  breakGlass?: BreakGlassState;
  updatedAt: string;
}

export const AUDIT_ACTIONS = [
  'request.submitted',
  'request.rejected',
  'request.cancelled',
  'approval.auto',
  'approval.requested',
  'approval.reminded',
  'approval.approved',
  'approval.denied',
  'approval.expired',
  'grant.requested',
  'grant.existing',
  'grant.succeeded',
  'grant.failed',
  'window.opened',
  'window.ended-early',
  'window.extend-requested',
  'window.extend-refused',
  'window.extended',
  'window.expired',
  'window.expiring-soon',
  'revoke.requested',
  'revoke.kept',
  'revoke.succeeded',
  'revoke.failed',
  // Ending the sessions a revoke leaves live (core/session-ending.ts).
  'sessions.end-requested',
  'sessions.ended',
  'sessions.end-failed',
  'sessions.deny-removed',
  'request.closed',
  'reconciler.revoked',
  'reconciler.orphan-found',
  'reconciler.stopped-execution',
  'breakglass.activated',
  'breakglass.alerted',
  'breakglass.reviewed',
  'breakglass.escalated',
  // The approval channel refused the app's post (not_in_channel, archived, gone): nobody was asked.
  'approval.channel-unusable',
  // A person's offboarding (core/offboarding.ts): on their trail and on each request it ends or withdraws.
  'user.offboarded',
] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];

export interface AuditEvent {
  version: 1;
  requestId: string;
  eventId: string;
  at: string;
  actor: string; // email of a person, or "system:<function>"
  action: AuditAction;
  outcome: 'success' | 'failure' | 'info';
  details: Record<string, string | number | boolean | null>;
}

/** Who holds one assignment (account × permission set × principal), as far as this product knows. */
export interface AssignmentKey {
  accountId: string;
  permissionSetArn: string;
  principalId: string;
}

export type HolderState = 'CREATING' | 'PRESENT' | 'DELETING' | 'ABSENT';

export interface HoldersRecord extends AssignmentKey {
  /** The assignment existed before any request of this product held it: never delete it. */
  preExisting: boolean;
  /** Request ids whose access depends on this assignment. */
  holders: string[];
  state: HolderState;
  /** The request whose revoke deletes it, while DELETING ("reconciler" when the reconciler does). */
  deletingBy?: string;
  /** The requests whose access a reconciler deletion removes (their audit trails record it). */
  deletingFor?: string[];
  deletionRequestId?: string;
  /** The deletion call came back with an error (no deletion of the claim's is in flight): a retry asks again at once. */
  deletionCallFailedAt?: string;
  /**
   * Creations this product asked Identity Center for whose outcome no step has seen yet (the
   * fencing of late creations): written before CreateAccountAssignment is called, given its
   * operation id when the call returns, dropped once its final status is known. While one is
   * open, an assignment found with no live holder is this product's own late creation — never
   * taken for pre-existing — and the reconciler deletes it.
   */
  creationsInFlight?: CreationInFlight[];
  /** Optimistic lock: every write checks and bumps it. */
  revision: number;
  updatedAt: string;
}

export interface CreationInFlight {
  requestId: string;
  issuedAt: string;
  /** Identity Center's request id for the creation; absent when the call never returned. */
  operationId?: string;
  /** The call came back with an error: not in flight any more (whether it was accepted is unknown). */
  callFailedAt?: string;
}

export const assignmentKeyText = (key: AssignmentKey) =>
  `${key.accountId}|${key.permissionSetArn}|${key.principalId}`;

/** What a request gives access to: an account assignment, or a membership of a group. */
export type AccessTarget =
  | { kind: 'account'; accountId: string; permissionSetArn: string }
  | { kind: 'group'; groupId: string };

export function targetOf(request: AccessRequest): AccessTarget {
  if (request.groupId !== undefined) return { kind: 'group', groupId: request.groupId };
  // The schema admits null only with a group (accessRequestSchema's check).
  return {
    kind: 'account',
    accountId: request.accountId ?? '',
    permissionSetArn: request.permissionSetArn ?? '',
  };
}

/** Who holds one group membership (group × user), as far as this product knows. */
export interface MembershipKey {
  groupId: string;
  principalId: string;
}

/**
 * The holders record of a group membership: the account assignment's (HoldersRecord) without its
 * operation tracking, since CreateGroupMembership and DeleteGroupMembership answer at once. The
 * membership id is kept once known (DeleteGroupMembership takes it).
 */
export interface MembershipHoldersRecord extends MembershipKey {
  /** The user was in the group before any request of this product added them: never remove them. */
  preExisting: boolean;
  holders: string[];
  /** PRESENT (added or found) or ABSENT (removed by this product, or never added). */
  state: 'PRESENT' | 'ABSENT';
  membershipId?: string;
  /**
   * The request that is adding the member, from just before CreateGroupMembership until its
   * answer is stored: a membership found while it is set is this product's own, never pre-existing.
   */
  addingBy?: string;
  /**
   * The request (or "reconciler") removing the member, from just before DeleteGroupMembership
   * until the membership is marked ABSENT: a concurrent grant waits rather than joining it.
   */
  removingBy?: string;
  /** The requests whose access a reconciler removal ends (their trails record it). */
  removingFor?: string[];
  revision: number;
  updatedAt: string;
}

export const membershipKeyText = (key: MembershipKey) => `${key.groupId}|${key.principalId}`;
