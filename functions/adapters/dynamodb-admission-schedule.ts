import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { AdmissionSchedule, ScheduleView, WindowEnd } from '../core/admission';
import { RetryableError } from '../core/errors';
import { documentsOf } from './dynamodb-documents';
import { isConditionalFailure } from './transient-errors';

// An admission schedule (core/admission.ts) as one item of the state table:
//   ADMISSION#identity-center / SCHEDULE        nextFreeMs: when the next reserved call may start;
//                                               held#<account>#<permission set ARN>: grants held there
//                                               end#<pair tag>#<second>: windows forecast to end then
//   ADMISSION#slack-channel#<id> / SCHEDULE     the same for approval posts to one Slack channel
// Moved with UpdateItem (an atomic `nextFreeMs + :d` under a condition), not read-modify-write:
// a burst of a thousand executions reserves at once, and a compare-and-swap loop would make them
// retry each other quadratically. IAM lets only the admission function and Revoke update it, and
// only items under ADMISSION# (dynamodb:LeadingKeys).

/** The two forms race only while the schedule falls idle; a few rounds settle it. */
const ROUNDS = 6;

export class DynamoDbAdmissionSchedule implements AdmissionSchedule {
  private readonly doc: DynamoDBDocumentClient;
  private readonly key: { pk: string; sk: string };

  constructor(
    client: DynamoDBClient,
    private readonly tableName: string,
    /** Which schedule: `identity-center` (the default) or `slack-channel#<channel id>`. */
    name = 'identity-center',
  ) {
    this.doc = documentsOf(client);
    this.key = { pk: `ADMISSION#${name}`, sk: 'SCHEDULE' };
  }

  async reserve(durationMs: number, nowMs: number, latestStartMs?: number): Promise<number | undefined> {
    for (let round = 0; round < ROUNDS; round++) {
      // Busy schedule (or none yet): take the next free point, unless it is past the latest
      // start. One round trip in a burst, when the schedule is busy.
      try {
        const updated = await this.doc.send(
          new UpdateCommand({
            TableName: this.tableName,
            Key: this.key,
            UpdateExpression: 'SET nextFreeMs = if_not_exists(nextFreeMs, :now) + :d',
            ConditionExpression:
              latestStartMs === undefined
                ? 'attribute_not_exists(nextFreeMs) OR nextFreeMs >= :now'
                : 'attribute_not_exists(nextFreeMs) OR (nextFreeMs >= :now AND nextFreeMs <= :latest)',
            ExpressionAttributeValues: {
              ':d': durationMs,
              ':now': nowMs,
              ...(latestStartMs === undefined ? {} : { ':latest': latestStartMs }),
            },
            ReturnValues: 'UPDATED_NEW',
          }),
        );
        return Number(updated.Attributes?.nextFreeMs) - durationMs;
      } catch (error) {
        if (!isConditionalFailure(error)) throw error;
      }
      // Idle schedule: start now.
      try {
        await this.doc.send(
          new UpdateCommand({
            TableName: this.tableName,
            Key: this.key,
            UpdateExpression: 'SET nextFreeMs = :next',
            ConditionExpression: 'nextFreeMs < :now',
            ExpressionAttributeValues: { ':next': nowMs + durationMs, ':now': nowMs },
          }),
        );
        return nowMs;
      } catch (error) {
        if (!isConditionalFailure(error)) throw error;
      }
      // Neither: busy beyond the latest start (refused), or it changed in between (again).
      if (latestStartMs !== undefined) {
        const current = await this.doc.send(
          new GetCommand({ TableName: this.tableName, Key: this.key, ConsistentRead: true }),
        );
        if (Number(current.Item?.nextFreeMs) > latestStartMs) return undefined;
      }
    }
    throw new RetryableError('The admission schedule kept changing');
  }

  async count(name: string, delta: number): Promise<number> {
    const updated = await this.doc.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: this.key,
        UpdateExpression: 'ADD #n :d',
        ExpressionAttributeNames: { '#n': name },
        ExpressionAttributeValues: { ':d': delta },
        ReturnValues: 'UPDATED_NEW',
      }),
    );
    return Number(updated.Attributes?.[name] ?? 0);
  }

  async raise(name: string, value: number): Promise<void> {
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: this.key,
          UpdateExpression: 'SET #n = :v',
          ConditionExpression: 'attribute_not_exists(#n) OR #n < :v',
          ExpressionAttributeNames: { '#n': name },
          ExpressionAttributeValues: { ':v': value },
        }),
      );
    } catch (error) {
      if (!isConditionalFailure(error)) throw error;
    }
  }

  async view(): Promise<ScheduleView> {
    const current = await this.doc.send(
      new GetCommand({ TableName: this.tableName, Key: this.key, ConsistentRead: true }),
    );
    const item = current.Item ?? {};
    const ends: WindowEnd[] = [];
    for (const [name, value] of Object.entries(item)) {
      const end = parseEnd(name, value);
      if (end) ends.push(end);
    }
    const next = Number(item.nextFreeMs);
    return { ...(Number.isFinite(next) ? { nextFreeMs: next } : {}), ends };
  }

  async forecastEnd(end: WindowEnd, past: WindowEnd[]): Promise<void> {
    // One attribute per pair and second (ADD on a nested map path needs the map to exist first);
    // the past ones are removed in the same write.
    const names: Record<string, string> = { '#e': endAttribute(end) };
    past.forEach((p, i) => {
      names[`#p${i}`] = endAttribute(p);
    });
    const remove = past.length ? ` REMOVE ${past.map((_, i) => `#p${i}`).join(', ')}` : '';
    await this.doc.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: this.key,
        UpdateExpression: `ADD #e :n${remove}`,
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: { ':n': end.count },
      }),
    );
  }
}

const END_PREFIX = 'end#';

function endAttribute(end: WindowEnd): string {
  return `${END_PREFIX}${end.pair}#${end.second}`;
}

function parseEnd(name: string, value: unknown): WindowEnd | undefined {
  if (!name.startsWith(END_PREFIX)) return undefined;
  const cut = name.lastIndexOf('#');
  const second = Number(name.slice(cut + 1));
  const count = Number(value);
  if (cut <= END_PREFIX.length || !Number.isFinite(second) || !Number.isFinite(count)) return undefined;
  return { pair: name.slice(END_PREFIX.length, cut), second, count };
}
