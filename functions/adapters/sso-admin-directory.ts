import { AsyncLocalStorage } from 'node:async_hooks';
import {
  CreateAccountAssignmentCommand,
  DeleteAccountAssignmentCommand,
  DescribeAccountAssignmentCreationStatusCommand,
  DescribeAccountAssignmentDeletionStatusCommand,
  paginateListAccountAssignments,
  type SSOAdminClient,
} from '@aws-sdk/client-sso-admin';
import { AccessError, RetryableError } from '../core/errors';
import type { AssignmentKey } from '../core/model';
import type { AssignmentDirectory, AssignmentOperationStatus } from '../core/ports';
import { isTransientAwsError } from './transient-errors';

// IAM Identity Center account assignments through sso-admin. Transient service errors become
// RetryableError so the state machine retries them with backoff and jitter (the service allows
// about 20 calls/s and 10 creations in flight).

/** A transient sso-admin error as RetryableError (also for the permission set adapter). */
export function classify(error: unknown, what: string): unknown {
  if (isTransientAwsError(error)) {
    return new RetryableError(`${what}: ${error.name}: ${error.message}`, { cause: error });
  }
  return error;
}

interface StatusShape {
  Status?: string;
  RequestId?: string;
  FailureReason?: string;
}

/** An sso-admin operation's status (assignment creation/deletion, permission set provisioning). */
export function toStatus(status: StatusShape | undefined, what: string): AssignmentOperationStatus {
  const requestId = status?.RequestId;
  if (!requestId) throw new AccessError('bad-response', `${what}: Identity Center returned no request id`);
  switch (status.Status) {
    case 'SUCCEEDED':
      return { status: 'SUCCEEDED', requestId };
    case 'FAILED':
      return { status: 'FAILED', requestId, failureReason: status.FailureReason ?? 'no reason given' };
    default:
      return { status: 'IN_PROGRESS', requestId };
  }
}

/** Identity Center calls one invocation made (see SsoAdminDirectory.tallying). */
export interface CallTally {
  calls: number;
  /** Principals the last ListAccountAssignments listing found, if one was made. */
  listed?: number;
}
const tallies = new AsyncLocalStorage<CallTally>();

/**
 * A throttled DeleteAccountAssignment is asked again after these pauses before the step gives
 * up to the state machine's Retry (1 s or more, with jitter): ending access on time comes first,
 * and Identity Center's bucket refills a call every 50 ms or so at ~20/s, so a revoke that meets
 * a momentarily empty bucket gets through in a fraction of a second instead of waiting out a
 * Step Functions retry. A throttled call was not processed (nothing deleted), so asking again is
 * safe; only deletions do this (a few a second), so it cannot multiply a burst.
 */
export const DELETE_THROTTLE_PAUSES_MS = [100, 200, 400] as const;

const pauseFor = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export class SsoAdminDirectory implements AssignmentDirectory {
  constructor(
    private readonly client: SSOAdminClient,
    private readonly instanceArn: string,
    /** How a throttled deletion waits before it is asked again (a test's clock may stand in). */
    private readonly pause: (ms: number) => Promise<void> = pauseFor,
  ) {}

  /**
   * Runs `action` and tallies the Identity Center calls answered within it: what admission
   * charges for (a throttled call is not counted: it took none of the quota), and how many
   * principals its last listing found. Kept per asynchronous context, not on the adapter, so a
   * tally counts only its own invocation's calls even where invocations share one process (the
   * local Step Functions host runs them side by side; a Lambda container runs one at a time).
   */
  static async tallying<T>(
    action: () => Promise<T>,
  ): Promise<{ tally: CallTally; result: PromiseSettledResult<T> }> {
    const tally: CallTally = { calls: 0 };
    const [result] = await tallies.run(tally, () => Promise.allSettled([action()]));
    return { tally, result: result as PromiseSettledResult<T> };
  }

  private async call<T>(what: string, action: () => Promise<T>): Promise<T> {
    try {
      const result = await action();
      const tally = tallies.getStore();
      if (tally) tally.calls++;
      return result;
    } catch (error) {
      throw classify(error, what);
    }
  }

  /** The account assignment of `key` as Create and DeleteAccountAssignment name it. */
  private assignment(key: AssignmentKey) {
    return {
      InstanceArn: this.instanceArn,
      TargetId: key.accountId,
      TargetType: 'AWS_ACCOUNT' as const,
      PermissionSetArn: key.permissionSetArn,
      PrincipalType: 'USER' as const,
      PrincipalId: key.principalId,
    };
  }

  async listUserPrincipals(accountId: string, permissionSetArn: string): Promise<string[]> {
    const principals: string[] = [];
    // 100 per page, the most the API allows (ListAccountAssignments, MaxResults 1-100 in the
    // IAM Identity Center API reference; its default is not documented): each page is a call
    // against the quota.
    const pages = paginateListAccountAssignments(
      { client: this.client, pageSize: 100 },
      { InstanceArn: this.instanceArn, AccountId: accountId, PermissionSetArn: permissionSetArn },
    );
    try {
      for await (const page of pages) {
        const tally = tallies.getStore();
        if (tally) tally.calls++;
        for (const assignment of page.AccountAssignments ?? []) {
          if (assignment.PrincipalType === 'USER' && assignment.PrincipalId)
            principals.push(assignment.PrincipalId);
        }
      }
    } catch (error) {
      throw classify(error, 'ListAccountAssignments');
    }
    const tally = tallies.getStore();
    if (tally) tally.listed = principals.length;
    return principals;
  }

  async create(key: AssignmentKey): Promise<AssignmentOperationStatus> {
    const result = await this.call('CreateAccountAssignment', () =>
      this.client.send(new CreateAccountAssignmentCommand(this.assignment(key))),
    );
    return toStatus(result.AccountAssignmentCreationStatus, 'CreateAccountAssignment');
  }

  async creationStatus(operationId: string): Promise<AssignmentOperationStatus> {
    const result = await this.call('DescribeAccountAssignmentCreationStatus', () =>
      this.client.send(
        new DescribeAccountAssignmentCreationStatusCommand({
          InstanceArn: this.instanceArn,
          AccountAssignmentCreationRequestId: operationId,
        }),
      ),
    );
    return toStatus(result.AccountAssignmentCreationStatus, 'DescribeAccountAssignmentCreationStatus');
  }

  async delete(key: AssignmentKey): Promise<AssignmentOperationStatus> {
    const ask = () => this.client.send(new DeleteAccountAssignmentCommand(this.assignment(key)));
    try {
      const result = await this.call('DeleteAccountAssignment', async () => {
        for (const pause of DELETE_THROTTLE_PAUSES_MS) {
          try {
            return await ask();
          } catch (error) {
            if (!(error instanceof Error && error.name === 'ThrottlingException')) throw error;
            await this.pause(pause);
          }
        }
        return ask();
      });
      return toStatus(result.AccountAssignmentDeletionStatus, 'DeleteAccountAssignment');
    } catch (error) {
      if (error instanceof Error && error.name === 'ResourceNotFoundException') {
        throw new AccessError('assignment-not-found', `The assignment is already gone: ${error.message}`, {
          cause: error,
        });
      }
      throw error;
    }
  }

  async deletionStatus(operationId: string): Promise<AssignmentOperationStatus> {
    const result = await this.call('DescribeAccountAssignmentDeletionStatus', () =>
      this.client.send(
        new DescribeAccountAssignmentDeletionStatusCommand({
          InstanceArn: this.instanceArn,
          AccountAssignmentDeletionRequestId: operationId,
        }),
      ),
    );
    return toStatus(result.AccountAssignmentDeletionStatus, 'DescribeAccountAssignmentDeletionStatus');
  }
}
