import type { AllMiddlewareArgs, BlockAction, SlackActionMiddlewareArgs } from '@slack/bolt';
import { precheckDecision } from '../../../core/authority';
import type { RequestRecord } from '../../../core/model';
import type { ListenerContext } from '../../deps';
import { decisionText, notAuthorizedText, openForm, parseClick, resolveClick, tell } from '../../interaction';
import { denyReasonModal } from '../../render/modals';

// Approve / Deny (a request or an extension), and the requester's Cancel. The button carries
// only the request id; the decisions function (functions/slack/decision-job.ts) has the core check
// that the clicker is an approver named by policy (or, to cancel, the requester) and that nobody
// decided first. Deny opens its reason form here: the trigger id lives 3 s.

type ClickArgs = SlackActionMiddlewareArgs<BlockAction> & AllMiddlewareArgs;

/** Approve (a request or an extension): acknowledged, then handed to the decisions function. */
export function approveButton(ctx: ListenerContext, kind: 'approve' | 'approve-extension') {
  return async ({ ack, body, client }: ClickArgs) => {
    await ack();
    const click = await parseClick(ctx, client, body);
    if (!click) return;
    await ctx.handoff.submit({
      kind,
      requestId: click.requestId,
      slackUserId: click.userId,
      origin: click.origin,
    });
  };
}

/** "Cancel request" (the requester's Home tab): the decisions function checks it is the requester's, still pending. */
export function cancelButton(ctx: ListenerContext) {
  return async ({ ack, body, client }: ClickArgs) => {
    await ack();
    const click = await parseClick(ctx, client, body);
    if (!click) return;
    await ctx.handoff.submit({
      kind: 'cancel',
      requestId: click.requestId,
      slackUserId: click.userId,
      origin: click.origin,
    });
  };
}

/** A break-glass review (Justified / Flag for follow-up): the decisions function checks the reviewer. */
export function reviewButton(ctx: ListenerContext, verdict: 'justified' | 'flagged') {
  return async ({ ack, body, client }: ClickArgs) => {
    await ack();
    const click = await parseClick(ctx, client, body);
    if (!click) return;
    await ctx.handoff.submit({
      kind: 'review',
      verdict,
      requestId: click.requestId,
      slackUserId: click.userId,
      origin: click.origin,
    });
  };
}

/** Deny first asks why (a modal), after checking the clicker may decide: an outsider gets no form. */
export function denyButton(ctx: ListenerContext, kind: 'request' | 'extension') {
  return async ({ ack, body, client }: ClickArgs) => {
    await ack();
    const click = await resolveClick(ctx, client, body);
    if (!click) return;
    const { userId, origin, requestId } = click;
    const record = await ctx.store.getRequest(requestId);
    // An extension's deciding rule is asked about its requester (the clicker is already resolved).
    if (record && kind === 'extension') await ctx.directory?.forPeople([record.request.requester.email]);
    const check = precheckDecision(ctx.policy, record, click.actor.email, kind);
    if (!check.ok || !record) {
      const reason = check.ok ? 'not-found' : check.reason;
      return tell(ctx, client, userId, origin, refusal(reason, record));
    }
    await openForm(
      ctx,
      client,
      { userId, origin, requestId, triggerId: click.triggerId },
      denyReasonModal(record, JSON.stringify({ requestId, kind, origin }), kind),
      'Deny',
    );
  };
}

export function refusal(
  reason: 'not-found' | 'not-approver' | 'self-approval' | 'no-approval' | 'already-decided',
  record: RequestRecord | undefined,
): string {
  if (reason === 'not-found' || !record) return 'I cannot find this request any more.';
  if (reason === 'already-decided') {
    const by = record.denial?.by ?? record.approvals[record.approvals.length - 1]?.by;
    return (
      decisionText({ kind: 'already-decided', record, ...(by ? { by } : {}) }) ?? 'This was already decided.'
    );
  }
  return notAuthorizedText(reason);
}
