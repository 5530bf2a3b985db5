import { parse as parseQuery } from 'node:querystring';
import { verifySlackRequest } from '@slack/bolt';

// Slack request signing (v0): `v0=` + hex HMAC-SHA256(signing secret, `v0:{timestamp}:{raw body}`),
// accepted only within five minutes of now in either direction. Bolt's verifySlackRequest checks
// the signature and the past; a timestamp from the future passes Bolt 5.1, so this adds that check
// (and the headers' form) on top. Every receiver here runs it first (receivers.ts) and Bolt's own
// check after it.

export const SIGNATURE_TOLERANCE_SECONDS = 5 * 60;

export type SignatureVerdict =
  | { ok: true }
  | { ok: false; reason: 'missing-headers' | 'bad-timestamp' | 'stale' | 'future' | 'bad-signature' };

export interface SignedRequestParts {
  signingSecret: string;
  rawBody: string;
  signature: string | undefined;
  timestamp: string | undefined;
  nowMs: number;
}

export function verifySlackSignature(parts: SignedRequestParts): SignatureVerdict {
  const { signature, timestamp } = parts;
  if (!signature || !timestamp) return { ok: false, reason: 'missing-headers' };
  if (!/^\d{1,12}$/.test(timestamp)) return { ok: false, reason: 'bad-timestamp' };
  if (Number(timestamp) - Math.floor(parts.nowMs / 1000) > SIGNATURE_TOLERANCE_SECONDS)
    return { ok: false, reason: 'future' };
  // Bolt compares only the text between the first and second `=`: anything but the exact form is refused here.
  if (!/^v0=[0-9a-f]{64}$/.test(signature)) return { ok: false, reason: 'bad-signature' };
  try {
    verifySlackRequest({
      signingSecret: parts.signingSecret,
      body: parts.rawBody,
      headers: { 'x-slack-signature': signature, 'x-slack-request-timestamp': Number(timestamp) },
      nowMilliseconds: parts.nowMs,
    });
  } catch (error) {
    // Bolt throws a plain Error; only its message tells a stale timestamp from a wrong signature.
    const stale = error instanceof Error && error.message.includes('request is stale');
    return { ok: false, reason: stale ? 'stale' : 'bad-signature' };
  }
  return { ok: true };
}

export type BodyVerdict = { kind: 'dispatch' } | { kind: 'ssl-check' } | { kind: 'bad'; message: string };

const INTERACTION_TYPES = new Set(['block_actions', 'block_suggestion', 'view_submission', 'view_closed']);
const EVENT_TYPES = new Set(['event_callback', 'url_verification', 'app_rate_limited']);

/**
 * Is this (verified) body something Slack sends? Bolt waits 3 s and answers 404 for a payload no
 * listener acknowledges; a malformed envelope is answered at once with 400 and a reason instead.
 */
export function classifySlackBody(rawBody: string, contentType: string | undefined): BodyVerdict {
  const type = (contentType ?? '').split(';')[0]?.trim().toLowerCase();
  if (type === 'application/x-www-form-urlencoded') {
    const form = parseQuery(rawBody);
    if (form.ssl_check === '1') return { kind: 'ssl-check' };
    if (typeof form.payload === 'string') {
      let payload: unknown;
      try {
        payload = JSON.parse(form.payload);
      } catch {
        return { kind: 'bad', message: 'The payload field is not JSON.' };
      }
      if (!isObject(payload) || typeof payload.type !== 'string')
        return { kind: 'bad', message: 'The payload has no type.' };
      if (!INTERACTION_TYPES.has(payload.type))
        return { kind: 'bad', message: `Interactions of type ${payload.type} are not handled.` };
      if (!isObject(payload.user) || typeof payload.user.id !== 'string')
        return { kind: 'bad', message: 'The payload has no user.' };
      const problem = interactionProblem(payload);
      return problem ? { kind: 'bad', message: problem } : { kind: 'dispatch' };
    }
    if (typeof form.command === 'string') {
      if (typeof form.user_id !== 'string' || typeof form.trigger_id !== 'string')
        return { kind: 'bad', message: 'The command has no user_id or trigger_id.' };
      return { kind: 'dispatch' };
    }
    return { kind: 'bad', message: 'Neither a slash command nor an interaction payload.' };
  }
  if (type === 'application/json') {
    let body: unknown;
    try {
      body = JSON.parse(rawBody);
    } catch {
      return { kind: 'bad', message: 'The body is not JSON.' };
    }
    if (!isObject(body) || typeof body.type !== 'string' || !EVENT_TYPES.has(body.type))
      return { kind: 'bad', message: 'Not an Events API envelope.' };
    return { kind: 'dispatch' };
  }
  return { kind: 'bad', message: `Unsupported content type ${type || '(none)'}.` };
}

/** What Bolt needs to route an interaction to a listener; without it Bolt would wait 3 s and answer 404. */
function interactionProblem(payload: Record<string, unknown>): string | undefined {
  switch (payload.type) {
    case 'block_actions': {
      const actions = payload.actions;
      if (!Array.isArray(actions) || actions.length === 0) return 'The payload has no actions.';
      if (!actions.every((a) => isObject(a) && typeof a.action_id === 'string'))
        return 'An action has no action_id.';
      return undefined;
    }
    case 'block_suggestion':
      return typeof payload.action_id === 'string' ? undefined : 'The suggestion has no action_id.';
    case 'view_submission':
    case 'view_closed':
      return isObject(payload.view) && typeof payload.view.callback_id === 'string'
        ? undefined
        : 'The payload has no view callback_id.';
    default:
      return undefined;
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
