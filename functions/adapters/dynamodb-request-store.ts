import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  paginateQuery,
} from '@aws-sdk/lib-dynamodb';
import { reviewPending } from '../core/break-glass';
import { RetryableError } from '../core/errors';
import type {
  AssignmentKey,
  HoldersRecord,
  MembershipHoldersRecord,
  MembershipKey,
  RequestRecord,
  RequestStatus,
} from '../core/model';
import type { Clock, ConditionalResult, RequestReader, RequestStore, TaskTokenKind } from '../core/ports';
import { documentsOf } from './dynamodb-documents';
import { isConditionalFailure } from './transient-errors';

// One table for live state: requests, task tokens, assignment holders. Conditional writes
// (status + revision) make every change safe against concurrent clicks and step retries.
//   REQUEST#<id> / REQUEST         the request record (gsi1: by requester, gsi2: by status,
//                                  gsi3: break-glass uses awaiting review, sparse)
//   TOKEN#<id> / <kind>            a waiting callback's task token (never leaves the server)
//   ASSIGNMENT#<key> / HOLDERS     who holds one assignment (gsi2: HOLDERS)
//   MEMBERSHIP#<group>#<user> / HOLDERS  who holds one group membership (gsi2: MEMBERSHIPS)
// Each kind of item has its own partition-key prefix so that IAM (dynamodb:LeadingKeys) can give
// each function only the kinds it needs: the Slack function reads requests, never tokens or holders.

export const REQUESTER_INDEX = 'byRequester';
export const STATUS_INDEX = 'byStatus';
export const REVIEW_INDEX = 'byReview';
const PENDING_REVIEW = 'REVIEW#PENDING';
const UPDATE_ATTEMPTS = 5;

interface StoredRequest {
  pk: string;
  sk: 'REQUEST';
  gsi1pk: string;
  gsi1sk: string;
  gsi2pk: string;
  gsi2sk: string;
  /** Only while a break-glass use awaits review: the index holds nothing else. */
  gsi3pk?: string;
  gsi3sk?: string;
  status: RequestStatus;
  revision: number;
  record: RequestRecord;
}

const requestKey = (requestId: string) => ({ pk: `REQUEST#${requestId}`, sk: 'REQUEST' });
const tokenKey = (requestId: string, kind: TaskTokenKind) => ({ pk: `TOKEN#${requestId}`, sk: kind });
/**
 * Where versions before the TOKEN# partition kept tokens. Read (never deleted: no role may delete
 * items of a request's partition) so a callback waiting across the upgrade can still be completed;
 * Step Functions itself completes a token once, and decisions are first-wins in the request record.
 */
const legacyTokenKey = (requestId: string, kind: TaskTokenKind) => ({
  pk: `REQUEST#${requestId}`,
  sk: `TOKEN#${kind}`,
});
const membershipHoldersKey = (key: MembershipKey) => ({
  pk: `MEMBERSHIP#${key.groupId}#${key.principalId}`,
  sk: 'HOLDERS',
});

const holdersKey = (key: AssignmentKey) => ({
  pk: `ASSIGNMENT#${key.accountId}#${key.permissionSetArn}#${key.principalId}`,
  sk: 'HOLDERS',
});

/** What `updateRequest` answers for a change that changes nothing: the stored record, unwritten. */
const UNCHANGED = Symbol('unchanged');

/** Equal as stored: absent and undefined fields alike, key order and updatedAt aside. */
export function sameRecord(a: RequestRecord, b: RequestRecord): boolean {
  const canonical = (record: RequestRecord) =>
    JSON.stringify({ ...record, updatedAt: '' }, (_key, v: unknown) =>
      v && typeof v === 'object' && !Array.isArray(v)
        ? Object.fromEntries(
            Object.entries(v as Record<string, unknown>).sort(([x], [y]) => x.localeCompare(y)),
          )
        : v,
    );
  return canonical(a) === canonical(b);
}

/**
 * The store's reads: all the Slack function asks of it (the Home tab, the Extend button), so its
 * bundle carries no write path (a class's methods are not tree-shaken).
 */
export class DynamoDbRequestReader implements RequestReader {
  protected readonly documents: DynamoDBDocumentClient;

  constructor(
    client: DynamoDBClient,
    protected readonly tableName: string,
  ) {
    this.documents = documentsOf(client);
  }

  protected async getStored(requestId: string): Promise<StoredRequest | undefined> {
    const result = await this.documents.send(
      new GetCommand({ TableName: this.tableName, Key: requestKey(requestId), ConsistentRead: true }),
    );
    return result.Item as StoredRequest | undefined;
  }

  async getRequest(requestId: string): Promise<RequestRecord | undefined> {
    return (await this.getStored(requestId))?.record;
  }

  /** Newest first, every page (the SDK's paginator) until `limit` records. */
  protected async queryRecords(
    indexName: string,
    keyName: string,
    keyValue: string,
    limit: number,
  ): Promise<RequestRecord[]> {
    const records: RequestRecord[] = [];
    const pages = paginateQuery(
      { client: this.documents },
      {
        TableName: this.tableName,
        IndexName: indexName,
        KeyConditionExpression: '#k = :v',
        ExpressionAttributeNames: { '#k': keyName },
        ExpressionAttributeValues: { ':v': keyValue },
        ScanIndexForward: false,
        ...(Number.isFinite(limit) ? { Limit: limit } : {}),
      },
    );
    for await (const page of pages) {
      for (const item of page.Items ?? []) {
        const record = (item as StoredRequest).record;
        if (record) records.push(record);
      }
      if (records.length >= limit) break;
    }
    return records.slice(0, limit);
  }

  listByRequester(slackUserId: string, limit = 50): Promise<RequestRecord[]> {
    return this.queryRecords(REQUESTER_INDEX, 'gsi1pk', `REQUESTER#${slackUserId}`, limit);
  }

  /** Every request in `status` unless `limit` says fewer (the reconciler reads them all). */
  listByStatus(status: RequestStatus, limit = Number.POSITIVE_INFINITY): Promise<RequestRecord[]> {
    return this.queryRecords(STATUS_INDEX, 'gsi2pk', `STATUS#${status}`, limit);
  }

  listPendingReviews(limit = Number.POSITIVE_INFINITY): Promise<RequestRecord[]> {
    return this.queryRecords(REVIEW_INDEX, 'gsi3pk', PENDING_REVIEW, limit);
  }
}

export class DynamoDbRequestStore extends DynamoDbRequestReader implements RequestStore {
  constructor(
    client: DynamoDBClient,
    tableName: string,
    /** Stamps `updatedAt`; the core's clock, so the reconciler compares like with like. */
    private readonly clock: Clock = { now: () => new Date() },
  ) {
    super(client, tableName);
  }

  private stored(record: RequestRecord, revision: number): StoredRequest {
    return {
      ...requestKey(record.request.requestId),
      sk: 'REQUEST',
      gsi1pk: `REQUESTER#${record.request.requester.slackUserId}`,
      gsi1sk: record.request.requestedAt,
      gsi2pk: `STATUS#${record.status}`,
      gsi2sk: record.request.requestedAt,
      ...(record.breakGlass && reviewPending(record)
        ? { gsi3pk: PENDING_REVIEW, gsi3sk: record.breakGlass.reviewDueAt }
        : {}),
      status: record.status,
      revision,
      record,
    };
  }

  async createRequest(record: RequestRecord): Promise<{ created: boolean; record: RequestRecord }> {
    try {
      await this.documents.send(
        new PutCommand({
          TableName: this.tableName,
          Item: this.stored(record, 1),
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
      return { created: true, record };
    } catch (error) {
      if (!isConditionalFailure(error)) throw error;
      const existing = await this.getRequest(record.request.requestId);
      if (!existing)
        throw new RetryableError(`Request ${record.request.requestId} vanished while being created`);
      return { created: false, record: existing };
    }
  }

  private async conditionalUpdate(
    requestId: string,
    apply: (current: StoredRequest) => RequestRecord | undefined | typeof UNCHANGED,
  ): Promise<ConditionalResult<RequestRecord>> {
    for (let attempt = 0; attempt < UPDATE_ATTEMPTS; attempt++) {
      const current = await this.getStored(requestId);
      if (!current) return { ok: false, current: undefined };
      const next = apply(current);
      if (!next) return { ok: false, current: current.record };
      if (next === UNCHANGED) return { ok: true, value: current.record };
      try {
        await this.documents.send(
          new PutCommand({
            TableName: this.tableName,
            Item: this.stored(next, current.revision + 1),
            ConditionExpression: '#revision = :revision',
            ExpressionAttributeNames: { '#revision': 'revision' },
            ExpressionAttributeValues: { ':revision': current.revision },
          }),
        );
        return { ok: true, value: next };
      } catch (error) {
        if (!isConditionalFailure(error)) throw error;
      }
    }
    throw new RetryableError(`Request ${requestId} is being changed concurrently`);
  }

  updateRequest(
    requestId: string,
    from: readonly RequestStatus[],
    change: Partial<Omit<RequestRecord, 'request' | 'version'>>,
    guard?: (current: RequestRecord) => boolean,
  ): Promise<ConditionalResult<RequestRecord>> {
    return this.conditionalUpdate(requestId, (current) => {
      if (!from.includes(current.record.status) || !(guard?.(current.record) ?? true)) return undefined;
      const next = { ...current.record, ...change };
      // A retried step asking for what is already stored: nothing to write (updatedAt stays).
      if (sameRecord(next, current.record)) return UNCHANGED;
      return { ...next, updatedAt: this.clock.now().toISOString() };
    });
  }

  addApproval(
    requestId: string,
    approval: RequestRecord['approvals'][number],
  ): Promise<ConditionalResult<RequestRecord>> {
    return this.conditionalUpdate(requestId, (current) => {
      const record = current.record;
      if (record.status !== 'PENDING_APPROVAL') return undefined;
      if (record.approvals.some((a) => a.by === approval.by)) return undefined;
      return { ...record, approvals: [...record.approvals, approval], updatedAt: approval.at };
    });
  }

  async putTaskToken(requestId: string, kind: TaskTokenKind, token: string): Promise<void> {
    await this.documents.send(
      new PutCommand({ TableName: this.tableName, Item: { ...tokenKey(requestId, kind), token } }),
    );
  }

  async takeTaskToken(requestId: string, kind: TaskTokenKind): Promise<string | undefined> {
    const result = await this.documents.send(
      new DeleteCommand({
        TableName: this.tableName,
        Key: tokenKey(requestId, kind),
        ReturnValues: 'ALL_OLD',
      }),
    );
    const token = result.Attributes?.token;
    return typeof token === 'string' ? token : this.readToken(legacyTokenKey(requestId, kind));
  }

  async peekTaskToken(requestId: string, kind: TaskTokenKind): Promise<string | undefined> {
    return (
      (await this.readToken(tokenKey(requestId, kind))) ??
      (await this.readToken(legacyTokenKey(requestId, kind)))
    );
  }

  private async readToken(key: { pk: string; sk: string }): Promise<string | undefined> {
    const result = await this.documents.send(
      new GetCommand({ TableName: this.tableName, Key: key, ConsistentRead: true }),
    );
    const token = result.Item?.token;
    return typeof token === 'string' ? token : undefined;
  }

  getHolders(key: AssignmentKey): Promise<HoldersRecord | undefined> {
    return this.getTracked<HoldersRecord>(holdersKey(key));
  }

  putHolders(record: HoldersRecord, expectedRevision: number | undefined): Promise<boolean> {
    return this.putTracked(holdersKey(record), 'HOLDERS', record, expectedRevision);
  }

  listHolders(): Promise<HoldersRecord[]> {
    return this.listTracked<HoldersRecord>('HOLDERS');
  }

  getMembershipHolders(key: MembershipKey): Promise<MembershipHoldersRecord | undefined> {
    return this.getTracked<MembershipHoldersRecord>(membershipHoldersKey(key));
  }

  putMembershipHolders(
    record: MembershipHoldersRecord,
    expectedRevision: number | undefined,
  ): Promise<boolean> {
    return this.putTracked(membershipHoldersKey(record), 'MEMBERSHIPS', record, expectedRevision);
  }

  listMembershipHolders(): Promise<MembershipHoldersRecord[]> {
    return this.listTracked<MembershipHoldersRecord>('MEMBERSHIPS');
  }

  // A holders record (of an assignment or a group membership) is one item: the record under
  // `holders`, its revision beside it for the conditional put, listed by kind on the status index.

  private async getTracked<T>(key: Record<string, string>): Promise<T | undefined> {
    const result = await this.documents.send(
      new GetCommand({ TableName: this.tableName, Key: key, ConsistentRead: true }),
    );
    return result.Item?.holders as T | undefined;
  }

  private async putTracked(
    key: Record<string, string>,
    kind: 'HOLDERS' | 'MEMBERSHIPS',
    record: { revision: number; updatedAt: string },
    expectedRevision: number | undefined,
  ): Promise<boolean> {
    try {
      await this.documents.send(
        new PutCommand({
          TableName: this.tableName,
          Item: {
            ...key,
            gsi2pk: kind,
            gsi2sk: record.updatedAt,
            revision: record.revision,
            holders: record,
          },
          ...(expectedRevision === undefined
            ? { ConditionExpression: 'attribute_not_exists(pk)' }
            : {
                ConditionExpression: '#revision = :revision',
                ExpressionAttributeNames: { '#revision': 'revision' },
                ExpressionAttributeValues: { ':revision': expectedRevision },
              }),
        }),
      );
      return true;
    } catch (error) {
      if (isConditionalFailure(error)) return false;
      throw error;
    }
  }

  private async listTracked<T>(kind: 'HOLDERS' | 'MEMBERSHIPS'): Promise<T[]> {
    const records: T[] = [];
    const pages = paginateQuery(
      { client: this.documents },
      {
        TableName: this.tableName,
        IndexName: STATUS_INDEX,
        KeyConditionExpression: 'gsi2pk = :h',
        ExpressionAttributeValues: { ':h': kind },
      },
    );
    for await (const page of pages) for (const item of page.Items ?? []) records.push(item.holders as T);
    return records;
  }
}
