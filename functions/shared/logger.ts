import { Logger } from '@aws-lambda-powertools/logger';
import { errorMessage, errorName } from '../core/errors';

// One structured JSON logger for every function. Events are never logged whole: Slack payloads
// carry user data and task tokens.
export const logger = new Logger({ serviceName: 'jit-access' });

/** A Slack message that could not be sent after the fact it reports was stored: logged, never thrown. */
export function notificationNotSent(what: string, error: unknown): void {
  logger.warn('notification not sent', {
    what,
    errorName: errorName(error),
    errorMessage: errorMessage(error),
  });
}

/** A directory group answered from the cache because the directory failed, or does not exist. */
export function directoryAnswerStale(selector: string, error: unknown): void {
  logger.warn('directory group not read', {
    selector,
    errorName: errorName(error),
    errorMessage: errorMessage(error),
  });
}
