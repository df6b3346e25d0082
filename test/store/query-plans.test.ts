import assert from 'node:assert/strict';
import type { SqlDatabase, SqlExecutor } from '../../services/store/database';
import { Outbox } from '../../services/store/outbox';
import { describeOnEachDatabase } from '../support/databases';

/** The statements `work` runs, with their parameters, as a database wrapper sees them. */
async function statementsOf(db: SqlDatabase, work: (db: SqlDatabase) => Promise<unknown>): Promise<Array<{ sql: string; params: readonly unknown[] }>> {
  const seen: Array<{ sql: string; params: readonly unknown[] }> = [];
  const capture: SqlExecutor['query'] = (sql, params) => {
    seen.push({ sql, params: params ?? [] });
    return db.query(sql, params);
  };
  await work({ ...db, engine: db.engine, query: capture, transaction: db.transaction.bind(db), exec: db.exec.bind(db), close: db.close.bind(db) });
  return seen;
}

/**
 * The plan of a statement when the planner may not scan a table whole unless nothing else can
 * answer (enable_seqscan off): a "Seq Scan" left in it means no index serves the statement, and it
 * reads every row the table will ever hold. Test tables are tiny, so the planner's own choice
 * would say nothing.
 */
async function planWithoutScans(db: SqlDatabase, sql: string, params: readonly unknown[]): Promise<string> {
  return db.transaction(async (tx) => {
    await tx.query('SET LOCAL enable_seqscan = off');
    const rows = await tx.query<{ 'QUERY PLAN': string }>(`EXPLAIN ${sql}`, params);
    return rows.map((row) => row['QUERY PLAN']).join('\n');
  });
}

describeOnEachDatabase('statements that run on every new chat, or on a timer, are answered from an index, not by reading the whole table', (db) => {
  it('waking what waited for a chat (Outbox.nudgeRecipient) reads the recipient’s rows only, pending or refused', async () => {
    const [nudge] = await statementsOf(db(), (counted) => new Outbox(counted).nudgeRecipient('6e6d7300-0000-4000-8000-000000000101'));
    assert.ok(nudge, 'the wake ran one statement');
    const plan = await planWithoutScans(db(), nudge.sql, nudge.params);
    assert.doesNotMatch(plan, /Seq Scan on outbox/, plan);
    // Each index it reads is searched by recipient: one searched by kind alone reads every outcome ever owed.
    const searches = plan.split('\n').filter((line) => line.includes('Index Cond:'));
    assert.ok(searches.length > 0, plan);
    for (const search of searches) assert.match(search, /recipient = /, plan);
  });

  it('giving failed rows another round (Outbox.rearmFailed, every ten minutes on each instance) reads the failed rows only', async () => {
    const [rearm] = await statementsOf(db(), (counted) => new Outbox(counted).rearmFailed(3600));
    assert.ok(rearm, 'the re-arm ran one statement');
    const plan = await planWithoutScans(db(), rearm.sql, rearm.params);
    assert.doesNotMatch(plan, /Seq Scan on outbox/, plan);
  });
});
