import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { AuditEvent, RequestRecord } from '../../functions/core/model';
import { parsePolicy } from '../../functions/core/policy-file';
import { auditTrailProblems, decisionProblems, holdingInterval, wrongDeletions } from './invariants';

// The campaign's judge must be able to fail: each check flags the defect it exists for.

const policy = parsePolicy(readFileSync(path.join(__dirname, 'chaos-policy.yaml'), 'utf8'));
let n = 0;
const event = (
  action: AuditEvent['action'],
  actor = 'system:workflow',
  details: AuditEvent['details'] = {},
): AuditEvent => ({
  version: 1,
  requestId: 'req-1',
  eventId: `e${++n}`,
  at: new Date(Date.UTC(2026, 0, 1, 0, 0, n)).toISOString(),
  actor,
  action,
  outcome: 'info',
  details,
});
const trail = (...actions: AuditEvent['action'][]) => actions.map((a) => event(a));
const record = (status: RequestRecord['status'], ruleName = 'production-read'): RequestRecord =>
  ({
    version: 1,
    request: { requestId: 'req-1', requester: { email: 'alice@example.com', slackUserId: 'U0ALICE' } },
    status,
    ruleName,
    approvals: [],
    updatedAt: '',
  }) as unknown as RequestRecord;

describe('campaign invariants', () => {
  it('accepts a complete trail', () => {
    const events = trail(
      'request.submitted',
      'approval.auto',
      'grant.requested',
      'grant.succeeded',
      'window.opened',
      'window.expired',
      'revoke.requested',
      'revoke.succeeded',
      'request.closed',
    );
    expect(auditTrailProblems('req-1', events, record('REVOKED'))).toEqual([]);
  });

  it('accepts a window ended before it opened only when its event says so, and never with window.opened', () => {
    const ended = (details: AuditEvent['details'], opened: boolean) => [
      ...trail('request.submitted', 'approval.auto', 'grant.requested', 'grant.succeeded'),
      ...(opened ? trail('window.opened') : []),
      event('window.ended-early', 'alice@example.com', details),
      ...trail('revoke.requested', 'revoke.succeeded', 'request.closed'),
    ];
    expect(auditTrailProblems('req-1', ended({ beforeOpened: true }, false), record('REVOKED'))).toEqual([]);
    expect(auditTrailProblems('req-1', ended({}, true), record('REVOKED'))).toEqual([]);
    expect(auditTrailProblems('req-1', ended({}, false), record('REVOKED'))).toEqual([
      'window.ended-early without window.opened',
    ]);
    expect(auditTrailProblems('req-1', ended({ beforeOpened: true }, true), record('REVOKED'))).toEqual([
      'window.ended-early before it opened, yet window.opened',
    ]);
  });

  it('flags a trail that never closes, never ends its access, or is out of order', () => {
    expect(
      auditTrailProblems('req-1', trail('request.submitted', 'approval.auto'), record('APPROVED')),
    ).toContain('never closed (no request.closed)');
    expect(
      auditTrailProblems(
        'req-1',
        trail('request.submitted', 'grant.requested', 'grant.succeeded', 'request.closed'),
        record('REVOKED'),
      ),
    ).toContain('granted, but no revoke/kept/reconciler event ends the access');
    const shuffled = trail('request.submitted', 'grant.succeeded', 'request.closed', 'revoke.succeeded');
    [shuffled[1], shuffled[2]] = [shuffled[2] as AuditEvent, shuffled[1] as AuditEvent];
    expect(auditTrailProblems('req-1', shuffled, record('REVOKED')).join()).toContain('out of time order');
    expect(auditTrailProblems('req-1', [], record('REVOKED'))).toEqual([
      'no audit events for a stored request',
    ]);
  });

  it('flags decisions by non-approvers, self-approval, double counting and grants without quorum', () => {
    const granted = trail('request.submitted', 'approval.requested');
    const byAlice = [...granted, event('approval.approved', 'alice@example.com'), event('grant.succeeded')];
    expect(decisionProblems(policy, byAlice, record('REVOKED')).join()).toContain('who may not decide');
    const twice = [
      ...granted,
      event('approval.approved', 'carol@example.com'),
      event('approval.approved', 'carol@example.com'),
    ];
    expect(decisionProblems(policy, twice, record('APPROVED', 'production-admin')).join()).toContain(
      'counted twice',
    );
    const short = [...granted, event('approval.approved', 'carol@example.com'), event('grant.succeeded')];
    expect(decisionProblems(policy, short, record('REVOKED', 'production-admin')).join()).toContain(
      'granted with 1 of 2',
    );
    const both = [
      ...granted,
      event('approval.denied', 'dave@example.com'),
      event('approval.denied', 'erin@example.com'),
    ];
    expect(decisionProblems(policy, both, record('DENIED')).join()).toContain('denied 2 times');
  });

  it('flags deletions of permanent assignments and of assignments a live request held', () => {
    const events = [event('grant.succeeded'), event('window.opened'), event('window.expired')];
    const interval = holdingInterval('k1', events);
    expect(interval).toBeDefined();
    const inside = { key: 'k1', operationId: 'op-1', completedAt: Date.parse(events[1]?.at ?? '') };
    const after = { key: 'k1', operationId: 'op-2', completedAt: Date.parse(events[2]?.at ?? '') + 1 };
    const permanent = { key: 'perm', operationId: 'op-3', completedAt: 0 };
    const wrong = wrongDeletions([inside, after, permanent], new Set(['perm']), interval ? [interval] : []);
    expect(wrong.map((w) => w.operationId)).toEqual(['op-1', 'op-3']);
  });
});
