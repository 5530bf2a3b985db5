import type { WebClient } from '@slack/web-api';
import * as z from 'zod/mini';
import type { SlackWebApi } from '../adapters/slack-web-api';
import { isApproverOf } from '../core/authority';
import { mayReview } from '../core/break-glass';
import type {
  Actor,
  DecisionOutcome,
  RequestDecisions,
  SetWindowOutcome,
  WindowOutcome,
} from '../core/decisions';
import { pendingExtensionOf } from '../core/extensions';
import type { RequestRecord } from '../core/model';
import { logger } from '../shared/logger';
import type { ListenerContext } from './deps';
import { slackErrorCode } from './people';
import { homeView } from './render/home';
import { escapeText, slackTime } from './render/messages';

// What listeners share: payload shapes (parsed, never trusted), where a click came from, how to
// answer the person there, and the Home tab.

/** What answering a person and drawing their Home tab needs (the Slack and decisions functions both do). */
export type AnswerContext = Pick<
  ListenerContext,
  'policy' | 'store' | 'clock' | 'people' | 'orgTrail' | 'directory'
>;
/** What the decisions function carries out a click with (functions/slack/decision-job.ts). */
/** The core re-renders the request's messages on every decision; the job answers the person who clicked. */
export type DecisionContext = AnswerContext & { decisions: RequestDecisions };

export const slackUserIdSchema = z.string().check(z.regex(/^[UW][A-Z0-9]{2,30}$/));
export const requestIdValue = z.string().check(z.regex(/^[A-Za-z0-9_-]{6,64}$/));

/** A button click (block_actions) as far as the app reads it. */
export const buttonClickSchema = z.object({
  type: z.literal('block_actions'),
  user: z.object({ id: slackUserIdSchema }),
  trigger_id: z.optional(z.string().check(z.minLength(1), z.maxLength(200))),
  actions: z
    .array(z.object({ action_id: z.string().check(z.maxLength(255)), value: requestIdValue }))
    .check(z.minLength(1), z.maxLength(1)),
  channel: z.optional(z.object({ id: z.string().check(z.minLength(1), z.maxLength(30)) })),
  message: z.optional(z.object({ ts: z.string().check(z.minLength(1), z.maxLength(30)) })),
  view: z.optional(
    z.object({ id: z.string().check(z.maxLength(50)), type: z.string().check(z.maxLength(20)) }),
  ),
  // Where to answer the clicker (https://docs.slack.dev/interactivity/handling-user-interaction#message_responses).
  response_url: z.optional(z.string().check(z.maxLength(500))),
});
export type ButtonClick = z.infer<typeof buttonClickSchema>;

/**
 * Where a click came from: a message (channel or DM; with the click's response_url when Slack
 * sent one), the Home tab, or somewhere else (answer by DM).
 */
export type Origin =
  | { kind: 'message'; channel: string; ts: string; responseUrl?: string }
  | { kind: 'home' }
  | { kind: 'dm' };
export const originSchema: z.ZodMiniType<Origin> = z.union([
  z.object({
    kind: z.literal('message'),
    channel: z.string().check(z.maxLength(30)),
    ts: z.string().check(z.maxLength(30)),
    responseUrl: z.optional(z.string().check(z.maxLength(500))),
  }),
  z.object({ kind: z.literal('home') }),
  z.object({ kind: z.literal('dm') }),
]);

export function originOf(click: Pick<ButtonClick, 'channel' | 'message' | 'view' | 'response_url'>): Origin {
  if (click.channel && click.message)
    return {
      kind: 'message',
      channel: click.channel.id,
      ts: click.message.ts,
      ...(click.response_url ? { responseUrl: click.response_url } : {}),
    };
  if (click.view?.type === 'home') return { kind: 'home' };
  return { kind: 'dm' };
}

/**
 * Opens a button's form with the click's trigger id (it lives 3 s); a click without one, or a
 * Slack too slow to open it, is told to click `button` again.
 */
export async function openForm(
  ctx: AnswerContext,
  client: WebClient,
  click: { userId: string; origin: Origin; requestId: string; triggerId: string | undefined },
  view: Parameters<WebClient['views']['open']>[0]['view'],
  button: string,
): Promise<void> {
  const { userId, origin, requestId, triggerId } = click;
  if (!triggerId)
    return tell(ctx, client, userId, origin, `Slack sent no trigger id; click ${button} again.`);
  try {
    await client.views.open({ trigger_id: triggerId, view });
  } catch (error) {
    logger.warn('views.open failed', { slackError: slackErrorCode(error), requestId });
    await tell(
      ctx,
      client,
      userId,
      origin,
      `Slack took too long to open the form; please click ${button} again.`,
    );
  }
}

/**
 * Tells one person something where they acted: under the message through the click's
 * response_url, on their Home tab, or else by DM. Not chat.postEphemeral: Slack does not
 * guarantee to show it (and refuses it in a channel the person is not in), where a reply to the
 * click's own response_url is shown to the clicker.
 */
export async function tell(
  ctx: AnswerContext,
  client: SlackWebApi,
  userId: string,
  origin: Origin,
  text: string,
): Promise<void> {
  try {
    if (origin.kind === 'message' && origin.responseUrl) {
      await replyToClick(client, origin.responseUrl, text);
      return;
    }
    if (origin.kind === 'home') {
      await publishHome(ctx, client, userId, text);
      return;
    }
  } catch (error) {
    logger.warn('could not answer in place; sending a DM', { slackError: slackErrorCode(error) });
  }
  await client.chat.postMessage({ channel: userId, text });
}

/** How long a response_url reply may take: the job's answer, not worth a Lambda's minutes. */
const RESPONSE_URL_TIMEOUT_MS = 3000;

/**
 * An ephemeral reply to the clicker through the click's response_url (valid 30 minutes, 5 uses:
 * https://docs.slack.dev/interactivity/handling-user-interaction#message_responses). Posted with
 * fetch: WebClient has no call for it, and Bolt's `respond` lives only in the Slack function's
 * listener, not in the decisions function that answers. Only a URL on Slack's hooks host, or on
 * the API host this client already talks to (the sandbox's stand-in), is posted to: the URL came
 * in a job, and a job must not make the function call anywhere else.
 */
export async function replyToClick(client: SlackWebApi, responseUrl: string, text: string): Promise<void> {
  if (!isResponseUrlFor(client, responseUrl)) throw new Error('response_url is not Slack’s');
  const response = await fetch(responseUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ response_type: 'ephemeral', replace_original: false, text }),
    signal: AbortSignal.timeout(RESPONSE_URL_TIMEOUT_MS),
  });
  if (!response.ok) throw new Error(`response_url answered ${response.status}`);
}

function isResponseUrlFor(client: SlackWebApi, responseUrl: string): boolean {
  let url: URL;
  try {
    url = new URL(responseUrl);
  } catch {
    return false;
  }
  if (url.protocol === 'https:' && url.hostname === 'hooks.slack.com') return true;
  return url.origin === new URL(client.slackApiUrl).origin;
}

/** The acting person as the core knows them (email from Slack), or a message saying why not. */
export async function actorOf(
  ctx: AnswerContext,
  client: SlackWebApi,
  userId: string,
): Promise<{ ok: true; actor: Actor } | { ok: false; message: string }> {
  const lookup = await ctx.people.emailOf(client, userId);
  return lookup.ok ? { ok: true, actor: { email: lookup.email, slackUserId: userId } } : lookup;
}

export interface ParsedClick {
  userId: string;
  origin: Origin;
  requestId: string;
  triggerId: string | undefined;
}

export interface ResolvedClick extends ParsedClick {
  actor: Actor;
}

/**
 * The common start of every button listener: parse the click. When it does not parse, the
 * person is told here and undefined comes back: nothing else is done.
 */
export async function parseClick(
  ctx: AnswerContext,
  client: SlackWebApi,
  body: unknown,
): Promise<ParsedClick | undefined> {
  const click = buttonClickSchema.safeParse(body);
  if (!click.success) {
    logger.warn('malformed button payload');
    const userId = (body as { user?: { id?: unknown } })?.user?.id;
    if (typeof userId === 'string' && /^[UW][A-Z0-9]{2,30}$/.test(userId))
      await tell(
        ctx,
        client,
        userId,
        { kind: 'dm' },
        'That button did not carry a valid request; nothing was changed.',
      );
    return undefined;
  }
  return {
    userId: click.data.user.id,
    origin: originOf(click.data),
    requestId: click.data.actions[0]?.value ?? '',
    triggerId: click.data.trigger_id,
  };
}

/** `parseClick`, then who clicked (their email from Slack); the person is answered when either fails. */
export async function resolveClick(
  ctx: AnswerContext,
  client: SlackWebApi,
  body: unknown,
): Promise<ResolvedClick | undefined> {
  const click = await parseClick(ctx, client, body);
  if (!click) return undefined;
  const who = await actorOf(ctx, client, click.userId);
  if (!who.ok) {
    await tell(ctx, client, click.userId, click.origin, who.message);
    return undefined;
  }
  return { ...click, actor: who.actor };
}

const NOT_AUTHORIZED: Record<'not-approver' | 'self-approval' | 'no-approval' | 'not-requester', string> = {
  'not-approver': 'You are not an approver for this request.',
  'self-approval': 'You cannot approve or deny your own request.',
  'no-approval': 'This request does not take approvals.',
  'not-requester': 'Only the requester can cancel this request.',
};

function decidedBy(record: RequestRecord, by: string | undefined): string {
  const verb =
    record.status === 'DENIED'
      ? 'denied'
      : record.status === 'CANCELLED'
        ? 'cancelled'
        : record.status === 'PENDING_APPROVAL'
          ? 'answered'
          : record.status === 'REJECTED'
            ? 'rejected'
            : 'approved';
  return `This request was already ${verb}${by ? ` by ${by}` : ''}.`;
}

/** What the person who clicked is told for each outcome (undefined: the updated message says it all). */
/** What "End all" / "Extend all" did, one line per account (each account's own answer). */
export function setWindowText(outcome: SetWindowOutcome): string {
  return outcome.results
    .map(({ account, outcome: each }) => `• ${escapeText(account)}: ${decisionText(each) ?? 'done.'}`)
    .join('\n');
}

export function decisionText(outcome: DecisionOutcome | WindowOutcome): string | undefined {
  switch (outcome.kind) {
    case 'approved':
      return undefined;
    case 'approval-recorded':
      return `Your approval is recorded; ${outcome.remaining} more needed.`;
    case 'denied':
      return 'Request denied; the requester has been told.';
    case 'cancelled':
      return 'Request cancelled: nothing will be granted, and the approvers’ messages say so.';
    case 'not-found':
      return 'I cannot find this request any more.';
    case 'not-authorized':
      return NOT_AUTHORIZED[outcome.reason];
    case 'already-decided':
      return decidedBy(outcome.record, outcome.by);
    case 'expired':
      return 'This request expired before it was decided.';
    case 'set-incomplete':
      return `This request is still being put together (${outcome.missing} of its accounts not ready yet): please click again in a moment.`;
    case 'ended':
      return 'Ending your access now. I will message you when it is revoked.';
    case 'extended':
      return `Extended: access now lasts until ${slackTime(outcome.expiresAt)}.`;
    case 'extension-needs-approval':
      return 'Extension requested; the approvers have been asked.';
    case 'not-allowed':
      return outcome.reason;
    case 'end-requested':
      return 'Still being granted: it ends as soon as it is granted. I will message you when it is revoked.';
    case 'not-active':
      // Approved and waiting for its scheduled start: nothing to end yet, the request can be cancelled.
      return outcome.record.status === 'APPROVED'
        ? 'Not started yet, so not ended: cancel the request instead.'
        : 'This access is not active any more.';
  }
}

export function notAuthorizedText(reason: keyof typeof NOT_AUTHORIZED): string {
  return NOT_AUTHORIZED[reason];
}

const HOME_SCAN_LIMIT = 200;
const PENDING_STATUSES = new Set(['PENDING_APPROVAL', 'APPROVED', 'GRANTING']);

/** Builds and publishes one person's Home tab. */
export async function publishHome(
  ctx: AnswerContext,
  client: SlackWebApi,
  userId: string,
  notice?: string,
): Promise<void> {
  const lookup = await ctx.people.emailOf(client, userId);
  const mine = await ctx.store.listByRequester(userId, 50);
  let toApprove: RequestRecord[] = [];
  let extensionsToApprove: RequestRecord[] = [];
  let reviewsToDo: RequestRecord[] = [];
  if (lookup.ok) {
    // The viewer's own groups decide what they may approve and review: refreshed like a click's.
    await ctx.directory?.forPeople([lookup.email]);
    const [pending, active, unreviewed] = await Promise.all([
      // The newest 200 of each: a Home tab holds 100 blocks at most anyway.
      ctx.store.listByStatus('PENDING_APPROVAL', HOME_SCAN_LIMIT),
      ctx.store.listByStatus('ACTIVE', HOME_SCAN_LIMIT),
      ctx.store.listPendingReviews(HOME_SCAN_LIMIT),
    ]);
    reviewsToDo = unreviewed.filter((r) => mayReview(ctx.policy, r, lookup.email).ok);
    toApprove = pending.filter((r) => isApproverOf(ctx.policy, r, lookup.email));
    // An extension is decided by the rule of its new total, which asks about its requester.
    await ctx.directory?.forPeople(
      active.filter((r) => pendingExtensionOf(r)).map((r) => r.request.requester.email),
    );
    // Under the rule that decides each pending extension, not the request's own.
    extensionsToApprove = active.filter((r) => isApproverOf(ctx.policy, r, lookup.email, 'extension'));
  }
  await client.views.publish({
    user_id: userId,
    view: homeView({
      notice: notice ?? (lookup.ok ? undefined : lookup.message),
      active: mine.filter((r) => r.status === 'ACTIVE'),
      pending: mine.filter((r) => PENDING_STATUSES.has(r.status)),
      toApprove,
      extensionsToApprove,
      reviewsToDo,
      ...(ctx.orgTrail
        ? { ended: mine.filter((r) => r.status === 'REVOKED' && r.windowStartedAt), orgTrail: ctx.orgTrail }
        : {}),
      now: ctx.clock.now(),
    }),
  });
}

/** Private metadata of a modal: JSON, checked on the way back in. */
export function readMetadata<T>(schema: z.ZodMiniType<T>, text: unknown): T | undefined {
  if (typeof text !== 'string' || text.length > 3000) return undefined;
  try {
    const parsed = schema.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}
