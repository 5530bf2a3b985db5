import path from 'node:path';
import type { Context } from 'aws-lambda';
import { auditSource, exportTrail } from '../../functions/cli/audit';
import { verifyChains } from '../../functions/core/audit-chain';
import { type Actor, RequestDecisions } from '../../functions/core/decisions';
import { assignmentKeyText, type ExecutionInput, type RequestRecord } from '../../functions/core/model';
import { findRule } from '../../functions/core/policy';
import type { Clock, Workflow } from '../../functions/core/ports';
import { Reconciler } from '../../functions/core/reconciler';
import { createHandler as createReconcilerHandler } from '../../functions/reconciler';
import { systemClock } from '../../functions/shared/clock';
import { loadPolicy } from '../../functions/shared/policy';
import { slackNotifier as notifierOf, slackWebApi } from '../../functions/shared/slack';
import { assignmentDirectory as assignmentsOf } from '../../functions/shared/sso-admin';
import { stepFunctionsWorkflow } from '../../functions/shared/step-functions';
import {
  deriveUserId,
  type FaultSettings,
  type IdentityCenterStandIn,
  type SandboxFile,
  sandboxFileSchema,
  seededRandom,
} from '../../local/identity-center';
import * as product from '../../local/product-wiring';
import type { SlackApiStandIn } from '../../local/slack-api';
import { startLocalStack } from '../../local/stack';
import type { LambdaHandler, LocalStepFunctions } from '../../local/step-functions/local-step-functions';
import type { WorkerName } from '../../local/step-functions/product-workflow';
import { ScaledClock } from '../support/scaled-clock';
import {
  auditTrailProblems,
  type CompletedDeletion,
  decisionProblems,
  type HoldingInterval,
  holdingInterval,
  wrongDeletions,
} from './invariants';

// The product's objects as its handlers build them, on the campaign's model clock (set when a
// campaign stack starts): the campaign checks and drives them as the handlers would.
let modelClock: Clock = systemClock;
let reconcilerHandler: LambdaHandler = createReconcilerHandler();
const policy = () => loadPolicy();
const requestStore = () => product.requestStore(modelClock);
const auditTrail = () => product.auditTrail(modelClock);
const requestDecisions = () => product.requestDecisions(modelClock);
const assignmentDirectory = () => assignmentsOf(loadPolicy());
const slackNotifier = async () => notifierOf(loadPolicy(), await slackWebApi());

// The fault-injection campaign: randomized request lifecycles through the real state machine
// (the local Step Functions host running statemachines/access-request.asl.json with the real
// worker handlers), the real adapters over HTTP to dynalite, the Identity Center stand-in (with
// its seeded throttling, conflicts and FAILED operations) and the Slack stand-in, plus faults the
// campaign adds itself: worker crashes before/after their AWS calls, lost callbacks, duplicate,
// concurrent and unauthorized clicks, early ends racing expiry, overlapping requests for the same
// assignment, pre-existing permanent assignments and reconciler passes in the middle of it all.
//
// Time: one ASL second is `msPerSecond` real milliseconds, and every clock of the system (the
// workers' and reconciler's clock, the Identity Center stand-in, the Step Functions host) reads
// the same scaled clock, so an expiresAt written by a worker means what the state machine does.
// Everything random derives from the seed; a run with the same seed replays the same plans and
// faults (the interleaving of concurrent lifecycles still depends on the machine's timing).

export interface CampaignOptions {
  seed: number;
  lifecycles: number;
  /** Lifecycles run concurrently; the invariants are checked after each batch and the reconciler's passes. */
  batchSize?: number;
  /** Real ms per ASL second (8: a 1-minute window lasts 480 ms). */
  msPerSecond?: number;
  /** Probability that a worker invocation crashes (before or after its work). */
  crashRate?: number;
  /** Identity Center stand-in fault rates. */
  faults?: Partial<Omit<FaultSettings, 'failNext' | 'latencyMs'>>;
  log?: (line: string) => void;
}

export interface CampaignReport {
  seed: number;
  lifecycles: number;
  batches: number;
  wallMs: number;
  faultsInjected: number;
  faults: Record<string, number>;
  leaked: number;
  wronglyRevoked: number;
  /** Group memberships present with no grant behind them (of `leaked`). */
  leakedMemberships: number;
  /** Memberships that existed before any request, found removed (of `wronglyRevoked`). */
  wronglyRemovedMemberships: number;
  auditGaps: number;
  badDecisions: number;
  /** Holders records not at rest (ABSENT, or PRESENT for a pre-existing assignment) after the passes. */
  unsettledRecords: number;
  stillRunning: number;
  outcomes: Record<string, number>;
  /** The first problems found, for the person replaying the seed. */
  findings: string[];
}

/** Reconciler passes after a batch at most (two always: the next pass, and one to confirm its deletions). */
const FINAL_PASSES = 5;

/** Slack stand-in faults: seeded rates per Web API call. */
export const SLACK_FAULTS = { rateLimitRate: 0.03, internalErrorRate: 0.02 };

export const DEFAULT_FAULTS: CampaignOptions['faults'] = {
  throttleRate: 0.05,
  conflictRate: 0.04,
  internalErrorRate: 0.02,
  failCreationRate: 0.04,
  failDeletionRate: 0.04,
};

const INSTANCE_ARN = 'arn:aws:sso:::instance/ssoins-7223a1b2c3d4e5f6';
const IDENTITY_STORE_ID = 'd-9067a1b2c3';
const ACCOUNTS = { production: '111111111111', staging: '222222222222', qa: '333333333333' } as const;
const PERMISSION_SETS = {
  readOnly: 'arn:aws:sso:::permissionSet/ssoins-7223a1b2c3d4e5f6/ps-1a2b3c4d5e6f7a8b',
  admin: 'arn:aws:sso:::permissionSet/ssoins-7223a1b2c3d4e5f6/ps-9f8e7d6c5b4a3f2e',
} as const;
export const CAMPAIGN_POLICY_FILE = path.join(__dirname, 'chaos-policy.yaml');

interface Person {
  name: string;
  email: string;
  slackUserId: string;
  /** frank has a Slack account but no Identity Center user: his requests are rejected. */
  inIdentityCenter: boolean;
}
const PEOPLE: Person[] = ['alice', 'bob', 'carol', 'dave', 'erin', 'frank'].map((name) => ({
  name,
  email: `${name}@example.com`,
  slackUserId: `U0${name.toUpperCase()}`,
  inIdentityCenter: name !== 'frank',
}));
const TARGETS = [
  { accountId: ACCOUNTS.production, permissionSetArn: PERMISSION_SETS.readOnly },
  { accountId: ACCOUNTS.production, permissionSetArn: PERMISSION_SETS.admin },
  { accountId: ACCOUNTS.staging, permissionSetArn: PERMISSION_SETS.readOnly },
  { accountId: ACCOUNTS.staging, permissionSetArn: PERMISSION_SETS.admin },
];
/** Identity Center groups of the campaign policy's group rules (accessGroups). */
const GROUPS = {
  operators: '9067a1b2c3-c4a00000-0000-4c00-8c00-00000000c001',
  auditors: '9067a1b2c3-c4a00000-0000-4c00-8c00-00000000c002',
} as const;
/** Memberships that exist before any request; the product must never remove them. */
const PERMANENT_MEMBERSHIPS = [
  { person: 'carol', groupId: GROUPS.operators },
  { person: 'bob', groupId: GROUPS.auditors },
];
/** Permanent assignments that exist before any request; the product must never remove them. */
const PERMANENT = [
  { person: 'alice', ...TARGETS[2] },
  { person: 'carol', ...TARGETS[0] },
  { person: 'bob', ...TARGETS[3] },
  { person: 'erin', ...TARGETS[1] },
] as Array<{ person: string; accountId: string; permissionSetArn: string }>;

const SANDBOX: SandboxFile = sandboxFileSchema.parse({
  instanceArn: INSTANCE_ARN,
  identityStoreId: IDENTITY_STORE_ID,
  users: PEOPLE.filter((p) => p.inIdentityCenter).map((p) => ({
    userName: p.name,
    email: p.email,
    displayName: p.name,
  })),
  accounts: [
    { id: ACCOUNTS.production, name: 'production' },
    { id: ACCOUNTS.staging, name: 'staging' },
    { id: ACCOUNTS.qa, name: 'qa' },
  ],
  permissionSets: [
    { name: 'ReadOnly', arn: PERMISSION_SETS.readOnly },
    { name: 'Admin', arn: PERMISSION_SETS.admin },
  ],
  groups: [
    { groupId: GROUPS.operators, displayName: 'Operators', members: ['carol'] },
    { groupId: GROUPS.auditors, displayName: 'Auditors', members: ['bob'] },
  ],
  assignments: PERMANENT.map((a) => ({
    accountId: a.accountId,
    permissionSetArn: a.permissionSetArn,
    email: `${a.person}@example.com`,
  })),
});

/** Reasons people type; some look like Slack markup or mention the whole channel. */
const REASONS = [
  'Investigating an incident',
  'Deploy hotfix for ticket OPS-42',
  '<!channel> urgent <@U0DAVE> *please* approve <https://evil.example|click here>',
  'Ünïcödé reason — 日本語 🚀 &amp; </script>',
  "Robert'); DROP TABLE requests;--",
];

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

// ---------------------------------------------------------------------------------------------
// Plans: everything a lifecycle will do, drawn from the seed before it starts

type ApprovalMode =
  | 'approve'
  | 'deny'
  | 'duplicate-approve'
  | 'approve-deny-race'
  | 'unauthorized-then-approve'
  | 'ignore'
  | 'lost-callback'
  | 'cancel'
  | 'cancel-approve-race';
type WindowMode =
  | 'expire'
  | 'end-early'
  | 'end-racing-expiry'
  | 'double-end'
  | 'extend'
  | 'end-by-stranger'
  | 'lost-end'
  | 'end-while-granting';
type CrashKind = 'Runtime.ExitError' | 'Lambda.ServiceException';

interface LifecyclePlan {
  index: number;
  requestId: string;
  requester: Person;
  /** null for a group lifecycle (its group in groupId). */
  accountId: string | null;
  permissionSetArn: string | null;
  groupId?: string;
  durationMinutes: number;
  reason: string;
  approval: ApprovalMode;
  window: WindowMode;
  /** A point in the window (0..1) for early ends and extensions. */
  windowPoint: number;
  /** Virtual seconds around the window's end for the racing End click. */
  raceOffsetSeconds: number;
  startDelayMs: number;
  reconcilerPass?: { afterSeconds: number; kind: 'handler' | 'late' | 'two-at-once' };
  /** Revoke and CheckRevoke always crash for this request (the reconciler must clean up). */
  persistentRevokeCrash?: 'before' | 'after';
  /** Asked as break-glass (production Admin): granted at once without approval, or refused. */
  breakGlass?: true;
  /** A scheduled start this many virtual seconds after it is asked (core/scheduled-start.ts). */
  startInSeconds?: number;
  /** Withdrawn by its requester while it waits for its start (WaitForStart): nothing may be granted. */
  cancelBeforeStart?: true;
  /**
   * Asked together with the same permission set on qa (core/request-set.ts): a second execution,
   * `<requestId>-2`, decided by this lifecycle's clicks on the set; its window runs on its own.
   */
  withQa?: true;
  stepRandom: () => number;
  crashRate: number;
}

function pick<T>(random: () => number, items: readonly T[]): T {
  return items[Math.floor(random() * items.length)] as T;
}

function weighted<T extends string>(random: () => number, weights: Record<T, number>): T {
  const entries = Object.entries(weights) as Array<[T, number]>;
  const total = entries.reduce((sum, [, w]) => sum + w, 0);
  let roll = random() * total;
  for (const [value, weight] of entries) {
    roll -= weight;
    if (roll <= 0) return value;
  }
  return entries[entries.length - 1]?.[0] as T;
}

function planLifecycle(seed: number, index: number, crashRate: number): LifecyclePlan {
  const random = seededRandom((seed * 100_003 + index * 7919) >>> 0);
  const target = pick(random, TARGETS);
  // frank has no Identity Center user: his requests are rejected; he asks less often.
  const requester = random() < 0.08 ? (PEOPLE[5] as Person) : pick(random, PEOPLE.slice(0, 5));
  const overMax = random() < 0.04;
  const plan: LifecyclePlan = {
    index,
    requestId: `chaos-${seed}-${index}`,
    requester,
    ...target,
    durationMinutes: overMax ? 600 : 2 + Math.floor(random() * 4),
    reason: random() < 0.3 ? pick(random, REASONS.slice(2)) : pick(random, REASONS.slice(0, 2)),
    approval: weighted<ApprovalMode>(random, {
      approve: 30,
      deny: 10,
      'duplicate-approve': 12,
      'approve-deny-race': 12,
      'unauthorized-then-approve': 12,
      ignore: 6,
      'lost-callback': 6,
      cancel: 5,
      'cancel-approve-race': 5,
    }),
    window: weighted<WindowMode>(random, {
      expire: 30,
      'end-early': 15,
      'end-racing-expiry': 15,
      'double-end': 10,
      extend: 12,
      'end-by-stranger': 8,
      'lost-end': 6,
      'end-while-granting': 8,
    }),
    windowPoint: random(),
    raceOffsetSeconds: (random() - 0.5) * 6,
    startDelayMs: random() * 40,
    stepRandom: seededRandom((seed * 31 + index * 104_729 + 17) >>> 0),
    crashRate,
  };
  const reconcilerRoll = random();
  if (reconcilerRoll < 0.3)
    plan.reconcilerPass = {
      afterSeconds: 20 + random() * 300,
      kind: reconcilerRoll < 0.18 ? 'handler' : reconcilerRoll < 0.25 ? 'late' : 'two-at-once',
    };
  const revokeRoll = random();
  if (revokeRoll < 0.05) plan.persistentRevokeCrash = revokeRoll < 0.025 ? 'before' : 'after';
  // Drawn last, so the other choices of a seed stay as they were. A reason of its own (a reused
  // one is refused), except now and then: that refusal is exercised too.
  const breakGlassRoll = random();
  if (breakGlassRoll < 0.1) {
    plan.breakGlass = true;
    Object.assign(plan, TARGETS[1]);
    if (breakGlassRoll >= 0.01) plan.reason = `${plan.reason} (break-glass ${index})`;
  }
  // A later start for some of the others (drawn after break-glass, for the same reason); about
  // half of those are cancelled while they wait for it.
  const startRoll = random();
  if (!plan.breakGlass && startRoll < 0.12) {
    plan.startInSeconds = 20 + Math.floor(random() * 200);
    if (startRoll < 0.06) plan.cancelBeforeStart = true;
  }
  // Group lifecycles (a membership instead of an assignment), drawn after everything else.
  const groupRoll = random();
  if (!plan.breakGlass && plan.startInSeconds === undefined && groupRoll < 0.2) {
    plan.accountId = null;
    plan.permissionSetArn = null;
    plan.groupId = groupRoll < 0.1 ? GROUPS.operators : GROUPS.auditors;
  }
  // Several accounts in one request, drawn last: qa falls under the same rule as production
  // ReadOnly (production-read, approved) and staging Admin (self-service), as the form would
  // group them; the other targets would be split by rule, so they are asked alone.
  const setRoll = random();
  const sameRuleOnQa =
    (plan.accountId === ACCOUNTS.staging && plan.permissionSetArn === PERMISSION_SETS.admin) ||
    (plan.accountId === ACCOUNTS.production && plan.permissionSetArn === PERMISSION_SETS.readOnly);
  if (!plan.breakGlass && !plan.groupId && sameRuleOnQa && setRoll < 0.15) plan.withQa = true;
  return plan;
}

/** The requests a lifecycle makes: its own, and its set's second account's. */
const requestIdsOf = (plan: LifecyclePlan) => [
  plan.requestId,
  ...(plan.withQa ? [`${plan.requestId}-2`] : []),
];

// ---------------------------------------------------------------------------------------------
// The environment

interface Environment {
  clock: ScaledClock;
  /** Resolves once no worker invocation is running. */
  handlersIdle(): Promise<void>;
  slack: SlackApiStandIn;
  host: LocalStepFunctions;
  identityCenter: IdentityCenterStandIn;
  workflow: Workflow;
  plans: Map<string, LifecyclePlan>;
  /** Callback states each execution has waited in (its Lambda returned: the token is stored). */
  waited: Map<string, Set<string>>;
  counters: Record<string, number>;
  findings: string[];
  close(): Promise<void>;
}

function requestIdOf(event: unknown): string | undefined {
  if (!event || typeof event !== 'object') return undefined;
  const record = event as { requestId?: unknown; request?: { requestId?: unknown } };
  if (typeof record.requestId === 'string') return record.requestId;
  return typeof record.request?.requestId === 'string' ? record.request.requestId : undefined;
}

function crash(kind: CrashKind, name: string, when: string): Error {
  const error = new Error(`injected crash ${when} ${name}`);
  error.name = kind;
  return error;
}

async function startEnvironment(options: Required<Omit<CampaignOptions, 'log'>>): Promise<Environment> {
  const clock = new ScaledClock(1000 / options.msPerSecond);
  const counters: Record<string, number> = {};
  const count = (name: string, by = 1) => {
    counters[name] = (counters[name] ?? 0) + by;
  };
  const plans = new Map<string, LifecyclePlan>();

  modelClock = clock;
  // Invocations still running, even of stopped executions (an in-process handler is not killed
  // with its execution). Time jumps only once they are done: on AWS a Lambda is dead within its
  // timeout (30 s), far inside the reconciler's settle period, which a jump would otherwise skip.
  const inFlight = new Set<Promise<unknown>>();
  const wrapHandler = (name: WorkerName, handler: LambdaHandler): LambdaHandler => {
    const inner = handler;
    const timed: LambdaHandler = async (event: unknown, context: Context) => {
      const t0 = Date.now();
      const run = inner(event, context);
      inFlight.add(run);
      try {
        return await run;
      } finally {
        inFlight.delete(run);
        if (process.env.CHAOS_TRACE) {
          count(`ms.${name}`, Date.now() - t0);
          count(`n.${name}`);
        }
      }
    };
    handler = timed;
    return async (event: unknown, context: Context) => {
      const plan = plans.get(requestIdOf(event) ?? '');
      if (!plan) return handler(event, context);
      if (plan.persistentRevokeCrash && (name === 'revoke' || name === 'check-revoke')) {
        count(`crash.persistent-revoke-${plan.persistentRevokeCrash}`);
        if (plan.persistentRevokeCrash === 'before') throw crash('Runtime.ExitError', name, 'before');
        await handler(event, context);
        throw crash('Runtime.ExitError', name, 'after');
      }
      if (plan.stepRandom() >= plan.crashRate) return handler(event, context);
      const when = plan.stepRandom() < 0.5 ? 'before' : 'after';
      const kind: CrashKind = plan.stepRandom() < 0.5 ? 'Runtime.ExitError' : 'Lambda.ServiceException';
      count(`crash.${when}`);
      if (when === 'before') throw crash(kind, name, when);
      await handler(event, context);
      throw crash(kind, name, when);
    };
  };
  // Slack as it refuses: its published rate limits (chat.postMessage about 1/s per channel) on
  // campaign time, plus seeded 429s and 5xx on any call. No notification may decide whether
  // access exists: the invariants below must hold whatever Slack answers.
  const stack = await startLocalStack({
    policyFile: CAMPAIGN_POLICY_FILE,
    tablePrefix: `chaos-${options.seed}`,
    slack: {
      users: PEOPLE.map((p) => ({ id: p.slackUserId, name: p.name, email: p.email })),
      rateLimits: true,
      now: () => clock.nowMs(),
      seed: options.seed,
      faults: SLACK_FAULTS,
    },
    identityCenter: {
      sandbox: SANDBOX,
      provisioningDelayMs: 5_000,
      seed: options.seed,
      faults: options.faults,
      now: () => clock.nowMs(),
    },
    clock,
    stepFunctions: { msPerSecond: options.msPerSecond, now: () => clock.now(), wrapHandler },
    env: { ALERT_CHANNEL: 'C0ALERTS' },
  });
  const { host, slack } = stack;
  const { identityCenter } = stack;
  const waited = new Map<string, Set<string>>();
  host.onTaskWaiting((event) => {
    const states = waited.get(event.executionArn) ?? new Set<string>();
    states.add(event.stateName);
    waited.set(event.executionArn, states);
  });
  // The Lambda's reconciler, with its deletion polls on campaign time (2 ASL seconds).
  reconcilerHandler = createReconcilerHandler(clock, { pollIntervalMs: clock.realMs(2000) });

  return {
    clock,
    async handlersIdle() {
      while (inFlight.size) await Promise.allSettled([...inFlight]);
    },
    slack: slack.standIn,
    host,
    identityCenter: identityCenter.standIn,
    workflow: stepFunctionsWorkflow(),
    plans,
    waited,
    counters,
    findings: [],
    async close() {
      await stack.close();
      modelClock = systemClock;
    },
  };
}

// ---------------------------------------------------------------------------------------------
// One lifecycle

const actor = (person: Person): Actor => ({ email: person.email, slackUserId: person.slackUserId });

/** A workflow whose callbacks get lost: the token is taken, the Lambda "crashes" before sending it. */
function lossy(workflow: Workflow): Workflow {
  return {
    ...workflow,
    start: (input) => workflow.start(input),
    stop: (id, cause) => workflow.stop(id, cause),
    isRunning: (id) => workflow.isRunning(id),
    sendSuccess: async () => {
      throw new Error('injected: the Lambda died before SendTaskSuccess');
    },
    sendFailure: async () => {
      throw new Error('injected: the Lambda died before SendTaskFailure');
    },
  };
}

/**
 * Clicks as the decisions function receives them: Lambda redelivers an asynchronous job whose run
 * threw (a Slack refusal while answering, say) up to twice, and the redelivery completes what the
 * first run left undone (functions/core/decisions.ts).
 */
function redelivered(decisions: RequestDecisions, onRedelivery: () => void): RequestDecisions {
  const deliver = async <T>(run: () => Promise<T>): Promise<T> => {
    for (let attempt = 1; ; attempt++) {
      try {
        return await run();
      } catch (error) {
        if (attempt >= 3) throw error;
        onRedelivery();
      }
    }
  };
  return new Proxy(decisions, {
    get(target, name, receiver) {
      const value = Reflect.get(target, name, receiver);
      return typeof value === 'function'
        ? (...args: unknown[]) => deliver(() => value.apply(target, args))
        : value;
    },
  });
}

async function waitUntil(probe: () => Promise<boolean> | boolean, realMs = 4000): Promise<boolean> {
  const deadline = Date.now() + realMs;
  while (Date.now() < deadline) {
    if (await probe()) return true;
    await sleep(5);
  }
  return false;
}

async function runLifecycle(env: Environment, plan: LifecyclePlan): Promise<void> {
  const { requestId } = plan;
  await sleep(plan.startDelayMs);
  const input: ExecutionInput = {
    version: 1,
    request: {
      requestId,
      requester: { email: plan.requester.email, slackUserId: plan.requester.slackUserId },
      accountId: plan.accountId,
      permissionSetArn: plan.permissionSetArn,
      ...(plan.groupId ? { groupId: plan.groupId } : {}),
      durationMinutes: plan.durationMinutes,
      reason: plan.reason,
      ...(plan.breakGlass ? { breakGlass: true as const } : {}),
      ...(plan.startInSeconds !== undefined
        ? { startAt: new Date(env.clock.nowMs() + plan.startInSeconds * 1000).toISOString() }
        : {}),
      requestedAt: env.clock.now().toISOString(),
    },
  };
  const qaId = `${requestId}-2`;
  if (plan.withQa) input.request.set = { id: requestId, members: [requestId, qaId] };
  const { executionArn } = await env.workflow.start(input);
  // The set's second account: its own execution, decided through this one's clicks.
  const qa = plan.withQa
    ? await env.workflow.start({
        version: 1,
        request: { ...input.request, requestId: qaId, accountId: ACCOUNTS.qa },
      })
    : undefined;
  let finished = false;
  const done = Promise.all([
    env.host.waitForExecution(executionArn),
    ...(qa ? [env.host.waitForExecution(qa.executionArn)] : []),
  ]).then(() => {
    finished = true;
  });
  const background: Array<Promise<unknown>> = [];
  try {
    await driveLifecycle(env, plan, executionArn, () => finished, background);
  } finally {
    // A driver that failed (a click the person would repeat) still waits for its execution:
    // the batch's checks must not start while it runs.
    await done;
    await Promise.allSettled(background);
  }
}

async function driveLifecycle(
  env: Environment,
  plan: LifecyclePlan,
  executionArn: string,
  isFinished: () => boolean,
  background: Array<Promise<unknown>>,
): Promise<void> {
  const { requestId } = plan;
  const count = (name: string) => {
    env.counters[name] = (env.counters[name] ?? 0) + 1;
  };
  const note = (problem: string) => {
    if (env.findings.length < 50) env.findings.push(`${requestId}: ${problem}`);
    count('unexpected-click-answers');
  };
  if (plan.breakGlass) count('kind.break-glass');
  if (plan.startInSeconds !== undefined) count('kind.scheduled-start');
  if (plan.groupId) count('kind.group');
  if (plan.withQa) count('kind.request-set');
  if (plan.reconcilerPass) {
    const pass = plan.reconcilerPass;
    background.push(
      sleep(env.clock.realMs(pass.afterSeconds * 1000)).then(() => reconcilerPassMidFlight(env, pass.kind)),
    );
  }
  const store = requestStore();
  const decisions = redelivered(await requestDecisions(), () => count('approval.redelivered-job'));
  const record = () => store.getRequest(requestId);

  const waitedIn = (state: string) => env.waited.get(executionArn)?.has(state) ?? false;

  // Approval.
  await waitUntil(() => isFinished() || waitedIn('AwaitApproval') || waitedIn('AccessWindow'), 10_000);
  const stored = waitedIn('AwaitApproval') ? await record() : undefined;
  const rule = stored?.ruleName ? findRule(policy(), stored.ruleName) : undefined;
  if (!isFinished() && stored?.status === 'PENDING_APPROVAL' && rule && rule.approval !== 'none') {
    const requesterEmail = plan.requester.email;
    const approvers = PEOPLE.filter(
      (p) => p.email !== requesterEmail && policy().groups.sre?.includes(p.email),
    );
    const [first, second, third] = approvers;
    const stranger = PEOPLE.find(
      (p) => !policy().groups.sre?.includes(p.email) && p.email !== requesterEmail,
    );
    const needed = rule.approval.required;
    const approveAll = async (people: Person[]) => {
      for (const person of people.slice(0, needed))
        await decisions.decide(requestId, actor(person), 'approve');
    };
    if (!isFinished() && first && second) {
      count(`approval.${plan.approval}`);
      switch (plan.approval) {
        case 'approve':
          await approveAll([first, second]);
          break;
        case 'deny':
          await decisions.decide(requestId, actor(first), 'deny', plan.reason);
          break;
        case 'duplicate-approve': {
          const clicks = await Promise.all([
            decisions.decide(requestId, actor(first), 'approve'),
            decisions.decide(requestId, actor(first), 'approve'),
          ]);
          // Both clicks may answer "recorded" (the second is told what the first did); what
          // must hold is that the stored decision counts the approver once.
          const after = await store.getRequest(requestId);
          const times = (after?.approvals ?? []).filter((a) => a.by === actor(first).email).length;
          if (times > 1)
            note(`duplicate click counted ${times} times: ${clicks.map((c) => c.kind).join(',')}`);
          if (needed > 1) await decisions.decide(requestId, actor(second), 'approve');
          break;
        }
        case 'approve-deny-race': {
          const clicks = await Promise.all([
            approveAll([first, third ?? second]),
            decisions.decide(requestId, actor(second), 'deny', 'race'),
          ]);
          void clicks;
          break;
        }
        case 'unauthorized-then-approve': {
          const self = await decisions.decide(requestId, actor(plan.requester), 'approve');
          const expectedSelf = policy().groups.sre?.includes(requesterEmail)
            ? 'self-approval'
            : 'not-approver';
          if (self.kind !== 'not-authorized' || self.reason !== expectedSelf)
            note(`self-approval answered ${JSON.stringify(self).slice(0, 80)}`);
          if (stranger) {
            const other = await decisions.decide(requestId, actor(stranger), 'approve');
            if (other.kind !== 'not-authorized') note(`a non-approver's click answered ${other.kind}`);
          }
          await approveAll([first, second]);
          break;
        }
        case 'lost-callback': {
          const lossyDecisions = new RequestDecisions({
            policy: policy(),
            store,
            audit: auditTrail(),
            workflow: lossy(env.workflow),
            notifier: await slackNotifier(),
            clock: env.clock,
          });
          await approveAll([first]);
          if (needed > 1)
            await lossyDecisions
              .decide(requestId, actor(second), 'approve')
              .catch(() => count('lost-callbacks'));
          else
            await lossyDecisions
              .decide(requestId, actor(second), 'approve')
              .catch(() => count('lost-callbacks'));
          break;
        }
        case 'cancel': {
          // Only the requester withdraws: an approver's Cancel is refused first.
          const other = await decisions.cancel(requestId, actor(first));
          if (other.kind !== 'not-authorized') note(`an approver's Cancel answered ${other.kind}`);
          await decisions.cancel(requestId, actor(plan.requester));
          break;
        }
        case 'cancel-approve-race': {
          // First decision wins: cancelled (nothing granted) or approved (the Cancel is refused).
          const [cancelled] = await Promise.all([
            decisions.cancel(requestId, actor(plan.requester)),
            approveAll([first, second]),
          ]);
          const after = await store.getRequest(requestId);
          if (cancelled.kind === 'cancelled' && after?.status !== 'CANCELLED')
            note(`a cancellation answered cancelled but the request went on as ${after?.status}`);
          if (cancelled.kind !== 'cancelled' && after?.status === 'CANCELLED')
            note(`the request was cancelled but its Cancel answered ${cancelled.kind}`);
          break;
        }
        case 'ignore':
          break;
      }
    }
  }

  // A scheduled start, withdrawn while it waits for it: nothing may be granted.
  if (plan.cancelBeforeStart) {
    const inWaitForStart = () =>
      env.host.history(executionArn).some((e) => e.type === 'StateEntered' && e.stateName === 'WaitForStart');
    const waiting = await waitUntil(() => isFinished() || inWaitForStart(), 10_000);
    if (waiting && !isFinished()) {
      count('start.cancelled-before-start');
      const answer = await decisions.cancel(requestId, actor(plan.requester));
      const after = await record();
      if (answer.kind === 'cancelled' && after?.status !== 'CANCELLED')
        note(
          `a cancellation before the start answered cancelled but the request went on as ${after?.status}`,
        );
      if (answer.kind !== 'cancelled' && after?.status === 'CANCELLED')
        note(`the request was cancelled before its start but its Cancel answered ${answer.kind}`);
    }
  }

  // "End all" while this account is still being granted: its window must not open (or, opened
  // first, ends as an End click ends it); a click after it all answers "not active".
  if (plan.window === 'end-while-granting') {
    const granting = async () => {
      const status = (await record())?.status;
      return status === 'GRANTING' || status === 'ACTIVE';
    };
    if ((await waitUntil(async () => isFinished() || (await granting()), 10_000)) && !isFinished()) {
      const answer = await decisions.endAccess(requestId, actor(plan.requester));
      count(`window.end-while-granting.${answer.kind}`);
      const after = await record();
      if (answer.kind === 'end-requested' && after?.endedBy !== plan.requester.email)
        note(`an End asked for while granting answered end-requested but endedBy is ${after?.endedBy}`);
    }
  }

  // The access window.
  const windowOpen = await waitUntil(() => isFinished() || waitedIn('AccessWindow'), 10_000);
  const active = windowOpen && !isFinished() ? await record() : undefined;
  if (windowOpen && !isFinished() && active?.status === 'ACTIVE' && active.expiresAt) {
    const me = actor(plan.requester);
    const windowMs = Date.parse(active.expiresAt) - env.clock.nowMs();
    const at = (fraction: number) => sleep(env.clock.realMs(windowMs * fraction));
    count(`window.${plan.window}`);
    switch (plan.window) {
      case 'expire':
        break;
      case 'end-early':
        await at(plan.windowPoint * 0.9);
        await decisions.endAccess(requestId, me);
        break;
      case 'end-racing-expiry':
        await sleep(env.clock.realMs(windowMs + plan.raceOffsetSeconds * 1000));
        await decisions.endAccess(requestId, me);
        break;
      case 'double-end': {
        await at(plan.windowPoint * 0.8);
        const ends = await Promise.all([
          decisions.endAccess(requestId, me),
          decisions.endAccess(requestId, me),
        ]);
        if (ends.filter((e) => e.kind === 'ended').length > 1) note('two End clicks both ended the window');
        break;
      }
      case 'extend': {
        await at(plan.windowPoint * 0.5);
        const extended = await decisions.extend(requestId, me, 1 + Math.floor(plan.windowPoint * 2));
        if (extended.kind === 'extension-needs-approval') {
          const approver = PEOPLE.find(
            (p) => p.email !== plan.requester.email && policy().groups.sre?.includes(p.email),
          );
          if (approver)
            await decisions.decideExtension(
              requestId,
              actor(approver),
              plan.windowPoint < 0.7 ? 'approve' : 'deny',
            );
        }
        break;
      }
      case 'end-by-stranger': {
        const stranger = PEOPLE.find(
          (p) => p.email !== plan.requester.email && !policy().groups.sre?.includes(p.email),
        );
        if (stranger) {
          const answer = await decisions.endAccess(requestId, actor(stranger));
          if (answer.kind !== 'not-allowed' && answer.kind !== 'not-active')
            note(`a stranger's End answered ${answer.kind}`);
        }
        break;
      }
      case 'lost-end': {
        await at(plan.windowPoint * 0.7);
        const lossyDecisions = new RequestDecisions({
          policy: policy(),
          store,
          audit: auditTrail(),
          workflow: lossy(env.workflow),
          notifier: await slackNotifier(),
          clock: env.clock,
        });
        await lossyDecisions.endAccess(requestId, me).catch(() => count('lost-callbacks'));
        break;
      }
    }
  }
}

async function reconcilerPassMidFlight(
  env: Environment,
  kind: 'handler' | 'late' | 'two-at-once',
): Promise<void> {
  env.counters[`reconciler.mid-flight-${kind}`] = (env.counters[`reconciler.mid-flight-${kind}`] ?? 0) + 1;
  const lambda = () => reconcilerHandler({}, undefined as unknown as Context);
  if (kind === 'handler') {
    await lambda();
    return;
  }
  if (kind === 'two-at-once') {
    await Promise.all([lambda(), lambda()]);
    return;
  }
  // A pass that runs late: its clock is 5 minutes ahead, so windows that just ended look
  // stuck (past the 2-minute grace) and it stops and revokes them itself, racing the workflow.
  const late: Clock = { now: () => new Date(env.clock.nowMs() + 5 * 60_000) };
  const pass = new Reconciler(
    {
      policy: policy(),
      store: requestStore(),
      assignments: assignmentDirectory(),
      workflow: env.workflow,
      audit: auditTrail(),
      notifier: await slackNotifier(),
      clock: late,
      wait: (ms) => sleep(env.clock.realMs(ms)),
    },
    {},
  );
  await pass.run();
}

// ---------------------------------------------------------------------------------------------
// Checks after a batch

interface BatchVerdict {
  leaked: string[];
  wronglyRevoked: string[];
  leakedMemberships: string[];
  wronglyRemovedMemberships: string[];
  auditGaps: string[];
  badDecisions: string[];
  unsettled: string[];
  stillRunning: number;
  outcomes: Record<string, number>;
}

async function settleAndCheck(
  env: Environment,
  plans: LifecyclePlan[],
  since: number,
): Promise<BatchVerdict> {
  // The reconciler's next pass (scheduled every 5 minutes): time moves past every grace,
  // settle and lease period first; a second pass confirms deletions the first one started.
  // A deletion can fail again on a later pass (FAILED deletions are injected): the reconciler
  // retries on each pass, every 5 minutes, so up to FINAL_PASSES passes run until every holders
  // record is at rest; the extra ones are counted.
  const passErrors: string[] = [];
  await env.handlersIdle();
  for (let pass = 0; pass < FINAL_PASSES; pass++) {
    if (pass >= 2) {
      const busy = (await requestStore().listHolders()).some(
        (h) => h.state === 'DELETING' || h.state === 'CREATING' || (h.creationsInFlight?.length ?? 0) > 0,
      );
      if (!busy) break;
      env.counters['reconciler.extra-final-passes'] =
        (env.counters['reconciler.extra-final-passes'] ?? 0) + 1;
    }
    env.clock.advance(2 * 3600_000);
    const summary = (await reconcilerHandler({}, undefined as unknown as Context)) as { errors?: string[] };
    passErrors.push(...(summary.errors ?? []));
  }
  const store = requestStore();
  const permanentKeys = new Set(
    PERMANENT.map((a) =>
      assignmentKeyText({
        accountId: a.accountId,
        permissionSetArn: a.permissionSetArn,
        principalId: deriveUserId(IDENTITY_STORE_ID, a.person),
      }),
    ),
  );
  const verdict: BatchVerdict = {
    leaked: [],
    wronglyRevoked: [],
    leakedMemberships: [],
    wronglyRemovedMemberships: [],
    auditGaps: [],
    badDecisions: [],
    unsettled: [],
    stillRunning: env.host.listExecutions({ statusFilter: 'RUNNING' }).length,
    outcomes: {},
  };
  const present = env.identityCenter.listAssignments();
  for (const assignment of present) {
    const text = assignmentKeyText(assignment);
    if (permanentKeys.has(text)) continue;
    // What the product knows of it, so a finding can be traced to the requests that touched it.
    const holders = await store.getHolders(assignment);
    const known = holders
      ? `holders ${holders.state}${holders.preExisting ? ' preExisting' : ''} [${holders.holders}] rev ${holders.revision}`
      : 'no holders record';
    // Enough to trace it: the record's deletion and fences, what the last passes could not do,
    // and the trail of the requests the deletion was for.
    const trails: Record<string, string> = {};
    for (const id of holders?.deletingFor ?? [])
      trails[id] = (await auditTrail().list(id)).map((e) => e.action).join(' ');
    const detail = holders
      ? JSON.stringify({
          deletingBy: holders.deletingBy,
          deletingFor: holders.deletingFor,
          deletionRequestId: holders.deletionRequestId,
          creationsInFlight: holders.creationsInFlight,
          updatedAt: holders.updatedAt,
          reconcilerErrors: passErrors.filter((e) => e.includes(assignment.principalId)),
          // Identity Center's side: every creation and deletion of this assignment, in order.
          operations: env.identityCenter
            .assignmentRequests()
            .filter((r) => assignmentKeyText(r) === text)
            .sort((a, b) => a.createdAt - b.createdAt)
            .map((r) => `${r.kind} ${r.requestId.slice(-4)} ${r.status} @${r.createdAt}→${r.completesAt}`),
          trails,
        })
      : '';
    verdict.leaked.push(`${text} is assigned with no grant behind it (${known}) ${detail}`);
  }
  for (const text of permanentKeys)
    if (!present.some((a) => assignmentKeyText(a) === text))
      verdict.wronglyRevoked.push(`permanent ${text} is gone`);
  // Group memberships: every member of an offered group is a permanent one (the grants of the
  // batch have all ended), and every permanent one is still there.
  const permanentMemberships = new Set(
    PERMANENT_MEMBERSHIPS.map((m) => `${m.groupId}|${deriveUserId(IDENTITY_STORE_ID, m.person)}`),
  );
  const offered = new Set<string>(Object.values(GROUPS));
  const members = new Set(
    env.identityCenter
      .groups()
      .filter((g) => offered.has(g.groupId))
      .flatMap((g) => g.members.map((m) => `${g.groupId}|${m.userId}`)),
  );
  for (const member of members)
    if (!permanentMemberships.has(member)) {
      const [groupId = '', principalId = ''] = member.split('|');
      const holders = await store.getMembershipHolders({ groupId, principalId });
      verdict.leakedMemberships.push(
        `membership ${member} is present with no grant behind it (${holders ? JSON.stringify(holders) : 'no holders record'})`,
      );
    }
  for (const member of permanentMemberships)
    if (!members.has(member))
      verdict.wronglyRemovedMemberships.push(`permanent membership ${member} is gone`);
  for (const holders of await store.listMembershipHolders()) {
    const atRest =
      (holders.state === 'ABSENT' || (holders.state === 'PRESENT' && holders.preExisting)) &&
      !holders.holders.length &&
      !holders.addingBy &&
      !holders.removingBy;
    if (!atRest)
      verdict.unsettled.push(
        `membership ${holders.groupId}|${holders.principalId} is ${holders.state} for [${holders.holders}]`,
      );
  }
  for (const holders of await store.listHolders()) {
    const atRest =
      holders.state === 'ABSENT' ||
      (holders.state === 'PRESENT' && holders.preExisting && !holders.holders.length);
    if (!atRest)
      verdict.unsettled.push(`${assignmentKeyText(holders)} is ${holders.state} for [${holders.holders}]`);
  }

  const intervals: HoldingInterval[] = [];
  for (const plan of plans) {
    if (plan.withQa) {
      // One decision for the set: never one account approved and the other denied.
      const [lead, qa] = await Promise.all(requestIdsOf(plan).map((id) => store.getRequest(id)));
      const approved = (r: RequestRecord | undefined) =>
        !!r &&
        r.approvals.length > 0 &&
        !['PENDING_APPROVAL', 'DENIED', 'CANCELLED', 'APPROVAL_EXPIRED'].includes(r.status);
      if ((approved(lead) && qa?.denial) || (approved(qa) && lead?.denial))
        verdict.badDecisions.push(`${plan.requestId}: the set was split: ${lead?.status} and ${qa?.status}`);
    }
    for (const requestId of requestIdsOf(plan)) await checkRequest(requestId);
  }
  async function checkRequest(requestId: string) {
    const record: RequestRecord | undefined = await store.getRequest(requestId);
    const events = await auditTrail().list(requestId);
    verdict.outcomes[record?.status ?? 'NOT_STORED'] =
      (verdict.outcomes[record?.status ?? 'NOT_STORED'] ?? 0) + 1;
    if (process.env.CHAOS_TRACE)
      console.log(
        `${requestId} ${plans.find((p) => requestIdsOf(p).includes(requestId))?.approval} ${record?.ruleName ?? '-'} → ${record?.status ?? 'NOT_STORED'}: ${events.map((e) => e.action).join(' ')}`,
      );
    for (const problem of auditTrailProblems(requestId, events, record))
      verdict.auditGaps.push(`${requestId}: ${problem} [${events.map((e) => e.action).join(' ')}]`);
    // The hash chain holds through every fault: each event linked once, in one unbroken chain.
    for (const problem of await chainProblems(requestId))
      verdict.auditGaps.push(`${requestId}: chain: ${problem}`);
    for (const problem of decisionProblems(policy(), events, record))
      verdict.badDecisions.push(`${requestId}: ${problem}`);
    if (record?.principalId && record.request.groupId === undefined) {
      const interval = holdingInterval(
        assignmentKeyText({
          accountId: record.request.accountId ?? '',
          permissionSetArn: record.request.permissionSetArn ?? '',
          principalId: record.principalId,
        }),
        events,
      );
      if (interval) intervals.push(interval);
    }
  }
  const deletions: CompletedDeletion[] = env.identityCenter
    .assignmentRequests()
    .filter((r) => r.kind === 'deletion' && r.status === 'SUCCEEDED' && r.createdAt >= since)
    .map((r) => ({ key: assignmentKeyText(r), operationId: r.requestId, completedAt: r.completesAt }));
  for (const wrong of wrongDeletions(deletions, permanentKeys, intervals))
    verdict.wronglyRevoked.push(`${wrong.operationId} on ${wrong.key}: ${wrong.why}`);
  return verdict;
}

// ---------------------------------------------------------------------------------------------

export async function runCampaign(options: CampaignOptions): Promise<CampaignReport> {
  const settings = {
    seed: options.seed,
    lifecycles: options.lifecycles,
    batchSize: options.batchSize ?? 16,
    msPerSecond: options.msPerSecond ?? 8,
    crashRate: options.crashRate ?? 0.04,
    faults: { ...DEFAULT_FAULTS, ...options.faults },
  };
  const log = options.log ?? (() => undefined);
  const started = Date.now();
  const env = await startEnvironment(settings);
  const report: CampaignReport = {
    seed: settings.seed,
    lifecycles: 0,
    batches: 0,
    wallMs: 0,
    faultsInjected: 0,
    faults: {},
    leaked: 0,
    wronglyRevoked: 0,
    leakedMemberships: 0,
    wronglyRemovedMemberships: 0,
    auditGaps: 0,
    badDecisions: 0,
    unsettledRecords: 0,
    stillRunning: 0,
    outcomes: {},
    findings: [],
  };
  const keep = (lines: string[]) => {
    for (const line of lines) if (report.findings.length < 50) report.findings.push(line);
  };
  try {
    for (let first = 0; first < settings.lifecycles; first += settings.batchSize) {
      const since = env.clock.nowMs();
      const plans: LifecyclePlan[] = [];
      for (let i = first; i < Math.min(first + settings.batchSize, settings.lifecycles); i++) {
        const plan = planLifecycle(settings.seed, i, settings.crashRate);
        env.plans.set(plan.requestId, plan);
        plans.push(plan);
      }
      const results = await Promise.allSettled(plans.map((plan) => runLifecycle(env, plan)));
      results.forEach((result, i) => {
        // A click that failed (the person would click again) is not a broken invariant: noted only.
        if (result.status === 'rejected') {
          env.counters['driver-errors'] = (env.counters['driver-errors'] ?? 0) + 1;
          keep([`note: ${plans[i]?.requestId}: the driver failed: ${String(result.reason).slice(0, 200)}`]);
        }
      });
      const verdict = await settleAndCheck(env, plans, since);
      report.batches++;
      report.lifecycles += plans.length;
      report.leaked += verdict.leaked.length + verdict.leakedMemberships.length;
      report.wronglyRevoked += verdict.wronglyRevoked.length + verdict.wronglyRemovedMemberships.length;
      report.leakedMemberships += verdict.leakedMemberships.length;
      report.wronglyRemovedMemberships += verdict.wronglyRemovedMemberships.length;
      report.auditGaps += verdict.auditGaps.length;
      report.badDecisions += verdict.badDecisions.length;
      report.unsettledRecords += verdict.unsettled.length;
      report.stillRunning += verdict.stillRunning;
      for (const [status, n] of Object.entries(verdict.outcomes))
        report.outcomes[status] = (report.outcomes[status] ?? 0) + n;
      keep([
        ...verdict.leaked,
        ...verdict.wronglyRevoked,
        ...verdict.leakedMemberships,
        ...verdict.wronglyRemovedMemberships,
        ...verdict.auditGaps,
        ...verdict.badDecisions,
        ...verdict.unsettled,
      ]);
      log(
        `batch ${report.batches}: ${report.lifecycles} lifecycles, leaked ${report.leaked}, wrongly revoked ${report.wronglyRevoked}, audit gaps ${report.auditGaps}, bad decisions ${report.badDecisions} (${Math.round((Date.now() - started) / 1000)} s)`,
      );
    }
  } finally {
    keep(env.findings);
    const ic = env.identityCenter.operationLog();
    const injected = (name: string) =>
      ic.filter((e) => e.outcome === name && /injected|Rate exceeded/.test(e.errorMessage ?? '')).length;
    const requests = env.identityCenter.assignmentRequests();
    const slackCounts = env.slack.counters();
    Object.assign(env.counters, {
      'slack.rate-limited-by-tier': slackCounts.rateLimitedByTier,
      'slack.rate-limited-injected': slackCounts.rateLimitedInjected,
      'slack.internal-error': slackCounts.internalErrors,
      'identity-center.throttled': injected('ThrottlingException'),
      'identity-center.conflict': injected('ConflictException'),
      'identity-center.internal-error': injected('InternalServerException'),
      'identity-center.creation-failed': requests.filter(
        (r) => r.kind === 'creation' && /injected/.test(r.failureReason ?? ''),
      ).length,
      'identity-center.deletion-failed': requests.filter(
        (r) => r.kind === 'deletion' && /injected/.test(r.failureReason ?? ''),
      ).length,
    });
    report.faults = Object.fromEntries(Object.entries(env.counters).sort(([a], [b]) => a.localeCompare(b)));
    report.faultsInjected = Object.entries(env.counters)
      .filter(
        ([name]) =>
          !/^(window|approval|ms|n)\./.test(name) &&
          !['unexpected-click-answers', 'driver-errors', 'reconciler.extra-final-passes'].includes(name),
      )
      .reduce((sum, [, n]) => sum + n, 0);
    report.wallMs = Date.now() - started;
    await env.close();
  }
  return report;
}

export function formatReport(report: CampaignReport): string {
  return [
    `seed ${report.seed}: ${report.lifecycles} lifecycles, ${report.faultsInjected} faults injected, ` +
      `${report.leaked} leaked (${report.leakedMemberships} memberships), ${report.wronglyRevoked} wrongly revoked (${report.wronglyRemovedMemberships} memberships), ${report.auditGaps} audit gaps, ` +
      `${report.badDecisions} bad decisions (${report.unsettledRecords} unsettled records, ${report.stillRunning} still running) ` +
      `in ${(report.wallMs / 1000).toFixed(1)} s`,
    `outcomes: ${JSON.stringify(report.outcomes)}`,
    `faults: ${JSON.stringify(report.faults)}`,
    ...(report.findings.length ? ['findings:', ...report.findings.map((f) => `  ${f}`)] : []),
  ].join('\n');
}

/** What `npm run audit -- verify --table --request <id>` reports for the request's chain. */
async function chainProblems(requestId: string): Promise<string[]> {
  const source = auditSource();
  try {
    const trail = await exportTrail(source, { requestId });
    return verifyChains(trail.lines, trail.heads).breaks.map(
      (b) => `${b.problem} (${b.eventId}, link ${b.seq})`,
    );
  } finally {
    source.client.destroy();
  }
}
