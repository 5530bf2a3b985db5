import { z } from 'zod';
import { evaluateSession, type RoleSessionView, type SessionVerdict } from './role-sessions';
import {
  ACCOUNT_ID_PATTERN,
  defaultSandboxSeed,
  deriveGroupId,
  deriveMembershipId,
  deriveUserId,
  INSTANCE_ARN_PATTERN,
  PERMISSION_SET_ARN_PATTERN,
  type SandboxFile,
} from './sandbox';
import {
  SERVICE_ERROR_NAMES,
  ServiceError,
  type ServiceErrorName,
  seededRandom,
  TokenBucket,
} from './support';

/** X-Amz-Target prefixes, as the SDK clients send them (protocolSettings.serviceTarget). */
export const SSO_ADMIN_TARGET_PREFIX = 'SWBExternalService';
export const IDENTITY_STORE_TARGET_PREFIX = 'AWSIdentityStore';

export type StandInService = 'sso-admin' | 'identitystore';
export type OperationStatus = 'IN_PROGRESS' | 'SUCCEEDED' | 'FAILED';
export type OperationOutcome = 'ok' | ServiceErrorName;

export interface FaultSettings {
  /** Probability (0..1) that any API call is answered with ThrottlingException. */
  throttleRate: number;
  /** Probability that a Create/DeleteAccountAssignment is answered with ConflictException. */
  conflictRate: number;
  /** Probability that any API call is answered with InternalServerException (HTTP 500). */
  internalErrorRate: number;
  /** Probability that an accepted creation ends FAILED. */
  failCreationRate: number;
  /** Probability that an accepted deletion ends FAILED. */
  failDeletionRate: number;
  /** Probability that an accepted ProvisionPermissionSet ends FAILED. */
  failProvisioningRate: number;
  /** Real-time delay before each API call is processed (not driven by the injected clock). */
  latencyMs: number;
  /** One-shot faults, consumed in order by the first call of the named operation. */
  failNext: OneShotFault[];
}

export interface OneShotFault {
  operation: string;
  /**
   * An error to answer with, or FAILED: accept the request, then end it FAILED (assignment writes
   * and ProvisionPermissionSet only).
   */
  error: ServiceErrorName | 'FAILED';
  message?: string;
}

const rate = z.number().min(0).max(1);
/** Partial fault settings plus an optional `seed` that restarts the RNG; used by setFaults and HTTP. */
export const faultSettingsUpdateSchema = z
  .object({
    throttleRate: rate,
    conflictRate: rate,
    internalErrorRate: rate,
    failCreationRate: rate,
    failDeletionRate: rate,
    failProvisioningRate: rate,
    latencyMs: z.number().min(0),
    failNext: z.array(
      z.object({
        operation: z.string().min(1),
        error: z.enum([...SERVICE_ERROR_NAMES, 'FAILED']),
        message: z.string().optional(),
      }),
    ),
    seed: z.number().int(),
  })
  .partial()
  .strict();
export type FaultSettingsUpdate = z.infer<typeof faultSettingsUpdateSchema>;

export interface IdentityCenterStandInOptions {
  /** The organisation to start from; defaults to `defaultSandboxSeed`. */
  sandbox?: SandboxFile;
  /** How long a creation/deletion stays IN_PROGRESS (injected-clock ms). Default 1000. */
  provisioningDelayMs?: number;
  /** Token-bucket refill rate shared by every operation of both services. Default 20; Infinity disables. */
  requestsPerSecond?: number;
  /** Token-bucket capacity. Default = requestsPerSecond. */
  burst?: number;
  /** Creations IN_PROGRESS at once before ThrottlingException. Default 10. */
  maxCreationsInFlight?: number;
  /** Page size when a List call gives no MaxResults. Default 100 (the AWS maximum). */
  defaultPageSize?: number;
  faults?: Partial<FaultSettings>;
  /** Seed of the RNG behind the fault rates. Default 1. */
  seed?: number;
  now?: () => number;
}

export interface AssignmentView {
  accountId: string;
  permissionSetArn: string;
  principalType: 'USER' | 'GROUP';
  principalId: string;
}

export interface AssignmentRequestView extends AssignmentView {
  requestId: string;
  kind: 'creation' | 'deletion';
  status: OperationStatus;
  failureReason?: string;
  createdAt: number;
  completesAt: number;
}

export interface OperationLogEntry {
  seq: number;
  /** Injected-clock epoch ms. */
  at: number;
  service: StandInService;
  operation: string;
  params: unknown;
  outcome: OperationOutcome;
  errorMessage?: string;
  /** The assignment request id a Create/Delete started. */
  requestId?: string;
}

export interface StandInCounters {
  calls: number;
  errors: number;
  throttled: number;
  conflicts: number;
  internalErrors: number;
  creationsRequested: number;
  creationsSucceeded: number;
  creationsFailed: number;
  deletionsRequested: number;
  deletionsSucceeded: number;
  deletionsFailed: number;
  /** Highest number of creations IN_PROGRESS at the same time. */
  peakCreationsInFlight: number;
  provisioningsRequested: number;
  provisioningsSucceeded: number;
  provisioningsFailed: number;
}

/** A ProvisionPermissionSet request: the inline policy as it was asked for, copied to the account's role when it succeeds. */
export interface ProvisioningRequestView {
  requestId: string;
  permissionSetArn: string;
  /** The account (AWS_ACCOUNT), or every account the permission set is provisioned to. */
  accountIds: string[];
  targetType: 'AWS_ACCOUNT' | 'ALL_PROVISIONED_ACCOUNTS';
  status: OperationStatus;
  failureReason?: string;
  createdAt: number;
  completesAt: number;
}

export type { RoleSessionView, SessionVerdict } from './role-sessions';

export interface StandInReply {
  status: number;
  body: Record<string, unknown>;
}

export interface SeededUser {
  userId: string;
  userName: string;
  email: string;
  displayName: string;
  externalId?: { issuer: string; id: string };
}

export interface SeededGroup {
  groupId: string;
  displayName: string;
  description?: string;
  externalId?: { issuer: string; id: string };
}

/** A group with its current members (the admin view). */
export interface GroupView extends SeededGroup {
  members: { membershipId: string; userId: string; userName: string }[];
}

interface Membership {
  membershipId: string;
  groupId: string;
  userId: string;
}

interface AssignmentRequest extends AssignmentRequestView {
  /** Decided when the request is accepted, so the RNG sequence does not depend on polling. */
  plannedFailure?: string;
}

interface ProvisioningRequest extends ProvisioningRequestView {
  /** The permission set's inline policy when the provisioning was asked for ('' for none). */
  inlinePolicy: string;
  plannedFailure?: string;
}

type Handler = (input: unknown) => Record<string, unknown>;

const NO_FAULTS: FaultSettings = {
  throttleRate: 0,
  conflictRate: 0,
  internalErrorRate: 0,
  failCreationRate: 0,
  failDeletionRate: 0,
  failProvisioningRate: 0,
  latencyMs: 0,
  failNext: [],
};

function emptyCounters(): StandInCounters {
  return {
    calls: 0,
    errors: 0,
    throttled: 0,
    conflicts: 0,
    internalErrors: 0,
    creationsRequested: 0,
    creationsSucceeded: 0,
    creationsFailed: 0,
    deletionsRequested: 0,
    deletionsSucceeded: 0,
    deletionsFailed: 0,
    peakCreationsInFlight: 0,
    provisioningsRequested: 0,
    provisioningsSucceeded: 0,
    provisioningsFailed: 0,
  };
}

const epochSeconds = (ms: number): number => ms / 1000;
const assignmentKey = (a: AssignmentView): string =>
  `${a.accountId}|${a.permissionSetArn}|${a.principalType}|${a.principalId}`;
const roleKey = (accountId: string, permissionSetArn: string): string => `${accountId}|${permissionSetArn}`;
/** IAM Identity Center quotas: an inline policy of at most 32,768 bytes, 10,240 of them non-whitespace. */
const INLINE_POLICY_MAX_BYTES = 32_768;
const INLINE_POLICY_MAX_NON_WHITESPACE = 10_240;

// Request shapes: only the members the stand-in reads; unknown members are ignored like AWS does.
const instanceArn = z.string().regex(INSTANCE_ARN_PATTERN);
const permissionSetArn = z.string().regex(PERMISSION_SET_ARN_PATTERN);
const paging = {
  MaxResults: z.number().int().min(1).max(100).optional(),
  NextToken: z.string().optional(),
};
const assignmentWriteInput = z.object({
  InstanceArn: instanceArn,
  TargetId: z.string().regex(ACCOUNT_ID_PATTERN),
  TargetType: z.literal('AWS_ACCOUNT'),
  PermissionSetArn: permissionSetArn,
  PrincipalType: z.enum(['USER', 'GROUP']),
  PrincipalId: z.string().min(1).max(47),
});
const identityStoreId = z.string().min(1).max(36);
const resourceId = z.string().min(1).max(47);
const memberId = z.object({ UserId: resourceId });
const alternateIdentifier = z.object({
  UniqueAttribute: z.object({ AttributePath: z.string(), AttributeValue: z.unknown() }).optional(),
  ExternalId: z.object({ Issuer: z.string(), Id: z.string() }).optional(),
});

export class IdentityCenterStandIn {
  private readonly now: () => number;
  private readonly options: Required<Omit<IdentityCenterStandInOptions, 'faults' | 'now' | 'sandbox'>>;
  private readonly initialFaults: FaultSettings;
  private sandbox: SandboxFile;
  private seededUsers: SeededUser[] = [];
  private seededGroups: SeededGroup[] = [];
  /** Group memberships in the order they were made (listings page through them in this order). */
  private memberships = new Map<string, Membership>();
  private assignments = new Map<string, AssignmentView>();
  private requests = new Map<string, AssignmentRequest>();
  /** Permission sets' inline policies, as PutInlinePolicyToPermissionSet leaves them. */
  private inlinePolicies = new Map<string, string>();
  /** Each account's role of a permission set: the inline policy it was last provisioned with. */
  private provisionedRoles = new Map<string, string>();
  private provisionings = new Map<string, ProvisioningRequest>();
  private sessions = new Map<string, RoleSessionView>();
  private sessionSeq = 0;
  private log: OperationLogEntry[] = [];
  private count: StandInCounters = emptyCounters();
  private faultSettings: FaultSettings;
  private random: () => number;
  private bucket: TokenBucket;
  private requestSeq = 0;
  private readonly handlers: Record<string, Handler>;

  constructor(options: IdentityCenterStandInOptions = {}) {
    this.now = options.now ?? Date.now;
    const requestsPerSecond = options.requestsPerSecond ?? 20;
    this.options = {
      provisioningDelayMs: options.provisioningDelayMs ?? 1000,
      requestsPerSecond,
      burst: options.burst ?? requestsPerSecond,
      maxCreationsInFlight: options.maxCreationsInFlight ?? 10,
      defaultPageSize: options.defaultPageSize ?? 100,
      seed: options.seed ?? 1,
    };
    this.initialFaults = { ...NO_FAULTS, ...options.faults, failNext: [...(options.faults?.failNext ?? [])] };
    this.faultSettings = { ...this.initialFaults, failNext: [...this.initialFaults.failNext] };
    this.random = seededRandom(this.options.seed);
    this.bucket = this.newBucket();
    this.sandbox = options.sandbox ?? defaultSandboxSeed;
    this.loadSandbox(this.sandbox);
    this.handlers = {
      [`${SSO_ADMIN_TARGET_PREFIX}.ListInstances`]: (i) => this.listInstances(i),
      [`${SSO_ADMIN_TARGET_PREFIX}.ListPermissionSets`]: (i) => this.listPermissionSets(i),
      [`${SSO_ADMIN_TARGET_PREFIX}.DescribePermissionSet`]: (i) => this.describePermissionSet(i),
      [`${SSO_ADMIN_TARGET_PREFIX}.ListAccountAssignments`]: (i) => this.listAccountAssignments(i),
      [`${SSO_ADMIN_TARGET_PREFIX}.CreateAccountAssignment`]: (i) => this.writeAssignment('creation', i),
      [`${SSO_ADMIN_TARGET_PREFIX}.DeleteAccountAssignment`]: (i) => this.writeAssignment('deletion', i),
      [`${SSO_ADMIN_TARGET_PREFIX}.DescribeAccountAssignmentCreationStatus`]: (i) =>
        this.describeRequest('creation', i),
      [`${SSO_ADMIN_TARGET_PREFIX}.DescribeAccountAssignmentDeletionStatus`]: (i) =>
        this.describeRequest('deletion', i),
      [`${SSO_ADMIN_TARGET_PREFIX}.ListAccountAssignmentCreationStatus`]: (i) =>
        this.listRequests('creation', i),
      [`${SSO_ADMIN_TARGET_PREFIX}.ListAccountAssignmentDeletionStatus`]: (i) =>
        this.listRequests('deletion', i),
      [`${SSO_ADMIN_TARGET_PREFIX}.GetInlinePolicyForPermissionSet`]: (i) => this.getInlinePolicy(i),
      [`${SSO_ADMIN_TARGET_PREFIX}.PutInlinePolicyToPermissionSet`]: (i) => this.putInlinePolicy(i),
      [`${SSO_ADMIN_TARGET_PREFIX}.DeleteInlinePolicyFromPermissionSet`]: (i) => this.deleteInlinePolicy(i),
      [`${SSO_ADMIN_TARGET_PREFIX}.ProvisionPermissionSet`]: (i) => this.provisionPermissionSet(i),
      [`${SSO_ADMIN_TARGET_PREFIX}.DescribePermissionSetProvisioningStatus`]: (i) =>
        this.describeProvisioning(i),
      [`${IDENTITY_STORE_TARGET_PREFIX}.GetUserId`]: (i) => this.getUserId(i),
      [`${IDENTITY_STORE_TARGET_PREFIX}.DescribeUser`]: (i) => this.describeUser(i),
      [`${IDENTITY_STORE_TARGET_PREFIX}.ListUsers`]: (i) => this.listUsersOperation(i),
      [`${IDENTITY_STORE_TARGET_PREFIX}.GetGroupId`]: (i) => this.getGroupId(i),
      [`${IDENTITY_STORE_TARGET_PREFIX}.DescribeGroup`]: (i) => this.describeGroup(i),
      [`${IDENTITY_STORE_TARGET_PREFIX}.ListGroupMemberships`]: (i) => this.listGroupMemberships(i),
      [`${IDENTITY_STORE_TARGET_PREFIX}.IsMemberInGroups`]: (i) => this.isMemberInGroups(i),
      [`${IDENTITY_STORE_TARGET_PREFIX}.ListGroupMembershipsForMember`]: (i) =>
        this.listGroupMembershipsForMember(i),
      [`${IDENTITY_STORE_TARGET_PREFIX}.GetGroupMembershipId`]: (i) => this.getGroupMembershipId(i),
      [`${IDENTITY_STORE_TARGET_PREFIX}.CreateGroupMembership`]: (i) => this.createGroupMembership(i),
      [`${IDENTITY_STORE_TARGET_PREFIX}.DeleteGroupMembership`]: (i) => this.deleteGroupMembership(i),
    };
  }

  /** Answers one API call, given its X-Amz-Target and parsed JSON body. Never throws. */
  async handle(target: string, input: unknown): Promise<StandInReply> {
    const latency = this.faultSettings.latencyMs;
    if (latency > 0) await new Promise((resolve) => setTimeout(resolve, latency));
    const [prefix = '', operation = ''] = target.split('.', 2);
    const service: StandInService = prefix === IDENTITY_STORE_TARGET_PREFIX ? 'identitystore' : 'sso-admin';
    const entry: OperationLogEntry = {
      seq: this.log.length + 1,
      at: this.now(),
      service,
      operation: operation || target,
      params: input,
      outcome: 'ok',
    };
    this.log.push(entry);
    this.count.calls += 1;
    this.settle();
    try {
      const handler = this.handlers[target];
      if (!handler) throw new ServiceError('UnknownOperationException', `Unknown operation ${target}`);
      this.injectFaults(operation);
      const output = handler(input);
      const requestId = requestIdOf(output);
      if (requestId) entry.requestId = requestId;
      return { status: 200, body: output };
    } catch (error) {
      const serviceError =
        error instanceof ServiceError
          ? error
          : new ServiceError(
              'InternalServerException',
              error instanceof Error ? error.message : String(error),
            );
      entry.outcome = serviceError.errorName;
      entry.errorMessage = serviceError.message;
      this.count.errors += 1;
      if (serviceError.errorName === 'ThrottlingException') this.count.throttled += 1;
      if (serviceError.errorName === 'ConflictException') this.count.conflicts += 1;
      if (serviceError.errorName === 'InternalServerException') this.count.internalErrors += 1;
      return { status: serviceError.httpStatus, body: serviceError.toBody() };
    }
  }

  /** Replaces the given fault settings (failNext replaces the queue); `seed` restarts the RNG. */
  setFaults(update: FaultSettingsUpdate): FaultSettings {
    const parsed = faultSettingsUpdateSchema.parse(update);
    const { seed, failNext, ...rates } = parsed;
    this.faultSettings = { ...this.faultSettings, ...rates };
    if (failNext) this.faultSettings.failNext = failNext.map((f) => ({ ...f }));
    if (seed !== undefined) this.random = seededRandom(seed);
    return this.faults();
  }

  faults(): FaultSettings {
    return { ...this.faultSettings, failNext: this.faultSettings.failNext.map((f) => ({ ...f })) };
  }

  /** Current assignments, after applying every request whose delay has passed. */
  listAssignments(): AssignmentView[] {
    this.settle();
    return [...this.assignments.values()].map((a) => ({ ...a }));
  }

  /** Every creation/deletion request with its current status. */
  assignmentRequests(): AssignmentRequestView[] {
    this.settle();
    return [...this.requests.values()].map(({ plannedFailure: _planned, ...view }) => ({ ...view }));
  }

  operationLog(): OperationLogEntry[] {
    return this.log.map((e) => ({ ...e }));
  }

  counters(): StandInCounters {
    this.settle();
    return { ...this.count };
  }

  /** The users, as seeded (ids filled in). */
  users(): SeededUser[] {
    return this.seededUsers.map((u) => ({ ...u }));
  }

  /** The groups with their current members. */
  groups(): GroupView[] {
    return this.seededGroups.map((group) => ({
      ...group,
      members: [...this.memberships.values()]
        .filter((m) => m.groupId === group.groupId)
        .map((m) => ({
          membershipId: m.membershipId,
          userId: m.userId,
          userName: this.seededUsers.find((u) => u.userId === m.userId)?.userName ?? m.userId,
        })),
    }));
  }

  /**
   * Adds a user (userName or user id) to a group (display name or group id), as the IdP's SCIM
   * sync or CreateGroupMembership would; returns the membership id. Adding a member again
   * changes nothing. Not an API call: no faults, no log entry.
   */
  addGroupMember(group: string, user: string): string {
    const { groupId } = this.requireAdminGroup(group);
    const { userId } = this.requireAdminUser(user);
    const membershipId = deriveMembershipId(groupId, userId);
    if (!this.memberships.has(membershipId))
      this.memberships.set(membershipId, { membershipId, groupId, userId });
    return membershipId;
  }

  /** Takes a user out of a group (DeleteGroupMembership); false when they were not in it. */
  removeGroupMember(group: string, user: string): boolean {
    const { groupId } = this.requireAdminGroup(group);
    const { userId } = this.requireAdminUser(user);
    return this.memberships.delete(deriveMembershipId(groupId, userId));
  }

  /**
   * An admin (or the IdP's SCIM deprovisioning) deletes a user (userName or user id): as AWS
   * documents it, "it removes their access to AWS accounts and applications" and they can no
   * longer sign in (https://docs.aws.amazon.com/singlesignon/latest/userguide/deleteusers.html):
   * their assignments and memberships go, DescribeUser answers ResourceNotFoundException. Role
   * sessions already issued stay valid until they expire, which is why the guide's remedy is a
   * deny statement on `identitystore:userId`. Not an API call: no faults, no log entry.
   */
  deleteUser(user: string): void {
    const { userId } = this.requireAdminUser(user);
    this.settle();
    this.seededUsers = this.seededUsers.filter((u) => u.userId !== userId);
    for (const [key, assignment] of this.assignments)
      if (assignment.principalType === 'USER' && assignment.principalId === userId)
        this.assignments.delete(key);
    for (const [id, membership] of this.memberships)
      if (membership.userId === userId) this.memberships.delete(id);
  }

  // ---- role sessions and permission set policies (admin, not API calls: no faults, no log) -----

  /**
   * A role session issued now to a user (userName or user id) who holds the permission set on the
   * account (directly or through a group): what signing in through the access portal gives. It
   * lasts the permission set's session duration, whatever happens to the assignment afterwards.
   */
  issueSession(request: { user: string; accountId: string; permissionSetArn: string }): RoleSessionView {
    this.settle();
    const { userId } = this.requireAdminUser(request.user);
    const permissionSet = this.sandbox.permissionSets.find((p) => p.arn === request.permissionSetArn);
    if (!permissionSet) throw new Error(`no permission set ${request.permissionSetArn}`);
    const groups = new Set(
      [...this.memberships.values()].filter((m) => m.userId === userId).map((m) => m.groupId),
    );
    const assigned = [...this.assignments.values()].some(
      (a) =>
        a.accountId === request.accountId &&
        a.permissionSetArn === request.permissionSetArn &&
        (a.principalType === 'USER' ? a.principalId === userId : groups.has(a.principalId)),
    );
    if (!assigned)
      throw new Error(
        `${request.user} holds no assignment of ${permissionSet.name} on ${request.accountId}: sign-in refused`,
      );
    const issuedAt = this.now();
    this.sessionSeq += 1;
    const session: RoleSessionView = {
      sessionId: `session-${this.sessionSeq.toString().padStart(6, '0')}`,
      userId,
      accountId: request.accountId,
      permissionSetArn: request.permissionSetArn,
      issuedAt,
      expiresAt: issuedAt + durationMs(permissionSet.sessionDuration ?? 'PT1H'),
    };
    this.sessions.set(session.sessionId, session);
    return { ...session };
  }

  /** A call made with the session now: refused once it expired, or when the account's role denies it. */
  useSession(sessionId: string): SessionVerdict {
    this.settle();
    const session = this.sessions.get(sessionId);
    if (!session) throw new Error(`no session ${sessionId}`);
    return evaluateSession(
      session,
      this.provisionedRoles.get(roleKey(session.accountId, session.permissionSetArn)),
      this.now(),
    );
  }

  /** Every session issued, with what a call with it would get now. */
  roleSessions(): Array<RoleSessionView & { verdict: SessionVerdict }> {
    return [...this.sessions.values()].map((s) => ({ ...s, verdict: this.useSession(s.sessionId) }));
  }

  /** A permission set's inline policy ('' when none) and the copy each account's role was provisioned with. */
  permissionSetPolicy(permissionSetArn: string): {
    inlinePolicy: string;
    provisioned: Record<string, string>;
  } {
    this.settle();
    const provisioned: Record<string, string> = {};
    for (const [key, policy] of this.provisionedRoles) {
      const [accountId = '', arn] = key.split('|');
      if (arn === permissionSetArn) provisioned[accountId] = policy;
    }
    return { inlinePolicy: this.inlinePolicies.get(permissionSetArn) ?? '', provisioned };
  }

  /** An owner's edit of the inline policy (the console, another tool), not provisioned anywhere. */
  setInlinePolicy(permissionSetArn: string, policy: string): void {
    this.requirePermissionSet(permissionSetArn);
    if (policy === '') this.inlinePolicies.delete(permissionSetArn);
    else this.inlinePolicies.set(permissionSetArn, policy);
  }

  provisioningRequests(): ProvisioningRequestView[] {
    this.settle();
    return [...this.provisionings.values()].map(
      ({ inlinePolicy: _policy, plannedFailure: _planned, ...view }) => ({
        ...view,
        accountIds: [...view.accountIds],
      }),
    );
  }

  /** Back to the seeded state: assignments, group memberships, requests, logs, counters, faults, RNG and token bucket. */
  reset(sandbox?: SandboxFile): void {
    if (sandbox) this.sandbox = sandbox;
    this.loadSandbox(this.sandbox);
    this.requests.clear();
    this.inlinePolicies.clear();
    this.provisionings.clear();
    this.sessions.clear();
    this.sessionSeq = 0;
    this.log = [];
    this.count = emptyCounters();
    this.faultSettings = { ...this.initialFaults, failNext: [...this.initialFaults.failNext] };
    this.random = seededRandom(this.options.seed);
    this.bucket = this.newBucket();
    this.requestSeq = 0;
  }

  /** Applies every IN_PROGRESS request whose delay has passed, in completion order. */
  settle(): void {
    const now = this.now();
    const due = [...this.requests.values()]
      .filter((r) => r.status === 'IN_PROGRESS' && r.completesAt <= now)
      .sort((a, b) => a.completesAt - b.completesAt);
    for (const request of due) {
      const key = assignmentKey(request);
      let failure = request.plannedFailure;
      if (!failure && request.kind === 'deletion' && !this.assignments.has(key)) {
        // AWS reports a missing assignment through the deletion status, not the API call.
        failure = `Received a 404 status error: Account assignment for principal ${request.principalId} does not exist`;
      }
      if (failure) {
        request.status = 'FAILED';
        request.failureReason = failure;
      } else {
        request.status = 'SUCCEEDED';
        if (request.kind === 'creation') {
          this.assignments.set(key, pickAssignment(request));
          // The first assignment of a permission set on an account creates its role there, with
          // the inline policy the permission set has now.
          const role = roleKey(request.accountId, request.permissionSetArn);
          if (!this.provisionedRoles.has(role))
            this.provisionedRoles.set(role, this.inlinePolicies.get(request.permissionSetArn) ?? '');
        } else this.assignments.delete(key);
      }
      const outcome = request.status === 'SUCCEEDED' ? 'Succeeded' : 'Failed';
      const counter =
        request.kind === 'creation' ? (`creations${outcome}` as const) : (`deletions${outcome}` as const);
      this.count[counter] += 1;
    }
    const provisioned = [...this.provisionings.values()]
      .filter((r) => r.status === 'IN_PROGRESS' && r.completesAt <= now)
      .sort((a, b) => a.completesAt - b.completesAt);
    for (const request of provisioned) {
      if (request.plannedFailure) {
        request.status = 'FAILED';
        request.failureReason = request.plannedFailure;
        this.count.provisioningsFailed += 1;
        continue;
      }
      request.status = 'SUCCEEDED';
      for (const accountId of request.accountIds)
        this.provisionedRoles.set(roleKey(accountId, request.permissionSetArn), request.inlinePolicy);
      this.count.provisioningsSucceeded += 1;
    }
  }

  // ---- fault injection ---------------------------------------------------------------------

  private injectFaults(operation: string): void {
    if (!this.bucket.tryTake()) throw new ServiceError('ThrottlingException', 'Rate exceeded');
    const queue = this.faultSettings.failNext;
    const index = queue.findIndex((f) => f.operation === operation && f.error !== 'FAILED');
    if (index >= 0) {
      const [fault] = queue.splice(index, 1);
      if (fault && fault.error !== 'FAILED') {
        throw new ServiceError(fault.error, fault.message ?? `Injected ${fault.error} for ${operation}`);
      }
    }
    const faults = this.faultSettings;
    if (this.chance(faults.throttleRate)) throw new ServiceError('ThrottlingException', 'Rate exceeded');
    if (this.chance(faults.internalErrorRate)) {
      throw new ServiceError('InternalServerException', 'An internal error occurred (injected)');
    }
    const isWrite =
      operation === 'CreateAccountAssignment' ||
      operation === 'DeleteAccountAssignment' ||
      operation === 'PutInlinePolicyToPermissionSet' ||
      operation === 'ProvisionPermissionSet';
    if (isWrite && this.chance(faults.conflictRate)) {
      throw new ServiceError(
        'ConflictException',
        'Operation conflicts with another in-progress operation on this account assignment (injected)',
      );
    }
  }

  /** Draws only for enabled rates, so a campaign's sequence depends on the faults switched on, not on others. */
  private chance(probability: number): boolean {
    return probability > 0 && this.random() < probability;
  }

  private takeFailedStatusFault(operation: string): string | undefined {
    const queue = this.faultSettings.failNext;
    const index = queue.findIndex((f) => f.operation === operation && f.error === 'FAILED');
    if (index < 0) return undefined;
    const [fault] = queue.splice(index, 1);
    return fault?.message ?? `Injected failure for ${operation}`;
  }

  // ---- sso-admin -----------------------------------------------------------------------------

  private listInstances(input: unknown): Record<string, unknown> {
    const req = parse(z.object(paging), input ?? {});
    const instance = {
      InstanceArn: this.sandbox.instanceArn,
      IdentityStoreId: this.sandbox.identityStoreId,
      Name: 'sandbox',
      Status: 'ACTIVE',
      CreatedDate: epochSeconds(Date.UTC(2024, 0, 1)),
    };
    const page = this.paginate('ListInstances', [instance], req.MaxResults, req.NextToken);
    return { Instances: page.items, ...page.next };
  }

  private listPermissionSets(input: unknown): Record<string, unknown> {
    const req = parse(z.object({ InstanceArn: instanceArn, ...paging }), input);
    this.requireInstance(req.InstanceArn);
    const arns = this.sandbox.permissionSets.map((p) => p.arn);
    const page = this.paginate('ListPermissionSets', arns, req.MaxResults, req.NextToken);
    return { PermissionSets: page.items, ...page.next };
  }

  private describePermissionSet(input: unknown): Record<string, unknown> {
    const req = parse(z.object({ InstanceArn: instanceArn, PermissionSetArn: permissionSetArn }), input);
    this.requireInstance(req.InstanceArn);
    const ps = this.requirePermissionSet(req.PermissionSetArn);
    return {
      PermissionSet: {
        Name: ps.name,
        PermissionSetArn: ps.arn,
        Description: ps.description,
        CreatedDate: epochSeconds(Date.UTC(2024, 0, 1)),
        SessionDuration: ps.sessionDuration ?? 'PT1H',
      },
    };
  }

  private listAccountAssignments(input: unknown): Record<string, unknown> {
    const req = parse(
      z.object({
        InstanceArn: instanceArn,
        AccountId: z.string().regex(ACCOUNT_ID_PATTERN),
        PermissionSetArn: permissionSetArn,
        ...paging,
      }),
      input,
    );
    this.requireInstance(req.InstanceArn);
    this.requirePermissionSet(req.PermissionSetArn);
    const matching = [...this.assignments.values()].filter(
      (a) => a.accountId === req.AccountId && a.permissionSetArn === req.PermissionSetArn,
    );
    const page = this.paginate('ListAccountAssignments', matching, req.MaxResults, req.NextToken);
    return {
      AccountAssignments: page.items.map((a) => ({
        AccountId: a.accountId,
        PermissionSetArn: a.permissionSetArn,
        PrincipalType: a.principalType,
        PrincipalId: a.principalId,
      })),
      ...page.next,
    };
  }

  private writeAssignment(kind: 'creation' | 'deletion', input: unknown): Record<string, unknown> {
    const req = parse(assignmentWriteInput, input);
    this.requireInstance(req.InstanceArn);
    if (!this.sandbox.accounts.some((a) => a.id === req.TargetId)) {
      throw new ServiceError(
        'ValidationException',
        `Account ${req.TargetId} is not a member of the organization`,
      );
    }
    this.requirePermissionSet(req.PermissionSetArn);
    if (req.PrincipalType === 'GROUP' || !this.seededUsers.some((u) => u.userId === req.PrincipalId)) {
      throw new ServiceError(
        'ResourceNotFoundException',
        `${req.PrincipalType} ${req.PrincipalId} does not exist`,
      );
    }
    const target: AssignmentView = {
      accountId: req.TargetId,
      permissionSetArn: req.PermissionSetArn,
      principalType: req.PrincipalType,
      principalId: req.PrincipalId,
    };
    const key = assignmentKey(target);
    const inProgress = [...this.requests.values()].filter((r) => r.status === 'IN_PROGRESS');
    if (inProgress.some((r) => assignmentKey(r) === key)) {
      throw new ServiceError(
        'ConflictException',
        'An account assignment operation is already in progress for this principal, account and permission set',
      );
    }
    const creationsInFlight = inProgress.filter((r) => r.kind === 'creation').length;
    if (kind === 'creation' && creationsInFlight >= this.options.maxCreationsInFlight) {
      throw new ServiceError(
        'ThrottlingException',
        `Too many account assignment creations in progress (limit ${this.options.maxCreationsInFlight})`,
      );
    }
    const operation = kind === 'creation' ? 'CreateAccountAssignment' : 'DeleteAccountAssignment';
    const rate =
      kind === 'creation' ? this.faultSettings.failCreationRate : this.faultSettings.failDeletionRate;
    const plannedFailure =
      this.takeFailedStatusFault(operation) ??
      (this.chance(rate)
        ? `Received a 500 status error: injected ${kind} failure for principal ${req.PrincipalId}`
        : undefined);
    const now = this.now();
    this.requestSeq += 1;
    const request: AssignmentRequest = {
      ...target,
      requestId: this.newRequestId(),
      kind,
      status: 'IN_PROGRESS',
      createdAt: now,
      completesAt: now + this.options.provisioningDelayMs,
      ...(plannedFailure ? { plannedFailure } : {}),
    };
    this.requests.set(request.requestId, request);
    if (kind === 'creation') {
      this.count.creationsRequested += 1;
      this.count.peakCreationsInFlight = Math.max(this.count.peakCreationsInFlight, creationsInFlight + 1);
    } else {
      this.count.deletionsRequested += 1;
    }
    const member =
      kind === 'creation' ? 'AccountAssignmentCreationStatus' : 'AccountAssignmentDeletionStatus';
    return { [member]: statusShape(request) };
  }

  private describeRequest(kind: 'creation' | 'deletion', input: unknown): Record<string, unknown> {
    const idMember =
      kind === 'creation' ? 'AccountAssignmentCreationRequestId' : 'AccountAssignmentDeletionRequestId';
    const req = parse(z.object({ InstanceArn: instanceArn }), input);
    const requestId = parse(z.record(z.string(), z.unknown()), input)[idMember];
    if (typeof requestId !== 'string' || requestId === '') {
      throw new ServiceError(
        'ValidationException',
        `Value at '${idMember}' failed to satisfy constraint: required`,
      );
    }
    this.requireInstance(req.InstanceArn);
    const request = this.requests.get(requestId);
    if (!request || request.kind !== kind) {
      throw new ServiceError(
        'ResourceNotFoundException',
        `Account assignment ${kind} request ${requestId} not found`,
      );
    }
    const member =
      kind === 'creation' ? 'AccountAssignmentCreationStatus' : 'AccountAssignmentDeletionStatus';
    return { [member]: statusShape(request) };
  }

  private listRequests(kind: 'creation' | 'deletion', input: unknown): Record<string, unknown> {
    const req = parse(
      z.object({
        InstanceArn: instanceArn,
        ...paging,
        Filter: z.object({ Status: z.enum(['IN_PROGRESS', 'FAILED', 'SUCCEEDED']).optional() }).optional(),
      }),
      input,
    );
    this.requireInstance(req.InstanceArn);
    const matching = [...this.requests.values()].filter(
      (r) => r.kind === kind && (!req.Filter?.Status || r.status === req.Filter.Status),
    );
    const operation =
      kind === 'creation' ? 'ListAccountAssignmentCreationStatus' : 'ListAccountAssignmentDeletionStatus';
    const page = this.paginate(operation, matching, req.MaxResults, req.NextToken);
    const member =
      kind === 'creation' ? 'AccountAssignmentsCreationStatus' : 'AccountAssignmentsDeletionStatus';
    return {
      [member]: page.items.map((r) => ({
        Status: r.status,
        RequestId: r.requestId,
        CreatedDate: epochSeconds(r.createdAt),
      })),
      ...page.next,
    };
  }

  // Inline policies and their provisioning: what ending sessions at revoke needs.
  // https://docs.aws.amazon.com/singlesignon/latest/APIReference/API_PutInlinePolicyToPermissionSet.html

  private getInlinePolicy(input: unknown): Record<string, unknown> {
    const req = parse(z.object({ InstanceArn: instanceArn, PermissionSetArn: permissionSetArn }), input);
    this.requireInstance(req.InstanceArn);
    this.requirePermissionSet(req.PermissionSetArn);
    const policy = this.inlinePolicies.get(req.PermissionSetArn);
    // InlinePolicy has a minimum length of 1: a permission set without one answers without it.
    return policy ? { InlinePolicy: policy } : {};
  }

  private putInlinePolicy(input: unknown): Record<string, unknown> {
    const req = parse(
      z.object({
        InstanceArn: instanceArn,
        PermissionSetArn: permissionSetArn,
        InlinePolicy: z.string().min(1).max(INLINE_POLICY_MAX_BYTES),
      }),
      input,
    );
    this.requireInstance(req.InstanceArn);
    this.requirePermissionSet(req.PermissionSetArn);
    const problem = inlinePolicyProblem(req.InlinePolicy);
    if (problem) throw new ServiceError('ValidationException', `The inline policy ${problem}`);
    this.inlinePolicies.set(req.PermissionSetArn, req.InlinePolicy);
    return {};
  }

  private deleteInlinePolicy(input: unknown): Record<string, unknown> {
    const req = parse(z.object({ InstanceArn: instanceArn, PermissionSetArn: permissionSetArn }), input);
    this.requireInstance(req.InstanceArn);
    this.requirePermissionSet(req.PermissionSetArn);
    this.inlinePolicies.delete(req.PermissionSetArn);
    return {};
  }

  private provisionPermissionSet(input: unknown): Record<string, unknown> {
    const req = parse(
      z.object({
        InstanceArn: instanceArn,
        PermissionSetArn: permissionSetArn,
        TargetType: z.enum(['AWS_ACCOUNT', 'ALL_PROVISIONED_ACCOUNTS']),
        TargetId: z.string().regex(ACCOUNT_ID_PATTERN).optional(),
      }),
      input,
    );
    this.requireInstance(req.InstanceArn);
    this.requirePermissionSet(req.PermissionSetArn);
    let accountIds: string[];
    if (req.TargetType === 'AWS_ACCOUNT') {
      if (!req.TargetId)
        throw new ServiceError('ValidationException', 'TargetId is required when TargetType is AWS_ACCOUNT');
      if (!this.sandbox.accounts.some((a) => a.id === req.TargetId))
        throw new ServiceError(
          'ValidationException',
          `Account ${req.TargetId} is not a member of the organization`,
        );
      accountIds = [req.TargetId];
    } else {
      accountIds = [...this.provisionedRoles.keys()]
        .map((key) => key.split('|'))
        .filter(([, arn]) => arn === req.PermissionSetArn)
        .map(([accountId = '']) => accountId);
    }
    // Quotas: one IAM role (permission set) of an account updated at a time.
    const busy = [...this.provisionings.values()].some(
      (r) =>
        r.status === 'IN_PROGRESS' &&
        r.permissionSetArn === req.PermissionSetArn &&
        r.accountIds.some((id) => accountIds.includes(id)),
    );
    if (busy)
      throw new ServiceError(
        'ConflictException',
        'A provisioning of this permission set to the account is already in progress',
      );
    const plannedFailure =
      this.takeFailedStatusFault('ProvisionPermissionSet') ??
      (this.chance(this.faultSettings.failProvisioningRate)
        ? `Received a 500 status error: injected provisioning failure for ${req.PermissionSetArn}`
        : undefined);
    const now = this.now();
    this.requestSeq += 1;
    const request: ProvisioningRequest = {
      requestId: this.newRequestId(),
      permissionSetArn: req.PermissionSetArn,
      accountIds,
      targetType: req.TargetType,
      status: 'IN_PROGRESS',
      createdAt: now,
      completesAt: now + this.options.provisioningDelayMs,
      inlinePolicy: this.inlinePolicies.get(req.PermissionSetArn) ?? '',
      ...(plannedFailure ? { plannedFailure } : {}),
    };
    this.provisionings.set(request.requestId, request);
    this.count.provisioningsRequested += 1;
    return { PermissionSetProvisioningStatus: provisioningShape(request) };
  }

  private describeProvisioning(input: unknown): Record<string, unknown> {
    const req = parse(
      z.object({ InstanceArn: instanceArn, ProvisionPermissionSetRequestId: z.string().min(1) }),
      input,
    );
    this.requireInstance(req.InstanceArn);
    const request = this.provisionings.get(req.ProvisionPermissionSetRequestId);
    if (!request)
      throw new ServiceError(
        'ResourceNotFoundException',
        `Permission set provisioning request ${req.ProvisionPermissionSetRequestId} not found`,
      );
    return { PermissionSetProvisioningStatus: provisioningShape(request) };
  }

  // ---- identitystore -------------------------------------------------------------------------

  private getUserId(input: unknown): Record<string, unknown> {
    const req = parse(
      z.object({ IdentityStoreId: identityStoreId, AlternateIdentifier: alternateIdentifier }),
      input,
    );
    this.requireIdentityStore(req.IdentityStoreId);
    const unique = req.AlternateIdentifier.UniqueAttribute;
    if (!unique) {
      const external = req.AlternateIdentifier.ExternalId;
      const user =
        external &&
        this.seededUsers.find(
          (u) => u.externalId?.issuer === external.Issuer && u.externalId.id === external.Id,
        );
      if (!user)
        throw new ServiceError('ResourceNotFoundException', 'USER not found.', { ResourceType: 'USER' });
      return { IdentityStoreId: this.sandbox.identityStoreId, UserId: user.userId };
    }
    if (typeof unique.AttributeValue !== 'string') {
      throw new ServiceError('ValidationException', 'AttributeValue must be a string');
    }
    // userName and emails.value are unique in an identity store and a user has one email (see
    // loadSandbox), so at most one user matches: GetUserId never has two to choose from.
    const wanted = unique.AttributeValue.toLowerCase();
    const path = unique.AttributePath.toLowerCase();
    let user: SeededUser | undefined;
    if (path === 'emails.value') user = this.seededUsers.find((u) => u.email.toLowerCase() === wanted);
    else if (path === 'username') user = this.seededUsers.find((u) => u.userName.toLowerCase() === wanted);
    else
      throw new ServiceError('ValidationException', `AttributePath ${unique.AttributePath} is not supported`);
    if (!user) {
      throw new ServiceError('ResourceNotFoundException', 'USER not found.', {
        ResourceType: 'USER',
        ResourceId: unique.AttributeValue,
      });
    }
    return { IdentityStoreId: this.sandbox.identityStoreId, UserId: user.userId };
  }

  private describeUser(input: unknown): Record<string, unknown> {
    const req = parse(z.object({ IdentityStoreId: identityStoreId, UserId: z.string().min(1) }), input);
    this.requireIdentityStore(req.IdentityStoreId);
    const user = this.seededUsers.find((u) => u.userId === req.UserId);
    if (!user) {
      throw new ServiceError('ResourceNotFoundException', 'USER not found.', {
        ResourceType: 'USER',
        ResourceId: req.UserId,
      });
    }
    return this.userShape(user);
  }

  private listUsersOperation(input: unknown): Record<string, unknown> {
    const req = parse(
      z.object({
        IdentityStoreId: identityStoreId,
        ...paging,
        Filters: z.array(z.object({ AttributePath: z.string(), AttributeValue: z.string() })).optional(),
      }),
      input,
    );
    this.requireIdentityStore(req.IdentityStoreId);
    let users = this.seededUsers;
    for (const filter of req.Filters ?? []) {
      if (filter.AttributePath !== 'UserName') {
        throw new ServiceError('ValidationException', `Filter on ${filter.AttributePath} is not supported`);
      }
      users = users.filter((u) => u.userName.toLowerCase() === filter.AttributeValue.toLowerCase());
    }
    const page = this.paginate('ListUsers', users, req.MaxResults, req.NextToken);
    return { Users: page.items.map((u) => this.userShape(u)), ...page.next };
  }

  private userShape(user: SeededUser): Record<string, unknown> {
    return {
      IdentityStoreId: this.sandbox.identityStoreId,
      UserId: user.userId,
      UserName: user.userName,
      DisplayName: user.displayName,
      Name: { Formatted: user.displayName },
      Emails: [{ Value: user.email, Type: 'work', Primary: true }],
    };
  }

  // Groups. Display names are matched exactly (the API reference does not say whether the
  // service folds case); the directory file refuses two groups whose names differ only by case.

  private getGroupId(input: unknown): Record<string, unknown> {
    const req = parse(
      z.object({ IdentityStoreId: identityStoreId, AlternateIdentifier: alternateIdentifier }),
      input,
    );
    this.requireIdentityStore(req.IdentityStoreId);
    const { UniqueAttribute: unique, ExternalId: external } = req.AlternateIdentifier;
    let group: SeededGroup | undefined;
    if (unique) {
      // GetGroupId: "For the unique attribute, the only valid path is displayName."
      // https://docs.aws.amazon.com/singlesignon/latest/IdentityStoreAPIReference/API_GetGroupId.html
      if (unique.AttributePath.toLowerCase() !== 'displayname')
        throw new ServiceError(
          'ValidationException',
          `AttributePath ${unique.AttributePath} is not supported`,
        );
      if (typeof unique.AttributeValue !== 'string')
        throw new ServiceError('ValidationException', 'AttributeValue must be a string');
      const wanted = unique.AttributeValue;
      group = this.seededGroups.find((g) => g.displayName === wanted);
    } else if (external) {
      group = this.seededGroups.find(
        (g) => g.externalId?.issuer === external.Issuer && g.externalId.id === external.Id,
      );
    } else {
      throw new ServiceError(
        'ValidationException',
        'AlternateIdentifier needs UniqueAttribute or ExternalId',
      );
    }
    if (!group)
      throw new ServiceError('ResourceNotFoundException', 'GROUP not found.', { ResourceType: 'GROUP' });
    return { IdentityStoreId: this.sandbox.identityStoreId, GroupId: group.groupId };
  }

  private describeGroup(input: unknown): Record<string, unknown> {
    const req = parse(z.object({ IdentityStoreId: identityStoreId, GroupId: resourceId }), input);
    this.requireIdentityStore(req.IdentityStoreId);
    const group = this.requireGroup(req.GroupId);
    return {
      IdentityStoreId: this.sandbox.identityStoreId,
      GroupId: group.groupId,
      DisplayName: group.displayName,
      ...(group.description ? { Description: group.description } : {}),
      ...(group.externalId
        ? { ExternalIds: [{ Issuer: group.externalId.issuer, Id: group.externalId.id }] }
        : {}),
    };
  }

  // ListGroupMemberships / ListGroupMembershipsForMember: MaxResults 1-100, NextToken.
  // https://docs.aws.amazon.com/singlesignon/latest/IdentityStoreAPIReference/API_ListGroupMemberships.html
  private listGroupMemberships(input: unknown): Record<string, unknown> {
    const req = parse(z.object({ IdentityStoreId: identityStoreId, GroupId: resourceId, ...paging }), input);
    this.requireIdentityStore(req.IdentityStoreId);
    this.requireGroup(req.GroupId);
    const matching = [...this.memberships.values()].filter((m) => m.groupId === req.GroupId);
    const page = this.paginate(
      `ListGroupMemberships/${req.GroupId}`,
      matching,
      req.MaxResults,
      req.NextToken,
    );
    return { GroupMemberships: page.items.map((m) => this.membershipShape(m)), ...page.next };
  }

  private listGroupMembershipsForMember(input: unknown): Record<string, unknown> {
    const req = parse(z.object({ IdentityStoreId: identityStoreId, MemberId: memberId, ...paging }), input);
    this.requireIdentityStore(req.IdentityStoreId);
    this.requireUser(req.MemberId.UserId);
    const matching = [...this.memberships.values()].filter((m) => m.userId === req.MemberId.UserId);
    const page = this.paginate(
      `ListGroupMembershipsForMember/${req.MemberId.UserId}`,
      matching,
      req.MaxResults,
      req.NextToken,
    );
    return { GroupMemberships: page.items.map((m) => this.membershipShape(m)), ...page.next };
  }

  // IsMemberInGroups: GroupIds 1-100, one result per group.
  // https://docs.aws.amazon.com/singlesignon/latest/IdentityStoreAPIReference/API_IsMemberInGroups.html
  private isMemberInGroups(input: unknown): Record<string, unknown> {
    const req = parse(
      z.object({
        IdentityStoreId: identityStoreId,
        MemberId: memberId,
        GroupIds: z.array(resourceId).min(1).max(100),
      }),
      input,
    );
    this.requireIdentityStore(req.IdentityStoreId);
    this.requireUser(req.MemberId.UserId);
    for (const groupId of req.GroupIds) this.requireGroup(groupId);
    return {
      Results: req.GroupIds.map((groupId) => ({
        GroupId: groupId,
        MemberId: { UserId: req.MemberId.UserId },
        MembershipExists: this.memberships.has(deriveMembershipId(groupId, req.MemberId.UserId)),
      })),
    };
  }

  // Group access (the product adds and removes memberships). Synchronous, as identitystore is:
  // https://docs.aws.amazon.com/singlesignon/latest/IdentityStoreAPIReference/API_CreateGroupMembership.html
  // GetGroupMembershipId: ResourceNotFoundException when the user is not a member (or either is gone).
  private getGroupMembershipId(input: unknown): Record<string, unknown> {
    const req = parse(
      z.object({ IdentityStoreId: identityStoreId, GroupId: resourceId, MemberId: memberId }),
      input,
    );
    this.requireIdentityStore(req.IdentityStoreId);
    this.requireGroup(req.GroupId);
    this.requireUser(req.MemberId.UserId);
    const membershipId = deriveMembershipId(req.GroupId, req.MemberId.UserId);
    if (!this.memberships.has(membershipId)) throw membershipNotFound(membershipId);
    return { IdentityStoreId: this.sandbox.identityStoreId, MembershipId: membershipId };
  }

  // CreateGroupMembership: a member already in the group is a ConflictException (uniqueness).
  private createGroupMembership(input: unknown): Record<string, unknown> {
    const req = parse(
      z.object({ IdentityStoreId: identityStoreId, GroupId: resourceId, MemberId: memberId }),
      input,
    );
    this.requireIdentityStore(req.IdentityStoreId);
    this.requireGroup(req.GroupId);
    this.requireUser(req.MemberId.UserId);
    const membershipId = deriveMembershipId(req.GroupId, req.MemberId.UserId);
    if (this.memberships.has(membershipId))
      throw new ServiceError('ConflictException', 'The member already belongs to the group.', {
        Reason: 'UNIQUENESS_CONSTRAINT_VIOLATION',
      });
    this.memberships.set(membershipId, { membershipId, groupId: req.GroupId, userId: req.MemberId.UserId });
    return { IdentityStoreId: this.sandbox.identityStoreId, MembershipId: membershipId };
  }

  // DeleteGroupMembership: by MembershipId; an empty answer.
  private deleteGroupMembership(input: unknown): Record<string, unknown> {
    const req = parse(z.object({ IdentityStoreId: identityStoreId, MembershipId: resourceId }), input);
    this.requireIdentityStore(req.IdentityStoreId);
    if (!this.memberships.delete(req.MembershipId)) throw membershipNotFound(req.MembershipId);
    return {};
  }

  private membershipShape(m: Membership): Record<string, unknown> {
    return {
      IdentityStoreId: this.sandbox.identityStoreId,
      MembershipId: m.membershipId,
      GroupId: m.groupId,
      MemberId: { UserId: m.userId },
    };
  }

  private requireGroup(groupId: string): SeededGroup {
    const group = this.seededGroups.find((g) => g.groupId === groupId);
    if (!group)
      throw new ServiceError('ResourceNotFoundException', 'GROUP not found.', {
        ResourceType: 'GROUP',
        ResourceId: groupId,
      });
    return group;
  }

  private requireUser(userId: string): SeededUser {
    const user = this.seededUsers.find((u) => u.userId === userId);
    if (!user)
      throw new ServiceError('ResourceNotFoundException', 'USER not found.', {
        ResourceType: 'USER',
        ResourceId: userId,
      });
    return user;
  }

  private requireAdminGroup(group: string): SeededGroup {
    const found = this.seededGroups.find((g) => g.groupId === group || g.displayName === group);
    if (!found) throw new Error(`no group ${group}`);
    return found;
  }

  private requireAdminUser(user: string): SeededUser {
    const key = user.toLowerCase();
    const found = this.seededUsers.find((u) => u.userId === user || u.userName.toLowerCase() === key);
    if (!found) throw new Error(`no user ${user}`);
    return found;
  }

  // ---- helpers -------------------------------------------------------------------------------

  private loadSandbox(sandbox: SandboxFile): void {
    this.seededUsers = sandbox.users.map((u) => ({
      userId: u.userId ?? deriveUserId(sandbox.identityStoreId, u.userName),
      userName: u.userName,
      email: u.email,
      displayName: u.displayName,
      ...(u.externalId ? { externalId: u.externalId } : {}),
    }));
    // Identity Center requires user names and email addresses to be unique (User Guide,
    // "Username and email address uniqueness"): the write that would make a second is refused.
    for (const key of ['userName', 'email'] as const) {
      const seen = new Set<string>();
      for (const user of this.seededUsers) {
        const value = user[key].toLowerCase();
        if (seen.has(value)) throw new Error(`two sandbox users have the ${key} ${user[key]}`);
        seen.add(value);
      }
    }
    this.seededGroups = sandbox.groups.map((g) => ({
      groupId: g.groupId ?? deriveGroupId(sandbox.identityStoreId, g.displayName),
      displayName: g.displayName,
      ...(g.description ? { description: g.description } : {}),
      ...(g.externalId ? { externalId: g.externalId } : {}),
    }));
    this.memberships.clear();
    sandbox.groups.forEach((group, index) => {
      const groupId = this.seededGroups[index]?.groupId ?? '';
      for (const member of group.members) {
        const user = this.seededUsers.find((u) => u.userName.toLowerCase() === member.toLowerCase());
        if (!user) throw new Error(`sandbox group ${group.displayName} names an unknown user: ${member}`);
        const membershipId = deriveMembershipId(groupId, user.userId);
        this.memberships.set(membershipId, { membershipId, groupId, userId: user.userId });
      }
    });
    this.assignments.clear();
    this.provisionedRoles.clear();
    for (const seeded of sandbox.assignments) {
      const principalId =
        seeded.principalId ??
        this.seededUsers.find((u) => u.email.toLowerCase() === seeded.email?.toLowerCase())?.userId;
      if (!principalId) throw new Error(`sandbox assignment names an unknown user: ${seeded.email}`);
      if (!sandbox.accounts.some((a) => a.id === seeded.accountId)) {
        throw new Error(`sandbox assignment names an unknown account: ${seeded.accountId}`);
      }
      if (!sandbox.permissionSets.some((p) => p.arn === seeded.permissionSetArn)) {
        throw new Error(`sandbox assignment names an unknown permission set: ${seeded.permissionSetArn}`);
      }
      const assignment: AssignmentView = {
        accountId: seeded.accountId,
        permissionSetArn: seeded.permissionSetArn,
        principalType: seeded.principalType,
        principalId,
      };
      this.assignments.set(assignmentKey(assignment), assignment);
      this.provisionedRoles.set(roleKey(assignment.accountId, assignment.permissionSetArn), '');
    }
  }

  private newBucket(): TokenBucket {
    return new TokenBucket(this.options.requestsPerSecond, this.options.burst, this.now);
  }

  /** UUID-shaped and derived from a counter, so runs with the same inputs produce the same ids. */
  private newRequestId(): string {
    const n = this.requestSeq.toString(16).padStart(12, '0');
    const seed = (this.options.seed >>> 0).toString(16).padStart(8, '0');
    return `${seed}-0000-4000-8000-${n}`;
  }

  private requireInstance(arn: string): void {
    if (arn !== this.sandbox.instanceArn) {
      throw new ServiceError('ValidationException', `The instance ${arn} does not exist`);
    }
  }

  private requireIdentityStore(id: string): void {
    if (id !== this.sandbox.identityStoreId) {
      throw new ServiceError('ResourceNotFoundException', `Identity store ${id} not found.`, {
        ResourceType: 'IDENTITY_STORE',
        ResourceId: id,
      });
    }
  }

  private requirePermissionSet(arn: string): SandboxFile['permissionSets'][number] {
    const ps = this.sandbox.permissionSets.find((p) => p.arn === arn);
    if (!ps)
      throw new ServiceError('ResourceNotFoundException', `Could not find PermissionSet with id ${arn}`);
    return ps;
  }

  /** Opaque NextToken: the offset, tagged with the operation so a token from elsewhere is rejected. */
  private paginate<T>(
    operation: string,
    items: readonly T[],
    maxResults: number | undefined,
    nextToken: string | undefined,
  ): { items: T[]; next: { NextToken?: string } } {
    let offset = 0;
    if (nextToken) {
      const decoded = decodeToken(nextToken);
      if (!decoded || decoded.op !== operation)
        throw new ServiceError('ValidationException', 'Invalid NextToken');
      offset = decoded.offset;
    }
    const size = maxResults ?? this.options.defaultPageSize;
    const page = items.slice(offset, offset + size);
    const end = offset + page.length;
    return { items: page, next: end < items.length ? { NextToken: encodeToken(operation, end) } : {} };
  }
}

function parse<T extends z.ZodType>(schema: T, input: unknown): z.infer<T> {
  const result = schema.safeParse(input ?? {});
  if (result.success) return result.data;
  const issues = result.error.issues;
  const details = issues.map(
    (i) => `Value at '${i.path.join('.')}' failed to satisfy constraint: ${i.message}`,
  );
  throw new ServiceError(
    'ValidationException',
    `${issues.length} validation error(s) detected: ${details.join('; ')}`,
  );
}

function provisioningShape(request: ProvisioningRequest): Record<string, unknown> {
  return {
    Status: request.status,
    RequestId: request.requestId,
    ...(request.targetType === 'AWS_ACCOUNT' ? { AccountId: request.accountIds[0] } : {}),
    PermissionSetArn: request.permissionSetArn,
    ...(request.failureReason ? { FailureReason: request.failureReason } : {}),
    CreatedDate: epochSeconds(request.createdAt),
  };
}

/** Why IAM would refuse this inline policy (a JSON document with statements, within the quota), or undefined. */
function inlinePolicyProblem(text: string): string | undefined {
  if (text.replace(/\s/g, '').length > INLINE_POLICY_MAX_NON_WHITESPACE)
    return `exceeds ${INLINE_POLICY_MAX_NON_WHITESPACE} non-whitespace characters`;
  if (Buffer.byteLength(text, 'utf8') > INLINE_POLICY_MAX_BYTES)
    return `exceeds ${INLINE_POLICY_MAX_BYTES} bytes`;
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch {
    return 'is not valid JSON';
  }
  if (typeof document !== 'object' || document === null || Array.isArray(document))
    return 'is not a policy document';
  const statement = (document as { Statement?: unknown }).Statement;
  const statements = Array.isArray(statement) ? statement : statement === undefined ? [] : [statement];
  if (statements.length === 0) return 'has no statement';
  for (const s of statements) {
    const effect = typeof s === 'object' && s !== null ? (s as { Effect?: unknown }).Effect : undefined;
    if (effect !== 'Allow' && effect !== 'Deny') return 'has a statement without Effect Allow or Deny';
  }
  return undefined;
}

/** Milliseconds of an ISO 8601 PT#H#M#S duration (the sandbox file's sessionDuration). */
function durationMs(iso: string): number {
  const match = /^PT(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?$/.exec(iso);
  if (!match) return 3600_000;
  return (Number(match[1] ?? 0) * 3600 + Number(match[2] ?? 0) * 60 + Number(match[3] ?? 0)) * 1000;
}

function statusShape(request: AssignmentRequest): Record<string, unknown> {
  return {
    Status: request.status,
    RequestId: request.requestId,
    ...(request.failureReason ? { FailureReason: request.failureReason } : {}),
    TargetId: request.accountId,
    TargetType: 'AWS_ACCOUNT',
    PermissionSetArn: request.permissionSetArn,
    PrincipalType: request.principalType,
    PrincipalId: request.principalId,
    CreatedDate: epochSeconds(request.createdAt),
  };
}

function pickAssignment(a: AssignmentView): AssignmentView {
  return {
    accountId: a.accountId,
    permissionSetArn: a.permissionSetArn,
    principalType: a.principalType,
    principalId: a.principalId,
  };
}

function requestIdOf(output: Record<string, unknown>): string | undefined {
  const status =
    output.AccountAssignmentCreationStatus ??
    output.AccountAssignmentDeletionStatus ??
    output.PermissionSetProvisioningStatus;
  if (status && typeof status === 'object' && 'RequestId' in status && typeof status.RequestId === 'string') {
    return status.RequestId;
  }
  return undefined;
}

function encodeToken(op: string, offset: number): string {
  return Buffer.from(JSON.stringify({ op, offset })).toString('base64url');
}

function decodeToken(token: string): { op: string; offset: number } | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
    const parsed = z.object({ op: z.string(), offset: z.number().int().min(0) }).safeParse(value);
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

function membershipNotFound(membershipId: string): ServiceError {
  return new ServiceError('ResourceNotFoundException', 'GROUP_MEMBERSHIP not found.', {
    ResourceType: 'GROUP_MEMBERSHIP',
    ResourceId: membershipId,
  });
}
