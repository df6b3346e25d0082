import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { startSandbox, type RecordedRequest, type RunningSandbox, type SandboxResponse } from './http-sandbox';

const directorySchema = z.object({
  users: z.array(z.looseObject({ id: z.string(), userPrincipalName: z.string() })),
  groups: z.array(z.object({ id: z.string(), displayName: z.string(), members: z.array(z.string()) })),
});
export type SandboxDirectory = z.infer<typeof directorySchema>;

const DEFAULT_USER_FIELDS = [
  'businessPhones',
  'displayName',
  'givenName',
  'jobTitle',
  'mail',
  'mobilePhone',
  'officeLocation',
  'preferredLanguage',
  'surname',
  'userPrincipalName',
  'id',
];
const MAX_BATCH = 20;

export interface SandboxGraph extends RunningSandbox {
  /** The next `count` requests inside a batch answer 429 with this Retry-After. */
  throttleNext(count: number, retryAfterSeconds?: number): void;
  /** Every answer comes this much later (0: at once): a slow Graph. */
  respondAfter(ms: number): void;
  /** Every request answers this status (a Graph outage, e.g. 503) until called with undefined. */
  failWith(status: number | undefined): void;
  /** The test-only admin route that changes a user while the sandbox runs (PATCH, JSON merged into the user). */
  adminUserUrl(idOrUpn: string): string;
  /** Every message /me/sendMail accepted, in order: from whom (the token's user), to whom, and what. */
  readonly sentMail: SentMail[];
  /** The next `count` sendMail calls answer `status` (429 with this Retry-After, 5xx, 403…) and send nothing. */
  failNextSendMail(status: number, count?: number, retryAfterSeconds?: number): void;
  /** This user's mailbox refuses to send for the app (403 ErrorAccessDenied), as when Mail.Send was not granted. */
  denyMailSend(userId: string): void;
}

/** A message the sandbox's sendMail accepted. */
export interface SentMail {
  from: string;
  to: string[];
  subject: string;
  body: string;
}

/**
 * The delegated token the sandbox accepts for sendMail: `sandbox-user:<user id>` (a real one is a
 * JWT from Microsoft Entra ID, which the Bot Framework token service hands the bot). Anything
 * else is answered 401, as Graph answers an expired or missing token.
 */
export function sandboxUserToken(userId: string): string {
  return `sandbox-user:${userId}`;
}

const sendMailSchema = z.object({
  message: z.object({
    subject: z.string(),
    body: z.object({ contentType: z.string(), content: z.string() }),
    toRecipients: z.array(z.object({ emailAddress: z.object({ address: z.string() }) })).min(1),
  }),
  saveToSentItems: z.boolean().optional(),
});

/** A user's fields merged with changes; nested objects (onPremisesExtensionAttributes) merged one level down, null removes a field. */
function mergeUser(user: Record<string, unknown>, changes: Record<string, unknown>): void {
  for (const [key, value] of Object.entries(changes)) {
    if (key === 'id' || key === 'userPrincipalName') continue;
    const current = user[key];
    if (value === null) delete user[key];
    else if (value && typeof value === 'object' && !Array.isArray(value) && current && typeof current === 'object' && !Array.isArray(current)) {
      mergeUser(current as Record<string, unknown>, value as Record<string, unknown>);
    } else user[key] = value;
  }
}

export async function loadSandboxDirectory(file: string): Promise<SandboxDirectory> {
  return directorySchema.parse(JSON.parse(await readFile(file, 'utf8')));
}

/** A loopback stand-in for Microsoft Graph v1.0: user look-ups with $select, $batch and checkMemberGroups. */
export async function startSandboxGraph(directory: SandboxDirectory, port = 0): Promise<SandboxGraph> {
  let throttleRemaining = 0;
  let throttleSeconds = 0;
  let delayMs = 0;
  let failStatus: number | undefined;
  const sentMail: SentMail[] = [];
  const mailFaults: Array<{ status: number; retryAfterSeconds?: number }> = [];
  const mailDenied = new Set<string>();
  // Graph finds a user by id or userPrincipalName, without regard to case.
  const usersByKey = new Map<string, SandboxDirectory['users'][number]>();
  for (const user of directory.users) {
    usersByKey.set(user.id.toLowerCase(), user);
    usersByKey.set(user.userPrincipalName.toLowerCase(), user);
  }
  const findUser = (key: string) => usersByKey.get(key.toLowerCase());
  const notFound = (what: string): SandboxResponse => ({
    status: 404,
    body: {
      error: {
        code: 'Request_ResourceNotFound',
        message: `Resource '${what}' does not exist or one of its queried reference-property objects are not present.`,
      },
    },
  });

  const getUser = (key: string, select: string | null): SandboxResponse => {
    const user = findUser(key);
    if (!user) return notFound(key);
    const fields = select ? select.split(',').map((field) => field.trim()) : DEFAULT_USER_FIELDS;
    const projected: Record<string, unknown> = { '@odata.context': 'https://graph.microsoft.com/v1.0/$metadata#users/$entity' };
    for (const field of fields) projected[field] = (user as Record<string, unknown>)[field] ?? (COLLECTIONS.has(field) ? [] : null);
    // As Graph does: all 15 extension attributes, null where unset (the demo file lists only those set).
    if ('onPremisesExtensionAttributes' in projected) projected.onPremisesExtensionAttributes = allExtensionAttributes(projected.onPremisesExtensionAttributes);
    return { status: 200, body: projected };
  };

  /** The directory's reads, at their path below /v1.0 (as a batch names them): a user by id or address, and checkMemberGroups. */
  const directoryRead = (method: string, path: string, query: URLSearchParams, body: unknown): SandboxResponse | undefined => {
    const userMatch = /^\/users\/([^/]+)$/.exec(path);
    if (method === 'GET' && userMatch) return getUser(decodeURIComponent(userMatch[1] as string), query.get('$select'));
    const memberMatch = /^\/users\/([^/]+)\/checkMemberGroups$/.exec(path);
    if (method === 'POST' && memberMatch) {
      const user = findUser(decodeURIComponent(memberMatch[1] as string));
      if (!user) return notFound(memberMatch[1] as string);
      const groupIds = z.object({ groupIds: z.array(z.string()) }).safeParse(body);
      if (!groupIds.success) return { status: 400, body: { error: { code: 'Request_BadRequest', message: 'groupIds is required.' } } };
      const value = groupIds.data.groupIds.filter((id) => directory.groups.some((group) => group.id === id && group.members.includes(user.id)));
      return { status: 200, body: { '@odata.context': 'https://graph.microsoft.com/v1.0/$metadata#Collection(Edm.String)', value } };
    }
    return undefined;
  };

  const route = (request: RecordedRequest): SandboxResponse | undefined => {
    // Test-only: the directory changes under a running request (an account disabled, marked a
    // leaver, moved to NAS). The sandbox listens on loopback only and is never started in production.
    const adminMatch = /^\/_sandbox\/users\/([^/]+)$/.exec(request.path);
    if (request.method === 'PATCH' && adminMatch) {
      const user = findUser(decodeURIComponent(adminMatch[1] as string));
      if (!user) return notFound(adminMatch[1] as string);
      const changes = z.record(z.string(), z.unknown()).safeParse(request.body);
      if (!changes.success) return { status: 400, body: { error: { code: 'BadRequest', message: 'A JSON object of fields is required.' } } };
      mergeUser(user, changes.data);
      return { status: 204 };
    }
    const read = request.path.startsWith('/v1.0/') ? directoryRead(request.method, request.path.slice('/v1.0'.length), request.query, request.body) : undefined;
    if (read) return read;
    if (request.method === 'POST' && request.path === '/v1.0/$batch') return batch(request.body);
    if (request.method === 'POST' && request.path === '/v1.0/me/sendMail') return sendMail(request);
    // Test-only, for a bot in another process: what was sent, and faults to answer with.
    if (request.method === 'GET' && request.path === '/_sandbox/sent-mail') return { status: 200, body: { value: sentMail } };
    if (request.method === 'POST' && request.path === '/_sandbox/mail-faults') {
      const fault = z
        .object({
          status: z.number().int(),
          count: z.number().int().positive().default(1),
          retryAfterSeconds: z.number().optional(),
          denyUserId: z.string().optional(),
        })
        .safeParse(request.body);
      if (!fault.success) return { status: 400, body: { error: { code: 'BadRequest', message: 'status is required.' } } };
      if (fault.data.denyUserId) mailDenied.add(fault.data.denyUserId);
      else for (let i = 0; i < fault.data.count; i++) mailFaults.push({ status: fault.data.status, retryAfterSeconds: fault.data.retryAfterSeconds });
      return { status: 204 };
    }
    return undefined;
  };

  /** Graph's POST /me/sendMail: 202 Accepted with no body; the token names the mailbox. */
  const sendMail = (request: RecordedRequest): SandboxResponse => {
    const token = /^Bearer sandbox-user:(.+)$/.exec(String(request.headers.authorization ?? ''))?.[1];
    if (!token || !findUser(token))
      return { status: 401, body: { error: { code: 'InvalidAuthenticationToken', message: 'Access token has expired or is not yet valid.' } } };
    const fault = mailFaults.shift();
    if (fault) {
      return {
        status: fault.status,
        headers: fault.retryAfterSeconds === undefined ? {} : { 'Retry-After': String(fault.retryAfterSeconds) },
        body: { error: { code: fault.status === 429 ? 'ApplicationThrottled' : 'ServiceUnavailable', message: 'Try again later.' } },
      };
    }
    if (mailDenied.has(token))
      return { status: 403, body: { error: { code: 'ErrorAccessDenied', message: 'Access is denied. Check credentials and try again.' } } };
    const parsed = sendMailSchema.safeParse(request.body);
    if (!parsed.success) return { status: 400, body: { error: { code: 'ErrorInvalidRequest', message: 'The message is not valid.' } } };
    const { message } = parsed.data;
    sentMail.push({
      from: token,
      to: message.toRecipients.map((recipient) => recipient.emailAddress.address),
      subject: message.subject,
      body: message.body.content,
    });
    return { status: 202 };
  };

  /**
   * Graph's JSON batch (https://learn.microsoft.com/graph/json-batching): up to 20 requests, each
   * answered on its own with its id; a request with a body must name its Content-Type. Only the
   * directory's reads are served inside one; anything else is answered 404.
   */
  const batch = (body: unknown): SandboxResponse => {
    const parsed = z
      .object({
        requests: z.array(
          z.object({ id: z.string(), method: z.string(), url: z.string(), body: z.unknown().optional(), headers: z.record(z.string(), z.string()).optional() }),
        ),
      })
      .safeParse(body);
    if (!parsed.success) return { status: 400, body: { error: { code: 'BadRequest', message: 'Invalid batch payload.' } } };
    if (parsed.data.requests.length > MAX_BATCH) {
      return { status: 400, body: { error: { code: 'BadRequest', message: `The number of batch requests exceeds the maximum of ${MAX_BATCH}.` } } };
    }
    const responses = parsed.data.requests.map((inner) => {
      if (inner.body !== undefined && !Object.keys(inner.headers ?? {}).some((name) => name.toLowerCase() === 'content-type')) {
        return { id: inner.id, status: 400, body: { error: { code: 'BadRequest', message: 'Content-Type header is required when a body is present.' } } };
      }
      if (throttleRemaining > 0) {
        throttleRemaining--;
        return {
          id: inner.id,
          status: 429,
          headers: { 'Retry-After': String(throttleSeconds) },
          body: { error: { code: 'TooManyRequests', message: 'Too many requests.' } },
        };
      }
      const url = new URL(inner.url, 'http://graph');
      const result = directoryRead(inner.method, url.pathname, url.searchParams, inner.body) ?? notFound(url.pathname);
      return { id: inner.id, status: result.status, headers: { 'Content-Type': 'application/json' }, body: result.body };
    });
    return { status: 200, body: { responses } };
  };

  const sandbox = await startSandbox((request) => {
    const response = failStatus
      ? { status: failStatus, headers: { 'Retry-After': '1' }, body: { error: { code: 'serviceNotAvailable', message: 'Service unavailable.' } } }
      : route(request);
    return response && delayMs > 0 ? { ...response, delayMs } : response;
  }, port);
  return {
    ...sandbox,
    requests: sandbox.requests,
    throttleNext(count, retryAfterSeconds = 0) {
      throttleRemaining = count;
      throttleSeconds = retryAfterSeconds;
    },
    respondAfter(ms) {
      delayMs = ms;
    },
    failWith(status) {
      failStatus = status;
    },
    sentMail,
    failNextSendMail(status, count = 1, retryAfterSeconds) {
      for (let i = 0; i < count; i++) mailFaults.push({ status, retryAfterSeconds });
    },
    denyMailSend(userId) {
      mailDenied.add(userId);
    },
    adminUserUrl(idOrUpn) {
      return `${new URL(sandbox.url).origin}/_sandbox/users/${encodeURIComponent(idOrUpn)}`;
    },
  };
}

/** Graph answers an empty collection as [], never null. */
const COLLECTIONS: ReadonlySet<string> = new Set(['otherMails', 'proxyAddresses', 'businessPhones']);

/** onPremisesExtensionAttributes as Graph answers it: extensionAttribute1 to 15, each null when unset. */
function allExtensionAttributes(set: unknown): Record<string, unknown> {
  const given = set && typeof set === 'object' ? (set as Record<string, unknown>) : {};
  return Object.fromEntries(Array.from({ length: 15 }, (_, index) => [`extensionAttribute${index + 1}`, given[`extensionAttribute${index + 1}`] ?? null]));
}
