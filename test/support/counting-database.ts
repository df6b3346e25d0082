import type { SqlDatabase, SqlExecutor } from '../../services/store/database';

/**
 * A database that counts its round trips: each statement, and a transaction's BEGIN and COMMIT
 * (each is a round trip on PostgreSQL, and holds PGlite's one connection). For tests and the
 * bench that say what a turn costs in storage.
 */
export function countingDatabase(db: SqlDatabase): { db: SqlDatabase; statements: string[] } {
  const statements: string[] = [];
  const counted = (executor: SqlExecutor): SqlExecutor => ({
    query: (sql, params) => {
      statements.push(sql.replace(/\s+/g, ' ').trim());
      return executor.query(sql, params);
    },
  });
  return {
    statements,
    db: {
      get engine() {
        return db.engine;
      },
      query: (sql, params) => counted(db).query(sql, params),
      transaction: async (work) => {
        statements.push('BEGIN');
        const result = await db.transaction((tx) => work(counted(tx)));
        statements.push('COMMIT');
        return result;
      },
      exec: (script) => {
        statements.push(script);
        return db.exec(script);
      },
      close: () => db.close(),
    },
  };
}
