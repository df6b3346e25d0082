import assert from 'node:assert/strict';
import net from 'node:net';
import pg from 'pg';
import { AppError } from '../../core/errors';
import { createLogger, type Logger } from '../../core/log';
import { isConnectionFailure, openPostgres, POSTGRES_POOL_SIZE, type SqlDatabase } from '../../services/store/database';
import { openDatabase } from '../../services/store/open-database';
import { POSTGRES_URL, freshPostgresSchema, requirePostgres } from '../support/databases';

describe('opening the database', () => {
  it('names the server it could not reach, and never the password', async () => {
    // Port 1 on loopback: nothing listens there, so the connection is refused at once.
    await assert.rejects(openDatabase({ kind: 'postgres', url: 'postgres://nas:s3cret-pw@127.0.0.1:1/nas' }), (error: Error & { code?: string }) => {
      assert.equal(error.code, 'DATABASE_UNAVAILABLE');
      assert.match(error.message, /PostgreSQL at 127\.0\.0\.1:1\/nas could not be reached/);
      assert.doesNotMatch(error.message, /s3cret-pw|nas:/);
      return true;
    });
  });
});

describe('which PostgreSQL failures mean "the server is away for now"', () => {
  const withCode = (code: string, message = 'failed') => Object.assign(new Error(message), { code });
  const away: Array<[string, unknown]> = [
    ['57P01 admin shutdown (a fast stop, a failover)', withCode('57P01', 'terminating connection due to administrator command')],
    ['57P02 crash shutdown', withCode('57P02')],
    ['57P03 cannot connect now (starting up, in recovery)', withCode('57P03', 'the database system is starting up')],
    ['08006 connection failure', withCode('08006')],
    ['08001 unable to connect', withCode('08001')],
    ['ECONNREFUSED', withCode('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:5432')],
    ['ECONNRESET', withCode('ECONNRESET')],
    ['ETIMEDOUT', withCode('ETIMEDOUT')],
    ['localhost refused on both addresses', Object.assign(new AggregateError([withCode('ECONNREFUSED'), withCode('ECONNREFUSED')]), { code: 'ECONNREFUSED' })],
    ['the connection ended under a query', new Error('Connection terminated unexpectedly')],
    ['the connect timeout', new Error('Connection terminated due to connection timeout')],
    ['the pool could not hand out a connection in time', new Error('timeout exceeded when trying to connect')],
    ['the statement timeout', new Error('Query read timeout')],
    ['a client whose connection failed', new Error('Client has encountered a connection error and is not queryable')],
  ];
  const notAway: Array<[string, unknown]> = [
    ['a unique violation', withCode('23505', 'duplicate key value violates unique constraint')],
    ['an undefined table', withCode('42P01')],
    ['a statement cancelled on the server', withCode('57014')],
    ['a serialization failure', withCode('40001')],
    ['our own refusal', new AppError('STORAGE_CONFLICT')],
    ['an unrelated error', new TypeError('x is undefined')],
    ['not an error at all', 'ECONNREFUSED'],
  ];
  for (const [name, error] of away) it(`away: ${name}`, () => assert.equal(isConnectionFailure(error), true));
  for (const [name, error] of notAway) it(`not away: ${name}`, () => assert.equal(isConnectionFailure(error), false));
});

/**
 * A loopback TCP proxy in front of the test PostgreSQL that can misbehave as a network or a
 * server does during an outage: refuse connections, end the ones open, or go silent.
 */
async function startProxy(target: URL): Promise<{ port: number; silent(): void; refuse(): Promise<void>; restore(): Promise<void>; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  let quiet = false;
  const server = net.createServer((downstream) => {
    sockets.add(downstream);
    downstream.on('close', () => sockets.delete(downstream));
    downstream.on('error', () => undefined);
    if (quiet) return; // accepted, never answered
    const upstream = net.connect(Number(target.port || 5432), target.hostname);
    sockets.add(upstream);
    upstream.on('close', () => sockets.delete(upstream));
    upstream.on('error', () => downstream.destroy());
    downstream.on('close', () => upstream.destroy());
    upstream.on('close', () => downstream.destroy());
    upstream.on('data', (chunk) => quiet || downstream.write(chunk));
    downstream.on('data', (chunk) => quiet || upstream.write(chunk));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  const dropAll = () => {
    for (const socket of sockets) socket.destroy();
  };
  return {
    port,
    silent: () => {
      quiet = true;
    },
    refuse: async () => {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        dropAll();
      });
    },
    restore: async () => {
      quiet = false;
      dropAll();
      if (!server.listening) await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    },
    close: async () => {
      dropAll();
      if (server.listening) await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

const isBrieflyUnavailable = (error: unknown) => error instanceof AppError && error.code === 'SERVICE_BRIEFLY_UNAVAILABLE';

describe('PostgreSQL going away under an open database [postgres]', function () {
  this.timeout(30_000);
  let schema: Awaited<ReturnType<typeof freshPostgresSchema>> | undefined;
  let db: SqlDatabase | undefined;
  let lines: string[];
  let logger: Logger;
  const events = () => lines.map((line) => JSON.parse(line) as Record<string, unknown>);

  before(requirePostgres);
  beforeEach(async () => {
    schema = await freshPostgresSchema();
    lines = [];
    logger = createLogger('info', (line) => lines.push(line));
  });
  afterEach(async () => {
    await db?.close().catch(() => undefined);
    db = undefined;
    await schema?.drop();
  });

  /** Terminates every connection of this test's pool from another session, as a fast stop or failover does (57P01). */
  async function serverEndsConnections(applicationName: string): Promise<number> {
    const admin = new pg.Client({ connectionString: POSTGRES_URL });
    await admin.connect();
    try {
      const rows = await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1', [applicationName]);
      return rows.rowCount ?? 0;
    } finally {
      await admin.end();
    }
  }

  it('hears the server end its idle connections (no unhandled error event), logs it once by host and code, and the next statement works', async () => {
    const applicationName = `nas_idle_${process.pid}_${Date.now()}`;
    const url = new URL(schema!.url);
    url.searchParams.set('application_name', applicationName);
    db = await openPostgres(url.toString(), { logger });
    await Promise.all([1, 2, 3].map(() => db!.query('SELECT pg_sleep(0.05)')));
    assert.ok((await serverEndsConnections(applicationName)) >= 3, 'the pool held idle connections');
    // An unheard 'error' event here would be an uncaught exception: mocha would fail the test with it.
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.deepEqual(await db.query<{ one: number }>('SELECT 1 AS one'), [{ one: 1 }]);

    const unavailable = events().filter((event) => event.event === 'database.unavailable');
    assert.equal(unavailable.length, 1, 'one line, not one per connection');
    assert.equal(unavailable[0]!.level, 'warn');
    assert.equal(unavailable[0]!.host, '127.0.0.1');
    assert.equal(unavailable[0]!.errorCode, '57P01');
    assert.equal(events().filter((event) => event.event === 'database.available').length, 1);
    assert.doesNotMatch(lines.join('\n'), /postgres@|"user"|"database"|\/test|search_path|\bat .+:\d+:\d+/, 'neither user, database nor stack');
  });

  it('opens the serving pool whole before the first turn and keeps it open past the idle timeout; other pools close idle connections', async () => {
    const connections = async (applicationName: string) => {
      const admin = new pg.Client({ connectionString: POSTGRES_URL });
      await admin.connect();
      try {
        const [row] = (
          await admin.query<{ count: number }>('SELECT count(*)::int AS count FROM pg_stat_activity WHERE application_name = $1', [applicationName])
        ).rows;
        return row!.count;
      } finally {
        await admin.end();
      }
    };
    const named = (applicationName: string) => {
      const url = new URL(schema!.url);
      url.searchParams.set('application_name', applicationName);
      return url.toString();
    };
    const idle = () => new Promise((resolve) => setTimeout(resolve, 600));
    const serving = `nas_serving_${process.pid}_${Date.now()}`;
    db = await openPostgres(named(serving), { logger, keepPoolOpen: true, idleTimeoutMs: 200 });
    assert.equal(await connections(serving), POSTGRES_POOL_SIZE, 'every connection opened at start-up');
    await idle();
    assert.equal(await connections(serving), POSTGRES_POOL_SIZE, 'kept open while idle, past the idle timeout');
    await db.close();

    const onDemand = `nas_on_demand_${process.pid}_${Date.now()}`;
    db = await openPostgres(named(onDemand), { logger, idleTimeoutMs: 200 });
    assert.equal(await connections(onDemand), 1, 'the start-up check opens one');
    await Promise.all([1, 2, 3].map(() => db!.query('SELECT pg_sleep(0.05)')));
    await idle();
    assert.equal(await connections(onDemand), 0, 'closed when idle');
  });

  it('fails a transaction whose connection is ended between two statements as "briefly unavailable", and the next transaction works', async () => {
    db = await openPostgres(schema!.url, { logger });
    await db.query('CREATE TABLE outage_probe (id INT PRIMARY KEY)');
    await assert.rejects(
      db.transaction(async (tx) => {
        await tx.query('INSERT INTO outage_probe VALUES (1)');
        const [{ pid }] = (await tx.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')) as [{ pid: number }];
        const admin = new pg.Client({ connectionString: POSTGRES_URL });
        await admin.connect();
        await admin.query('SELECT pg_terminate_backend($1)', [pid]);
        await admin.end();
        // The checked-out connection hears its end while no statement is running: that must not reach the process.
        await new Promise((resolve) => setTimeout(resolve, 200));
        await tx.query('INSERT INTO outage_probe VALUES (2)');
      }),
      isBrieflyUnavailable,
    );
    await db.transaction(async (tx) => tx.query('INSERT INTO outage_probe VALUES (3)'));
    assert.deepEqual(await db.query('SELECT id FROM outage_probe ORDER BY id'), [{ id: 3 }], 'nothing of the lost transaction was kept');
  });

  it('answers "briefly unavailable" within the timeouts when the server goes silent, and when it refuses; then carries on', async () => {
    const target = new URL(schema!.url);
    const proxy = await startProxy(target);
    try {
      const url = new URL(schema!.url);
      url.host = `127.0.0.1:${proxy.port}`;
      db = await openPostgres(url.toString(), { logger, connectTimeoutMs: 500, queryTimeoutMs: 1000 });
      await db.query('SELECT 1');

      // Silent: the idle connection's statement gets no answer, and a new connection no greeting.
      proxy.silent();
      let started = performance.now();
      await assert.rejects(db.query('SELECT 1'), isBrieflyUnavailable);
      assert.ok(performance.now() - started < 2500, `a statement on a silent connection gave up after ${Math.round(performance.now() - started)} ms`);
      started = performance.now();
      await assert.rejects(
        db.transaction(async (tx) => tx.query('SELECT 1')),
        isBrieflyUnavailable,
      );
      assert.ok(performance.now() - started < 2500, `a new connection gave up after ${Math.round(performance.now() - started)} ms`);

      // Refused: nothing listens any more, and the connections that were open are gone.
      await proxy.restore();
      await db.query('SELECT 1');
      await proxy.refuse();
      await new Promise((resolve) => setTimeout(resolve, 100));
      started = performance.now();
      await assert.rejects(db.query('SELECT 1'), isBrieflyUnavailable);
      assert.ok(performance.now() - started < 1000, 'a refused connection is reported at once');

      await proxy.restore();
      assert.deepEqual(await db.query<{ one: number }>('SELECT 1 AS one'), [{ one: 1 }], 'back without reopening anything');
      const codes = events()
        .filter((event) => event.event === 'database.unavailable')
        .map((event) => event.errorCode);
      assert.equal(codes.length, 2, 'one line per outage');
      assert.equal(events().filter((event) => event.event === 'database.available').length, 2);
    } finally {
      await db?.close().catch(() => undefined);
      db = undefined;
      await proxy.close();
    }
  });
});
