import assert from 'node:assert/strict';
import type { SqlDatabase, SqlExecutor } from '../../services/store/database';
import { Outbox } from '../../services/store/outbox';
import { CONVERSATIONS_PRUNED_EVERY_MS, SqlSendBudget } from '../../services/store/send-budget';
import { TEAMS_DOCUMENTED_LIMITS } from '../../services/outbox/send-pacing';
import { TransferTimescaleHistory } from '../../services/store/transfer-timescales';
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

  it('the tally’s flush of a turn’s replies (SqlSendBudget.spentAll, ten times a second under load) reads the ledger by scope, and reads it whole once a minute at most', async () => {
    let clock = 1_000_000;
    const replies = Array.from({ length: 3 }, (_, index) => ({ destination: { conversation: `a:chat-${index}`, tenant: 't1' }, requests: 1, ageMs: 0 }));
    const flushes = await statementsOf(db(), async (counted) => {
      const budget = new SqlSendBudget(counted, TEAMS_DOCUMENTED_LIMITS, undefined, { conversationRowsCountForSeconds: 3600, now: () => clock });
      await budget.spentAll(replies);
      clock += CONVERSATIONS_PRUNED_EVERY_MS - 1;
      await budget.spentAll(replies);
      clock += 1;
      await budget.spentAll(replies);
    });
    assert.equal(flushes.length, 3, 'one statement a flush');
    // Between prunes, every search of the ledger is by scope: the rows of the chats and tenant flushed, not the whole ledger.
    const plan = await planWithoutScans(db(), flushes[1]!.sql, flushes[1]!.params);
    assert.doesNotMatch(plan, /Seq Scan on send_budget/, plan);
    const searches = plan.split('\n').filter((line) => line.includes('Index Cond:'));
    assert.ok(searches.length > 0, plan);
    for (const search of searches) assert.match(search, /scope = /, plan);
    // The first flush and the one a minute later also drop every conversation's rows past their hour (the whole ledger, once a minute).
    const prunesChats = flushes.map((flush) => flush.sql.includes("scope LIKE 'conversation:%'"));
    assert.deepEqual(prunesChats, [true, false, true]);
    // Every reply still counted in its chat (the tenant's rows may pass their one-second window by the third flush on a slow machine).
    const counts = await db().query<{ scope: string; count: number }>(
      "SELECT scope, sum(requests)::int AS count FROM send_budget WHERE scope LIKE 'conversation:%' GROUP BY scope ORDER BY scope",
    );
    assert.deepEqual(counts, [
      { scope: 'conversation:a:chat-0', count: 3 },
      { scope: 'conversation:a:chat-1', count: 3 },
      { scope: 'conversation:a:chat-2', count: 3 },
    ]);
  });

  it('how long transfers took (TransferTimescaleHistory.transfers, whenever a requester is offered the drafts) reads the accounts seen moved in the window, not every completed request', async () => {
    const [read] = await statementsOf(db(), (counted) => new TransferTimescaleHistory(counted).transfers(new Date('2026-12-06T12:00:00Z')));
    assert.ok(read, 'one statement');
    const plan = await planWithoutScans(db(), read.sql, read.params);
    assert.doesNotMatch(plan, /Seq Scan on (request_accounts|transfer_requests)/, plan);
    assert.match(plan, /Index Cond: \(\(transfer_confirmed_at > /, plan);
  });
});
