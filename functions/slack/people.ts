import type { WebClient } from '@slack/web-api';

// Slack user id → email (users.info; needs users:read and users:read.email), cached per
// container: the same person clicks several times in a few minutes.

const TTL_MS = 10 * 60 * 1000;
const EMAIL = /^[^@\s]+@[^@\s]+$/;

export type EmailLookup = { ok: true; email: string } | { ok: false; message: string };

export class SlackPeople {
  private readonly cache = new Map<string, { email: string; at: number }>();

  constructor(private readonly now: () => number = Date.now) {}

  async emailOf(client: WebClient, userId: string): Promise<EmailLookup> {
    const cached = this.cache.get(userId);
    if (cached && this.now() - cached.at < TTL_MS) return { ok: true, email: cached.email };
    let email: string | undefined;
    try {
      const result = await client.users.info({ user: userId });
      if (result.user?.deleted) return { ok: false, message: 'Your Slack account is deactivated.' };
      if (result.user?.is_bot) return { ok: false, message: 'Bots cannot request or approve access.' };
      email = result.user?.profile?.email;
    } catch (error) {
      const code = slackErrorCode(error);
      return {
        ok: false,
        message:
          code === 'user_not_found'
            ? 'Slack does not know your user; ask your Slack admin.'
            : `I could not look up your Slack profile (${code}). Please try again in a moment.`,
      };
    }
    if (!email || !EMAIL.test(email))
      return {
        ok: false,
        message:
          'Slack did not share your email address with this app (it needs the users:read.email scope), so I cannot tell who you are in AWS.',
      };
    this.cache.set(userId, { email, at: this.now() });
    return { ok: true, email };
  }
}

/** The `error` of a Slack platform error (`invalid_auth`, `user_not_found`…), or a generic code. */
export function slackErrorCode(error: unknown): string {
  if (error && typeof error === 'object') {
    const data = (error as { data?: { error?: unknown } }).data;
    if (data && typeof data.error === 'string') return data.error;
    const code = (error as { code?: unknown }).code;
    if (typeof code === 'string') return code;
  }
  return 'unknown_error';
}
