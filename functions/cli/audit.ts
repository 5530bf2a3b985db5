import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { paginateQuery, paginateScan } from '@aws-sdk/lib-dynamodb';
import { documentsOf } from '../adapters/dynamodb-documents';
import { type ChainedEvent, type ChainHeads, type ChainLink, verifyChains } from '../core/audit-chain';
import type { AuditEvent } from '../core/model';
import { runMain } from './run';

// `npm run audit -- <command>`: the audit trail for auditors, through the real DynamoDB API.
//   export [--request ID] [--from TIME] [--to TIME] [--format jsonl|csv] [--out FILE|-]
//   verify FILE | --table [--request ID]
// The table is AUDIT_TABLE with the usual AWS credentials and region (AWS_ENDPOINT_URL_DYNAMODB
// for another endpoint); without AUDIT_TABLE, the running sandbox's (`npm start` writes where its
// DynamoDB listens to .sandbox-data/endpoints.json). An export carries every request's events in
// chain order with their links, and a last line of heads; `verify` exits 1 on any broken link.

export const SANDBOX_ENDPOINTS_FILE = path.join(__dirname, '../../.sandbox-data/endpoints.json');

const USAGE = `Usage: npm run audit -- export [--request ID] [--from TIME] [--to TIME] [--format jsonl|csv] [--out FILE|-]
       npm run audit -- verify FILE | --table [--request ID]`;

export interface AuditSource {
  client: DynamoDBClient;
  table: string;
}

/** Where the trail is: AUDIT_TABLE (and the AWS environment), else the running sandbox's table. */
export function auditSource(
  env: NodeJS.ProcessEnv = process.env,
  endpointsFile = SANDBOX_ENDPOINTS_FILE,
): AuditSource {
  if (env.AUDIT_TABLE) return { client: new DynamoDBClient({}), table: env.AUDIT_TABLE };
  if (!existsSync(endpointsFile))
    throw new Error(
      'No AUDIT_TABLE set and no sandbox running (start one with `npm start`, or set AUDIT_TABLE).',
    );
  const sandbox = JSON.parse(readFileSync(endpointsFile, 'utf8')) as {
    dynamodb: string;
    auditTable: string;
    pid: number;
  };
  if (!isRunning(sandbox.pid))
    throw new Error(`The sandbox that wrote ${endpointsFile} is no longer running.`);
  return {
    // The sandbox's dynalite accepts any signature; the SDK still needs some credentials to sign.
    client: new DynamoDBClient({
      endpoint: sandbox.dynamodb,
      region: 'us-east-1',
      credentials: { accessKeyId: 'sandbox', secretAccessKey: 'sandbox' },
    }),
    table: sandbox.auditTable,
  };
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export interface ExportFilter {
  requestId?: string;
  /** Requests with an event at or after this time (ISO 8601), whole. */
  from?: string;
  /** Requests with an event before this time, whole. */
  to?: string;
}

export interface TrailExport {
  lines: ChainedEvent[];
  heads: ChainHeads;
}

/**
 * Reads the trail: per request its events in chain order with their links (events the chain
 * lacks come last, without a link, so verify names them), and its head. A period selects whole
 * requests, so each exported chain can be verified.
 */
export async function exportTrail(source: AuditSource, filter: ExportFilter = {}): Promise<TrailExport> {
  const documents = documentsOf(source.client);
  const items: Record<string, unknown>[] = [];
  const pages = filter.requestId
    ? paginateQuery(
        { client: documents },
        {
          TableName: source.table,
          KeyConditionExpression: 'pk = :r',
          ExpressionAttributeValues: { ':r': filter.requestId },
          ConsistentRead: true,
        },
      )
    : paginateScan({ client: documents }, { TableName: source.table, ConsistentRead: true });
  for await (const page of pages) items.push(...((page.Items ?? []) as Record<string, unknown>[]));

  const byRequest = new Map<string, { events: Map<string, AuditEvent>; links: ChainLink[] }>();
  for (const item of items) {
    const { pk, sk, ...rest } = item;
    const requestId = String(pk);
    const entry = byRequest.get(requestId) ?? {
      events: new Map<string, AuditEvent>(),
      links: [] as ChainLink[],
    };
    byRequest.set(requestId, entry);
    if (String(sk).startsWith('CHAIN#')) entry.links.push(rest as unknown as ChainLink);
    else entry.events.set(String(rest.eventId), rest as unknown as AuditEvent);
  }
  const inPeriod = (events: AuditEvent[]) =>
    events.some((e) => (!filter.from || e.at >= filter.from) && (!filter.to || e.at < filter.to));
  const lines: ChainedEvent[] = [];
  const heads: ChainHeads = {};
  for (const requestId of [...byRequest.keys()].sort()) {
    const { events, links } = byRequest.get(requestId) as {
      events: Map<string, AuditEvent>;
      links: ChainLink[];
    };
    if (!inPeriod([...events.values()])) continue;
    links.sort((a, b) => a.seq - b.seq);
    const linked = new Set<string>();
    for (const link of links) {
      const event = events.get(link.eventId);
      // A link whose event is gone is exported with what the link names, so verify reports it.
      lines.push({ event: event ?? missingEvent(requestId, link), link });
      linked.add(link.eventId);
    }
    for (const event of [...events.values()].sort((a, b) => a.at.localeCompare(b.at)))
      if (!linked.has(event.eventId)) lines.push({ event, link: null });
    const last = links.at(-1);
    if (last) heads[requestId] = { seq: last.seq, hash: last.hash };
  }
  return { lines, heads };
}

function missingEvent(requestId: string, link: ChainLink): AuditEvent {
  return {
    version: 1,
    requestId,
    eventId: link.eventId,
    at: '',
    actor: '(event missing from the table)',
    action: 'request.submitted',
    outcome: 'info',
    details: {},
  };
}

export function toJsonl({ lines, heads }: TrailExport): string {
  return `${[...lines.map((line) => JSON.stringify(line)), JSON.stringify({ heads })].join('\n')}\n`;
}

/** Reads an export back; a line that is not JSON is an error naming its number. */
export function fromJsonl(text: string): TrailExport {
  const lines: ChainedEvent[] = [];
  let heads: ChainHeads | undefined;
  for (const [index, raw] of text.split('\n').entries()) {
    if (!raw.trim()) continue;
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw);
    } catch {
      throw new Error(`line ${index + 1} is not JSON`);
    }
    const value = parsed as Partial<ChainedEvent> & { heads?: ChainHeads };
    if (value.heads) heads = value.heads;
    else if (value.event) lines.push({ event: value.event, link: value.link ?? null });
    else throw new Error(`line ${index + 1} is neither an event nor the heads`);
  }
  if (!heads) throw new Error('the export has no heads line (was it cut short?)');
  return { lines, heads };
}

const CSV_COLUMNS = [
  'requestId',
  'seq',
  'eventId',
  'at',
  'actor',
  'action',
  'outcome',
  'details',
  'prevHash',
  'hash',
];

/** CSV for spreadsheets (RFC 4180 quoting: five lines, not worth a dependency). `verify` reads JSONL. */
export function toCsv({ lines }: TrailExport): string {
  const cell = (value: unknown) => {
    const text = value === null || value === undefined ? '' : String(value);
    return /[",\n\r]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
  };
  const rows = lines.map(({ event, link }) =>
    [
      event.requestId,
      link?.seq ?? '',
      event.eventId,
      event.at,
      event.actor,
      event.action,
      event.outcome,
      JSON.stringify(event.details),
      link?.prevHash ?? '',
      link?.hash ?? '',
    ]
      .map(cell)
      .join(','),
  );
  return `${[CSV_COLUMNS.join(','), ...rows].join('\r\n')}\r\n`;
}

/** `verify`: a line per break and a summary; true when every chain holds. */
export function report(trail: TrailExport, print: (line: string) => void): boolean {
  const result = verifyChains(trail.lines, trail.heads);
  for (const b of result.breaks)
    print(
      `BROKEN request ${b.requestId}, event ${b.eventId}${b.seq === null ? '' : ` (link ${b.seq})`}: ${b.problem}` +
        (b.expected !== undefined ? `; expected ${b.expected}, found ${b.found}` : ''),
    );
  print(
    `${result.breaks.length === 0 ? 'OK' : 'FAILED'}: ${result.events} events of ${result.requests} requests, ` +
      `${result.breaks.length} broken chain${result.breaks.length === 1 ? '' : 's'}`,
  );
  return result.breaks.length === 0;
}

export async function main(argv: string[], print: (line: string) => void = console.log): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      request: { type: 'string' },
      from: { type: 'string' },
      to: { type: 'string' },
      format: { type: 'string', default: 'jsonl' },
      out: { type: 'string' },
      table: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  const [command, file] = positionals;
  if (values.help || !command) {
    print(USAGE);
    return command || values.help ? 0 : 2;
  }
  for (const [flag, value] of [
    ['--from', values.from],
    ['--to', values.to],
  ] as const)
    if (value !== undefined && Number.isNaN(Date.parse(value)))
      throw new Error(`${flag} ${value} is not a time`);
  const filter = { requestId: values.request, from: iso(values.from), to: iso(values.to) };
  if (command === 'export') {
    if (values.format !== 'jsonl' && values.format !== 'csv') throw new Error('--format is jsonl or csv');
    const trail = await exportTrail(auditSource(), filter);
    const text = values.format === 'csv' ? toCsv(trail) : toJsonl(trail);
    // A file by default: npm prints its own lines on stdout, which would end up in a redirected export.
    const out = values.out ?? `audit-export.${values.format}`;
    if (out === '-') process.stdout.write(text);
    else {
      writeFileSync(out, text);
      print(`${trail.lines.length} events of ${Object.keys(trail.heads).length} requests written to ${out}`);
    }
    return 0;
  }
  if (command === 'verify') {
    if (!file && !values.table) throw new Error('verify needs an export FILE or --table');
    const trail = file ? fromJsonl(readFileSync(file, 'utf8')) : await exportTrail(auditSource(), filter);
    return report(trail, print) ? 0 : 1;
  }
  throw new Error(`Unknown command ${command}\n${USAGE}`);
}

function iso(value: string | undefined): string | undefined {
  return value === undefined ? undefined : new Date(value).toISOString();
}

if (require.main === module) runMain(main);
