// Which AWS SDK errors are worth retrying: throttling, conflicts, server errors, and the
// network failing under load (a socket timeout surfaces as TimeoutError).

const TRANSIENT_NAMES = new Set([
  'ThrottlingException',
  'ConflictException',
  'InternalServerException',
  'ServiceUnavailableException',
  'TimeoutError',
  'RequestTimeout',
  'RequestTimeoutException',
]);
const TRANSIENT_CODES = new Set(['ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ECONNREFUSED', 'EAI_AGAIN']);

export function isTransientAwsError(error: unknown): error is Error {
  if (!(error instanceof Error)) return false;
  if (TRANSIENT_NAMES.has(error.name)) return true;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && TRANSIENT_CODES.has(code)) return true;
  const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
  return typeof status === 'number' && status >= 500;
}

/** A conditional write that lost (by name: the error may come from another copy of the SDK). */
export function isConditionalFailure(error: unknown): boolean {
  return error instanceof Error && error.name === 'ConditionalCheckFailedException';
}

/** Identity Center (or another AWS API) refused for its rate: the error or one of its causes. */
export function isThrottling(error: unknown): boolean {
  for (let e = error, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++)
    if (e.name === 'ThrottlingException' || e.name === 'TooManyRequestsException') return true;
  return false;
}
