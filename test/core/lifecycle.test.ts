import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import {
  CLOSE_AS,
  EDITS,
  GRANTING_PHASE,
  mayMove,
  movesInto,
  TRANSITIONS,
} from '../../functions/core/lifecycle';
import { FINAL_STATUSES, REQUEST_STATUSES, type RequestStatus } from '../../functions/core/model';

// The request's lifecycle table, and that every conditional write of the core takes its allowed
// statuses from it.

describe('request status transitions', () => {
  it('moves a pending request only by a decision, a cancellation, an expiry or a rejection', () => {
    expect([...TRANSITIONS.PENDING_APPROVAL].sort()).toEqual(
      ['APPROVAL_EXPIRED', 'APPROVED', 'CANCELLED', 'DENIED', 'REJECTED'].sort(),
    );
    expect(movesInto('APPROVED')).toEqual(['PENDING_APPROVAL']);
    expect(movesInto('DENIED')).toEqual(['PENDING_APPROVAL']);
  });

  it('cancels only a request nobody has decided yet or one waiting for its start, and a cancelled request stays cancelled', () => {
    // APPROVED only for a scheduled request still waiting (authority.ts isCancellable guards the write).
    expect(movesInto('CANCELLED')).toEqual(['PENDING_APPROVAL', 'APPROVED']);
    expect(FINAL_STATUSES).toContain('CANCELLED');
    expect(TRANSITIONS.CANCELLED).toEqual([]);
    // Nothing the reconciler closes an abandoned request as, nor any grant, starts from it.
    expect(CLOSE_AS.CANCELLED).toBeUndefined();
    expect(mayMove('GRANTING', 'CANCELLED')).toBe(false);
    expect(mayMove('ACTIVE', 'CANCELLED')).toBe(false);
  });

  it('keeps copies of the approval message in any status (a DM posted while it is decided)', () => {
    expect(EDITS.approvalCopies).toEqual(REQUEST_STATUSES);
    expect(EDITS.approvalMessage).toEqual(['PENDING_APPROVAL']);
  });

  it('opens a window only while granting', () => {
    expect(movesInto('ACTIVE')).toEqual(['APPROVED', 'GRANTING']);
    expect(GRANTING_PHASE).toEqual(['APPROVED', 'GRANTING']);
    expect(mayMove('REVOKING', 'ACTIVE')).toBe(false);
    expect(mayMove('GRANT_FAILED', 'ACTIVE')).toBe(false);
  });

  it('revokes from any status in which access may exist, and a failed grant too', () => {
    expect(movesInto('REVOKING')).toEqual(['APPROVED', 'GRANTING', 'ACTIVE', 'GRANT_FAILED']);
    expect(movesInto('REVOKED')).toEqual(['APPROVED', 'GRANTING', 'ACTIVE', 'REVOKING', 'GRANT_FAILED']);
    expect(mayMove('PENDING_APPROVAL', 'REVOKED')).toBe(false);
  });

  it('moves a final status nowhere, and every other one somewhere', () => {
    for (const status of REQUEST_STATUSES)
      expect(TRANSITIONS[status].length === 0).toBe(FINAL_STATUSES.includes(status));
    for (const status of FINAL_STATUSES)
      expect(REQUEST_STATUSES.filter((to) => mayMove(status, to))).toEqual([]);
  });

  it('never moves back to a pending approval, and never into the same status', () => {
    expect(movesInto('PENDING_APPROVAL')).toEqual([]);
    for (const status of REQUEST_STATUSES) expect(mayMove(status, status)).toBe(false);
  });

  it('adds the status itself only for a retry that writes it again', () => {
    expect(movesInto('GRANTING', { orAlready: true })).toEqual(['APPROVED', 'GRANTING']);
    expect(movesInto('DENIED', { orAlready: true })).toEqual(['PENDING_APPROVAL', 'DENIED']);
  });

  it('closes an abandoned request only along a move of the table', () => {
    for (const [from, target] of Object.entries(CLOSE_AS))
      expect(mayMove(from as RequestStatus, target.status)).toBe(true);
  });
});

describe('conditional writes of the core', () => {
  const coreDir = path.join(__dirname, '../../functions/core');
  // The core and its step modules (core/steps/).
  const calls = readdirSync(coreDir, { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith('.ts') && file !== 'ports.ts')
    .flatMap((file) => updateRequestCalls(readFileSync(path.join(coreDir, file), 'utf8'), file));

  it('finds the writes', () => {
    expect(calls.length).toBeGreaterThanOrEqual(16);
  });

  it('never hand-lists the statuses a write is allowed from', () => {
    const listed = calls.filter((call) => /^\[\s*'/.test(call.from));
    expect(listed.map((call) => `${call.file}: ${call.from}`)).toEqual([]);
  });

  it('writes a new status only from statuses that may move into it', () => {
    const wrong: string[] = [];
    for (const call of calls) {
      const from = allowedFrom(call.from);
      // The status it was read in (a compare-and-swap on the status), or Finish's table of outcomes.
      if (from === 'read' || from === 'outcome') continue;
      if (!from) {
        wrong.push(`${call.file}: ${call.from} is not from the lifecycle table`);
        continue;
      }
      const status = /\bstatus: '([A-Z_]+)'/.exec(call.change)?.[1] as RequestStatus | undefined;
      for (const before of status ? from : [])
        if (before !== status && !mayMove(before, status as RequestStatus))
          wrong.push(`${call.file}: ${before} → ${status}`);
    }
    expect(wrong).toEqual([]);
  });

  it("takes Finish's outcomes from the table too", () => {
    const steps = readFileSync(path.join(coreDir, 'steps/finish.ts'), 'utf8');
    expect(steps.match(/from: \[/g)).toBeNull();
    expect(steps.match(/from: movesInto\(/g)?.length).toBe(7);
  });
});

/** The statuses a write's `from` argument names, as far as the source says. */
function allowedFrom(source: string): readonly RequestStatus[] | 'read' | 'outcome' | undefined {
  const either = /^[\w.]+ \? (.+) : (.+)$/.exec(source);
  if (either) {
    const [a, b] = [allowedFrom(either[1] as string), allowedFrom(either[2] as string)];
    return Array.isArray(a) && Array.isArray(b) ? [...a, ...b] : undefined;
  }
  const moves = /^movesInto\('([A-Z_]+)'(, \{ orAlready: true \})?\)$/.exec(source);
  if (moves) return movesInto(moves[1] as RequestStatus, { orAlready: moves[2] !== undefined });
  if (source === 'GRANTING_PHASE') return GRANTING_PHASE;
  const edit = /^EDITS\.(\w+)$/.exec(source);
  if (edit) return EDITS[edit[1] as keyof typeof EDITS];
  // An edit keyed by the field it writes (optimistic.ts changeField): one of the table's edits.
  if (source === 'EDITS[field]') return [...new Set(Object.values(EDITS).flat())];
  if (/^\[\w+\.status\]$/.test(source)) return 'read';
  if (source === 'target.from') return 'outcome';
  return undefined;
}

/** The `from` and `change` arguments of every `updateRequest(...)` call in a source file. */
function updateRequestCalls(text: string, file: string) {
  const found: { file: string; from: string; change: string }[] = [];
  for (let at = text.indexOf('.updateRequest('); at >= 0; at = text.indexOf('.updateRequest(', at + 1)) {
    const args = splitArguments(text, at + '.updateRequest('.length);
    found.push({ file, from: (args[1] ?? '').replace(/\s+/g, ' ').trim(), change: args[2] ?? '' });
  }
  return found;
}

function splitArguments(text: string, start: number): string[] {
  const args: string[] = [];
  let depth = 0;
  let current = '';
  for (let i = start; i < text.length; i++) {
    const c = text[i] as string;
    if (depth === 0 && (c === ',' || c === ')')) {
      args.push(current.trim());
      current = '';
      if (c === ')') return args;
      continue;
    }
    if ('([{'.includes(c)) depth++;
    if (')]}'.includes(c)) depth--;
    current += c;
  }
  return args;
}
