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

export function revokeOutput(result: RevokeResult) {
  return {
    status: result.status,
    operationId: result.status === 'IN_PROGRESS' ? result.operationId : null,
    attempt: result.status === 'IN_PROGRESS' ? result.attempt : 0,
    failureReason: result.status === 'FAILED' ? result.failureReason : null,
    keptBecause: result.status === 'KEPT' ? result.keptBecause : null,
  };
}
