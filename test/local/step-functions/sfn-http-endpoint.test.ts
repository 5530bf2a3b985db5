import {
  DescribeExecutionCommand,
  ExecutionAlreadyExists,
  ExecutionDoesNotExist,
  GetExecutionHistoryCommand,
  InvalidToken,
  ListExecutionsCommand,
  SendTaskFailureCommand,
  SendTaskHeartbeatCommand,
  SendTaskSuccessCommand,
  SFNClient,
  StartExecutionCommand,
  StopExecutionCommand,
  TaskDoesNotExist,
  TaskTimedOut,
} from '@aws-sdk/client-sfn';
import { AWS_CALLS, awsClientConfig } from '../../../functions/shared/clients';
import type { LocalStepFunctions } from '../../../local/step-functions/local-step-functions';
import { startStepFunctionsEndpoint } from '../../../local/step-functions/sfn-http-endpoint';
import { createHost, nextWaitingTask, shutdownHosts } from './helpers';

const definition = {
  StartAt: 'Approve',
  States: {
    Approve: {
      Type: 'Task',
      Resource: 'arn:aws:states:::lambda:invoke.waitForTaskToken',
      Parameters: {
        FunctionName: `\${Notify}`,
        Payload: { 'taskToken.$': '$$.Task.Token', 'request.$': '$.request' },
      },
      TimeoutSecondsPath: '$.timeoutSeconds',
      Catch: [{ ErrorEquals: ['Rejected'], ResultPath: '$.rejection', Next: 'Rejected' }],
      ResultPath: '$.approval',
      End: true,
    },
    Rejected: { Type: 'Fail', Error: 'Rejected', Cause: 'The approver rejected the request' },
  },
};

let host: LocalStepFunctions;
let endpoint: { url: string; close: () => Promise<void> };
let client: SFNClient;

beforeEach(async () => {
  host = createHost(definition, { Notify: async () => ({}) });
  endpoint = await startStepFunctionsEndpoint(host);
  client = new SFNClient({
    endpoint: endpoint.url,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    ...awsClientConfig(AWS_CALLS.stepFunctions),
  });
});

afterEach(async () => {
  client.destroy();
  await endpoint.close();
  await shutdownHosts();
});

async function start(name: string, input: object) {
  const waiting = nextWaitingTask(host);
  const started = await client.send(
    new StartExecutionCommand({ stateMachineArn: host.stateMachineArn, name, input: JSON.stringify(input) }),
  );
  return { started, task: await waiting };
}

describe('Step Functions HTTP endpoint with @aws-sdk/client-sfn', () => {
  it('starts, heartbeats, completes and describes an execution', async () => {
    const { started, task } = await start('req-1', { request: 'r-1', timeoutSeconds: 100_000 });
    expect(started.executionArn).toBe('arn:aws:states:us-east-1:000000000000:execution:access-request:req-1');
    expect(started.startDate).toBeInstanceOf(Date);

    const running = await client.send(new DescribeExecutionCommand({ executionArn: started.executionArn }));
    expect(running.status).toBe('RUNNING');

    await client.send(new SendTaskHeartbeatCommand({ taskToken: task.taskToken }));
    await client.send(new SendTaskSuccessCommand({ taskToken: task.taskToken, output: '{"approver":"U1"}' }));
    await host.waitForExecution(started.executionArn ?? '');

    const done = await client.send(new DescribeExecutionCommand({ executionArn: started.executionArn }));
    expect(done.status).toBe('SUCCEEDED');
    expect(JSON.parse(done.output ?? 'null')).toEqual({
      request: 'r-1',
      timeoutSeconds: 100_000,
      approval: { approver: 'U1' },
    });
    expect(done.startDate).toBeInstanceOf(Date);
    expect(done.stopDate).toBeInstanceOf(Date);
    expect(Math.abs((done.startDate?.getTime() ?? 0) - Date.now())).toBeLessThan(60_000);

    const history = await client.send(new GetExecutionHistoryCommand({ executionArn: started.executionArn }));
    expect(history.events?.map((event) => event.type)).toEqual([
      'ExecutionStarted',
      'TaskStateEntered',
      'TaskStateExited',
      'ExecutionSucceeded',
    ]);
    expect(history.events?.[1]?.stateEnteredEventDetails?.name).toBe('Approve');
  });

  it('raises the SDK exception classes for service errors', async () => {
    const { started, task } = await start('req-2', { request: 'r-2', timeoutSeconds: 100_000 });

    await expect(
      client.send(
        new StartExecutionCommand({ stateMachineArn: host.stateMachineArn, name: 'req-2', input: '{}' }),
      ),
    ).rejects.toBeInstanceOf(ExecutionAlreadyExists);
    // Same name and input while running: idempotent.
    const again = await client.send(
      new StartExecutionCommand({
        stateMachineArn: host.stateMachineArn,
        name: 'req-2',
        input: JSON.stringify({ request: 'r-2', timeoutSeconds: 100_000 }),
      }),
    );
    expect(again.executionArn).toBe(started.executionArn);

    await client.send(
      new SendTaskFailureCommand({ taskToken: task.taskToken, error: 'Rejected', cause: 'no' }),
    );
    const failed = await host.waitForExecution(started.executionArn ?? '');
    expect(failed).toMatchObject({ status: 'FAILED', error: 'Rejected' });

    await expect(
      client.send(new SendTaskSuccessCommand({ taskToken: task.taskToken, output: '{}' })),
    ).rejects.toBeInstanceOf(TaskTimedOut);
    await expect(
      client.send(new SendTaskSuccessCommand({ taskToken: `${'A'.repeat(43)}.QQ`, output: '{}' })),
    ).rejects.toBeInstanceOf(TaskDoesNotExist);
    await expect(
      client.send(new SendTaskSuccessCommand({ taskToken: 'garbage', output: '{}' })),
    ).rejects.toBeInstanceOf(InvalidToken);
    await expect(
      client.send(new DescribeExecutionCommand({ executionArn: `${started.executionArn}-missing` })),
    ).rejects.toBeInstanceOf(ExecutionDoesNotExist);
  });

  it('reports TaskTimedOut for a token whose task timed out, and stops and lists executions', async () => {
    const { started: expired, task } = await start('req-3', { request: 'r-3', timeoutSeconds: 5 });
    expect((await host.waitForExecution(expired.executionArn ?? '')).status).toBe('FAILED');
    await expect(
      client.send(new SendTaskSuccessCommand({ taskToken: task.taskToken, output: '{}' })),
    ).rejects.toBeInstanceOf(TaskTimedOut);

    const { started: running } = await start('req-4', { request: 'r-4', timeoutSeconds: 100_000 });
    const listed = await client.send(
      new ListExecutionsCommand({ stateMachineArn: host.stateMachineArn, statusFilter: 'RUNNING' }),
    );
    expect(listed.executions?.map((execution) => execution.name)).toEqual(['req-4']);

    const stopped = await client.send(
      new StopExecutionCommand({ executionArn: running.executionArn, error: 'Operator', cause: 'test' }),
    );
    expect(stopped.stopDate).toBeInstanceOf(Date);
    const described = await client.send(new DescribeExecutionCommand({ executionArn: running.executionArn }));
    expect(described).toMatchObject({ status: 'ABORTED', error: 'Operator', cause: 'test' });
  });

  it('answers unknown operations with 400 UnknownOperationException', async () => {
    const response = await fetch(endpoint.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-amz-json-1.0',
        'x-amz-target': 'AWSStepFunctions.CreateStateMachine',
      },
      body: '{}',
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ __type: 'UnknownOperationException' });
  });
});
