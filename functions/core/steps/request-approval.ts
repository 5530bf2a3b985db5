import * as z from 'zod/mini';
import { AccessError, DecidedBeforeAskedError, RequestCancelledError } from '../errors';
import { EDITS } from '../lifecycle';
import type { RequestRecord, RequestStatus } from '../model';
import { keepApprovalCopy } from '../optimistic';
import { approversFor, findRule } from '../policy';
import { asksThroughLead, setLeadOf } from '../request-set';
import { parseInput, StepBase, SYSTEM } from './base';

/** What RequestApproval fails its task with when the request was decided before it was posted. */
const DECIDED_BEFORE_ASKED: Partial<Record<RequestStatus, (requestId: string) => Error>> = {
  CANCELLED: (id) => new RequestCancelledError(id),
  DENIED: (id) => new DecidedBeforeAskedError(id, 'denied'),
  APPROVED: (id) => new DecidedBeforeAskedError(id, 'approved'),
};

export class RequestApprovalStep extends StepBase {
  /** RequestApproval (callback): keeps the task token server-side and asks the approvers. */
  async requestApproval(input: unknown): Promise<void> {
    const { taskToken, requestId } = parseInput(
      z.object({ taskToken: z.string().check(z.minLength(1)), requestId: z.string().check(z.minLength(1)) }),
      input,
      'RequestApproval',
    );
    const { store, policy, notifier, audit } = this.deps;
    await this.requireRequest(requestId); // only a stored request gets a token
    // The token is stored before anyone is asked, so the first click always finds it.
    await store.putTaskToken(requestId, 'approval', taskToken);
    // Read after the token is stored: a cancellation (from the Home tab, while the post waited
    // for its channel slot) stores its status before it takes the token, so either it found this
    // token and failed the task, or this read sees it; then nobody is asked and this task fails
    // as the click would have failed it.
    const record = await this.requireRequest(requestId);
    if (record.approvalMessage) return; // a retry: the approvers were already asked
    // Decided (from the Home tab) before anyone was asked: whoever takes the token completes the
    // task. Taken here, the task fails with the decision's name (the state machine routes it as a
    // click's signal); taken by the decision, its signal completes the task and this run ends.
    const decided = DECIDED_BEFORE_ASKED[record.status];
    if (decided) {
      if (await store.takeTaskToken(requestId, 'approval')) throw decided(requestId);
      return;
    }
    const rule = record.ruleName ? findRule(policy, record.ruleName) : undefined;
    if (!rule)
      throw new AccessError(
        'rule-gone',
        `Rule ${record.ruleName} of request ${requestId} is no longer in the policy`,
      );
    await this.directory.all();
    const approvers = approversFor(policy, rule, record.request.requester.email);
    const lead = setLeadOf(record.request);
    await audit.record(
      requestId,
      'approval.requested',
      SYSTEM,
      'info',
      {
        approvers: approvers.join(','),
        required: record.approvalsRequired ?? 1,
        ...(record.request.set ? { set: lead, accounts: record.request.set.members.length } : {}),
      },
      { step: 'request-approval' },
    );
    // One of a set: its token is kept for the set's decision, and the lead's message asks for
    // all (shown with this account from now on, if it was posted before this member was stored).
    if (asksThroughLead(record.request)) {
      await this.bestEffort('set message', () => notifier.updateRequestMessages(record));
      return;
    }
    // The first message kept wins: a concurrent run (which asked too) does not replace it.
    await this.askApprovers(record, () =>
      notifier.requestApproval(
        record,
        approvers,
        async (message) => {
          const kept = await store.updateRequest(
            requestId,
            EDITS.approvalMessage,
            { approvalMessage: message },
            (current) => !current.approvalMessage,
          );
          // Refused when it was decided meanwhile (cancelled by its requester since the read
          // above): the notifier then shows this message as decided at once, and DMs nobody.
          return kept.ok ? kept.value : kept.current;
        },
        // Each approver's DM, so every later re-render reaches it too.
        (copy) => keepApprovalCopy(store, requestId, copy),
      ),
    );
  }

  /**
   * Posts the approval request; an approval channel that cannot take it (the app not invited,
   * the channel archived or gone) is audited and alerted before the step fails with Slack's
   * reason named, so the requester is told why (Finish: rejected) and an admin sees it at first
   * use, not when someone wonders why nobody approves.
   */
  private async askApprovers(record: RequestRecord, ask: () => Promise<void>): Promise<void> {
    try {
      await ask();
    } catch (error) {
      if (!(error instanceof AccessError) || error.code !== 'approval-channel-unusable') throw error;
      const requestId = record.request.requestId;
      await this.deps.audit.record(
        requestId,
        'approval.channel-unusable',
        SYSTEM,
        'failure',
        { failureReason: error.message },
        { step: 'request-approval' },
      );
      await this.bestEffort('channel alert', () => this.deps.notifier.alert(error.message, record));
      throw error;
    }
  }
}
