// Plays the Step Functions *service* around the aws-local-stepfunctions engine: execution
// bookkeeping, task tokens, Lambda integrations, time scaling. The production ASL stays
// AWS-correct; every engine workaround lives here and is marked "Engine:".
import './polyfills';
import { randomBytes, randomUUID } from 'node:crypto';
import type { Context as LambdaContext } from 'aws-lambda';
import {
  ExecutionError,
  type RunOptions,
  StateMachine,
  type StateMachineDefinition,
} from 'aws-local-stepfunctions';

export type LambdaContextLike = LambdaContext;

/**
 * A Lambda handler as the host calls it. Declared through a method so that handlers typed with a
 * specific event (`(event: GrantEvent, context) => …`) stay assignable (method parameters are bivariant).
 */
export type LambdaHandler = {
  handle(event: unknown, context: LambdaContextLike): Promise<unknown>;
}['handle'];

export interface LocalStepFunctionsOptions {
  /** Parsed ASL JSON, `${Name}` placeholders allowed. */
  definition: object;
  /** Values for `${Name}` placeholders, e.g. `{ GrantFunctionArn: 'arn:aws:lambda:…:function:grant' }`. */
  substitutions: Record<string, string>;
  /** Keyed by function ARN (the FunctionName after substitution) or bare function name. */
  functions: Record<string, LambdaHandler>;
  stateMachineArn?: string;
  /** Real milliseconds per ASL second for Wait states, task and execution timeouts; 1000 = real time. */
  msPerSecond?: number;
  /** Real ms for every Retry interval (default: the retrier's own interval, scaled by msPerSecond). */
  retryIntervalMs?: number;
  /** Clock for start/stop dates, history timestamps, `$$` times and Wait `Timestamp`s. */
  now?: () => Date;
  /**
   * A Wait `Timestamp` lasts until `now` reads it, unscaled: for a host whose clock is real time
   * while its durations are scaled (the sandbox), so a timestamp the product computed on real time
   * (a scheduled start) is not reached early. Default: scaled by msPerSecond like any wait, right
   * for a host on a model clock running at its scale.
   */
  realTimeTimestamps?: boolean;
  /**
   * Real milliseconds a function may run, as its Lambda timeout (one value, or per function name
   * or ARN; default: none). Past it the task fails with `Lambda.Unknown`, as Step Functions
   * reports a timed-out function. Real time, not scaled: a handler's work is not ASL time.
   */
  functionTimeoutMs?: number | Record<string, number>;
}

export type ExecutionStatus = 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED';

export interface ExecutionDescription {
  executionArn: string;
  stateMachineArn: string;
  name: string;
  status: ExecutionStatus;
  startDate: Date;
  stopDate?: Date;
  input: string;
  output?: string;
  error?: string;
  cause?: string;
}

export interface ExecutionHistoryEvent {
  id: number;
  /** Engine event type (`ExecutionStarted`, `StateEntered`, `StateRetried`, …) or `ExecutionTimedOut`. */
  type: string;
  stateName?: string;
  /** The state's type in the original definition (Wait stays Wait although the host runs it as a Task). */
  stateType?: string;
  timestamp: Date;
  input?: unknown;
  output?: unknown;
  error?: string;
  cause?: string;
  retryAttempt?: number;
  /** Map iteration index, for events of states inside a Map. */
  mapIndex?: number;
}

export interface TaskWaitingEvent {
  executionArn: string;
  stateName: string;
  taskToken: string;
  /** The Lambda Payload, token substituted. */
  payload: unknown;
}

/** Errors of the service API; `name` is the AWS error code (`TaskDoesNotExist`, …). */
export class StepFunctionsServiceError extends Error {
  constructor(code: string, message: string) {
    super(message);
    this.name = code;
  }
}

const DEFAULT_STATE_MACHINE_ARN = 'arn:aws:states:us-east-1:000000000000:stateMachine:access-request';
/** Given to the engine as `$$.Task.Token`; replaced by a minted token in the resolved Parameters. */
const TASK_TOKEN_PLACEHOLDER = 'LOCAL-SFN-TASK-TOKEN-PLACEHOLDER';
// Engine: a Task without TimeoutSeconds times out after 60 s (AWS: never). The host enforces the
// real timeouts, so the engine gets the longest delay setTimeout holds (2^31-1 ms ≈ 24.8 days).
const ENGINE_TASK_TIMEOUT_SECONDS = 2_147_483;
const MAX_TIMER_MS = 2_147_483_647;
// Keys of the envelope the host wraps around each Task's Parameters in its private definition.
const PARAMETERS_KEY = 'localSfnParameters';
const TIMEOUT_KEY = 'localSfnTimeoutSeconds';
const HEARTBEAT_KEY = 'localSfnHeartbeatSeconds';
const WAIT_INPUT_KEY = 'localSfnWaitInput';
const WAIT_SECONDS_KEY = 'localSfnWaitSeconds';
const WAIT_TIMESTAMP_KEY = 'localSfnWaitTimestamp';
const WAIT_RESOURCE = 'arn:aws:states:::local-step-functions:wait';
// Engine: a Fail state without Error/Cause reports "FailStateError"/a fixed message; AWS reports none.
const NO_FAIL_ERROR = 'LOCAL-SFN-NO-ERROR';
const NO_FAIL_CAUSE = 'LOCAL-SFN-NO-CAUSE';
const LAMBDA_INVOKE = 'arn:aws:states:::lambda:invoke';
const LAMBDA_INVOKE_CALLBACK = 'arn:aws:states:::lambda:invoke.waitForTaskToken';
const LAMBDA_FUNCTION_ARN = /^arn:aws[a-z-]*:lambda:([^:]+):(\d{12}):function:([^:]+)(?::[^:]+)?$/;
/** AWS execution names: 1–80 chars, no whitespace, brackets, wildcards, specials or control chars. */
const INVALID_NAME_CHARS = /[\s<>{}[\]?*"#%\\^|~`$&,;:/]/;
const isControlCharacter = (char: string) => {
  const code = char.charCodeAt(0);
  return code <= 0x1f || (code >= 0x7f && code <= 0x9f);
};
const isValidExecutionName = (name: string) =>
  name.length >= 1 &&
  name.length <= 80 &&
  !INVALID_NAME_CHARS.test(name) &&
  ![...name].some(isControlCharacter);
const TOKEN_FORMAT = /^[A-Za-z0-9_-]{43}\.[A-Za-z0-9_-]+$/;
/** Lambda's longest timeout: what a function without `functionTimeoutMs` sees as its remaining time. */
const LAMBDA_TIMEOUT_MS = 900_000;
/** AWS: state input/output, task results, SendTaskSuccess output and execution input are ≤ 256 KiB (UTF-8). */
const PAYLOAD_LIMIT_BYTES = 262_144;
const STATE_INPUT_KEY = 'localSfnStateInput';
// SendTaskFailure's API limits (AWS: error ≤ 256 characters, cause ≤ 32,768).
const MAX_ERROR_LENGTH = 256;
const MAX_CAUSE_LENGTH = 32_768;

type EngineRun = ReturnType<StateMachine['run']>;
type EngineEvent = EngineRun['eventLogs'] extends AsyncGenerator<infer E> ? E : never;
type EngineOverrides = NonNullable<RunOptions['overrides']>;
type EngineTaskHandler = NonNullable<EngineOverrides['taskResourceLocalHandlers']>[string];
type EngineJson = Awaited<ReturnType<EngineTaskHandler>>;
type JsonRecord = Record<string, unknown>;

interface TaskTimeouts {
  timeoutSeconds?: number;
  heartbeatSeconds?: number;
}
type TaskPlan =
  | ({ kind: 'lambdaInvoke'; waitForTaskToken: boolean } & TaskTimeouts)
  | ({ kind: 'lambdaFunction'; functionArn: string } & TaskTimeouts)
  | { kind: 'wait' }
  | { kind: 'unsupported'; resource: string };

type TokenRetirement = 'completed' | 'timedOut' | 'executionClosed';

interface PendingTask {
  execution: ExecutionRecord;
  stateName: string;
  token?: string;
  payload?: unknown;
  heartbeatMs?: number;
  timeoutTimer?: NodeJS.Timeout;
  heartbeatTimer?: NodeJS.Timeout;
  waitTimer?: NodeJS.Timeout;
  done: boolean;
  promise: Promise<EngineJson>;
  resolve: (value: EngineJson) => void;
  reject: (error: Error) => void;
}

interface ExecutionRecord {
  arn: string;
  name: string;
  input: string;
  status: ExecutionStatus;
  startDate: Date;
  stopDate?: Date;
  output?: string;
  error?: string;
  cause?: string;
  history: ExecutionHistoryEvent[];
  transitions: number;
  lambdaInvocations: number;
  pendingTasks: Set<PendingTask>;
  abortEngine: () => void;
  executionTimeoutTimer?: NodeJS.Timeout;
  settled: Promise<void>;
  /** `$$.State` as the engine reads it (Name, EnteredTime, RetryCount). */
  stateContext: JsonRecord;
}

/**
 * A task failure as the engine matches it in Retry/Catch: by `name` (Catch output `Cause` is the
 * message). The engine reads `isRetryable`/`isCatchable` duck-typed; host-internal failures
 * (bad paths, stopped execution) set them false like the engine's own States.Runtime.
 */
class TaskFailure extends Error {
  readonly isRetryable: boolean;
  readonly isCatchable: boolean;
  constructor(name: string, cause: string, handling: { retryable: boolean; catchable: boolean }) {
    super(cause);
    this.name = name;
    this.isRetryable = handling.retryable;
    this.isCatchable = handling.catchable;
  }
}

const catchableFailure = (name: string, cause: string) =>
  new TaskFailure(name, cause, { retryable: true, catchable: true });
const runtimeFailure = (cause: string) =>
  new TaskFailure('States.Runtime', cause, { retryable: false, catchable: false });
// AWS: States.DataLimitExceeded is terminal, not caught by States.ALL (concepts-error-handling).
// The engine cannot match an error by name only, so the host makes it uncatchable.
const dataLimitFailure = (what: string, bytes: number) =>
  new TaskFailure(
    'States.DataLimitExceeded',
    `${what} is ${bytes} bytes, over the ${PAYLOAD_LIMIT_BYTES}-byte payload quota`,
    { retryable: false, catchable: false },
  );
const payloadBytes = (value: unknown): number => Buffer.byteLength(JSON.stringify(value) ?? '', 'utf8');
const executionClosedFailure = () =>
  new TaskFailure('LocalStepFunctions.ExecutionClosed', 'The execution is no longer running', {
    retryable: false,
    catchable: false,
  });

// Engine: `States.TaskFailed` must not match `States.Timeout`, and the engine decides that with
// `instanceof` on a class it does not export. The host obtains the class once by letting the
// engine time out a 1 ms probe task, and raises its own timeouts as instances of it.
let statesTimeoutErrorClass: Promise<new () => Error> | undefined;
function loadStatesTimeoutErrorClass(): Promise<new () => Error> {
  statesTimeoutErrorClass ??= (async () => {
    const probe = new StateMachine(
      {
        StartAt: 'Probe',
        States: { Probe: { Type: 'Task', Resource: WAIT_RESOURCE, TimeoutSeconds: 0.001, End: true } },
      },
      { validationOptions: { noValidate: true } },
    );
    const run = probe.run(
      {},
      { overrides: { taskResourceLocalHandlers: { Probe: () => new Promise(() => {}) } } },
    );
    try {
      await run.result;
    } catch (error) {
      const cause: unknown = error instanceof ExecutionError ? error.cause : undefined;
      if (cause instanceof Error && cause.name === 'States.Timeout') {
        return cause.constructor as new () => Error;
      }
    }
    throw new Error('aws-local-stepfunctions did not time out the probe task: engine changed?');
  })();
  return statesTimeoutErrorClass;
}
// Probed at import, before a test can install fake timers that would stall the probe's 1 ms timer;
// a failure surfaces from startExecution.
loadStatesTimeoutErrorClass().catch(() => undefined);

/**
 * A function past its timeout. AWS: "Unhandled errors in Lambda are reported as Lambda.Unknown in
 * the error output. These include out-of-memory errors and function timeouts"
 * (https://docs.aws.amazon.com/step-functions/latest/dg/bp-lambda-serviceexception.html); the cause
 * carries the runtime's "Task timed out" payload. Lambda then stops the function; in-process, the
 * handler's promise runs on and its late effects still happen (a harsher world than AWS's).
 */
class FunctionTimedOut extends Error {
  constructor(readonly failure: TaskFailure) {
    super(failure.message);
  }
}
function functionTimedOut(context: LambdaContextLike, timeoutMs: number): FunctionTimedOut {
  const seconds = (timeoutMs / 1000).toFixed(2);
  const payload = JSON.stringify({
    errorMessage: `${new Date().toISOString()} ${context.awsRequestId} Task timed out after ${seconds} seconds`,
  });
  return new FunctionTimedOut(
    catchableFailure(
      'Lambda.Unknown',
      `The cause could not be determined because Lambda did not return an error type. Returned payload: ${payload}`,
    ),
  );
}

const validatedDefinitions = new Set<string>();

const isRecord = (value: unknown): value is JsonRecord =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** JSON round trip, as the real service serialises every payload. */
function toJson(value: unknown): EngineJson {
  const text = JSON.stringify(value);
  return (text === undefined ? null : JSON.parse(text)) as EngineJson;
}

function mapStrings(value: unknown, map: (text: string) => string): unknown {
  if (typeof value === 'string') return map(value);
  if (Array.isArray(value)) return value.map((item) => mapStrings(item, map));
  if (isRecord(value)) {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, mapStrings(item, map)]));
  }
  return value;
}

function substitutePlaceholders(definition: object, substitutions: Record<string, string>): JsonRecord {
  const missing = new Set<string>();
  const substituted = mapStrings(definition, (text) =>
    text.replace(/\$\{([^}]+)\}/g, (placeholder, name: string) => {
      const value = substitutions[name];
      if (value === undefined) missing.add(name);
      return value ?? placeholder;
    }),
  );
  if (missing.size > 0) throw new Error(`No substitution for: ${[...missing].join(', ')}`);
  if (!isRecord(substituted)) throw new Error('The definition must be a JSON object');
  return substituted;
}

function optionalNumber(value: unknown): number | undefined {
  return typeof value === 'number' ? value : undefined;
}

function readPositiveInteger(value: unknown, field: string): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw runtimeFailure(`${field} must resolve to a positive integer, got ${JSON.stringify(value)}`);
  }
  return value;
}

function classifyTask(state: JsonRecord): TaskPlan {
  const resource = String(state.Resource);
  const timeouts: TaskTimeouts = {
    timeoutSeconds: optionalNumber(state.TimeoutSeconds),
    heartbeatSeconds: optionalNumber(state.HeartbeatSeconds),
  };
  if (resource === LAMBDA_INVOKE) return { kind: 'lambdaInvoke', waitForTaskToken: false, ...timeouts };
  if (resource === LAMBDA_INVOKE_CALLBACK)
    return { kind: 'lambdaInvoke', waitForTaskToken: true, ...timeouts };
  if (LAMBDA_FUNCTION_ARN.test(resource))
    return { kind: 'lambdaFunction', functionArn: resource, ...timeouts };
  return { kind: 'unsupported', resource };
}

interface CompiledDefinition {
  /** The host's private copy, rewritten for the engine (never written back to the ASL file). */
  engineDefinition: JsonRecord;
  plans: Map<string, TaskPlan>;
  stateTypes: Map<string, string>;
  retryingStates: string[];
  executionTimeoutSeconds?: number;
}

/**
 * Rewrites a private copy of the definition so that the engine behaves like AWS:
 * - Task: Parameters wrapped in an envelope that also resolves TimeoutSecondsPath/HeartbeatSecondsPath
 *   against the state input (Engine: reads TimeoutSecondsPath from the Parameters *output*); the host
 *   enforces TimeoutSeconds/HeartbeatSeconds (Engine: 60 s default, heartbeat ignored, no scaling).
 * - Wait: run as a host Task so every form (Seconds, Timestamp, *Path) is scaled by msPerSecond.
 * - Retry: IntervalSeconds/MaxDelaySeconds scaled (the engine's backoff, cap and FULL jitter are right).
 * - Fail: sentinels for a missing Error/Cause.
 * - Top-level TimeoutSeconds removed: the host enforces it, scaled.
 */
function compileDefinition(definition: JsonRecord, msPerSecond: number): CompiledDefinition {
  const plans = new Map<string, TaskPlan>();
  const stateTypes = new Map<string, string>();
  const retryingStates: string[] = [];
  const secondsScale = msPerSecond / 1000;

  const rewriteMachine = (machine: JsonRecord): JsonRecord => {
    const states = isRecord(machine.States) ? machine.States : {};
    const rewritten: JsonRecord = {};
    for (const [name, value] of Object.entries(states)) {
      if (!isRecord(value)) continue;
      stateTypes.set(name, String(value.Type));
      rewritten[name] = rewriteState(name, value);
    }
    const copy: JsonRecord = { ...machine, States: rewritten };
    delete copy.TimeoutSeconds;
    return copy;
  };

  const rewriteState = (name: string, state: JsonRecord): JsonRecord => {
    const copy: JsonRecord = { ...state };
    if (Array.isArray(state.Retry)) {
      retryingStates.push(name);
      copy.Retry = state.Retry.map((retrier: unknown) => {
        if (!isRecord(retrier)) return retrier;
        const scaled: JsonRecord = {
          ...retrier,
          IntervalSeconds: (optionalNumber(retrier.IntervalSeconds) ?? 1) * secondsScale,
        };
        const maxDelay = optionalNumber(retrier.MaxDelaySeconds);
        if (maxDelay !== undefined) scaled.MaxDelaySeconds = maxDelay * secondsScale;
        return scaled;
      });
    }
    switch (state.Type) {
      case 'Task': {
        plans.set(name, classifyTask(state));
        const envelope: JsonRecord =
          'Parameters' in state ? { [PARAMETERS_KEY]: state.Parameters } : { [`${PARAMETERS_KEY}.$`]: '$' };
        // The state input as it arrives (the previous state's output), for the payload quota.
        envelope[`${STATE_INPUT_KEY}.$`] = '$';
        if (typeof state.TimeoutSecondsPath === 'string')
          envelope[`${TIMEOUT_KEY}.$`] = state.TimeoutSecondsPath;
        if (typeof state.HeartbeatSecondsPath === 'string')
          envelope[`${HEARTBEAT_KEY}.$`] = state.HeartbeatSecondsPath;
        delete copy.TimeoutSecondsPath;
        delete copy.HeartbeatSeconds;
        delete copy.HeartbeatSecondsPath;
        copy.TimeoutSeconds = ENGINE_TASK_TIMEOUT_SECONDS;
        copy.Parameters = envelope;
        return copy;
      }
      case 'Wait': {
        plans.set(name, { kind: 'wait' });
        const envelope: JsonRecord = { [`${WAIT_INPUT_KEY}.$`]: '$' };
        if (state.Seconds !== undefined) envelope[WAIT_SECONDS_KEY] = state.Seconds;
        if (state.SecondsPath !== undefined) envelope[`${WAIT_SECONDS_KEY}.$`] = state.SecondsPath;
        if (state.Timestamp !== undefined) envelope[WAIT_TIMESTAMP_KEY] = state.Timestamp;
        if (state.TimestampPath !== undefined) envelope[`${WAIT_TIMESTAMP_KEY}.$`] = state.TimestampPath;
        for (const key of ['Seconds', 'SecondsPath', 'Timestamp', 'TimestampPath']) delete copy[key];
        return {
          ...copy,
          Type: 'Task',
          Resource: WAIT_RESOURCE,
          TimeoutSeconds: ENGINE_TASK_TIMEOUT_SECONDS,
          Parameters: envelope,
        };
      }
      case 'Fail': {
        if (copy.Error === undefined && copy.ErrorPath === undefined) copy.Error = NO_FAIL_ERROR;
        if (copy.Cause === undefined && copy.CausePath === undefined) copy.Cause = NO_FAIL_CAUSE;
        return copy;
      }
      case 'Map': {
        for (const key of ['ItemProcessor', 'Iterator'] as const) {
          const nested = state[key];
          if (isRecord(nested)) copy[key] = rewriteMachine(nested);
        }
        return copy;
      }
      case 'Parallel': {
        if (Array.isArray(state.Branches)) {
          copy.Branches = state.Branches.map((branch: unknown) =>
            isRecord(branch) ? rewriteMachine(branch) : branch,
          );
        }
        return copy;
      }
      default:
        return copy;
    }
  };

  const engineDefinition = rewriteMachine(definition);
  // Engine: `$$.Execution.StartTime` is overwritten with the engine's own wall clock; the host's
  // start date (from `now`) is offered under another key and references are pointed at it.
  const withStartTime = JSON.parse(
    JSON.stringify(engineDefinition).split('$$.Execution.StartTime').join('$$.Execution.LocalStartTime'),
  ) as JsonRecord;
  return {
    engineDefinition: withStartTime,
    plans,
    stateTypes,
    retryingStates,
    executionTimeoutSeconds: optionalNumber(definition.TimeoutSeconds),
  };
}

/**
 * Engine: `$$.State.*` resolves only from the static `context` option. The host makes each
 * `States` entry a getter, which the engine reads exactly when it transitions into the state, and
 * updates the shared `State` context object there (retries do not re-read it, as in AWS).
 */
function installStateEntryHooks(machine: JsonRecord, onEnter: (stateName: string) => void): void {
  const states = machine.States;
  if (!isRecord(states)) return;
  for (const [name, state] of Object.entries(states)) {
    if (!isRecord(state)) continue;
    for (const key of ['ItemProcessor', 'Iterator'] as const) {
      const nested = state[key];
      if (isRecord(nested)) installStateEntryHooks(nested, onEnter);
    }
    if (Array.isArray(state.Branches)) {
      for (const branch of state.Branches) if (isRecord(branch)) installStateEntryHooks(branch, onEnter);
    }
    Object.defineProperty(states, name, {
      enumerable: true,
      get() {
        onEnter(name);
        return state;
      },
    });
  }
}

function stringifyCause(cause: unknown): string | undefined {
  if (cause === undefined || cause === null) return undefined;
  return typeof cause === 'string' ? cause : JSON.stringify(cause);
}

export class LocalStepFunctions {
  readonly stateMachineArn: string;
  private readonly msPerSecond: number;
  private readonly retryIntervalMs?: number;
  private readonly functionTimeoutMs: LocalStepFunctionsOptions['functionTimeoutMs'];
  private readonly now: () => Date;
  private readonly compiled: CompiledDefinition;
  private readonly functionsByName = new Map<string, { handler: LambdaHandler; arn: string; name: string }>();
  private readonly executions = new Map<string, ExecutionRecord>();
  private readonly executionsByName = new Map<string, ExecutionRecord>();
  private readonly tokens = new Map<string, PendingTask>();
  private readonly retiredTokens = new Map<string, TokenRetirement>();
  private readonly waitingListeners = new Set<(event: TaskWaitingEvent) => void>();
  private isShutDown = false;
  private readonly realTimeTimestamps: boolean;

  constructor(options: LocalStepFunctionsOptions) {
    this.stateMachineArn = options.stateMachineArn ?? DEFAULT_STATE_MACHINE_ARN;
    this.msPerSecond = options.msPerSecond ?? 1000;
    this.retryIntervalMs = options.retryIntervalMs;
    this.functionTimeoutMs = options.functionTimeoutMs;
    this.now = options.now ?? (() => new Date());
    this.realTimeTimestamps = options.realTimeTimestamps ?? false;
    const definition = substitutePlaceholders(options.definition, options.substitutions);
    // Validates the definition as written (asl-validator, with ARN and path checks); throws if
    // invalid. ~100 ms a time, so a definition is validated once per process.
    const definitionText = JSON.stringify(definition);
    if (!validatedDefinitions.has(definitionText)) {
      new StateMachine(definition as unknown as StateMachineDefinition);
      validatedDefinitions.add(definitionText);
    }
    this.compiled = compileDefinition(definition, this.msPerSecond);
    const [, region = 'us-east-1', account = '000000000000'] =
      /^arn:aws[a-z-]*:states:([^:]+):(\d{12}):/.exec(this.stateMachineArn) ?? [];
    for (const [key, handler] of Object.entries(options.functions)) {
      const parsed = LAMBDA_FUNCTION_ARN.exec(key);
      const name = parsed?.[3] ?? key;
      const arn = parsed ? key : `arn:aws:lambda:${region}:${account}:function:${key}`;
      this.functionsByName.set(key, { handler, arn, name });
      this.functionsByName.set(name, { handler, arn, name });
    }
  }

  async startExecution(request: {
    name?: string;
    input?: string;
  }): Promise<{ executionArn: string; startDate: Date }> {
    if (this.isShutDown) throw new Error('LocalStepFunctions has been shut down');
    const statesTimeoutError = await loadStatesTimeoutErrorClass();
    const name = request.name ?? randomUUID();
    if (!isValidExecutionName(name)) {
      throw new StepFunctionsServiceError('InvalidName', `Invalid Name: '${name}'`);
    }
    const input = request.input ?? '{}';
    if (Buffer.byteLength(input, 'utf8') > PAYLOAD_LIMIT_BYTES) {
      throw new StepFunctionsServiceError(
        'ValidationException',
        `1 validation error detected: Value at 'input' failed to satisfy constraint: Member must have length less than or equal to ${PAYLOAD_LIMIT_BYTES}`,
      );
    }
    let parsedInput: EngineJson;
    try {
      parsedInput = JSON.parse(input) as EngineJson;
    } catch {
      throw new StepFunctionsServiceError(
        'InvalidExecutionInput',
        `Invalid State Machine Execution Input: '${input}'`,
      );
    }
    const existing = this.executionsByName.get(name);
    if (existing) {
      // AWS: same name and input while RUNNING is idempotent; anything else is a conflict.
      if (existing.status === 'RUNNING' && existing.input === input) {
        return { executionArn: existing.arn, startDate: existing.startDate };
      }
      throw new StepFunctionsServiceError(
        'ExecutionAlreadyExists',
        `Execution Already Exists: '${existing.arn}'`,
      );
    }
    const record = this.createRecord(name, input);
    this.executions.set(record.arn, record);
    this.executionsByName.set(name, record);
    this.launch(record, parsedInput, statesTimeoutError);
    return { executionArn: record.arn, startDate: record.startDate };
  }

  async sendTaskSuccess(taskToken: string, output: string): Promise<void> {
    // AWS checks the request before the token: an oversized output is refused and the task waits on.
    if (Buffer.byteLength(output, 'utf8') > PAYLOAD_LIMIT_BYTES) {
      throw new StepFunctionsServiceError(
        'ValidationException',
        `1 validation error detected: Value at 'output' failed to satisfy constraint: Member must have length less than or equal to ${PAYLOAD_LIMIT_BYTES}`,
      );
    }
    const task = this.liveTask(taskToken);
    let parsed: EngineJson;
    try {
      parsed = JSON.parse(output) as EngineJson;
    } catch {
      throw new StepFunctionsServiceError('InvalidOutput', 'Invalid Output: output must be valid JSON');
    }
    this.settleTask(task, { value: parsed }, 'completed');
  }

  async sendTaskFailure(taskToken: string, error?: string, cause?: string): Promise<void> {
    if ((error?.length ?? 0) > MAX_ERROR_LENGTH || (cause?.length ?? 0) > MAX_CAUSE_LENGTH) {
      throw new StepFunctionsServiceError(
        'ValidationException',
        `1 validation error detected: 'error' must be at most ${MAX_ERROR_LENGTH} and 'cause' at most ${MAX_CAUSE_LENGTH} characters`,
      );
    }
    const task = this.liveTask(taskToken);
    this.settleTask(task, { error: catchableFailure(error ?? '', cause ?? '') }, 'completed');
  }

  async sendTaskHeartbeat(taskToken: string): Promise<void> {
    const task = this.liveTask(taskToken);
    if (task.heartbeatMs !== undefined) this.armHeartbeat(task);
  }

  describeExecution(executionArn: string): ExecutionDescription {
    return this.describe(this.record(executionArn));
  }

  /** Newest first, like AWS. */
  listExecutions(filter: { statusFilter?: string } = {}): ExecutionDescription[] {
    return [...this.executions.values()]
      .filter((record) => filter.statusFilter === undefined || record.status === filter.statusFilter)
      .sort((a, b) => b.startDate.getTime() - a.startDate.getTime())
      .map((record) => this.describe(record));
  }

  /** Stops a RUNNING execution (ABORTED); a no-op for a finished one. Resolves once the engine has stopped. */
  async stopExecution(executionArn: string, error?: string, cause?: string): Promise<{ stopDate: Date }> {
    const record = this.record(executionArn);
    if (record.status === 'RUNNING') {
      this.closeExecution(record, { status: 'ABORTED', error, cause });
    }
    await record.settled;
    return { stopDate: record.stopDate ?? this.now() };
  }

  /** Resolves once the execution has left RUNNING and its history is complete. */
  async waitForExecution(executionArn: string): Promise<ExecutionDescription> {
    const record = this.record(executionArn);
    await record.settled;
    return this.describe(record);
  }

  history(executionArn: string): ExecutionHistoryEvent[] {
    return [...this.record(executionArn).history];
  }

  /**
   * Billed state transitions: one per state entered (StateEntered, including states inside Map and
   * Parallel) plus one per retry attempt (StateRetried), as AWS bills retries as transitions.
   */
  transitionCount(executionArn: string): number {
    return this.record(executionArn).transitions;
  }

  /** Lambda invocations made by the execution's tasks (callback invocations included). */
  lambdaInvocations(executionArn: string): number {
    return this.record(executionArn).lambdaInvocations;
  }

  /** Fired once a callback task's Lambda has returned, i.e. its token is out. Returns an unsubscribe function. */
  onTaskWaiting(listener: (event: TaskWaitingEvent) => void): () => void {
    this.waitingListeners.add(listener);
    return () => {
      this.waitingListeners.delete(listener);
    };
  }

  /** Callback tasks currently waiting for a token (optionally of one execution). */
  waitingTasks(executionArn?: string): TaskWaitingEvent[] {
    return [...this.tokens.values()]
      .filter((task) => executionArn === undefined || task.execution.arn === executionArn)
      .map((task) => this.waitingEvent(task));
  }

  /** Aborts running executions, clears every timer and waits for the engine runs to end. */
  async shutdown(): Promise<void> {
    this.isShutDown = true;
    for (const record of this.executions.values()) {
      if (record.status === 'RUNNING') {
        this.closeExecution(record, { status: 'ABORTED', error: 'LocalStepFunctions.Shutdown' });
      }
    }
    await Promise.all([...this.executions.values()].map((record) => record.settled));
  }

  // ---- executions ----

  private createRecord(name: string, input: string): ExecutionRecord {
    const executionArn = `${this.stateMachineArn.replace(':stateMachine:', ':execution:')}:${name}`;
    return {
      arn: executionArn,
      name,
      input,
      status: 'RUNNING',
      startDate: this.now(),
      history: [],
      transitions: 0,
      lambdaInvocations: 0,
      pendingTasks: new Set(),
      abortEngine: () => {},
      settled: Promise.resolve(),
      stateContext: { Name: '', EnteredTime: '', RetryCount: 0 },
    };
  }

  private launch(record: ExecutionRecord, input: EngineJson, statesTimeoutError: new () => Error): void {
    const stateContext = record.stateContext;
    // A JSON round trip, not structuredClone: the engine recognises objects by comparing with its
    // realm's Object.prototype, and under jest structuredClone builds them in another realm.
    const definition = JSON.parse(JSON.stringify(this.compiled.engineDefinition)) as JsonRecord;
    installStateEntryHooks(definition, (stateName) => {
      stateContext.Name = stateName;
      stateContext.EnteredTime = this.now().toISOString();
      stateContext.RetryCount = 0;
    });
    const handlers: Record<string, EngineTaskHandler> = {};
    for (const [stateName, plan] of this.compiled.plans) {
      handlers[stateName] = (engineInput) =>
        this.runTask(record, stateName, plan, engineInput, statesTimeoutError);
    }
    const overrides: EngineOverrides = { taskResourceLocalHandlers: handlers };
    if (this.retryIntervalMs !== undefined) {
      overrides.retryIntervalOverrides = Object.fromEntries(
        this.compiled.retryingStates.map((stateName) => [stateName, this.retryIntervalMs ?? 0]),
      );
    }
    const machine = new StateMachine(definition as unknown as StateMachineDefinition, {
      validationOptions: { noValidate: true },
    });
    const stateMachineName = this.stateMachineArn.split(':').pop() ?? '';
    // Engine: `$$` values exist only if given here; the task token is a placeholder the host
    // swaps for a minted per-task token.
    const run = machine.run(input, {
      noThrowOnAbort: true,
      overrides,
      context: {
        Execution: {
          Id: record.arn,
          Name: record.name,
          RoleArn: 'arn:aws:iam::000000000000:role/local-step-functions',
          LocalStartTime: record.startDate.toISOString(),
        },
        StateMachine: { Id: this.stateMachineArn, Name: stateMachineName },
        State: stateContext,
        Task: { Token: TASK_TOKEN_PLACEHOLDER },
      },
    });
    record.abortEngine = run.abort;
    const historyDone = (async () => {
      for await (const event of run.eventLogs) this.recordEvent(record, event);
    })();
    const outcome = run.result.then(
      (output) => ({ ok: true as const, output }),
      (error: unknown) => ({ ok: false as const, error }),
    );
    record.settled = Promise.all([outcome, historyDone.catch(() => undefined)]).then(([result]) => {
      if (record.status === 'RUNNING') {
        const outputBytes = result.ok ? payloadBytes(result.output) : 0;
        if (result.ok && outputBytes > PAYLOAD_LIMIT_BYTES) {
          const failure = dataLimitFailure('The execution output', outputBytes);
          record.status = 'FAILED';
          record.error = failure.name;
          record.cause = failure.message;
        } else if (result.ok) {
          record.status = 'SUCCEEDED';
          record.output = JSON.stringify(result.output);
        } else {
          const failure = result.error instanceof ExecutionError ? result.error.cause : result.error;
          const error = failure instanceof Error ? failure.name : 'States.Runtime';
          const cause = failure instanceof Error ? failure.message : String(failure);
          record.status = 'FAILED';
          record.error = error === NO_FAIL_ERROR ? undefined : error;
          record.cause = cause === NO_FAIL_CAUSE ? undefined : cause;
        }
        record.stopDate = this.now();
      }
      this.releaseExecution(record);
    });
    const timeoutSeconds = this.compiled.executionTimeoutSeconds;
    // A timeout past what setTimeout holds (2^31-1 ms, 24.8 days: the definition's 50 days at real time)
    // is never reached by a local process: not armed, rather than firing at once.
    if (timeoutSeconds !== undefined && timeoutSeconds * this.msPerSecond <= MAX_TIMER_MS) {
      record.executionTimeoutTimer = this.unrefTimer(() => {
        if (record.status !== 'RUNNING') return;
        this.closeExecution(record, {
          status: 'TIMED_OUT',
          error: 'States.Timeout',
          cause: `The execution exceeded its TimeoutSeconds of ${timeoutSeconds}`,
        });
      }, timeoutSeconds * this.msPerSecond);
    }
  }

  private closeExecution(
    record: ExecutionRecord,
    end: {
      status: Exclude<ExecutionStatus, 'RUNNING' | 'SUCCEEDED' | 'FAILED'>;
      error?: string;
      cause?: string;
    },
  ): void {
    record.status = end.status;
    record.error = end.error;
    record.cause = end.cause;
    record.stopDate = this.now();
    record.abortEngine();
    this.releaseExecution(record);
  }

  /** Ends the execution's pending tasks (their tokens then answer TaskTimedOut, as AWS does) and timers. */
  private releaseExecution(record: ExecutionRecord): void {
    clearTimeout(record.executionTimeoutTimer);
    for (const task of [...record.pendingTasks]) {
      this.settleTask(task, { error: executionClosedFailure() }, 'executionClosed');
    }
  }

  private recordEvent(record: ExecutionRecord, event: EngineEvent): void {
    const entry: ExecutionHistoryEvent = {
      id: record.history.length + 1,
      type: event.type,
      timestamp: this.now(),
    };
    if ('state' in event) {
      entry.stateName = event.state.name;
      entry.stateType = this.compiled.stateTypes.get(event.state.name) ?? event.state.type;
      if ('index' in event && event.index !== undefined) entry.mapIndex = event.index;
    }
    switch (event.type) {
      case 'ExecutionStarted':
        entry.input = event.input;
        break;
      case 'ExecutionSucceeded':
        entry.output = event.output;
        break;
      case 'ExecutionAborted':
        if (record.status === 'TIMED_OUT') entry.type = 'ExecutionTimedOut';
        break;
      case 'StateEntered':
        record.transitions += 1;
        entry.input = event.state.input;
        break;
      case 'StateExited':
        entry.output = event.state.output;
        break;
      case 'StateRetried':
        record.transitions += 1;
        entry.retryAttempt = event.retry.attempt;
        break;
      default:
        break;
    }
    if ('Error' in event) {
      entry.error = event.Error === NO_FAIL_ERROR ? undefined : event.Error;
      const cause = stringifyCause(event.Cause);
      entry.cause = cause === NO_FAIL_CAUSE ? undefined : cause;
    }
    record.history.push(entry);
  }

  private record(executionArn: string): ExecutionRecord {
    const record = this.executions.get(executionArn);
    if (!record) {
      throw new StepFunctionsServiceError(
        'ExecutionDoesNotExist',
        `Execution Does Not Exist: '${executionArn}'`,
      );
    }
    return record;
  }

  private describe(record: ExecutionRecord): ExecutionDescription {
    const description: ExecutionDescription = {
      executionArn: record.arn,
      stateMachineArn: this.stateMachineArn,
      name: record.name,
      status: record.status,
      startDate: record.startDate,
      input: record.input,
    };
    if (record.stopDate) description.stopDate = record.stopDate;
    if (record.output !== undefined) description.output = record.output;
    if (record.error !== undefined) description.error = record.error;
    if (record.cause !== undefined) description.cause = record.cause;
    return description;
  }

  // ---- tasks ----

  private async runTask(
    record: ExecutionRecord,
    stateName: string,
    plan: TaskPlan,
    engineInput: unknown,
    statesTimeoutError: new () => Error,
  ): Promise<EngineJson> {
    // After a stop the engine may still retry the interrupted state: end it at once.
    if (record.status !== 'RUNNING') throw executionClosedFailure();
    const envelope = isRecord(engineInput) ? engineInput : {};
    if (plan.kind === 'wait') return this.runWait(record, stateName, envelope);
    if (plan.kind === 'unsupported') {
      throw runtimeFailure(`Resource '${plan.resource}' is not supported by LocalStepFunctions`);
    }
    const timeoutSeconds =
      plan.timeoutSeconds ?? readPositiveInteger(envelope[TIMEOUT_KEY], 'TimeoutSecondsPath');
    const heartbeatSeconds =
      plan.heartbeatSeconds ?? readPositiveInteger(envelope[HEARTBEAT_KEY], 'HeartbeatSecondsPath');
    const parameters = envelope[PARAMETERS_KEY];
    // Engine: the quota is not enforced. The host checks a state's output when the next task
    // reads it as its input (the previous state is then already left), and its input after
    // Parameters, before any Lambda is invoked.
    const inputBytes = payloadBytes(envelope[STATE_INPUT_KEY]);
    if (inputBytes > PAYLOAD_LIMIT_BYTES) throw dataLimitFailure(`The input of ${stateName}`, inputBytes);
    const parametersBytes = payloadBytes(parameters);
    if (parametersBytes > PAYLOAD_LIMIT_BYTES)
      throw dataLimitFailure(`The input of ${stateName} after Parameters`, parametersBytes);
    const task = this.openTask(record, stateName);
    if (timeoutSeconds !== undefined) {
      const timeoutError = new statesTimeoutError();
      timeoutError.message = `The task did not finish within ${timeoutSeconds} seconds`;
      task.timeoutTimer = this.unrefTimer(
        () => this.settleTask(task, { error: timeoutError }, 'timedOut'),
        timeoutSeconds * this.msPerSecond,
      );
    }
    if (heartbeatSeconds !== undefined) {
      task.heartbeatMs = heartbeatSeconds * this.msPerSecond;
      this.armHeartbeat(task);
    }

    if (plan.kind === 'lambdaFunction') {
      this.invokeLambda(record, plan.functionArn, parameters).then(
        (result) => this.settleTask(task, { value: result }, 'completed'),
        (error: Error) => this.settleTask(task, { error }, 'completed'),
      );
      return task.promise;
    }

    if (!isRecord(parameters) || typeof parameters.FunctionName !== 'string') {
      this.settleTask(
        task,
        { error: runtimeFailure('lambda:invoke needs Parameters.FunctionName') },
        'completed',
      );
      return task.promise;
    }
    const functionName = parameters.FunctionName;
    if (!plan.waitForTaskToken) {
      this.invokeLambda(record, functionName, parameters.Payload).then(
        (result) =>
          this.settleTask(
            task,
            { value: toJson({ ExecutedVersion: '$LATEST', Payload: result, StatusCode: 200 }) },
            'completed',
          ),
        (error: Error) => this.settleTask(task, { error }, 'completed'),
      );
      return task.promise;
    }

    // Callback: the token is valid before the Lambda returns (it may answer during the invocation).
    const token = `${randomBytes(32).toString('base64url')}.${Buffer.from(record.arn).toString('base64url')}`;
    task.token = token;
    this.tokens.set(token, task);
    const withToken = mapStrings(parameters, (text) => text.split(TASK_TOKEN_PLACEHOLDER).join(token));
    task.payload = isRecord(withToken) ? withToken.Payload : undefined;
    this.invokeLambda(record, functionName, task.payload).then(
      () => {
        if (task.done) return;
        const event = this.waitingEvent(task);
        for (const listener of [...this.waitingListeners]) {
          try {
            listener(event);
          } catch (error) {
            // A listener's bug must not wedge the task; the token stays valid.
            console.error('LocalStepFunctions onTaskWaiting listener failed', error);
          }
        }
      },
      (error: Error) => this.settleTask(task, { error }, 'completed'),
    );
    return task.promise;
  }

  private runWait(record: ExecutionRecord, stateName: string, envelope: JsonRecord): Promise<EngineJson> {
    const seconds = envelope[WAIT_SECONDS_KEY];
    const timestamp = envelope[WAIT_TIMESTAMP_KEY];
    let waitSeconds = 0;
    let realMs: number | undefined;
    if (seconds !== undefined) {
      if (typeof seconds !== 'number' || !Number.isInteger(seconds) || seconds < 0) {
        throw runtimeFailure(`Wait seconds must be a non-negative integer, got ${JSON.stringify(seconds)}`);
      }
      waitSeconds = seconds;
    } else if (timestamp !== undefined) {
      const target = typeof timestamp === 'string' ? Date.parse(timestamp) : Number.NaN;
      if (Number.isNaN(target))
        throw runtimeFailure(`Wait timestamp is not RFC 3339: ${JSON.stringify(timestamp)}`);
      waitSeconds = Math.max(0, (target - this.now().getTime()) / 1000);
      if (this.realTimeTimestamps) realMs = waitSeconds * 1000;
    }
    const inputBytes = payloadBytes(envelope[WAIT_INPUT_KEY]);
    if (inputBytes > PAYLOAD_LIMIT_BYTES) throw dataLimitFailure(`The input of ${stateName}`, inputBytes);
    const task = this.openTask(record, stateName);
    const output = toJson(envelope[WAIT_INPUT_KEY]);
    task.waitTimer = this.unrefTimer(
      () => this.settleTask(task, { value: output }, 'completed'),
      Math.min(realMs ?? waitSeconds * this.msPerSecond, MAX_TIMER_MS),
    );
    return task.promise;
  }

  private openTask(record: ExecutionRecord, stateName: string): PendingTask {
    let resolve!: (value: EngineJson) => void;
    let reject!: (error: Error) => void;
    const promise = new Promise<EngineJson>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    const task: PendingTask = { execution: record, stateName, done: false, promise, resolve, reject };
    record.pendingTasks.add(task);
    return task;
  }

  private settleTask(
    task: PendingTask,
    outcome: { value: EngineJson } | { error: Error },
    retirement: TokenRetirement,
  ): void {
    if (task.done) return;
    task.done = true;
    clearTimeout(task.timeoutTimer);
    clearTimeout(task.heartbeatTimer);
    clearTimeout(task.waitTimer);
    task.execution.pendingTasks.delete(task);
    if (task.token !== undefined) {
      this.tokens.delete(task.token);
      this.retiredTokens.set(task.token, retirement);
    }
    const resultBytes = 'value' in outcome ? payloadBytes(outcome.value) : 0;
    const error =
      'error' in outcome
        ? outcome.error
        : resultBytes > PAYLOAD_LIMIT_BYTES
          ? dataLimitFailure(`The result of ${task.stateName}`, resultBytes)
          : undefined;
    if (error) {
      // `$$.State.RetryCount` of the next attempt, if the engine retries; entering any state resets it.
      const { stateContext } = task.execution;
      stateContext.RetryCount = Number(stateContext.RetryCount ?? 0) + 1;
      task.reject(error);
    } else if ('value' in outcome) task.resolve(outcome.value);
  }

  private armHeartbeat(task: PendingTask): void {
    clearTimeout(task.heartbeatTimer);
    const heartbeatMs = task.heartbeatMs ?? 0;
    task.heartbeatTimer = this.unrefTimer(() => {
      const error = catchableFailure('States.HeartbeatTimeout', 'No heartbeat within HeartbeatSeconds');
      this.settleTask(task, { error }, 'timedOut');
    }, heartbeatMs);
  }

  private liveTask(taskToken: string): PendingTask {
    if (taskToken.length < 1 || taskToken.length > 2048 || !TOKEN_FORMAT.test(taskToken)) {
      throw new StepFunctionsServiceError('InvalidToken', 'Invalid Token: unable to deserialize the token');
    }
    const task = this.tokens.get(taskToken);
    if (task) return task;
    // AWS (SendTaskSuccess API reference): TaskTimedOut once "the task token has either expired or
    // the task associated with the token has already been closed", whether it completed, timed
    // out or its execution ended. A well-formed token this host never issued: TaskDoesNotExist.
    if (this.retiredTokens.has(taskToken)) {
      throw new StepFunctionsServiceError(
        'TaskTimedOut',
        "Task Timed Out: 'Provided task does not exist anymore'",
      );
    }
    throw new StepFunctionsServiceError('TaskDoesNotExist', 'Task does not exist anymore');
  }

  private waitingEvent(task: PendingTask): TaskWaitingEvent {
    return {
      executionArn: task.execution.arn,
      stateName: task.stateName,
      taskToken: task.token ?? '',
      payload: task.payload,
    };
  }

  /**
   * Invokes a local Lambda like the service does: JSON in, JSON out. A function error becomes a
   * task failure named after the error (AWS: errorType) with Cause `{errorType, errorMessage}`.
   */
  private async invokeLambda(
    record: ExecutionRecord,
    functionName: string,
    payload: unknown,
  ): Promise<EngineJson> {
    const parsedArn = LAMBDA_FUNCTION_ARN.exec(functionName);
    const bareName = parsedArn?.[3] ?? functionName.split(':')[0] ?? functionName;
    const target = this.functionsByName.get(functionName) ?? this.functionsByName.get(bareName);
    if (!target) {
      throw catchableFailure(
        'Lambda.ResourceNotFoundException',
        `Function not found: ${functionName} (Service: Lambda, Status Code: 404)`,
      );
    }
    record.lambdaInvocations += 1;
    const started = Date.now();
    const timeoutMs = this.timeoutOf(target);
    const context: LambdaContextLike = {
      callbackWaitsForEmptyEventLoop: true,
      functionName: target.name,
      functionVersion: '$LATEST',
      invokedFunctionArn: target.arn,
      memoryLimitInMB: '128',
      awsRequestId: randomUUID(),
      logGroupName: `/aws/lambda/${target.name}`,
      logStreamName: `local/[$LATEST]${randomUUID().replaceAll('-', '')}`,
      getRemainingTimeInMillis: () => Math.max(0, (timeoutMs ?? LAMBDA_TIMEOUT_MS) - (Date.now() - started)),
      done: () => {},
      fail: () => {},
      succeed: () => {},
    };
    let result: unknown;
    let timer: NodeJS.Timeout | undefined;
    try {
      const running = target.handler(toJson(payload ?? {}), context);
      result = await (timeoutMs === undefined
        ? running
        : Promise.race([
            running,
            new Promise<never>((_, reject) => {
              timer = this.unrefTimer(() => reject(functionTimedOut(context, timeoutMs)), timeoutMs);
            }),
          ]));
    } catch (thrown) {
      if (thrown instanceof FunctionTimedOut) throw thrown.failure;
      const errorType = thrown instanceof Error ? thrown.name : 'Error';
      const errorMessage = thrown instanceof Error ? thrown.message : String(thrown);
      throw catchableFailure(errorType, JSON.stringify({ errorType, errorMessage }));
    } finally {
      clearTimeout(timer);
    }
    try {
      return toJson(result);
    } catch (error) {
      const errorMessage = error instanceof Error ? error.message : String(error);
      throw catchableFailure(
        'Lambda.Unknown',
        `The function returned a value that is not JSON: ${errorMessage}`,
      );
    }
  }

  private timeoutOf(target: { arn: string; name: string }): number | undefined {
    const option = this.functionTimeoutMs;
    if (typeof option === 'number') return option;
    return option?.[target.arn] ?? option?.[target.name];
  }

  /** Host timers never keep the process alive on their own (an active engine task already does). */
  private unrefTimer(callback: () => void, ms: number): NodeJS.Timeout {
    const timer = setTimeout(callback, ms);
    timer.unref();
    return timer;
  }
}
