import { offersBreakGlass } from './break-glass';
import { groupOptionsFor, type Policy } from './policy';
import { startDaysAheadFor } from './request-form';
import { moreAccountsAllowed } from './request-set';
import { type TicketPrompt, ticketPromptFor } from './ticket';

// What the request form offers one person, from the rules they are a requester of: asked when the
// form opens (/request-access, the Home tab's button) and again as they pick (narrowed then to the
// account, permission set and duration picked so far).

export interface FormOffer {
  /** What the rules that could decide ask of the ticket reference; undefined: nothing. */
  ticket: TicketPrompt | undefined;
  /** The break-glass choice (a requester of a break-glass rule). */
  breakGlass: boolean;
  /** A later start, up to this many days ahead; undefined: none of their rules allows one. */
  startDaysAhead: number | undefined;
  /** How many accounts beyond the first (0: no "more accounts" menu). */
  moreAccounts: number;
  /** Groups to join offered in the account menu (group access). */
  groups: boolean;
}

export function formOfferFor(
  policy: Policy,
  requesterEmail: string,
  picked: {
    accountId?: string | undefined;
    permissionSet?: string | undefined;
    durationMinutes?: number | undefined;
  } = {},
): FormOffer {
  return {
    ticket: ticketPromptFor(policy, requesterEmail, picked),
    breakGlass: offersBreakGlass(policy, requesterEmail),
    startDaysAhead: startDaysAheadFor(policy, requesterEmail),
    moreAccounts: moreAccountsAllowed(policy, requesterEmail, picked),
    groups: groupOptionsFor(policy, requesterEmail).length > 0,
  };
}
