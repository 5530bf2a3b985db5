import { sameRecord } from '../../functions/adapters/dynamodb-request-store';
import { AuditTrail } from '../../functions/core/audit';
import { reviewPending } from '../../functions/core/break-glass';
import { AccessError, AuditConflictError, RetryableError } from '../../functions/core/errors';
import {
  type AssignmentKey,
  type AuditEvent,
  assignmentKeyText,
  type HoldersRecord,
  type MembershipHoldersRecord,
  type MembershipKey,
  type MessageRef,
  membershipKeyText,
  type RequestRecord,
  type RequestStatus,
} from '../../functions/core/model';
import type {
  AssignmentDirectory,
  AssignmentOperationStatus,
  AuditLog,
  Clock,
  ConditionalResult,
  GroupMemberships,
  Notifier,
  RequesterNotice,
  RequestStore,
  TaskSignalResult,
  TaskTokenKind,
  Workflow,
} from '../../functions/core/ports';

// In-memory ports with the same conditional semantics as the DynamoDB adapters. Every call
// yields to the event loop first, so concurrent callers interleave as they would over a network.

const tick = () => new Promise<void>((resolve) => setImmediate(resolve));
const clone = <T>(value: T): T => structuredClone(value);

export class ManualClock implements Clock {
  constructor(private epochMs = Date.UTC(2026, 10, 25, 9, 0, 0)) {}
  now(): Date {
    return new Date(this.epochMs);
  }
  advance(ms: number): void {
    this.epochMs += ms;
  }
  advanceMinutes(minutes: number): void {
    this.advance(minutes * 60_000);
  }
}

export class MemoryStore implements RequestStore {
  readonly requests = new Map<string, RequestRecord>();
  readonly tokens = new Map<string, string>();
  readonly holders = new Map<string, HoldersRecord>();
  holderWrites = 0;

  constructor(private readonly clock: Clock) {}

  async createRequest(record: RequestRecord) {
    await tick();
    const existing = this.requests.get(record.request.requestId);
    if (existing) return { created: false, record: clone(existing) };
    this.requests.set(record.request.requestId, clone(record));
    return { created: true, record: clone(record) };
  }

  async getRequest(requestId: string) {
    await tick();
    const record = this.requests.get(requestId);
    return record ? clone(record) : undefined;
  }

  async updateRequest(
    requestId: string,
    from: readonly RequestStatus[],
    change: Partial<Omit<RequestRecord, 'request' | 'version'>>,
    guard?: (current: RequestRecord) => boolean,
  ): Promise<ConditionalResult<RequestRecord>> {
    await tick();
    const current = this.requests.get(requestId);
    if (!current) return { ok: false, current: undefined };
    if (!from.includes(current.status) || !(guard?.(clone(current)) ?? true))
      return { ok: false, current: clone(current) };
    // As the DynamoDB store: a change that changes nothing is not written.
    if (sameRecord({ ...current, ...change }, current)) return { ok: true, value: clone(current) };
    const next = { ...current, ...clone(change), updatedAt: this.clock.now().toISOString() };
    this.requests.set(requestId, next);
    return { ok: true, value: clone(next) };
  }

  async addApproval(requestId: string, approval: RequestRecord['approvals'][number]) {
    await tick();
    const current = this.requests.get(requestId);
    if (!current) return { ok: false as const, current: undefined };
    if (current.status !== 'PENDING_APPROVAL' || current.approvals.some((a) => a.by === approval.by))
      return { ok: false as const, current: clone(current) };
    const next = { ...current, approvals: [...current.approvals, approval], updatedAt: approval.at };
    this.requests.set(requestId, next);
    return { ok: true as const, value: clone(next) };
  }

  async listByRequester(slackUserId: string, limit = 50) {
    await tick();
    return newestFirst(
      [...this.requests.values()].filter((r) => r.request.requester.slackUserId === slackUserId),
    )
      .slice(0, limit)
      .map(clone);
  }

  async listByStatus(status: RequestStatus, limit = Number.POSITIVE_INFINITY) {
    await tick();
    return newestFirst([...this.requests.values()].filter((r) => r.status === status))
      .slice(0, limit)
      .map(clone);
  }

  async listPendingReviews(limit = Number.POSITIVE_INFINITY) {
    await tick();
    return [...this.requests.values()]
      .filter((r) => r.breakGlass && reviewPending(r))
      .sort((a, b) => (b.breakGlass?.reviewDueAt ?? '').localeCompare(a.breakGlass?.reviewDueAt ?? ''))
      .slice(0, limit)
      .map(clone);
  }

  async putTaskToken(requestId: string, kind: TaskTokenKind, token: string) {
    await tick();
    this.tokens.set(`${requestId}|${kind}`, token);
  }

  async takeTaskToken(requestId: string, kind: TaskTokenKind) {
    await tick();
    const token = this.tokens.get(`${requestId}|${kind}`);
    this.tokens.delete(`${requestId}|${kind}`);
    return token;
  }

  async peekTaskToken(requestId: string, kind: TaskTokenKind) {
    await tick();
    return this.tokens.get(`${requestId}|${kind}`);
  }

  async getHolders(key: AssignmentKey) {
    await tick();
    const record = this.holders.get(assignmentKeyText(key));
    return record ? clone(record) : undefined;
  }

  async putHolders(record: HoldersRecord, expectedRevision: number | undefined) {
    await tick();
    const current = this.holders.get(assignmentKeyText(record));
    if (expectedRevision === undefined ? current !== undefined : current?.revision !== expectedRevision)
      return false;
    this.holders.set(assignmentKeyText(record), clone(record));
    this.holderWrites++;
    return true;
  }

  async listHolders() {
    await tick();
    return [...this.holders.values()].map(clone);
  }

  readonly memberships = new Map<string, MembershipHoldersRecord>();

  async getMembershipHolders(key: MembershipKey) {
    await tick();
    const record = this.memberships.get(membershipKeyText(key));
    return record ? clone(record) : undefined;
  }

  async putMembershipHolders(record: MembershipHoldersRecord, expectedRevision: number | undefined) {
    await tick();
    const current = this.memberships.get(membershipKeyText(record));
    if (expectedRevision === undefined ? current !== undefined : current?.revision !== expectedRevision)
      return false;
    this.memberships.set(membershipKeyText(record), clone(record));
    this.holderWrites++;
    return true;
  }

  async listMembershipHolders() {
    await tick();
    return [...this.memberships.values()].map(clone);
  }
}

/** As the store's indexes order them: by requestedAt, newest first. */
function newestFirst(records: RequestRecord[]): RequestRecord[] {
  return records.sort((a, b) =>
    a.request.requestedAt < b.request.requestedAt
      ? 1
      : a.request.requestedAt > b.request.requestedAt
        ? -1
        : 0,
  );
}

/** The audit writer's rule: an event is identified by request and event id; the same event again is accepted, a different one refused. */
export class MemoryAuditLog implements AuditLog {
  readonly events: AuditEvent[] = [];
  async append(event: AuditEvent) {
    await tick();
    const stored = this.events.find((e) => e.requestId === event.requestId && e.eventId === event.eventId);
    if (stored) {
      if (withoutTime(stored) !== withoutTime(event))
        throw new AuditConflictError(
          `Audit event ${event.eventId} of ${event.requestId} exists with other content`,
        );
      return 'duplicate' as const;
    }
    this.events.push(clone(event));
    return 'written' as const;
  }
  /** In time order, events of one time by id, as the audit table answers. */
  async list(requestId: string) {
    await tick();
    return this.events
      .filter((e) => e.requestId === requestId)
      .map(clone)
      .sort(
        (a, b) =>
          Date.parse(a.at) - Date.parse(b.at) ||
          a.at.localeCompare(b.at) ||
          a.eventId.localeCompare(b.eventId),
      );
  }
  actions(requestId: string): string[] {
    return this.events.filter((e) => e.requestId === requestId).map((e) => e.action);
  }
}

/** An event as the writer compares it: everything but its time, keys sorted. */
function withoutTime(event: AuditEvent): string {
  const { at: _at, ...rest } = event;
  return JSON.stringify(rest, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(
          Object.entries(v as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b)),
        )
      : v,
  );
}

/** Ids count per world, so two worlds built alike write alike. */
export function memoryAudit(clock: Clock): { log: MemoryAuditLog; trail: AuditTrail } {
  let idCounter = 0;
  const log = new MemoryAuditLog();
  const trail = new AuditTrail(log, clock, {
    next: () => `evt-${(++idCounter).toString().padStart(8, '0')}`,
  });
  return { log, trail };
}

interface Operation {
  kind: 'create' | 'delete';
  key: AssignmentKey;
  status: AssignmentOperationStatus;
  pollsLeft: number;
  failWith?: string;
}

/** Identity Center assignments: operations finish after `pollsBeforeDone` status reads. */
export class FakeDirectory implements AssignmentDirectory {
  readonly assigned = new Set<string>();
  readonly calls: Array<{ op: string; key?: string }> = [];
  private readonly operations = new Map<string, Operation>();
  private next = 0;
  pollsBeforeDone = 0;
  /** Errors thrown by the next delete calls, in order. */
  deleteErrors: Error[] = [];
  /** The next deletions end FAILED with this reason. */
  failDeletions: string[] = [];
  /** Resolves before each delete call returns (to hold two callers inside the call). */
  deleteGate?: Promise<void>;
  /** Resolves before a create call reaches Identity Center (a CreateAccountAssignment still in flight). */
  createGate?: Promise<void>;
  /** The next creations end FAILED with this reason. */
  failCreations: string[] = [];
  /**
   * Status reads move operations on (the default), or only `progress()` does: a retried step
   * then reads what its first run read, as it would from Identity Center within the same moment.
   */
  progressOnPolls = true;

  /** One poll's worth of time for every operation in progress (with `progressOnPolls` off). */
  progress(): void {
    for (const operation of this.operations.values()) {
      if (operation.status.status !== 'IN_PROGRESS') continue;
      operation.pollsLeft--;
      if (operation.pollsLeft <= 0) this.complete(operation);
    }
  }

  assign(key: AssignmentKey): void {
    this.assigned.add(assignmentKeyText(key));
  }
  has(key: AssignmentKey): boolean {
    return this.assigned.has(assignmentKeyText(key));
  }
  count(op: string): number {
    return this.calls.filter((c) => c.op === op).length;
  }

  async listUserPrincipals(accountId: string, permissionSetArn: string) {
    await tick();
    this.calls.push({ op: 'list' });
    return [...this.assigned]
      .map((text) => text.split('|'))
      .filter(([a, p]) => a === accountId && p === permissionSetArn)
      .map(([, , principal]) => principal ?? '');
  }

  async create(key: AssignmentKey) {
    await tick();
    this.calls.push({ op: 'create', key: assignmentKeyText(key) });
    if (this.createGate) await this.createGate;
    if (this.inProgress(key)) throw new RetryableError('CreateAccountAssignment: ConflictException');
    return this.start('create', key, this.failCreations.shift());
  }

  async creationStatus(operationId: string) {
    await tick();
    return this.poll('create', operationId);
  }

  async delete(key: AssignmentKey) {
    await tick();
    this.calls.push({ op: 'delete', key: assignmentKeyText(key) });
    if (this.deleteGate) await this.deleteGate;
    const error = this.deleteErrors.shift();
    if (error) throw error;
    if (this.inProgress(key)) throw new RetryableError('DeleteAccountAssignment: ConflictException');
    return this.start('delete', key, this.failDeletions.shift());
  }

  async deletionStatus(operationId: string) {
    await tick();
    return this.poll('delete', operationId);
  }

  /** Identity Center refuses a write to an assignment with an operation in progress (ConflictException). */
  private inProgress(key: AssignmentKey): boolean {
    return [...this.operations.values()].some(
      (o) => o.status.status === 'IN_PROGRESS' && assignmentKeyText(o.key) === assignmentKeyText(key),
    );
  }

  private start(kind: 'create' | 'delete', key: AssignmentKey, failWith?: string) {
    const requestId = `op-${++this.next}`;
    const operation: Operation = {
      kind,
      key,
      status: { status: 'IN_PROGRESS', requestId },
      pollsLeft: this.pollsBeforeDone,
      ...(failWith ? { failWith } : {}),
    };
    this.operations.set(requestId, operation);
    if (operation.pollsLeft === 0) this.complete(operation);
    return clone(operation.status);
  }

  private poll(kind: 'create' | 'delete', operationId: string): AssignmentOperationStatus {
    const operation = this.operations.get(operationId);
    if (operation?.kind !== kind) throw new AccessError('not-found', `no ${kind} operation ${operationId}`);
    if (this.progressOnPolls && operation.status.status === 'IN_PROGRESS') {
      operation.pollsLeft--;
      if (operation.pollsLeft <= 0) this.complete(operation);
    }
    return clone(operation.status);
  }

  private complete(operation: Operation): void {
    const text = assignmentKeyText(operation.key);
    const requestId = operation.status.requestId;
    if (operation.failWith) {
      operation.status = { status: 'FAILED', requestId, failureReason: operation.failWith };
    } else if (operation.kind === 'delete' && !this.assigned.has(text)) {
      operation.status = {
        status: 'FAILED',
        requestId,
        failureReason: 'Received a 404 status error: Account assignment does not exist',
      };
    } else {
      operation.status = { status: 'SUCCEEDED', requestId };
      if (operation.kind === 'create') this.assigned.add(text);
      else this.assigned.delete(text);
    }
  }
}

export class FakeWorkflow implements Workflow {
  readonly running = new Set<string>();
  readonly stopped: string[] = [];
  readonly signals: Array<{ token: string; kind: 'success' | 'failure'; output?: unknown; error?: string }> =
    [];
  readonly liveTokens = new Set<string>();

  async start(input: import('../../functions/core/model').ExecutionInput) {
    await tick();
    const already = this.running.has(input.request.requestId);
    this.running.add(input.request.requestId);
    return { executionArn: `arn:exec:${input.request.requestId}`, alreadyStarted: already };
  }
  async sendSuccess(taskToken: string, output: Record<string, unknown>): Promise<TaskSignalResult> {
    await tick();
    this.signals.push({ token: taskToken, kind: 'success', output });
    return this.liveTokens.delete(taskToken) ? 'sent' : 'expired';
  }
  async sendFailure(taskToken: string, error?: string): Promise<TaskSignalResult> {
    await tick();
    this.signals.push({ token: taskToken, kind: 'failure', ...(error ? { error } : {}) });
    return this.liveTokens.delete(taskToken) ? 'sent' : 'expired';
  }
  async stop(requestId: string) {
    await tick();
    this.stopped.push(requestId);
    this.running.delete(requestId);
  }
  async isRunning(requestId: string) {
    await tick();
    return this.running.has(requestId);
  }
}

export class RecordingNotifier implements Notifier {
  readonly alerts: string[] = [];
  readonly notices: Array<{ requestId: string; notice: RequesterNotice; detail?: string }> = [];
  readonly approvalRequests: Array<{ requestId: string; approvers: string[] }> = [];
  readonly updates: string[] = [];
  /** The records each updateRequestMessages re-rendered, in order. */
  readonly rendered: RequestRecord[] = [];
  /** When set, each approver gets a DM copy kept through `keepCopy` (notifyApproversByDm). */
  dmCopies = false;

  async requestApproval(
    record: RequestRecord,
    approverEmails: string[],
    keep: (message: MessageRef) => Promise<RequestRecord | undefined>,
    keepCopy?: (copy: MessageRef) => Promise<RequestRecord | undefined>,
  ): Promise<void> {
    this.approvalRequests.push({ requestId: record.request.requestId, approvers: approverEmails });
    const n = this.approvalRequests.length;
    if (!record.approvalMessage) await keep({ channel: 'C0APPROVALS', ts: `${n}.000` });
    if (this.dmCopies)
      for (const [i, email] of approverEmails.entries())
        await keepCopy?.({ channel: `D-${email}`, ts: `${n}.${String(i + 1).padStart(3, '0')}` });
  }
  async updateRequestMessages(record: RequestRecord) {
    this.updates.push(record.request.requestId);
    this.rendered.push(clone(record));
  }
  /** Each DM handed to `keep` (the "Access ready" DM), as posted: where, and for which request. */
  readonly postedDms: Array<{ requestId: string; dm: MessageRef }> = [];
  /** The records each updateRequesterDm re-rendered its kept DM from, in order (none without one). */
  readonly requesterDmUpdates: RequestRecord[] = [];
  async notifyRequester(
    record: RequestRecord,
    notice: RequesterNotice,
    detail?: string,
    keep?: (dm: MessageRef) => Promise<void>,
  ) {
    this.notices.push({ requestId: record.request.requestId, notice, ...(detail ? { detail } : {}) });
    if (!keep) return;
    // Like Slack: each post is a new message of the requester's DM channel.
    const dm = { channel: `D-${record.request.requester.slackUserId}`, ts: `${this.notices.length}.700` };
    this.postedDms.push({ requestId: record.request.requestId, dm });
    await keep(dm);
  }
  async updateRequesterDm(record: RequestRecord) {
    if (record.requesterDm) this.requesterDmUpdates.push(clone(record));
  }
  async alert(text: string) {
    this.alerts.push(text);
  }
  readonly reminders: Array<{ requestId: string; approvers: string[] }> = [];
  async remindApprovers(record: RequestRecord, approverEmails: string[]) {
    this.reminders.push({ requestId: record.request.requestId, approvers: approverEmails });
  }
  readonly breakGlassAlerts: Array<{ requestId: string; reviewers: string[] }> = [];
  readonly breakGlassUpdates: Array<{ requestId: string; escalated: boolean }> = [];
  async breakGlassAlert(
    record: RequestRecord,
    reviewerEmails: string[],
    keep: (message: MessageRef) => Promise<void>,
  ) {
    this.breakGlassAlerts.push({ requestId: record.request.requestId, reviewers: reviewerEmails });
    await keep({
      channel: record.breakGlass?.alertChannel ?? 'C0SECURITY',
      ts: `${this.breakGlassAlerts.length}.500`,
    });
  }
  async breakGlassUpdate(record: RequestRecord, escalated: boolean) {
    this.breakGlassUpdates.push({ requestId: record.request.requestId, escalated });
  }
  noticesFor(requestId: string): RequesterNotice[] {
    return this.notices.filter((n) => n.requestId === requestId).map((n) => n.notice);
  }
}

/**
 * Identity Center group memberships in memory (identitystore's answers as the adapter maps them:
 * test/contracts/group-memberships.contract.test.ts runs both). `users`/`groups` name who exists
 * (undefined: everyone); `loseNextAnswer` makes the next addition land and its answer fail, as a
 * timed-out call whose request the service took.
 */
export class FakeMemberships implements GroupMemberships {
  readonly members = new Map<string, string>(); // membership id -> group|user
  users?: Set<string>;
  groups?: Set<string>;
  loseNextAnswer = false;
  calls: string[] = [];
  private seq = 0;

  private exists(groupId: string, userId: string): boolean {
    return (this.users?.has(userId) ?? true) && (this.groups?.has(groupId) ?? true);
  }

  /** A membership made outside the product (its IdP, an administrator). */
  seed(groupId: string, userId: string): string {
    const id = `m-${++this.seq}`;
    this.members.set(id, `${groupId}|${userId}`);
    return id;
  }

  isMember(groupId: string, userId: string): boolean {
    return [...this.members.values()].includes(`${groupId}|${userId}`);
  }

  async membershipId(groupId: string, userId: string) {
    await tick();
    this.calls.push('GetGroupMembershipId');
    if (!this.exists(groupId, userId)) return undefined;
    return [...this.members.entries()].find(([, v]) => v === `${groupId}|${userId}`)?.[0];
  }

  async add(groupId: string, userId: string) {
    await tick();
    this.calls.push('CreateGroupMembership');
    if (!this.exists(groupId, userId))
      throw new AccessError('membership-target-gone', `no user ${userId} or no group ${groupId}`);
    if (this.isMember(groupId, userId)) return { exists: true as const };
    const id = this.seed(groupId, userId);
    if (this.loseNextAnswer) {
      this.loseNextAnswer = false;
      throw new RetryableError('CreateGroupMembership: TimeoutError (injected)');
    }
    return { membershipId: id };
  }

  async remove(membershipId: string) {
    await tick();
    this.calls.push('DeleteGroupMembership');
    return this.members.delete(membershipId);
  }
}
