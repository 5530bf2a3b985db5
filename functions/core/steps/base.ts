import type * as z from 'zod/mini';
import type { ChannelPacing } from '../admission';
import type { AuditTrail, Occurrence } from '../audit';
import { bestEffort, type OnFailed } from '../best-effort';
import { type DirectoryRefresh, NOTHING_TO_REFRESH } from '../directory';
import { AccessError } from '../errors';
import type { RequestRecord } from '../model';
import type { Policy } from '../policy';
import type {
  AssignmentDirectory,
  Clock,
  GroupMemberships,
  Notifier,
  RequestStore,
  UserDirectory,
} from '../ports';
import { withSetMessages } from '../request-set';

// The rules of one request's lifecycle, one module per state machine task (this folder), each
// a class over StepBase: its dependencies, input parsing, the request read, best-effort messages
// and the trail's opening. A Lambda imports only its own step's module (functions/<step>/index.ts),
// so its bundle carries only that step's rules; core/steps.ts puts them all together as
// LifecycleSteps. Every step is idempotent (Step Functions retries, Lambda redelivers): run again
// with the same input, it leaves the same records and the same audit trail as one run
// (test/reliability/idempotency.properties.test.ts).
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

export const SYSTEM = 'system:workflow';

/** The events of one step run, by occurrence (core/audit.ts). */
export const VALIDATE: Occurrence = { step: 'validate' };

export interface WindowPlan {
  /** When access went live: every later window of the request is capped from it. */
  startedAt: string;
  expiresAt: string;
  seconds: number;
}

export function parseInput<T>(schema: z.ZodMiniType<T>, input: unknown, step: string): T {
  const result = schema.safeParse(input);
  if (!result.success) {
    throw new AccessError(
      'invalid-step-input',
      `${step}: invalid input: ${result.error.issues[0]?.message ?? 'unknown'}`,
    );
  }
  return result.data;
}

export class StepBase {
  protected readonly deps: StepDependencies;

  constructor(deps: StepDependencies) {
    this.deps = { ...deps, notifier: withSetMessages(deps.notifier, deps.store) };
  }

  protected now(): Date {
    return this.deps.clock.now();
  }

  protected get directory(): DirectoryRefresh {
    return this.deps.directory ?? NOTHING_TO_REFRESH;
  }

  protected async requireRequest(requestId: string): Promise<RequestRecord> {
    const record = await this.deps.store.getRequest(requestId);
    if (!record) throw new AccessError('not-found', `Request ${requestId} is not stored`);
    return record;
  }

  protected bestEffort(what: string, send: () => Promise<void>): Promise<void> {
    return bestEffort(what, send, this.deps.onNotifyFailed);
  }

  /** The first event of every trail: what was asked for, by whom (from the stored request). */
  protected async auditOpening(record: RequestRecord): Promise<void> {
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
}
