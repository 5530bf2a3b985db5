import path from 'node:path';
import type { AccessRequest, ExecutionInput } from '../../functions/core/model';
import { auditTrail, requestDecisions, requestStore } from '../../local/product-wiring';
import type { SlackApiStandIn } from '../../local/slack-api';
import { startLocalStack } from '../../local/stack';
import type { LocalStepFunctions } from '../../local/step-functions/local-step-functions';
import type { ProductStepFunctionsOptions } from '../../local/step-functions/product-workflow';
import { IdentityCenterMock } from '../support/identity-center-mock';

// Runs the real ASL file with the real worker handlers: Step Functions is the local host (also
// reached over its HTTP endpoint by the real SFN adapter), DynamoDB is dynalite, Slack is the
// Web API stand-in, and Identity Center is mocked at the SDK so each call can be asserted.

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

export interface Harness {
  host: LocalStepFunctions;
  /** A policy redeploy: the policy file compiled again and every function a new instance. */
  redeploy(): void;
  identityCenter: IdentityCenterMock;
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
  /** The policy file the functions load (default: config/access-policy.example.yaml). */
  policyFile?: string;
}

export async function startHarness(options: HarnessOptions = {}): Promise<Harness> {
  const { policyFile, ...stepFunctions } = options;
  sequence++;
  const stack = await startLocalStack({
    policyFile: policyFile ?? path.join(__dirname, '../../config/access-policy.example.yaml'),
    tablePrefix: `workflow-${sequence}`,
    slack: {
      users: Object.values(PEOPLE).map((p) => ({
        id: p.slackUserId,
        name: p.email.split('@')[0] ?? p.email,
        email: p.email,
      })),
    },
    stepFunctions: { msPerSecond: 1, ...stepFunctions },
  });
  const { host, slack } = stack;
  const identityCenter = new IdentityCenterMock(
    Object.fromEntries(Object.values(PEOPLE).map((p) => [p.email, p.principalId])),
  );

  const harness: Harness = {
    host,
    identityCenter,
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
      identityCenter.restore();
    },
  };
  return harness;
}

export { requestDecisions, requestStore };

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
