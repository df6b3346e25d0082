import type restify from 'restify';
import { auditDetailWords, auditEventWords } from '../audit-words';
import { z } from 'zod';
import { AppError, describeErrorForLog, findAppError, type ErrorCode } from '../../core/errors';
import type { Logger } from '../../core/log';
import { csvField, csvFileBytes } from '../../services/export/request-csv';
import { OPEN_STATUSES, STATUS_LABEL, type Actor, type StoredRequest } from '../../services/model';
import { requestAccess } from '../../services/request-access';
import type { TransferRequests } from '../../services/requests/transfer-requests';
import type { WorkspaceAudit } from '../../services/workspace-audit';
import { queueFiltersSchema, type QueueEntry, type QueueFilters, type WorkspaceQueue } from '../../services/workspace-queue';
import type { AccessControl } from '../access-control';
import type { DevSignIn } from './dev-sign-in';
import type { PageFiles } from './page-files';
import type { EntraTokenVerifier } from './token-verifier';
import { userWords } from '../refusal-words';
import { ReasonRequiredError, RefusedError } from '../../services/requests/lifecycle';
import { OPS_ACTION_NAMES, OPS_ACTIONS, type OpsAction } from '../ops-actions';
import { typedTextRefusalOf } from '../card-actions/card-data';

/**
 * The NAS Operations workspace over HTTP: the page's static files under /workspace/ and its
 * JSON API under /api/workspace/. Every API route first establishes who is asking: a Teams
 * sign-in token that verifies, from a member of NAS Operations (the directory says, failing
 * closed). Until then the answer is 401 or 403 (or 503 when it cannot be checked) and carries
 * nothing of any request.
 */
export interface WorkspaceApiParts {
  page: PageFiles;
  verifier: EntraTokenVerifier;
  access: Pick<AccessControl, 'opsMember'>;
  queue: WorkspaceQueue;
  requests: TransferRequests;
  audit: WorkspaceAudit;
  /** For the deep link to a request's card in the ops channel. */
  tenantId: string;
  /** Development only: the page signs in without Teams. */
  devSignIn?: DevSignIn;
  logger: Logger;
}

const ERROR_STATUS: Partial<Record<ErrorCode, number>> = {
  WORKSPACE_UNAUTHENTICATED: 401,
  NOT_OPS: 403,
  REQUEST_NOT_FOUND: 404,
  ALREADY_CLAIMED: 409,
  ALREADY_DECIDED: 409,
  ACCOUNT_IN_ANOTHER_REQUEST: 409,
  STORAGE_CONFLICT: 409,
  ACCOUNT_NOT_IN_REQUEST: 404,
  INVALID_INPUT: 400,
  REASON_REQUIRED: 400,
  QUESTION_REQUIRED: 400,
  TEXT_UNREADABLE: 400,
  TEXT_TOO_LONG: 400,
  WORKSPACE_SIGN_IN_UNAVAILABLE: 503,
  DIRECTORY_UNAVAILABLE: 503,
  OPS_UNCONFIRMED: 503,
  SERVICE_BRIEFLY_UNAVAILABLE: 503,
};
/** As on the card: someone signed in but outside NAS Operations, or whom the directory could not confirm, is audited. */
const AUDITED_REFUSALS: ReadonlySet<ErrorCode> = new Set(['NOT_OPS', 'OPS_UNCONFIRMED']);

const requestIdSchema = z.coerce.number().int().min(1).max(2_147_483_647);

/**
 * Scripts and styles from this server only; Teams (and the Microsoft 365 hosts that run Teams
 * apps) may frame the page, nobody else.
 */
const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  // Fluent's components and theme set their styles from script (constructed style sheets and style attributes).
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  'frame-ancestors teams.microsoft.com *.teams.microsoft.com *.office.com *.microsoft365.com *.cloud.microsoft',
].join('; ');

type AuthedHandler = (req: restify.Request, res: restify.Response, actor: Actor) => Promise<void>;

export function registerWorkspaceRoutes(server: restify.Server, parts: WorkspaceApiParts): void {
  const { logger } = parts;

  const page = (name: string) => async (_req: restify.Request, res: restify.Response) => {
    const file = parts.page.get(name);
    if (!file) return void res.send(404);
    res.writeHead(200, {
      'content-type': file.contentType,
      'content-security-policy': CONTENT_SECURITY_POLICY,
      'x-content-type-options': 'nosniff',
      'cache-control': name === 'index.html' ? 'no-cache' : 'public, max-age=300',
    });
    res.end(file.body);
  };
  // Every view (the queue, a request, the picture, the channel tab's configuration) is the one page; it reads its address.
  // The page's own files are named relative to /workspace/.
  server.get('/workspace', async (_req: restify.Request, res: restify.Response) => {
    res.writeHead(301, { location: '/workspace/' });
    res.end();
  });
  server.get('/workspace/', page('index.html'));
  server.get('/workspace/configure', page('index.html'));
  for (const name of parts.page.keys()) if (name !== 'index.html') server.get(`/workspace/${name}`, page(name));

  server.get('/workspace/session.json', async (_req: restify.Request, res: restify.Response) => {
    noStore(res);
    res.send(200, { signIn: parts.devSignIn ? 'development' : 'teams' });
  });
  if (parts.devSignIn) {
    const devSignIn = parts.devSignIn;
    server.post('/workspace/dev-sign-in', async (_req: restify.Request, res: restify.Response) => {
      noStore(res);
      res.send(200, { token: await devSignIn.issue() });
    });
  }

  const authed = (route: string, handler: AuthedHandler) => async (req: restify.Request, res: restify.Response) => {
    noStore(res);
    let userId: string | undefined;
    try {
      userId = (await parts.verifier.verify(req.header('authorization'))).userId;
      const actor = await parts.access.opsMember(userId);
      await handler(req, res, actor);
    } catch (error) {
      await refuse(res, route, userId, error);
    }
  };

  const refuse = async (res: restify.Response, route: string, userId: string | undefined, error: unknown) => {
    const appError = findAppError(error);
    const code: ErrorCode = appError?.code ?? 'REQUEST_FAILED';
    const status = ERROR_STATUS[code] ?? 500;
    if (status === 500) logger.error('workspace.failed', { route, ...describeErrorForLog(error) });
    else logger.warn('workspace.refused', { route, status, ...describeErrorForLog(error) });
    if (userId && AUDITED_REFUSALS.has(code)) {
      await parts.audit.refused(userId, route, code).catch((auditError: unknown) => logger.error('workspace.audit_failed', describeErrorForLog(auditError)));
    }
    if (status === 401) res.header('www-authenticate', 'Bearer');
    if (status === 503) res.header('retry-after', '5');
    const message = status === 500 ? new AppError('REQUEST_FAILED').userMessage : appError ? userWords(appError) : '';
    // A lifecycle refusal names its rule too, so the page (and a test) can tell which rule refused.
    const reason =
      appError instanceof RefusedError ? { reason: appError.refusal.reason } : appError instanceof ReasonRequiredError ? { reason: appError.needed } : {};
    res.send(status, { error: { code: status === 500 ? 'REQUEST_FAILED' : code, message, ...reason } });
  };

  server.get(
    '/api/workspace/me',
    authed('me', async (_req, res, actor) => {
      res.send(200, { id: actor.id, name: actor.name });
    }),
  );

  server.get(
    '/api/workspace/queue',
    authed('queue', async (req, res, actor) => {
      const filters = parseFilters(req);
      const [view, reviewers] = await Promise.all([parts.queue.page(filters, actor), parts.queue.reviewers()]);
      res.send(200, { ...view, entries: view.entries.map(entryJson), reviewers, filters });
    }),
  );

  server.get(
    '/api/workspace/picture',
    authed('picture', async (_req, res) => {
      res.send(200, await parts.queue.picture());
    }),
  );

  server.get(
    '/api/workspace/export.csv',
    authed('export', async (req, res, actor) => {
      const filters = parseFilters(req);
      const entries = await parts.queue.all(filters, actor);
      await parts.audit.exported(actor, filters, entries.length);
      logger.info('workspace.exported', { rows: entries.length });
      const body = csvFileBytes(queueCsv(entries));
      res.writeHead(200, {
        'content-type': 'text/csv; charset=utf-8',
        'content-disposition': `attachment; filename="nas-transfer-queue-${new Date().toISOString().slice(0, 10)}.csv"`,
        'cache-control': 'no-store',
      });
      res.end(body);
    }),
  );

  server.get(
    '/api/workspace/requests/:id',
    authed('request', async (req, res, actor) => {
      const request = await parts.requests.get(parseRequestId(req));
      if (!request || !requestAccess(request, { kind: 'ops', actor }).see) throw new AppError('REQUEST_NOT_FOUND');
      res.send(200, await requestJson(request, actor, parts));
    }),
  );

  // Every action in the table (bot/ops-actions.ts), by its name: POST /api/workspace/requests/:id/claim, …/decide, ….
  for (const name of OPS_ACTION_NAMES) {
    const action = OPS_ACTIONS[name];
    server.post(
      `/api/workspace/requests/:id/${name}`,
      authed(name, async (req, res, actor) => {
        const requestId = parseRequestId(req);
        // Who raised it is all the access rule reads: the request is read whole once, after the action, for the answer.
        if (!requestAccess(await parts.requests.requesterOf(requestId), { kind: 'ops', actor }).operate) throw new AppError('REQUEST_NOT_FOUND');
        await action.run(parts.requests, actor, parseActionInput(action.input, requestId, req.body));
        logger.info('workspace.action', { action: name, requestId });
        res.send(200, await requestJson((await parts.requests.get(requestId)) as StoredRequest, actor, parts));
      }),
    );
  }
}

/** The action's input from the JSON body, with the request named by the path (never by the body). */
function parseActionInput(input: OpsAction['input'], requestId: number, body: unknown): { requestId: number } {
  const fields = body && typeof body === 'object' && !Array.isArray(body) ? (body as Record<string, unknown>) : {};
  const parsed = input.safeParse({ ...fields, requestId });
  if (parsed.success) return parsed.data;
  throw (
    typedTextRefusalOf(parsed.error) ??
    new AppError('INVALID_INPUT', `Check the action’s details: ${parsed.error.issues.map((issue) => issue.path.join('.') || 'the body').join(', ')}.`)
  );
}

function noStore(res: restify.Response): void {
  res.header('cache-control', 'no-store');
}

function parseFilters(req: restify.Request): QueueFilters {
  const parsed = queueFiltersSchema.safeParse(Object.fromEntries(new URL(req.url ?? '/', 'http://workspace.invalid').searchParams));
  if (!parsed.success)
    throw new AppError(
      'INVALID_INPUT',
      `Check the filters: ${parsed.error.issues.map((issue) => `${issue.path.join('.')} must be ${issue.message}`).join('; ')}.`,
    );
  return parsed.data;
}

function parseRequestId(req: restify.Request): number {
  const parsed = requestIdSchema.safeParse((req.params as Record<string, unknown> | undefined)?.id);
  if (!parsed.success) throw new AppError('REQUEST_NOT_FOUND');
  return parsed.data;
}

function entryJson(entry: QueueEntry) {
  return { ...entry, statusLabel: STATUS_LABEL[entry.status] };
}

export async function requestJson(request: StoredRequest, actor: Actor, parts: Pick<WorkspaceApiParts, 'audit' | 'queue' | 'tenantId'>) {
  const open = OPEN_STATUSES.includes(request.status);
  const closedAt = request.decidedAt ?? request.withdrawnAt;
  // An event naming accounts (a leaver alert names up to every account) looks each up here: by id, not by a search of the list per name.
  const positions = new Map(request.accounts.map((account) => [account.id, account.position]));
  return {
    request: { ...request, statusLabel: STATUS_LABEL[request.status] },
    // In words, as the chat's audit shows them: never an event name or raw JSON.
    audit: (await parts.audit.trailOf(request.id)).map((event) => ({
      ...event,
      what: auditEventWords(event.action),
      detailText: auditDetailWords(event.action, event.detail, (id) => positions.get(id)),
    })),
    ageWorkingDays: parts.queue.ageOf({ status: request.status, createdAt: request.createdAt, closedAt }),
    overdue: parts.queue.isOverdue(request),
    cardLink: cardDeepLink(request, parts.tenantId),
    // As on the card: Assign to me while the request waits for review and nobody has it.
    canClaim: open && request.claimedBy === null,
    reviewingIsMe: request.claimedBy?.id === actor.id,
  };
}

/** A Teams deep link to the request's card in the ops channel (the channel message it was posted as). */
export function cardDeepLink(request: Pick<StoredRequest, 'opsConversationId' | 'opsActivityId'>, tenantId: string): string | null {
  if (!request.opsConversationId || !request.opsActivityId) return null;
  const channelId = request.opsConversationId.split(';')[0]!;
  const query = new URLSearchParams({ tenantId, parentMessageId: request.opsActivityId });
  return `https://teams.microsoft.com/l/message/${encodeURIComponent(channelId)}/${encodeURIComponent(request.opsActivityId)}?${query}`;
}

const QUEUE_HEADER = [
  'Reference',
  'Organisation',
  'Organisation ODS code',
  'Requested by',
  'Status',
  'Submitted at (UTC)',
  'Age (working days)',
  'Overdue',
  'Reviewer',
  'Accounts',
  'Eligible',
  'Review',
  'Ineligible',
  'Approved',
  'Rejected',
  'Transferred',
  'Changed since submission',
];

/** The filtered queue as a CSV file: the cells escaped as the request export escapes them (csvField). */
export function queueCsv(entries: readonly QueueEntry[]): string {
  const rows = [
    QUEUE_HEADER,
    ...entries.map((entry) => [
      entry.reference,
      entry.organisationName,
      entry.organisationOds,
      entry.requesterName,
      STATUS_LABEL[entry.status],
      entry.createdAt.toISOString(),
      String(entry.ageWorkingDays),
      entry.overdue ? 'yes' : 'no',
      entry.reviewer?.name ?? '',
      ...[
        entry.counts.accounts,
        entry.counts.eligible,
        entry.counts.review,
        entry.counts.ineligible,
        entry.counts.approved,
        entry.counts.rejected,
        entry.counts.transferred,
      ].map(String),
      // Empty until the request's accounts have been screened again.
      entry.counts.changed === null ? '' : String(entry.counts.changed),
    ]),
  ];
  return rows.map((row) => row.map(csvField).join(',')).join('\r\n') + '\r\n';
}
