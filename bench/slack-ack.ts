import './lib/env';
import { AsyncLocalStorage } from 'node:async_hooks';
import http from 'node:http';
import path from 'node:path';
import type { Context } from 'aws-lambda';
import { ACTION_IDS } from '../functions/slack/render/messages';
import { check, ms, type Row, type SectionResult } from './lib/report';
import { startServicesProcess } from './lib/services-process';
import { ACCOUNTS, benchUser, PEOPLE, PERMISSION_SETS } from './lib/stack';
import { sleep, summarize } from './lib/stats';
import { type FunctionUrlEvent, signedEvent, slashCommandEvent } from './slack-events';

// 1. Slack ack latency: the real Slack Lambda handler (functions/slack/index.ts: Bolt App behind
// AwsLambdaReceiver) invoked in-process with signed Function URL events, as Slack would send them.
// AwsLambdaReceiver answers only when the listeners finish, so the time measured is the time
// Slack waits. The back end (DynamoDB, Identity Center, the Step Functions host running the
// workflows these requests start) runs in another process on the other core; the Slack Web API
// stand-in answers every call after a fixed SLACK_LATENCY_MS. "Net" = total − calls × that latency.

export const ACK_TARGET_MS = 300;
export const SLACK_LATENCY_MS = 25;
const POLICY_FILE = path.join(__dirname, 'fixtures/bench-policy.yaml');

export interface SlackAckOptions {
  quick: boolean;
  calls?: number;
  /** Requests in flight at once (warm containers sharing this process). */
  concurrency?: number;
}

type Handler = (event: FunctionUrlEvent, context: Context) => Promise<{ statusCode: number; body?: string }>;

interface Sample {
  totalMs: number;
  slackCalls: number;
  netMs: number;
  /** Total minus all time waiting on stand-ins (Slack, and the AWS ones over HTTP): the function's own work. */
  ownMs: number;
  ok: boolean;
  detail?: string;
}

interface CallStore {
  slack: number;
  slackMs: number;
  awsMs: number;
}
const calls = new AsyncLocalStorage<CallStore>();

/**
 * Counts the Slack Web API calls each handler invocation makes (the WebClient uses global fetch)
 * and times every call to a stand-in: fetch for Slack, node:http for the AWS SDK (its
 * NodeHttpHandler looks up http.request when a client is built, after this runs).
 */
function instrumentCalls(slackUrl: string): void {
  const realFetch = globalThis.fetch;
  globalThis.fetch = (async (input: Parameters<typeof fetch>[0], init?: Parameters<typeof fetch>[1]) => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    const store = calls.getStore();
    if (!store || !url.startsWith(slackUrl)) return realFetch(input, init);
    store.slack += 1;
    const started = performance.now();
    try {
      return await realFetch(input, init);
    } finally {
      store.slackMs += performance.now() - started;
    }
  }) as typeof fetch;
  const realRequest = http.request;
  http.request = ((...args: Parameters<typeof http.request>) => {
    const request = realRequest(...args);
    const store = calls.getStore();
    if (store) {
      const started = performance.now();
      request.once('response', (response) =>
        response.once('end', () => {
          store.awsMs += performance.now() - started;
        }),
      );
    }
    return request;
  }) as typeof http.request;
}

function lambdaContext(n: number): Context {
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: 'jit-access-slack',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:jit-access-slack',
    memoryLimitInMB: '256',
    awsRequestId: `bench-${n}`,
    logGroupName: '/aws/lambda/jit-access-slack',
    logStreamName: 'bench',
    getRemainingTimeInMillis: () => 30_000,
    done: () => {},
    fail: () => {},
    succeed: () => {},
  };
}

let invocations = 0;

async function invoke(
  handler: Handler,
  event: FunctionUrlEvent,
  accept: (response: { statusCode: number; body?: string }) => string | undefined,
): Promise<Sample> {
  const store: CallStore = { slack: 0, slackMs: 0, awsMs: 0 };
  const started = performance.now();
  const response = await calls.run(store, () => handler(event, lambdaContext(++invocations)));
  const totalMs = performance.now() - started;
  const problem = response.statusCode !== 200 ? `HTTP ${response.statusCode}` : accept(response);
  return {
    totalMs,
    slackCalls: store.slack,
    netMs: totalMs - store.slack * SLACK_LATENCY_MS,
    ownMs: totalMs - store.slackMs - store.awsMs,
    ok: problem === undefined,
    ...(problem ? { detail: problem } : {}),
  };
}

/** Runs `count` invocations, `concurrency` at a time, in index order. */
async function pool(count: number, concurrency: number, run: (index: number) => Promise<Sample>) {
  const samples: Sample[] = new Array(count);
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) {
        const index = next++;
        samples[index] = await run(index);
      }
    }),
  );
  return samples;
}

function viewSubmission(
  signingSecret: string,
  user: { slackUserId: string },
  viewId: string,
): FunctionUrlEvent {
  const field = (id: string, state: Record<string, unknown>) => ({ [id]: { [id]: state } });
  const payload = {
    type: 'view_submission',
    team: { id: 'T0SANDBOX', domain: 'sandbox' },
    user: { id: user.slackUserId, team_id: 'T0SANDBOX' },
    api_app_id: 'A0JITAPP',
    trigger_id: `trigger-${viewId}`,
    view: {
      id: viewId,
      type: 'modal',
      callback_id: 'request_access_form',
      private_metadata: JSON.stringify({ channel: null }),
      hash: `hash-${viewId}`,
      state: {
        values: {
          ...field('account', { type: 'external_select', selected_option: { value: ACCOUNTS.production } }),
          ...field('permission_set', {
            type: 'external_select',
            selected_option: { value: PERMISSION_SETS.readOnly },
          }),
          ...field('duration', { type: 'static_select', selected_option: { value: '60' } }),
          ...field('reason', { type: 'plain_text_input', value: 'Benchmark: checking a deployment' }),
          ...field('ticket', { type: 'plain_text_input', value: null }),
        },
      },
    },
  };
  return signedEvent(signingSecret, new URLSearchParams({ payload: JSON.stringify(payload) }).toString());
}

function approveClick(
  signingSecret: string,
  approver: { slackUserId: string },
  requestId: string,
  message: { channel: string; ts: string },
): FunctionUrlEvent {
  const payload = {
    type: 'block_actions',
    team: { id: 'T0SANDBOX', domain: 'sandbox' },
    user: { id: approver.slackUserId, team_id: 'T0SANDBOX' },
    api_app_id: 'A0JITAPP',
    trigger_id: `trigger-approve-${requestId}`,
    container: { type: 'message', message_ts: message.ts, channel_id: message.channel, is_ephemeral: false },
    channel: { id: message.channel, name: 'approvals' },
    message: { type: 'message', ts: message.ts, text: 'Access request' },
    response_url: 'http://127.0.0.1:9/unused',
    actions: [
      {
        type: 'button',
        action_id: ACTION_IDS.approve,
        block_id: 'decision',
        value: requestId,
        action_ts: String(Date.now() / 1000),
      },
    ],
  };
  return signedEvent(signingSecret, new URLSearchParams({ payload: JSON.stringify(payload) }).toString());
}

export async function runSlackAck(options: SlackAckOptions): Promise<SectionResult> {
  const started = Date.now();
  const count = options.calls ?? (options.quick ? 30 : 1000);
  const concurrency = options.concurrency ?? 4;
  const services = await startServicesProcess({
    msPerSecond: 1000,
    users: count,
    slackLatencyMs: SLACK_LATENCY_MS,
    unlimitedIdentityCenter: true,
    policyFile: POLICY_FILE,
    separateDynamo: true,
    separateLambda: true,
  });
  try {
    Object.assign(process.env, services.env);
    delete process.env.SLACK_SECRET_ARN;
    const slackApiUrl = services.env.SLACK_API_URL ?? '';
    instrumentCalls(slackApiUrl.replace(/\/api\/$/, ''));
    const signingSecret = services.env.SLACK_SIGNING_SECRET ?? '';
    // Imported after the environment is set: the function reads it when it builds its clients.
    const { handler } = (await import('../functions/slack')) as unknown as { handler: Handler };
    const { requestStore } = await import('../local/product-wiring');
    const command = (user: { slackUserId: string }, n: number) =>
      slashCommandEvent(signingSecret, user, `${Math.floor(Date.now() / 1000)}.${n}.bench`);
    const emptyBody = (r: { body?: string }) =>
      r.body ? `unexpected body ${r.body.slice(0, 80)}` : undefined;

    // Warm-up: the container's first request builds the app (credentials, clients); not counted.
    for (let i = 0; i < 5; i++) await invoke(handler, command(PEOPLE.alice, i), emptyBody);

    const commands = await pool(count, concurrency, (i) =>
      invoke(handler, command(benchUser(i + 1), i), emptyBody),
    );
    const requestIds: string[] = [];
    const submissions = await pool(count, concurrency, async (i) => {
      const sample = await invoke(
        handler,
        viewSubmission(signingSecret, benchUser(i + 1), `VBENCH${i + 1}`),
        (r) => {
          const body = JSON.parse(r.body ?? '{}') as { response_action?: string; errors?: unknown };
          return body.response_action === 'update' ? undefined : `ack ${JSON.stringify(body).slice(0, 120)}`;
        },
      );
      return sample;
    });
    // The request ids the function derived from the view ids (core/request-id.ts requestIdForView).
    const { requestIdForView } = await import('../functions/core/request-id');
    for (let i = 0; i < count; i++) requestIds.push(requestIdForView('T0SANDBOX', `VBENCH${i + 1}`));

    // The workflow (other process) asks for approval: wait until every approval message is out.
    const messages = new Map<string, { channel: string; ts: string }>();
    const deadline = Date.now() + 120_000;
    while (messages.size < requestIds.length && Date.now() < deadline) {
      for (const requestId of requestIds) {
        if (messages.has(requestId)) continue;
        const record = await requestStore().getRequest(requestId);
        if (record?.status === 'PENDING_APPROVAL' && record.approvalMessage)
          messages.set(requestId, record.approvalMessage);
      }
      if (messages.size < requestIds.length) await sleep(250);
    }
    const pending = requestIds.filter((id) => messages.has(id));
    const approvals = await pool(pending.length, concurrency, async (i) => {
      const requestId = pending[i] ?? '';
      const message = messages.get(requestId) ?? { channel: '', ts: '' };
      return invoke(handler, approveClick(signingSecret, PEOPLE.carol, requestId, message), emptyBody);
    });
    // The decisions function (in the services process, behind the Lambda endpoint) decides after
    // the acknowledgement: wait until every handed-off approval has reached the request record.
    let approved = 0;
    const decidedBy = Date.now() + 120_000;
    const undecided = new Set(pending);
    while (undecided.size > 0 && Date.now() < decidedBy) {
      for (const requestId of [...undecided]) {
        const status = (await requestStore().getRequest(requestId))?.status;
        if (status && status !== 'PENDING_APPROVAL') {
          approved += 1;
          undecided.delete(requestId);
        }
      }
      if (undecided.size > 0) await sleep(250);
    }

    const kinds: Array<[string, Sample[], string]> = [
      ['/request-access', commands, 'users.info + views.open'],
      ['view submission', submissions, 'users.info cached; GetUserId + StartExecution'],
      ['Approve click', approvals, 'handed to the decisions function (async invoke)'],
    ];
    const rows: Row[] = kinds.map(([name, samples]) => {
      const net = summarize(samples.map((s) => s.netMs));
      const total = summarize(samples.map((s) => s.totalMs));
      const failed = samples.filter((s) => !s.ok);
      const slackCalls = summarize(samples.map((s) => s.slackCalls));
      const own = summarize(samples.map((s) => s.ownMs));
      return {
        measure: `${name}, ${samples.length} calls: net p50/p95/p99 (total p99; own p99)`,
        result:
          `${ms(net.p50)} / ${ms(net.p95)} / ${ms(net.p99)} (${ms(total.p99)}; ${ms(own.p99)}; ${slackCalls.mean.toFixed(1)} Slack calls)` +
          (failed.length ? ` ${failed.length} failed: ${failed[0]?.detail}` : ''),
        target: `net p99 < ${ACK_TARGET_MS} ms`,
        status: failed.length ? 'FAIL' : samples.length < count ? 'FAIL' : check(net.p99, '<', ACK_TARGET_MS),
      };
    });
    if (approved < pending.length || pending.length < count) {
      rows.push({
        measure: 'approvals that reached the workflow',
        result: `${approved} of ${count} (${pending.length} were waiting for approval)`,
        status: 'FAIL',
      });
    }
    return {
      id: 'slack-ack',
      title: 'Slack ack',
      rows,
      details: {
        count,
        concurrency,
        slackLatencyMs: SLACK_LATENCY_MS,
        approved,
        kinds: Object.fromEntries(
          kinds.map(([name, samples, what]) => [
            name,
            {
              what,
              net: summarize(samples.map((s) => s.netMs)),
              total: summarize(samples.map((s) => s.totalMs)),
              own: summarize(samples.map((s) => s.ownMs)),
              slackCalls: summarize(samples.map((s) => s.slackCalls)),
              failures: samples.filter((s) => !s.ok).map((s) => s.detail),
            },
          ]),
        ),
      },
      notes: [
        `Slack ack: functions/slack/index.ts handler in-process, signed Function URL events, ${concurrency} in flight; Slack Web API stand-in adds ${SLACK_LATENCY_MS} ms per call (net = total - calls x ${SLACK_LATENCY_MS} ms); DynamoDB (own process), Identity Center and Step Functions (a second process, which also runs the workflows these requests start) add no latency, but their local response time counts in net; "own" also takes out every wait on a stand-in; 5 warm-up calls not counted.`,
      ],
      durationMs: Date.now() - started,
    };
  } finally {
    await services.close();
  }
}
