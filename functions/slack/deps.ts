import type { RequestDecisions } from '../core/decisions';
import type { Policy } from '../core/policy';
import type { Clock, Ids, Notifier, RequestStore, UserDirectory, Workflow } from '../core/ports';
import type { SlackPeople } from './people';

/** What the Slack app needs from the rest of the product; tests and the sandbox inject their own. */
export interface SlackAppDeps {
  policy: Policy;
  store: RequestStore;
  decisions: RequestDecisions;
  workflow: Workflow;
  /** Identity Center users by email. */
  users: UserDirectory;
  clock: Clock;
  /**
   * Not used for request ids: those derive from the submitted modal's view id so a retried
   * submission names the same execution (core/request-form.ts requestIdForView).
   */
  ids?: Ids;
  /** Re-renders the approval message right after a deny or an extension decision (the workflow does it too, later). */
  notifier?: Notifier;
}

/** What every listener gets: the dependencies plus per-container caches. */
export interface ListenerContext extends SlackAppDeps {
  people: SlackPeople;
}
