// Role sessions of the stand-in: what a person signed in through a permission set holds, and
// whether a call with it is still allowed. Deleting an assignment does not end a session (IAM
// Identity Center user guide, "Revoke active IAM role sessions created by permission sets"): it
// lives until its session duration ends, unless the inline policy provisioned to the account's
// role denies it. Only Deny statements are evaluated (what a session may do otherwise comes from
// policies the stand-in does not model), for every action and resource, with the condition
// operators and keys a session-ending deny uses; a condition on another key or operator is not
// modelled and never holds, so such a statement denies nothing here.

export interface RoleSessionView {
  sessionId: string;
  userId: string;
  accountId: string;
  permissionSetArn: string;
  /** Injected-clock epoch ms: `aws:TokenIssueTime`. */
  issuedAt: number;
  expiresAt: number;
}

export type SessionVerdict =
  | { allowed: true }
  | { allowed: false; reason: 'expired' }
  | { allowed: false; reason: 'denied'; statementId: string };

/** The request context keys the stand-in knows for a session's call. */
function contextOf(session: RoleSessionView, now: number): Record<string, string> {
  return {
    'identitystore:userid': session.userId,
    'aws:principalaccount': session.accountId,
    'aws:tokenissuetime': new Date(session.issuedAt).toISOString(),
    'aws:currenttime': new Date(now).toISOString(),
  };
}

type Comparison = (actual: string, expected: string) => boolean;
const dates =
  (test: (actual: number, expected: number) => boolean): Comparison =>
  (actual, expected) => {
    const [a, e] = [Date.parse(actual), Date.parse(expected)];
    return Number.isFinite(a) && Number.isFinite(e) && test(a, e);
  };
/** Condition operators (IAM: any of the listed values matches; key names are case-insensitive). */
const OPERATORS: Record<string, Comparison> = {
  StringEquals: (a, e) => a === e,
  StringNotEquals: (a, e) => a !== e,
  DateLessThan: dates((a, e) => a < e),
  DateLessThanEquals: dates((a, e) => a <= e),
  DateGreaterThan: dates((a, e) => a > e),
  DateGreaterThanEquals: dates((a, e) => a >= e),
};

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
const asList = (value: unknown): unknown[] => (Array.isArray(value) ? value : [value]);

function coversEverything(value: unknown): boolean {
  return asList(value).some((v) => v === '*');
}

function conditionsHold(condition: unknown, context: Record<string, string>): boolean {
  if (condition === undefined) return true;
  if (!isObject(condition)) return false;
  return Object.entries(condition).every(([operator, keys]) => {
    const compare = OPERATORS[operator];
    if (!compare || !isObject(keys)) return false;
    return Object.entries(keys).every(([key, expected]) => {
      const actual = context[key.toLowerCase()];
      if (actual === undefined) return false;
      const values = asList(expected).filter((v): v is string => typeof v === 'string');
      return operator === 'StringNotEquals'
        ? values.every((v) => compare(actual, v))
        : values.some((v) => compare(actual, v));
    });
  });
}

/** A call with this session now, under the inline policy provisioned to its account's role. */
export function evaluateSession(
  session: RoleSessionView,
  provisionedPolicy: string | undefined,
  now: number,
): SessionVerdict {
  if (now >= session.expiresAt) return { allowed: false, reason: 'expired' };
  if (!provisionedPolicy) return { allowed: true };
  let document: unknown;
  try {
    document = JSON.parse(provisionedPolicy);
  } catch {
    return { allowed: true };
  }
  const statements = isObject(document) ? asList(document.Statement) : [];
  const context = contextOf(session, now);
  for (const [index, statement] of statements.entries()) {
    if (!isObject(statement) || statement.Effect !== 'Deny') continue;
    if (!coversEverything(statement.Action) || !coversEverything(statement.Resource)) continue;
    if (!conditionsHold(statement.Condition, context)) continue;
    return {
      allowed: false,
      reason: 'denied',
      statementId: typeof statement.Sid === 'string' ? statement.Sid : `statement ${index}`,
    };
  }
  return { allowed: true };
}
