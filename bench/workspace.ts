import { performance } from 'node:perf_hooks';
import { openPostgres, type SqlDatabase } from '../services/store/database';
import { migrate } from '../services/store/migrate';
import { QueueRepository } from '../services/store/queue';
import { loadBankHolidays } from '../services/working-days';
import { queueFiltersSchema, WorkspaceQueue } from '../services/workspace-queue';
import { freshPostgresSchema } from '../test/support/databases';
import { measureLargeRequests } from './large-request';

/**
 * `npm run bench` (workspace): the NAS Operations queue on PostgreSQL (127.0.0.1:5432, database
 * test, a fresh schema) holding 10,000 requests and 200,000 accounts, made in bulk with
 * generate_series. The queue's first page and the search by account address must answer
 * within 100 ms at the 95th percentile; other filters are printed beside them. Then the large
 * requests' figures (bench/large-request.ts; alone with `--large-only`).
 */
const REQUESTS = 10_000;
const ACCOUNTS_EACH = 20;
const ORGANISATIONS = 500;
const RUNS = 200;
const OTHER_RUNS = 50;
const WARM_UP = 20;
const TARGET_P95_MS = 100;
const VIEWER = { id: '6e6d7300-0000-4000-8000-000000000131', name: 'Tom Ashdown' };

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

/** Requests across a year in every state, each with 20 accounts; reviewers, organisations and verdicts spread. */
async function fill(db: SqlDatabase): Promise<void> {
  await db.query(
    `INSERT INTO transfer_requests (reference, draft_id, organisation_ods, organisation_name, requester_id, requester_name, reason, attestations, policy_version,
                                    status, created_at, decided_at, completed_at, withdrawn_at, claimed_by_id, claimed_by_name, claimed_at)
     SELECT 'NTR-' || (100000 + i), 'bench-' || i, 'ZB' || lpad((i % $2)::text, 4, '0'), 'Bench Organisation ' || (i % $2) || ' Care Partnership',
            'requester-' || (i % 900), 'Requester ' || (i % 900), 'Sponsorship ends.', '{"usersInformed":true,"residualDataRemoved":true,"notMarkedAsLeavers":true,"resolutionForIneligible":true}'::jsonb, 'bench-1',
            s.status, c.created_at,
            CASE WHEN s.status IN ('decided', 'completed') THEN c.created_at + interval '3 days' END,
            CASE WHEN s.status = 'completed' THEN c.created_at + interval '5 days' END,
            CASE WHEN s.status = 'withdrawn' THEN c.created_at + interval '1 day' END,
            CASE WHEN s.status IN ('in_review', 'decided', 'completed') THEN 'reviewer-' || (i % 12) END,
            CASE WHEN s.status IN ('in_review', 'decided', 'completed') THEN 'Reviewer ' || (i % 12) END,
            CASE WHEN s.status IN ('in_review', 'decided', 'completed') THEN c.created_at + interval '1 day' END
     FROM generate_series(1, $1) AS i
     CROSS JOIN LATERAL (SELECT now() - (($1 - i) * interval '1 hour' * 0.876) AS created_at) c
     CROSS JOIN LATERAL (SELECT CASE
       WHEN i > $1 - 600 THEN (ARRAY['submitted', 'submitted', 'in_review'])[1 + i % 3]
       WHEN i % 20 = 0 THEN 'withdrawn'
       WHEN i % 4 = 0 THEN 'decided'
       ELSE 'completed' END AS status) s`,
    [REQUESTS, ORGANISATIONS],
  );
  await db.query(`SELECT setval('request_reference_seq', $1)`, [100000 + REQUESTS]);
  await db.query(
    `INSERT INTO request_accounts (request_id, position, email, site_ods, verdict, reasons, evidence, decision, decided_by_id, decided_by_name, decided_at, transferred_at, transferred_by_id, transferred_by_name)
     SELECT r.id, p, 'user' || r.id || '.' || p || '@nhsmail.example', 'ZS' || lpad((r.id % 2000)::text, 4, '0'), v.verdict, '[]'::jsonb, '{}'::jsonb,
            d.decision, CASE WHEN d.decision IS NOT NULL THEN r.claimed_by_id END, CASE WHEN d.decision IS NOT NULL THEN r.claimed_by_name END, CASE WHEN d.decision IS NOT NULL THEN r.decided_at END,
            CASE WHEN d.decision = 'approved' AND r.status = 'completed' THEN r.completed_at END,
            CASE WHEN d.decision = 'approved' AND r.status = 'completed' THEN r.claimed_by_id END,
            CASE WHEN d.decision = 'approved' AND r.status = 'completed' THEN r.claimed_by_name END
     FROM transfer_requests r
     CROSS JOIN generate_series(1, $1) AS p
     CROSS JOIN LATERAL (SELECT (ARRAY['eligible', 'eligible', 'eligible', 'review', 'ineligible'])[1 + (r.id + p) % 5] AS verdict) v
     CROSS JOIN LATERAL (SELECT CASE WHEN r.status IN ('decided', 'completed') AND v.verdict <> 'ineligible' THEN (CASE WHEN v.verdict = 'eligible' THEN 'approved' ELSE 'rejected' END) END AS decision) d`,
    [ACCOUNTS_EACH],
  );
  await db.query('ANALYZE transfer_requests');
  await db.query('ANALYZE request_accounts');
}

async function measure(
  label: string,
  run: (index: number) => Promise<number>,
  runs = RUNS,
): Promise<{ label: string; p50: number; p95: number; rows: number }> {
  let rows = 0;
  for (let index = 0; index < WARM_UP; index++) await run(index);
  const times: number[] = [];
  for (let index = 0; index < runs; index++) {
    const started = performance.now();
    rows = await run(index);
    times.push(performance.now() - started);
  }
  const result = { label, p50: percentile(times, 50), p95: percentile(times, 95), rows };
  process.stdout.write(
    `  ${label.padEnd(58)} median ${result.p50.toFixed(2).padStart(7)} ms   p95 ${result.p95.toFixed(2).padStart(7)} ms   ${String(rows).padStart(5)} rows\n`,
  );
  return result;
}

/** BENCH_EXPLAIN=1: the plans PostgreSQL chose for the gated queries, to see which index serves each. */
async function explain(db: SqlDatabase, queries: Record<string, Record<string, string>>): Promise<void> {
  for (const [label, query] of Object.entries(queries)) {
    const seen: Array<{ sql: string; params: readonly unknown[] }> = [];
    const recording = { query: <Row>(sql: string, params: readonly unknown[] = []) => (seen.push({ sql, params }), db.query<Row>(sql, params)) };
    await new WorkspaceQueue(new QueueRepository(recording), loadBankHolidays(), { overdueAfterWorkingDays: 3 }).page(queueFiltersSchema.parse(query), VIEWER);
    for (const { sql, params } of seen) {
      const plan = await db.query<{ 'QUERY PLAN': string }>(`EXPLAIN (ANALYZE, COSTS OFF) ${sql}`, params);
      process.stdout.write(`\n${label}:\n${plan.map((line) => `    ${line['QUERY PLAN']}`).join('\n')}\n`);
    }
  }
}

/** `--large-only`: only the large requests' figures (bench/large-request.ts), on an empty schema, without the queue's 10,000 requests. */
const LARGE_ONLY = process.argv.includes('--large-only');

async function main(): Promise<boolean> {
  const schema = await freshPostgresSchema();
  const db = await openPostgres(schema.url, { queryTimeoutMs: 0 });
  try {
    await migrate(db);
    if (LARGE_ONLY) {
      await measureLargeRequests(db);
      return true;
    }
    const filling = performance.now();
    await fill(db);
    const [counts] = await db.query<{ requests: number; accounts: number; open: number }>(
      `SELECT (SELECT count(*)::int FROM transfer_requests) AS requests, (SELECT count(*)::int FROM request_accounts) AS accounts,
              (SELECT count(*)::int FROM transfer_requests WHERE status IN ('submitted', 'in_review')) AS open`,
    );
    process.stdout.write(
      `Workspace queue on PostgreSQL: ${counts!.requests.toLocaleString('en-GB')} requests (${counts!.open} open), ${counts!.accounts.toLocaleString('en-GB')} accounts, filled in ${((performance.now() - filling) / 1000).toFixed(1)} s; ${RUNS} runs each after ${WARM_UP} to warm up\n`,
    );

    const queue = new WorkspaceQueue(new QueueRepository(db), loadBankHolidays(), { overdueAfterWorkingDays: 3 });
    const page = async (query: Record<string, string>) => {
      const view = await queue.page(queueFiltersSchema.parse(query), VIEWER);
      return view.entries.length;
    };
    const gated = [
      await measure('queue, first page (open requests, oldest first)', () => page({})),
      await measure('search by account address (exact, every request)', (index) =>
        page({ status: 'all', address: `user${1 + ((index * 7919) % REQUESTS)}.${1 + (index % ACCOUNTS_EACH)}@NHSmail.example` }),
      ),
    ];
    process.stdout.write(`\nOther filters (not gated, ${OTHER_RUNS} runs each)\n`);
    await measure('all requests, first page', () => page({ status: 'all' }), OTHER_RUNS);
    await measure('all requests, page 200', () => page({ status: 'all', page: '200' }), OTHER_RUNS);
    await measure('overdue', () => page({ overdue: 'true' }), OTHER_RUNS);
    await measure('reviewer (a named reviewer, all statuses)', () => page({ status: 'all', reviewer: 'reviewer-3' }), OTHER_RUNS);
    await measure('unassigned', () => page({ reviewer: 'unassigned' }), OTHER_RUNS);
    await measure(
      'organisation (ODS code, all statuses)',
      (index) => page({ status: 'all', organisation: `ZB${String(index % ORGANISATIONS).padStart(4, '0')}` }),
      OTHER_RUNS,
    );
    await measure('organisation words ("bench organisation 42")', () => page({ status: 'all', q: 'bench organisation 42' }), OTHER_RUNS);
    await measure('reference prefix ("NTR-10500")', () => page({ status: 'all', q: 'NTR-10500' }), OTHER_RUNS);
    await measure('picture of the work', async () => (await queue.picture()).weeks.length, OTHER_RUNS);

    await measureLargeRequests(db);

    if (process.env.BENCH_EXPLAIN === '1') await explain(db, { first: {}, address: { status: 'all', address: 'user4242.7@nhsmail.example' } });

    process.stdout.write('\nTargets\n');
    let met = true;
    for (const result of gated) {
      const ok = result.p95 <= TARGET_P95_MS;
      met &&= ok;
      process.stdout.write(
        `  ${`${result.label}: p95`.padEnd(58)} ${result.p95.toFixed(2).padStart(7)} ms  target <= ${TARGET_P95_MS} ms  ${ok ? 'met' : 'MISSED'}\n`,
      );
    }
    return met;
  } finally {
    await db.close();
    await schema.drop();
  }
}

main().then(
  (met) => process.exit(met ? 0 : 1),
  (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
    process.exit(1);
  },
);
