import { randomBytes } from 'node:crypto';
import type { Ids } from '../core/ports';

// Sortable ids: milliseconds, then a per-process counter, then randomness. Audit events of one
// request sort in the order they were written (within a process exactly, across processes by
// the millisecond).
let counter = 0;

export const sortableIds: Ids = {
  next(): string {
    counter = (counter + 1) % 36 ** 4;
    return `${Date.now().toString(36).padStart(9, '0')}${counter.toString(36).padStart(4, '0')}${randomBytes(3).toString('hex')}`;
  },
};
