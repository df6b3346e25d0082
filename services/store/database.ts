import { mkdir } from 'node:fs/promises';
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { AppError } from '../../core/errors';

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
  const db = await PGlite.create(dataDir);
  return {
    engine: 'pglite',
    query: async <Row>(sql: string, params: readonly unknown[] = []) => (await db.query<Row>(sql, [...params])).rows,
    transaction: (work) => db.transaction((tx) => work({ query: async <Row>(sql: string, params: readonly unknown[] = []) => (await tx.query<Row>(sql, [...params])).rows })),
    exec: async (script) => {
      await db.exec(script);
    },
    close: () => db.close(),
  };
}

export async function openPostgres(connectionString: string): Promise<SqlDatabase> {
  const pool = new pg.Pool({ connectionString, max: 10 });
  // Fail at start-up, with a clear cause, rather than on the first turn; name the server, never the password.
  await pool.query('SELECT 1').catch(async (error: unknown) => {
    await pool.end().catch(() => undefined);
    throw new AppError('DATABASE_UNAVAILABLE', `Check DATABASE_URL: PostgreSQL at ${describeServer(connectionString)} could not be reached.`, { cause: error });
  });
  const executor = (client: pg.Pool | pg.PoolClient): SqlExecutor => ({
    query: async <Row>(sql: string, params: readonly unknown[] = []) => (await client.query(sql, [...params])).rows as Row[],
  });
  return {
    engine: 'postgres',
    query: executor(pool).query,
    transaction: async (work) => {
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        const result = await work(executor(client));
        await client.query('COMMIT');
        return result;
      } catch (error) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw error;
      } finally {
        client.release();
      }
    },
    exec: async (script) => {
      await pool.query(script);
    },
    close: () => pool.end(),
  };
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
