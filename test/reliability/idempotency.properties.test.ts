import { readFileSync } from 'node:fs';
import path from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import fc from 'fast-check';
import { DynamoDbAuditLog } from '../../functions/adapters/dynamodb-audit-log';
import { DynamoDbRequestStore } from '../../functions/adapters/dynamodb-request-store';
import { AuditTrail } from '../../functions/core/audit';
import { type Actor, RequestDecisions } from '../../functions/core/decisions';
import { ENDED_BEFORE_OPENED_ERROR, RetryableError } from '../../functions/core/errors';
import type { AssignmentKey, AuditEvent, ExecutionInput } from '../../functions/core/model';
import { parsePolicy } from '../../functions/core/policy-file';
import type { AuditLog } from '../../functions/core/ports';
import type { GrantResult, RevokeResult, ValidationResult, WindowPlan } from '../../functions/core/steps';
import { LifecycleSteps } from '../../functions/core/steps';
import { createLocalTables, type LocalDynamo, startLocalDynamo } from '../support/dynamo';
import {
  FakeDirectory,
  FakeWorkflow,
  ManualClock,
  MemoryAuditLog,
  MemoryStore,
  RecordingNotifier,
} from './fakes';

// Exactly once: every step of every path, retried or redelivered with the same input, leaves the
// same request records, holders records, task tokens and audit trail as a single run. Each case
// builds two identical worlds, runs the path up to the step in both, then the step once in the
// first and twice in the second: one after the other (the clock moved on by a retry delay
// between them), at once (Promise.all), or — for decisions, which Lambda redelivers minutes
// later — again after the next steps of the path. Nothing is ignored in the comparison: a
// replay that re-writes a record (even only its updatedAt) or re-appends a different event fails.
// Runs on the in-memory ports (test/reliability/fakes.ts, with the audit writer's
// same-event-accepted rule) and, for some paths, on the DynamoDB adapters over dynalite.

const policy = parsePolicy(
  readFileSync(path.join(__dirname, '../fixtures/email-groups-policy.yaml'), 'utf8'),
);
const PRODUCTION = '111111111111';
const STAGING = '222222222222';
const READ_ONLY = 'arn:aws:sso:::permissionSet/ssoins-7223a1b2c3d4e5f6/ps-1a2b3c4d5e6f7a8b';
const ALICE: Actor = { email: 'alice@example.com', slackUserId: 'U0ALICE' };
const BOB: Actor = { email: 'bob@example.com', slackUserId: 'U0BOB' };
const CAROL: Actor = { email: 'carol@example.com', slackUserId: 'U0CAROL' };
const PRINCIPALS: Record<string, string> = {
  'alice@example.com': 'user-alice',
  'bob@example.com': 'user-bob',
  'carol@example.com': 'user-carol',
};
const KEYS: AssignmentKey[] = [STAGING, PRODUCTION].map((accountId) => ({
  accountId,
  permissionSetArn: READ_ONLY,
  principalId: 'user-alice',
}));

// ---- worlds -------------------------------------------------------------------------------------

/** The audit log as the steps reach it (the audit writer): it can be made to fail once, at the n-th append from now. */
class FlakyAuditLog implements AuditLog {
  appends = 0;
  private failAt?: number;
  constructor(private readonly log: AuditLog) {}
  failAfter(n: number): void {
    this.failAt = this.appends + n;
  }
  async append(event: AuditEvent) {
    this.appends++;
    if (this.appends === this.failAt) {
      this.failAt = undefined;
      throw new RetryableError('Audit writer unavailable (injected)');
    }
    return this.log.append(event);
  }
  list(requestId: string) {
    return this.log.list(requestId);
  }
}

interface World {
  clock: ManualClock;
  audit: FlakyAuditLog;
  directory: FakeDirectory;
  workflow: FakeWorkflow;
  steps: LifecycleSteps;
  decisions: RequestDecisions;
  /** Everything a replay must leave as a single run left it. */
  snapshot(ids: readonly string[]): Promise<unknown>;
}

interface Params {
  /** Identity Center status reads before an operation is done (0: done when asked). */
  polls: number;
  /** Seconds between the steps of the path. */
  gaps: number[];
  /** Seconds between a run and its retry. */
  retryDelay: number;
  /** How many steps later a decision is redelivered. */
  lateBy: number;
}

const users = { findUserIdByEmail: async (email: string) => PRINCIPALS[email] };
const sorted = <V>(map: Map<string, V>) => [...map.entries()].sort(([a], [b]) => a.localeCompare(b));

/** Identity Center moves on between the steps of a path, not between a run and its retry. */
function directoryFor(params: Params): FakeDirectory {
  const directory = new FakeDirectory();
  directory.pollsBeforeDone = params.polls;
  directory.progressOnPolls = false;
  return directory;
}

function memoryWorld(params: Params): World {
  const clock = new ManualClock();
  const store = new MemoryStore(clock);
  const directory = directoryFor(params);
  const workflow = new FakeWorkflow();
  const notifier = new RecordingNotifier();
  const log = new MemoryAuditLog();
  const audit = new FlakyAuditLog(log);
  let ids = 0;
  const trail = new AuditTrail(audit, clock, { next: () => `evt-${(++ids).toString().padStart(8, '0')}` });
  return {
    clock,
    audit,
    directory,
    workflow,
    steps: new LifecycleSteps({
      policy,
      store,
      audit: trail,
      assignments: directory,
      users,
      notifier,
      clock,
    }),
    decisions: new RequestDecisions({ policy, store, audit: trail, workflow, notifier, clock }),
    snapshot: async () => ({
      requests: sorted(store.requests),
      holders: sorted(store.holders),
      tokens: sorted(store.tokens),
      trail: log.events,
      assigned: [...directory.assigned].sort(),
    }),
  };
}

let dynamo: LocalDynamo | undefined;
let client: DynamoDBClient;
let tableCount = 0;

async function dynamoWorld(params: Params): Promise<World> {
  const clock = new ManualClock();
  const tables = { stateTable: `idem-state-${++tableCount}`, auditTable: `idem-audit-${tableCount}` };
  await createLocalTables(client, tables);
  const store = new DynamoDbRequestStore(client, tables.stateTable, clock);
  const log = new DynamoDbAuditLog(client, tables.auditTable);
  const audit = new FlakyAuditLog(log);
  let ids = 0;
  const trail = new AuditTrail(audit, clock, { next: () => `evt-${(++ids).toString().padStart(8, '0')}` });
  const directory = directoryFor(params);
  const workflow = new FakeWorkflow();
  const notifier = new RecordingNotifier();
  return {
    clock,
    audit,
    directory,
    workflow,
    steps: new LifecycleSteps({
      policy,
      store,
      audit: trail,
      assignments: directory,
      users,
      notifier,
      clock,
    }),
    decisions: new RequestDecisions({ policy, store, audit: trail, workflow, notifier, clock }),
    snapshot: async (requestIds) => ({
      requests: await Promise.all(
        requestIds.map(async (id) => ({
          record: await store.getRequest(id),
          approvalToken: await store.peekTaskToken(id, 'approval'),
          windowToken: await store.peekTaskToken(id, 'window'),
          trail: await log.list(id),
        })),
      ),
      holders: await Promise.all(KEYS.map((key) => store.getHolders(key))),
      assigned: [...directory.assigned].sort(),
    }),
  };
}

// ---- paths --------------------------------------------------------------------------------------

/** What the steps of a path so far returned, in one world (the next steps' inputs come from it). */
type Outputs = Map<string, unknown>;

interface PathStep {
  label: string;
  /** workflow: a state machine task (retried); decision: a Slack click (redelivered); setup: not a step. */
  kind: 'workflow' | 'decision' | 'setup';
  /** Not on this path in this world (a poll that the previous step made unnecessary). */
  skip?: (out: Outputs) => boolean;
  input: (out: Outputs, w: World) => unknown;
  exec: (w: World, input: never) => Promise<unknown>;
  after?: (out: Outputs, output: unknown, w: World) => void;
  /** Output fields that rightly change on a retry (a plan's remaining seconds). */
  volatile?: string[];
  /** Why a failure of the audit writer during this step may lose an event (not run in crash modes). */
  crashMayLoseEvent?: string;
}

interface Path {
  name: string;
  ids: string[];
  steps: PathStep[];
}

function execution(
  requestId: string,
  over: Partial<Pick<ExecutionInput['request'], 'accountId' | 'durationMinutes'>> & { by?: Actor } = {},
): ExecutionInput {
  const by = over.by ?? ALICE;
  return {
    version: 1,
    request: {
      requestId,
      requester: { email: by.email, slackUserId: by.slackUserId },
      accountId: over.accountId ?? STAGING,
      permissionSetArn: READ_ONLY,
      durationMinutes: over.durationMinutes ?? 60,
      reason: 'incident 4711',
      requestedAt: '2026-11-25T08:59:00.000Z',
    },
  };
}

const get = <T>(out: Outputs, key: string) => out.get(key) as T;

function assignmentInput(run: ExecutionInput, out: Outputs) {
  const validation = get<ValidationResult | undefined>(out, `validation:${run.request.requestId}`);
  return {
    version: 1,
    requestId: run.request.requestId,
    accountId: run.request.accountId,
    permissionSetArn: run.request.permissionSetArn,
    principalId: validation?.valid ? validation.principalId : 'user-unknown',
  };
}

const steps = {
  setup: (label: string, change: (w: World) => void): PathStep => ({
    label,
    kind: 'setup',
    input: () => undefined,
    exec: async (w) => change(w),
  }),
  validate: (run: ExecutionInput): PathStep => ({
    label: `validate ${run.request.requestId}`,
    kind: 'workflow',
    input: () => run,
    exec: (w, input) => w.steps.validate(input),
    after: (out, result) => out.set(`validation:${run.request.requestId}`, result),
  }),
  requestApproval: (id: string): PathStep => ({
    label: `requestApproval ${id}`,
    kind: 'workflow',
    input: () => ({ taskToken: `tok-approval-${id}`, requestId: id }),
    exec: async (w, input: { taskToken: string }) => {
      w.workflow.liveTokens.add(input.taskToken);
      return w.steps.requestApproval(input);
    },
  }),
  decide: (id: string, actor: Actor, decision: 'approve' | 'deny'): PathStep => ({
    label: `${decision} ${id} by ${actor.email}`,
    kind: 'decision',
    input: () => undefined,
    exec: (w) =>
      w.decisions.decide(id, actor, decision, decision === 'deny' ? 'not during the freeze' : undefined),
  }),
  grant: (run: ExecutionInput): PathStep => ({
    label: `grant ${run.request.requestId}`,
    kind: 'workflow',
    input: (out) => assignmentInput(run, out),
    exec: (w, input) => w.steps.grant(input),
    after: (out, result) => keepGrant(out, run.request.requestId, result as GrantResult),
  }),
  checkGrant: (run: ExecutionInput): PathStep => ({
    label: `checkGrant ${run.request.requestId}`,
    kind: 'workflow',
    skip: (out) => get<GrantResult>(out, `grant:${run.request.requestId}`)?.status !== 'IN_PROGRESS',
    input: (out) => {
      const grant = get<GrantResult & { status: 'IN_PROGRESS' }>(out, `grant:${run.request.requestId}`);
      return { ...assignmentInput(run, out), operationId: grant.operationId, attempt: grant.attempt };
    },
    exec: (w, input) => w.steps.checkGrant(input),
    after: (out, result) => keepGrant(out, run.request.requestId, result as GrantResult),
  }),
  openWindow: (id: string, n: number): PathStep => ({
    label: `openWindow ${id} #${n}`,
    kind: 'workflow',
    skip: (out) => !out.has(`window:${id}`),
    input: (out) => {
      const window = get<WindowPlan>(out, `window:${id}`);
      return { taskToken: `tok-window-${id}-${n}`, requestId: id, expiresAt: window.expiresAt, window };
    },
    exec: async (w, input: { taskToken: string }) => {
      w.workflow.liveTokens.add(input.taskToken);
      return w.steps.openWindow(input);
    },
  }),
  /** AccessWindow of a request whose End was asked for while it was granted: the task fails by name. */
  windowEndedBeforeOpened: (id: string): PathStep => ({
    label: `openWindow ${id} (ended before it opened)`,
    kind: 'workflow',
    skip: (out) => !out.has(`window:${id}`),
    input: (out) => {
      const window = get<WindowPlan>(out, `window:${id}`);
      return { taskToken: `tok-window-${id}-1`, requestId: id, expiresAt: window.expiresAt, window };
    },
    exec: async (w, input: { taskToken: string }) => {
      w.workflow.liveTokens.add(input.taskToken);
      return w.steps.openWindow(input).then(
        () => {
          throw new Error('the window opened although its End was asked for');
        },
        (error: unknown) => {
          if (error instanceof Error && error.name === ENDED_BEFORE_OPENED_ERROR) return error.name;
          throw error;
        },
      );
    },
  }),
  endAccess: (id: string, actor: Actor): PathStep => ({
    label: `end ${id} by ${actor.email}`,
    kind: 'decision',
    input: () => undefined,
    exec: (w) => w.decisions.endAccess(id, actor),
  }),
  extend: (id: string, actor: Actor, minutes: number, jobId: string): PathStep => ({
    label: `extend ${id} by ${minutes} min (${actor.email})`,
    kind: 'decision',
    input: () => undefined,
    exec: (w) => w.decisions.extend(id, actor, minutes, jobId),
    after: (out, _result, w) => keepCallback(out, id, w),
  }),
  decideExtension: (id: string, actor: Actor, decision: 'approve' | 'deny', jobId: string): PathStep => ({
    label: `${decision} extension of ${id} by ${actor.email}`,
    kind: 'decision',
    input: () => undefined,
    exec: (w) =>
      w.decisions.decideExtension(id, actor, decision, decision === 'deny' ? 'too long' : undefined, jobId),
    ...(decision === 'deny'
      ? {
          crashMayLoseEvent:
            'a denial clears the pending extension, and with it what approval.denied says: a failure after the clear loses the event (the denial itself happens once)',
        }
      : {}),
    after: (out, _result, w) => keepCallback(out, id, w),
  }),
  planExtension: (run: ExecutionInput, forged?: Record<string, unknown>): PathStep => {
    const id = run.request.requestId;
    return {
      label: `planExtension ${id}${forged ? ' (callback asks too much)' : ''}`,
      kind: 'workflow',
      skip: (out) => !out.has(`callback:${id}`),
      input: (out) => ({
        plan: 'extend',
        requestId: id,
        durationMinutes: run.request.durationMinutes,
        window: get<WindowPlan>(out, `window:${id}`),
        callback: forged ?? get<{ output: unknown }>(out, `callback:${id}`).output,
        callbackAt: get<{ at: string }>(out, `callback:${id}`).at,
      }),
      exec: (w, input) => w.steps.planExtension(input),
      after: (out, plan) => {
        out.set(`window:${id}`, plan);
        out.delete(`callback:${id}`);
      },
      volatile: ['seconds'],
    };
  },
  revoke: (run: ExecutionInput, reason: 'expired' | 'ended-early' | 'failure'): PathStep => ({
    label: `revoke ${run.request.requestId} (${reason})`,
    kind: 'workflow',
    input: (out) => ({ ...assignmentInput(run, out), reason }),
    exec: (w, input) => w.steps.revoke(input),
    after: (out, result) => out.set(`revoke:${run.request.requestId}`, result),
  }),
  checkRevoke: (run: ExecutionInput): PathStep => ({
    label: `checkRevoke ${run.request.requestId}`,
    kind: 'workflow',
    skip: (out) => get<RevokeResult>(out, `revoke:${run.request.requestId}`)?.status !== 'IN_PROGRESS',
    input: (out) => {
      const revoke = get<RevokeResult & { status: 'IN_PROGRESS' }>(out, `revoke:${run.request.requestId}`);
      return { ...assignmentInput(run, out), operationId: revoke.operationId, attempt: revoke.attempt };
    },
    exec: (w, input) => w.steps.checkRevoke(input),
    after: (out, result) => out.set(`revoke:${run.request.requestId}`, result),
  }),
  finish: (
    id: string,
    outcome: string,
    error?: (out: Outputs) => { Error: string; Cause: string },
    request?: ExecutionInput,
  ): PathStep => ({
    label: `finish ${id} (${outcome})`,
    kind: 'workflow',
    input: (out) => ({
      requestId: id,
      outcome,
      ...(error ? { error: error(out) } : {}),
      ...(request ? { request: request.request } : {}),
    }),
    exec: (w, input) => w.steps.finish(input),
  }),
};

function keepGrant(out: Outputs, id: string, result: GrantResult): void {
  out.set(`grant:${id}`, result);
  if (result.status === 'SUCCEEDED') out.set(`window:${id}`, result.window);
}

/** The extend callback the decision sent the window, as ExtendWindow receives it. */
function keepCallback(out: Outputs, id: string, w: World): void {
  const signal = w.workflow.signals
    .filter((s) => s.kind === 'success' && s.token.startsWith(`tok-window-${id}`))
    .at(-1);
  const output = signal?.output as { action?: string } | undefined;
  if (output?.action === 'extend' && !out.has(`seen:${signal?.token}`)) {
    out.set(`seen:${signal?.token}`, true);
    out.set(`callback:${id}`, { output, at: w.clock.now().toISOString() });
  }
}

/** The grant through to the open window, then its end by `reason`, revoke and finish. */
function granted(run: ExecutionInput): PathStep[] {
  return [steps.grant(run), steps.checkGrant(run), steps.openWindow(run.request.requestId, 1)];
}
function revokedAndClosed(run: ExecutionInput, reason: 'expired' | 'ended-early' | 'failure'): PathStep[] {
  const id = run.request.requestId;
  return [
    steps.revoke(run, reason),
    steps.checkRevoke(run),
    reason === 'failure'
      ? steps.finish(id, 'grant-failed', () => ({ Error: 'States.TaskFailed', Cause: 'AccessWindow failed' }))
      : steps.finish(id, 'revoked'),
  ];
}

const auto = execution('req-idem-auto');
const prod = execution('req-idem-prod', { accountId: PRODUCTION });
const tooLong = execution('req-idem-long', { durationMinutes: 600 });
const unknownUser = execution('req-idem-nobody', {
  by: { email: 'erin@example.com', slackUserId: 'U0ERIN' },
});
const first = execution('req-idem-first');
const second = execution('req-idem-second');
const validationReason = (id: string) => (out: Outputs) => ({
  Error: 'Rejected',
  Cause: (get<ValidationResult>(out, `validation:${id}`) as { reason: string }).reason,
});

const PATHS: Path[] = [
  {
    name: 'auto-approved grant, window expires',
    ids: [auto.request.requestId],
    steps: [steps.validate(auto), ...granted(auto), ...revokedAndClosed(auto, 'expired')],
  },
  {
    name: 'approval, then ended early',
    ids: [prod.request.requestId],
    steps: [
      steps.validate(prod),
      steps.requestApproval(prod.request.requestId),
      steps.decide(prod.request.requestId, ALICE, 'approve'), // self-approval: refused, no event
      steps.decide(prod.request.requestId, CAROL, 'approve'),
      ...granted(prod),
      steps.endAccess(prod.request.requestId, ALICE),
      ...revokedAndClosed(prod, 'ended-early'),
    ],
  },
  {
    name: 'approval, then ended while it was being granted',
    ids: [prod.request.requestId],
    steps: [
      steps.validate(prod),
      steps.requestApproval(prod.request.requestId),
      steps.decide(prod.request.requestId, CAROL, 'approve'),
      steps.grant(prod),
      steps.endAccess(prod.request.requestId, ALICE),
      steps.checkGrant(prod),
      steps.windowEndedBeforeOpened(prod.request.requestId),
      ...revokedAndClosed(prod, 'ended-early'),
    ],
  },
  {
    name: 'denied',
    ids: [prod.request.requestId],
    steps: [
      steps.validate(prod),
      steps.requestApproval(prod.request.requestId),
      steps.decide(prod.request.requestId, CAROL, 'deny'),
      steps.finish(prod.request.requestId, 'denied', () => ({
        Error: 'Denied',
        Cause: JSON.stringify({ reason: 'not during the freeze', by: CAROL.email }),
      })),
    ],
  },
  {
    name: 'approval expired',
    ids: [prod.request.requestId],
    steps: [
      steps.validate(prod),
      steps.requestApproval(prod.request.requestId),
      steps.finish(prod.request.requestId, 'approval-expired'),
    ],
  },
  {
    name: 'rejected by policy, and for an unknown user',
    ids: [tooLong.request.requestId, unknownUser.request.requestId],
    steps: [
      steps.validate(tooLong),
      steps.finish(tooLong.request.requestId, 'rejected', validationReason(tooLong.request.requestId)),
      steps.validate(unknownUser),
      steps.finish(
        unknownUser.request.requestId,
        'rejected',
        validationReason(unknownUser.request.requestId),
      ),
    ],
  },
  {
    name: 'validate kept failing',
    ids: [auto.request.requestId],
    steps: [
      steps.finish(
        auto.request.requestId,
        'rejected',
        () => ({ Error: 'States.TaskFailed', Cause: 'Validate crashed' }),
        auto,
      ),
    ],
  },
  {
    name: 'grant of a pre-existing assignment',
    ids: [auto.request.requestId],
    steps: [
      steps.setup('assign outside the product', (w) => w.directory.assign(KEYS[0] as AssignmentKey)),
      steps.validate(auto),
      ...granted(auto),
      ...revokedAndClosed(auto, 'expired'),
    ],
  },
  {
    name: 'shared assignment',
    ids: [first.request.requestId, second.request.requestId],
    steps: [
      steps.validate(first),
      ...granted(first),
      steps.validate(second),
      ...granted(second),
      ...revokedAndClosed(second, 'expired'),
      ...revokedAndClosed(first, 'expired'),
    ],
  },
  {
    name: 'creation FAILED',
    ids: [auto.request.requestId],
    steps: [
      steps.setup('creation will fail', (w) =>
        w.directory.failCreations.push('Permission set not provisioned'),
      ),
      steps.validate(auto),
      steps.grant(auto),
      steps.checkGrant(auto),
      steps.finish(auto.request.requestId, 'grant-failed', (out) => ({
        Error: 'GrantFailed',
        Cause: get<{ failureReason: string }>(out, `grant:${auto.request.requestId}`).failureReason,
      })),
    ],
  },
  {
    name: 'revoke after a failure',
    ids: [auto.request.requestId],
    steps: [
      steps.validate(auto),
      steps.grant(auto),
      steps.checkGrant(auto),
      ...revokedAndClosed(auto, 'failure'),
    ],
  },
  {
    name: 'deletion FAILED',
    ids: [auto.request.requestId],
    steps: [
      steps.validate(auto),
      ...granted(auto),
      steps.setup('deletion will fail', (w) =>
        w.directory.failDeletions.push('Identity Center is unavailable'),
      ),
      steps.revoke(auto, 'expired'),
      steps.checkRevoke(auto),
      steps.finish(auto.request.requestId, 'revoke-failed', (out) => ({
        Error: 'RevokeFailed',
        Cause: get<{ failureReason: string }>(out, `revoke:${auto.request.requestId}`).failureReason,
      })),
    ],
  },
  {
    name: 'self-service extension',
    ids: [auto.request.requestId],
    steps: [
      steps.validate(auto),
      ...granted(auto),
      steps.extend(auto.request.requestId, BOB, 30, 'job-stranger'), // not the requester: refused
      steps.extend(auto.request.requestId, ALICE, 30, 'job-extend-1'),
      steps.planExtension(auto),
      steps.openWindow(auto.request.requestId, 2),
      ...revokedAndClosed(auto, 'expired'),
    ],
  },
  {
    name: 'extension callback asking more than the plan',
    ids: [auto.request.requestId],
    steps: [
      steps.validate(auto),
      ...granted(auto),
      steps.extend(auto.request.requestId, ALICE, 30, 'job-extend-1'),
      steps.planExtension(auto, {
        action: 'extend',
        expiresAt: '2026-12-25T09:00:00.000Z',
        seconds: 2_000_000,
      }),
      steps.openWindow(auto.request.requestId, 2),
      ...revokedAndClosed(auto, 'expired'),
    ],
  },
  {
    name: 'approved extension',
    ids: [prod.request.requestId],
    steps: [
      steps.validate(prod),
      steps.requestApproval(prod.request.requestId),
      steps.decide(prod.request.requestId, CAROL, 'approve'),
      ...granted(prod),
      steps.extend(prod.request.requestId, ALICE, 30, 'job-extend-1'),
      steps.decideExtension(prod.request.requestId, CAROL, 'approve', 'job-approve-extension'),
      steps.planExtension(prod),
      steps.openWindow(prod.request.requestId, 2),
      steps.extend(prod.request.requestId, ALICE, 30, 'job-extend-2'),
      steps.decideExtension(prod.request.requestId, CAROL, 'deny', 'job-deny-extension'),
      ...revokedAndClosed(prod, 'expired'),
    ],
  },
];

// ---- the property -------------------------------------------------------------------------------

/** crash:n — the audit writer fails at the n-th event of the first run, which is retried at once. */
type Mode = 'sequential' | 'concurrent' | 'late' | `crash:${number}`;

/** The time between two steps of the path: the clock moves, Identity Center's operations progress. */
function between(w: World, gapSeconds: number): void {
  w.clock.advance(gapSeconds * 1000);
  w.directory.progress();
}

async function runStep(out: Outputs, w: World, step: PathStep, gapSeconds: number): Promise<void> {
  between(w, gapSeconds);
  if (step.skip?.(out)) return;
  const output = await step.exec(w, step.input(out, w) as never);
  step.after?.(out, output, w);
}

/** The first place two values differ, as a path ("requests.0.1.updatedAt: a ≠ b"). */
function difference(a: unknown, b: unknown, at = ''): string | undefined {
  if (Object.is(a, b)) return undefined;
  // Trails of different lengths: which events one has and the other lacks, by action and actor.
  if (Array.isArray(a) && Array.isArray(b) && a.length !== b.length) {
    const name = (e: unknown) => {
      const event = e as { action?: string; actor?: string };
      return event?.action ? `${event.action}(${event.actor})` : JSON.stringify(e);
    };
    const extra = (x: unknown[], y: unknown[]) => {
      const left = y.map(name);
      return x.map(name).filter((n) => {
        const i = left.indexOf(n);
        if (i < 0) return true;
        left.splice(i, 1);
        return false;
      });
    };
    return `${at || '(root)'}: ${a.length} ≠ ${b.length} items; only after one run: [${extra(a, b).join(' ')}], only after the replay: [${extra(b, a).join(' ')}]`;
  }
  if (
    typeof a !== 'object' ||
    typeof b !== 'object' ||
    a === null ||
    b === null ||
    Array.isArray(a) !== Array.isArray(b)
  )
    return `${at || '(root)'}: ${JSON.stringify(a)} ≠ ${JSON.stringify(b)}`;
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  for (const key of keys) {
    const found = difference(
      (a as Record<string, unknown>)[key],
      (b as Record<string, unknown>)[key],
      at ? `${at}.${key}` : key,
    );
    if (found) return found;
  }
  return undefined;
}

/** The snapshot without holders records' revision and updatedAt, and without events' times. */
function withoutCrashTimes(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutCrashTimes);
  if (!value || typeof value !== 'object') return value;
  const record = value as Record<string, unknown>;
  const isHolders = Array.isArray(record.holders) && 'revision' in record && 'state' in record;
  const isEvent = 'eventId' in record && 'action' in record;
  const dropped = (k: string) =>
    (isHolders && (k === 'revision' || k === 'updatedAt')) || (isEvent && k === 'at');
  return Object.fromEntries(
    Object.entries(record)
      .filter(([k]) => !dropped(k))
      .map(([k, v]) => [k, withoutCrashTimes(v)]),
  );
}

const withoutVolatile = (value: unknown, fields: string[] = []) =>
  value && typeof value === 'object'
    ? Object.fromEntries(Object.entries(value).filter(([k]) => !fields.includes(k)))
    : value;

/** Every step of the path, in every replay mode: the differences found (empty: exactly once). */
async function replayEveryStep(
  path: Path,
  params: Params,
  makeWorld: (params: Params) => World | Promise<World>,
): Promise<string[]> {
  const problems: string[] = [];
  const gap = (i: number) => params.gaps[i % params.gaps.length] ?? 0;
  for (let k = 0; k < path.steps.length; k++) {
    const step = path.steps[k] as PathStep;
    if (step.kind === 'setup') continue;
    const modes: Mode[] =
      step.kind === 'decision' ? ['sequential', 'concurrent', 'late'] : ['sequential', 'concurrent'];
    // One crash per event the step writes (found by running it: the loop stops past its last).
    if (!step.crashMayLoseEvent) for (let n = 1; n <= MAX_EVENTS_PER_STEP; n++) modes.push(`crash:${n}`);
    for (const mode of modes) {
      const once = await makeWorld(params);
      const twice = await makeWorld(params);
      const outOnce: Outputs = new Map();
      const outTwice: Outputs = new Map();
      for (let i = 0; i < k; i++) {
        await runStep(outOnce, once, path.steps[i] as PathStep, gap(i));
        await runStep(outTwice, twice, path.steps[i] as PathStep, gap(i));
      }
      between(once, gap(k));
      between(twice, gap(k));
      if (step.skip?.(outOnce)) continue;
      const label = `${path.name} / ${step.label} (${mode})`;
      try {
        const input = step.input(outOnce, once);
        const appendsBefore = once.audit.appends;
        const single = await step.exec(once, input as never);
        step.after?.(outOnce, single, once);
        const crashAt = mode.startsWith('crash:') ? Number(mode.slice('crash:'.length)) : 0;
        if (crashAt > once.audit.appends - appendsBefore) continue;
        // Both clocks stay together: only the replay differs between the worlds.
        if (mode === 'sequential') once.clock.advance(params.retryDelay * 1000);
        const replayInput = step.input(outTwice, twice);
        let rest = k + 1;
        if (mode === 'sequential') {
          const firstRun = await step.exec(twice, replayInput as never);
          step.after?.(outTwice, firstRun, twice);
          twice.clock.advance(params.retryDelay * 1000);
          const retry = await step.exec(twice, replayInput as never);
          // A retried task must answer as the first run did: the state machine goes on from it.
          const answer =
            step.kind === 'workflow'
              ? difference(withoutVolatile(firstRun, step.volatile), withoutVolatile(retry, step.volatile))
              : undefined;
          if (answer) problems.push(`${label}: the retry answered differently: ${answer}`);
        } else if (crashAt) {
          // The writer fails (a RetryableError: the state machine, or Lambda, runs the step again).
          twice.audit.failAfter(crashAt);
          const failed = await step.exec(twice, replayInput as never).then(
            () => undefined,
            (error: unknown) => error,
          );
          if (!(failed instanceof RetryableError))
            problems.push(`${label}: the writer's failure did not fail the step: ${String(failed)}`);
          const retry = await step.exec(twice, replayInput as never);
          step.after?.(outTwice, retry, twice);
          if (step.kind === 'workflow') {
            const answer = difference(
              withoutVolatile(single, step.volatile),
              withoutVolatile(retry, step.volatile),
            );
            if (answer) problems.push(`${label}: the retry answered differently from one run: ${answer}`);
          }
        } else if (mode === 'concurrent') {
          const results = await Promise.allSettled([
            step.exec(twice, replayInput as never),
            step.exec(twice, replayInput as never),
          ]);
          // A run that finds the other's work in flight may ask the state machine to retry it later.
          const kept = results.find((r) => r.status === 'fulfilled');
          for (const r of results)
            if (r.status === 'rejected' && !(r.reason instanceof RetryableError))
              problems.push(`${label}: a concurrent run failed: ${String(r.reason)}`);
          if (!kept) problems.push(`${label}: neither concurrent run succeeded`);
          else step.after?.(outTwice, kept.value, twice);
        } else {
          const firstRun = await step.exec(twice, replayInput as never);
          step.after?.(outTwice, firstRun, twice);
          const until = Math.min(path.steps.length, k + 1 + params.lateBy);
          for (let i = k + 1; i < until; i++) {
            await runStep(outOnce, once, path.steps[i] as PathStep, gap(i));
            await runStep(outTwice, twice, path.steps[i] as PathStep, gap(i));
          }
          once.clock.advance(params.retryDelay * 1000);
          twice.clock.advance(params.retryDelay * 1000);
          await step.exec(twice, replayInput as never);
          rest = until;
        }
        // The rest of the path, so a replay that changed what later steps find is caught too.
        for (let i = rest; i < path.steps.length; i++) {
          await runStep(outOnce, once, path.steps[i] as PathStep, gap(i));
          await runStep(outTwice, twice, path.steps[i] as PathStep, gap(i));
        }
        // After a crash, two things rightly differ: a holders record may have one more revision (the
        // run that failed recorded that its Identity Center call came back, so the retry asks again
        // at once), and an event the failure lost carries the time it was written again (by the
        // retry, or for an End click by Revoke). Events themselves, their ids and order must match.
        const seen = (snapshot: unknown) => (crashAt ? withoutCrashTimes(snapshot) : snapshot);
        const found = difference(seen(await once.snapshot(path.ids)), seen(await twice.snapshot(path.ids)));
        if (found) problems.push(`${label}: ${found}`);
      } catch (error) {
        problems.push(
          `${label}: threw ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`,
        );
      }
    }
  }
  return problems;
}

/** More than any step writes. */
const MAX_EVENTS_PER_STEP = 5;

const paramsArbitrary: fc.Arbitrary<Params> = fc.record({
  polls: fc.constantFrom(0, 1),
  gaps: fc.array(fc.integer({ min: 0, max: 900 }), { minLength: 1, maxLength: 6 }),
  retryDelay: fc.integer({ min: 0, max: 300 }),
  lateBy: fc.integer({ min: 1, max: 4 }),
});

describe('exactly once: every step replayed leaves what one run leaves (in-memory ports)', () => {
  it.each(PATHS.map((p) => [p.name, p] as const))('%s', async (_name, path) => {
    await fc.assert(
      fc.asyncProperty(paramsArbitrary, async (params) => {
        const problems = await replayEveryStep(path, params, memoryWorld);
        if (problems.length) throw new Error(`${problems.length} replays differ:\n${problems.join('\n')}`);
      }),
      // Always also the case a shrunk counterexample hides: a poll between grant and window, a real retry delay.
      { numRuns: 12, examples: [[{ polls: 1, gaps: [60], retryDelay: 45, lateBy: 2 }]] },
    );
  });

  it('the comparison catches a replay that writes again (the test can fail)', async () => {
    const params: Params = { polls: 0, gaps: [60], retryDelay: 30, lateBy: 1 };
    const careless: Path = {
      name: 'controls',
      ids: [auto.request.requestId],
      steps: [
        steps.validate(auto),
        ...granted(auto),
        {
          // A click with no job id cannot be told from a second click: its refusal is written per delivery.
          label: 'extend by a stranger, no job id',
          kind: 'decision',
          input: () => undefined,
          exec: (w) => w.decisions.extend(auto.request.requestId, BOB, 30),
        },
        {
          label: 'a window token named after the clock',
          kind: 'workflow',
          input: () => undefined,
          exec: async (w) => {
            await w.steps.openWindow({
              taskToken: `tok-${w.clock.now().getTime()}`,
              requestId: auto.request.requestId,
              expiresAt: '2026-11-25T10:00:00.000Z',
            });
          },
        },
      ],
    };
    const problems = await replayEveryStep(careless, params, memoryWorld);
    expect(problems.filter((p) => p.includes('extend by a stranger, no job id (sequential)'))).toEqual([
      expect.stringContaining('only after the replay: [window.extend-refused(bob@example.com)]'),
    ]);
    expect(problems.filter((p) => p.includes('a window token named after the clock (sequential)'))).toEqual([
      expect.stringContaining('tokens.'),
    ]);
  });
});

describe('exactly once on the DynamoDB adapters (dynalite): request store and audit log', () => {
  beforeAll(async () => {
    dynamo = await startLocalDynamo();
    client = new DynamoDBClient({
      endpoint: dynamo.endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
  });
  afterAll(async () => {
    client?.destroy();
    await dynamo?.close();
  });

  // Fewer runs than in memory: every world is a pair of tables and each step a few HTTP calls.
  const onDynamo: Array<[string, number]> = [
    ['auto-approved grant, window expires', 2],
    ['creation FAILED', 2],
    ['approved extension', 1],
  ];
  it.each(onDynamo)(
    '%s',
    async (name, numRuns) => {
      const path = PATHS.find((p) => p.name === name) as Path;
      await fc.assert(
        fc.asyncProperty(paramsArbitrary, async (params) => {
          const problems = await replayEveryStep(path, params, dynamoWorld);
          if (problems.length) throw new Error(`${problems.length} replays differ:\n${problems.join('\n')}`);
        }),
        { numRuns },
      );
    },
    120_000,
  );
});
