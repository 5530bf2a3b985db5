import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDbAuditLog } from '../../functions/adapters/dynamodb-audit-log';
import { auditSource, exportTrail, fromJsonl, main, toCsv, toJsonl } from '../../functions/cli/audit';
import type { AuditEvent } from '../../functions/core/model';
import { createLocalTables, type LocalDynamo, localDynamoClient, startLocalDynamo } from '../support/dynamo';

// `npm run audit`: export the trail through the DynamoDB API and verify it; one flipped byte in
// the export fails verify, naming the event.

const TABLES = { stateTable: 'cli-state', auditTable: 'cli-audit' };
let dynamo: LocalDynamo;
let client: DynamoDBClient;
const dir = mkdtempSync(path.join(os.tmpdir(), 'audit-cli-'));
const saved = { ...process.env };

const event = (requestId: string, n: number, overrides: Partial<AuditEvent> = {}): AuditEvent => ({
  version: 1,
  requestId,
  eventId: `evt-${n}`,
  at: `2026-12-0${1 + (n % 2)}T09:00:0${n}.000Z`,
  actor: 'alice@example.com',
  action: 'request.submitted',
  outcome: 'success',
  details: { reason: `deploy ${n}` },
  ...overrides,
});

beforeAll(async () => {
  dynamo = await startLocalDynamo();
  client = localDynamoClient(dynamo.endpoint);
  await createLocalTables(client, TABLES);
  const log = new DynamoDbAuditLog(client, TABLES.auditTable);
  for (const requestId of ['r-a', 'r-b']) for (let n = 1; n <= 4; n++) await log.append(event(requestId, n));
  Object.assign(process.env, {
    AUDIT_TABLE: TABLES.auditTable,
    AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
  });
});
afterAll(async () => {
  process.env = saved;
  client.destroy();
  await dynamo.close();
});

const run = async (...argv: string[]) => {
  const printed: string[] = [];
  const code = await main(argv, (line) => printed.push(line));
  return { code, printed };
};

describe('npm run audit', () => {
  it('exports every request in chain order with its links and heads, and the export verifies', async () => {
    const file = path.join(dir, 'all.jsonl');
    expect((await run('export', '--out', file)).code).toBe(0);
    const trail = fromJsonl(readFileSync(file, 'utf8'));
    expect(trail.lines.map((l) => `${l.event.requestId}:${l.link?.seq}`)).toEqual([
      'r-a:1',
      'r-a:2',
      'r-a:3',
      'r-a:4',
      'r-b:1',
      'r-b:2',
      'r-b:3',
      'r-b:4',
    ]);
    expect(Object.keys(trail.heads).sort()).toEqual(['r-a', 'r-b']);
    expect(await run('verify', file)).toEqual({
      code: 0,
      printed: ['OK: 8 events of 2 requests, 0 broken chains'],
    });
  });

  it('fails verify when one byte of the export changes, naming the request and event', async () => {
    const file = path.join(dir, 'flipped.jsonl');
    await run('export', '--out', file);
    const text = readFileSync(file, 'utf8');
    const at = text.indexOf('deploy 3');
    writeFileSync(file, `${text.slice(0, at)}Deploy 3${text.slice(at + 8)}`);

    const { code, printed } = await run('verify', file);
    expect(code).toBe(1);
    expect(printed[0]).toMatch(
      /^BROKEN request r-a, event evt-3 \(link 3\): event content does not match its link; expected [0-9a-f]{64}, found [0-9a-f]{64}$/,
    );
    expect(printed.at(-1)).toBe('FAILED: 8 events of 2 requests, 1 broken chain');
  });

  it('fails verify when the export loses its last event', async () => {
    const file = path.join(dir, 'cut.jsonl');
    await run('export', '--request', 'r-b', '--out', file);
    const lines = readFileSync(file, 'utf8').trim().split('\n');
    writeFileSync(file, [...lines.slice(0, -2), lines.at(-1)].join('\n'));
    const { code, printed } = await run('verify', file);
    expect(code).toBe(1);
    expect(printed[0]).toMatch(/r-b.*last link is not the head/);
  });

  it('verifies the table itself, and selects whole requests by period', async () => {
    expect((await run('verify', '--table')).code).toBe(0);
    // Only r-a and r-b have events on 2 December: both, whole (their 1 December events too).
    const period = await exportTrail(auditSource(), { from: '2026-12-02T00:00:00.000Z' });
    expect(period.lines).toHaveLength(8);
    expect((await exportTrail(auditSource(), { from: '2026-12-03T00:00:00.000Z' })).lines).toHaveLength(0);
  });

  it('writes CSV for spreadsheets, quoting what needs it', async () => {
    const csv = toCsv(await exportTrail(auditSource(), { requestId: 'r-a' }));
    const [header, first] = csv.split('\r\n');
    expect(header).toBe('requestId,seq,eventId,at,actor,action,outcome,details,prevHash,hash');
    expect(first).toMatch(
      /^r-a,1,evt-1,2026-12-02T09:00:01.000Z,alice@example.com,request.submitted,success,"\{""reason"":""deploy 1""\}",[0-9a-f]{64},[0-9a-f]{64}$/,
    );
  });

  it('reads the running sandbox when no AUDIT_TABLE is set, and says when none runs', () => {
    const endpoints = path.join(dir, 'endpoints.json');
    expect(() => auditSource({}, endpoints)).toThrow(/no sandbox running/);
    writeFileSync(
      endpoints,
      JSON.stringify({ dynamodb: dynamo.endpoint, auditTable: 'x', pid: process.pid }),
    );
    expect(auditSource({}, endpoints).table).toBe('x');
    writeFileSync(
      endpoints,
      JSON.stringify({ dynamodb: dynamo.endpoint, auditTable: 'x', pid: 2 ** 22 + 1 }),
    );
    expect(() => auditSource({}, endpoints)).toThrow(/no longer running/);
  });

  it('round-trips an export through JSONL', async () => {
    const trail = await exportTrail(auditSource(), {});
    expect(fromJsonl(toJsonl(trail))).toEqual(trail);
  });
});
