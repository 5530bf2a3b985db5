// Durations in policy and Slack input: "90m", "4h", "1h30m", "1d", or a bare number of minutes.
const DURATION_PATTERN = /^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?$/;

/** Minutes in a duration string, or undefined when the text is not a duration. */
export function parseDurationMinutes(text: string): number | undefined {
  const trimmed = text.trim().toLowerCase();
  if (/^\d+$/.test(trimmed)) {
    const minutes = Number(trimmed);
    return minutes > 0 ? minutes : undefined;
  }
  const match = DURATION_PATTERN.exec(trimmed);
  if (!match || trimmed === '') return undefined;
  const [, days, hours, minutes] = match;
  const total = Number(days ?? 0) * 1440 + Number(hours ?? 0) * 60 + Number(minutes ?? 0);
  return total > 0 ? total : undefined;
}

/** "1h 30m" style rendering for people. */
export function formatMinutes(totalMinutes: number): string {
  const days = Math.floor(totalMinutes / 1440);
  const hours = Math.floor((totalMinutes % 1440) / 60);
  const minutes = totalMinutes % 60;
  const parts = [days ? `${days}d` : '', hours ? `${hours}h` : '', minutes ? `${minutes}m` : ''].filter(
    Boolean,
  );
  return parts.length ? parts.join(' ') : '0m';
}
