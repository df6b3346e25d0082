import type { AppConfig } from '../../config';
import { openPglite, openPostgres, type SqlDatabase } from './database';
import { migrate } from './migrate';

/** Opens the configured database and brings its schema up to date. */
export async function openDatabase(settings: AppConfig['database']): Promise<SqlDatabase> {
  const db = settings.kind === 'postgres' ? await openPostgres(settings.url) : await openPglite(settings.dataDir);
  await migrate(db);
  return db;
}
