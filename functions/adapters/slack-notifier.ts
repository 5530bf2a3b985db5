import type { WebClient } from '@slack/web-api';
import type { OrgTrail } from '../core/activity-query';
import { RetryableError } from '../core/errors';
import type { MessageRef, RequestRecord } from '../core/model';
import type { Notifier, RequesterNotice } from '../core/ports';
import { logger } from '../shared/logger';
import { slackErrorCode } from '../slack/people';
import { breakGlassEscalation, breakGlassMessage } from '../slack/render/break-glass';
import { approvalMessage, approvalReminder, escapeText, requesterNotice } from '../slack/render/messages';

// Notifications through the Slack Web API. The approval message is posted once and then
// updated in place (chat.update) as the request moves.

/**
 * Slack refusals that pass (a rate limit: the WebClient rejects it instead of sleeping out
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
    private readonly client: WebClient,
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
    keep: (message: MessageRef) => Promise<void>,
  ): Promise<void> {
    const message = approvalMessage(record);
    const existing = record.approvalMessage;
    if (existing)
      await slack(() => this.client.chat.update({ channel: existing.channel, ts: existing.ts, ...message }));
    // An extension decided by another rule may belong in another channel than the request's
    // message: post it there too, so that rule's approvers see it.
    const channel = this.options.approvalChannelFor(record);
    const posted =
      record.approvalMessage?.channel === channel
        ? undefined
        : await slack(() => this.client.chat.postMessage({ channel, ...message }));
    if (!record.approvalMessage && posted?.channel && posted.ts)
      await keep({ channel: posted.channel, ts: posted.ts });
    if (this.options.notifyApproversByDm(record)) {
      for (const email of approverEmails) {
        // Best effort: the channel message (whose reference is kept already) is the approval;
        // one approver's DM failing (a 429, a deactivated user) must not fail the step and post
        // it again on the retry.
        try {
          const userId = await this.slackUserId(email);
          if (userId) await this.client.chat.postMessage({ channel: userId, ...message });
        } catch (error) {
          logger.warn('approver DM not sent', { slackError: slackErrorCode(error) });
        }
      }
    }
  }

  async updateRequestMessages(record: RequestRecord): Promise<void> {
    if (!record.approvalMessage) return;
    const { channel, ts } = record.approvalMessage;
    await slack(() => this.client.chat.update({ channel, ts, ...approvalMessage(record) }));
  }

  async notifyRequester(record: RequestRecord, notice: RequesterNotice, detail?: string): Promise<void> {
    await slack(() =>
      this.client.chat.postMessage({
        channel: record.request.requester.slackUserId,
        ...requesterNotice(record, notice, detail, {
          ...(this.options.portalUrl ? { portalUrl: this.options.portalUrl } : {}),
          ...(this.options.ssoRegion ? { ssoRegion: this.options.ssoRegion } : {}),
          ...(this.options.orgTrail ? { orgTrail: this.options.orgTrail } : {}),
        }),
      }),
    );
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
