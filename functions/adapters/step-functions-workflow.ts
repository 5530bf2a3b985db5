import {
  DescribeExecutionCommand,
  SendTaskFailureCommand,
  SendTaskSuccessCommand,
  type SFNClient,
  StartExecutionCommand,
  StopExecutionCommand,
} from '@aws-sdk/client-sfn';
import type { ExecutionInput } from '../core/model';
import type { TaskSignalResult, Workflow } from '../core/ports';

// The access-request state machine through Step Functions. One execution per request, named
// after the request id, so a double submit starts one execution. Starting is a class of its own:
// it is all the Slack function does, and its bundle then leaves the other commands out.

const GONE = new Set(['TaskDoesNotExist', 'TaskTimedOut', 'InvalidToken']);

export class StepFunctionsExecutions implements Pick<Workflow, 'start'> {
  constructor(
    protected readonly client: SFNClient,
    private readonly stateMachineArn: string,
  ) {}

  executionArn(requestId: string): string {
    // arn:aws:states:<region>:<account>:stateMachine:<name> → …:execution:<name>:<execution>
    return `${this.stateMachineArn.replace(':stateMachine:', ':execution:')}:${requestId}`;
  }

  async start(input: ExecutionInput): Promise<{ executionArn: string; alreadyStarted: boolean }> {
    try {
      const result = await this.client.send(
        new StartExecutionCommand({
          stateMachineArn: this.stateMachineArn,
          name: input.request.requestId,
          input: JSON.stringify(input),
        }),
      );
      return {
        executionArn: result.executionArn ?? this.executionArn(input.request.requestId),
        alreadyStarted: false,
      };
    } catch (error) {
      if (error instanceof Error && error.name === 'ExecutionAlreadyExists') {
        return { executionArn: this.executionArn(input.request.requestId), alreadyStarted: true };
      }
      throw error;
    }
  }
}

export class StepFunctionsWorkflow extends StepFunctionsExecutions implements Workflow {
  private async signal(send: () => Promise<unknown>): Promise<TaskSignalResult> {
    try {
      await send();
      return 'sent';
    } catch (error) {
      if (error instanceof Error && GONE.has(error.name)) return 'expired';
      throw error;
    }
  }

  sendSuccess(taskToken: string, output: Record<string, unknown>): Promise<TaskSignalResult> {
    return this.signal(() =>
      this.client.send(new SendTaskSuccessCommand({ taskToken, output: JSON.stringify(output) })),
    );
  }

  sendFailure(taskToken: string, error: string, cause: string): Promise<TaskSignalResult> {
    return this.signal(() => this.client.send(new SendTaskFailureCommand({ taskToken, error, cause })));
  }

  async stop(requestId: string, cause: string): Promise<void> {
    try {
      await this.client.send(new StopExecutionCommand({ executionArn: this.executionArn(requestId), cause }));
    } catch (error) {
      if (error instanceof Error && error.name === 'ExecutionDoesNotExist') return;
      throw error;
    }
  }

  async isRunning(requestId: string): Promise<boolean> {
    try {
      const result = await this.client.send(
        new DescribeExecutionCommand({ executionArn: this.executionArn(requestId) }),
      );
      return result.status === 'RUNNING';
    } catch (error) {
      if (error instanceof Error && error.name === 'ExecutionDoesNotExist') return false;
      throw error;
    }
  }
}
