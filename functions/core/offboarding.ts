import type { AuditTrail, Occurrence } from './audit';
import { isCancellable, OFFBOARDING_ACTOR } from './authority';
import type { Actor, DecisionOutcome, RequestDecisions, WindowOutcome } from './decisions';
import type { RequestRecord } from './model';
import type { Notifier, RequestStore } from './ports';

// Offboarding: a person who left (Slack deactivated them, or Identity Center no longer has them)
// loses their access at once. Their live grants end through the same path as "End access now"
// (the window's callback, then Revoke), their pending requests are withdrawn as a cancellation,
// and every step is on the trail. The actor is the product (`OFFBOARDING_ACTOR`), allowed by
// `mayOffboard` in authority.ts on the person's own requests only. Their approvals of others'
// requests are refused where the clicker is looked up (slack/people.ts: a deactivated Slack user
// has no email to act with).

/** Why a person is offboarded: what told the product they left. */
export const OFFBOARDING_REASONS = ['slack-deactivated', 'identity-center-user-gone'] as const;
export type OffboardingReason = (typeof OFFBOARDING_REASONS)[number];

export interface OffboardingSubject {
  slackUserId: string;
  /** As Slack or the request last knew it; only reported. */
  email?: string;
}

/** What offboarding did to one request of the person. */
export type OffboardingStep = 'end-access' | 'cancel';

export interface OffboardingReport {
  /** Live grants whose window this offboarding ended (or an earlier delivery did). */
  ended: string[];
  /** Pending requests withdrawn. */
  cancelled: string[];
  /**
   * Requests on their way to access (approved, granting, live without an open window yet) or
   * decided meanwhile: not ended yet. The caller runs the offboarding again later (a redelivery
   * picks up where this one stopped); the reconciler ends a grant past its window in any case.
   */
  inFlight: string[];
}

export interface OffboardingDependencies {
  store: Pick<RequestStore, 'listByRequester'>;
  audit: AuditTrail;
  decisions: Pick<RequestDecisions, 'endAccess' | 'cancel'>;
  notifier: Pick<Notifier, 'alert'>;
}

/** The person's own trail (no request id): the offboarding itself, once per reason. */
export const personAuditId = (slackUserId: string) => `person:${slackUserId}`;

/** On their way to access: not endable through the window yet, nor cancellable any more. */
const ON_THE_WAY: readonly RequestRecord['status'][] = ['APPROVED', 'GRANTING'];

export class Offboarding {
  constructor(private readonly deps: OffboardingDependencies) {}

  /**
   * Ends the person's live access and withdraws their pending requests. Idempotent: a redelivery
   * finds what an earlier delivery did on the records (`endedBy`, `cancellation.by` = the
   * offboarding actor), writes the same events (deterministic ids: the reason and the step name
   * each occurrence) and completes what it left undone.
   */
  async offboard(subject: OffboardingSubject, reason: OffboardingReason): Promise<OffboardingReport> {
    const { store, audit, notifier } = this.deps;
    const actor: Actor = { email: OFFBOARDING_ACTOR, slackUserId: subject.slackUserId, offboarding: true };
    await audit.record(
      personAuditId(subject.slackUserId),
      'user.offboarded',
      OFFBOARDING_ACTOR,
      'info',
      { reason, slackUserId: subject.slackUserId },
      { step: 'offboarding', key: reason },
    );
    const report: OffboardingReport = { ended: [], cancelled: [], inFlight: [] };
    const records = await store.listByRequester(subject.slackUserId, Number.POSITIVE_INFINITY);
    for (const record of records) {
      // The index is the requester's; a record naming someone else is not theirs to offboard.
      if (record.request.requester.slackUserId !== subject.slackUserId) continue;
      const step = stepFor(record);
      const requestId = record.request.requestId;
      if (!step) {
        if (ON_THE_WAY.includes(record.status)) report.inFlight.push(requestId);
        continue;
      }
      // The reason before the step it explains: the trail reads "offboarded", then what it did.
      await audit.record(
        requestId,
        'user.offboarded',
        OFFBOARDING_ACTOR,
        'info',
        { reason, slackUserId: subject.slackUserId, step },
        offboardingOccurrence(reason, step),
      );
      const outcome =
        step === 'cancel'
          ? await this.deps.decisions.cancel(requestId, actor)
          : await this.deps.decisions.endAccess(requestId, actor);
      const done = isDone(step, outcome);
      if (done) (step === 'cancel' ? report.cancelled : report.ended).push(requestId);
      else report.inFlight.push(requestId);
    }
    // Their email as their requests name it; the alert goes to the alert channel, or the channel
    // of a request it acted on when none is configured (nothing acted on and no alert channel:
    // there was no access to report).
    const done = new Set([...report.ended, ...report.cancelled, ...report.inFlight]);
    const acted = records.find((r) => done.has(r.request.requestId));
    const email = subject.email ?? records[0]?.request.requester.email;
    // Plain text: the notifier escapes alerts, so a <@mention> would not render.
    const who = email ? `${subject.slackUserId} (${email})` : subject.slackUserId;
    await notifier.alert(`Offboarded ${who}: ${REASON_TEXT[reason]}. ${describe(report)}`, acted);
    return report;
  }
}

const REASON_TEXT: Record<OffboardingReason, string> = {
  'slack-deactivated': 'Slack reports the user deactivated',
  'identity-center-user-gone': 'Identity Center no longer has the user',
};

/** Each reason ends and withdraws under its own events, so a second reason adds to the trail rather than conflicting. */
const offboardingOccurrence = (reason: OffboardingReason, step: OffboardingStep): Occurrence => ({
  step: 'offboarding',
  key: `${reason}:${step}`,
});

/** What offboarding does to a request: withdraw it while pending, end it while live, or (already done) the same again. */
function stepFor(record: RequestRecord): OffboardingStep | undefined {
  // Pending, or approved and waiting for a scheduled start: withdrawn before anything is granted.
  if (isCancellable(record) || record.cancellation?.by === OFFBOARDING_ACTOR) return 'cancel';
  if (record.status === 'ACTIVE' || record.endedBy === OFFBOARDING_ACTOR) return 'end-access';
  return undefined;
}

function isDone(step: OffboardingStep, outcome: DecisionOutcome | WindowOutcome): boolean {
  if (step === 'cancel') return outcome.kind === 'cancelled';
  if (outcome.kind === 'ended') return true;
  // Ended by an earlier delivery (its window already signalled, Revoke on its way), or its window
  // ran out meanwhile: over, or on its way out.
  if (outcome.kind !== 'not-active') return false;
  return outcome.record.endedBy === OFFBOARDING_ACTOR || outcome.record.status !== 'ACTIVE';
}

function describe(report: OffboardingReport): string {
  const parts = [
    report.ended.length ? `Ended access: ${report.ended.join(', ')}.` : 'No live access.',
    report.cancelled.length ? `Cancelled pending requests: ${report.cancelled.join(', ')}.` : '',
    report.inFlight.length
      ? `Still on their way to access, ended when they go live: ${report.inFlight.join(', ')}.`
      : '',
  ];
  return parts.filter(Boolean).join(' ');
}
