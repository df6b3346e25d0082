import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { openPglite, openPostgres, type SqlDatabase } from '../../services/store/database';
import { migrate } from '../../services/store/migrate';

export interface TestDatabase {
  name: 'pglite' | 'postgres';
  /** A migrated, empty database of its own. */
  open(): Promise<SqlDatabase>;
  /** Removes what `open` made. */
  cleanUp(): Promise<void>;
}

export const POSTGRES_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

export const pgliteDatabase = (): TestDatabase => ({
  name: 'pglite',
  async open() {
    const db = await openPglite();
    await migrate(db);
    return db;
  },
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
 * Defines `body` once per database engine, each test on a fresh migrated database.
 * PostgreSQL is required in CI (CI=true) and wherever REQUIRE_POSTGRES=1; elsewhere an
 * unreachable server skips its copy of the suite, with the reason in the output.
 */
export function describeOnEachDatabase(title: string, body: (db: () => SqlDatabase) => void): void {
  for (const factory of [pgliteDatabase(), postgresDatabase()]) {
    describe(`${title} [${factory.name}]`, function () {
      let db: SqlDatabase | undefined;
      before(async function () {
        if (factory.name !== 'postgres' || (await postgresReachable())) return;
        if (process.env.CI === 'true' || process.env.REQUIRE_POSTGRES === '1') throw new Error(`PostgreSQL at ${POSTGRES_URL} is required and not reachable.`);
        process.stderr.write(`  (skipped: PostgreSQL at ${POSTGRES_URL} is not reachable on this machine)\n`);
        this.skip();
      });
      beforeEach(async () => {
        db = await factory.open();
      });
      afterEach(async () => {
        await db?.close();
        db = undefined;
      });
      after(() => factory.cleanUp());
      body(() => {
        if (!db) throw new Error('database not open');
        return db;
      });
    });
  }
}
