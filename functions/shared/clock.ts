import type { Clock } from '../core/ports';

/** Real time: what every deployed handler reads. The local stack passes its own to createHandler. */
export const systemClock: Clock = { now: () => new Date() };
