import { AccessError, AuditConflictError, RetryableError } from '../core/errors';
import type { AuditEvent } from '../core/model';
import type { AppendOutcome, AuditLog } from '../core/ports';
import type { InvokeOutput, LambdaInvoke } from './lambda-invoke';
import { isTransientAwsError } from './transient-errors';

// The audit trail as every function but one writes it: a synchronous invocation of the
// audit-writer function, whose role alone may put items in the audit table (and which never
// overwrites one). Reading the trail (the reconciler) goes to the table through `reader`.

export class LambdaAuditLog implements AuditLog {
  constructor(
    private readonly lambda: LambdaInvoke,
    private readonly writerFunction: string,
    private readonly reader?: Pick<AuditLog, 'list'>,
  ) {}

  async append(event: AuditEvent): Promise<AppendOutcome> {
    let response: InvokeOutput;
    try {
      response = await this.lambda.invoke({
        FunctionName: this.writerFunction,
        InvocationType: 'RequestResponse',
        Payload: new TextEncoder().encode(JSON.stringify(event)),
      });
    } catch (error) {
      // Throttled or unavailable writer: the calling step retries (its events come again, same ids).
      if (isTransientAwsError(error) || isLambdaThrottle(error))
        throw new RetryableError(`Audit writer unavailable: ${(error as Error).name}`, { cause: error });
      throw error;
    }
    if (!response.FunctionError) return writerOutcome(response.Payload);
    const failure = parseFailure(response.Payload);
    // Refusals are final: retrying the same event cannot change the answer.
    if (failure.errorType === 'AuditConflictError') throw new AuditConflictError(failure.errorMessage);
    if (failure.errorType === 'AccessError')
      throw new AccessError('audit-event-refused', failure.errorMessage);
    // The writer's own failures (DynamoDB throttling, a timeout) are worth the step's retry.
    throw new RetryableError(`Audit writer failed: ${failure.errorType}: ${failure.errorMessage}`);
  }

  list(requestId: string): Promise<AuditEvent[]> {
    if (!this.reader) throw new Error('This function does not read the audit trail');
    return this.reader.list(requestId);
  }
}

function isLambdaThrottle(error: unknown): boolean {
  return (
    error instanceof Error &&
    ['TooManyRequestsException', 'ServiceException', 'ResourceNotReadyException'].includes(error.name)
  );
}

/** The writer answers `{written: false}` for an event it already had (a retried step's). */
function writerOutcome(payload: Uint8Array | undefined): AppendOutcome {
  try {
    const parsed = JSON.parse(new TextDecoder().decode(payload ?? new Uint8Array())) as { written?: unknown };
    return parsed?.written === false ? 'duplicate' : 'written';
  } catch {
    return 'written';
  }
}

function parseFailure(payload: Uint8Array | undefined): { errorType: string; errorMessage: string } {
  try {
    const parsed = JSON.parse(new TextDecoder().decode(payload ?? new Uint8Array())) as {
      errorType?: unknown;
      errorMessage?: unknown;
    };
    return {
      errorType: typeof parsed.errorType === 'string' ? parsed.errorType : 'Error',
      errorMessage: typeof parsed.errorMessage === 'string' ? parsed.errorMessage : '',
    };
  } catch {
    return { errorType: 'Error', errorMessage: 'unreadable error payload' };
  }
}
