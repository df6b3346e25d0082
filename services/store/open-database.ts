import type { AppConfig } from '../../config';
import { openPglite, openPostgres, type SqlDatabase } from './database';
import { migrate, pendingMigrations } from './migrate';

/** Opens the configured database and brings its schema up to date. */
export async function openDatabase(settings: AppConfig['database']): Promise<SqlDatabase> {
  const db = settings.kind === 'postgres' ? await openPostgres(settings.url) : await openPglite(settings.dataDir);
  await migrate(db);
  return db;
}

/** For /readyz: the database answers and every migration this build knows is applied. */
export async function readiness(db: SqlDatabase): Promise<{ ready: boolean; checks: Record<string, boolean> }> {
  const reachable = await db.query('SELECT 1').then(
    () => true,
    () => false,
  );
  const migrated = reachable && (await pendingMigrations(db).then((pending) => pending.length === 0, () => false));
  return { ready: reachable && migrated, checks: { database: reachable, migrations: migrated } };
}
