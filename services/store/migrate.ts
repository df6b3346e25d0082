import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { SAVE_USER_CHATS_ROUTINE } from './conversation-references';
import type { SqlDatabase } from './database';

const MIGRATIONS_DIR = path.join(__dirname, 'migrations');
/** Any fixed number: it serialises migrations when several bot instances start at once. */
const MIGRATION_LOCK_KEY = 7_272_001;

/**
 * Applies every migrations/NNN-*.sql not yet applied, in order, once, under an advisory lock.
 * Everything, the bookkeeping table included, happens after the lock is taken: concurrent
 * `CREATE TABLE IF NOT EXISTS` statements race in PostgreSQL's catalog (23505), so two
 * instances starting at once on an empty database must not both run it.
 */
export async function migrate(db: SqlDatabase): Promise<string[]> {
  const files = (await readdir(MIGRATIONS_DIR)).filter((file) => /^\d{3}-.+\.sql$/.test(file)).sort();
  const scripts = await Promise.all(files.map(async (file) => ({ file, sql: await readFile(path.join(MIGRATIONS_DIR, file), 'utf8') })));
  return db.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK_KEY]);
    await tx.query('CREATE TABLE IF NOT EXISTS schema_migrations (name TEXT PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())');
    const applied = new Set((await tx.query<{ name: string }>('SELECT name FROM schema_migrations')).map((row) => row.name));
    const newlyApplied: string[] = [];
    for (const { file, sql } of scripts) {
      if (applied.has(file)) continue;
      for (const statement of splitStatements(sql)) await tx.query(statement);
      await tx.query('INSERT INTO schema_migrations (name) VALUES ($1)', [file]);
      newlyApplied.push(file);
    }
    // Routines whose statements are written in TypeScript (one owner for each rule), created at every start under a name
    // that ends with a hash of their definition, so each build calls its own; under the same lock, so instances starting
    // together take turns.
    for (const routine of ROUTINES) await tx.query(routine);
    return newlyApplied;
  });
}

/** PL/pgSQL routines the store calls, defined from the statements they run (see each). */
const ROUTINES = [SAVE_USER_CHATS_ROUTINE];

/** Migrations this build has that the database has not applied yet. */
export async function pendingMigrations(db: SqlDatabase): Promise<string[]> {
  const files = (await readdir(MIGRATIONS_DIR)).filter((file) => /^\d{3}-.+\.sql$/.test(file)).sort();
  const applied = new Set((await db.query<{ name: string }>('SELECT name FROM schema_migrations')).map((row) => row.name));
  return files.filter((file) => !applied.has(file));
}

/** Our migrations keep to plain statements separated by semicolons at line ends. */
function splitStatements(sql: string): string[] {
  return sql
    .split(/;\s*$/m)
    .map((statement) => statement.replace(/^\s*--.*$/gm, '').trim())
    .filter(Boolean);
}
