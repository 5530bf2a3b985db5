import type { SlackWebApi } from '../adapters/slack-web-api';

/** users.info is all a lookup needs: Bolt's WebClient and the workers' SlackWebApi both have it. */
type UsersInfo = { users: Pick<SlackWebApi['users'], 'info'> };

// Slack user id → email (users.info; needs users:read and users:read.email), cached per
// container: the same person clicks several times in a few minutes. The members of a Slack user
// group are looked up the same way (adapters/slack-user-groups.ts).

const TTL_MS = 10 * 60 * 1000;
const EMAIL = /^[^@\s]+@[^@\s]+$/;

export type EmailLookup = { ok: true; email: string } | { ok: false; message: string };

/** A person's email, or why there is none: what Slack said about them, or the call's own error. */
export type PersonLookup =
  | { ok: true; email: string }
  | { ok: false; reason: 'deactivated' | 'bot' | 'not_found' | 'no_email' }
  | { ok: false; reason: 'failed'; error: unknown };

/**
 * `fresh`: ask Slack now. A decision is taken on a fresh answer, so a person deactivated a minute
 * ago (users.info `deleted: true`) no longer approves, denies or ends anything.
 */
export interface LookupOptions {
  fresh?: boolean;
}

export class SlackPeople {
  private readonly cache = new Map<string, { email: string; at: number }>();

  constructor(private readonly now: () => number = Date.now) {}

  /** The answer for the person who clicked (`fresh`: asked of Slack, not the cache). */
  async emailOf(client: UsersInfo, userId: string, options: LookupOptions = {}): Promise<EmailLookup> {
    const found = await this.lookup(client, userId, options);
    if (found.ok) return found;
    switch (found.reason) {
      case 'deactivated':
        return { ok: false, message: 'Your Slack account is deactivated.' };
      case 'bot':
        return { ok: false, message: 'Bots cannot request or approve access.' };
      case 'not_found':
        return { ok: false, message: 'Slack does not know your user; ask your Slack admin.' };
      case 'failed':
        return {
          ok: false,
          message: `I could not look up your Slack profile (${slackErrorCode(found.error)}). Please try again in a moment.`,
        };
      case 'no_email':
        return {
          ok: false,
          message:
            'Slack did not share your email address with this app (it needs the users:read.email scope), so I cannot tell who you are in AWS.',
        };
    }
  }

  /** users.info, the email checked; only a found email is cached. Never throws. */
  async lookup(client: UsersInfo, userId: string, options: LookupOptions = {}): Promise<PersonLookup> {
    const cached = this.cache.get(userId);
    if (!options.fresh && cached && this.now() - cached.at < TTL_MS) return { ok: true, email: cached.email };
    this.cache.delete(userId);
    let email: string | undefined;
    try {
      const result = await client.users.info({ user: userId });
      if (result.user?.deleted) return { ok: false, reason: 'deactivated' };
      if (result.user?.is_bot) return { ok: false, reason: 'bot' };
      email = result.user?.profile?.email;
    } catch (error) {
      return slackErrorCode(error) === 'user_not_found'
        ? { ok: false, reason: 'not_found' }
        : { ok: false, reason: 'failed', error };
    }
    if (!email || !EMAIL.test(email)) return { ok: false, reason: 'no_email' };
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
