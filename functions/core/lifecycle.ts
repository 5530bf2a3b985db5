import { REQUEST_STATUSES, type RequestStatus } from './model';
import type { RequesterNotice } from './ports';

// The request's lifecycle: which status may follow which. Every status change is a conditional
// write from the statuses this table allows into the new one, so two runs (a retry, a click and
// the window's timeout, the reconciler) can never take a request back or past a final status.

/** From granting on: access goes live, or the request is revoked, or fails on its way out. */
const GRANTING_MOVES: readonly RequestStatus[] = [
  'ACTIVE',
  'REVOKING',
  'REVOKED',
  'GRANT_FAILED',
  'REVOKE_FAILED',
];

/** For each status, the statuses a request in it may move to. Final statuses move nowhere. */
export const TRANSITIONS: Readonly<Record<RequestStatus, readonly RequestStatus[]>> = {
  // Decided by approvers (or the policy), expired unanswered, refused when validated again, or
  // withdrawn by its requester (while nobody has decided; once approved, only a scheduled
  // request still waiting for its start is).
  PENDING_APPROVAL: ['APPROVED', 'DENIED', 'APPROVAL_EXPIRED', 'REJECTED', 'CANCELLED'],
  // Approved: granting starts, or access is already there (pre-existing, shared); or it ends
  // before any access (expired, rejected, revoked, a failed step); or, scheduled to start later
  // and still waiting for its start, withdrawn by its requester (core/scheduled-start.ts).
  APPROVED: ['APPROVAL_EXPIRED', 'REJECTED', 'CANCELLED', 'GRANTING', ...GRANTING_MOVES],
  GRANTING: GRANTING_MOVES,
  ACTIVE: ['REVOKING', 'REVOKED', 'GRANT_FAILED', 'REVOKE_FAILED'],
  REVOKING: ['REVOKED', 'GRANT_FAILED', 'REVOKE_FAILED'],
  // A failed creation is still revoked (what it may have left) and then closed.
  GRANT_FAILED: ['REVOKING', 'REVOKED', 'REVOKE_FAILED'],
  DENIED: [],
  APPROVAL_EXPIRED: [],
  REJECTED: [],
  CANCELLED: [],
  REVOKED: [],
  REVOKE_FAILED: [],
};

export function mayMove(from: RequestStatus, to: RequestStatus): boolean {
  return TRANSITIONS[from].includes(to);
}

/**
 * The statuses a request may move into `to` from; with `orAlready`, `to` itself too (a retry of
 * the step that moved it writes the same status again, a write that changes nothing).
 */
export function movesInto(to: RequestStatus, options: { orAlready?: boolean } = {}): RequestStatus[] {
  return REQUEST_STATUSES.filter((from) => mayMove(from, to) || (options.orAlready === true && from === to));
}

/** While access is being granted: approved, the window not open yet. */
export const GRANTING_PHASE: readonly RequestStatus[] = movesInto('ACTIVE');

/**
 * Edits that change no status, by the statuses they are allowed in. A write in another status
 * is refused: it belongs to a request that moved on meanwhile.
 */
export const EDITS = {
  /** The approval request's channel message. */
  approvalMessage: ['PENDING_APPROVAL'],
  /**
   * The other copies of the approval message (approvers' DMs, `approvalCopies`): in any status, so
   * a copy posted while a decision is taken is still kept, and re-rendered (adapters/slack-notifier.ts).
   */
  approvalCopies: REQUEST_STATUSES,
  /** How access went live, and when its window started (`granted`, `windowStartedAt`). */
  grant: GRANTING_PHASE,
  /**
   * The open window: its end, extensions asked for, decided or applied (with the extension's
   * approval message), who ended it early, the expiring notice.
   */
  window: ['ACTIVE'],
  /**
   * An End asked for while access is being granted (`endedBy`, by End all on a set): AccessWindow
   * then ends the window as it opens (steps.ts `openWindow`).
   */
  endRequest: GRANTING_PHASE,
  /** A break-glass use's alert, review and escalation: in any status (it is reviewed after it ended too). */
  breakGlass: REQUEST_STATUSES,
} as const satisfies Record<string, readonly RequestStatus[]>;

/** What the reconciler closes a request as whose execution ended without closing it. */
export const CLOSE_AS: Partial<Record<RequestStatus, { status: RequestStatus; notice: RequesterNotice }>> = {
  PENDING_APPROVAL: { status: 'APPROVAL_EXPIRED', notice: 'approval-expired' },
  APPROVED: { status: 'GRANT_FAILED', notice: 'grant-failed' },
  GRANTING: { status: 'GRANT_FAILED', notice: 'grant-failed' },
  ACTIVE: { status: 'REVOKED', notice: 'revoked' },
  REVOKING: { status: 'REVOKED', notice: 'revoked' },
};
