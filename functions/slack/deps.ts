import type { OrgTrail } from '../core/activity-query';
import type { DirectoryRefresh } from '../core/directory';
import type { Policy } from '../core/policy';
import type { Clock, RequestReader, SessionDurations, UserDirectory, Workflow } from '../core/ports';
import type { SessionDurationCache } from '../core/session-exposure';
import type { DecisionHandoff } from './decision-job';
import type { SlackPeople } from './people';

/** What the Slack app needs from the rest of the product; tests and the sandbox inject their own. */
export interface SlackAppDeps {
  policy: Policy;
  /** Read-only here: the Slack function's role may read requests, never write state. */
  store: RequestReader;
  /** Where decision clicks go once acknowledged (the decisions function). */
  handoff: DecisionHandoff;
  /** Starts executions; completing task tokens is the decisions function's. */
  workflow: Pick<Workflow, 'start'>;
  /** Identity Center users by email. */
  users: UserDirectory;
  clock: Clock;
  /** Brings the policy's directory groups up to date before a listener asks about the person acting. */
  directory?: DirectoryRefresh;
  /** The organization trail's Athena table, if the deployment names one: the Home tab gives each ended grant's query. */
  orgTrail?: OrgTrail;
  /**
   * Permission sets' session durations (DescribePermissionSet), for the request form's line on how
   * long sessions outlive the window; without it the line is shown only for the permission sets
   * that end sessions at revoke.
   */
  sessionDurations?: SessionDurations;
}

/** What every listener gets: the dependencies plus per-container caches. */
export interface ListenerContext extends SlackAppDeps {
  people: SlackPeople;
  /** `sessionDurations` behind a per-container cache (core/session-exposure.ts). */
  sessions?: SessionDurationCache;
}
