import { AccessError } from './errors';

// How a person in Slack is the same person in Identity Center. By default their Slack email is
// an Identity Center user's email; an IdP that provisions userName as the email (or as its
// local part) is matched on userName instead. The policy says which (identityCenter.userMapping).

export type UserMapping = { by: 'email' } | { by: 'userName' } | { by: 'userNameLocalPart'; domain: string };

export const DEFAULT_USER_MAPPING: UserMapping = { by: 'email' };

/** The identitystore attribute a mapping matches on (named in errors). */
export function mappingAttribute(mapping: UserMapping): 'emails.value' | 'userName' {
  return mapping.by === 'email' ? 'emails.value' : 'userName';
}

/**
 * The identitystore unique attribute and its value that find this Slack person's user, or an
 * AccessError naming the person and the attribute when the mapping cannot apply to them.
 */
export function userLookup(
  mapping: UserMapping,
  slackEmail: string,
): { attributePath: 'emails.value' | 'userName'; value: string } {
  const email = slackEmail.trim().toLowerCase();
  if (mapping.by === 'email') return { attributePath: 'emails.value', value: email };
  if (mapping.by === 'userName') return { attributePath: 'userName', value: email };
  const [local, domain] = email.split('@');
  if (!local || domain !== mapping.domain.toLowerCase())
    throw new AccessError(
      'no-identity-center-user',
      `${slackEmail} is not at ${mapping.domain}, so no Identity Center userName can match it (identityCenter.userMapping: userNameLocalPart)`,
    );
  return { attributePath: 'userName', value: local };
}

export interface IdentityCenterUserAttributes {
  userName?: string | undefined;
  emails?: { value?: string | undefined; primary?: boolean | undefined }[] | undefined;
}

/** The Slack email an Identity Center user stands for under this mapping (undefined: none). */
export function slackEmailOf(mapping: UserMapping, user: IdentityCenterUserAttributes): string | undefined {
  if (mapping.by === 'email') {
    const emails = user.emails ?? [];
    const email = (emails.find((e) => e.primary) ?? emails[0])?.value;
    return email?.trim().toLowerCase() || undefined;
  }
  const userName = user.userName?.trim().toLowerCase();
  if (!userName) return undefined;
  if (mapping.by === 'userName') return userName.includes('@') ? userName : undefined;
  return userName.includes('@') ? undefined : `${userName}@${mapping.domain.toLowerCase()}`;
}

/** No Identity Center user for this person: the error names them and the attribute matched. */
export function noUserError(mapping: UserMapping, slackEmail: string): AccessError {
  return new AccessError(
    'no-identity-center-user',
    `No Identity Center user has ${mappingAttribute(mapping)} matching ${slackEmail} (identityCenter.userMapping: ${mapping.by})`,
  );
}

/** Two users match: refused rather than guessing which one gets the access. */
export function ambiguousUserError(mapping: UserMapping, slackEmail: string): AccessError {
  return new AccessError(
    'ambiguous-identity-center-user',
    `More than one Identity Center user has ${mappingAttribute(mapping)} matching ${slackEmail}: refused until the directory has exactly one`,
  );
}
