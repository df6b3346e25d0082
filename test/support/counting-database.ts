import { isInteractive } from '../../core/interactive';
import type { SqlDatabase, SqlExecutor } from '../../services/store/database';

/**
 * A database that counts its round trips: each statement, and a transaction's BEGIN and COMMIT
 * (each is a round trip on PostgreSQL, and holds PGlite's one connection). For tests and the
 * bench that say what a turn costs in storage. `fromTurns`: those a turn sent (core/interactive),
 * without the workers' polls that happen to fall in the same moment.
 */
export function countingDatabase(db: SqlDatabase): { db: SqlDatabase; statements: string[]; fromTurns: string[] } {
  const statements: string[] = [];
  const fromTurns: string[] = [];
  const record = (sql: string) => {
    const statement = sql.replace(/\s+/g, ' ').trim();
    statements.push(statement);
    if (isInteractive()) fromTurns.push(statement);
  };
  const counted = (executor: SqlExecutor): SqlExecutor => ({
    query: (sql, params) => {
      record(sql);
      return executor.query(sql, params);
    },
  });
  return {
    statements,
    fromTurns,
    db: {
      get engine() {
        return db.engine;
      },
      query: (sql, params) => counted(db).query(sql, params),
      transaction: async (work) => {
        record('BEGIN');
        const result = await db.transaction((tx) => work(counted(tx)));
        record('COMMIT');
        return result;
      },
      exec: (script) => {
        record(script);
        return db.exec(script);
      },
      close: () => db.close(),
    },
  };
}
