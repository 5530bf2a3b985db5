import { createHash } from 'node:crypto';
import { z } from 'zod';
import {
  type AccountState,
  DEFAULT_ROOT_ID,
  type DirectoryFile,
  OU_ID_PATTERN,
  ROOT_ID_PATTERN,
} from '../../functions/core/directory-file';
import { defaultSandboxSeed } from '../identity-center/sandbox';
import { seededRandom, TokenBucket } from '../identity-center/support';

// AWS Organizations, the read side the policy compiler uses (ListRoots, ListChildren,
// ListAccountsForParent, ListAccounts, ListTagsForResource, DescribeAccount,
// DescribeOrganizationalUnit), seeded from the directory file's organization and accounts. The
// JSON protocol is the SDK's (X-Amz-Target `AWSOrganizationsV20161128.<Op>`, AWS JSON 1.1); it is
// served by the Identity Center stand-in's HTTP server (local/identity-center/server.ts), which
// routes by target prefix, and has its own faults, counters and log: Organizations is its own
// service with its own throttling.
//
// From the Organizations API reference (https://docs.aws.amazon.com/organizations/latest/APIReference/):
// - MaxResults of ListRoots, ListChildren, ListAccountsForParent and ListAccounts is 1 to 20;
//   ListTagsForResource takes only NextToken. A List call "can occasionally return an empty set
//   of results even when more results are available": `emptyPageRate` models that.
// - Errors: ParentNotFoundException (ListChildren, ListAccountsForParent), AccountNotFoundException
//   (DescribeAccount), OrganizationalUnitNotFoundException (DescribeOrganizationalUnit),
//   TargetNotFoundException (ListTagsForResource), InvalidInputException, TooManyRequestsException
//   (every call), ServiceException (HTTP 500).
// - Account `State` (PENDING_ACTIVATION | ACTIVE | SUSPENDED | PENDING_CLOSURE | CLOSED) and the
//   deprecated `Status` (ACTIVE | SUSPENDED | PENDING_CLOSURE). Listings include every account
//   whatever its state, as AWS lists a closed account until it leaves the organization.

export const ORGANIZATIONS_TARGET_PREFIX = 'AWSOrganizationsV20161128';
/** The sandbox organization's management account (no such account answers anything). */
export const MANAGEMENT_ACCOUNT_ID = '000000000000';
/** The largest MaxResults of the List operations (and the page size when none is given). */
export const ORGANIZATIONS_MAX_RESULTS = 20;

export const ORGANIZATIONS_ERROR_NAMES = [
  'AWSOrganizationsNotInUseException',
  'AccessDeniedException',
  'AccountNotFoundException',
  'InvalidInputException',
  'OrganizationalUnitNotFoundException',
  'ParentNotFoundException',
  'ServiceException',
  'TargetNotFoundException',
  'TooManyRequestsException',
] as const;
export type OrganizationsErrorName = (typeof ORGANIZATIONS_ERROR_NAMES)[number];

/** An Organizations error; serialised as `{"__type": name, "Message": ...}` (HTTP 500 for ServiceException). */
export class OrganizationsError extends Error {
  constructor(
    readonly errorName: OrganizationsErrorName | 'UnknownOperationException',
    message: string,
  ) {
    super(message);
    this.name = errorName;
  }

  get httpStatus(): number {
    return this.errorName === 'ServiceException' ? 500 : 400;
  }

  toBody(): Record<string, string> {
    return { __type: this.errorName, Message: this.message };
  }
}

export interface OrganizationsFaultSettings {
  /** Probability (0..1) that any call is answered TooManyRequestsException. */
  throttleRate: number;
  /** Probability that any call is answered ServiceException (HTTP 500). */
  internalErrorRate: number;
  /** Probability that a List page with more to come is answered empty (with a NextToken). */
  emptyPageRate: number;
  /** Real-time delay before each call is processed. */
  latencyMs: number;
  /** One-shot faults, consumed in order by the first call of the named operation (`*`: any). */
  failNext: { operation: string; error: OrganizationsErrorName; message?: string }[];
}

const rate = z.number().min(0).max(1);
export const organizationsFaultUpdateSchema = z
  .object({
    throttleRate: rate,
    internalErrorRate: rate,
    emptyPageRate: rate,
    latencyMs: z.number().min(0),
    failNext: z.array(
      z.object({
        operation: z.string().min(1),
        error: z.enum(ORGANIZATIONS_ERROR_NAMES),
        message: z.string().optional(),
      }),
    ),
    seed: z.number().int(),
  })
  .partial()
  .strict();
export type OrganizationsFaultUpdate = z.infer<typeof organizationsFaultUpdateSchema>;

const NO_FAULTS: OrganizationsFaultSettings = {
  throttleRate: 0,
  internalErrorRate: 0,
  emptyPageRate: 0,
  latencyMs: 0,
  failNext: [],
};

export interface OrganizationsStandInOptions {
  /** The organization and accounts to start from; defaults to `defaultSandboxSeed`'s. */
  sandbox?: DirectoryFile;
  /** Token-bucket refill rate across every operation. Default Infinity (no quota modelled). */
  requestsPerSecond?: number;
  /** Page size when a List call gives no MaxResults. Default 20. */
  defaultPageSize?: number;
  faults?: Partial<OrganizationsFaultSettings>;
  /** Seed of the RNG behind the fault rates. Default 1. */
  seed?: number;
  now?: () => number;
}

export interface OrganizationsOperation {
  seq: number;
  at: number;
  operation: string;
  params: unknown;
  outcome: 'ok' | string;
}

export interface OrganizationsCounters {
  calls: number;
  errors: number;
  throttled: number;
  internalErrors: number;
  emptyPages: number;
  byOperation: Record<string, number>;
}

interface AccountRecord {
  id: string;
  name: string;
  email: string;
  parent: string;
  state: AccountState;
  tags: Record<string, string>;
}

const accountId = z.string().regex(/^\d{12}$/);
const parentId = z.string().regex(new RegExp(`${ROOT_ID_PATTERN.source}|${OU_ID_PATTERN.source}`));
const paging = {
  MaxResults: z.number().int().min(1).max(ORGANIZATIONS_MAX_RESULTS).optional(),
  NextToken: z.string().max(100_000).optional(),
};

type Handler = (input: unknown) => Record<string, unknown>;

export class OrganizationsStandIn {
  private readonly now: () => number;
  private readonly requestsPerSecond: number;
  private readonly defaultPageSize: number;
  private readonly seed: number;
  private readonly initialFaults: OrganizationsFaultSettings;
  private sandbox: DirectoryFile;
  private organizationId = '';
  private accounts: AccountRecord[] = [];
  private faultSettings: OrganizationsFaultSettings;
  private random: () => number;
  private bucket: TokenBucket;
  private log: OrganizationsOperation[] = [];
  private count: OrganizationsCounters = emptyCounters();
  private tokenSeq = 0;
  private readonly handlers: Record<string, Handler>;

  constructor(options: OrganizationsStandInOptions = {}) {
    this.now = options.now ?? Date.now;
    this.requestsPerSecond = options.requestsPerSecond ?? Number.POSITIVE_INFINITY;
    this.defaultPageSize = options.defaultPageSize ?? ORGANIZATIONS_MAX_RESULTS;
    this.seed = options.seed ?? 1;
    this.initialFaults = { ...NO_FAULTS, ...options.faults, failNext: [...(options.faults?.failNext ?? [])] };
    this.faultSettings = { ...this.initialFaults, failNext: [...this.initialFaults.failNext] };
    this.random = seededRandom(this.seed);
    this.bucket = new TokenBucket(this.requestsPerSecond, this.requestsPerSecond, this.now);
    this.sandbox = options.sandbox ?? defaultSandboxSeed;
    this.load(this.sandbox);
    const op = (name: string, handler: Handler) =>
      [`${ORGANIZATIONS_TARGET_PREFIX}.${name}`, handler] as const;
    this.handlers = Object.fromEntries([
      op('ListRoots', (i) => this.listRoots(i)),
      op('ListChildren', (i) => this.listChildren(i)),
      op('ListAccountsForParent', (i) => this.listAccountsForParent(i)),
      op('ListAccounts', (i) => this.listAccounts(i)),
      op('ListTagsForResource', (i) => this.listTagsForResource(i)),
      op('DescribeAccount', (i) => this.describeAccount(i)),
      op('DescribeOrganizationalUnit', (i) => this.describeOrganizationalUnit(i)),
    ]);
  }

  /** Answers one API call, given its X-Amz-Target and parsed JSON body. Never throws. */
  async handle(target: string, input: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
    const latency = this.faultSettings.latencyMs;
    if (latency > 0) await new Promise((resolve) => setTimeout(resolve, latency));
    const operation = target.split('.', 2)[1] ?? target;
    const entry: OrganizationsOperation = {
      seq: this.log.length + 1,
      at: this.now(),
      operation,
      params: input,
      outcome: 'ok',
    };
    this.log.push(entry);
    this.count.calls += 1;
    this.count.byOperation[operation] = (this.count.byOperation[operation] ?? 0) + 1;
    try {
      const handler = this.handlers[target];
      if (!handler) throw new OrganizationsError('UnknownOperationException', `Unknown operation ${target}`);
      this.injectFaults(operation);
      return { status: 200, body: handler(input ?? {}) };
    } catch (error) {
      const failure =
        error instanceof OrganizationsError
          ? error
          : new OrganizationsError(
              'ServiceException',
              error instanceof Error ? error.message : String(error),
            );
      entry.outcome = failure.errorName;
      this.count.errors += 1;
      if (failure.errorName === 'TooManyRequestsException') this.count.throttled += 1;
      if (failure.errorName === 'ServiceException') this.count.internalErrors += 1;
      return { status: failure.httpStatus, body: failure.toBody() };
    }
  }

  setFaults(update: OrganizationsFaultUpdate): OrganizationsFaultSettings {
    const { seed, failNext, ...rates } = organizationsFaultUpdateSchema.parse(update);
    this.faultSettings = { ...this.faultSettings, ...rates };
    if (failNext) this.faultSettings.failNext = failNext.map((f) => ({ ...f }));
    if (seed !== undefined) this.random = seededRandom(seed);
    return this.faults();
  }

  faults(): OrganizationsFaultSettings {
    return { ...this.faultSettings, failNext: this.faultSettings.failNext.map((f) => ({ ...f })) };
  }

  operationLog(): OrganizationsOperation[] {
    return this.log.map((e) => ({ ...e }));
  }

  counters(): OrganizationsCounters {
    return { ...this.count, byOperation: { ...this.count.byOperation } };
  }

  /** The accounts as they are now (id, name, parent, state, tags). */
  listAccountRecords(): AccountRecord[] {
    return this.accounts.map((a) => ({ ...a, tags: { ...a.tags } }));
  }

  /** An account closes (SUSPENDED), starts closing, or comes back (ACTIVE): CloseAccount's effect. */
  setAccountState(id: string, state: AccountState): void {
    const account = this.accounts.find((a) => a.id === id);
    if (!account) throw new Error(`no account ${id}`);
    account.state = state;
  }

  /** Back to the seed (optionally a new one): accounts, log, counters, faults, RNG and bucket. */
  reset(sandbox?: DirectoryFile): void {
    if (sandbox) this.sandbox = sandbox;
    this.load(this.sandbox);
    this.log = [];
    this.count = emptyCounters();
    this.faultSettings = { ...this.initialFaults, failNext: [...this.initialFaults.failNext] };
    this.random = seededRandom(this.seed);
    this.bucket = new TokenBucket(this.requestsPerSecond, this.requestsPerSecond, this.now);
    this.tokenSeq = 0;
  }

  // ---- operations ----------------------------------------------------------------------------

  private listRoots(input: unknown): Record<string, unknown> {
    const req = parse(z.object(paging), input);
    const page = this.paginate('ListRoots', [this.rootId], req.MaxResults, req.NextToken);
    return {
      Roots: page.items.map((id) => ({ Id: id, Arn: this.arn('root', id), Name: 'Root', PolicyTypes: [] })),
      ...page.next,
    };
  }

  private listChildren(input: unknown): Record<string, unknown> {
    const req = parse(
      z.object({ ParentId: parentId, ChildType: z.enum(['ACCOUNT', 'ORGANIZATIONAL_UNIT']), ...paging }),
      input,
    );
    this.requireParent(req.ParentId);
    const children =
      req.ChildType === 'ACCOUNT'
        ? this.accounts.filter((a) => a.parent === req.ParentId).map((a) => a.id)
        : this.units.filter((u) => u.parent === req.ParentId).map((u) => u.id);
    const page = this.paginate(
      `ListChildren/${req.ParentId}/${req.ChildType}`,
      children,
      req.MaxResults,
      req.NextToken,
    );
    return { Children: page.items.map((id) => ({ Id: id, Type: req.ChildType })), ...page.next };
  }

  private listAccountsForParent(input: unknown): Record<string, unknown> {
    const req = parse(z.object({ ParentId: parentId, ...paging }), input);
    this.requireParent(req.ParentId);
    const accounts = this.accounts.filter((a) => a.parent === req.ParentId);
    const page = this.paginate(
      `ListAccountsForParent/${req.ParentId}`,
      accounts,
      req.MaxResults,
      req.NextToken,
    );
    return { Accounts: page.items.map((a) => this.accountShape(a)), ...page.next };
  }

  private listAccounts(input: unknown): Record<string, unknown> {
    const req = parse(z.object(paging), input);
    const page = this.paginate('ListAccounts', this.accounts, req.MaxResults, req.NextToken);
    return { Accounts: page.items.map((a) => this.accountShape(a)), ...page.next };
  }

  private listTagsForResource(input: unknown): Record<string, unknown> {
    const req = parse(
      z.object({ ResourceId: z.string().min(1).max(130), NextToken: paging.NextToken }),
      input,
    );
    const tags = this.tagsOf(req.ResourceId);
    if (!tags)
      throw new OrganizationsError(
        'TargetNotFoundException',
        `We can't find a target with the ID ${req.ResourceId}.`,
      );
    const entries = Object.entries(tags).map(([Key, Value]) => ({ Key, Value }));
    const page = this.paginate(`ListTagsForResource/${req.ResourceId}`, entries, undefined, req.NextToken);
    return { Tags: page.items, ...page.next };
  }

  private describeAccount(input: unknown): Record<string, unknown> {
    const req = parse(z.object({ AccountId: accountId }), input);
    const account = this.accounts.find((a) => a.id === req.AccountId);
    if (!account)
      throw new OrganizationsError(
        'AccountNotFoundException',
        `We can't find an AWS account with the ID ${req.AccountId}.`,
      );
    return { Account: this.accountShape(account) };
  }

  private describeOrganizationalUnit(input: unknown): Record<string, unknown> {
    const req = parse(z.object({ OrganizationalUnitId: z.string().regex(OU_ID_PATTERN) }), input);
    const unit = this.units.find((u) => u.id === req.OrganizationalUnitId);
    if (!unit)
      throw new OrganizationsError(
        'OrganizationalUnitNotFoundException',
        `We can't find an organizational unit (OU) with the ID ${req.OrganizationalUnitId}.`,
      );
    return { OrganizationalUnit: { Id: unit.id, Arn: this.arn('ou', unit.id), Name: unit.name } };
  }

  // ---- helpers -------------------------------------------------------------------------------

  private get rootId(): string {
    return this.sandbox.organization?.rootId ?? DEFAULT_ROOT_ID;
  }

  private get units(): DirectoryFile['organization']['units'] {
    return this.sandbox.organization?.units ?? [];
  }

  private load(sandbox: DirectoryFile): void {
    const rootId = sandbox.organization?.rootId ?? DEFAULT_ROOT_ID;
    this.organizationId = `o-${createHash('sha256').update(rootId).digest('hex').slice(0, 10)}`;
    this.accounts = sandbox.accounts.map((a) => ({
      id: a.id,
      name: a.name,
      email: a.email ?? `aws-${a.id}@example.com`,
      parent: a.parent ?? rootId,
      state: a.state ?? 'ACTIVE',
      tags: { ...(a.tags ?? {}) },
    }));
  }

  private requireParent(id: string): void {
    if (id !== this.rootId && !this.units.some((u) => u.id === id))
      throw new OrganizationsError(
        'ParentNotFoundException',
        `We can't find a root or OU with the ID ${id}.`,
      );
  }

  private tagsOf(resourceId: string): Record<string, string> | undefined {
    if (resourceId === this.rootId) return {};
    const unit = this.units.find((u) => u.id === resourceId);
    if (unit) return unit.tags ?? {};
    return this.accounts.find((a) => a.id === resourceId)?.tags;
  }

  private accountShape(account: AccountRecord): Record<string, unknown> {
    const legacyStatus = ['ACTIVE', 'SUSPENDED', 'PENDING_CLOSURE'].includes(account.state);
    return {
      Id: account.id,
      Arn: this.arn('account', account.id),
      Email: account.email,
      Name: account.name,
      State: account.state,
      ...(legacyStatus ? { Status: account.state } : {}),
      JoinedMethod: 'CREATED',
      JoinedTimestamp: Date.UTC(2024, 0, 1) / 1000,
    };
  }

  private arn(kind: 'root' | 'ou' | 'account', id: string): string {
    return `arn:aws:organizations::${MANAGEMENT_ACCOUNT_ID}:${kind}/${this.organizationId}/${id}`;
  }

  private injectFaults(operation: string): void {
    if (!this.bucket.tryTake()) throw new OrganizationsError('TooManyRequestsException', 'Rate exceeded');
    const queue = this.faultSettings.failNext;
    const index = queue.findIndex((f) => f.operation === operation || f.operation === '*');
    if (index >= 0) {
      const [fault] = queue.splice(index, 1);
      if (fault)
        throw new OrganizationsError(
          fault.error,
          fault.message ?? `Injected ${fault.error} for ${operation}`,
        );
    }
    if (this.chance(this.faultSettings.throttleRate))
      throw new OrganizationsError(
        'TooManyRequestsException',
        "AWS Organizations can't complete your request because another request is already in progress. Try again later.",
      );
    if (this.chance(this.faultSettings.internalErrorRate))
      throw new OrganizationsError(
        'ServiceException',
        "AWS Organizations can't complete your request because of an internal service error (injected).",
      );
  }

  /** Draws only for enabled rates, so a run's faults depend on the rates switched on, not on others. */
  private chance(probability: number): boolean {
    return probability > 0 && this.random() < probability;
  }

  /** Opaque NextToken: the listing and an offset (and a counter, so an empty page's token is new). */
  private paginate<T>(
    listing: string,
    items: readonly T[],
    maxResults: number | undefined,
    nextToken: string | undefined,
  ): { items: T[]; next: { NextToken?: string } } {
    let offset = 0;
    if (nextToken) {
      const decoded = decodeToken(nextToken);
      if (!decoded || decoded.listing !== listing)
        throw new OrganizationsError('InvalidInputException', 'You provided an invalid value for NextToken.');
      offset = decoded.offset;
    }
    const token = (at: number) => encodeToken({ listing, offset: at, n: ++this.tokenSeq });
    if (offset < items.length && this.chance(this.faultSettings.emptyPageRate)) {
      this.count.emptyPages += 1;
      return { items: [], next: { NextToken: token(offset) } };
    }
    const page = items.slice(offset, offset + (maxResults ?? this.defaultPageSize));
    const end = offset + page.length;
    return { items: page, next: end < items.length ? { NextToken: token(end) } : {} };
  }
}

function emptyCounters(): OrganizationsCounters {
  return { calls: 0, errors: 0, throttled: 0, internalErrors: 0, emptyPages: 0, byOperation: {} };
}

function parse<T extends z.ZodType>(schema: T, input: unknown): z.infer<T> {
  const result = schema.safeParse(input ?? {});
  if (result.success) return result.data;
  const details = result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
  throw new OrganizationsError(
    'InvalidInputException',
    `You provided a value that does not match the required pattern: ${details}`,
  );
}

const tokenSchema = z.object({ listing: z.string(), offset: z.number().int().min(0), n: z.number().int() });

function encodeToken(token: z.infer<typeof tokenSchema>): string {
  return Buffer.from(JSON.stringify(token)).toString('base64url');
}

function decodeToken(text: string): z.infer<typeof tokenSchema> | undefined {
  try {
    const parsed = tokenSchema.safeParse(JSON.parse(Buffer.from(text, 'base64url').toString('utf8')));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}
