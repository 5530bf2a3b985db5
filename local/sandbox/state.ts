import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import type { AuditEvent, MembershipHoldersRecord, RequestRecord } from '../../functions/core/model';
import type { Policy } from '../../functions/core/policy';
import type { RunningIdentityCenter } from '../identity-center/server';
import type { RunningSlackApi } from '../slack-api/server';
import type { ExecutionHistoryEvent, LocalStepFunctions } from '../step-functions/local-step-functions';
import type { SandboxConfig } from './sandbox-file';
import { type SignedSlackClient, SLACK_ANSWER_DEADLINE_MS } from './signed-client';
import { normalizeBlocks } from './slack-payloads';

// What the console shows, read from the stand-ins and the tables: one snapshot per refresh, and a
// cheap signature of the parts that have no change events of their own (Identity Center, the
// audit table, executions) so the server can tell the console when to refresh.

type Json = Record<string, unknown>;

export interface StateSources {
  config: SandboxConfig;
  policy: Policy;
  slack?: RunningSlackApi;
  identityCenter?: RunningIdentityCenter;
  stepFunctions: LocalStepFunctions;
  dynamo: DynamoDBClient;
  tables: { stateTable: string; auditTable: string };
  signedClient: SignedSlackClient;
  modes: Record<string, string>;
  msPerMinute: number;
  slackEventsUrl: string;
  slackAppReady: () => boolean;
  /** The audit archive's objects and the modelled stream's lag (with DynamoDB's stand-in). */
  archive?: { written(): unknown[]; lagsMs(): number[] };
}

export class SandboxState {
  private readonly documents: DynamoDBDocumentClient;

  constructor(private readonly sources: StateSources) {
    this.documents = DynamoDBDocumentClient.from(sources.dynamo);
  }

  private async scan(table: string, filter?: { sk: string }): Promise<Json[]> {
    const items: Json[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await this.documents.send(
        new ScanCommand({
          TableName: table,
          ExclusiveStartKey: startKey,
          ConsistentRead: true,
          ...(filter
            ? { FilterExpression: 'sk = :sk', ExpressionAttributeValues: { ':sk': filter.sk } }
            : {}),
        }),
      );
      items.push(...((page.Items ?? []) as Json[]));
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return items;
  }

  /** Every audit event, oldest first. */
  async auditEvents(): Promise<AuditEvent[]> {
    const items = await this.scan(this.sources.tables.auditTable);
    return items
      .filter((item) => !String(item.sk).startsWith('CHAIN#')) // hash-chain links, not events
      .sort((a, b) => String(a.sk).localeCompare(String(b.sk)))
      .map(({ pk: _pk, sk: _sk, ...event }) => event as unknown as AuditEvent);
  }

  /** The group memberships the product holds for someone's request (not pre-existing ones): `groupId|userId` → request ids. */
  async grantedMemberships(): Promise<Map<string, string[]>> {
    const items = await this.scan(this.sources.tables.stateTable, { sk: 'HOLDERS' });
    const granted = new Map<string, string[]>();
    for (const item of items) {
      if (!String(item.pk).startsWith('MEMBERSHIP#')) continue;
      const holders = item.holders as MembershipHoldersRecord | undefined;
      if (holders?.state === 'PRESENT' && !holders.preExisting && holders.holders.length)
        granted.set(`${holders.groupId}|${holders.principalId}`, holders.holders);
    }
    return granted;
  }

  /** Every stored request, newest first. */
  async requests(): Promise<RequestRecord[]> {
    const items = await this.scan(this.sources.tables.stateTable, { sk: 'REQUEST' });
    return items
      .map((item) => item.record as RequestRecord)
      .filter(Boolean)
      .sort((a, b) => b.request.requestedAt.localeCompare(a.request.requestedAt));
  }

  /** Changes when an assignment, an assignment request, an execution or the audit trail changes. */
  async signature(): Promise<string> {
    const ic = this.sources.identityCenter?.standIn;
    const assignments = ic ? JSON.stringify(ic.listAssignments()) : '';
    const operations = ic
      ? ic
          .assignmentRequests()
          .map((r) => `${r.requestId}:${r.status}`)
          .join(',')
      : '';
    const executions = this.sources.stepFunctions
      .listExecutions()
      .map((e) => `${e.name}:${e.status}`)
      .join(',');
    const audit = await this.auditEvents().catch(() => []);
    const last = audit[audit.length - 1];
    return `${assignments}|${operations}|${executions}|${audit.length}:${last?.eventId ?? ''}`;
  }

  async snapshot(): Promise<Json> {
    const { config, policy, slack, identityCenter, stepFunctions } = this.sources;
    const accountName = (id: string) => policy.accounts.find((a) => a.id === id)?.name ?? id;
    const permissionSetName = (arn: string) =>
      policy.permissionSets.find((p) => p.arn === arn)?.name ?? arn.split('/').pop() ?? arn;
    const grantedMemberships = await this.grantedMemberships().catch(() => new Map<string, string[]>());
    const icUsers = identityCenter?.standIn.users() ?? [];
    const userName = (principalId: string) =>
      icUsers.find((u) => u.userId === principalId)?.userName ?? principalId;
    const preExisting = new Set(
      (identityCenter?.standIn ? config.identityCenter.assignments : []).map(
        (a) =>
          `${a.accountId}|${a.permissionSetArn}|${
            a.principalId ?? icUsers.find((u) => u.email.toLowerCase() === a.email?.toLowerCase())?.userId
          }`,
      ),
    );
    const [audit, requests] = await Promise.all([
      this.auditEvents().catch(() => []),
      this.requests().catch(() => []),
    ]);
    const channelName = (id: string) => config.slack.channels.find((c) => c.id === id)?.name;
    const messages = slack?.standIn.messages() ?? [];
    const standInUsers = slack?.standIn.users() ?? [];
    const dmOwner = new Map<string, string>();
    for (const persona of config.personas) {
      const dm = slack?.standIn.dmChannelOf(persona.slackUserId);
      if (dm) dmOwner.set(dm, persona.slackUserId);
    }
    for (const user of standInUsers) {
      const dm = slack?.standIn.dmChannelOf(user.id);
      if (dm && !dmOwner.has(dm)) dmOwner.set(dm, user.id);
    }
    const views = slack?.standIn.viewsSnapshot();
    const normalizeView = (stored: { id: string; view: Json; hash: string }) => ({
      id: stored.id,
      hash: stored.hash,
      view: { ...stored.view, blocks: normalizeBlocks(stored.view.blocks) },
    });
    return {
      services: this.sources.modes,
      msPerMinute: this.sources.msPerMinute,
      slackEventsUrl: this.sources.slackEventsUrl,
      slackAppReady: this.sources.slackAppReady(),
      slackStandIn: Boolean(slack),
      team: { id: config.slack.teamId, domain: config.slack.teamDomain },
      // `deactivated`: a Slack admin deactivated them (the console's Directory panel does it).
      personas: config.personas.map((p) => ({
        ...p,
        deactivated: standInUsers.some((u) => u.id === p.slackUserId && u.deleted === true),
      })),
      /** The directory the policy's groups come from: Identity Center groups and Slack user groups. */
      directory: {
        /** Identity Center's users (a deleted one is gone from the list). */
        identityCenterUsers: identityCenter ? icUsers.map((u) => u.userName) : null,
        groups: (identityCenter?.standIn.groups() ?? []).map((g) => ({
          displayName: g.displayName,
          members: g.members.map((m) => m.userName),
          // Members the product added for a request (group access), with the requests holding them.
          granted: Object.fromEntries(
            g.members.flatMap((m) => {
              const holders = grantedMemberships.get(`${g.groupId}|${m.userId}`);
              return holders ? [[m.userName, holders]] : [];
            }),
          ),
        })),
        slackUserGroups: (slack?.standIn.userGroups() ?? []).map((g) => ({
          handle: g.handle,
          name: g.name,
          members: g.members,
          disabled: g.disabled,
        })),
      },
      /** Each persona's DM channel with the app, once one exists. */
      dmChannels: Object.fromEntries([...dmOwner].map(([channel, userId]) => [userId, channel])),
      channels: config.slack.channels.map((c) => ({
        ...c,
        approvals: c.id === policy.slack.approvalChannel,
      })),
      messages: messages.map((m) => ({
        channel: m.channel,
        channelName: channelName(m.channel) ?? null,
        dmWith: dmOwner.get(m.channel) ?? null,
        ts: m.ts,
        text: m.text ?? null,
        blocks: m.blocks ? normalizeBlocks(m.blocks) : null,
        edits: m.edits,
        postedAt: m.postedAt,
        updatedAt: m.updatedAt,
      })),
      ephemerals: [
        ...(slack?.standIn.ephemerals() ?? []).map((e) => ({
          userId: e.user,
          channel: e.channel,
          text: e.text ?? null,
          blocks: e.blocks ? normalizeBlocks(e.blocks) : null,
          at: e.postedAt,
        })),
        ...this.sources.signedClient.ackReplies().map((r) => ({
          userId: r.userId,
          channel: r.channel,
          text: r.text ?? null,
          blocks: r.blocks ? normalizeBlocks(r.blocks) : null,
          at: r.at,
        })),
      ].sort((a, b) => a.at - b.at),
      /** The app's latest answers to Slack, timed against Slack's 3-second deadline. */
      answers: { deadlineMs: SLACK_ANSWER_DEADLINE_MS, recent: this.sources.signedClient.answerTimings() },
      modals: Object.fromEntries(
        Object.entries(views?.stacks ?? {}).map(([userId, stack]) => [userId, stack.map(normalizeView)]),
      ),
      homes: Object.fromEntries(
        Object.entries(views?.homes ?? {}).map(([userId, view]) => [userId, normalizeView(view)]),
      ),
      assignments: (identityCenter?.standIn.listAssignments() ?? []).map((a) => ({
        ...a,
        accountName: accountName(a.accountId),
        permissionSetName: permissionSetName(a.permissionSetArn),
        userName: userName(a.principalId),
        permanent: preExisting.has(`${a.accountId}|${a.permissionSetArn}|${a.principalId}`),
      })),
      assignmentRequests: (identityCenter?.standIn.assignmentRequests() ?? [])
        .slice(-30)
        .reverse()
        .map((r) => ({
          requestId: r.requestId,
          kind: r.kind,
          status: r.status,
          failureReason: r.failureReason ?? null,
          accountName: accountName(r.accountId),
          permissionSetName: permissionSetName(r.permissionSetArn),
          userName: userName(r.principalId),
          createdAt: r.createdAt,
        })),
      /** Role sessions signed in from the console, and what a call with each would get now. */
      sessions: (identityCenter?.standIn.roleSessions() ?? []).map((s) => ({
        sessionId: s.sessionId,
        userName: userName(s.userId),
        accountName: accountName(s.accountId),
        permissionSetName: permissionSetName(s.permissionSetArn),
        endsSessionsOnRevoke: policy.permissionSets.some(
          (p) => p.arn === s.permissionSetArn && p.endSessionsOnRevoke,
        ),
        issuedAt: s.issuedAt,
        expiresAt: s.expiresAt,
        verdict: s.verdict,
      })),
      faults: identityCenter?.standIn.faults() ?? null,
      audit: audit.slice(-200).reverse(),
      archive: this.sources.archive ? archiveSummary(this.sources.archive) : null,
      requests: requests.slice(0, 50).map((r) => ({
        requestId: r.request.requestId,
        status: r.status,
        requester: r.request.requester.email,
        // A group request shows its group where an account request shows the account.
        accountName: r.request.groupId !== undefined ? 'group' : (r.accountName ?? r.request.accountId),
        permissionSetName:
          r.request.groupId !== undefined
            ? (r.groupName ?? r.request.groupId)
            : (r.permissionSetName ?? permissionSetName(r.request.permissionSetArn ?? '')),
        durationMinutes: r.request.durationMinutes,
        expiresAt: r.expiresAt ?? null,
        requestedAt: r.request.requestedAt,
      })),
      executions: stepFunctions
        .listExecutions()
        .slice(0, 50)
        .map((e) => ({
          name: e.name,
          status: e.status,
          startDate: e.startDate.toISOString(),
          stopDate: e.stopDate?.toISOString() ?? null,
          error: e.error ?? null,
          waitingIn: stepFunctions.waitingTasks(e.executionArn).map((t) => t.stateName),
          admissionSlot: e.status === 'RUNNING' ? admissionSlot(stepFunctions.history(e.executionArn)) : null,
        })),
      slackCalls: (slack?.standIn.calls() ?? []).slice(-60).map((c) => ({
        seq: c.seq,
        at: c.at,
        method: c.method,
        ok: c.response.ok,
        error: c.response.ok ? null : c.response.error,
        channel: typeof c.args.channel === 'string' ? c.args.channel : null,
      })),
    };
  }
}

/**
 * The slot an execution waits for (admission control pacing Identity Center calls, or an approval
 * channel's posts), read from the Wait state it is in: `{phase, at}`, or null.
 */
function admissionSlot(history: ExecutionHistoryEvent[]): { phase: string; at: string } | null {
  const current = history.filter((e) => e.type === 'StateEntered').at(-1);
  const input = current?.input as
    | { admission?: { at?: unknown }; validation?: { approvalPostAt?: unknown; startAt?: unknown } }
    | undefined;
  const slot: Record<string, [string, unknown]> = {
    WaitForValidationSlot: ['validation', input?.admission?.at],
    WaitForApprovalSlot: ['approval post', input?.validation?.approvalPostAt],
    WaitForGrantSlot: ['grant', input?.admission?.at],
    // Not a slot: a scheduled grant waiting for its start (core/scheduled-start.ts).
    WaitForStart: ['start', input?.validation?.startAt],
  };
  const [phase, at] = slot[current?.stateName ?? ''] ?? [];
  return phase && typeof at === 'string' ? { phase, at } : null;
}

/** How many events the archive holds and how far behind the table it runs (link written → archived). */
function archiveSummary(archive: NonNullable<StateSources['archive']>): Json {
  const lags = [...archive.lagsMs()].sort((a, b) => a - b);
  const at = (q: number) =>
    lags.length ? (lags[Math.min(lags.length - 1, Math.floor(q * lags.length))] ?? null) : null;
  return { objects: archive.written().length, lagP50Ms: at(0.5), lagMaxMs: lags.at(-1) ?? null };
}
