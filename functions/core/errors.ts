/** Base class of the domain's errors: a stable code callers can map to a message. */
export class AccessError extends Error {
  constructor(
    readonly code: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'AccessError';
  }
}

/** A policy file that does not parse or validate; `problems` name the path and the problem. */
export class PolicyError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid access policy:\n  ${problems.join('\n  ')}`);
    this.name = 'PolicyError';
  }
}

/**
 * A transient condition (throttling, conflict, a busy assignment, a lost conditional write):
 * the state machine retries errors with this name with backoff and jitter.
 */
export class RetryableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'RetryableError';
  }
}

/**
 * The approval task of a request its requester withdrew: the error the task fails with, by the
 * decision's SendTaskFailure or by RequestApproval itself when the request was withdrawn before
 * its approvers were asked. The state machine catches it by this name (AwaitApproval → Cancelled).
 */
export const CANCELLED_TASK_ERROR = 'Cancelled';

export class RequestCancelledError extends AccessError {
  constructor(requestId: string) {
    super('cancelled', `Request ${requestId} was cancelled by its requester`);
    this.name = CANCELLED_TASK_ERROR;
  }
}

/**
 * Grant reached before a scheduled request's start (core/scheduled-start.ts): nothing is created
 * early, whatever path led here (an admission that failed and let the grant go unpaced). The
 * state machine catches it by this name (Grant → WaitForStart).
 */
export const NOT_YET_STARTED_ERROR = 'NotYetStarted';

export class NotYetStartedError extends AccessError {
  constructor(requestId: string, startAt: string) {
    super('not-yet-started', `Request ${requestId} starts at ${startAt}: nothing is granted before`);
    this.name = NOT_YET_STARTED_ERROR;
  }
}

/**
 * A request decided from the Home tab while its approval post waited for its channel slot (no
 * token stored yet): RequestApproval finds the decision and fails its own task with the
 * decision's name instead of asking anyone. The state machine catches `Denied` (→ Denied) and
 * `ApprovedBeforeAsked` (→ AdmitGrant) like a click's SendTaskFailure / SendTaskSuccess.
 */
export const DENIED_TASK_ERROR = 'Denied';
export const APPROVED_TASK_ERROR = 'ApprovedBeforeAsked';

export class DecidedBeforeAskedError extends AccessError {
  constructor(requestId: string, decision: 'approved' | 'denied') {
    super(decision, `Request ${requestId} was ${decision} before its approvers were asked`);
    this.name = decision === 'approved' ? APPROVED_TASK_ERROR : DENIED_TASK_ERROR;
  }
}

/**
 * An End asked for while the access was still being granted (core/decisions.ts `endAccess`):
 * AccessWindow fails its own task with this name instead of opening the window, and the state
 * machine catches it like an End click's SendTaskSuccess (AccessWindow → EndedEarly → Revoke).
 */
export const ENDED_BEFORE_OPENED_ERROR = 'EndedBeforeOpened';

export class EndedBeforeOpenedError extends AccessError {
  constructor(requestId: string, by: string) {
    super('ended-before-opened', `Request ${requestId} was ended by ${by} before its window opened`);
    this.name = ENDED_BEFORE_OPENED_ERROR;
  }
}

/** An audit event would replace a different one already written under its key: refused, never retried. */
export class AuditConflictError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AuditConflictError';
  }
}

export function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message;
  return typeof error === 'string' ? error : 'unknown error';
}

export function errorName(error: unknown): string {
  return error instanceof Error ? error.name : 'Error';
}
