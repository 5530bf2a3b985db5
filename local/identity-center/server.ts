import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { z } from 'zod';
import { ACCOUNT_STATES } from '../../functions/core/directory-file';
import { listen, readBody } from '../http';
import {
  ORGANIZATIONS_TARGET_PREFIX,
  OrganizationsStandIn,
  type OrganizationsStandInOptions,
  organizationsFaultUpdateSchema,
} from '../organizations/stand-in';
import { defaultSandboxSeed, sandboxFileSchema } from './sandbox';
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
  /** The Organizations stand-in on the same server (seeded from `sandbox`, on the same clock). */
  organizations?: Omit<OrganizationsStandInOptions, 'sandbox' | 'now'>;
  /** Serve an existing Organizations model instead. */
  organizationsStandIn?: OrganizationsStandIn;
}

export interface RunningIdentityCenter {
  /**
   * Base URL for AWS_ENDPOINT_URL_SSO_ADMIN / AWS_ENDPOINT_URL_IDENTITYSTORE /
   * AWS_ENDPOINT_URL_ORGANIZATIONS or the clients' `endpoint`.
   */
  url: string;
  standIn: IdentityCenterStandIn;
  organizations: OrganizationsStandIn;
  close: () => Promise<void>;
}

const AWS_JSON = 'application/x-amz-json-1.1';

/**
 * One server for sso-admin, identitystore and Organizations: the X-Amz-Target prefix says which.
 * Organizations shares the server because its seed is the same file and every place that starts
 * Identity Center's stand-in (the sandbox, the local stack, the tests) then reaches it with no
 * port or lifecycle of its own; it keeps its own model, faults and counters (local/organizations).
 * Admin/read endpoints live under /_standin/ (Organizations' under /_standin/organizations/) and
 * speak plain JSON.
 */
export async function startIdentityCenterStandIn(
  options: StartIdentityCenterOptions = {},
): Promise<RunningIdentityCenter> {
  const {
    port = 0,
    host = '127.0.0.1',
    standIn: given,
    organizations: organizationsOptions,
    organizationsStandIn,
    ...modelOptions
  } = options;
  const standIn = given ?? new IdentityCenterStandIn(modelOptions);
  const organizations =
    organizationsStandIn ??
    new OrganizationsStandIn({
      ...organizationsOptions,
      sandbox: modelOptions.sandbox ?? defaultSandboxSeed,
      ...(modelOptions.now ? { now: modelOptions.now } : {}),
    });
  const services = { standIn, organizations };
  const server = createServer((req, res) => {
    handleRequest(services, req, res).catch((error: unknown) => {
      sendJson(res, 500, { __type: 'InternalServerException', message: String(error) }, AWS_JSON);
    });
  });
  const { url, close } = await listen(server, port, host);
  return { url, standIn, organizations, close };
}

interface Services {
  standIn: IdentityCenterStandIn;
  organizations: OrganizationsStandIn;
}

async function handleRequest(services: Services, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const { standIn, organizations } = services;
  const path = new URL(req.url ?? '/', 'http://stand-in').pathname;
  const raw = await readBody(req);
  if (path.startsWith('/_standin/organizations/')) {
    const { status, body } = handleOrganizationsAdmin(organizations, req.method ?? 'GET', path, raw);
    sendJson(res, status, body);
    return;
  }
  if (path.startsWith('/_standin/')) {
    const { status, body } = handleAdmin(services, req.method ?? 'GET', path, raw);
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
  const reply = target.startsWith(`${ORGANIZATIONS_TARGET_PREFIX}.`)
    ? await organizations.handle(target, input)
    : await standIn.handle(target, input);
  sendJson(res, reply.status, reply.body, AWS_JSON);
}

const accountStateBodySchema = z.object({ state: z.enum(ACCOUNT_STATES) }).strict();

function handleOrganizationsAdmin(
  organizations: OrganizationsStandIn,
  method: string,
  path: string,
  raw: string,
): { status: number; body: unknown } {
  const route = `${method} ${path.replace(/\/+$/, '')}`;
  switch (route) {
    case 'GET /_standin/organizations/accounts':
      return adminReply(200, { accounts: organizations.listAccountRecords() });
    case 'GET /_standin/organizations/operations':
      return adminReply(200, { operations: organizations.operationLog() });
    case 'GET /_standin/organizations/counters':
      return adminReply(200, { counters: organizations.counters() });
    case 'GET /_standin/organizations/faults':
      return adminReply(200, { faults: organizations.faults() });
    case 'POST /_standin/organizations/faults': {
      const parsed = organizationsFaultUpdateSchema.safeParse(parseJsonOrUndefined(raw));
      if (!parsed.success) return adminReply(400, { error: z.prettifyError(parsed.error) });
      return adminReply(200, { faults: organizations.setFaults(parsed.data) });
    }
    case 'POST /_standin/organizations/reset':
      organizations.reset();
      return adminReply(200, { ok: true });
    default: {
      // POST /_standin/organizations/accounts/<id>/state {"state": "SUSPENDED"}
      const account = /^POST \/_standin\/organizations\/accounts\/(\d{12})\/state$/.exec(route);
      if (account?.[1]) {
        const parsed = accountStateBodySchema.safeParse(parseJsonOrUndefined(raw));
        if (!parsed.success) return adminReply(400, { error: z.prettifyError(parsed.error) });
        try {
          organizations.setAccountState(account[1], parsed.data.state);
        } catch (error) {
          return adminReply(404, { error: error instanceof Error ? error.message : String(error) });
        }
        return adminReply(200, { ok: true });
      }
      return adminReply(404, { error: `no admin route ${route}` });
    }
  }
}

function handleAdmin(
  { standIn, organizations }: Services,
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
    case 'GET /_standin/groups':
      return adminReply(200, { groups: standIn.groups() });
    case 'GET /_standin/sessions':
      return adminReply(200, { sessions: standIn.roleSessions() });
    case 'POST /_standin/sessions': {
      // A sign-in through the access portal: {"user": "alice", "accountId": …, "permissionSetArn": …}
      const parsed = sessionBodySchema.safeParse(parseJsonOrUndefined(raw));
      if (!parsed.success) return adminReply(400, { error: z.prettifyError(parsed.error) });
      try {
        return adminReply(200, { session: standIn.issueSession(parsed.data) });
      } catch (error) {
        return adminReply(409, { error: error instanceof Error ? error.message : String(error) });
      }
    }
    case 'GET /_standin/provisioning':
      return adminReply(200, { requests: standIn.provisioningRequests() });
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
        organizations.reset();
        return adminReply(200, { ok: true });
      }
      const parsed = sandboxFileSchema.safeParse(body);
      if (!parsed.success) return adminReply(400, { error: z.prettifyError(parsed.error) });
      try {
        standIn.reset(parsed.data);
        organizations.reset(parsed.data);
      } catch (error) {
        return adminReply(400, { error: error instanceof Error ? error.message : String(error) });
      }
      return adminReply(200, { ok: true });
    }
    default: {
      // POST /_standin/groups/<display name or group id>/{add-member,remove-member} {"userName": …}
      const member = /^POST \/_standin\/groups\/([^/]+)\/(add-member|remove-member)$/.exec(route);
      if (member?.[1] && member[2])
        return groupMemberRoute(standIn, decodeURIComponent(member[1]), member[2], raw);
      // POST /_standin/sessions/<id>/use: a call made with the session now (allowed, expired, denied).
      const use = /^POST \/_standin\/sessions\/([^/]+)\/use$/.exec(route);
      if (use?.[1]) {
        try {
          return adminReply(200, { verdict: standIn.useSession(decodeURIComponent(use[1])) });
        } catch (error) {
          return adminReply(404, { error: error instanceof Error ? error.message : String(error) });
        }
      }
      // GET /_standin/permission-sets/<ARN, URI-encoded>/policy: the inline policy and each account's provisioned copy.
      const policy = /^GET \/_standin\/permission-sets\/([^/]+)\/policy$/.exec(route);
      if (policy?.[1]) return adminReply(200, standIn.permissionSetPolicy(decodeURIComponent(policy[1])));
      return adminReply(404, { error: `no admin route ${route}` });
    }
  }
}

const memberBodySchema = z.object({ userName: z.string().min(1) }).strict();
const sessionBodySchema = z
  .object({ user: z.string().min(1), accountId: z.string().min(1), permissionSetArn: z.string().min(1) })
  .strict();

/** Someone joins or leaves a group (the IdP's SCIM sync, in the sandbox: a test or the console). */
function groupMemberRoute(
  standIn: IdentityCenterStandIn,
  group: string,
  action: string,
  raw: string,
): { status: number; body: unknown } {
  const parsed = memberBodySchema.safeParse(parseJsonOrUndefined(raw));
  if (!parsed.success) return adminReply(400, { error: z.prettifyError(parsed.error) });
  try {
    if (action === 'add-member')
      return adminReply(200, { membershipId: standIn.addGroupMember(group, parsed.data.userName) });
    return adminReply(200, { removed: standIn.removeGroupMember(group, parsed.data.userName) });
  } catch (error) {
    return adminReply(404, { error: error instanceof Error ? error.message : String(error) });
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
