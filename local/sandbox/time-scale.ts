// `--minute=1s`: how much real time one product minute takes in the sandbox. The scale reaches the
// workflow only through the local Step Functions host (Wait states, callback timeouts such as the
// access window and the approval timeout, retry intervals); production code is unchanged.

export const REAL_TIME_MS_PER_MINUTE = 60_000;

/** "1s", "500ms", "60s", "2m", or a bare number of milliseconds → real milliseconds per product minute. */
export function parseMinuteScale(text: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m)?\s*$/i.exec(text);
  if (!match) throw new Error(`--minute=${text}: expected a duration such as 1s, 500ms or 60s`);
  const value = Number(match[1]);
  const unit = (match[2] ?? 'ms').toLowerCase();
  const ms = unit === 'm' ? value * 60_000 : unit === 's' ? value * 1000 : value;
  if (!(ms > 0)) throw new Error(`--minute=${text}: must be above zero`);
  return ms;
}

/** The Step Functions host's msPerSecond (real ms per ASL second). */
export function msPerAslSecond(msPerMinute: number): number {
  return msPerMinute / 60;
}

export function describeScale(msPerMinute: number): string {
  if (msPerMinute === REAL_TIME_MS_PER_MINUTE) return 'real time';
  const real = msPerMinute >= 1000 ? `${msPerMinute / 1000}s` : `${msPerMinute}ms`;
  return `1 minute = ${real} (a 30-minute grant lasts ${formatMs(30 * msPerMinute)})`;
}

function formatMs(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 120_000) return `${Math.round(ms / 100) / 10} s`;
  return `${Math.round(ms / 6000) / 10} min`;
}
