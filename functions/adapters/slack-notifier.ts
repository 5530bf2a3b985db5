import type { KnownBlock } from '@slack/web-api';
import type { OrgTrail } from '../core/activity-query';
import { AccessError, errorMessage, errorName, RetryableError } from '../core/errors';
import type { MessageRef, RequestRecord } from '../core/model';
import type { Notifier, RequesterNotice } from '../core/ports';
import { logger } from '../shared/logger';
import { slackErrorCode } from '../slack/people';
import { breakGlassEscalation, breakGlassMessage } from '../slack/render/break-glass';
import {
  approvalMessage,
  approvalReminder,
  escapeText,
  type NoticeLinks,
  requesterDmMessage,
  requesterNotice,
} from '../slack/render/messages';
import { mapBounded } from './bounded';
import type { SlackWebApi } from './slack-web-api';

// Notifications through the Slack Web API. The approval message is posted once and then
// updated in place (chat.update) as the request moves, with every copy of it (approvers' DMs).

/** Copies of the approval message updated at once (Slack's chat.update is Tier 3 per workspace). */
const COPY_UPDATES_AT_ONCE = 4;

/** What a message shows, its per-iteration block ids aside (render/messages.ts `iterationOf`). */
function shown(message: { text: string; blocks: KnownBlock[] }): string {
  return JSON.stringify([message.text, message.blocks.map(({ block_id: _id, ...block }) => block)]);
}

/**
 * Slack refusals that pass (a rate limit: the client rejects it instead of sleeping out
 * Retry-After inside the Lambda; a 5xx or a timeout after the client's own retry) become
 * RetryableError, which the state machine retries with backoff and jitter. Anything else
 * (not_in_channel, message_not_found, channel_not_found…) is permanent and passes unchanged.
 */
export function classifySlackError(error: unknown): unknown {
  const code = (error as { code?: unknown } | undefined)?.code;
  const status = (error as { statusCode?: unknown } | undefined)?.statusCode;
  const transient =
    code === 'slack_webapi_rate_limited_error' ||
    code === 'slack_webapi_request_error' ||
    (code === 'slack_webapi_http_error' && typeof status === 'number' && status >= 500);
  if (!transient) return error;
  return new RetryableError(`Slack: ${slackErrorCode(error)}`, { cause: error });
}

async function slack<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw classifySlackError(error);
  }
}

/**
 * Slack's refusals that say the approval channel cannot take the app's posts
 * (https://docs.slack.dev/reference/methods/chat.postMessage#errors): nobody can approve until
 * an admin fixes the channel, so they are named, not retried.
 */
const CHANNEL_PROBLEMS: Record<string, string> = {
  not_in_channel: 'the app is not in it: invite the app to the channel (/invite @the app)',
  channel_not_found:
    'Slack has no such channel the app can see (a private channel the app was not invited to, or a wrong id)',
  is_archived: 'it is archived: unarchive it or point the policy at another channel',
};

/** The approval channel's own refusal as the core's `approval-channel-unusable`; anything else unchanged. */
function channelProblem(channel: string, error: unknown): unknown {
  const code = slackErrorCode(error);
  const problem = code ? CHANNEL_PROBLEMS[code] : undefined;
  if (!problem) return error;
  return new AccessError(
    'approval-channel-unusable',
    `The approval channel ${channel} cannot take the request (${code}): ${problem}.`,
    { cause: error },
  );
}

export interface SlackNotifierOptions {
  approvalChannelFor: (record: RequestRecord) => string;
  notifyApproversByDm: (record: RequestRecord) => boolean;
  alertChannel?: string;
  portalUrl?: string;
  /** Identity Center's region: the "Access ready" DM's ~/.aws/config block names it. */
  ssoRegion?: string;
  /** The organization trail: the revoked DM carries the query of what was done with the grant. */
  orgTrail?: OrgTrail;
}

export class SlackNotifier implements Notifier {
  private readonly userIds = new Map<string, string>();

  constructor(
    private readonly client: SlackWebApi,
    private readonly options: SlackNotifierOptions,
  ) {}

  /** Slack user id for an email (cached per container). */
  private async slackUserId(email: string): Promise<string | undefined> {
    const key = email.toLowerCase();
    const cached = this.userIds.get(key);
    if (cached) return cached;
    try {
      const result = await this.client.users.lookupByEmail({ email: key });
      const id = result.user?.id;
      if (id) this.userIds.set(key, id);
      return id;
    } catch {
      return undefined; // an approver without a Slack account still sees the channel message
    }
  }

  async requestApproval(
    record: RequestRecord,
    approverEmails: string[],
    keep: (message: MessageRef) => Promise<RequestRecord | undefined>,
    keepCopy?: (copy: MessageRef) => Promise<RequestRecord | undefined>,
    set?: readonly RequestRecord[],
  ): Promise<void> {
    const message = approvalMessage(record, set);
    const existing = record.approvalMessage;
    if (existing)
      await slack(() => this.client.chat.update({ channel: existing.channel, ts: existing.ts, ...message }));
    // An extension decided by another rule may belong in another channel than the request's
    // message: post it there too, so that rule's approvers see it (a copy, kept as the DMs are).
    const channel = this.options.approvalChannelFor(record);
    const posted =
      record.approvalMessage?.channel === channel
        ? undefined
        : await slack(() => this.client.chat.postMessage({ channel, ...message })).catch((error: unknown) => {
            throw channelProblem(channel, error);
          });
    if (!record.approvalMessage && posted?.channel && posted.ts) {
      const stored = await keep({ channel: posted.channel, ts: posted.ts });
      // Decided while it was posted (a cancellation): shown as decided, and no approver is DMed.
      if (stored && stored.status !== record.status) {
        await this.catchUp(record, stored, { channel: posted.channel, ts: posted.ts }, set);
        return;
      }
    } else if (posted?.channel && posted.ts)
      await this.keepCopy(record, { channel: posted.channel, ts: posted.ts }, keepCopy, set);
    if (this.options.notifyApproversByDm(record)) {
      for (const email of approverEmails) {
        // Best effort: the channel message (whose reference is kept already) is the approval;
        // one approver's DM failing (a 429, a deactivated user) must not fail the step and post
        // it again on the retry.
        try {
          const userId = await this.slackUserId(email);
          if (!userId) continue;
          const dm = await this.client.chat.postMessage({ channel: userId, ...message });
          if (dm.channel && dm.ts)
            await this.keepCopy(record, { channel: dm.channel, ts: dm.ts }, keepCopy, set);
        } catch (error) {
          logger.warn('approver DM not sent', { slackError: slackErrorCode(error) });
        }
      }
    }
  }

  /**
   * Keeps a copy's reference (best-effort: a copy not kept only misses later updates). When the
   * record moved on while it was posted (decided meanwhile: the decision's re-render could not
   * know this copy yet), the copy is brought up to date at once.
   */
  private async keepCopy(
    posted: RequestRecord,
    copy: MessageRef,
    keepCopy: ((copy: MessageRef) => Promise<RequestRecord | undefined>) | undefined,
    set: readonly RequestRecord[] | undefined,
  ): Promise<void> {
    if (!keepCopy) return;
    try {
      const stored = await keepCopy(copy);
      if (stored) await this.catchUp(posted, stored, copy, set);
    } catch (error) {
      logger.warn('approval message copy not kept', { slackError: slackErrorCode(error) });
    }
  }

  /** Re-renders a message just posted from `posted` when the record as stored shows something else (best-effort). */
  private async catchUp(
    posted: RequestRecord,
    stored: RequestRecord,
    message: MessageRef,
    set: readonly RequestRecord[] | undefined,
  ): Promise<void> {
    const withStored = set?.map((m) => (m.request.requestId === stored.request.requestId ? stored : m));
    const latest = approvalMessage(stored, withStored);
    if (shown(latest) === shown(approvalMessage(posted, set))) return;
    try {
      await this.client.chat.update({ channel: message.channel, ts: message.ts, ...latest });
    } catch (error) {
      logger.warn('approval message not brought up to date', { slackError: slackErrorCode(error) });
    }
  }

  /**
   * Every copy of the approval message, from the record: the channel message (its refusal fails
   * the call, as before: callers decide whether that is best-effort) and each copy in
   * `approvalCopies`, a few at a time, each best-effort (an approver who left, a 429 on one DM
   * never stops the others or the channel message).
   */
  async updateRequestMessages(record: RequestRecord, set?: readonly RequestRecord[]): Promise<void> {
    const setId = record.request.set?.id;
    if (!set || setId === undefined || setId === record.request.requestId)
      return this.updateMessages(record, approvalMessage(record, set));
    // One of a set: the set's message (its first member's) shows this account too.
    const lead = set.find((m) => m.request.requestId === setId);
    if (lead) await this.updateMessages(lead, approvalMessage(lead, set));
    // An extension of this account alone was asked in a message of its own.
    if (record.approvalMessage || record.approvalCopies?.length)
      await this.updateMessages(record, approvalMessage(record));
  }

  private async updateMessages(
    record: RequestRecord,
    message: { text: string; blocks: KnownBlock[] },
  ): Promise<void> {
    const channelMessage = record.approvalMessage;
    const [channel] = await Promise.allSettled([
      channelMessage
        ? slack(() =>
            this.client.chat.update({ channel: channelMessage.channel, ts: channelMessage.ts, ...message }),
          )
        : Promise.resolve(undefined),
      mapBounded(record.approvalCopies ?? [], COPY_UPDATES_AT_ONCE, async (copy) => {
        try {
          await this.client.chat.update({ channel: copy.channel, ts: copy.ts, ...message });
        } catch (error) {
          logger.warn('approval message copy not updated', { slackError: slackErrorCode(error) });
        }
      }),
    ]);
    if (channel.status === 'rejected') throw channel.reason;
  }

  /** What the requester's DMs link to (the access portal, the CLI's region, the organization trail). */
  private noticeLinks(): NoticeLinks {
    return {
      ...(this.options.portalUrl ? { portalUrl: this.options.portalUrl } : {}),
      ...(this.options.ssoRegion ? { ssoRegion: this.options.ssoRegion } : {}),
      ...(this.options.orgTrail ? { orgTrail: this.options.orgTrail } : {}),
    };
  }

  async notifyRequester(
    record: RequestRecord,
    notice: RequesterNotice,
    detail?: string,
    keep?: (dm: MessageRef) => Promise<void>,
  ): Promise<void> {
    const posted = await slack(() =>
      this.client.chat.postMessage({
        channel: record.request.requester.slackUserId,
        ...requesterNotice(record, notice, detail, this.noticeLinks()),
      }),
    );
    if (!keep || !posted.channel || !posted.ts) return;
    // Best effort: the DM is sent; a reference not kept only leaves its buttons after the end.
    try {
      await keep({ channel: posted.channel, ts: posted.ts });
    } catch (error) {
      logger.warn('requester DM not kept', {
        errorName: errorName(error),
        errorMessage: errorMessage(error),
      });
    }
  }

  async updateRequesterDm(record: RequestRecord): Promise<void> {
    const dm = record.requesterDm;
    if (!dm) return;
    try {
      await this.client.chat.update({
        channel: dm.channel,
        ts: dm.ts,
        ...requesterDmMessage(record, this.noticeLinks()),
      });
    } catch (error) {
      logger.warn('requester DM not updated', { slackError: slackErrorCode(error) });
    }
  }

  async alert(text: string, record?: RequestRecord): Promise<void> {
    const channel =
      this.options.alertChannel ?? (record ? this.options.approvalChannelFor(record) : undefined);
    if (!channel) return;
    await slack(() =>
      this.client.chat.postMessage({ channel, text: `:rotating_light: ${escapeText(text)}` }),
    );
  }

  async remindApprovers(record: RequestRecord, approverEmails: string[]): Promise<void> {
    const message = approvalReminder(record);
    const channelMessage = record.approvalMessage;
    if (channelMessage)
      await slack(() =>
        this.client.chat.postMessage({
          channel: channelMessage.channel,
          thread_ts: channelMessage.ts,
          ...message,
        }),
      );
    for (const email of approverEmails) {
      // Best effort, like the first DMs: the channel message is the approval.
      try {
        const userId = await this.slackUserId(email);
        if (userId) await this.client.chat.postMessage({ channel: userId, ...message });
      } catch (error) {
        logger.warn('approver reminder not sent', { slackError: slackErrorCode(error) });
      }
    }
  }

  async breakGlassAlert(
    record: RequestRecord,
    reviewerEmails: string[],
    keep: (message: MessageRef) => Promise<void>,
  ): Promise<void> {
    const state = record.breakGlass;
    if (!state) return;
    const message = breakGlassMessage(record);
    if (!state.alertMessage) {
      const posted = await slack(() =>
        this.client.chat.postMessage({ channel: state.alertChannel, ...message }),
      );
      if (posted.channel && posted.ts) await keep({ channel: posted.channel, ts: posted.ts });
    }
    // Best effort, like the approvers' DMs: the channel alert is the record of it.
    for (const email of reviewerEmails) {
      try {
        const userId = await this.slackUserId(email);
        if (userId) await this.client.chat.postMessage({ channel: userId, ...message });
      } catch (error) {
        logger.warn('break-glass reviewer DM not sent', { slackError: slackErrorCode(error) });
      }
    }
  }

  async breakGlassUpdate(record: RequestRecord, escalated: boolean): Promise<void> {
    const state = record.breakGlass;
    if (!state) return;
    const message = breakGlassMessage(record);
    const alert = state.alertMessage;
    if (alert)
      await slack(() => this.client.chat.update({ channel: alert.channel, ts: alert.ts, ...message }));
    if (!escalated) return;
    // Escalating a use whose alert was never posted (Slack was down at activation): post it now.
    const thread =
      alert ?? (await slack(() => this.client.chat.postMessage({ channel: state.alertChannel, ...message })));
    const channel = thread.channel ?? state.alertChannel;
    const { text } = breakGlassEscalation(record);
    await slack(() =>
      thread.ts
        ? this.client.chat.postMessage({ channel, text, thread_ts: thread.ts, reply_broadcast: true })
        : this.client.chat.postMessage({ channel, text }),
    );
  }
}
