import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { chown, mkdtemp, readFile, rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { openPostgres, pgliteImage, type SqlDatabase } from '../../services/store/database';
import { migrate } from '../../services/store/migrate';

export interface TestDatabase {
  name: 'pglite' | 'postgres';
  /** A migrated, empty database of its own. */
  open(): Promise<SqlDatabase>;
  /** Removes what `open` made. */
  cleanUp(): Promise<void>;
}

export const POSTGRES_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

let migratedImage: ReturnType<typeof pgliteImage> | undefined;
/** A PGlite database a test closed, kept for the next to empty and reuse: starting PGlite costs about a second. */
let idle: SqlDatabase | undefined;

/**
 * A fresh, migrated, empty PGlite database. Starting PGlite is the cost, so the last one a test
 * closed is emptied and lent again (as after TRUNCATE of every table), else a copy of one
 * migrated once per test process is started. Closing it hands it back; using it after that fails,
 * as a closed database would.
 */
export async function freshPglite(): Promise<SqlDatabase> {
  const reusable = idle;
  idle = undefined;
  if (reusable) {
    await emptyAllTables(reusable);
    return lent(reusable);
  }
  migratedImage ??= pgliteImage(async (db) => {
    await migrate(db);
  });
  return lent(await (await migratedImage).open());
}

function lent(db: SqlDatabase): SqlDatabase {
  let returned = false;
  const open = () => {
    if (returned) throw new Error('PGlite is closed');
    return db;
  };
  return {
    engine: 'pglite',
    query: (sql, params) => open().query(sql, params),
    transaction: (work) => open().transaction(work),
    exec: (script) => open().exec(script),
    async close() {
      if (returned) return;
      returned = true;
      if (idle) await db.close();
      else idle = db;
    },
  };
}

export const pgliteDatabase = (): TestDatabase => ({
  name: 'pglite',
  open: freshPglite,
  async cleanUp() {},
});

/**
 * Each suite gets its own schema in the shared test database, so runs never see each
 * other's rows and a failed run leaves nothing that breaks the next.
 */
export const postgresDatabase = (): TestDatabase => {
  const schemas: string[] = [];
  return {
    name: 'postgres',
    async open() {
      const schema = `nas_test_${randomBytes(6).toString('hex')}`;
      const admin = new pg.Client({ connectionString: POSTGRES_URL });
      await admin.connect();
      await admin.query(`CREATE SCHEMA ${schema}`);
      await admin.end();
      schemas.push(schema);
      const url = new URL(POSTGRES_URL);
      url.searchParams.set('options', `-c search_path=${schema}`);
      const db = await openPostgres(url.toString());
      await migrate(db);
      return db;
    },
    async cleanUp() {
      const admin = new pg.Client({ connectionString: POSTGRES_URL });
      await admin.connect();
      for (const schema of schemas.splice(0)) await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await admin.end();
    },
  };
};

let reachable: Promise<boolean> | undefined;
function postgresReachable(): Promise<boolean> {
  reachable ??= (async () => {
    const client = new pg.Client({ connectionString: POSTGRES_URL, connectionTimeoutMillis: 3000 });
    try {
      await client.connect();
      await client.end();
      return true;
    } catch {
      return false;
    }
  })();
  return reachable;
}

/**
 * A `before` hook for suites that need the PostgreSQL server: required in CI (CI=true) and
 * wherever REQUIRE_POSTGRES=1; elsewhere an unreachable server skips the suite, saying why.
 */
export async function requirePostgres(this: Mocha.Context): Promise<void> {
  if (await postgresReachable()) return;
  if (process.env.CI === 'true' || process.env.REQUIRE_POSTGRES === '1') throw new Error(`PostgreSQL at ${POSTGRES_URL} is required and not reachable.`);
  process.stderr.write(`  (skipped: PostgreSQL at ${POSTGRES_URL} is not reachable on this machine)\n`);
  this.skip();
}

/** A fresh, empty schema in the test database, as a connection URL, and how to remove it. */
export async function freshPostgresSchema(): Promise<{ url: string; drop(): Promise<void> }> {
  const schema = `nas_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: POSTGRES_URL });
  await admin.connect();
  await admin.query(`CREATE SCHEMA ${schema}`);
  await admin.end();
  const url = new URL(POSTGRES_URL);
  url.searchParams.set('options', `-c search_path=${schema}`);
  return {
    url: url.toString(),
    async drop() {
      const client = new pg.Client({ connectionString: POSTGRES_URL });
      await client.connect();
      await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await client.end();
    },
  };
}

/**
 * Defines `body` once per database engine, each test on an empty migrated database: one per
 * suite, emptied before each test (every table but the migrations', identities restarted),
 * which is what a fresh one would be at a fraction of the cost.
 * PostgreSQL is required in CI (CI=true) and wherever REQUIRE_POSTGRES=1; elsewhere an
 * unreachable server skips its copy of the suite, with the reason in the output.
 */
export function describeOnEachDatabase(title: string, body: (db: () => SqlDatabase) => void): void {
  for (const factory of [pgliteDatabase(), postgresDatabase()]) {
    describe(`${title} [${factory.name}]`, function () {
      let db: SqlDatabase | undefined;
      before(async function () {
        if (factory.name === 'postgres' && !(await postgresReachable())) {
          if (process.env.CI === 'true' || process.env.REQUIRE_POSTGRES === '1')
            throw new Error(`PostgreSQL at ${POSTGRES_URL} is required and not reachable.`);
          process.stderr.write(`  (skipped: PostgreSQL at ${POSTGRES_URL} is not reachable on this machine)\n`);
          this.skip();
        }
        db = await factory.open();
      });
      beforeEach(async () => {
        await emptyAllTables(db!);
      });
      after(async () => {
        await db?.close();
        db = undefined;
        await factory.cleanUp();
      });
      body(() => {
        if (!db) throw new Error('database not open');
        return db;
      });
    });
  }
}

/**
 * Empties every table the migrations made, as if freshly migrated. The audit trail refuses
 * TRUNCATE by trigger (migration 003), so triggers are off for this one transaction only
 * (session_replication_role; the test databases' user is a superuser).
 */
async function emptyAllTables(db: SqlDatabase): Promise<void> {
  await db.transaction(async (tx) => {
    const tables = await tx.query<{ name: string }>(
      `SELECT quote_ident(tablename) AS name FROM pg_tables WHERE schemaname = current_schema() AND tablename <> 'schema_migrations'`,
    );
    if (tables.length === 0) return;
    await tx.query('SET LOCAL session_replication_role = replica');
    await tx.query(`TRUNCATE ${tables.map((table) => table.name).join(', ')} RESTART IDENTITY CASCADE`);
  });
}

/** The newest PostgreSQL server binaries Debian installed (/usr/lib/postgresql/<version>/bin), if any. */
export function postgresServerBinaries(): string | undefined {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root)
    .filter((version) => existsSync(path.join(root, version, 'bin', 'initdb')) && existsSync(path.join(root, version, 'bin', 'pg_ctl')))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] ? path.join(root, versions[0], 'bin') : undefined;
}

/** A PostgreSQL cluster of a test's own, on a loopback port, that it may stop and start as an outage would. */
export interface ThrowawayPostgres {
  /** A database of its own in the cluster (superuser, trust authentication). */
  url: string;
  user: string;
  database: string;
  /** pg_ctl stop -m fast: every connection is ended (57P01) and new ones are refused. */
  stop(): Promise<void>;
  start(): Promise<void>;
  /** Stops it if running and removes its directory. */
  destroy(): Promise<void>;
}

const execFileAsync = promisify(execFile);

/**
 * initdb into a temporary directory, then pg_ctl start on a free loopback port with its socket
 * in that directory. initdb refuses to run as root, so as root the cluster belongs to the
 * `postgres` system user. Throws, with pg_ctl's own output, when the cluster cannot be made.
 */
export async function startThrowawayPostgres(names: { user: string; database: string }): Promise<ThrowawayPostgres> {
  const bin = postgresServerBinaries();
  if (!bin) throw new Error('The PostgreSQL server binaries (/usr/lib/postgresql/*/bin/initdb, pg_ctl) are not installed.');
  const dir = await mkdtemp(path.join(tmpdir(), 'nas-pg-'));
  const dataDir = path.join(dir, 'data');
  const asRoot = process.getuid?.() === 0;
  const run = async (program: string, args: string[]) => {
    const [file, argv] = asRoot ? ['runuser', ['-u', 'postgres', '--', path.join(bin, program), ...args]] : [path.join(bin, program), args];
    try {
      await execFileAsync(file, argv, { cwd: dir, timeout: 60_000 });
    } catch (error) {
      const { stdout, stderr } = error as { stdout?: string; stderr?: string };
      const log = await readFile(path.join(dir, 'server.log'), 'utf8').catch(() => '');
      throw new Error(`${program} ${args[0]} failed for the throwaway PostgreSQL cluster in ${dir}:\n${stdout ?? ''}${stderr ?? ''}${log}`);
    }
  };
  if (asRoot) {
    const { stdout } = await execFileAsync('id', ['-u', 'postgres']).catch(() => ({ stdout: '' }));
    const { stdout: group } = await execFileAsync('id', ['-g', 'postgres']).catch(() => ({ stdout: '' }));
    if (!stdout.trim()) throw new Error('Running as root, the throwaway PostgreSQL cluster needs the postgres system user (initdb refuses root).');
    await chown(dir, Number(stdout), Number(group));
  }
  await run('initdb', ['-D', dataDir, '-U', names.user, '--auth=trust', '-E', 'UTF8', '--no-sync', '--no-instructions']);
  const port = await freeLoopbackPort(55432 + Math.floor(Math.random() * 2000));
  const serverOptions = `-p ${port} -c listen_addresses=127.0.0.1 -c unix_socket_directories=${dir} -c fsync=off -c synchronous_commit=off -c full_page_writes=off`;
  const start = () => run('pg_ctl', ['start', '-D', dataDir, '-w', '-t', '30', '-l', path.join(dir, 'server.log'), '-o', serverOptions]);
  const stop = (mode: 'fast' | 'immediate') => run('pg_ctl', ['stop', '-D', dataDir, '-w', '-t', '30', '-m', mode]);
  let running = false;
  try {
    await start();
    running = true;
    const admin = new pg.Client({ host: '127.0.0.1', port, user: names.user, database: 'postgres' });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${pg.escapeIdentifier(names.database)}`);
    await admin.end();
  } catch (error) {
    if (running) await stop('immediate').catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
  return {
    url: `postgres://${names.user}@127.0.0.1:${port}/${names.database}`,
    ...names,
    async stop() {
      await stop('fast');
      running = false;
    },
    async start() {
      await start();
      running = true;
    },
    async destroy() {
      if (running) await stop('immediate').catch(() => undefined);
      running = false;
      await rm(dir, { recursive: true, force: true });
    },
  };
}

async function freeLoopbackPort(from: number): Promise<number> {
  for (let port = from; port < from + 200; port++) {
    const free = await new Promise<boolean>((resolve) => {
      const probe = net.createServer();
      probe.once('error', () => resolve(false));
      probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(true)));
    });
    if (free) return port;
  }
  throw new Error(`No free loopback port from ${from}.`);
}
