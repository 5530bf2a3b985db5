import type { Context } from 'aws-lambda';
import { errorMessage, errorName } from '../core/errors';
import { logger } from './logger';

// The shape of every worker Lambda: two arguments (newer Node runtimes reject three), the
// request id as correlation id, the outcome logged without the payload (it may hold a task token).

function requestIdOf(event: unknown): string | undefined {
  if (!event || typeof event !== 'object') return undefined;
  const record = event as Record<string, unknown>;
  if (typeof record.requestId === 'string') return record.requestId;
  const request = record.request;
  if (
    request &&
    typeof request === 'object' &&
    typeof (request as Record<string, unknown>).requestId === 'string'
  )
    return (request as Record<string, unknown>).requestId as string;
  return undefined;
}

export function workerHandler<T>(step: string, run: (event: unknown) => Promise<T>) {
  return async (event: unknown, context?: Context): Promise<T> => {
    const requestId = requestIdOf(event);
    logger.resetKeys();
    logger.appendKeys({ step, ...(requestId ? { requestId, correlation_id: requestId } : {}) });
    if (context?.awsRequestId) logger.appendKeys({ lambdaRequestId: context.awsRequestId });
    try {
      const result = await run(event);
      logger.info('step done');
      return result;
    } catch (error) {
      logger.error('step failed', { errorName: errorName(error), errorMessage: errorMessage(error) });
      throw error;
    }
  };
}
