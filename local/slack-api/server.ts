import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { z } from 'zod';
import { listen, readBody } from '../http';
import {
  JSON_ENCODED_ARGS,
  SlackApiStandIn,
  type SlackApiStandInOptions,
  type SlackArgs,
  slackFaultSettingsUpdateSchema,
} from './stand-in';

export interface StartSlackApiOptions extends SlackApiStandInOptions {
  /** 0 picks a free port. */
  port?: number;
  host?: string;
  /** Serve an existing model instead of building one from the options. */
  standIn?: SlackApiStandIn;
}

export interface RunningSlackApi {
  /** Base URL; give WebClient `slackApiUrl: url + '/api/'`. */
  url: string;
  standIn: SlackApiStandIn;
  /** Registers a response_url for an interaction and returns its full URL. */
  responseUrl: (context: Parameters<SlackApiStandIn['registerResponseUrl']>[0]) => string;
  close: () => Promise<void>;
}

/**
 * POST /api/<method> (form-encoded, as WebClient sends, or JSON), answered as Slack would: rate
 * limits and injected faults included (429 with Retry-After, 500, held answers). Read and admin
 * endpoints under /_standin/: GET calls, counters, messages, views, users, channels, faults;
 * POST faults, reset; GET events (server-sent events); POST response/<id> (response_url replies);
 * POST channels/<id>/{archive,unarchive,delete,remove-bot,add-bot}, users/<id>/{deactivate,
 * reactivate}, messages/delete {channel, ts}, messages/user {channel, user, text};
 * GET usergroups, POST usergroups/<id or handle>/members {users: [ids]} (a rota change),
 * usergroups/<id or handle>/{disable,enable}.
 */
export async function startSlackApiStandIn(options: StartSlackApiOptions = {}): Promise<RunningSlackApi> {
  const { port = 0, host = '127.0.0.1', standIn: given, ...modelOptions } = options;
  const standIn = given ?? new SlackApiStandIn(modelOptions);
  const server = createServer((req, res) => {
    handleRequest(standIn, req, res).catch((error: unknown) => {
      sendJson(res, 500, { ok: false, error: 'internal_error', detail: String(error) });
    });
  });
  const { url, close } = await listen(server, port, host);
  return {
    url,
    standIn,
    responseUrl: (context) => `${url}/_standin/response/${standIn.registerResponseUrl(context)}`,
    close,
  };
}

async function handleRequest(
  standIn: SlackApiStandIn,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://stand-in');
  const method = req.method ?? 'GET';
  if (url.pathname === '/_standin/events' && method === 'GET') {
    streamEvents(standIn, req, res);
    return;
  }
  const raw = await readBody(req);
  if (url.pathname.startsWith('/api/')) {
    if (standIn.latencyMs > 0) await new Promise((resolve) => setTimeout(resolve, standIn.latencyMs));
    const apiMethod = decodeURIComponent(url.pathname.slice('/api/'.length));
    const args = { ...queryArgs(url.searchParams), ...parseBody(raw, headerValue(req, 'content-type')) };
    const token = bearerToken(headerValue(req, 'authorization'));
    const reply = standIn.request(apiMethod, args, token);
    if (reply.holdMs > 0) {
      await hold(res, reply.holdMs);
      // The client gave up (its timeout): the call ran or not as recorded, the answer is lost.
      if (res.destroyed || res.writableEnded) return;
    }
    sendJson(res, reply.status, reply.body, reply.headers);
    return;
  }
  const responseMatch = /^\/_standin\/response\/([^/]+)$/.exec(url.pathname);
  if (responseMatch?.[1] && method === 'POST') {
    const payload = parseBody(raw, headerValue(req, 'content-type'));
    const result = standIn.respond(responseMatch[1], payload);
    // Slack answers response_url posts with 200 {ok:true} or 404 for a dead URL.
    const dead = !result.ok && ['invalid_url', 'expired_url', 'used_url'].includes(result.error);
    sendJson(res, dead ? 404 : 200, result);
    return;
  }
  const path = url.pathname.replace(/\/+$/, '');
  const admin = adminAction(standIn, method, path, raw);
  if (admin) return sendJson(res, admin.status, admin.body);
  const route = `${method} ${path}`;
  switch (route) {
    case 'GET /_standin/calls': {
      const filterMethod = url.searchParams.get('method') ?? undefined;
      const since = url.searchParams.get('since');
      return sendJson(res, 200, {
        calls: standIn.calls({ method: filterMethod, since: since ? Number(since) : undefined }),
      });
    }
    case 'GET /_standin/messages': {
      const channel = url.searchParams.get('channel') ?? undefined;
      const user = url.searchParams.get('user');
      return sendJson(res, 200, {
        messages: user ? standIn.directMessages(user) : standIn.messages(channel),
        ephemerals: standIn.ephemerals(user ?? undefined),
      });
    }
    case 'GET /_standin/views': {
      const user = url.searchParams.get('user');
      if (user)
        return sendJson(res, 200, { home: standIn.homeView(user) ?? null, stack: standIn.openViews(user) });
      return sendJson(res, 200, standIn.viewsSnapshot());
    }
    case 'GET /_standin/users':
      return sendJson(res, 200, { users: standIn.users() });
    case 'GET /_standin/channels':
      return sendJson(res, 200, { channels: standIn.channelsSnapshot() });
    case 'GET /_standin/usergroups':
      return sendJson(res, 200, { usergroups: standIn.userGroups() });
    case 'GET /_standin/counters':
      return sendJson(res, 200, { counters: standIn.counters() });
    case 'GET /_standin/faults':
      return sendJson(res, 200, { faults: standIn.faults() });
    case 'POST /_standin/faults': {
      const parsed = slackFaultSettingsUpdateSchema.safeParse(parseJsonOr(raw.trim() === '' ? '{}' : raw));
      if (!parsed.success) return sendJson(res, 400, { ok: false, error: z.prettifyError(parsed.error) });
      return sendJson(res, 200, { faults: standIn.setFaults(parsed.data) });
    }
    case 'POST /_standin/reset':
      standIn.reset();
      return sendJson(res, 200, { ok: true });
    default:
      return sendJson(res, 404, { ok: false, error: 'not_found' });
  }
}

const CHANNEL_ACTIONS = {
  archive: (s: SlackApiStandIn, id: string) => s.archiveChannel(id),
  unarchive: (s: SlackApiStandIn, id: string) => s.unarchiveChannel(id),
  delete: (s: SlackApiStandIn, id: string) => s.deleteChannel(id),
  'remove-bot': (s: SlackApiStandIn, id: string) => s.removeBotFromChannel(id),
  'add-bot': (s: SlackApiStandIn, id: string) => s.addBotToChannel(id),
} as const;
const USER_ACTIONS = {
  deactivate: (s: SlackApiStandIn, id: string) => s.deactivateUser(id),
  reactivate: (s: SlackApiStandIn, id: string) => s.reactivateUser(id),
} as const;
const USER_GROUP_ACTIONS = {
  disable: (s: SlackApiStandIn, group: string) => s.disableUserGroup(group),
  enable: (s: SlackApiStandIn, group: string) => s.enableUserGroup(group),
} as const;
const userGroupMembersSchema = z.object({ users: z.array(z.string().min(1)) }).strict();

/** What people and admins do outside the app (archive a channel, delete a message…), over HTTP. */
function adminAction(
  standIn: SlackApiStandIn,
  method: string,
  path: string,
  raw: string,
): { status: number; body: unknown } | undefined {
  if (method !== 'POST') return undefined;
  const channel = /^\/_standin\/channels\/([^/]+)\/([a-z-]+)$/.exec(path);
  if (channel?.[1] && channel[2] && Object.hasOwn(CHANNEL_ACTIONS, channel[2])) {
    CHANNEL_ACTIONS[channel[2] as keyof typeof CHANNEL_ACTIONS](standIn, decodeURIComponent(channel[1]));
    return { status: 200, body: { ok: true } };
  }
  const user = /^\/_standin\/users\/([^/]+)\/([a-z]+)$/.exec(path);
  if (user?.[1] && user[2] && Object.hasOwn(USER_ACTIONS, user[2])) {
    USER_ACTIONS[user[2] as keyof typeof USER_ACTIONS](standIn, decodeURIComponent(user[1]));
    return { status: 200, body: { ok: true } };
  }
  const userGroup = /^\/_standin\/usergroups\/([^/]+)\/([a-z]+)$/.exec(path);
  if (userGroup?.[1] && userGroup[2]) {
    const group = decodeURIComponent(userGroup[1]);
    let found: boolean;
    if (userGroup[2] === 'members') {
      const parsed = userGroupMembersSchema.safeParse(parseJsonOr(raw));
      if (!parsed.success) return { status: 400, body: { ok: false, error: z.prettifyError(parsed.error) } };
      found = standIn.setUserGroupMembers(group, parsed.data.users);
    } else if (Object.hasOwn(USER_GROUP_ACTIONS, userGroup[2])) {
      found = USER_GROUP_ACTIONS[userGroup[2] as keyof typeof USER_GROUP_ACTIONS](standIn, group);
    } else return undefined;
    return found
      ? { status: 200, body: { ok: true } }
      : { status: 404, body: { ok: false, error: 'no_such_subteam' } };
  }
  const body = parseJsonOr(raw) as Record<string, unknown> | string;
  const field = (name: string) =>
    typeof body === 'object' && body !== null && typeof body[name] === 'string' ? (body[name] as string) : '';
  if (path === '/_standin/messages/delete') {
    const deleted = standIn.deleteMessage(field('channel'), field('ts'));
    return { status: deleted ? 200 : 404, body: { ok: deleted } };
  }
  if (path === '/_standin/messages/user') {
    if (!field('channel') || !field('user'))
      return { status: 400, body: { ok: false, error: 'channel and user are required' } };
    return {
      status: 200,
      body: { ok: true, ts: standIn.postUserMessage(field('channel'), field('user'), field('text')) },
    };
  }
  return undefined;
}

/** Waits `ms`, or until the client hangs up (no stray timer outlives the request). */
function hold(res: ServerResponse, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    res.once('close', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/** Server-sent events: one `data:` line per model change, for a live console. */
function streamEvents(standIn: SlackApiStandIn, req: IncomingMessage, res: ServerResponse): void {
  res.writeHead(200, {
    'content-type': 'text/event-stream',
    'cache-control': 'no-cache',
    connection: 'keep-alive',
  });
  res.write(': connected\n\n');
  const unsubscribe = standIn.subscribe((event) => res.write(`data: ${JSON.stringify(event)}\n\n`));
  req.on('close', unsubscribe);
}

/** Form bodies carry nested values JSON-encoded (WebClient's serializeBody); JSON bodies arrive whole. */
export function parseBody(raw: string, contentType: string | undefined): SlackArgs {
  if (raw.trim() === '') return {};
  if (contentType?.includes('application/json')) {
    try {
      const value: unknown = JSON.parse(raw);
      return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as SlackArgs) : {};
    } catch {
      return {};
    }
  }
  return queryArgs(new URLSearchParams(raw));
}

function queryArgs(params: URLSearchParams): SlackArgs {
  const args: SlackArgs = {};
  for (const [key, value] of params) {
    args[key] = JSON_ENCODED_ARGS.has(key) ? parseJsonOr(value) : value;
  }
  return args;
}

function parseJsonOr(value: string): unknown {
  try {
    return JSON.parse(value);
  } catch {
    return value;
  }
}

function bearerToken(header: string | undefined): string | undefined {
  const match = header ? /^Bearer\s+(.+)$/i.exec(header) : null;
  return match?.[1]?.trim() || undefined;
}

function headerValue(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    ...headers,
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}
