import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { z } from 'zod';
import { listen, readBody } from '../http';
import { sandboxFileSchema } from './sandbox';
import {
  faultSettingsUpdateSchema,
  IdentityCenterStandIn,
  type IdentityCenterStandInOptions,
} from './stand-in';

export interface StartIdentityCenterOptions extends IdentityCenterStandInOptions {
  /** 0 picks a free port. */
  port?: number;
  host?: string;
  /** Serve an existing model instead of building one from the options. */
  standIn?: IdentityCenterStandIn;
}

export interface RunningIdentityCenter {
  /** Base URL for AWS_ENDPOINT_URL_SSO_ADMIN / AWS_ENDPOINT_URL_IDENTITYSTORE or the clients' `endpoint`. */
  url: string;
  standIn: IdentityCenterStandIn;
  close: () => Promise<void>;
}

const AWS_JSON = 'application/x-amz-json-1.1';

/**
 * One server for both services: the X-Amz-Target prefix says which. Admin/read endpoints live
 * under /_standin/ and speak plain JSON.
 */
export async function startIdentityCenterStandIn(
  options: StartIdentityCenterOptions = {},
): Promise<RunningIdentityCenter> {
  const { port = 0, host = '127.0.0.1', standIn: given, ...modelOptions } = options;
  const standIn = given ?? new IdentityCenterStandIn(modelOptions);
  const server = createServer((req, res) => {
    handleRequest(standIn, req, res).catch((error: unknown) => {
      sendJson(res, 500, { __type: 'InternalServerException', message: String(error) }, AWS_JSON);
    });
  });
  const { url, close } = await listen(server, port, host);
  return { url, standIn, close };
}

async function handleRequest(
  standIn: IdentityCenterStandIn,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const path = new URL(req.url ?? '/', 'http://stand-in').pathname;
  const raw = await readBody(req);
  if (path.startsWith('/_standin/')) {
    const { status, body } = handleAdmin(standIn, req.method ?? 'GET', path, raw);
    sendJson(res, status, body);
    return;
  }
  const target = headerValue(req, 'x-amz-target');
  if (req.method !== 'POST' || !target) {
    sendJson(
      res,
      400,
      { __type: 'UnknownOperationException', message: 'Expected POST with X-Amz-Target' },
      AWS_JSON,
    );
    return;
  }
  let input: unknown = {};
  try {
    input = raw.length > 0 ? JSON.parse(raw) : {};
  } catch {
    sendJson(
      res,
      400,
      { __type: 'SerializationException', message: 'Request body is not valid JSON' },
      AWS_JSON,
    );
    return;
  }
  const reply = await standIn.handle(target, input);
  sendJson(res, reply.status, reply.body, AWS_JSON);
}

function handleAdmin(
  standIn: IdentityCenterStandIn,
  method: string,
  path: string,
  raw: string,
): { status: number; body: unknown } {
  const route = `${method} ${path.replace(/\/+$/, '')}`;
  switch (route) {
    case 'GET /_standin/assignments':
      return adminReply(200, { assignments: standIn.listAssignments() });
    case 'GET /_standin/requests':
      return adminReply(200, { requests: standIn.assignmentRequests() });
    case 'GET /_standin/operations':
      return adminReply(200, { operations: standIn.operationLog() });
    case 'GET /_standin/counters':
      return adminReply(200, { counters: standIn.counters() });
    case 'GET /_standin/users':
      return adminReply(200, { users: standIn.users() });
    case 'GET /_standin/faults':
      return adminReply(200, { faults: standIn.faults() });
    case 'POST /_standin/faults': {
      const parsed = faultSettingsUpdateSchema.safeParse(parseJsonOrUndefined(raw));
      if (!parsed.success) return adminReply(400, { error: z.prettifyError(parsed.error) });
      return adminReply(200, { faults: standIn.setFaults(parsed.data) });
    }
    case 'POST /_standin/reset': {
      // An optional body replaces the seed (a sandbox file object).
      const body = parseJsonOrUndefined(raw);
      if (
        body === undefined ||
        (typeof body === 'object' && body !== null && Object.keys(body).length === 0)
      ) {
        standIn.reset();
        return adminReply(200, { ok: true });
      }
      const parsed = sandboxFileSchema.safeParse(body);
      if (!parsed.success) return adminReply(400, { error: z.prettifyError(parsed.error) });
      try {
        standIn.reset(parsed.data);
      } catch (error) {
        return adminReply(400, { error: error instanceof Error ? error.message : String(error) });
      }
      return adminReply(200, { ok: true });
    }
    default:
      return adminReply(404, { error: `no admin route ${route}` });
  }
}

const adminReply = (status: number, body: unknown) => ({ status, body });

/** Empty body → undefined; invalid JSON → an object no schema accepts. */
function parseJsonOrUndefined(raw: string): unknown {
  if (raw.trim() === '') return undefined;
  try {
    return JSON.parse(raw);
  } catch {
    return { invalidJson: raw.slice(0, 100) };
  }
}

function headerValue(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  contentType = 'application/json',
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': contentType,
    'content-length': Buffer.byteLength(text),
    'x-amzn-requestid': randomUUID(),
  });
  res.end(text);
}
