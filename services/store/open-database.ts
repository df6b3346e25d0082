import { silentLogger, type Logger } from '../../core/log';
import { openPglite, openPostgres, type SqlDatabase } from './database';
import { migrate, pendingMigrations } from './migrate';

/** Which database the bot keeps its state in (config.ts reads it from DATABASE_URL or PGLITE_DATA_DIR). */
export type DatabaseSettings = { kind: 'postgres'; url: string } | { kind: 'pglite'; dataDir: string };

/**
 * Opens the configured database and brings its schema up to date. On PostgreSQL the
 * migrations run on a connection of their own without the per-statement bound turns have
 * (a migration may rewrite a large table); the bot then works through a pool that bounds every
 * statement and reports outages to `logger`. `serving`: the bot's own pool, opened whole and
 * kept open (openPostgres' keepPoolOpen); the CLI's commands open connections as they need them.
 */
export async function openDatabase(settings: DatabaseSettings, logger: Logger = silentLogger, options: { serving?: boolean } = {}): Promise<SqlDatabase> {
  if (settings.kind !== 'postgres') {
    const db = await openPglite(settings.dataDir);
    await migrate(db);
    return db;
  }
  const migrator = await openPostgres(settings.url, { queryTimeoutMs: 0 });
  try {
    await migrate(migrator);
  } finally {
    await migrator.close();
  }
  return openPostgres(settings.url, { logger, keepPoolOpen: options.serving === true });
}

/** For /readyz: the database answers and every migration this build knows is applied. */
export async function readiness(db: SqlDatabase): Promise<{ ready: boolean; checks: Record<string, boolean> }> {
  const reachable = await db.query('SELECT 1').then(
    () => true,
    () => false,
  );
  const migrated =
    reachable &&
    (await pendingMigrations(db).then(
      (pending) => pending.length === 0,
      () => false,
    ));
  return { ready: reachable && migrated, checks: { database: reachable, migrations: migrated } };
}
