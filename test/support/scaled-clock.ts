import { performance } from 'node:perf_hooks';
import type { Clock } from '../../functions/core/ports';

/**
 * Model time running `scale` times faster than real time from its creation (the fault campaign,
 * the workflow harness's scheduled starts); `advance` jumps it ahead.
 */
export class ScaledClock implements Clock {
  private readonly realStart = performance.timeOrigin + performance.now();
  private offset = 0;
  constructor(readonly scale: number) {}
  nowMs(): number {
    return (
      this.realStart +
      (performance.timeOrigin + performance.now() - this.realStart) * this.scale +
      this.offset
    );
  }
  now(): Date {
    return new Date(this.nowMs());
  }
  advance(virtualMs: number): void {
    this.offset += virtualMs;
  }
  realMs(virtualMs: number): number {
    return Math.max(0, virtualMs / this.scale);
  }
}
