import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay, performance, PerformanceObserver } from 'node:perf_hooks';
import { PGlite } from '@electric-sql/pglite';
import { ConversationReferences } from '../bot/state/conversation-references';
import { DEMO, loadConfig } from '../config';
import { silentLogger } from '../core/log';
import { loadSandboxDirectory, startSandboxGraph } from '../dev/sandbox/graph-server';
import { startMissingSandboxes } from '../dev/sandbox/sandbox-defaults';
import { parseAccountList } from '../services/account-list';
import { openDataSources } from '../services/data-sources';
import { ScreeningRequests } from '../services/screening-requests';
import { openPglite, openPostgres, type SqlDatabase, type SqlExecutor } from '../services/store/database';
import { migrate } from '../services/store/migrate';
import { londonDate } from '../services/working-days';
import { PEOPLE } from '../test/support/bot-harness';
import { freshPostgresSchema, POSTGRES_URL } from '../test/support/databases';
import { startFakeConnector, type FakeConnector } from '../test/support/fake-connector';
import { requestDetails, screenedAccount } from '../test/support/fixtures';
import { TeamsClient } from '../test/support/teams-client';
import { SITES, submitted, syntheticUsers } from './recheck';
import { percentile, personalMessage, startOurBot } from './turns';

/**
 * `npm run bench` (busy; issue 23, "PGlite's single connection"): a PLA types `status` while a
 * colleague's 500-account list is being screened, and while the daily re-check round reads 1,000
 * accounts again. The real bot (composeBot and its workers, CloudAdapter behind restify, a loopback
 * Bot Connector, sandbox Graph answering GRAPH_LATENCY_MS late and the ODS FHIR sandbox), on PGlite
 * and on PostgreSQL. Printed, per engine: `status` turn times idle and busy (one at a time, and
 * CONVERSATIONS chats at once), busy over idle as ratios from the same run, how long the work took,
 * and the longest statement and the longest transaction that held the database while it ran
 * (every statement is timed: on PGlite a statement holds the one connection, so every turn waits
 * behind it), with the event loop's longest stall (PGlite runs on the bot's own thread).
 */
/** `--only=pglite` or `--only=postgres`: one engine, for a quicker look. */
const ONLY = process.argv.find((arg) => arg.startsWith('--only='))?.slice('--only='.length);
/** `--verbose`: the twelve longest holds of each kind of work too. */
const VERBOSE = process.argv.includes('--verbose');
const SCREENED = 500;
const RECHECK_REQUESTS = 20;
const RECHECK_EACH = 50;
const GRAPH_LATENCY_MS = 50;
/** Busy: at least this many turns one at a time, over as many rounds of the work as that takes. */
const SEQUENTIAL_TURNS = 80;
const CONVERSATIONS = 10;
/** Busy: turns in the chats at once go on until the work is done, at least CONVERSATIONS x this in all. */
const CONCURRENT_TURNS_EACH = 5;
/**
 * Idle: turns go on this long, one at a time and then in the chats at once, three times (pooled). Timed, as the busy
 * turns are, rather than counted: chats that start together answer in step for their first turns, and a few turns each
 * would be mostly those.
 */
const IDLE_MS = 4000;
const MAX_WINDOWS = 10;
/** A person reads the answer before typing again: each chat waits this long between turns, idle and busy alike. */
const THINK_MS = 20;
const POLL_MS = 50;
/** One round of work that has not finished in this long is reported as stuck, and the run fails. */
const WINDOW_LIMIT_MS = 180_000;

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

// --- the database, timed ------------------------------------------------------------------

/** One call on the database: a statement on its own, or a whole transaction. */
export interface TimedOperation {
  kind: 'statement' | 'transaction';
  /** A statement's SQL; for a transaction, its statements, each once, in order. */
  sql: string;
  /** The statements run (a transaction's, in order; a statement's own). */
  statements: Array<{ sql: string; ms: number; paramChars: number; at: number }>;
  calledAt: number;
  /** When a transaction's work began (after BEGIN, with the connection held); unknown for a statement on its own. */
  startedAt?: number;
  endedAt: number;
  /** When a transaction's work resolved (its COMMIT came after). */
  workEndedAt?: number;
  /** PGlite: when it had the database to itself, from taking PGlite's lock to giving it back (watchPgliteLock). */
  held?: { from: number; to: number };
}

/** The call on the database whose work is running, for watchPgliteLock to say when it held the lock. */
const runningCall = new AsyncLocalStorage<TimedOperation>();

/**
 * PGlite runs one call at a time: each query and each transaction takes its lock
 * (`_runExclusiveTransaction`, in @electric-sql/pglite's base class; a transaction's own statements
 * run under it), and every other call queues. Wrapping that method times each call from taking
 * the lock to giving it back, which is how long it held up everyone else. False when this PGlite has
 * no such method: the holds are then derived from call and end times (below).
 */
function watchPgliteLock(): boolean {
  const prototype = PGlite.prototype as unknown as { _runExclusiveTransaction?: (work: () => Promise<unknown>) => Promise<unknown> };
  const original = prototype._runExclusiveTransaction;
  if (typeof original !== 'function') return false;
  prototype._runExclusiveTransaction = function (this: unknown, work: () => Promise<unknown>) {
    const operation = runningCall.getStore();
    return original.call(this, async () => {
      const from = performance.now();
      try {
        return await work();
      } finally {
        if (operation) operation.held = { from, to: performance.now() };
      }
    });
  };
  return true;
}
const PGLITE_LOCK_WATCHED = watchPgliteLock();

const squash = (sql: string) => sql.replace(/\s+/g, ' ').trim();
/** How much text a statement carries in: its string parameters' length (a JSON document of results counts whole). */
const paramChars = (params: readonly unknown[] | undefined) =>
  (params ?? []).reduce<number>((sum, param) => sum + (typeof param === 'string' ? param.length : Array.isArray(param) ? param.length : 0), 0);

/**
 * `db` with every call timed, as test/support/counting-database.ts counts them: a statement on its
 * own, or a transaction with each of its statements.
 */
export function timedDatabase(db: SqlDatabase): { db: SqlDatabase; operations: TimedOperation[] } {
  const operations: TimedOperation[] = [];
  const timedExecutor = (tx: SqlExecutor, into: TimedOperation['statements']): SqlExecutor => ({
    query: async (sql, params) => {
      const started = performance.now();
      try {
        return await tx.query(sql, params);
      } finally {
        into.push({ sql: squash(sql), ms: performance.now() - started, paramChars: paramChars(params), at: started });
      }
    },
  });
  return {
    operations,
    db: {
      get engine() {
        return db.engine;
      },
      query: async (sql, params) => {
        const operation: TimedOperation = { kind: 'statement', sql: squash(sql), statements: [], calledAt: performance.now(), endedAt: 0 };
        try {
          return await runningCall.run(operation, () => timedExecutor(db, operation.statements).query(sql, params));
        } finally {
          operation.endedAt = performance.now();
          operations.push(operation);
        }
      },
      transaction: async (work) => {
        const operation: TimedOperation = { kind: 'transaction', sql: '', statements: [], calledAt: performance.now(), endedAt: 0 };
        try {
          return await runningCall.run(operation, () =>
            db.transaction(async (tx) => {
              operation.startedAt = performance.now();
              try {
                return await work(timedExecutor(tx, operation.statements));
              } finally {
                operation.workEndedAt = performance.now();
              }
            }),
          );
        } finally {
          operation.endedAt = performance.now();
          operation.sql = [...new Set(operation.statements.map((statement) => statement.sql.slice(0, 60)))].join(' | ');
          operations.push(operation);
        }
      },
      exec: (script) => db.exec(script),
      close: () => db.close(),
    },
  };
}

interface Hold {
  operation: TimedOperation;
  /** How long it had the database to itself (PGlite) or its connection (PostgreSQL). */
  ms: number;
  start: number;
}

/**
 * How long each operation held the database. On PGlite, as its lock says (watchPgliteLock); without
 * that, derived: PGlite runs one call at a time, first come first served, so a statement on its own
 * began when it was called or when the call before it ended, whichever was later, and a transaction
 * holds from its BEGIN. On PostgreSQL each call has a pooled connection of its own: its time is its
 * own, from the call (a wait for a free connection included) to its answer.
 */
function holds(operations: readonly TimedOperation[], engine: SqlDatabase['engine']): Hold[] {
  const byEnd = [...operations].sort((a, b) => a.endedAt - b.endedAt);
  let previousEnd = -Infinity;
  return byEnd.map((operation) => {
    if (operation.held) {
      previousEnd = operation.endedAt;
      return { operation, ms: operation.held.to - operation.held.from, start: operation.held.from };
    }
    const start =
      operation.kind === 'transaction' && operation.startedAt !== undefined
        ? operation.startedAt
        : engine === 'pglite'
          ? Math.max(operation.calledAt, previousEnd)
          : operation.calledAt;
    previousEnd = operation.endedAt;
    return { operation, ms: operation.endedAt - start, start };
  });
}

// --- status turns ---------------------------------------------------------------------------

interface Person {
  id: string;
  name: string;
  aadObjectId: string;
}
interface Chat {
  person: Person;
  conversationId: string;
}
interface Turns {
  times: number[];
  refused: number[];
  resent: number;
}

/**
 * `status` in each chat, the chats at once, each turn sent when the last was answered: `turnsEach`
 * turns, or while `busy()` says the work is still going (at least one turn each).
 */
async function statusTurns(
  client: TeamsClient,
  endpoint: string,
  chats: readonly Chat[],
  until: { turnsEach: number } | { busy: () => boolean },
): Promise<Turns> {
  const turns: Turns = { times: [], refused: [], resent: 0 };
  // Timed, or counted: `turnsEach` is for warming up.
  await Promise.all(
    chats.map(async (chat) => {
      const status = personalMessage(chat.person, chat.conversationId, 'status');
      for (let turn = 0; 'turnsEach' in until ? turn < until.turnsEach : turn === 0 || until.busy(); turn++) {
        // A keep-alive socket the server closed as the client reused it fails before the turn reached the bot: "status"
        // only reads, so it is sent again. Counted and printed.
        const sent = await client.post(endpoint, status).catch(() => {
          turns.resent++;
          return client.post(endpoint, status);
        });
        if (sent.status === 200) turns.times.push(sent.ms);
        else turns.refused.push(sent.status);
        await pause(THINK_MS);
      }
    }),
  );
  return turns;
}

// --- the run ---------------------------------------------------------------------------------

interface Work {
  /** "screening 500 accounts" */
  label: string;
  /** Starts one round; resolves with a probe that is true once the round is over (results delivered, cards updated). */
  start(): Promise<() => Promise<boolean>>;
}

interface Window {
  turns: Turns;
  workMs: number;
  holds: Hold[];
  /** The event loop's longest stall during the window, ms. */
  stallMs: number;
  /** Garbage collection during the window: its pauses, ms. */
  gcMs: number[];
}

/**
 * Rounds of `work`, each with `status` turns in `chats` for as long as it runs, until at least
 * `minimum` turns were timed while it ran (or MAX_WINDOWS rounds).
 */
async function whileBusy(
  work: Work,
  client: TeamsClient,
  endpoint: string,
  chats: readonly Chat[],
  minimum: number,
  timed: { operations: TimedOperation[]; engine: SqlDatabase['engine'] },
): Promise<Window[]> {
  const windows: Window[] = [];
  let timedTurns = 0;
  while (timedTurns < minimum && windows.length < MAX_WINDOWS) {
    const loop = monitorEventLoopDelay({ resolution: 10 });
    const gcMs: number[] = [];
    const gc = new PerformanceObserver((list) => gcMs.push(...list.getEntries().map((entry) => entry.duration)));
    gc.observe({ entryTypes: ['gc'] });
    const firstOperation = timed.operations.length;
    loop.enable();
    const started = performance.now();
    const finished = await work.start();
    let over = false;
    let endedAt = 0;
    const watching = (async () => {
      while (!(await finished())) {
        if (performance.now() - started > WINDOW_LIMIT_MS) throw new Error(`${work.label} was not over within ${WINDOW_LIMIT_MS / 1000} s`);
        await pause(POLL_MS);
      }
      endedAt = performance.now();
      over = true;
    })();
    watching.catch(() => {
      over = true;
    });
    const turns = await statusTurns(client, endpoint, chats, { busy: () => !over });
    await watching;
    loop.disable();
    gc.disconnect();
    // What ran while the work did: every call that ended after it began and began before it was over.
    const during = holds(timed.operations.slice(firstOperation), timed.engine).filter((hold) => hold.start <= endedAt);
    windows.push({ turns, workMs: endedAt - started, holds: during, stallMs: loop.max / 1e6, gcMs });
    timedTurns += turns.times.length;
    // The workers settle (the last card updates, the leases given back) before the next round.
    await pause(300);
  }
  return windows;
}

const ms = (value: number) => `${value.toFixed(1).padStart(7)} ms`;

function describeHold(hold: Hold | undefined): string {
  if (!hold) return 'none';
  const { operation } = hold;
  if (operation.kind === 'statement') {
    const [statement] = operation.statements;
    return `${hold.ms.toFixed(1)} ms: ${operation.sql.slice(0, 110)}${statement?.paramChars ? ` (parameters ${statement.paramChars.toLocaleString('en-GB')} chars)` : ''}`;
  }
  const inStatements = operation.statements.reduce((sum, statement) => sum + statement.ms, 0);
  return `${hold.ms.toFixed(1)} ms, ${operation.statements.length} statements (${inStatements.toFixed(1)} ms in them, the rest between them): ${operation.sql.slice(0, 160)}`;
}

/** The longest single statement, alone or inside a transaction. */
function longestStatement(windows: readonly Window[]): { ms: number; sql: string; paramChars: number } | undefined {
  let longest: { ms: number; sql: string; paramChars: number } | undefined;
  for (const window of windows)
    for (const hold of window.holds) {
      const candidates =
        hold.operation.kind === 'statement'
          ? [{ ms: hold.ms, sql: hold.operation.sql, paramChars: hold.operation.statements[0]?.paramChars ?? 0 }]
          : hold.operation.statements;
      for (const candidate of candidates) if (!longest || candidate.ms > longest.ms) longest = candidate;
    }
  return longest;
}

function reportTurns(label: string, turns: Turns, idle?: Turns): void {
  const p50 = percentile(turns.times, 50);
  const p95 = percentile(turns.times, 95);
  const ratios = idle ? `   busy/idle p50 ${(p50 / percentile(idle.times, 50)).toFixed(2)}  p95 ${(p95 / percentile(idle.times, 95)).toFixed(2)}` : '';
  process.stdout.write(
    `  ${label.padEnd(46)} p50 ${ms(p50)}   p95 ${ms(p95)}   max ${ms(Math.max(...turns.times))}   (${String(turns.times.length).padStart(3)} turns)${ratios}\n`,
  );
  if (turns.refused.length > 0)
    process.stdout.write(`    ${turns.refused.length} turns not answered 200 (${[...new Set(turns.refused)].join(', ')})   <-- WRONG\n`);
  if (turns.resent > 0) process.stdout.write(`    (${turns.resent} sent again after a closed socket)\n`);
}

const pool = (runs: readonly Turns[]): Turns => ({
  times: runs.flatMap((run) => run.times),
  refused: runs.flatMap((run) => run.refused),
  resent: runs.reduce((sum, run) => sum + run.resent, 0),
});

const merged = (windows: readonly Window[]): Turns => ({
  times: windows.flatMap((window) => window.turns.times),
  refused: windows.flatMap((window) => window.turns.refused),
  resent: windows.reduce((sum, window) => sum + window.turns.resent, 0),
});

function reportBusy(work: Work, idle: { one: Turns; many: Turns }, one: Window[], many: Window[]): void {
  process.stdout.write(`\n  while ${work.label}\n`);
  reportTurns('  one at a time', merged(one), idle.one);
  reportTurns(`  ${CONVERSATIONS} chats at once`, merged(many), idle.many);
  const windows = [...one, ...many];
  process.stdout.write(`    the work took ${windows.map((window) => `${(window.workMs / 1000).toFixed(2)} s`).join(', ')} (${windows.length} rounds)\n`);
  const longest = longestStatement(windows);
  process.stdout.write(
    `    longest statement: ${longest ? `${longest.ms.toFixed(1)} ms: ${longest.sql.slice(0, 110)}${longest.paramChars ? ` (parameters ${longest.paramChars.toLocaleString('en-GB')} chars)` : ''}` : 'none'}\n`,
  );
  const transactions = windows.flatMap((window) => window.holds).filter((hold) => hold.operation.kind === 'transaction');
  const longestTransaction = transactions.sort((a, b) => b.ms - a.ms)[0];
  process.stdout.write(`    longest transaction: ${describeHold(longestTransaction)}\n`);
  if (VERBOSE && longestTransaction?.operation.workEndedAt !== undefined)
    process.stdout.write(
      `      work done at +${(longestTransaction.operation.workEndedAt - longestTransaction.start).toFixed(1)} ms, call answered at +${(longestTransaction.operation.endedAt - longestTransaction.start).toFixed(1)} ms\n`,
    );
  if (VERBOSE && longestTransaction)
    for (const statement of longestTransaction.operation.statements)
      process.stdout.write(
        `      at +${(statement.at - longestTransaction.start).toFixed(1).padStart(6)} ms  ${statement.ms.toFixed(1).padStart(6)} ms  ${statement.sql.slice(0, 110)}\n`,
      );
  const all = windows.flatMap((window) => window.holds);
  const over = (limit: number) => all.filter((hold) => hold.ms >= limit).length;
  if (VERBOSE) for (const hold of [...all].sort((a, b) => b.ms - a.ms).slice(0, 12)) process.stdout.write(`      ${describeHold(hold)}\n`);
  process.stdout.write(
    `    calls on the database: ${all.length}, of which ${over(10)} held it 10 ms or more, ${over(50)} 50 ms or more; event loop's longest stall ${Math.max(...windows.map((window) => window.stallMs)).toFixed(0)} ms; garbage collection's longest pause ${Math.max(0, ...windows.flatMap((window) => window.gcMs)).toFixed(0)} ms\n`,
  );
}

/** The run's directory: the demo people, the status requesters, the colleague's 500 accounts and the re-checked 1,000. */
async function benchDirectory(file: string, requesters: readonly Person[]) {
  const demo = await loadSandboxDirectory(file);
  const requesterGroup = demo.groups.find((group) => group.id === DEMO.requesterGroupId);
  const users = [...demo.users, ...syntheticUsers(RECHECK_REQUESTS * RECHECK_EACH), ...syntheticUsers(SCREENED, 'busy.screen', 9200)];
  for (const requester of requesters) {
    users.push({
      id: requester.aadObjectId,
      userPrincipalName: `${requester.id.slice(3)}@nhsmail.example`,
      mail: `${requester.id.slice(3)}@nhsmail.example`,
      displayName: requester.name,
      accountEnabled: true,
      jobTitle: 'Digital Services Lead',
      onPremisesExtensionAttributes: { extensionAttribute1: 'ZZ9001' },
    });
    requesterGroup?.members.push(requester.aadObjectId);
  }
  return { ...demo, users };
}

async function onEngine(
  engine: string,
  raw: SqlDatabase,
  context: {
    config: Awaited<ReturnType<typeof startMissingSandboxes>>['config'];
    dataSources: Awaited<ReturnType<typeof openDataSources>>;
    connector: FakeConnector;
    client: TeamsClient;
    requesters: Person[];
    colleague: Person;
  },
): Promise<void> {
  const { config, dataSources, connector, client, requesters, colleague } = context;
  await migrate(raw);
  const timed = timedDatabase(raw);
  const bot = await startOurBot(config, timed.db, dataSources);
  const { composed } = bot;
  try {
    process.stdout.write(`\n${engine}: "status" from a requester, idle and busy (sandbox Graph answering ${GRAPH_LATENCY_MS} ms late)\n`);
    process.stdout.write(
      raw.engine === 'pglite'
        ? `  (a call's time on the database: ${PGLITE_LOCK_WATCHED ? "from taking PGlite's lock to giving it back" : 'derived from call and end times, first come first served'})\n`
        : "  (a call's time on the database: from the call, a wait for a pooled connection included, to its answer)\n",
    );
    // The chats the bot knows: the ops channel (cards are posted and updated), the colleague's (progress and results).
    await composed.references.save(ConversationReferences.OPS_CHANNEL, {
      serviceUrl: connector.url,
      channelId: 'msteams',
      conversation: { id: DEMO.opsChannelId, conversationType: 'channel', tenantId: DEMO.tenantId } as never,
    });
    await composed.references.save(ConversationReferences.forUser(colleague.aadObjectId), {
      serviceUrl: connector.url,
      channelId: 'msteams',
      user: { id: colleague.id, name: colleague.name },
      conversation: { id: `a:busy-colleague`, conversationType: 'personal', tenantId: DEMO.tenantId } as never,
    });
    // Each requester has two requests of their own for "status" to list.
    for (const requester of requesters)
      for (let index = 0; index < 2; index++)
        await composed.requests.submit({
          ...requestDetails({ id: requester.aadObjectId, name: requester.name }),
          draftId: randomUUID(),
          accounts: [screenedAccount(1, `own.${requester.aadObjectId.slice(-6)}.${index}@nhsmail.example`, 'eligible')],
        });
    // The colleague's open requests: 1,000 accounts the daily round screens again, each at the site the directory gave
    // when it was screened (as a submitted list is stored), so the sites' counts have rows to count.
    for (let request = 0; request < RECHECK_REQUESTS; request++)
      await composed.requests.submit({
        ...requestDetails({ id: colleague.aadObjectId, name: colleague.name }),
        draftId: randomUUID(),
        accounts: Array.from({ length: RECHECK_EACH }, (_, index) => {
          const account = submitted(request * RECHECK_EACH + index);
          const siteOds = SITES[(request * RECHECK_EACH + index) % SITES.length]!;
          return { ...account, siteOds, evidence: { ...account.evidence, siteOds, siteSource: 'directory' as const } };
        }),
      });
    await composed.settle();

    const chats = requesters.map((person) => ({ person, conversationId: `a:busy-${randomUUID()}` }));
    const [priya] = chats;
    // Each chat's first turn stores its reference and starts the directory look-up: the measured turns are later ones.
    for (const chat of chats) await client.post(bot.endpoint, personalMessage(chat.person, chat.conversationId, 'status'));
    await composed.settle();
    const idle = async () => {
      await statusTurns(client, bot.endpoint, [priya!], { turnsEach: 10 }); // warm-up
      const forIdleWhile = () => {
        const started = performance.now();
        return { busy: () => performance.now() - started < IDLE_MS };
      };
      return {
        one: await statusTurns(client, bot.endpoint, [priya!], forIdleWhile()),
        many: await statusTurns(client, bot.endpoint, chats.slice(0, CONVERSATIONS), forIdleWhile()),
      };
    };

    // (a) The colleague pastes 500 accounts: the transfer dialog's screen step queues the job (ScreeningRequests, as
    // composeBot wires it: the screening worker and the delivery of its results are woken), and records its "Checking…"
    // message, which the runner updates with progress.
    const screeningRequests = new ScreeningRequests(composed.jobs, () => {
      composed.screenings.wake();
      composed.deliveries.wake();
    });
    const list = Array.from({ length: SCREENED }, (_, index) => `busy.screen.${index}@nhsmail.example, ${SITES[index % SITES.length]}`).join('\n');
    const entries = parseAccountList(list).entries;
    if (entries.length !== SCREENED) throw new Error(`the list parsed to ${entries.length} accounts, not ${SCREENED}`);
    let round = 0;
    const screening: Work = {
      label: `a colleague's ${SCREENED}-account list is screened (queued to results delivered)`,
      async start() {
        const job = await screeningRequests.start({
          id: `${randomUUID()}:1`,
          ownerId: colleague.aadObjectId,
          organisationOds: 'ZZ9001',
          organisationName: 'Northmoor Community Care Partnership',
          entries,
        });
        await screeningRequests.recordProgressMessage(job.id, `busy-progress-${++round}`);
        return async () => {
          const [row] = await raw.query<{ status: string; delivery: string | null }>(
            `SELECT j.status, (SELECT o.status FROM outbox o WHERE o.kind = 'screening.results' AND o.payload ->> 'jobId' = j.id) AS delivery
             FROM screening_jobs j WHERE j.id = $1`,
            [job.id],
          );
          if (row?.status === 'failed') throw new Error('the screening job failed');
          return row?.status === 'done' && row.delivery !== null && row.delivery !== 'pending';
        };
      },
    };

    // (b) The daily round: the check sweep owes every open request its re-check (on a weekend or bank holiday the daily
    // trigger waits for a working day, so the same work is owed as a reviewer's claim owes it).
    const today = londonDate(new Date());
    const weekday = new Date(`${today}T12:00:00Z`).getUTCDay();
    const workingDay = weekday !== 0 && weekday !== 6 && !composed.holidays.has(today);
    const recheck: Work = {
      label: `the daily re-check round of ${(RECHECK_REQUESTS * RECHECK_EACH).toLocaleString('en-GB')} accounts in ${RECHECK_REQUESTS} requests (to cards updated)`,
      async start() {
        const [{ now } = { now: new Date() }] = await raw.query<{ now: Date }>('SELECT now() AS now');
        // The last round's checks are due tomorrow: the bench owes the round again now, as the next day's sweep would.
        await raw.query(`DELETE FROM request_checks WHERE kind = 'recheck'`);
        if (workingDay) await composed.rechecks.sweep();
        else {
          await raw.query(
            `INSERT INTO request_checks (request_id, kind, trigger) SELECT id, 'recheck', 'claim' FROM transfer_requests WHERE status IN ('submitted', 'under_review')`,
          );
          composed.checks.wake();
        }
        return async () => {
          const [row] = await raw.query<{ owed: number; pending: number }>(
            `SELECT (SELECT count(*)::int FROM request_checks WHERE kind = 'recheck' AND (last_run_at IS NULL OR last_run_at < $1)) AS owed,
                    (SELECT count(*)::int FROM outbox WHERE status = 'pending' AND due_at <= now()) AS pending`,
            [now],
          );
          return row?.owed === 0 && row.pending === 0;
        };
      },
    };

    const engineName = raw.engine;
    // Idle three times, before, between and after the two kinds of work, pooled: one idle moment on a shared machine can
    // be anything, and each ratio is over all three.
    const idles = [await idle()];
    // The same turns one at a time and from many chats at once, while `work` runs each time; then the work settles.
    const busyBoth = async (work: Parameters<typeof whileBusy>[0]) => {
      const during = { operations: timed.operations, engine: engineName };
      const one = await whileBusy(work, client, bot.endpoint, [priya!], SEQUENTIAL_TURNS, during);
      const many = await whileBusy(work, client, bot.endpoint, chats.slice(0, CONVERSATIONS), CONVERSATIONS * CONCURRENT_TURNS_EACH, during);
      await composed.settle();
      return { one, many };
    };
    const screeningTurns = await busyBoth(screening);
    idles.push(await idle());
    const recheckTurns = await busyBoth(recheck);
    idles.push(await idle());

    const pooled = { one: pool(idles.map((slot) => slot.one)), many: pool(idles.map((slot) => slot.many)) };
    const slots = (pick: (slot: { one: Turns; many: Turns }) => Turns) =>
      `(p95 before, between, after: ${idles.map((slot) => percentile(pick(slot).times, 95).toFixed(0)).join(', ')} ms)`;
    process.stdout.write('  idle, before, between and after the work\n');
    reportTurns('  one at a time', pooled.one);
    process.stdout.write(`      ${slots((slot) => slot.one)}\n`);
    reportTurns(`  ${CONVERSATIONS} chats at once`, pooled.many);
    process.stdout.write(`      ${slots((slot) => slot.many)}\n`);
    reportBusy(screening, pooled, screeningTurns.one, screeningTurns.many);
    if (!workingDay) process.stdout.write(`\n  (today, ${today}, is not a working day: the round is owed as a claim owes it, the same work)`);
    reportBusy(recheck, pooled, recheckTurns.one, recheckTurns.many);
    const [changed] = await raw.query<{ count: number }>(`SELECT count(*)::int AS count FROM request_accounts WHERE change_summary IS NOT NULL`);
    process.stdout.write(`    (accounts changed since submission after the rounds: ${changed?.count ?? 0})\n`);
  } finally {
    await bot.close();
    timed.operations.length = 0;
  }
}

async function main(): Promise<void> {
  const requesters: Person[] = [
    PEOPLE.priya,
    ...Array.from({ length: CONVERSATIONS - 1 }, (_, index) => ({
      id: `29:busy.pla.${index}`,
      name: `Busy Requester ${index}`,
      aadObjectId: `6e6d7300-0000-4000-9300-${String(index).padStart(12, '0')}`,
    })),
  ];
  const colleague: Person = { id: '29:busy.colleague', name: 'Busy Colleague', aadObjectId: '6e6d7300-0000-4000-9300-000000000999' };
  const base = loadConfig({ LOG_LEVEL: 'silent', PORT: '0' });
  const graph = await startSandboxGraph(await benchDirectory(base.graph.sandboxDataFile, requesters));
  graph.respondAfter(GRAPH_LATENCY_MS);
  // The turns' replies count against the tenant's sends a second (Teams' limit, which the bot paces its own sends by):
  // hundreds of "status" a second would hold back the results and card updates, which is Teams pacing, not the database.
  const sandboxed = await startMissingSandboxes(
    loadConfig({ LOG_LEVEL: 'silent', PORT: '0', GRAPH_BASE_URL: graph.url, TEAMS_TENANT_LIMITS: '1:100000' }),
    silentLogger,
  );
  const dataSources = await openDataSources(sandboxed.config);
  const connector = await startFakeConnector();
  const client = new TeamsClient(connector.url);
  const context = { config: sandboxed.config, dataSources, connector, client, requesters, colleague };
  try {
    if (ONLY !== 'postgres') {
      // In a data folder, as the bot keeps it (PGLITE_DATA_DIR, .data/pglite by default): an in-memory PGlite grows its
      // files in memory, at a cost of its own that the bot does not pay.
      const dataDir = await mkdtemp(path.join(tmpdir(), 'nas-busy-pglite-'));
      const pglite = await openPglite(dataDir);
      try {
        await onEngine('PGlite (embedded, in a data folder)', pglite, context);
      } finally {
        await pglite.close();
        await rm(dataDir, { recursive: true, force: true });
      }
    }
    if (ONLY === 'pglite') return;
    const postgres = await freshPostgresSchema().catch(() => undefined);
    if (!postgres) process.stdout.write(`\n(PostgreSQL at ${POSTGRES_URL} not reachable: not measured on PostgreSQL)\n`);
    else {
      const db = await openPostgres(postgres.url);
      try {
        await onEngine('PostgreSQL', db, context);
      } finally {
        await db.close();
        await postgres.drop();
      }
    }
  } finally {
    await connector.close();
    await sandboxed.close();
    await graph.close();
  }
}

if (require.main === module) {
  main().then(
    () => process.exit(0),
    (error: unknown) => {
      process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
      process.exit(1);
    },
  );
}
