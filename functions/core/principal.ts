import type { UserDirectory } from './ports';

/**
 * The Identity Center user of an email. Emails are compared case-insensitively by people, not
 * always by directories: the address as Slack has it is tried first, then its lower-case form.
 */
export async function resolvePrincipal(
  users: UserDirectory,
  email: string,
): Promise<{ principalId: string; email: string } | undefined> {
  const candidates = [...new Set([email.trim(), email.trim().toLowerCase()])];
  for (const candidate of candidates) {
    const principalId = await users.findUserIdByEmail(candidate);
    if (principalId) return { principalId, email: candidate };
  }
  return undefined;
}
