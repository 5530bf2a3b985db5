import * as z from 'zod/mini';
import type { Occurrence } from '../audit';
import { EndedBeforeOpenedError } from '../errors';
import { EDITS, GRANTING_PHASE, movesInto } from '../lifecycle';
import type { RequestRecord } from '../model';
import { changeBreakGlass } from '../optimistic';
import { expandPrincipals, findRule, normalizeEmail } from '../policy';
import { windowLimit, windowSeconds, windowStartMs } from '../window';
import { parseInput, StepBase, SYSTEM, type WindowPlan } from './base';

const WINDOW_OPENED: Occurrence = { step: 'access-window' };
const windowEnd = (key: string): Occurrence => ({ step: 'access-window', key });

const isoTime = z.iso.datetime();
/** How long an extend callback may take from the Slack click's SendTaskSuccess to the ExtendWindow state. */
const CALLBACK_TRANSIT_MS = 60_000;

const openWindowSchema = z.object({
  taskToken: z.string().check(z.minLength(1)),
  requestId: z.string().check(z.minLength(1)),
  expiresAt: isoTime,
  // The state's `$.grant.window` (absent from executions of earlier definitions).
  window: z.optional(z.catch(z.object({ startedAt: z.optional(isoTime) }), {})),
});

/** The callback's answer to an extension, as far as it is compared with the plan (untrusted). */
const extendCallbackSchema = z.object({
  expiresAt: z.catch(z.optional(isoTime), undefined),
  // zod numbers are finite: Infinity and NaN are refused.
  seconds: z.catch(z.optional(z.number()), undefined),
});

const planExtensionSchema = z.object({
  plan: z.literal('extend'),
  requestId: z.string().check(z.minLength(1)),
  /** The execution input's own duration ($.request.durationMinutes). */
  durationMinutes: z.int().check(z.positive()),
  /** `$.grant.window` as the previous window was planned. */
  window: z.catch(z.object({ startedAt: z.catch(z.optional(isoTime), undefined) }), {}),
  /** `$.windowResult`: what the AccessWindow callback was completed with. */
  callback: z.unknown(),
  /** When the callback arrived (`$$.State.EnteredTime` of ExtendWindow). */
  callbackAt: z.catch(z.optional(isoTime), undefined),
});
export type PlanExtensionInput = z.input<typeof planExtensionSchema>;

/** AccessWindow and ExtendWindow: the window's token, its end, its messages. */
export class WindowSteps extends StepBase {
  /**
   * The requester's groups brought up to date for a live window's cap; false when the directory
   * cannot answer (the cache logged why). Access is already granted: a directory outage must not
   * end it, so the window then keeps what was approved (core/window.ts `windowLimit`).
   */
  private requesterKnown(record: RequestRecord): Promise<boolean> {
    return this.directory.forPeople([record.request.requester.email]).then(
      () => true,
      () => false,
    );
  }

  /**
   * AccessWindow (callback): keeps the token that ends or extends the window; tells the requester.
   * Never records an expiresAt beyond what the policy allows (an execution of an earlier
   * definition copies the extend callback's expiresAt here unchecked): the capped one is stored,
   * so the reconciler ends the window there whatever the task's own timer says.
   */
  async openWindow(input: unknown): Promise<void> {
    const step = parseInput(openWindowSchema, input, 'AccessWindow');
    const { taskToken, requestId } = step;
    const { store, notifier, audit, policy } = this.deps;
    const before = await this.requireRequest(requestId);
    const opening = before.status !== 'ACTIVE';
    // Ended while it was being granted (End all on a set, decisions.ts `endWhenOpened`): this
    // task fails instead of opening the window, and the state machine revokes as for an End click.
    if (opening && before.endedBy) throw new EndedBeforeOpenedError(requestId, before.endedBy);
    await store.putTaskToken(requestId, 'window', taskToken);
    const now = this.now().getTime();
    // The first opening without a start from the workflow (an earlier definition) starts now.
    // With no start known at all (a window opened by an earlier version), windowStartMs falls
    // back to the earliest the window can have opened, and that guess is not stored.
    const known = [
      step.window?.startedAt,
      before.windowStartedAt,
      opening ? new Date(now).toISOString() : undefined,
    ];
    const startedAtMs = windowStartMs(before, known, now);
    const requesterKnown = await this.requesterKnown(before);
    const limit = windowLimit(policy, before, startedAtMs, undefined, requesterKnown);
    const askedMs = Date.parse(step.expiresAt);
    const refused = askedMs > limit.expiresAtMs;
    const expiresAt = refused ? limit.expiresAt : new Date(askedMs).toISOString();
    if (refused)
      await audit.record(
        requestId,
        'window.extend-refused',
        SYSTEM,
        'failure',
        {
          askedExpiresAt: step.expiresAt,
          allowedExpiresAt: limit.expiresAt,
          allowedMinutes: limit.allowedMinutes,
          reason: 'the window asked for ends after the longest the policy allows',
        },
        windowEnd(`${step.expiresAt}|${limit.expiresAt}`),
      );
    const extended = !opening && before.expiresAt !== undefined && before.expiresAt !== expiresAt;
    if (!opening && before.expiresAt === expiresAt) {
      // A retry, or a refused window: nothing changes. The first window (its start plus the
      // request's duration, nothing extended): its event again is the first run's copy (or the one it lost).
      const first =
        !before.extendedMinutes &&
        !before.extensions?.length &&
        before.windowStartedAt !== undefined &&
        Date.parse(before.windowStartedAt) + before.request.durationMinutes * 60_000 ===
          Date.parse(expiresAt);
      // Otherwise an extension recorded this end: its event again (named by the end) is that copy.
      await this.recordWindow(requestId, expiresAt, !first);
      // A run that died after opening the window, before its "Access ready" DM was kept: this one
      // announces it (a run that finds the DM kept posts nothing again).
      if (first && !before.requesterDm) {
        await this.bestEffort('request messages', () => notifier.updateRequestMessages(before));
        await this.bestEffort('requester DM', () => this.announceReady(before));
      }
      // A run that died before the break-glass alert: this one posts it.
      await this.alertBreakGlass(before);
      return;
    }
    // Opening: from before ACTIVE only, so of two runs at once one opens (and announces) it.
    // Extending: only the window this run read, so a concurrent run's change is not made twice.
    const updated = await store.updateRequest(
      requestId,
      opening ? movesInto('ACTIVE') : EDITS.window,
      {
        status: 'ACTIVE',
        expiresAt,
        ...(known.some(Boolean) ? { windowStartedAt: new Date(startedAtMs).toISOString() } : {}),
      },
      // An End asked for meanwhile (endedBy) wins over opening: of the two writes, one lands.
      (current) => (opening ? !current.endedBy : current.expiresAt === before.expiresAt),
    );
    const ended = updated.ok ? undefined : updated.current;
    if (opening && ended?.endedBy && GRANTING_PHASE.includes(ended.status))
      throw new EndedBeforeOpenedError(requestId, ended.endedBy);
    // Not ACTIVE-able any more: the window's timeout already fired and Revoke moved the request
    // on (or it failed), or another run of this step made the change. Announcing it now would
    // tell the requester about access that is gone, or twice.
    if (!updated.ok) return;
    const record = updated.value;
    // One event per window end (an extension moves it).
    await this.recordWindow(requestId, expiresAt, extended);
    // Access exists now, whatever Slack says: a failed message must not fail the step (its
    // Catch revokes) — the window and its trail stand, and the person can see it in the Home tab.
    await this.bestEffort('request messages', () => notifier.updateRequestMessages(record));
    if (extended) {
      await this.bestEffort('requester DM', () => notifier.notifyRequester(record, 'extended'));
      // The "Access ready" DM keeps its buttons, and now says until when the window runs.
      if (record.requesterDm)
        await this.bestEffort('access ready DM', () => notifier.updateRequesterDm(record));
    } else await this.bestEffort('requester DM', () => this.announceReady(record));
    await this.alertBreakGlass(record);
  }

  /**
   * The "Access ready" DM (with End/Extend), once: its reference is kept on the record
   * (`requesterDm`) as soon as it is posted, by a conditional write the first DM kept wins, so
   * the end of the access re-renders it without its buttons. A run that finds it kept posts
   * nothing. Access that ended while it was posted (the write then refused: no longer ACTIVE)
   * gets it re-rendered as ended at once, since the end found no DM to re-render.
   */
  private async announceReady(record: RequestRecord): Promise<void> {
    if (record.requesterDm) return;
    const { store, notifier } = this.deps;
    let ended: RequestRecord | undefined;
    await notifier.notifyRequester(record, 'granted', undefined, async (dm) => {
      const kept = await store.updateRequest(
        record.request.requestId,
        EDITS.window,
        { requesterDm: dm },
        (current) => !current.requesterDm,
      );
      const current = kept.ok ? undefined : kept.current;
      if (current && current.status !== 'ACTIVE' && !current.requesterDm)
        ended = { ...current, requesterDm: dm };
    });
    if (ended) await notifier.updateRequesterDm(ended);
  }

  /**
   * A break-glass use that went live: the security channel's alert and the reviewers' DMs, once
   * (the alert's reference is kept as soon as it is posted). Best-effort like every message: the
   * access exists; a use whose alert never went out is posted when it escalates.
   */
  private async alertBreakGlass(record: RequestRecord): Promise<void> {
    const state = record.breakGlass;
    if (!state || state.alertMessage || record.status !== 'ACTIVE') return;
    const { store, notifier, audit, policy } = this.deps;
    await this.bestEffort('break-glass alert', async () => {
      await this.directory.all();
      const rule = record.ruleName ? findRule(policy, record.ruleName) : undefined;
      const reviewers = expandPrincipals(policy, rule?.breakGlass?.reviewers ?? state.reviewers).filter(
        (email) => email !== normalizeEmail(record.request.requester.email),
      );
      await notifier.breakGlassAlert(record, reviewers, async (message) => {
        // The first alert kept wins: a concurrent run's does not replace it.
        await changeBreakGlass(store, record.request.requestId, (current) =>
          current.alertMessage ? undefined : { ...current, alertMessage: message },
        );
        await audit.record(
          record.request.requestId,
          'breakglass.alerted',
          SYSTEM,
          'info',
          { channel: message.channel, reviewers: reviewers.join(',') },
          { step: 'access-window', key: 'breakglass' },
        );
      });
    });
  }

  /** `window.opened` (once per request) or `window.extended` (once per window end). */
  private recordWindow(requestId: string, expiresAt: string, extended: boolean) {
    return extended
      ? this.deps.audit.record(
          requestId,
          'window.extended',
          SYSTEM,
          'success',
          { expiresAt },
          windowEnd(expiresAt),
        )
      : this.deps.audit.record(requestId, 'window.opened', SYSTEM, 'success', { expiresAt }, WINDOW_OPENED);
  }

  /**
   * ExtendWindow: the next window after an extend callback, planned from server-side facts only:
   * the window's start, the request's own duration, the extensions applied to the record and the
   * policy as deployed (`windowLimit`). The callback's expiresAt/seconds are only compared with
   * the plan: asking for more is refused (audited) and the plan is used anyway.
   */
  async planExtension(input: unknown): Promise<WindowPlan> {
    const step = parseInput(planExtensionSchema, input, 'ExtendWindow');
    const { policy, audit } = this.deps;
    const record = await this.requireRequest(step.requestId);
    const now = this.now().getTime();
    const startedAtMs = windowStartMs(record, [step.window.startedAt, record.windowStartedAt], now);
    const requesterKnown = await this.requesterKnown(record);
    const limit = windowLimit(policy, record, startedAtMs, step.durationMinutes, requesterKnown);
    const plan: WindowPlan = {
      startedAt: new Date(startedAtMs).toISOString(),
      expiresAt: limit.expiresAt,
      seconds: windowSeconds(limit.expiresAtMs, now),
    };
    const asked = extendCallbackSchema.safeParse(step.callback);
    const askedExpiresAt = asked.success ? asked.data.expiresAt : undefined;
    const askedSeconds = asked.success ? asked.data.seconds : undefined;
    // `seconds` counts from when the callback was sent, a moment before it arrived (`callbackAt`):
    // compared with some leeway for that transit. expiresAt is exact; the plan is exact either way.
    const from = (step.callbackAt ? Date.parse(step.callbackAt) : now) - CALLBACK_TRANSIT_MS;
    const tooLate = askedExpiresAt !== undefined && Date.parse(askedExpiresAt) > limit.expiresAtMs;
    const tooLong = askedSeconds !== undefined && from + askedSeconds * 1000 > limit.expiresAtMs;
    const unreadable = askedExpiresAt === undefined && askedSeconds === undefined;
    // One refusal per callback: its arrival time (the state's entry, the same on every retry) and
    // what it asked name it.
    if (tooLate || tooLong || unreadable)
      await audit.record(
        step.requestId,
        'window.extend-refused',
        SYSTEM,
        'failure',
        {
          askedExpiresAt: askedExpiresAt ?? null,
          askedSeconds: askedSeconds ?? null,
          allowedExpiresAt: limit.expiresAt,
          allowedMinutes: limit.allowedMinutes,
          reason: unreadable
            ? 'the extend callback names no window'
            : 'the extend callback asks for more than the policy allows',
        },
        {
          step: 'extend-window',
          key: JSON.stringify([
            step.callbackAt ?? null,
            askedExpiresAt ?? null,
            askedSeconds ?? null,
            limit.expiresAt,
          ]),
        },
      );
    return plan;
  }
}
