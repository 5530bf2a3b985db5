import path from 'node:path';
import type { AccessRequest, AssignmentKey, ExecutionInput } from '../../functions/core/model';
import type { Clock } from '../../functions/core/ports';
import { systemClock } from '../../functions/shared/clock';
import {
  type IdentityCenterStandIn,
  type SandboxFileInput,
  type StartIdentityCenterOptions,
  sandboxFileSchema,
} from '../../local/identity-center';
import { auditTrail, requestDecisions, requestStore } from '../../local/product-wiring';
import type { SlackApiStandIn } from '../../local/slack-api';
import { startLocalStack } from '../../local/stack';
import type { LocalStepFunctions } from '../../local/step-functions/local-step-functions';
import type { ProductStepFunctionsOptions } from '../../local/step-functions/product-workflow';
import { ScaledClock } from '../support/scaled-clock';

// Runs the real ASL file with the real worker handlers: Step Functions is the local host (also
// reached over its HTTP endpoint by the real SFN adapter), DynamoDB is dynalite, Slack and
// Identity Center are their stand-ins over HTTP, whose call logs the tests assert.

export const PEOPLE = {
  alice: { email: 'alice@example.com', slackUserId: 'U0ALICE', principalId: 'user-alice' },
  bob: { email: 'bob@example.com', slackUserId: 'U0BOB', principalId: 'user-bob' },
  carol: { email: 'carol@example.com', slackUserId: 'U0CAROL', principalId: 'user-carol' },
  dave: { email: 'dave@example.com', slackUserId: 'U0DAVE', principalId: 'user-dave' },
} as const;

export const ACCOUNTS = { production: '111111111111', staging: '222222222222' } as const;
export const PERMISSION_SETS = {
  readOnly: 'arn:aws:sso:::permissionSet/ssoins-7223a1b2c3d4e5f6/ps-1a2b3c4d5e6f7a8b',
  powerUser: 'arn:aws:sso:::permissionSet/ssoins-7223a1b2c3d4e5f6/ps-9f8e7d6c5b4a3f2e',
} as const;

/** The organisation the policy files name (test/fixtures/email-groups-policy.yaml). */
const SANDBOX: SandboxFileInput = {
  instanceArn: 'arn:aws:sso:::instance/ssoins-7223a1b2c3d4e5f6',
  identityStoreId: 'd-9067a1b2c3',
  users: Object.entries(PEOPLE).map(([name, p]) => ({
    userId: p.principalId,
    userName: name,
    email: p.email,
    displayName: name,
  })),
  accounts: Object.entries(ACCOUNTS).map(([name, id]) => ({ id, name })),
  permissionSets: [
    { name: 'ReadOnly', arn: PERMISSION_SETS.readOnly },
    { name: 'PowerUser', arn: PERMISSION_SETS.powerUser },
  ],
};

/** [operation, account, permission set, principal]. */
export type AssignmentWrite = ['Create' | 'Delete', string, string, string];

export interface Harness {
  host: LocalStepFunctions;
  /** A policy redeploy: the policy file compiled again and every function a new instance. */
  redeploy(): Promise<void>;
  /** The Identity Center stand-in: its assignments, operation log, faults (`setFaults`). */
  identityCenter: IdentityCenterStandIn;
  /** Every Create/DeleteAccountAssignment call the stand-in received, refused ones included, in order. */
  writes(): AssignmentWrite[];
  /** The clock the handlers read (model time with `scaledClock`). */
  clock: Clock;
  /** Whether the assignment exists now. */
  hasAssignment(key: AssignmentKey): boolean;
  /** The Slack Web API stand-in, for its refusals (a removed bot, an archived channel, faults). */
  slack: SlackApiStandIn;
  slackCalls(method?: string): Array<{ method: string; args: Record<string, unknown> }>;
  start(request: Partial<AccessRequest> & { requestId: string }): Promise<string>;
  finished(executionArn: string): Promise<ReturnType<LocalStepFunctions['describeExecution']>>;
  waitFor<T>(probe: () => Promise<T | undefined | false>, what: string): Promise<T>;
  auditActions(requestId: string): Promise<string[]>;
  close(): Promise<void>;
}

let sequence = 0;

export interface HarnessOptions extends ProductStepFunctionsOptions {
  /** The policy file the functions load (default: test/fixtures/email-groups-policy.yaml). */
  policyFile?: string;
  /** Assignments that exist before any request, made outside the product. */
  assignments?: AssignmentKey[];
  /** The Identity Center stand-in; default: no quotas, provisioning done at the next call. */
  identityCenter?: Omit<StartIdentityCenterOptions, 'sandbox'>;
  /** Identity Center groups (identityCenterGroup: selectors), members by userName (alice, bob, …). */
  groups?: Array<{ displayName: string; members: string[]; groupId?: string }>;
  /**
   * Model time for the handlers and the host's Wait timestamps, running `1000 / msPerSecond` times
   * faster than real time (a scheduled start an hour ahead comes in 3.6 s at 1 ms per second).
   */
  scaledClock?: boolean;
}

export async function startHarness(options: HarnessOptions = {}): Promise<Harness> {
  const {
    policyFile,
    assignments = [],
    groups = [],
    identityCenter: identityCenterOptions,
    scaledClock: scaled = false,
    ...stepFunctions
  } = options;
  sequence++;
  const clock = scaled ? new ScaledClock(1000 / (stepFunctions.msPerSecond ?? 1)) : systemClock;
  const stack = await startLocalStack({
    ...(scaled ? { clock } : {}),
    policyFile: policyFile ?? path.join(__dirname, '../fixtures/email-groups-policy.yaml'),
    tablePrefix: `workflow-${sequence}`,
    slack: {
      users: Object.values(PEOPLE).map((p) => ({
        id: p.slackUserId,
        name: p.email.split('@')[0] ?? p.email,
        email: p.email,
      })),
    },
    identityCenter: {
      sandbox: sandboxFileSchema.parse({ ...SANDBOX, assignments, groups }),
      provisioningDelayMs: 0,
      requestsPerSecond: Number.POSITIVE_INFINITY,
      maxCreationsInFlight: Number.POSITIVE_INFINITY,
      ...identityCenterOptions,
    },
    stepFunctions: { msPerSecond: 1, ...stepFunctions },
  });
  const { host, slack } = stack;
  const identityCenter = stack.identityCenter.standIn;

  const harness: Harness = {
    clock,
    host,
    identityCenter,
    writes: () =>
      identityCenter.operationLog().flatMap((entry) => {
        if (entry.operation !== 'CreateAccountAssignment' && entry.operation !== 'DeleteAccountAssignment')
          return [];
        const input = entry.params as { TargetId: string; PermissionSetArn: string; PrincipalId: string };
        const kind = entry.operation === 'CreateAccountAssignment' ? 'Create' : 'Delete';
        return [[kind, input.TargetId, input.PermissionSetArn, input.PrincipalId] as AssignmentWrite];
      }),
    hasAssignment: (key) =>
      identityCenter
        .listAssignments()
        .some(
          (a) =>
            a.accountId === key.accountId &&
            a.permissionSetArn === key.permissionSetArn &&
            a.principalId === key.principalId,
        ),
    slack: slack.standIn,
    slackCalls: (method) =>
      slack.standIn
        .calls(method ? { method } : undefined)
        .map((call) => ({ method: call.method, args: call.args as Record<string, unknown> })),
    async start(partial) {
      const request: AccessRequest = {
        requester: { email: PEOPLE.alice.email, slackUserId: PEOPLE.alice.slackUserId },
        accountId: ACCOUNTS.staging,
        permissionSetArn: PERMISSION_SETS.readOnly,
        durationMinutes: 60,
        reason: 'Investigating an incident',
        requestedAt: new Date().toISOString(),
        ...partial,
      };
      const input: ExecutionInput = { version: 1, request };
      const { executionArn } = await host.startExecution({
        name: request.requestId,
        input: JSON.stringify(input),
      });
      return executionArn;
    },
    finished: (executionArn) => host.waitForExecution(executionArn),
    async waitFor(probe, what) {
      const deadline = Date.now() + 10_000;
      while (Date.now() < deadline) {
        const value = await probe();
        if (value !== undefined && value !== false) return value as never;
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      throw new Error(`Timed out waiting for ${what}`);
    },
    redeploy: () => stack.redeploy(),
    async auditActions(requestId) {
      return (await auditTrail().list(requestId)).map((event) => event.action);
    },
    async close() {
      await stack.close();
    },
  };
  return harness;
}

export { auditTrail, requestDecisions, requestStore };

/** Waits until the request's callback task of `kind` has stored its token. */
export function tokenStored(harness: Harness, requestId: string, kind: 'approval' | 'window') {
  return harness.waitFor(
    () => requestStore().peekTaskToken(requestId, kind),
    `${kind} token of ${requestId}`,
  );
}

/** Waits until an audit action is recorded for the request. */
export function audited(harness: Harness, requestId: string, action: string) {
  return harness.waitFor(
    async () => (await harness.auditActions(requestId)).includes(action),
    `${action} on ${requestId}`,
  );
}
