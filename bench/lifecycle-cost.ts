import './lib/env';
import path from 'node:path';
import type { ExecutionStatus } from '../local/step-functions/local-step-functions';
import { check, type Row, type SectionResult, usd } from './lib/report';
import {
  ACCESS_GROUP_ID,
  ACCOUNTS,
  PEOPLE,
  PERMISSION_SETS,
  type Person,
  requestDecisions,
  requestStore,
  type Stack,
  startStack,
  waitFor,
} from './lib/stack';

// 3. Lifecycle cost: state transitions and Lambda invocations of one request on each path,
// counted from the local engine's event log while it runs statemachines/access-request.asl.json
// with the real handlers (StateEntered + StateRetried, as AWS bills Standard workflows).

/** Step Functions Standard, us-east-1 (FACTS.md): $0.025 per 1,000 state transitions. */
export const USD_PER_TRANSITION = 0.025 / 1000;
/** The issue's budget for an approved request. */
export const TRANSITION_TARGET = 25;
/** 1 model second = 10 real ms: a 1-minute window lasts 0.6 s, the 2 s polling Wait 20 ms. */
const MS_PER_SECOND = 10;

export interface PathCost {
  path: string;
  status: ExecutionStatus;
  finalStatus: string | undefined;
  transitions: number;
  lambdaInvocations: number;
  identityCenterCalls: number;
  slackCalls: number;
  usd: number;
  states: string[];
}

type Driver = (stack: Stack, requestId: string, executionArn: string) => Promise<void>;

const alice: Person = PEOPLE.alice;
const carol: Person = PEOPLE.carol;

/** The window is open for people once its token is stored and the request is ACTIVE. */
const windowOpen = (requestId: string) =>
  waitFor(async () => {
    const token = await requestStore().peekTaskToken(requestId, 'window');
    const record = await requestStore().getRequest(requestId);
    return token && record?.status === 'ACTIVE' ? token : undefined;
  }, `open window of ${requestId}`);
const approvalToken = (requestId: string) =>
  waitFor(async () => {
    const record = await requestStore().getRequest(requestId);
    const token = await requestStore().peekTaskToken(requestId, 'approval');
    return token && record?.approvalMessage ? token : undefined;
  }, `approval token of ${requestId}`);

interface PathSpec {
  path: string;
  accountId?: string;
  /** A group request instead (no account, no permission set). */
  groupId?: string;
  /** Rows with the ≤ 25 target: requests that were approved (by policy or by a person). */
  approved: boolean;
  drive: Driver;
  /** A scheduled start this many model seconds after the request (run on the model clock). */
  startInSeconds?: number;
}

export const PATHS: PathSpec[] = [
  { path: 'auto-approve', accountId: ACCOUNTS.staging, approved: true, drive: async () => {} },
  {
    path: 'approve',
    accountId: ACCOUNTS.production,
    approved: true,
    drive: async (_stack, requestId) => {
      await approvalToken(requestId);
      const outcome = await (await requestDecisions()).decide(requestId, carol, 'approve');
      if (outcome.kind !== 'approved') throw new Error(`approve: ${outcome.kind}`);
    },
  },
  {
    path: 'deny',
    accountId: ACCOUNTS.production,
    approved: false,
    drive: async (_stack, requestId) => {
      await approvalToken(requestId);
      const outcome = await (await requestDecisions()).decide(requestId, carol, 'deny', 'not now');
      if (outcome.kind !== 'denied') throw new Error(`deny: ${outcome.kind}`);
    },
  },
  {
    path: 'early end',
    accountId: ACCOUNTS.staging,
    approved: false,
    drive: async (_stack, requestId) => {
      await windowOpen(requestId);
      const outcome = await (await requestDecisions()).endAccess(requestId, alice);
      if (outcome.kind !== 'ended') throw new Error(`end: ${outcome.kind}`);
    },
  },
  {
    path: 'extend once',
    accountId: ACCOUNTS.staging,
    approved: false,
    drive: async (_stack, requestId) => {
      await windowOpen(requestId);
      const outcome = await (await requestDecisions()).extend(requestId, alice, 1);
      if (outcome.kind !== 'extended') throw new Error(`extend: ${outcome.kind}`);
    },
  },
];

/** Whether the execution has entered `state`. */
const entered = (stack: Stack, executionArn: string, state: string) =>
  waitFor(
    () => stack.host.history(executionArn).some((e) => e.type === 'StateEntered' && e.stateName === state),
    `${state} of ${executionArn}`,
  );

/**
 * Scheduled starts (core/scheduled-start.ts), on a stack whose product runs on the model clock: the
 * start is a time the product computes and the host's Wait reads. The start is a model minute away.
 */
export const SCHEDULED_PATHS: PathSpec[] = [
  {
    path: 'scheduled start, auto-approve',
    accountId: ACCOUNTS.staging,
    approved: false,
    startInSeconds: 60,
    drive: async () => {},
  },
  {
    path: 'scheduled start, cancelled while waiting',
    accountId: ACCOUNTS.staging,
    approved: false,
    startInSeconds: 60,
    drive: async (stack, requestId, executionArn) => {
      await entered(stack, executionArn, 'WaitForStart');
      const decisions = await requestDecisions({ now: () => new Date(stack.clock.now()) });
      const outcome = await decisions.cancel(requestId, alice);
      if (outcome.kind !== 'cancelled') throw new Error(`cancel: ${outcome.kind}`);
    },
  },
];

/**
 * A group membership (core/group-access.ts): synchronous add and remove, no polls. On a stack with
 * the group-access policy (test/fixtures/group-access-policy.yaml), whose group the stack seeds.
 */
export const GROUP_PATHS: PathSpec[] = [
  { path: 'group access, auto-approve', groupId: ACCESS_GROUP_ID, approved: true, drive: async () => {} },
];
const GROUP_POLICY_FILE = path.join(__dirname, '../test/fixtures/group-access-policy.yaml');
/** PowerUser on production and staging under one rule with approval (core/request-set.ts). */
const SET_POLICY_FILE = path.join(__dirname, '../test/fixtures/request-set-policy.yaml');

/**
 * Two accounts in one request, approved with one click: one execution per account, the second's
 * RequestApproval posting nothing. Summed over both executions, and per account.
 */
async function measureSet(stack: Stack): Promise<PathCost> {
  const base = `req-bench-set-${++sequence}-${Date.now().toString(36)}`;
  const members = [base, `${base}-2`];
  const icBefore = stack.identityCenter.standIn.operationLog().length;
  const slackBefore = stack.slack.standIn.calls().length;
  const executions: string[] = [];
  for (const [i, accountId] of [ACCOUNTS.production, ACCOUNTS.staging].entries())
    executions.push(
      await stack.submit(
        {
          requestId: members[i] ?? base,
          accountId,
          permissionSetArn: PERMISSION_SETS.powerUser,
          durationMinutes: 1,
          set: { id: base, members },
        },
        alice,
      ),
    );
  await approvalToken(base);
  await waitFor(() => requestStore().peekTaskToken(`${base}-2`, 'approval'), 'the second approval token');
  const outcome = await (await requestDecisions()).decide(base, carol, 'approve');
  if (outcome.kind !== 'approved') throw new Error(`approve the set: ${outcome.kind}`);
  const descriptions = await Promise.all(executions.map((e) => stack.host.waitForExecution(e)));
  const transitions = executions.reduce((sum, e) => sum + stack.host.transitionCount(e), 0);
  return {
    path: '2 accounts, approved once (both executions)',
    status: descriptions.every((d) => d.status === 'SUCCEEDED') ? 'SUCCEEDED' : 'FAILED',
    finalStatus: (await requestStore().getRequest(`${base}-2`))?.status,
    transitions,
    lambdaInvocations: executions.reduce((sum, e) => sum + stack.host.lambdaInvocations(e), 0),
    identityCenterCalls: stack.identityCenter.standIn.operationLog().length - icBefore,
    slackCalls: stack.slack.standIn.calls().length - slackBefore,
    usd: transitions * USD_PER_TRANSITION,
    states: executions.flatMap((e) =>
      stack.host
        .history(e)
        .filter((event) => event.type === 'StateEntered')
        .map((event) => event.stateName ?? '?'),
    ),
  };
}

let sequence = 0;

async function measurePath(stack: Stack, spec: PathSpec): Promise<PathCost> {
  const requestId = `req-bench-${spec.path.replace(/\W+/g, '-')}-${++sequence}-${Date.now().toString(36)}`;
  const icBefore = stack.identityCenter.standIn.operationLog().length;
  const slackBefore = stack.slack.standIn.calls().length;
  // Long enough that the driver acts inside the window (1 model minute = 600 real ms).
  const now = stack.clock.now();
  const executionArn = await stack.submit(
    {
      requestId,
      ...(spec.groupId
        ? { accountId: null, permissionSetArn: null, groupId: spec.groupId }
        : { accountId: spec.accountId ?? ACCOUNTS.staging }),
      durationMinutes: 1,
      ...(spec.startInSeconds !== undefined
        ? {
            requestedAt: new Date(now).toISOString(),
            startAt: new Date(now + spec.startInSeconds * 1000).toISOString(),
          }
        : {}),
    },
    alice,
  );
  await spec.drive(stack, requestId, executionArn);
  const description = await stack.host.waitForExecution(executionArn);
  const transitions = stack.host.transitionCount(executionArn);
  return {
    path: spec.path,
    status: description.status,
    finalStatus: (await requestStore().getRequest(requestId))?.status,
    transitions,
    lambdaInvocations: stack.host.lambdaInvocations(executionArn),
    identityCenterCalls: stack.identityCenter.standIn.operationLog().length - icBefore,
    slackCalls: stack.slack.standIn.calls().length - slackBefore,
    usd: transitions * USD_PER_TRANSITION,
    states: stack.host
      .history(executionArn)
      .filter((event) => event.type === 'StateEntered' || event.type === 'StateRetried')
      .map((event) =>
        event.type === 'StateRetried' ? `${event.stateName}(retry)` : (event.stateName ?? '?'),
      ),
  };
}

export interface LifecycleOptions {
  quick: boolean;
}

export async function runLifecycleCost(options: LifecycleOptions): Promise<SectionResult> {
  const started = Date.now();
  const paths: PathCost[] = [];
  const stack = await startStack({ msPerSecond: MS_PER_SECOND });
  try {
    for (const spec of PATHS) paths.push(await measurePath(stack, spec));
  } finally {
    await stack.close();
  }
  const groups = await startStack({ msPerSecond: MS_PER_SECOND, policyFile: GROUP_POLICY_FILE });
  try {
    for (const spec of GROUP_PATHS) paths.push(await measurePath(groups, spec));
  } finally {
    await groups.close();
  }
  const sets = await startStack({ msPerSecond: MS_PER_SECOND, policyFile: SET_POLICY_FILE });
  try {
    paths.push(await measureSet(sets));
  } finally {
    await sets.close();
  }
  const scheduled = await startStack({ msPerSecond: MS_PER_SECOND, productOnModelClock: true });
  try {
    for (const spec of SCHEDULED_PATHS) paths.push(await measurePath(scheduled, spec));
  } finally {
    await scheduled.close();
  }
  // Sensitivity (full run only): Identity Center taking 5 s to create and to delete (3 polls each
  // instead of 1). At 100 real ms per model second the handlers' own few ms stay small against the 2 s polls.
  let slowApprove: PathCost | undefined;
  if (!options.quick) {
    const slow = await startStack({ msPerSecond: 100, identityCenter: { provisioningDelayMs: 5000 } });
    try {
      const spec = PATHS.find((p) => p.path === 'approve');
      if (!spec) throw new Error('no approve path');
      slowApprove = { ...(await measurePath(slow, spec)), path: 'approve, 5 s provisioning' };
    } finally {
      await slow.close();
    }
  }

  const rows: Row[] = paths.map((cost) => {
    const spec = [...PATHS, ...GROUP_PATHS, ...SCHEDULED_PATHS].find((p) => p.path === cost.path);
    const ok = cost.status === 'SUCCEEDED';
    return {
      measure: `${cost.path}: transitions / Lambda invokes`,
      result: `${cost.transitions} / ${cost.lambdaInvocations} = ${usd(cost.usd)}${ok ? '' : ` (${cost.status})`}`,
      ...(spec?.approved ? { target: `<= ${TRANSITION_TARGET} transitions` } : {}),
      status: !ok ? 'FAIL' : spec?.approved ? check(cost.transitions, '<=', TRANSITION_TARGET) : 'INFO',
    };
  });
  const approved = paths.find((p) => p.path === 'approve');
  rows.push({
    measure: 'approve, per 1,000 requests',
    result: approved ? usd(approved.usd * 1000) : 'n/a',
    status: 'INFO',
  });
  if (slowApprove) {
    rows.push({
      measure: `${slowApprove.path}: transitions`,
      result: `${slowApprove.transitions} = ${usd(slowApprove.usd)}`,
      status: slowApprove.status === 'SUCCEEDED' ? 'INFO' : 'FAIL',
    });
  }
  return {
    id: 'lifecycle',
    title: 'Lifecycle cost',
    rows,
    details: { msPerSecond: MS_PER_SECOND, usdPerTransition: USD_PER_TRANSITION, paths, slowApprove },
    notes: [
      'Lifecycle: counted on the real ASL with the real handlers; Identity Center creation and deletion take 1 s (the 2 s Wait then needs one Describe each); $0.025 per 1,000 transitions (Standard).',
      'Scheduled start: a Wait until the start (WaitForStart) between a deferred and a real admission, no invocation while it waits; a callback task with the start as its timeout would cost the same states plus an invocation and a stored token, and a cancellation would have to signal it.',
    ],
    durationMs: Date.now() - started,
  };
}
