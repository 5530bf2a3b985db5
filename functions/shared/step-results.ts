import type { Policy } from '../core/policy';
import { type EndSessionsResult, endsSessionsOnRevoke } from '../core/session-ending';
import type { GrantResult, RevokeResult, ValidationResult } from '../core/steps';

// The state machine's ResultSelectors read fixed paths, so every field is present (null when
// it does not apply): a missing path would fail the execution with States.Runtime.

export function validationOutput(result: ValidationResult) {
  return result.valid
    ? { ...result, reason: null }
    : {
        valid: false,
        approvalRequired: false,
        approvalTimeoutSeconds: 0,
        principalId: null,
        ruleName: null,
        approvalPostAt: null,
        startAt: null,
        reason: result.reason,
      };
}

export function grantOutput(result: GrantResult) {
  return {
    status: result.status,
    operationId: result.status === 'IN_PROGRESS' ? result.operationId : null,
    attempt: result.status === 'IN_PROGRESS' ? result.attempt : 0,
    failureReason: result.status === 'FAILED' ? result.failureReason : null,
    window: result.status === 'SUCCEEDED' ? result.window : null,
  };
}

/**
 * `endSessions`: the deletion is done and the permission set ends sessions at revoke
 * (core/session-ending.ts): the state machine goes on to EndSessions.
 */
export function revokeOutput(result: RevokeResult, endSessions = false) {
  return {
    status: result.status,
    endSessions: endSessions && result.status === 'SUCCEEDED',
    operationId: result.status === 'IN_PROGRESS' ? result.operationId : null,
    attempt: result.status === 'IN_PROGRESS' ? result.attempt : 0,
    failureReason: result.status === 'FAILED' ? result.failureReason : null,
    keptBecause: result.status === 'KEPT' ? result.keptBecause : null,
  };
}

/** Whether the revoked assignment's permission set ends sessions at revoke (the step's own input names it). */
export function sessionsToEnd(policy: Policy, event: unknown): boolean {
  const permissionSetArn =
    event && typeof event === 'object'
      ? (event as { permissionSetArn?: unknown }).permissionSetArn
      : undefined;
  return typeof permissionSetArn === 'string' && endsSessionsOnRevoke(policy, permissionSetArn);
}

/** EndSessions / CheckEndSessions / SessionsNotEnded (core/session-ending.ts). */
export function endSessionsOutput(result: EndSessionsResult) {
  return {
    status: result.status,
    operationId: result.status === 'IN_PROGRESS' ? result.operationId : null,
    attempt: result.status === 'IN_PROGRESS' ? result.attempt : 0,
    revokedAt: result.status === 'IN_PROGRESS' || result.status === 'SUCCEEDED' ? result.revokedAt : null,
    failureReason: result.status === 'FAILED' ? result.failureReason : null,
  };
}
