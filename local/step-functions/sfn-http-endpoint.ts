// The Step Functions API over HTTP (AWS JSON 1.0, as @aws-sdk/client-sfn speaks it) in front of a
// LocalStepFunctions host, so product code can run unchanged against `endpoint: <local url>`.
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import { BodyTooLargeError, listen, readBody } from '../http';
import type { ExecutionDescription, ExecutionHistoryEvent, LocalStepFunctions } from './local-step-functions';
import { StepFunctionsServiceError } from './local-step-functions';

const TARGET_PREFIX = 'AWSStepFunctions.';
const CONTENT_TYPE = 'application/x-amz-json-1.0';
const MAX_BODY_BYTES = 1024 * 1024;

type JsonRecord = Record<string, unknown>;
type Operation = (host: LocalStepFunctions, request: JsonRecord) => Promise<JsonRecord> | JsonRecord;

/** AWS JSON protocols carry timestamps as epoch seconds. */
const epochSeconds = (date: Date): number => date.getTime() / 1000;

function requiredString(request: JsonRecord, field: string): string {
  const value = request[field];
  if (typeof value !== 'string' || value.length === 0) {
    throw new StepFunctionsServiceError(
      'ValidationException',
      `1 validation error detected: '${field}' is required`,
    );
  }
  return value;
}

function optionalString(request: JsonRecord, field: string): string | undefined {
  const value = request[field];
  return typeof value === 'string' ? value : undefined;
}

/** Opaque page token: the offset of the next item. */
function page<T>(items: T[], request: JsonRecord): { items: T[]; nextToken?: string } {
  const maxResults =
    typeof request.maxResults === 'number' && request.maxResults > 0 ? request.maxResults : 1000;
  const nextToken = optionalString(request, 'nextToken');
  const start =
    nextToken === undefined ? 0 : Number.parseInt(Buffer.from(nextToken, 'base64url').toString(), 10);
  if (!Number.isInteger(start) || start < 0) {
    throw new StepFunctionsServiceError('InvalidToken', 'Invalid pagination token');
  }
  const end = start + maxResults;
  const result: { items: T[]; nextToken?: string } = { items: items.slice(start, end) };
  if (end < items.length) result.nextToken = Buffer.from(String(end)).toString('base64url');
  return result;
}

function describeBody(description: ExecutionDescription): JsonRecord {
  return {
    executionArn: description.executionArn,
    stateMachineArn: description.stateMachineArn,
    name: description.name,
    status: description.status,
    startDate: epochSeconds(description.startDate),
    stopDate: description.stopDate ? epochSeconds(description.stopDate) : undefined,
    input: description.input,
    inputDetails: { included: true },
    output: description.output,
    outputDetails: description.output === undefined ? undefined : { included: true },
    error: description.error,
    cause: description.cause,
  };
}

/** Maps host history to AWS history event shapes (`TaskStateEntered`, `ExecutionFailed`, …). */
function historyEventBody(event: ExecutionHistoryEvent, previous: number): JsonRecord {
  const body: JsonRecord = {
    id: event.id,
    previousEventId: previous,
    timestamp: epochSeconds(event.timestamp),
  };
  const stateType = event.stateType ?? 'Task';
  const json = (value: unknown) => (value === undefined ? undefined : JSON.stringify(value));
  switch (event.type) {
    case 'ExecutionStarted':
      return {
        ...body,
        type: 'ExecutionStarted',
        executionStartedEventDetails: { input: json(event.input) },
      };
    case 'ExecutionSucceeded':
      return {
        ...body,
        type: 'ExecutionSucceeded',
        executionSucceededEventDetails: { output: json(event.output) },
      };
    case 'ExecutionFailed':
      return {
        ...body,
        type: 'ExecutionFailed',
        executionFailedEventDetails: { error: event.error, cause: event.cause },
      };
    case 'ExecutionAborted':
      return { ...body, type: 'ExecutionAborted', executionAbortedEventDetails: {} };
    case 'ExecutionTimedOut':
      return { ...body, type: 'ExecutionTimedOut', executionTimedOutEventDetails: {} };
    case 'StateEntered':
      return {
        ...body,
        type: `${stateType}StateEntered`,
        stateEnteredEventDetails: { name: event.stateName, input: json(event.input) },
      };
    case 'StateExited':
      return {
        ...body,
        type: `${stateType}StateExited`,
        stateExitedEventDetails: { name: event.stateName, output: json(event.output) },
      };
    case 'StateFailed':
      return {
        ...body,
        type: stateType === 'Task' ? 'TaskFailed' : `${stateType}StateFailed`,
        taskFailedEventDetails: {
          resourceType: 'local',
          resource: event.stateName,
          error: event.error,
          cause: event.cause,
        },
      };
    default:
      return { ...body, type: event.type };
  }
}

const operations: Record<string, Operation> = {
  async StartExecution(host, request) {
    const stateMachineArn = requiredString(request, 'stateMachineArn');
    if (stateMachineArn !== host.stateMachineArn) {
      throw new StepFunctionsServiceError(
        'StateMachineDoesNotExist',
        `State Machine Does Not Exist: '${stateMachineArn}'`,
      );
    }
    const started = await host.startExecution({
      name: optionalString(request, 'name'),
      input: optionalString(request, 'input'),
    });
    return { executionArn: started.executionArn, startDate: epochSeconds(started.startDate) };
  },
  async SendTaskSuccess(host, request) {
    await host.sendTaskSuccess(requiredString(request, 'taskToken'), requiredString(request, 'output'));
    return {};
  },
  async SendTaskFailure(host, request) {
    await host.sendTaskFailure(
      requiredString(request, 'taskToken'),
      optionalString(request, 'error'),
      optionalString(request, 'cause'),
    );
    return {};
  },
  async SendTaskHeartbeat(host, request) {
    await host.sendTaskHeartbeat(requiredString(request, 'taskToken'));
    return {};
  },
  DescribeExecution(host, request) {
    return describeBody(host.describeExecution(requiredString(request, 'executionArn')));
  },
  ListExecutions(host, request) {
    const executions = host.listExecutions({ statusFilter: optionalString(request, 'statusFilter') });
    const { items, nextToken } = page(executions, request);
    return {
      executions: items.map((execution) => ({
        executionArn: execution.executionArn,
        stateMachineArn: execution.stateMachineArn,
        name: execution.name,
        status: execution.status,
        startDate: epochSeconds(execution.startDate),
        stopDate: execution.stopDate ? epochSeconds(execution.stopDate) : undefined,
      })),
      nextToken,
    };
  },
  async StopExecution(host, request) {
    const { stopDate } = await host.stopExecution(
      requiredString(request, 'executionArn'),
      optionalString(request, 'error'),
      optionalString(request, 'cause'),
    );
    return { stopDate: epochSeconds(stopDate) };
  },
  GetExecutionHistory(host, request) {
    const history = host.history(requiredString(request, 'executionArn'));
    const events = history.map((event, index) =>
      historyEventBody(event, index === 0 ? 0 : (history[index - 1]?.id ?? 0)),
    );
    if (request.reverseOrder === true) events.reverse();
    const { items, nextToken } = page(events, request);
    return { events: items, nextToken };
  },
};

function send(response: http.ServerResponse, status: number, body: JsonRecord, errorType?: string): void {
  const text = JSON.stringify(body);
  const headers: http.OutgoingHttpHeaders = {
    'content-type': CONTENT_TYPE,
    'content-length': Buffer.byteLength(text),
    'x-amzn-requestid': randomUUID(),
  };
  if (errorType !== undefined) headers['x-amzn-errortype'] = errorType;
  response.writeHead(status, headers);
  response.end(text);
}

function sendError(response: http.ServerResponse, status: number, code: string, message: string): void {
  send(response, status, { __type: code, message }, code);
}

/** A request listener for `http.createServer`. No authentication: any signature is accepted locally. */
export function createStepFunctionsEndpoint(host: LocalStepFunctions): http.RequestListener {
  return (request, response) => {
    void (async () => {
      const target = request.headers['x-amz-target'];
      const operationName =
        typeof target === 'string' && target.startsWith(TARGET_PREFIX)
          ? target.slice(TARGET_PREFIX.length)
          : '';
      const operation = request.method === 'POST' ? operations[operationName] : undefined;
      try {
        const text = await readBody(request, MAX_BODY_BYTES).catch((error: unknown) => {
          throw error instanceof BodyTooLargeError
            ? new StepFunctionsServiceError('ValidationException', 'Request body too large')
            : error;
        });
        if (!operation) {
          sendError(response, 400, 'UnknownOperationException', `Unknown operation: ${String(target)}`);
          return;
        }
        let parsed: unknown;
        try {
          parsed = text.length === 0 ? {} : JSON.parse(text);
        } catch {
          sendError(response, 400, 'SerializationException', 'Request body is not valid JSON');
          return;
        }
        const body = typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? parsed : {};
        send(response, 200, await operation(host, body as JsonRecord));
      } catch (error) {
        if (error instanceof StepFunctionsServiceError) {
          sendError(response, 400, error.name, error.message);
        } else {
          const message = error instanceof Error ? error.message : String(error);
          sendError(response, 500, 'InternalServerError', message);
        }
      }
    })();
  };
}

/** Starts the endpoint on 127.0.0.1 (port 0 = any free port). */
export async function startStepFunctionsEndpoint(
  host: LocalStepFunctions,
  port = 0,
): Promise<{ url: string; close: () => Promise<void> }> {
  const server = http.createServer(createStepFunctionsEndpoint(host));
  const { url, close } = await listen(server, port);
  return { url, close };
}
