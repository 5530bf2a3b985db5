// Small deterministic building blocks: seeded RNG, token bucket, manual clock, service errors.

/** mulberry32: tiny, fast and good enough to make fault campaigns reproducible from a seed. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Refills continuously from the injected clock, so tests control it by moving time, not by sleeping. */
export class TokenBucket {
  private tokens: number;
  private lastRefill: number;

  constructor(
    private readonly ratePerSecond: number,
    private readonly capacity: number,
    private readonly now: () => number,
  ) {
    this.tokens = capacity;
    this.lastRefill = now();
  }

  tryTake(): boolean {
    if (!Number.isFinite(this.ratePerSecond)) return true;
    const now = this.now();
    const elapsedMs = Math.max(0, now - this.lastRefill);
    this.tokens = Math.min(this.capacity, this.tokens + (elapsedMs * this.ratePerSecond) / 1000);
    this.lastRefill = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}

export interface ManualClock {
  now: () => number;
  advance: (ms: number) => void;
  set: (epochMs: number) => void;
}

/** A clock that moves only when told to. */
export function createManualClock(startEpochMs = Date.UTC(2026, 0, 1)): ManualClock {
  let current = startEpochMs;
  return {
    now: () => current,
    advance: (ms) => {
      current += ms;
    },
    set: (epochMs) => {
      current = epochMs;
    },
  };
}

export const SERVICE_ERROR_NAMES = [
  'ThrottlingException',
  'ConflictException',
  'ResourceNotFoundException',
  'ValidationException',
  'AccessDeniedException',
  'InternalServerException',
  'ServiceQuotaExceededException',
  'UnknownOperationException',
] as const;
export type ServiceErrorName = (typeof SERVICE_ERROR_NAMES)[number];

/** An error the stand-in answers with; serialised as `{"__type": name, "message": ...}`. */
export class ServiceError extends Error {
  constructor(
    readonly errorName: ServiceErrorName,
    message: string,
    /** Extra members of the error shape (e.g. ResourceType for identitystore). */
    readonly fields: Record<string, string> = {},
  ) {
    super(message);
    this.name = errorName;
  }

  get httpStatus(): number {
    return this.errorName === 'InternalServerException' ? 500 : 400;
  }

  toBody(): Record<string, string> {
    return { __type: this.errorName, message: this.message, ...this.fields };
  }
}
