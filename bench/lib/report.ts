// The shape every benchmark section returns, and the one table `npm run bench` prints.

export type Status = 'PASS' | 'MISS' | 'INFO' | 'FAIL';

export interface Row {
  measure: string;
  /** Formatted for the table. */
  result: string;
  /** Formatted target, e.g. "p99 < 300 ms"; absent for informational rows. */
  target?: string;
  status: Status;
}

export interface SectionResult {
  id: SectionId;
  title: string;
  rows: Row[];
  /** Raw figures for results.json. */
  details: Record<string, unknown>;
  /** How the figures were taken (scaling, latencies, counts): printed under the table. */
  notes: string[];
  durationMs: number;
}

/** In the order `npm run bench` runs them (cheapest and least noise-sensitive first). */
export const SECTION_IDS = [
  'lifecycle',
  'revoke-lag',
  'throughput',
  'cold-init',
  'slack-ack',
  'audit-verify',
  'directory',
] as const;
export type SectionId = (typeof SECTION_IDS)[number];
/** The numbering, used in the table. */
export const SECTION_NUMBERS: Record<SectionId, number> = {
  'slack-ack': 1,
  'cold-init': 2,
  lifecycle: 3,
  'revoke-lag': 4,
  throughput: 5,
  'audit-verify': 6,
  directory: 7,
};

/** PASS/MISS for `value op limit`; MISS on NaN (a figure that could not be taken never passes). */
export function check(value: number, op: '<' | '<=' | '=', limit: number): Status {
  if (!Number.isFinite(value)) return 'MISS';
  const ok = op === '<' ? value < limit : op === '<=' ? value <= limit : value === limit;
  return ok ? 'PASS' : 'MISS';
}

export const ms = (value: number) => (Number.isFinite(value) ? `${fixed(value)} ms` : 'n/a');
export const seconds = (valueMs: number) =>
  Number.isFinite(valueMs) ? `${(valueMs / 1000).toFixed(1)} s` : 'n/a';
export const kb = (bytes: number) => `${(bytes / 1024).toFixed(0)} KB`;
export const usd = (value: number) => `$${value.toFixed(value < 0.01 ? 6 : 2)}`;

function fixed(value: number): string {
  return Math.abs(value) < 10 ? value.toFixed(1) : value.toFixed(0);
}

/** A plain-text table: the columns padded, one line per row, sections separated by a rule. */
export function renderTable(sections: SectionResult[]): string {
  const header = ['Section', 'Measure', 'Result', 'Target', 'Status'];
  const lines: string[][] = [];
  const separators = new Set<number>();
  const ordered = [...sections].sort((a, b) => SECTION_NUMBERS[a.id] - SECTION_NUMBERS[b.id]);
  ordered.forEach((section, index) => {
    if (index > 0) separators.add(lines.length);
    section.rows.forEach((row, rowIndex) => {
      lines.push([
        rowIndex === 0 ? `${SECTION_NUMBERS[section.id]} ${section.title}` : '',
        row.measure,
        row.result,
        row.target ?? '',
        row.status === 'INFO' ? '' : row.status,
      ]);
    });
  });
  const widths = header.map((title, column) =>
    Math.max(title.length, ...lines.map((line) => (line[column] ?? '').length)),
  );
  const format = (cells: string[]) =>
    cells
      .map((cell, column) => cell.padEnd(widths[column] ?? 0))
      .join(' | ')
      .trimEnd();
  const rule = widths.map((width) => '-'.repeat(width)).join('-+-');
  const out = [format(header), rule];
  lines.forEach((line, index) => {
    if (separators.has(index)) out.push(rule);
    out.push(format(line));
  });
  return out.join('\n');
}
