import { randomUUID } from 'node:crypto';
import type { Activity, CloudAdapter, TurnContext } from 'botbuilder';
import { AuthenticationError } from 'botframework-connector';
import restify from 'restify';
import { AppError, describeErrorForLog, findAppError, type ErrorCode } from '../core/errors';
import { asInteractive } from '../core/interactive';
import { withCorrelationId, type Logger } from '../core/log';
import { processActivityDirectly } from './platform/botbuilder-internals';

export interface HttpServerOptions {
  host: string;
  port: number;
  adapter: CloudAdapter;
  handleTurn: (context: TurnContext) => Promise<void>;
  /** /readyz: database reachable, migrations applied */
  /** Ready or not (the platform's probe), and notices for people: things that need attention but do not stop the bot serving. */
  readiness: () => Promise<{ ready: boolean; checks: Record<string, boolean>; notices?: string[] }>;
  logger: Logger;
  /** Further routes on the same server (the NAS Operations workspace), registered after the bot's own. */
  routes?: (server: restify.Server) => void;
  /** How long an idle keep-alive connection is kept open (Node's own default, 5 s, unless set): the turn bench keeps every bot's connections for its whole run. */
  keepAliveTimeoutMs?: number;
}

export interface RunningHttpServer {
  url: string;
  port: number;
  endpoint: string;
  /** stops accepting, waits for in-flight requests to finish */
  close(): Promise<void>;
}

/**
 * A Teams activity is a few KB; a card submit with a pasted account list (500 lines) stays
 * well under this. Anything larger is refused with 413 before it is parsed.
 */
export const MAX_BODY_BYTES = 512 * 1024;
/**
 * Teams waits about 15 s for an answer. If fetching the signing keys hangs, answer 503 before
 * then (the Bot Connector retries) rather than let the connection hang.
 */
export const AUTHENTICATION_DEADLINE_MS = 10_000;
/** How long close() waits for in-flight requests before it drops their connections. */
export const DRAIN_TIMEOUT_MS = 30_000;

const CORRELATION_HEADER = 'x-correlation-id';
const WELL_FORMED_CORRELATION_ID = /^[A-Za-z0-9._:-]{1,64}$/;

/**
 * The bot's HTTP edge: POST /api/messages, GET /healthz and /readyz.
 *
 * /api/messages does not go through CloudAdapter.process, whose error handling
 * (botbuilder 4.23, cloudAdapter.js) answers 401 only to botbuilder's own AuthenticationError
 * and 500 to everything else, with the error's message as the body. That turns a forged token
 * that jsonwebtoken rejects (HS256, bad signature) into a 500 and an unreachable key server into
 * a 500 that quotes the failed fetch. Instead the server parses the body itself, then calls the
 * adapter's processActivity (what process calls after parsing: authenticate, then run the turn),
 * and classifies failures by when they happened: before the turn began they are authentication
 * failures (401) or signing keys that could not be fetched (503); during it, the bot's own (500).
 * Every answer body is our own catalogue text.
 */
export async function startHttpServer(options: HttpServerOptions): Promise<RunningHttpServer> {
  const { adapter, handleTurn, readiness, logger } = options;
  const server = restify.createServer({ name: 'nas-transfer-bot', handleUncaughtExceptions: false });
  let inFlight = 0;
  let drained: (() => void) | undefined;

  server.pre((req, res, next) => {
    inFlight += 1;
    let counted = true;
    const done = () => {
      if (!counted) return;
      counted = false;
      inFlight -= 1;
      if (inFlight === 0) drained?.();
    };
    res.once('finish', done);
    res.once('close', done);
    return next();
  });
  server.use(restify.plugins.bodyParser({ maxBodySize: MAX_BODY_BYTES, mapParams: false, mapFiles: false }));
  // Every request is someone waiting (a turn, an invoke, the workspace, a probe): the embedded database serves their
  // statements before queued background work (core/interactive, services/store/database.ts). After the body is read: the
  // request's stream events run in the socket's context, not in one set before them.
  server.use((_req, _res, next) => asInteractive(() => next()));
  // restify's own errors (413, 404, 405, malformed JSON) carry a class name and a fixed message; log them, answer as restify does.
  server.on('restifyError', (req: restify.Request, res: restify.Response, error: { statusCode?: number; name?: string }, callback: () => void) => {
    logger.warn('http.refused', { method: req.method, path: req.path(), status: error.statusCode, errorClass: error.name });
    callback();
  });

  server.post('/api/messages', async (req: restify.Request, res: restify.Response) => {
    const correlationId = correlationIdFor(req);
    res.header(CORRELATION_HEADER, correlationId);
    await withCorrelationId(correlationId, () => handleActivityRequest(req, res, adapter, handleTurn, logger));
  });
  server.head('/api/messages', async (_req: restify.Request, res: restify.Response) => {
    res.send(200);
  });
  const health = async (_req: restify.Request, res: restify.Response) => {
    res.send(200, { status: 'ok' });
  };
  server.get('/healthz', health);
  server.get('/readyz', async (_req: restify.Request, res: restify.Response) => {
    try {
      const { ready, checks, notices = [] } = await readiness();
      res.send(ready ? 200 : 503, { status: ready ? 'ready' : 'not ready', checks, notices });
    } catch (error) {
      logger.warn('http.readiness_failed', describeErrorForLog(error));
      res.send(503, { status: 'not ready', checks: {} });
    }
  });

  options.routes?.(server);
  if (options.keepAliveTimeoutMs !== undefined) server.server.keepAliveTimeout = options.keepAliveTimeoutMs;

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.removeListener('error', reject);
      resolve();
    });
  });
  const { port } = server.address();
  const reachableHost = options.host === '0.0.0.0' || options.host === '::' ? 'localhost' : options.host.includes(':') ? `[${options.host}]` : options.host;
  const url = `http://${reachableHost}:${port}`;
  logger.info('http.listening', { host: options.host, port });

  let closing: Promise<void> | undefined;
  return {
    url,
    port,
    endpoint: `${url}/api/messages`,
    close: () =>
      (closing ??= (async () => {
        const closed = new Promise<void>((resolve) => {
          server.close(() => resolve());
        });
        if (inFlight > 0) {
          logger.info('http.draining', { inFlight });
          await Promise.race([new Promise<void>((resolve) => (drained = resolve)), delay(DRAIN_TIMEOUT_MS)]);
        }
        // Idle keep-alive connections would hold close() open; in-flight work is done by now.
        server.server.closeAllConnections();
        await closed;
        logger.info('http.closed', {});
      })()),
  };
}

async function handleActivityRequest(
  req: restify.Request,
  res: restify.Response,
  adapter: CloudAdapter,
  handleTurn: (context: TurnContext) => Promise<void>,
  logger: Logger,
): Promise<void> {
  const activity = parseActivity(req.body);
  if (!activity) {
    logger.warn('http.activity_invalid', {});
    sendError(res, 400, 'INVALID_INPUT');
    return;
  }
  const authorization = req.header('authorization') ?? '';
  let turnStarted = false;
  let abandoned = false;
  const logic = async (context: TurnContext) => {
    // The answer already went out as 503: the Bot Connector will retry, so do no work twice.
    if (abandoned) return;
    turnStarted = true;
    await handleTurn(context);
  };
  let deadline: NodeJS.Timeout | undefined;
  const authenticationTimedOut = new Promise<never>((_resolve, reject) => {
    deadline = setTimeout(() => {
      if (!turnStarted) {
        abandoned = true;
        reject(new KeyFetchTimeout());
      }
    }, AUTHENTICATION_DEADLINE_MS);
  });
  try {
    const invokeResponse = await Promise.race([processActivityDirectly(adapter, authorization, activity, logic), authenticationTimedOut]);
    res.send(invokeResponse?.status ?? 200, invokeResponse?.body);
  } catch (error) {
    const failure = classifyFailure(error, turnStarted);
    const fields = {
      activityType: activity.type,
      channelId: activity.channelId,
      status: failure.status,
      errorCode: failure.code,
      ...describeErrorForLog(error),
    };
    // errorCode above is ours; describeErrorForLog may add the foreign error's own code under the same name, so ours wins.
    fields.errorCode = failure.code;
    if (failure.status === 500) logger.error('http.turn_failed', fields);
    else
      logger.warn(
        failure.status === 401 ? 'http.unauthenticated' : failure.code === 'SERVICE_BRIEFLY_UNAVAILABLE' ? 'http.service_unavailable' : 'http.auth_unavailable',
        fields,
      );
    sendError(res, failure.status, failure.code);
  } finally {
    clearTimeout(deadline);
  }
}

class KeyFetchTimeout extends Error {
  override name = 'KeyFetchTimeout';
}

const JSONWEBTOKEN_REJECTIONS = new Set(['JsonWebTokenError', 'TokenExpiredError', 'NotBeforeError']);
const NETWORK_ERROR_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
  'UND_ERR_CONNECT_TIMEOUT',
]);

/**
 * What a failed request was. Before the turn began, only authentication ran: botbuilder's
 * AuthenticationError says 401 (token refused) or 500 (its "Failed to load openID config /
 * Keys" when the metadata server answered an error); jsonwebtoken's own errors are refused
 * tokens; a network or parse failure is the key server (node-fetch's FetchError, a bad JSON
 * document). After the turn began, the failure is the bot's.
 */
export function classifyFailure(error: unknown, turnStarted: boolean): { status: 401 | 503 | 500; code: ErrorCode } {
  // The database was away and the turn's own error handler could not answer (its reply failed too): Teams may retry.
  if (findAppError(error)?.code === 'SERVICE_BRIEFLY_UNAVAILABLE') return { status: 503, code: 'SERVICE_BRIEFLY_UNAVAILABLE' };
  if (turnStarted) return { status: 500, code: 'REQUEST_FAILED' };
  if (error instanceof KeyFetchTimeout) return { status: 503, code: 'AUTH_KEYS_UNAVAILABLE' };
  if (error instanceof AuthenticationError) {
    return error.statusCode === 401 ? { status: 401, code: 'REQUEST_UNAUTHENTICATED' } : { status: 503, code: 'AUTH_KEYS_UNAVAILABLE' };
  }
  const { name, code, type } = (error ?? {}) as { name?: string; code?: string; type?: string };
  if (name && JSONWEBTOKEN_REJECTIONS.has(name)) return { status: 401, code: 'REQUEST_UNAUTHENTICATED' };
  if (
    name === 'FetchError' ||
    name === 'AbortError' ||
    name === 'SyntaxError' ||
    (code && NETWORK_ERROR_CODES.has(code)) ||
    type === 'system' ||
    type === 'invalid-json'
  ) {
    return { status: 503, code: 'AUTH_KEYS_UNAVAILABLE' };
  }
  return { status: 500, code: 'REQUEST_FAILED' };
}

function sendError(res: restify.Response, status: number, code: ErrorCode): void {
  const error = new AppError(code);
  if (status === 503) res.header('Retry-After', '5');
  res.send(status, { error: { code: error.code, message: error.userMessage } });
}

/** The activity, if the body is one: an object with a type and the serviceUrl replies go to. */
function parseActivity(body: unknown): Activity | undefined {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return undefined;
  const candidate = body as Partial<Activity> & Record<string, unknown>;
  if (typeof candidate.type !== 'string' || candidate.type === '' || typeof candidate.serviceUrl !== 'string' || !URL.canParse(candidate.serviceUrl))
    return undefined;
  // As botbuilder's validateAndFixActivity does: the dates arrive as strings.
  for (const [field, raw] of [
    ['timestamp', 'rawTimestamp'],
    ['localTimestamp', 'rawLocalTimestamp'],
    ['expiration', 'rawExpiration'],
  ] as const) {
    const value = candidate[field];
    if (typeof value === 'string') {
      candidate[raw] = value;
      (candidate as Record<string, unknown>)[field] = new Date(value);
    }
  }
  return candidate as Activity;
}

function correlationIdFor(req: restify.Request): string {
  const offered = req.header(CORRELATION_HEADER);
  return offered && WELL_FORMED_CORRELATION_ID.test(offered) ? offered : randomUUID();
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
