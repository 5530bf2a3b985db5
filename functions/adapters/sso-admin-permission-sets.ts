import {
  DeleteInlinePolicyFromPermissionSetCommand,
  DescribePermissionSetCommand,
  DescribePermissionSetProvisioningStatusCommand,
  GetInlinePolicyForPermissionSetCommand,
  ProvisionPermissionSetCommand,
  PutInlinePolicyToPermissionSetCommand,
  type SSOAdminClient,
} from '@aws-sdk/client-sso-admin';
import type { PermissionSetPolicies, ProvisioningStatus, SessionDurations } from '../core/ports';
import { classify, toStatus } from './sso-admin-directory';

// A permission set's inline policy and its provisioning to an account, through sso-admin, for the
// permission sets that end sessions at revoke (core/session-ending.ts). Transient service errors
// (throttling, ConflictException: one provisioning of an account's roles at a time, 5xx) become
// RetryableError, retried by the state machine (or the reconciler's next pass). The session
// duration (DescribePermissionSet) is also the Slack function's, for the request form's line on
// how long sessions outlive the window (core/session-exposure.ts: best-effort, cached).

/** Identity Center's default session duration, when a permission set has none set. */
const DEFAULT_SESSION_DURATION = 'PT1H';

/** The session duration alone: the Slack function's read, whose bundle then has no other command. */
export class SsoAdminSessionDurations implements SessionDurations {
  constructor(
    protected readonly client: SSOAdminClient,
    protected readonly instanceArn: string,
  ) {}

  protected async call<T>(what: string, action: () => Promise<T>): Promise<T> {
    try {
      return await action();
    } catch (error) {
      throw classify(error, what);
    }
  }

  async sessionDuration(permissionSetArn: string): Promise<string> {
    const result = await this.call('DescribePermissionSet', () =>
      this.client.send(
        new DescribePermissionSetCommand({
          InstanceArn: this.instanceArn,
          PermissionSetArn: permissionSetArn,
        }),
      ),
    );
    return result.PermissionSet?.SessionDuration ?? DEFAULT_SESSION_DURATION;
  }
}

export class SsoAdminPermissionSets extends SsoAdminSessionDurations implements PermissionSetPolicies {
  async getInlinePolicy(permissionSetArn: string): Promise<string> {
    const result = await this.call('GetInlinePolicyForPermissionSet', () =>
      this.client.send(
        new GetInlinePolicyForPermissionSetCommand({
          InstanceArn: this.instanceArn,
          PermissionSetArn: permissionSetArn,
        }),
      ),
    );
    return result.InlinePolicy ?? '';
  }

  async putInlinePolicy(permissionSetArn: string, policy: string): Promise<void> {
    await this.call('PutInlinePolicyToPermissionSet', () =>
      this.client.send(
        new PutInlinePolicyToPermissionSetCommand({
          InstanceArn: this.instanceArn,
          PermissionSetArn: permissionSetArn,
          InlinePolicy: policy,
        }),
      ),
    );
  }

  async deleteInlinePolicy(permissionSetArn: string): Promise<void> {
    await this.call('DeleteInlinePolicyFromPermissionSet', () =>
      this.client.send(
        new DeleteInlinePolicyFromPermissionSetCommand({
          InstanceArn: this.instanceArn,
          PermissionSetArn: permissionSetArn,
        }),
      ),
    );
  }

  async provision(permissionSetArn: string, accountId: string): Promise<ProvisioningStatus> {
    const result = await this.call('ProvisionPermissionSet', () =>
      this.client.send(
        new ProvisionPermissionSetCommand({
          InstanceArn: this.instanceArn,
          PermissionSetArn: permissionSetArn,
          TargetType: 'AWS_ACCOUNT',
          TargetId: accountId,
        }),
      ),
    );
    return toStatus(result.PermissionSetProvisioningStatus, 'ProvisionPermissionSet');
  }

  async provisioningStatus(requestId: string): Promise<ProvisioningStatus> {
    const result = await this.call('DescribePermissionSetProvisioningStatus', () =>
      this.client.send(
        new DescribePermissionSetProvisioningStatusCommand({
          InstanceArn: this.instanceArn,
          ProvisionPermissionSetRequestId: requestId,
        }),
      ),
    );
    return toStatus(result.PermissionSetProvisioningStatus, 'DescribePermissionSetProvisioningStatus');
  }
}
