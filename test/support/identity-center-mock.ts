import {
  GetUserIdCommand,
  type GetUserIdCommandInput,
  ResourceNotFoundException as IdentityStoreNotFound,
  IdentitystoreClient,
} from '@aws-sdk/client-identitystore';
import {
  ConflictException,
  CreateAccountAssignmentCommand,
  DeleteAccountAssignmentCommand,
  DescribeAccountAssignmentCreationStatusCommand,
  DescribeAccountAssignmentDeletionStatusCommand,
  ListAccountAssignmentsCommand,
  SSOAdminClient,
  ThrottlingException,
} from '@aws-sdk/client-sso-admin';
import { mockClient } from 'aws-sdk-client-mock';

// Identity Center mocked at the SDK (aws-sdk-client-mock) with a small model behind it, so the
// workflow tests can assert the exact calls and still see realistic answers: creations and
// deletions are IN_PROGRESS for `pollsBeforeDone` Describe calls, then SUCCEEDED or FAILED.

type Key = { accountId: string; permissionSetArn: string; principalId: string };
const keyText = (k: Key) => `${k.accountId}|${k.permissionSetArn}|${k.principalId}`;

interface Operation {
  kind: 'create' | 'delete';
  key: Key;
  pollsLeft: number;
  outcome: { status: 'SUCCEEDED' } | { status: 'FAILED'; reason: string };
}

export type ScriptedFault =
  | {
      command: 'Create' | 'Delete' | 'DescribeCreation' | 'DescribeDeletion' | 'List';
      error: 'Throttling' | 'Conflict';
    }
  | { command: 'CreateOutcome' | 'DeleteOutcome'; failureReason: string };

export class IdentityCenterMock {
  readonly ssoAdmin = mockClient(SSOAdminClient);
  readonly identityStore = mockClient(IdentitystoreClient);
  readonly assignments = new Set<string>();
  private readonly operations = new Map<string, Operation>();
  private faults: ScriptedFault[] = [];
  private nextId = 1;
  pollsBeforeDone = 1;

  constructor(private readonly usersByEmail: Record<string, string>) {
    this.install();
  }

  /** Faults consumed in order, each by the first matching call. */
  inject(...faults: ScriptedFault[]): void {
    this.faults.push(...faults);
  }

  assign(key: Key): void {
    this.assignments.add(keyText(key));
  }

  has(key: Key): boolean {
    return this.assignments.has(keyText(key));
  }

  restore(): void {
    this.ssoAdmin.restore();
    this.identityStore.restore();
  }

  private takeFault(command: string): ScriptedFault | undefined {
    const index = this.faults.findIndex((f) => f.command === command);
    return index >= 0 ? this.faults.splice(index, 1)[0] : undefined;
  }

  private throwIfFault(
    command: 'Create' | 'Delete' | 'DescribeCreation' | 'DescribeDeletion' | 'List',
  ): void {
    const fault = this.takeFault(command);
    if (!fault || !('error' in fault)) return;
    const $metadata = { httpStatusCode: 400 };
    if (fault.error === 'Throttling') throw new ThrottlingException({ message: 'Rate exceeded', $metadata });
    throw new ConflictException({ message: 'Concurrent modification', $metadata });
  }

  private start(kind: 'create' | 'delete', key: Key) {
    const failure = this.takeFault(kind === 'create' ? 'CreateOutcome' : 'DeleteOutcome');
    const id = `${kind}-${this.nextId++}`;
    this.operations.set(id, {
      kind,
      key,
      pollsLeft: this.pollsBeforeDone,
      outcome:
        failure && 'failureReason' in failure
          ? { status: 'FAILED', reason: failure.failureReason }
          : { status: 'SUCCEEDED' },
    });
    return { Status: 'IN_PROGRESS' as const, RequestId: id };
  }

  private describe(id: string) {
    const operation = this.operations.get(id);
    if (!operation) throw new Error(`unknown operation ${id}`);
    if (operation.pollsLeft > 0) {
      operation.pollsLeft--;
      return { Status: 'IN_PROGRESS' as const, RequestId: id };
    }
    if (operation.outcome.status === 'FAILED')
      return { Status: 'FAILED' as const, RequestId: id, FailureReason: operation.outcome.reason };
    if (operation.kind === 'create') this.assignments.add(keyText(operation.key));
    else this.assignments.delete(keyText(operation.key));
    return { Status: 'SUCCEEDED' as const, RequestId: id };
  }

  private install(): void {
    const keyOf = (input: { TargetId?: string; PermissionSetArn?: string; PrincipalId?: string }): Key => ({
      accountId: input.TargetId ?? '',
      permissionSetArn: input.PermissionSetArn ?? '',
      principalId: input.PrincipalId ?? '',
    });
    this.ssoAdmin.on(ListAccountAssignmentsCommand).callsFake((input) => {
      this.throwIfFault('List');
      const prefix = `${input.AccountId}|${input.PermissionSetArn}|`;
      return {
        AccountAssignments: [...this.assignments]
          .filter((k) => k.startsWith(prefix))
          .map((k) => ({
            AccountId: input.AccountId,
            PermissionSetArn: input.PermissionSetArn,
            PrincipalType: 'USER',
            PrincipalId: k.slice(prefix.length),
          })),
      };
    });
    this.ssoAdmin.on(CreateAccountAssignmentCommand).callsFake((input) => {
      this.throwIfFault('Create');
      return { AccountAssignmentCreationStatus: this.start('create', keyOf(input)) };
    });
    this.ssoAdmin.on(DeleteAccountAssignmentCommand).callsFake((input) => {
      this.throwIfFault('Delete');
      return { AccountAssignmentDeletionStatus: this.start('delete', keyOf(input)) };
    });
    this.ssoAdmin.on(DescribeAccountAssignmentCreationStatusCommand).callsFake((input) => {
      this.throwIfFault('DescribeCreation');
      return {
        AccountAssignmentCreationStatus: this.describe(input.AccountAssignmentCreationRequestId ?? ''),
      };
    });
    this.ssoAdmin.on(DescribeAccountAssignmentDeletionStatusCommand).callsFake((input) => {
      this.throwIfFault('DescribeDeletion');
      return {
        AccountAssignmentDeletionStatus: this.describe(input.AccountAssignmentDeletionRequestId ?? ''),
      };
    });
    this.identityStore.on(GetUserIdCommand).callsFake((input: GetUserIdCommandInput) => {
      const email = input.AlternateIdentifier?.UniqueAttribute?.AttributeValue;
      const userId = typeof email === 'string' ? this.usersByEmail[email.toLowerCase()] : undefined;
      if (!userId)
        throw new IdentityStoreNotFound({ message: 'USER not found', $metadata: { httpStatusCode: 400 } });
      return { UserId: userId, IdentityStoreId: input.IdentityStoreId };
    });
  }

  /** [command name, account, permission set, principal] of every Create/Delete call, in order. */
  writes(): Array<[string, string, string, string]> {
    return this.ssoAdmin
      .calls()
      .map((call) => call.args[0])
      .filter(
        (command) =>
          command instanceof CreateAccountAssignmentCommand ||
          command instanceof DeleteAccountAssignmentCommand,
      )
      .map((command) => {
        const input = command.input as { TargetId: string; PermissionSetArn: string; PrincipalId: string };
        return [
          command instanceof CreateAccountAssignmentCommand ? 'Create' : 'Delete',
          input.TargetId,
          input.PermissionSetArn,
          input.PrincipalId,
        ];
      });
  }
}
