import { Logger } from '@aws-lambda-powertools/logger';

// One structured JSON logger for every function. Events are never logged whole: Slack payloads
// carry user data and task tokens.
export const logger = new Logger({ serviceName: 'jit-access' });
