import fc from 'fast-check';
import {
  type ChainedEvent,
  type ChainHeads,
  genesisHash,
  nextLink,
  verifyChains,
} from '../../functions/core/audit-chain';
import { AUDIT_ACTIONS, type AuditEvent } from '../../functions/core/model';

// The hash chain as an auditor checks an export: a trail as written verifies; changing,
// removing, reordering or inserting any single event is detected and the break is named.

const eventArb = (requestId: string) =>
  fc.record<AuditEvent>({
    version: fc.constant(1 as const),
    requestId: fc.constant(requestId),
    eventId: fc.integer({ min: 0, max: 2 ** 31 }).map((n) => `e.${n.toString(16)}`),
    at: fc
      .integer({ min: Date.parse('2026-01-01T00:00:00Z'), max: Date.parse('2027-01-01T00:00:00Z') })
      .map((ms) => new Date(ms).toISOString()),
    actor: fc.constantFrom('alice@example.com', 'bob@example.com', 'system:grant'),
    action: fc.constantFrom(...AUDIT_ACTIONS),
    outcome: fc.constantFrom('success' as const, 'failure' as const, 'info' as const),
    details: fc.dictionary(
      fc.constantFrom('reason', 'ticket', 'seconds', 'error'),
      fc.oneof(fc.string({ maxLength: 20 }), fc.integer(), fc.boolean(), fc.constant(null)),
      { maxKeys: 3 },
    ),
  });

/** A few requests' trails, each event linked in order, as `npm run audit -- export` writes them. */
const trailArb = fc
  .uniqueArray(
    fc.integer({ min: 0, max: 9999 }).map((n) => `r-${n}`),
    { minLength: 1, maxLength: 4 },
  )
  .chain((ids) =>
    fc.tuple(
      ...ids.map((id) =>
        fc.uniqueArray(eventArb(id), { minLength: 1, maxLength: 6, selector: (e) => e.eventId }),
      ),
    ),
  )
  .map((perRequest) => {
    const lines: ChainedEvent[] = [];
    const heads: ChainHeads = {};
    for (const events of perRequest) {
      let previous: ChainedEvent['link'] | undefined;
      for (const event of events) {
        const link = nextLink(previous ?? undefined, event);
        lines.push({ event, link });
        previous = link;
      }
      if (previous) heads[previous.requestId] = { seq: previous.seq, hash: previous.hash };
    }
    return { lines, heads };
  });

type Tamper = (lines: ChainedEvent[], pick: number) => ChainedEvent[] | undefined;

const tampers: Record<string, Tamper> = {
  'change a field': (lines, pick) =>
    lines.map((line, i) =>
      i === pick % lines.length ? { ...line, event: { ...line.event, actor: `${line.event.actor}x` } } : line,
    ),
  'change a detail': (lines, pick) =>
    lines.map((line, i) =>
      i === pick % lines.length
        ? { ...line, event: { ...line.event, details: { ...line.event.details, injected: 'yes' } } }
        : line,
    ),
  'remove one': (lines, pick) => lines.filter((_, i) => i !== pick % lines.length),
  'swap two of one request': (lines, pick) => {
    const i = pick % lines.length;
    const j = lines.findIndex((l, k) => k > i && l.event.requestId === lines[i]?.event.requestId);
    if (j < 0) return undefined;
    const copy = [...lines];
    [copy[i], copy[j]] = [copy[j] as ChainedEvent, copy[i] as ChainedEvent];
    return copy;
  },
  'insert a copy': (lines, pick) => {
    const i = pick % lines.length;
    const copy = [...lines];
    copy.splice(i, 0, lines[i] as ChainedEvent);
    return copy;
  },
  'append a forged event with a correct link': (lines, pick) => {
    const last = lines
      .filter((l) => l.event.requestId === lines[pick % lines.length]?.event.requestId)
      .at(-1);
    if (!last?.link) return undefined;
    const forged: AuditEvent = { ...last.event, eventId: 'forged.00000000', action: 'grant.succeeded' };
    const position = lines.indexOf(last) + 1;
    const copy = [...lines];
    copy.splice(position, 0, { event: forged, link: nextLink(last.link, forged) });
    return copy;
  },
};

describe('the audit hash chain', () => {
  it('verifies a trail as it was written', () => {
    fc.assert(
      fc.property(trailArb, ({ lines, heads }) => {
        expect(verifyChains(lines, heads)).toEqual({
          requests: Object.keys(heads).length,
          events: lines.length,
          breaks: [],
        });
      }),
    );
  });

  for (const [name, tamper] of Object.entries(tampers))
    it(`detects any single tampering: ${name}`, () => {
      let applied = 0;
      fc.assert(
        fc.property(trailArb, fc.nat(), ({ lines, heads }, pick) => {
          const tampered = tamper(lines, pick);
          if (!tampered) return;
          applied++;
          const { breaks } = verifyChains(tampered, heads);
          expect(breaks.length).toBeGreaterThan(0);
          expect(breaks[0]?.problem).toEqual(expect.any(String));
        }),
        { numRuns: 100 },
      );
      // The tampering applied to most generated trails (not vacuously skipped).
      expect(applied).toBeGreaterThan(25);
    });

  it('names the first broken link: request, event, expected and found hash', () => {
    const event: AuditEvent = {
      version: 1,
      requestId: 'r-1',
      eventId: 'request.submitted.1',
      at: '2026-12-01T09:00:00.000Z',
      actor: 'alice@example.com',
      action: 'request.submitted',
      outcome: 'success',
      details: { reason: 'deploy' },
    };
    const link = nextLink(undefined, event);
    expect(link).toMatchObject({ seq: 1, prevHash: genesisHash('r-1') });
    const edited = { ...event, details: { reason: 'deploy!' } };
    const [broken] = verifyChains([{ event: edited, link }], { 'r-1': { seq: 1, hash: link.hash } }).breaks;
    expect(broken).toMatchObject({
      requestId: 'r-1',
      eventId: 'request.submitted.1',
      seq: 1,
      problem: 'event content does not match its link',
      found: link.hash,
    });
    expect(broken?.expected).toMatch(/^[0-9a-f]{64}$/);
    expect(broken?.expected).not.toBe(link.hash);
  });

  it('reports an event with no link, and a request whose events were all removed', () => {
    const event = { ...baseEvent(), eventId: 'x.1' };
    expect(verifyChains([{ event, link: null }]).breaks[0]?.problem).toMatch(/no link/);
    expect(verifyChains([], { 'r-gone': { seq: 3, hash: 'h' } }).breaks[0]).toMatchObject({
      requestId: 'r-gone',
      problem: expect.stringMatching(/no events/),
    });
  });
});

function baseEvent(): AuditEvent {
  return {
    version: 1,
    requestId: 'r-2',
    eventId: 'e',
    at: '2026-12-01T09:00:00.000Z',
    actor: 'system:grant',
    action: 'grant.succeeded',
    outcome: 'success',
    details: {},
  };
}
