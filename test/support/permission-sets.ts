import { AccessError, RetryableError } from '../../functions/core/errors';
import type { PermissionSetPolicies, ProvisioningStatus } from '../../functions/core/ports';

// PermissionSetPolicies in memory, with what the sso-admin adapter answers over the Identity
// Center stand-in (test/contracts/permission-set-policies.contract.test.ts runs both): IAM refuses
// a policy with no statement, a provisioning copies the inline policy to the account's role once
// it is done, and an unknown provisioning request is not found.

const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

interface Provisioning {
  permissionSetArn: string;
  accountId: string;
  policy: string;
  pollsLeft: number;
  failWith?: string;
  status: ProvisioningStatus;
}

export class FakePermissionSets implements PermissionSetPolicies {
  readonly inlinePolicies = new Map<string, string>();
  /** `${account}|${permission set}` → the inline policy the account's role was provisioned with. */
  readonly provisioned = new Map<string, string>();
  readonly calls: string[] = [];
  readonly sessionDurations = new Map<string, string>();
  /** Status reads a provisioning stays IN_PROGRESS for. */
  pollsBeforeDone = 0;
  /** Errors thrown by the next calls of an operation (by method name), in order. */
  readonly failNext = new Map<string, Error[]>();
  /** Reasons the next accepted provisionings end FAILED with, in order. */
  readonly failProvisioning: string[] = [];
  /** Runs right after a getInlinePolicy answered (a concurrent writer, in a test). */
  afterGet?: (permissionSetArn: string) => void;
  private readonly provisionings = new Map<string, Provisioning>();
  private next = 0;

  private async enter(operation: string): Promise<void> {
    await tick();
    this.calls.push(operation);
    const error = this.failNext.get(operation)?.shift();
    if (error) throw error;
  }

  async getInlinePolicy(permissionSetArn: string): Promise<string> {
    await this.enter('getInlinePolicy');
    const policy = this.inlinePolicies.get(permissionSetArn) ?? '';
    this.afterGet?.(permissionSetArn);
    return policy;
  }

  async putInlinePolicy(permissionSetArn: string, policy: string): Promise<void> {
    await this.enter('putInlinePolicy');
    const document = JSON.parse(policy) as { Statement?: unknown };
    const statements = Array.isArray(document.Statement) ? document.Statement : [document.Statement];
    if (statements.filter(Boolean).length === 0)
      throw new AccessError('ValidationException', 'The inline policy has no statement');
    this.inlinePolicies.set(permissionSetArn, policy);
  }

  async deleteInlinePolicy(permissionSetArn: string): Promise<void> {
    await this.enter('deleteInlinePolicy');
    this.inlinePolicies.delete(permissionSetArn);
  }

  async sessionDuration(permissionSetArn: string): Promise<string> {
    await this.enter('sessionDuration');
    return this.sessionDurations.get(permissionSetArn) ?? 'PT1H';
  }

  async provision(permissionSetArn: string, accountId: string): Promise<ProvisioningStatus> {
    await this.enter('provision');
    const busy = [...this.provisionings.values()].some(
      (p) =>
        p.status.status === 'IN_PROGRESS' &&
        p.accountId === accountId &&
        p.permissionSetArn === permissionSetArn,
    );
    if (busy) throw new RetryableError('ProvisionPermissionSet: ConflictException: already in progress');
    const requestId = `prov-${++this.next}`;
    const failWith = this.failProvisioning.shift();
    const provisioning: Provisioning = {
      permissionSetArn,
      accountId,
      policy: this.inlinePolicies.get(permissionSetArn) ?? '',
      pollsLeft: this.pollsBeforeDone,
      ...(failWith ? { failWith } : {}),
      status: { status: 'IN_PROGRESS', requestId },
    };
    this.provisionings.set(requestId, provisioning);
    return this.advance(provisioning);
  }

  async provisioningStatus(requestId: string): Promise<ProvisioningStatus> {
    await this.enter('provisioningStatus');
    const provisioning = this.provisionings.get(requestId);
    if (!provisioning) throw new AccessError('ResourceNotFoundException', `No provisioning ${requestId}`);
    if (provisioning.status.status === 'IN_PROGRESS') provisioning.pollsLeft--;
    return this.advance(provisioning);
  }

  /** Every provisioning in progress done at its next status read. */
  finish(): void {
    this.pollsBeforeDone = 0;
    for (const provisioning of this.provisionings.values()) provisioning.pollsLeft = 0;
  }

  /** The inline policy as the account's role has it. */
  provisionedPolicy(accountId: string, permissionSetArn: string): string | undefined {
    return this.provisioned.get(`${accountId}|${permissionSetArn}`);
  }

  private advance(provisioning: Provisioning): ProvisioningStatus {
    if (provisioning.status.status !== 'IN_PROGRESS' || provisioning.pollsLeft > 0)
      return provisioning.status;
    const { requestId } = provisioning.status;
    if (provisioning.failWith) {
      provisioning.status = { status: 'FAILED', requestId, failureReason: provisioning.failWith };
    } else {
      provisioning.status = { status: 'SUCCEEDED', requestId };
      this.provisioned.set(`${provisioning.accountId}|${provisioning.permissionSetArn}`, provisioning.policy);
    }
    return provisioning.status;
  }
}
