import { mkdir } from 'node:fs/promises';
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { AppError } from '../../core/errors';
import { isInteractive } from '../../core/interactive';
import { silentLogger, type Logger } from '../../core/log';

/** One SQL dialect (PostgreSQL) behind two engines: PGlite in-process, or a PostgreSQL server. */
export interface SqlExecutor {
  query<Row = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<Row[]>;
}

export interface SqlDatabase extends SqlExecutor {
  readonly engine: 'pglite' | 'postgres';
  /** Runs `work` in one transaction: committed if it resolves, rolled back if it throws. */
  transaction<T>(work: (tx: SqlExecutor) => Promise<T>): Promise<T>;
  /** Runs a script of several statements (migrations). */
  exec(script: string): Promise<void>;
  close(): Promise<void>;
}

export async function openPglite(dataDir?: string): Promise<SqlDatabase> {
  if (dataDir) await mkdir(dataDir, { recursive: true });
  return overPglite(await PGlite.create(dataDir));
}

/**
 * An in-memory PGlite database prepared once (`prepare`, e.g. migrated) and kept as an image,
 * from which `open` starts each copy: loading the image costs a fraction of preparing afresh,
 * which is what tests that want a fresh migrated database each time need.
 */
export async function pgliteImage(prepare: (db: SqlDatabase) => Promise<void>): Promise<{ open(): Promise<SqlDatabase> }> {
  const source = await PGlite.create();
  await prepare(overPglite(source));
  const image = await source.dumpDataDir('none');
  await source.close();
  return { open: async () => overPglite(await PGlite.create({ loadDataDir: image })) };
}

function overPglite(db: PGlite): SqlDatabase {
  const gate = new WaitingPeopleFirst();
  return {
    engine: 'pglite',
    query: <Row>(sql: string, params: readonly unknown[] = []) => gate.run(async () => (await db.query<Row>(sql, [...params])).rows),
    transaction: (work) =>
      gate.run(() =>
        db.transaction((tx) => work({ query: async <Row>(sql: string, params: readonly unknown[] = []) => (await tx.query<Row>(sql, [...params])).rows })),
      ),
    exec: (script) =>
      gate.run(async () => {
        await db.exec(script);
      }),
    close: () => db.close(),
  };
}

/** Background units that may be passed over in a row before one goes (so a stream of turns cannot starve deliveries). */
export const MAX_PASSED_OVER = 3;

/**
 * The order in which statements and transactions reach PGlite's one connection. PGlite queues
 * them first come, first served, so a turn's read waited behind every statement background work
 * had queued: during the daily re-check of 1,000 accounts a requester's "status" took 4x its idle
 * time (bench/busy.ts, issue 23). Here a unit from someone waiting in Teams (core/interactive)
 * goes before queued background units, one unit (a statement, or a whole transaction) at a time
 * as PGlite runs them anyway; after MAX_PASSED_OVER such passes a background unit goes, whatever waits.
 * As with PGlite's own lock, a statement on the database inside a transaction's work would wait
 * for that transaction: work inside a transaction uses the transaction's executor.
 */
export class WaitingPeopleFirst {
  private busy = false;
  private passedOver = 0;
  private readonly interactive: Array<() => void> = [];
  private readonly background: Array<() => void> = [];

  async run<T>(unit: () => Promise<T>): Promise<T> {
    if (this.busy) await new Promise<void>((resolve) => (isInteractive() ? this.interactive : this.background).push(resolve));
    else this.busy = true;
    try {
      return await unit();
    } finally {
      this.next();
    }
  }

  private next(): void {
    const backgroundsTurn = this.background.length > 0 && (this.interactive.length === 0 || this.passedOver >= MAX_PASSED_OVER);
    const go = backgroundsTurn ? this.background.shift() : this.interactive.shift();
    this.passedOver = backgroundsTurn || this.background.length === 0 ? 0 : this.passedOver + 1;
    if (go) go();
    else this.busy = false;
  }
}

/**
 * How long a turn waits for PostgreSQL. A server that is down refuses at once; one that is
 * unreachable (a failover in progress, a dropped route) would otherwise hold a turn for as long
 * as TCP does, and Teams gives an invoke about 15 s. Past these the turn is told "briefly
 * unavailable" and the connection is discarded.
 */
export const POSTGRES_TIMEOUTS = {
  /** Opening a connection, and waiting for one from the pool. */
  connectMs: 5_000,
  /** Any one statement, measured by the client. */
  queryMs: 10_000,
} as const;

export interface PostgresOptions {
  /** Told once when the server goes away and once when it is back: the host name and an error code, nothing else. */
  logger?: Logger;
  /** Default POSTGRES_TIMEOUTS.queryMs; 0 means no bound (migrations at start-up may rewrite large tables). */
  queryTimeoutMs?: number;
  /** Default POSTGRES_TIMEOUTS.connectMs. */
  connectTimeoutMs?: number;
  /** How long a connection above the pool's minimum may stay idle before it is closed: pg-pool's default (10 s) unless set. */
  idleTimeoutMs?: number;
  /**
   * The serving pool: every connection opened at start-up and kept open while idle (pg-pool's
   * `min`), so a burst of turns never waits for PostgreSQL handshakes. Short-lived pools (the
   * migrator, the CLI, tests) open connections as they need them and close them when idle.
   */
  keepPoolOpen?: boolean;
}

/** Connections per instance: what PostgreSQL gives each bot process. */
export const POSTGRES_POOL_SIZE = 10;

export async function openPostgres(connectionString: string, options: PostgresOptions = {}): Promise<SqlDatabase> {
  const availability = new Availability(hostOf(connectionString), options.logger ?? silentLogger);
  const queryTimeoutMs = options.queryTimeoutMs ?? POSTGRES_TIMEOUTS.queryMs;
  const pool = new pg.Pool({
    connectionString,
    max: POSTGRES_POOL_SIZE,
    // Issue 23: in the load run's burst of first turns a fresh pool opened its connections inside the turns (a
    // handshake each, on the event loop the turns share); kept open, they are opened once, before the server listens.
    ...(options.keepPoolOpen ? { min: POSTGRES_POOL_SIZE } : {}),
    connectionTimeoutMillis: options.connectTimeoutMs ?? POSTGRES_TIMEOUTS.connectMs,
    ...(queryTimeoutMs > 0 ? { query_timeout: queryTimeoutMs } : {}),
    keepAlive: true,
    // An idle connection kept open (keepPoolOpen) must not be dropped silently on the way: NAT on Azure's outbound path
    // forgets a flow idle for about 4 minutes, and Linux's first keepalive probe comes after 2 hours.
    keepAliveInitialDelayMillis: 30_000,
    ...(options.idleTimeoutMs === undefined ? {} : { idleTimeoutMillis: options.idleTimeoutMs }),
  });
  // An idle connection the server ends (a restart, a failover: 57P01) is emitted here; unheard,
  // Node would end the process. The pool has already dropped the connection.
  pool.on('error', (error) => availability.failed(error));
  // Fail at start-up, with a clear cause, rather than on the first turn; name the server, never the password.
  await pool.query('SELECT 1').catch(async (error: unknown) => {
    await pool.end().catch(() => undefined);
    throw new AppError('DATABASE_UNAVAILABLE', `Check DATABASE_URL: PostgreSQL at ${describeServer(connectionString)} could not be reached.`, { cause: error });
  });
  // The rest of the serving pool, opened now rather than inside the first burst of turns. Only the first connection is
  // required: a server short of connections (another instance, a slot swap) leaves the rest to be opened on demand.
  if (options.keepPoolOpen) {
    const opened = await Promise.allSettled(Array.from({ length: POSTGRES_POOL_SIZE }, () => pool.query('SELECT 1')));
    const refused = opened.filter((outcome) => outcome.status === 'rejected').length;
    if (refused > 0)
      (options.logger ?? silentLogger).warn('database.pool_short', {
        host: hostOf(connectionString),
        opened: POSTGRES_POOL_SIZE - refused,
        wanted: POSTGRES_POOL_SIZE,
      });
  }

  /** Every statement goes through here, so a lost server becomes one typed error in one place. */
  const run = async <Row>(client: pg.Pool | pg.PoolClient, sql: string, params: readonly unknown[]): Promise<Row[]> => {
    const started = Date.now();
    try {
      const result = await client.query(sql, [...params]);
      availability.succeeded(started);
      return result.rows as Row[];
    } catch (error) {
      throw availability.translate(error);
    }
  };
  const executor = (client: pg.Pool | pg.PoolClient): SqlExecutor => ({
    query: <Row>(sql: string, params: readonly unknown[] = []) => run<Row>(client, sql, params),
  });

  return {
    engine: 'postgres',
    query: (sql, params) => executor(pool).query(sql, params),
    transaction: async (work) => {
      const client = await pool.connect().catch((error: unknown) => {
        throw availability.translate(error);
      });
      // A checked-out connection has no listener of the pool's: the server ending it between two
      // statements would otherwise be an unheard 'error' event. The next statement fails instead.
      let broken: Error | undefined;
      const onLost = (error: Error) => {
        broken = error;
        availability.failed(error);
      };
      client.on('error', onLost);
      try {
        await run(client, 'BEGIN', []);
        const result = await work(executor(client));
        await run(client, 'COMMIT', []);
        return result;
      } catch (error) {
        // A timed-out statement may still be running on the connection: it is discarded, not rolled back and reused.
        if (isConnectionFailure(error)) broken ??= new Error('connection failed during a transaction');
        if (!broken) await client.query('ROLLBACK').catch(() => undefined);
        throw error;
      } finally {
        client.removeListener('error', onLost);
        // A connection that failed is not handed to the next turn: the pool closes it and opens a new one.
        client.release(broken);
      }
    },
    exec: async (script) => {
      await run(pool, script, []);
    },
    close: () => pool.end(),
  };
}

/**
 * pg's failures that mean "the server is not there right now", as opposed to a bad statement:
 * the server shutting down or in recovery (57P01-57P03), SQLSTATE class 08 (connection
 * exception), the socket refused, reset or timed out, and pg's own messages for a connection
 * that ended or a pool that could not get one in time.
 */
const SERVER_GONE_CODES = new Set(['57P01', '57P02', '57P03']);
const SOCKET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ECONNABORTED', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);
const LOST_CONNECTION_MESSAGES = [
  'Connection terminated',
  'timeout exceeded when trying to connect',
  'Query read timeout',
  'Client has encountered a connection error and is not queryable',
  'Client was closed and is not queryable',
];

export function isConnectionFailure(error: unknown): boolean {
  if (error instanceof AppError) return error.code === 'SERVICE_BRIEFLY_UNAVAILABLE';
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && (SERVER_GONE_CODES.has(code) || code.startsWith('08') || SOCKET_CODES.has(code))) return true;
  if (LOST_CONNECTION_MESSAGES.some((message) => error.message.startsWith(message))) return true;
  // Node tries each address of a host name in turn (IPv6 and IPv4 for localhost) and reports all the refusals together.
  return error instanceof AggregateError && error.errors.some(isConnectionFailure);
}

/** The machine code of a connection failure, for the log: a SQLSTATE, an errno name, or what pg said in a word. */
function failureCode(error: unknown): string {
  const code = (error as { code?: unknown } | undefined)?.code;
  if (typeof code === 'string') return code;
  if (error instanceof AggregateError) return failureCode(error.errors[0]);
  const message = error instanceof Error ? error.message : '';
  if (message.startsWith('Connection terminated')) return 'CONNECTION_TERMINATED';
  if (message.startsWith('timeout exceeded') || message.startsWith('Query read timeout')) return 'TIMEOUT';
  return 'CONNECTION_LOST';
}

/**
 * Whether the server is there, as the last statement found it. The log hears once that it went
 * (host and code: never the connection object pg attaches, which names the user and database)
 * and once that it is back, however many turns and workers failed in between.
 */
class Availability {
  private downSince: number | undefined;

  constructor(
    private readonly host: string,
    private readonly logger: Logger,
  ) {}

  /** The error a caller sees: a connection failure becomes the catalogue's user-safe code; anything else is left as it is. */
  translate(error: unknown): unknown {
    if (error instanceof AppError || !isConnectionFailure(error)) return error;
    this.failed(error);
    // Not kept as the cause: pg's error can carry the client (user, database) to whoever logs it.
    return new AppError('SERVICE_BRIEFLY_UNAVAILABLE');
  }

  failed(error: unknown): void {
    if (this.downSince !== undefined) return;
    this.downSince = Date.now();
    this.logger.warn('database.unavailable', { host: this.host, errorCode: failureCode(error) });
  }

  /**
   * A statement that began at `startedAt` succeeded. One that began before the outage was
   * noticed (finishing as the server shuts down) says nothing about now: only a statement
   * begun since counts as the server being back, so one outage is one pair of log lines.
   */
  succeeded(startedAt: number): void {
    if (this.downSince === undefined || startedAt < this.downSince) return;
    const downMs = Date.now() - this.downSince;
    this.downSince = undefined;
    this.logger.info('database.available', { host: this.host, downMs });
  }
}

function hostOf(connectionString: string): string {
  try {
    return new URL(connectionString).hostname || 'localhost';
  } catch {
    return 'unknown';
  }
}

/** host:port/database of a connection string, for messages: no user name or password. */
function describeServer(connectionString: string): string {
  try {
    const url = new URL(connectionString);
    return `${url.hostname}:${url.port || '5432'}${url.pathname}`;
  } catch {
    return 'the configured address';
  }
}
