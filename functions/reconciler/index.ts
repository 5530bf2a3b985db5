import { logger } from '../shared/logger';
import { reconciler } from '../shared/runtime';
import { workerHandler } from '../shared/worker-handler';

// Reconciler (EventBridge schedule, every 5 minutes): compares the grants in the store with
// Identity Center, revokes what outlived its request, stops stuck executions, repairs holders
// records, sends the "ends in 10 minutes" DMs. Every action is an audit event (logged as JSON
// with `audit.action`; the "reconciler.orphan-found" metric filter alarms on findings).

export class ReconcilerPassError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ReconcilerPassError';
  }
}

export const handler = workerHandler('Reconciler', async () => {
  const report = await (await reconciler()).run();
  const { errors, ...counts } = report;
  const summary = { ...counts, errorCount: errors.length, errors: errors.slice(0, 20) };
  if (errors.length === 0) {
    logger.info('reconciler pass', { report: summary });
    return summary;
  }
  // One item's error (a throttled call) is retried by the next pass; a pass that could read
  // nothing at all is an outage: fail the invocation so the Errors alarm fires.
  if (counts.requestsChecked + counts.holdersChecked === 0)
    throw new ReconcilerPassError(`Reconciler pass read nothing: ${errors.slice(0, 3).join('; ')}`);
  logger.warn('reconciler pass with errors', { report: summary });
  return summary;
});
