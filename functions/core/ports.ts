import type {
  AccessRequest,
  AssignmentKey,
  AuditEvent,
  HoldersRecord,
  MembershipHoldersRecord,
  MembershipKey,
  MessageRef,
  RequestRecord,
  RequestStatus,
} from './model';

// Interfaces the core depends on; adapters in functions/adapters implement them.

export type AssignmentOperationStatus =
  | { status: 'IN_PROGRESS'; requestId: string }
  | { status: 'SUCCEEDED'; requestId: string }
  | { status: 'FAILED'; requestId: string; failureReason: string };

/** IAM Identity Center account assignments. */
export interface AssignmentDirectory {
  /** Principal ids (users) currently assigned this permission set on this account. */
  listUserPrincipals(accountId: string, permissionSetArn: string): Promise<string[]>;
  create(key: AssignmentKey): Promise<AssignmentOperationStatus>;
  creationStatus(operationId: string): Promise<AssignmentOperationStatus>;
  delete(key: AssignmentKey): Promise<AssignmentOperationStatus>;
  deletionStatus(operationId: string): Promise<AssignmentOperationStatus>;
}

/**
 * Identity Center group memberships (identitystore). Unlike account assignments, these calls
 * answer at once: a membership exists when CreateGroupMembership returns, and is gone when
 * DeleteGroupMembership does.
 */
export interface GroupMemberships {
  /** The membership id of this user in this group, or undefined when the user is not a member (or either is gone). */
  membershipId(groupId: string, userId: string): Promise<string | undefined>;
  /**
   * Adds the user to the group: the new membership's id, or `exists` when identitystore refuses
   * it as a conflict (the user may already be a member; the caller looks the membership up).
   * Throws AccessError `membership-target-gone` when the user or the group does not exist.
   */
  add(groupId: string, userId: string): Promise<{ membershipId: string } | { exists: true }>;
  /** Removes a membership; false when it (or its user or group) no longer exists. */
  remove(membershipId: string): Promise<boolean>;
}

/** Identity Center's identity store: people by email. */
export interface UserDirectory {
  /** The Identity Center user id for an email, or undefined when there is none. */
  findUserIdByEmail(email: string): Promise<string | undefined>;
}

export type ConditionalResult<T> = { ok: true; value: T } | { ok: false; current: T | undefined };

export interface RequestStore {
  /** Creates the record unless one exists; returns the stored record either way. */
  createRequest(record: RequestRecord): Promise<{ created: boolean; record: RequestRecord }>;
  getRequest(requestId: string): Promise<RequestRecord | undefined>;
  /**
   * Applies `change` only when the stored status is one of `from` (and `guard`, if given, accepts
   * the stored record): checked and written atomically.
   */
  updateRequest(
    requestId: string,
    from: readonly RequestStatus[],
    change: Partial<Omit<RequestRecord, 'request' | 'version'>>,
    guard?: (current: RequestRecord) => boolean,
  ): Promise<ConditionalResult<RequestRecord>>;
  /** Adds an approval unless the approver already approved; only while PENDING_APPROVAL. */
  addApproval(
    requestId: string,
    approval: RequestRecord['approvals'][number],
  ): Promise<ConditionalResult<RequestRecord>>;
  listByRequester(slackUserId: string, limit?: number): Promise<RequestRecord[]>;
  /** Every request in `status` (all pages), or the newest `limit`. */
  listByStatus(status: RequestStatus, limit?: number): Promise<RequestRecord[]>;
  /** Break-glass uses no reviewer has marked (core/break-glass.ts `reviewPending`), latest review due first. */
  listPendingReviews(limit?: number): Promise<RequestRecord[]>;

  /** Task tokens of the waiting callback of a request ("approval" or "window"); kept server-side. */
  putTaskToken(requestId: string, kind: TaskTokenKind, token: string): Promise<void>;
  /** Reads and deletes the token in one conditional step: a second caller gets undefined. */
  takeTaskToken(requestId: string, kind: TaskTokenKind): Promise<string | undefined>;
  peekTaskToken(requestId: string, kind: TaskTokenKind): Promise<string | undefined>;

  getHolders(key: AssignmentKey): Promise<HoldersRecord | undefined>;
  /** Writes the holders record if its stored revision is `expectedRevision` (undefined = must not exist). */
  putHolders(record: HoldersRecord, expectedRevision: number | undefined): Promise<boolean>;
  listHolders(): Promise<HoldersRecord[]>;

  /** The holders record of a group membership (core/group-access.ts). */
  getMembershipHolders(key: MembershipKey): Promise<MembershipHoldersRecord | undefined>;
  /** Written if its stored revision is `expectedRevision` (undefined = must not exist). */
  putMembershipHolders(
    record: MembershipHoldersRecord,
    expectedRevision: number | undefined,
  ): Promise<boolean>;
  listMembershipHolders(): Promise<MembershipHoldersRecord[]>;
}

/** The store's reads: what the Slack function asks (its requests, those waiting, the reviews due). */
export type RequestReader = Pick<
  RequestStore,
  'getRequest' | 'listByRequester' | 'listByStatus' | 'listPendingReviews'
>;

export type TaskTokenKind = 'approval' | 'window';

/** What an append did: wrote the event, or found it already written (a retried step's copy). */
export type AppendOutcome = 'written' | 'duplicate';

export interface AuditLog {
  /**
   * Appends an event; never updates or deletes. An event is identified by its request and event
   * id: the same event again (same content; its time may differ) is a duplicate and leaves the
   * first copy, a different event under that id is refused (AuditConflictError).
   */
  append(event: AuditEvent): Promise<AppendOutcome>;
  list(requestId: string): Promise<AuditEvent[]>;
}

export type RequesterNotice =
  | 'approved'
  | 'denied'
  | 'approval-expired'
  | 'cancelled'
  | 'rejected'
  | 'granted'
  | 'expiring-soon'
  | 'extended'
  | 'revoked'
  | 'grant-failed'
  | 'revoke-failed';

/** Slack, as the core sees it. */
export interface Notifier {
  /**
   * Posts the approval request: the channel message, handed to `keep` as soon as it is posted
   * (before any DM, so a run that dies later never posts it twice), then the approver DMs, which
   * are best-effort, each handed to `keepCopy` as it is posted. Both may answer the record as
   * stored then: a message posted while the request was decided is re-rendered at once (and, for
   * the channel message, nobody is DMed).
   */
  requestApproval(
    record: RequestRecord,
    approverEmails: string[],
    keep: (message: MessageRef) => Promise<RequestRecord | undefined>,
    keepCopy?: (copy: MessageRef) => Promise<RequestRecord | undefined>,
    /** A request of several accounts (core/request-set.ts): every member, for the one message that asks for all. */
    set?: readonly RequestRecord[],
  ): Promise<void>;
  /** Reminds the approvers of a request still waiting: a reply under the channel message, DMs (best-effort). */
  remindApprovers(record: RequestRecord, approverEmails: string[]): Promise<void>;
  /**
   * Re-renders every copy of the approval message from the record: the channel message and the
   * copies in `approvalCopies` (approvers' DMs; each best-effort: one refused never stops the others).
   */
  updateRequestMessages(record: RequestRecord, set?: readonly RequestRecord[]): Promise<void>;
  /**
   * A direct message to the requester. `keep`, when given, is handed the message's reference as
   * soon as it is posted (the "Access ready" DM: kept on the record as `requesterDm`, so the end
   * of the access can take its buttons away); a failure to keep it is logged, never thrown.
   */
  notifyRequester(
    record: RequestRecord,
    notice: RequesterNotice,
    detail?: string,
    keep?: (dm: MessageRef) => Promise<void>,
  ): Promise<void>;
  /**
   * Re-renders the kept "Access ready" DM (`requesterDm`) from the record: while ACTIVE, as ready
   * (with its End/Extend buttons, until the window's current end); once access ended, without
   * the buttons, saying when it ended. Nothing without a kept DM; best-effort (a Slack refusal
   * is logged, never thrown).
   */
  updateRequesterDm(record: RequestRecord): Promise<void>;
  /** An operational alert (reconciler findings, failed revokes). */
  alert(text: string, record?: RequestRecord): Promise<void>;
  /**
   * A break-glass use went live: the alert in its security channel (with the review buttons),
   * handed to `keep` as soon as it is posted, then DMs to its reviewers (best-effort).
   */
  breakGlassAlert(
    record: RequestRecord,
    reviewerEmails: string[],
    keep: (message: MessageRef) => Promise<void>,
  ): Promise<void>;
  /** Re-renders the alert from the record (reviewed, or escalated: then also a channel-wide mention). */
  breakGlassUpdate(record: RequestRecord, escalated: boolean): Promise<void>;
}

export interface Clock {
  now(): Date;
}

export interface Ids {
  next(): string;
}

export type { AccessRequest };

export type TaskSignalResult = 'sent' | 'expired';

/** Step Functions, as the core sees it. */
export interface Workflow {
  /** Starts the execution named after the request id; a second start with the same input is a no-op. */
  start(input: import('./model').ExecutionInput): Promise<{ executionArn: string; alreadyStarted: boolean }>;
  /** Completes a waiting callback task; 'expired' when the task is gone (timed out, finished). */
  sendSuccess(taskToken: string, output: Record<string, unknown>): Promise<TaskSignalResult>;
  sendFailure(taskToken: string, error: string, cause: string): Promise<TaskSignalResult>;
  /** Stops the execution of a request (used by the reconciler for stuck executions). */
  stop(requestId: string, cause: string): Promise<void>;
  /** Is the execution of this request still running? */
  isRunning(requestId: string): Promise<boolean>;
}

/** A permission set provisioning, followed like an assignment operation. */
export type ProvisioningStatus = AssignmentOperationStatus;

/**
 * A permission set's session duration (sso-admin DescribePermissionSet): how long a role session
 * signed in through it stays valid, whatever happens to the assignment meanwhile.
 */
export interface SessionDurations {
  /** The permission set's SessionDuration (ISO 8601, e.g. PT1H; Identity Center's default when unset). */
  sessionDuration(permissionSetArn: string): Promise<string>;
}

/**
 * A permission set's inline policy and its provisioning (sso-admin), for the permission sets
 * whose policy entry says `endSessionsOnRevoke` (core/session-ending.ts).
 */
export interface PermissionSetPolicies extends SessionDurations {
  /** The inline policy's JSON text; '' when the permission set has none. */
  getInlinePolicy(permissionSetArn: string): Promise<string>;
  putInlinePolicy(permissionSetArn: string, policy: string): Promise<void>;
  deleteInlinePolicy(permissionSetArn: string): Promise<void>;
  /** ProvisionPermissionSet to one account (TargetType AWS_ACCOUNT). */
  provision(permissionSetArn: string, accountId: string): Promise<ProvisioningStatus>;
  provisioningStatus(requestId: string): Promise<ProvisioningStatus>;
}
