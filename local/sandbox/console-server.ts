import { readFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { z } from 'zod';
import { BodyTooLargeError, readBody } from '../http';
import { faultSettingsUpdateSchema, type IdentityCenterStandIn } from '../identity-center/stand-in';
import type { SlackApiStandIn } from '../slack-api/stand-in';
import { type ClickTarget, type SignedSlackClient, ViewNotOpenError } from './signed-client';
import type { StateValues } from './slack-payloads';
import type { SandboxState } from './state';

// One port for everything a person or Slack reaches: the web console (static files + a small
// JSON API + server-sent events) and the Slack request URL /slack/events (Bolt's HTTPReceiver).

export const CONSOLE_DIR = path.join(__dirname, '../console');
const STATIC_FILES: Record<string, string> = {
  '/': 'index.html',
  '/index.html': 'index.html',
  '/console.js': 'console.js',
  '/blocks.js': 'blocks.js',
  '/console.css': 'console.css',
};
const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
};
const MAX_BODY = 1024 * 1024;
const PULSE_MS = 300;

export interface ConsoleServerOptions {
  port: number;
  host: string;
  /** Read lazily: the client needs the port this server binds. */
  state: () => SandboxState;
  client: () => SignedSlackClient;
  identityCenter?: IdentityCenterStandIn;
  /** The Slack stand-in (absent against a real workspace): its admin deactivates people. */
  slackStandIn?: SlackApiStandIn;
  /** Bolt's request listener for /slack/events; undefined while the app is not available. */
  slackListener: () => http.RequestListener | undefined;
  /** Subscribes to changes with their own events (Slack stand-in, replies); returns an unsubscribe. */
  subscribe: (listener: (topic: string) => void) => () => void;
}

export interface RunningConsoleServer {
  port: number;
  close(): Promise<void>;
}

const persona = z.string().min(1);
const stateValues = z.record(z.string(), z.record(z.string(), z.record(z.string(), z.unknown()))).optional();
const target = z.union([
  z.object({ channel: z.string(), ts: z.string() }),
  z.object({ viewId: z.string() }),
  z.object({ home: z.literal(true) }),
]);
const schemas = {
  command: z.object({
    persona,
    text: z.string().default(''),
    channel: z.string().optional(),
    command: z.string().optional(),
  }),
  action: z.object({
    persona,
    target,
    actionId: z.string(),
    blockId: z.string(),
    selectedOption: z.record(z.string(), z.unknown()).optional(),
    state: stateValues,
  }),
  suggest: z.object({
    persona,
    viewId: z.string(),
    actionId: z.string(),
    blockId: z.string(),
    value: z.string(),
    state: stateValues,
  }),
  submit: z.object({ persona, viewId: z.string(), state: stateValues }),
  close: z.object({ persona, viewId: z.string(), state: stateValues }),
  home: z.object({ persona }),
};
const groupMemberSchema = z
  .object({ group: z.string().min(1), userName: z.string().min(1), member: z.boolean() })
  .strict();
/** A sign-in through the access portal: a role session of the stand-in (core/session-ending.ts ends them at revoke). */
const signInSchema = z
  .object({ userName: z.string().min(1), accountId: z.string().min(1), permissionSetArn: z.string().min(1) })
  .strict();

/** An Identity Center admin deletes a user: {userName}. */
const deleteUserSchema = z.object({ userName: z.string().min(1) }).strict();
/** A Slack admin deactivates or reactivates someone: {persona, active}. */
const slackAccountSchema = z.object({ persona, active: z.boolean() }).strict();

class BadRequest extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BadRequest';
  }
}

function parse<T>(schema: z.ZodType<T>, body: unknown): T {
  const result = schema.safeParse(body);
  if (!result.success) throw new BadRequest(z.prettifyError(result.error));
  return result.data;
}

export async function startConsoleServer(options: ConsoleServerOptions): Promise<RunningConsoleServer> {
  const state = {
    snapshot: () => options.state().snapshot(),
    signature: () => options.state().signature(),
    auditEvents: () => options.state().auditEvents(),
    requests: () => options.state().requests(),
  };
  const client = {
    command: (...args: Parameters<SignedSlackClient['command']>) => options.client().command(...args),
    action: (...args: Parameters<SignedSlackClient['action']>) => options.client().action(...args),
    suggest: (...args: Parameters<SignedSlackClient['suggest']>) => options.client().suggest(...args),
    submit: (...args: Parameters<SignedSlackClient['submit']>) => options.client().submit(...args),
    closeView: (...args: Parameters<SignedSlackClient['closeView']>) => options.client().closeView(...args),
    openHome: (...args: Parameters<SignedSlackClient['openHome']>) => options.client().openHome(...args),
    persona: (who: string) => options.client().persona(who),
  };
  const streams = new Set<http.ServerResponse>();
  const broadcast = (topic: string) => {
    for (const stream of streams) stream.write(`data: ${JSON.stringify({ topic })}\n\n`);
  };
  // Subscribed when the first console connects (the sources exist by then).
  let unsubscribe: (() => void) | undefined;

  // Identity Center, the audit table and executions have no change events: poll them while a
  // console is watching, and tell it when something moved.
  let lastSignature = '';
  let pulsing = false;
  const pulse = setInterval(() => {
    if (streams.size === 0 || pulsing) return;
    pulsing = true;
    state
      .signature()
      .then((signature) => {
        if (signature !== lastSignature) {
          lastSignature = signature;
          broadcast('state');
        }
      })
      .catch(() => undefined)
      .finally(() => {
        pulsing = false;
      });
  }, PULSE_MS);
  pulse.unref();

  const api: Record<string, (body: unknown) => Promise<unknown>> = {
    async command(body) {
      const input = parse(schemas.command, body);
      return client.command(input.persona, input.text, {
        ...(input.channel ? { channelId: input.channel } : {}),
        ...(input.command ? { command: input.command } : {}),
      });
    },
    async action(body) {
      const input = parse(schemas.action, body);
      return client.action(
        input.persona,
        input.target as ClickTarget,
        { actionId: input.actionId, blockId: input.blockId },
        input.selectedOption,
        input.state as StateValues | undefined,
      );
    },
    async suggest(body) {
      const input = parse(schemas.suggest, body);
      const options = await client.suggest(input.persona, input.actionId, input.value, {
        viewId: input.viewId,
        blockId: input.blockId,
        ...(input.state ? { state: input.state as StateValues } : {}),
      });
      return { options };
    },
    async submit(body) {
      const input = parse(schemas.submit, body);
      return client.submit(
        input.persona,
        {},
        { viewId: input.viewId, state: (input.state ?? {}) as StateValues },
      );
    },
    async close(body) {
      const input = parse(schemas.close, body);
      return (
        (await client.closeView(input.persona, {
          viewId: input.viewId,
          ...(input.state ? { state: input.state as StateValues } : {}),
        })) ?? { status: 200, text: '' }
      );
    },
    async home(body) {
      const input = parse(schemas.home, body);
      return client.openHome(input.persona);
    },
    async faults(body) {
      if (!options.identityCenter)
        throw new BadRequest('Identity Center is the real service: no faults to set');
      const update = faultSettingsUpdateSchema.safeParse(body);
      if (!update.success) throw new BadRequest(z.prettifyError(update.error));
      return { faults: options.identityCenter.setFaults(update.data) };
    },
    /** Someone joins or leaves an Identity Center group: {group, userName, member: true | false}. */
    async groups(body) {
      if (!options.identityCenter)
        throw new BadRequest('Identity Center is the real service: change groups in the IdP');
      const input = parse(groupMemberSchema, body);
      try {
        if (input.member) options.identityCenter.addGroupMember(input.group, input.userName);
        else options.identityCenter.removeGroupMember(input.group, input.userName);
      } catch (error) {
        throw new BadRequest(error instanceof Error ? error.message : String(error));
      }
      return { groups: options.identityCenter.groups() };
    },
    /**
     * A Slack admin deactivates (or reactivates) a persona, as when someone leaves: Slack sends
     * the app user_change (the sandbox delivers it on the stand-in's change), and the product
     * offboards them (core/offboarding.ts).
     */
    async accounts(body) {
      if (!options.slackStandIn)
        throw new BadRequest('Slack is a real workspace: deactivate people in its admin');
      const input = parse(slackAccountSchema, body);
      const userId = client.persona(input.persona).slackUserId;
      if (input.active) options.slackStandIn.reactivateUser(userId);
      else options.slackStandIn.deactivateUser(userId);
      return { users: options.slackStandIn.users().map((u) => ({ id: u.id, deleted: u.deleted === true })) };
    },
    /**
     * An Identity Center admin (or the IdP's SCIM deprovisioning) deletes a user: their
     * assignments go at once; the reconciler's next pass (within 5 minutes) offboards them.
     */
    async deleteuser(body) {
      if (!options.identityCenter)
        throw new BadRequest('Identity Center is the real service: delete users there');
      const input = parse(deleteUserSchema, body);
      try {
        options.identityCenter.deleteUser(input.userName);
      } catch (error) {
        throw new BadRequest(error instanceof Error ? error.message : String(error));
      }
      return { users: options.identityCenter.users().map((u) => u.userName) };
    },
    /** Someone signs in with an assignment they hold: {userName, accountId, permissionSetArn}. */
    async sessions(body) {
      if (!options.identityCenter)
        throw new BadRequest('Identity Center is the real service: sign in through the access portal');
      const input = parse(signInSchema, body);
      try {
        return {
          session: options.identityCenter.issueSession({
            user: input.userName,
            accountId: input.accountId,
            permissionSetArn: input.permissionSetArn,
          }),
        };
      } catch (error) {
        throw new BadRequest(error instanceof Error ? error.message : String(error));
      }
    },
  };

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://sandbox');
    const method = req.method ?? 'GET';
    if (url.pathname === '/slack/events' || url.pathname.startsWith('/slack/')) {
      const listener = options.slackListener();
      if (!listener) {
        sendJson(res, 503, {
          error: 'The Slack app (functions/slack) is not available in this build of the sandbox',
        });
        return;
      }
      listener(req, res);
      return;
    }
    if (method === 'GET' && url.pathname === '/api/events') {
      res.writeHead(200, {
        'content-type': 'text/event-stream',
        'cache-control': 'no-cache',
        connection: 'keep-alive',
      });
      res.write(': connected\n\n');
      streams.add(res);
      unsubscribe ??= options.subscribe(broadcast);
      req.on('close', () => streams.delete(res));
      return;
    }
    void route(req, res, url, method).catch((error: unknown) => {
      if (!res.headersSent) {
        const status = error instanceof BadRequest ? 400 : error instanceof ViewNotOpenError ? 409 : 500;
        sendJson(res, status, { error: error instanceof Error ? error.message : String(error) });
      }
    });
  });

  async function route(req: http.IncomingMessage, res: http.ServerResponse, url: URL, method: string) {
    if (method === 'GET' && url.pathname === '/healthz') return sendJson(res, 200, { ok: true });
    if (method === 'GET' && url.pathname === '/api/state') return sendJson(res, 200, await state.snapshot());
    if (method === 'GET' && url.pathname === '/api/audit')
      return sendJson(res, 200, { events: await state.auditEvents() });
    if (method === 'GET' && url.pathname === '/api/requests')
      return sendJson(res, 200, { requests: await state.requests() });
    if (method === 'GET' && url.pathname === '/api/faults') {
      return sendJson(res, 200, { faults: options.identityCenter?.faults() ?? null });
    }
    if (method === 'GET' && url.pathname === '/api/groups')
      return sendJson(res, 200, { groups: options.identityCenter?.groups() ?? null });
    const apiMatch = /^\/api\/([a-z]+)$/.exec(url.pathname);
    const handler = apiMatch?.[1] ? api[apiMatch[1]] : undefined;
    if (method === 'POST' && handler) {
      const raw = await readBody(req, MAX_BODY).catch((error: unknown) => {
        throw error instanceof BodyTooLargeError ? new BadRequest('Body too large') : error;
      });
      let body: unknown;
      try {
        body = raw ? JSON.parse(raw) : {};
      } catch {
        throw new BadRequest('The body is not JSON');
      }
      const result = await handler(body);
      broadcast('slack');
      return sendJson(res, 200, result);
    }
    const file = STATIC_FILES[url.pathname];
    if (method === 'GET' && file) {
      const content = await readFile(path.join(CONSOLE_DIR, file));
      res.writeHead(200, {
        'content-type': MIME[path.extname(file)] ?? 'application/octet-stream',
        'cache-control': 'no-store',
        'content-length': content.length,
      });
      res.end(content);
      return;
    }
    sendJson(res, 404, { error: `Nothing at ${method} ${url.pathname}` });
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        clearInterval(pulse);
        unsubscribe?.();
        for (const stream of streams) stream.end();
        streams.clear();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function sendJson(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
  });
  res.end(text);
}
