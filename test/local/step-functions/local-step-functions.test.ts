import { createHost, NamedError, nextWaitingTask, parseOutput, run, shutdownHosts } from './helpers';

afterEach(shutdownHosts);

const invoke = (functionName: string, extra: object = {}) => ({
  Type: 'Task',
  Resource: 'arn:aws:states:::lambda:invoke',
  Parameters: { FunctionName: `\${${functionName}}`, 'Payload.$': '$' },
  ...extra,
});

const callback = (functionName: string, extra: object = {}) => ({
  Type: 'Task',
  Resource: 'arn:aws:states:::lambda:invoke.waitForTaskToken',
  Parameters: {
    FunctionName: `\${${functionName}}`,
    Payload: { 'taskToken.$': '$$.Task.Token', 'request.$': '$.request' },
  },
  ...extra,
});

describe('lambda:invoke', () => {
  it('returns the integration shape {Payload, StatusCode, ExecutedVersion} and passes a Lambda context', async () => {
    const host = createHost(
      {
        StartAt: 'Invoke',
        States: {
          Invoke: invoke('Echo', {
            ResultSelector: {
              'echo.$': '$.Payload',
              'status.$': '$.StatusCode',
              'version.$': '$.ExecutedVersion',
            },
            End: true,
          }),
        },
      },
      {
        Echo: async (event, context) => ({
          event,
          functionName: context.functionName,
          hasRequestId: context.awsRequestId.length > 0,
          remaining: context.getRemainingTimeInMillis() > 0,
        }),
      },
    );
    const result = await run(host, { hello: 'world' });
    expect(result.status).toBe('SUCCEEDED');
    expect(parseOutput(result.output)).toEqual({
      echo: { event: { hello: 'world' }, functionName: 'Echo', hasRequestId: true, remaining: true },
      status: 200,
      version: '$LATEST',
    });
    expect(host.lambdaInvocations(result.executionArn)).toBe(1);
  });

  it('retries on the thrown error name with backoff, then succeeds', async () => {
    let calls = 0;
    const host = createHost(
      {
        StartAt: 'Invoke',
        States: {
          Invoke: invoke('Flaky', {
            Retry: [
              { ErrorEquals: ['Other'], MaxAttempts: 5 },
              {
                ErrorEquals: ['Transient'],
                IntervalSeconds: 2,
                BackoffRate: 2,
                MaxAttempts: 3,
                JitterStrategy: 'FULL',
              },
            ],
            OutputPath: '$.Payload',
            End: true,
          }),
        },
      },
      {
        Flaky: async () => {
          calls += 1;
          if (calls < 3) throw new NamedError('Transient', `attempt ${calls}`);
          return { attempts: calls };
        },
      },
    );
    const result = await run(host);
    expect(result.status).toBe('SUCCEEDED');
    expect(parseOutput(result.output)).toEqual({ attempts: 3 });
    expect(host.lambdaInvocations(result.executionArn)).toBe(3);
    const retried = host.history(result.executionArn).filter((event) => event.type === 'StateRetried');
    expect(retried).toHaveLength(2);
    // One entry plus one transition per retry.
    expect(host.transitionCount(result.executionArn)).toBe(3);
  });

  it('catches by error name with Cause {errorType, errorMessage}; States.TaskFailed and States.ALL match too', async () => {
    const host = createHost(
      {
        StartAt: 'ByName',
        States: {
          ByName: invoke('Denied', {
            Retry: [{ ErrorEquals: ['Transient'], MaxAttempts: 3 }],
            Catch: [
              { ErrorEquals: ['Unrelated'], Next: 'Wrong' },
              { ErrorEquals: ['AccessDenied'], ResultPath: '$.byName', Next: 'ByTaskFailed' },
            ],
            Next: 'Wrong',
          }),
          ByTaskFailed: invoke('Denied', {
            ResultPath: null,
            Catch: [{ ErrorEquals: ['States.TaskFailed'], ResultPath: '$.byTaskFailed', Next: 'ByAll' }],
            Next: 'Wrong',
          }),
          ByAll: invoke('Missing', {
            ResultPath: null,
            Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.byAll', Next: 'Done' }],
            Next: 'Wrong',
          }),
          Wrong: { Type: 'Fail', Error: 'WrongPath' },
          Done: { Type: 'Succeed' },
        },
      },
      {
        Denied: async () => {
          throw new NamedError('AccessDenied', 'no grant for you');
        },
        Missing: async () => null,
      },
      {
        substitutions: {
          Denied: 'arn:aws:lambda:us-east-1:000000000000:function:Denied',
          Missing: 'not-deployed',
        },
      },
    );
    const result = await run(host);
    expect(result.status).toBe('SUCCEEDED');
    const output = parseOutput(result.output) as Record<string, { Error: string; Cause: string }>;
    expect(output.byName).toEqual({
      Error: 'AccessDenied',
      Cause: JSON.stringify({ errorType: 'AccessDenied', errorMessage: 'no grant for you' }),
    });
    expect(output.byTaskFailed?.Error).toBe('AccessDenied');
    expect(output.byAll?.Error).toBe('Lambda.ResourceNotFoundException');
    // Not retried: the retrier names another error.
    expect(host.lambdaInvocations(result.executionArn)).toBe(2);
  });

  it('fails the execution with the error name and cause when nothing catches', async () => {
    const host = createHost(
      { StartAt: 'Invoke', States: { Invoke: invoke('Broken', { End: true }) } },
      {
        Broken: async () => {
          throw new TypeError('boom');
        },
      },
    );
    const result = await run(host);
    expect(result).toMatchObject({
      status: 'FAILED',
      error: 'TypeError',
      cause: JSON.stringify({ errorType: 'TypeError', errorMessage: 'boom' }),
    });
    expect(result.stopDate).toBeInstanceOf(Date);
  });
});

describe('callback tasks (.waitForTaskToken)', () => {
  it('mints a distinct token per task, delivers success output and routes sendTaskFailure to Catch', async () => {
    const received: unknown[] = [];
    const host = createHost(
      {
        StartAt: 'Approve',
        States: {
          Approve: callback('Notify', { ResultPath: '$.approval', Next: 'Confirm' }),
          Confirm: callback('Notify', {
            Catch: [{ ErrorEquals: ['Rejected'], ResultPath: '$.rejection', Next: 'Rejected' }],
            Next: 'Done',
          }),
          Rejected: { Type: 'Pass', End: true },
          Done: { Type: 'Succeed' },
        },
      },
      {
        Notify: async (event) => {
          received.push(event);
          return { sent: true };
        },
      },
    );
    const firstWaiting = nextWaitingTask(host, 'Approve');
    const { executionArn } = await host.startExecution({ input: JSON.stringify({ request: 'r-1' }) });
    const first = await firstWaiting;
    expect(first.payload).toEqual({ taskToken: first.taskToken, request: 'r-1' });
    expect(first.taskToken.length).toBeLessThanOrEqual(2048);
    expect(host.waitingTasks(executionArn).map((task) => task.taskToken)).toEqual([first.taskToken]);

    const secondWaiting = nextWaitingTask(host, 'Confirm');
    await host.sendTaskSuccess(first.taskToken, JSON.stringify({ approved: true }));
    const second = await secondWaiting;
    expect(second.taskToken).not.toBe(first.taskToken);
    // AWS: a token whose task completed answers TaskTimedOut, like one that timed out.
    await expect(host.sendTaskSuccess(first.taskToken, '{}')).rejects.toMatchObject({
      name: 'TaskTimedOut',
    });

    await host.sendTaskFailure(second.taskToken, 'Rejected', 'changed my mind');
    const result = await host.waitForExecution(executionArn);
    expect(result.status).toBe('SUCCEEDED');
    expect(parseOutput(result.output)).toEqual({
      request: 'r-1',
      approval: { approved: true },
      rejection: { Error: 'Rejected', Cause: 'changed my mind' },
    });
    expect(received).toHaveLength(2);
    expect(host.lambdaInvocations(executionArn)).toBe(2);
  });

  it('times out from TimeoutSecondsPath read on the state input (not the Parameters output)', async () => {
    const host = createHost(
      {
        StartAt: 'Approve',
        States: {
          Approve: callback('Notify', {
            TimeoutSecondsPath: '$.approvalTimeoutSeconds',
            Catch: [
              // AWS: States.TaskFailed does not match States.Timeout.
              { ErrorEquals: ['States.TaskFailed'], Next: 'Wrong' },
              { ErrorEquals: ['States.Timeout'], ResultPath: '$.timeout', Next: 'Expired' },
            ],
            Next: 'Wrong',
          }),
          Wrong: { Type: 'Fail', Error: 'WrongPath' },
          Expired: { Type: 'Pass', End: true },
        },
      },
      { Notify: async () => ({}) },
    );
    const waiting = nextWaitingTask(host);
    const { executionArn } = await host.startExecution({
      input: JSON.stringify({ request: 'r-2', approvalTimeoutSeconds: 20 }),
    });
    const task = await waiting;
    const result = await host.waitForExecution(executionArn);
    expect(result.status).toBe('SUCCEEDED');
    expect(parseOutput(result.output)).toMatchObject({ timeout: { Error: 'States.Timeout' } });
    await expect(host.sendTaskSuccess(task.taskToken, '{}')).rejects.toMatchObject({ name: 'TaskTimedOut' });
  });

  it('fails with States.Runtime when TimeoutSecondsPath does not resolve to a positive integer', async () => {
    const host = createHost(
      {
        StartAt: 'Approve',
        States: { Approve: callback('Notify', { TimeoutSecondsPath: '$.timeout', End: true }) },
      },
      { Notify: async () => ({}) },
    );
    const result = await run(host, { request: 'r', timeout: 'soon' });
    expect(result).toMatchObject({ status: 'FAILED', error: 'States.Runtime' });
  });

  it('keeps a task alive while heartbeats arrive and fails it with States.HeartbeatTimeout when they stop', async () => {
    // Fake time: the heartbeats land exactly 10 ms apart, however busy the machine is.
    jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'] });
    try {
      const host = createHost(
        {
          StartAt: 'Approve',
          States: {
            Approve: callback('Notify', {
              HeartbeatSeconds: 60,
              TimeoutSeconds: 100_000,
              Catch: [{ ErrorEquals: ['States.HeartbeatTimeout'], ResultPath: '$.heartbeat', Next: 'Lost' }],
              ResultPath: '$.approval',
              Next: 'Again',
            }),
            Again: callback('Notify', {
              HeartbeatSeconds: 30,
              Catch: [{ ErrorEquals: ['States.HeartbeatTimeout'], ResultPath: '$.heartbeat', Next: 'Lost' }],
              End: true,
            }),
            Lost: { Type: 'Pass', End: true },
          },
        },
        { Notify: async () => ({}) },
        { msPerSecond: 2 },
      );
      const waiting = nextWaitingTask(host, 'Approve');
      const started = host.startExecution({ input: JSON.stringify({ request: 'r-3' }) });
      await jest.advanceTimersByTimeAsync(1);
      const { executionArn } = await started;
      const task = await waiting;
      // 200 ms of heartbeats against a 120 ms heartbeat window.
      for (let beat = 0; beat < 20; beat += 1) {
        await jest.advanceTimersByTimeAsync(10);
        await host.sendTaskHeartbeat(task.taskToken);
      }
      expect(host.describeExecution(executionArn).status).toBe('RUNNING');
      const again = nextWaitingTask(host, 'Again');
      await host.sendTaskSuccess(task.taskToken, '"yes"');
      await jest.advanceTimersByTimeAsync(1);
      await again;
      // Then no heartbeat: alive until its 60 ms window ends, caught as States.HeartbeatTimeout after.
      await jest.advanceTimersByTimeAsync(55);
      expect(host.describeExecution(executionArn).status).toBe('RUNNING');
      await jest.advanceTimersByTimeAsync(10);
      expect(host.describeExecution(executionArn).status).toBe('SUCCEEDED');
      expect(parseOutput(host.describeExecution(executionArn).output)).toEqual({
        request: 'r-3',
        approval: 'yes',
        heartbeat: { Error: 'States.HeartbeatTimeout', Cause: 'No heartbeat within HeartbeatSeconds' },
      });
    } finally {
      jest.useRealTimers();
    }
  });

  it('has no timeout when neither TimeoutSeconds nor TimeoutSecondsPath is set (the engine defaults to 60 s)', async () => {
    jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'] });
    try {
      const host = createHost(
        { StartAt: 'Approve', States: { Approve: callback('Notify', { End: true }) } },
        { Notify: async () => ({}) },
        { msPerSecond: 1000 },
      );
      const waiting = nextWaitingTask(host);
      const started = host.startExecution({ input: JSON.stringify({ request: 'r-4' }) });
      await jest.advanceTimersByTimeAsync(5);
      const { executionArn } = await started;
      const task = await waiting;
      await jest.advanceTimersByTimeAsync(3_600_000);
      expect(host.describeExecution(executionArn).status).toBe('RUNNING');
      await host.sendTaskSuccess(task.taskToken, '{"late":true}');
      await jest.advanceTimersByTimeAsync(5);
      expect(host.describeExecution(executionArn)).toMatchObject({
        status: 'SUCCEEDED',
        output: '{"late":true}',
      });
    } finally {
      jest.useRealTimers();
    }
  });

  it('fails the task with the Lambda error when the notifying Lambda throws', async () => {
    const host = createHost(
      { StartAt: 'Approve', States: { Approve: callback('Notify', { End: true }) } },
      {
        Notify: async () => {
          throw new NamedError('SlackUnavailable', 'down');
        },
      },
    );
    const result = await run(host, { request: 'r' });
    expect(result).toMatchObject({ status: 'FAILED', error: 'SlackUnavailable' });
  });

  it('rejects malformed tokens with InvalidToken', async () => {
    const host = createHost({ StartAt: 'Done', States: { Done: { Type: 'Succeed' } } });
    await expect(host.sendTaskSuccess('not a token', '{}')).rejects.toMatchObject({ name: 'InvalidToken' });
    await expect(host.sendTaskHeartbeat(`${'A'.repeat(43)}.QQ`)).rejects.toMatchObject({
      name: 'TaskDoesNotExist',
    });
  });
});

describe('time', () => {
  it('scales Wait Seconds, SecondsPath and TimestampPath by msPerSecond', async () => {
    const fixedNow = new Date('2030-01-01T00:00:00Z');
    const host = createHost(
      {
        StartAt: 'WaitHour',
        States: {
          WaitHour: { Type: 'Wait', Seconds: 3600, Next: 'WaitPath' },
          WaitPath: { Type: 'Wait', SecondsPath: '$.seconds', Next: 'WaitUntil' },
          WaitUntil: { Type: 'Wait', TimestampPath: '$.until', End: true },
        },
      },
      {},
      { msPerSecond: 0.01, now: () => fixedNow },
    );
    const startedAt = Date.now();
    const result = await run(host, { seconds: 7200, until: '2030-01-01T01:00:00Z' });
    expect(result.status).toBe('SUCCEEDED');
    expect(parseOutput(result.output)).toEqual({ seconds: 7200, until: '2030-01-01T01:00:00Z' });
    // 3 h of ASL time at 10 µs per second: ~108 ms.
    expect(Date.now() - startedAt).toBeGreaterThanOrEqual(100);
    expect(Date.now() - startedAt).toBeLessThan(5_000);
    const entered = host.history(result.executionArn).filter((event) => event.type === 'StateEntered');
    expect(entered.map((event) => event.stateType)).toEqual(['Wait', 'Wait', 'Wait']);
  });

  it('times the execution out (TIMED_OUT) after the top-level TimeoutSeconds, invalidating tokens', async () => {
    const host = createHost(
      { TimeoutSeconds: 20, StartAt: 'Approve', States: { Approve: callback('Notify', { End: true }) } },
      { Notify: async () => ({}) },
    );
    const waiting = nextWaitingTask(host);
    const { executionArn } = await host.startExecution({ input: JSON.stringify({ request: 'r' }) });
    const task = await waiting;
    const result = await host.waitForExecution(executionArn);
    expect(result.status).toBe('TIMED_OUT');
    expect(host.history(executionArn).at(-1)?.type).toBe('ExecutionTimedOut');
    await expect(host.sendTaskSuccess(task.taskToken, '{}')).rejects.toMatchObject({ name: 'TaskTimedOut' });
  });
});

describe('executions', () => {
  const waitForApproval = {
    StartAt: 'Approve',
    States: { Approve: callback('Notify', { End: true }) },
  };

  it('is idempotent for the same name and input while running, and rejects other reuse of a name', async () => {
    const host = createHost(waitForApproval, { Notify: async () => ({}) });
    const waiting = nextWaitingTask(host);
    const input = JSON.stringify({ request: 'r-5' });
    const first = await host.startExecution({ name: 'request-5', input });
    const again = await host.startExecution({ name: 'request-5', input });
    expect(again).toEqual(first);
    await expect(
      host.startExecution({ name: 'request-5', input: '{"request":"other"}' }),
    ).rejects.toMatchObject({
      name: 'ExecutionAlreadyExists',
    });
    await host.sendTaskSuccess((await waiting).taskToken, '{}');
    await host.waitForExecution(first.executionArn);
    await expect(host.startExecution({ name: 'request-5', input })).rejects.toMatchObject({
      name: 'ExecutionAlreadyExists',
    });
    expect(first.executionArn).toBe(
      'arn:aws:states:us-east-1:000000000000:execution:access-request:request-5',
    );
    await expect(host.startExecution({ name: 'bad name', input })).rejects.toMatchObject({
      name: 'InvalidName',
    });
    await expect(host.startExecution({ input: 'not json' })).rejects.toMatchObject({
      name: 'InvalidExecutionInput',
    });
    expect(() => host.describeExecution('arn:nope')).toThrow(
      expect.objectContaining({ name: 'ExecutionDoesNotExist' }),
    );
  });

  it('counts transitions: one per state entered plus one per retry', async () => {
    let calls = 0;
    const host = createHost(
      {
        StartAt: 'Prepare',
        States: {
          Prepare: { Type: 'Pass', Result: { go: true }, Next: 'Route' },
          Route: {
            Type: 'Choice',
            Choices: [{ Variable: '$.go', BooleanEquals: true, Next: 'Invoke' }],
            Default: 'Fail',
          },
          Invoke: invoke('Flaky', { Retry: [{ ErrorEquals: ['States.ALL'], MaxAttempts: 2 }], Next: 'Done' }),
          Fail: { Type: 'Fail' },
          Done: { Type: 'Succeed' },
        },
      },
      {
        Flaky: async () => {
          calls += 1;
          if (calls === 1) throw new NamedError('Transient', 'once');
          return {};
        },
      },
    );
    const result = await run(host);
    expect(result.status).toBe('SUCCEEDED');
    // Prepare, Route, Invoke, (retry), Done.
    expect(host.transitionCount(result.executionArn)).toBe(5);
  });

  it('reports Fail states as FAILED with their Error/Cause (none when omitted)', async () => {
    const host = createHost({
      StartAt: 'Route',
      States: {
        Route: {
          Type: 'Choice',
          Choices: [{ Variable: '$.bare', BooleanEquals: true, Next: 'Bare' }],
          Default: 'Deny',
        },
        Deny: { Type: 'Fail', Error: 'Denied', Cause: 'policy says no' },
        Bare: { Type: 'Fail' },
      },
    });
    expect(await run(host, { bare: false })).toMatchObject({
      status: 'FAILED',
      error: 'Denied',
      cause: 'policy says no',
    });
    const bare = await run(host, { bare: true });
    expect(bare.status).toBe('FAILED');
    expect(bare.error).toBeUndefined();
    expect(bare.cause).toBeUndefined();
  });

  it('resolves $$.Execution.*, $$.State.* and $$.StateMachine.* from the host', async () => {
    const now = new Date('2031-02-03T04:05:06.000Z');
    const host = createHost(
      {
        StartAt: 'First',
        States: {
          First: { Type: 'Pass', Next: 'Context' },
          Context: {
            Type: 'Pass',
            Parameters: {
              'name.$': '$$.Execution.Name',
              'id.$': '$$.Execution.Id',
              'start.$': '$$.Execution.StartTime',
              'entered.$': '$$.State.EnteredTime',
              'state.$': '$$.State.Name',
              'machine.$': '$$.StateMachine.Id',
            },
            End: true,
          },
        },
      },
      {},
      { now: () => now },
    );
    const result = await run(host, {}, 'ctx-1');
    expect(parseOutput(result.output)).toEqual({
      name: 'ctx-1',
      id: result.executionArn,
      start: now.toISOString(),
      entered: now.toISOString(),
      state: 'Context',
      machine: 'arn:aws:states:us-east-1:000000000000:stateMachine:access-request',
    });
    expect(result.startDate).toEqual(now);
  });

  it('stops executions (ABORTED), lists them by status and invalidates their tokens', async () => {
    const host = createHost(waitForApproval, { Notify: async () => ({}) });
    const waiting = nextWaitingTask(host);
    const { executionArn } = await host.startExecution({ input: JSON.stringify({ request: 'r' }) });
    const task = await waiting;
    expect(host.listExecutions({ statusFilter: 'RUNNING' }).map((e) => e.executionArn)).toEqual([
      executionArn,
    ]);
    await host.stopExecution(executionArn, 'Operator', 'cancelled');
    expect(host.describeExecution(executionArn)).toMatchObject({
      status: 'ABORTED',
      error: 'Operator',
      cause: 'cancelled',
    });
    expect(host.listExecutions({ statusFilter: 'ABORTED' })).toHaveLength(1);
    expect(host.listExecutions({ statusFilter: 'RUNNING' })).toHaveLength(0);
    await expect(host.sendTaskSuccess(task.taskToken, '{}')).rejects.toMatchObject({ name: 'TaskTimedOut' });
  });

  it('runs 1,000 concurrent executions with callbacks to completion', async () => {
    const host = createHost(
      {
        StartAt: 'Grant',
        States: {
          Grant: invoke('Grant', { ResultPath: null, Next: 'Approve' }),
          Approve: callback('Notify', { TimeoutSeconds: 3600, ResultPath: '$.approval', End: true }),
        },
      },
      { Grant: async () => ({ ok: true }), Notify: async () => ({}) },
    );
    host.onTaskWaiting((event) => {
      void host.sendTaskSuccess(event.taskToken, JSON.stringify({ by: event.executionArn.split(':').pop() }));
    });
    const started = await Promise.all(
      Array.from({ length: 1000 }, (_, index) =>
        host.startExecution({ name: `bulk-${index}`, input: JSON.stringify({ request: index }) }),
      ),
    );
    const results = await Promise.all(started.map(({ executionArn }) => host.waitForExecution(executionArn)));
    expect(results.every((result) => result.status === 'SUCCEEDED')).toBe(true);
    expect(parseOutput(results[999]?.output)).toEqual({ request: 999, approval: { by: 'bulk-999' } });
  });

  it('shutdown aborts running executions', async () => {
    const host = createHost(waitForApproval, { Notify: async () => ({}) });
    const waiting = nextWaitingTask(host);
    const { executionArn } = await host.startExecution({ input: JSON.stringify({ request: 'r' }) });
    await waiting;
    await host.shutdown();
    expect(host.describeExecution(executionArn).status).toBe('ABORTED');
    await expect(host.startExecution({ input: '{}' })).rejects.toThrow('shut down');
  });
});

describe('what AWS raises', () => {
  const waitForApproval = {
    StartAt: 'Approve',
    States: { Approve: callback('Notify', { End: true }) },
  };

  it('fails a function past its timeout with Lambda.Unknown, which a Retry can match; $$.State.RetryCount counts', async () => {
    const seen: unknown[] = [];
    const host = createHost(
      {
        StartAt: 'Slow',
        States: {
          Slow: {
            Type: 'Task',
            Resource: 'arn:aws:states:::lambda:invoke',
            Parameters: { FunctionName: `\${Slow}`, Payload: { 'retry.$': '$$.State.RetryCount' } },
            Retry: [{ ErrorEquals: ['Lambda.Unknown'], MaxAttempts: 2, IntervalSeconds: 1 }],
            ResultSelector: { 'retry.$': '$.Payload.retry' },
            ResultPath: '$.slow',
            Next: 'After',
          },
          After: {
            Type: 'Pass',
            Parameters: { 'retry.$': '$$.State.RetryCount', 'slow.$': '$.slow' },
            End: true,
          },
        },
      },
      {
        Slow: async (event, context) => {
          seen.push({ event, remaining: context.getRemainingTimeInMillis() <= 50 });
          // The first attempt hangs past its timeout; the retry answers at once.
          if (seen.length === 1) await new Promise(() => {});
          return event;
        },
      },
      { functionTimeoutMs: { Slow: 50 } },
    );
    const result = await run(host);
    expect(result.status).toBe('SUCCEEDED');
    expect(seen).toEqual([
      { event: { retry: 0 }, remaining: true },
      { event: { retry: 1 }, remaining: true },
    ]);
    // Entering the next state resets the count.
    expect(parseOutput(result.output)).toEqual({ retry: 0, slow: { retry: 1 } });
    const failed = host.history(result.executionArn).find((event) => event.type === 'StateFailed');
    expect(failed).toMatchObject({
      error: 'Lambda.Unknown',
      cause: expect.stringContaining('Task timed out after 0.05 seconds'),
    });
  });

  it('answers TaskTimedOut to SendTaskSuccess, SendTaskFailure and SendTaskHeartbeat once a task is closed', async () => {
    const host = createHost(waitForApproval, { Notify: async () => ({}) });
    const waiting = nextWaitingTask(host);
    const { executionArn } = await host.startExecution({ input: JSON.stringify({ request: 'r' }) });
    const task = await waiting;
    await host.sendTaskSuccess(task.taskToken, '{}');
    await host.waitForExecution(executionArn);
    for (const late of [
      host.sendTaskSuccess(task.taskToken, '{}'),
      host.sendTaskFailure(task.taskToken, 'Denied', 'late'),
      host.sendTaskHeartbeat(task.taskToken),
    ])
      await expect(late).rejects.toMatchObject({ name: 'TaskTimedOut' });
  });

  it('refuses a SendTaskSuccess output over 256 KiB (the task waits on) and an oversized error or cause', async () => {
    const host = createHost(waitForApproval, { Notify: async () => ({}) });
    const waiting = nextWaitingTask(host);
    const { executionArn } = await host.startExecution({ input: JSON.stringify({ request: 'r' }) });
    const task = await waiting;
    const big = JSON.stringify({ action: 'x'.repeat(262_144) });
    await expect(host.sendTaskSuccess(task.taskToken, big)).rejects.toMatchObject({
      name: 'ValidationException',
    });
    await expect(host.sendTaskFailure(task.taskToken, 'E'.repeat(257))).rejects.toMatchObject({
      name: 'ValidationException',
    });
    expect(host.describeExecution(executionArn).status).toBe('RUNNING');
    await host.sendTaskSuccess(task.taskToken, JSON.stringify({ action: 'x'.repeat(1000) }));
    expect((await host.waitForExecution(executionArn)).status).toBe('SUCCEEDED');
  });

  it('fails with States.DataLimitExceeded, which States.ALL does not catch, for a task result over 256 KiB', async () => {
    let after = 0;
    const host = createHost(
      {
        StartAt: 'Big',
        States: {
          Big: invoke('Big', {
            Retry: [{ ErrorEquals: ['States.ALL'], MaxAttempts: 3 }],
            Catch: [{ ErrorEquals: ['States.ALL'], Next: 'Caught' }],
            Next: 'Done',
          }),
          Caught: invoke('After', { End: true }),
          Done: { Type: 'Succeed' },
        },
      },
      {
        Big: async () => ({ blob: 'x'.repeat(262_144) }),
        After: async () => {
          after += 1;
          return {};
        },
      },
    );
    const result = await run(host);
    expect(result).toMatchObject({ status: 'FAILED', error: 'States.DataLimitExceeded' });
    expect(host.lambdaInvocations(result.executionArn)).toBe(1);
    expect(after).toBe(0);
  });

  it('fails with States.DataLimitExceeded when a state’s output over 256 KiB reaches the next task, before its Lambda runs', async () => {
    let invoked = 0;
    const host = createHost(
      {
        StartAt: 'Grow',
        States: {
          Grow: { Type: 'Pass', Result: 'y'.repeat(200_000), ResultPath: '$.more', Next: 'Reader' },
          Reader: invoke('Reader', { End: true }),
        },
      },
      {
        Reader: async () => {
          invoked += 1;
          return {};
        },
      },
    );
    const result = await run(host, { blob: 'x'.repeat(100_000) });
    expect(result).toMatchObject({ status: 'FAILED', error: 'States.DataLimitExceeded' });
    expect(invoked).toBe(0);

    const last = createHost({
      StartAt: 'Grow',
      States: { Grow: { Type: 'Pass', Result: 'y'.repeat(270_000), End: true } },
    });
    expect(await run(last)).toMatchObject({ status: 'FAILED', error: 'States.DataLimitExceeded' });
    await expect(
      last.startExecution({ input: JSON.stringify({ blob: 'x'.repeat(262_144) }) }),
    ).rejects.toMatchObject({
      name: 'ValidationException',
    });
  });

  it('routes by Not/IsPresent, IsNumeric and NumericGreaterThanEquals without a runtime error on missing values', async () => {
    const guard = {
      StartAt: 'Guard',
      States: {
        Guard: {
          Type: 'Choice',
          Choices: [
            { Not: { Variable: '$.window.seconds', IsPresent: true }, Next: 'Malformed' },
            { Not: { Variable: '$.window.seconds', IsNumeric: true }, Next: 'Malformed' },
            { Variable: '$.window.seconds', NumericGreaterThanEquals: 1, Next: 'Ok' },
          ],
          Default: 'Malformed',
        },
        Malformed: { Type: 'Pass', Result: 'malformed', End: true },
        Ok: { Type: 'Pass', Result: 'ok', End: true },
      },
    };
    const host = createHost(guard);
    const outcomes = [];
    for (const input of [
      {},
      { window: null },
      { window: {} },
      { window: { seconds: '60' } },
      { window: { seconds: 0 } },
      { window: { seconds: 60 } },
    ])
      outcomes.push(parseOutput((await run(host, input)).output));
    expect(outcomes).toEqual(['malformed', 'malformed', 'malformed', 'malformed', 'malformed', 'ok']);
  });
});
