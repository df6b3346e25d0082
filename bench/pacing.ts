import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { randomUUID } from 'node:crypto';
import { CloudAdapter, ConfigurationBotFrameworkAuthentication, type ConversationReference } from 'botbuilder';
import { ConnectorMessenger } from '../bot/messaging/messenger';
import { OutboxWorker, DEFAULT_DELIVERY_POLICY } from '../bot/messaging/outbox-worker';
import { owedMessageRenderers } from '../bot/messaging/owed-messages';
import { ConversationReferences } from '../bot/state/conversation-references';
import { ConversationReferenceRecords } from '../services/store/conversation-references';
import { DeliveryRecords } from '../services/outbox/delivery-records';
import { DEMO } from '../config';
import { silentLogger } from '../core/log';
import { PollingWorker } from '../services/polling-worker';
import { TEAMS_DOCUMENTED_LIMITS } from '../services/outbox/send-pacing';
import { TransferRequests } from '../services/requests/transfer-requests';
import { openPostgres, type SqlDatabase } from '../services/store/database';
import { migrate } from '../services/store/migrate';
import { Outbox } from '../services/store/outbox';
import { RequestRepository } from '../services/store/requests';
import { ScreeningJobs } from '../services/store/screening-jobs';
import { SqlSendBudget } from '../services/store/send-budget';
import { freshPostgresSchema } from '../test/support/databases';
import { requestDetails, screenedAccount } from '../test/support/fixtures';
import { leastTimeMs, RollingLimits } from '../test/support/teams-rate-limits';

/**
 * `npm run bench` (pacing): the backlog the ops channel accumulates while it is unreachable,
 * delivered by two bot instances (two outbox workers, each with its own adapter and database
 * pool, one PostgreSQL database) to a loopback Bot Connector that enforces Microsoft's
 * documented limits (services/outbox/send-pacing.ts) and answers 429 past them, counting every
 * request it receives. Prints the drain time beside the least time the limits allow for the
 * requests made, the 429s, posts per card and whether every update came after its post.
 */
const REQUESTS = 100;
/** Every WITHDRAWN_EVERY-th request is withdrawn while the channel is out (its card is posted showing it)... */
const WITHDRAWN_EVERY = 4;
/** ...and this many more as soon as the channel is back, while the backlog drains (their cards may need an update). */
const WITHDRAWN_DURING_DRAIN = 6;
const TARGET_RATIO = 1.15;
/** The second phase (issue 23, "Also"): the channel down (503) this long while OUTAGE_CARDS requests are submitted, then back (both configurable). */
const OUTAGE_SECONDS = Number(process.env.PACING_OUTAGE_SECONDS ?? 60);
const OUTAGE_CARDS = Number(process.env.PACING_OUTAGE_CARDS ?? 40);
const TENANT = DEMO.tenantId;

interface Call {
  method: 'POST' | 'PUT';
  conversationId: string;
  /** The id given (POST) or updated (PUT) when accepted. */
  activityId?: string;
  status: number;
  at: number;
  content: string;
}

/** The Teams side we do not own: the Bot Connector's send and update routes, throttling as documented. */
async function startThrottlingConnector(opsChannelId: string) {
  const teams = new RollingLimits(TEAMS_DOCUMENTED_LIMITS);
  const calls: Call[] = [];
  /** The ops channel refuses the bot (403: removed), is down (503: the service failing), or answers. */
  let channel: 'refusing' | 'down' | 'up' = 'refusing';
  let nextId = 1;
  const route = /^\/v3\/conversations\/([^/]+)\/activities(?:\/([^/]+))?\/?$/;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const at = performance.now();
      const match = route.exec(new URL(req.url ?? '/', 'http://connector').pathname);
      if (!match || (req.method !== 'POST' && req.method !== 'PUT')) {
        res.writeHead(404).end();
        return;
      }
      const conversationId = decodeURIComponent(match[1]!);
      const method = req.method;
      const within = teams.admit({ conversation: conversationId, tenant: TENANT }, at);
      const toChannel = conversationId.split(';')[0] === opsChannelId;
      const status = !within ? 429 : toChannel && channel === 'refusing' ? 403 : toChannel && channel === 'down' ? 503 : 200;
      const activityId = status !== 200 ? undefined : method === 'PUT' ? decodeURIComponent(match[2] ?? '') : `bench-activity-${nextId++}`;
      calls.push({ method, conversationId, activityId, status, at, content: Buffer.concat(chunks).toString('utf8') });
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (status === 429) headers['retry-after'] = '1';
      res
        .writeHead(status, headers)
        .end(
          JSON.stringify(
            status === 200
              ? { id: activityId }
              : { error: { code: status === 429 ? 'TooManyRequests' : status === 503 ? 'ServiceUnavailable' : 'Forbidden', message: 'refused' } },
          ),
        );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    calls,
    bringChannelBack() {
      channel = 'up';
    },
    takeChannelDown() {
      channel = 'down';
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** One bot instance's delivery side, as app.ts wires it: its own pool, adapter, send budget and polling worker. */
function startInstance(db: SqlDatabase) {
  const adapter = new CloudAdapter(new ConfigurationBotFrameworkAuthentication({}));
  const outbox = new Outbox(db);
  const worker = new OutboxWorker(
    new DeliveryRecords(outbox, new RequestRepository(db), new ScreeningJobs(db)),
    new ConversationReferences(new ConversationReferenceRecords(db)),
    new ConnectorMessenger(adapter, ''),
    owedMessageRenderers,
    async () => [],
    silentLogger,
    DEFAULT_DELIVERY_POLICY,
    new SqlSendBudget(db, TEAMS_DOCUMENTED_LIMITS),
  );
  const polling = new PollingWorker('outbox', () => worker.deliverDue(), 1000, silentLogger);
  polling.start();
  return {
    outbox,
    polling,
    async stop() {
      worker.stop();
      await polling.stop();
    },
  };
}

async function waitUntil(condition: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const started = performance.now();
  while (!(await condition())) {
    if (performance.now() - started > timeoutMs) throw new Error(`Timed out waiting for ${what}.`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function main(): Promise<void> {
  const schema = await freshPostgresSchema();
  const dbs = [await openPostgres(schema.url), await openPostgres(schema.url)] as const;
  const connector = await startThrottlingConnector(DEMO.opsChannelId);
  const instances: Array<ReturnType<typeof startInstance>> = [];
  try {
    await migrate(dbs[0]);
    const references = new ConversationReferences(new ConversationReferenceRecords(dbs[0]));
    const opsReference: Partial<ConversationReference> = {
      serviceUrl: connector.url,
      channelId: 'msteams',
      conversation: { id: DEMO.opsChannelId, conversationType: 'channel', tenantId: TENANT, isGroup: true, name: 'Transfer Requests' },
    };
    await references.save(ConversationReferences.OPS_CHANNEL, opsReference);
    instances.push(startInstance(dbs[0]), startInstance(dbs[1]));
    const requests = new TransferRequests(
      dbs[0],
      { workQueued: () => instances.forEach((instance) => instance.polling.wake()), checksQueued: () => undefined },
      silentLogger,
    );

    process.stdout.write(
      `Pacing: ${REQUESTS} requests submitted while the ops channel refuses the bot (403), every ${WITHDRAWN_EVERY}th withdrawn, then the channel back;\n`,
    );
    process.stdout.write(
      `two instances deliver to a loopback connector enforcing ${TEAMS_DOCUMENTED_LIMITS.conversation.map((w) => `${w.sends}/${w.seconds} s`).join(', ')} per conversation, ${TEAMS_DOCUMENTED_LIMITS.tenant.map((w) => `${w.sends}/${w.seconds} s`).join(', ')} per tenant\n`,
    );
    const submitted: Array<{ id: number; requester: { id: string; name: string } }> = [];
    for (let index = 0; index < REQUESTS; index++) {
      // Requesters whose chats the bot does not know: what is owed to them waits, and only the channel's backlog is measured.
      const requester = { id: randomUUID(), name: `Requester ${index}` };
      const { request } = await requests.submit({
        ...requestDetails(requester),
        draftId: randomUUID(),
        accounts: [screenedAccount(1, `pacing.${index}@nhsmail.example`, 'eligible')],
      });
      submitted.push({ id: request.id, requester });
      if (index % WITHDRAWN_EVERY === WITHDRAWN_EVERY - 1) await requests.withdraw(request.id, requester);
    }
    const waitingForChannel = async () =>
      (
        await dbs[0].query<{ count: number }>(
          `SELECT count(*)::int AS count FROM outbox WHERE kind = 'ops.post' AND status = 'pending' AND last_error = 'OPS_CHANNEL_UNREACHABLE'`,
        )
      )[0]!.count;
    await waitUntil(async () => (await waitingForChannel()) === REQUESTS, 60_000, 'every card to wait for the channel');

    // The channel is back (the bot added again), as the reference capture middleware sees it.
    connector.bringChannelBack();
    const backAt = performance.now();
    await references.save(ConversationReferences.OPS_CHANNEL, opsReference, true);
    await instances[0]!.outbox.nudgeOpsChannel();
    instances.forEach((instance) => instance.polling.wake());
    const stillOpen = submitted.filter((_, index) => index % WITHDRAWN_EVERY !== WITHDRAWN_EVERY - 1);
    for (const { id, requester } of stillOpen.slice(-WITHDRAWN_DURING_DRAIN)) await requests.withdraw(id, requester);

    const owedToChannel = async () =>
      (await dbs[0].query<{ count: number }>(`SELECT count(*)::int AS count FROM outbox WHERE kind IN ('ops.post', 'ops.update') AND status = 'pending'`))[0]!
        .count;
    await waitUntil(async () => (await owedToChannel()) === 0, 300_000, 'the backlog to drain');

    const toChannel = connector.calls.filter((call) => call.at >= backAt && call.conversationId.split(';')[0] === DEMO.opsChannelId);
    const drainMs = Math.max(...toChannel.map((call) => call.at)) - backAt;
    const leastMs = leastTimeMs(toChannel.length, TEAMS_DOCUMENTED_LIMITS.conversation);
    const throttled = connector.calls.filter((call) => call.status === 429).length;

    // Each card: one accepted post, its id recorded on the request; every accepted update after that post; the last content sent is the state now.
    const rows = await dbs[0].query<{ id: number; ops_activity_id: string | null; status: string }>(
      'SELECT id, ops_activity_id, status FROM transfer_requests ORDER BY id',
    );
    const posts = toChannel.filter((call) => call.method === 'POST' && call.status === 200);
    const updates = toChannel.filter((call) => call.method === 'PUT' && call.status === 200);
    const problems: string[] = [];
    for (const row of rows) {
      const post = posts.filter((call) => call.activityId === row.ops_activity_id);
      if (!row.ops_activity_id || post.length !== 1) problems.push(`request ${row.id}: ${post.length} posts`);
      const cardUpdates = updates.filter((call) => call.activityId === row.ops_activity_id);
      if (post[0] && cardUpdates.some((update) => update.at < post[0]!.at)) problems.push(`request ${row.id}: an update before its post`);
      const last = [...post, ...cardUpdates].sort((a, b) => a.at - b.at).pop();
      const showsWithdrawn = last !== undefined && /withdrawn/i.test(last.content);
      if (row.status === 'withdrawn' && !showsWithdrawn) problems.push(`request ${row.id}: withdrawn, but its card as last sent does not say so`);
    }
    if (posts.length !== REQUESTS) problems.push(`${posts.length} cards posted for ${REQUESTS} requests`);
    const withdrawn = rows.filter((row) => row.status === 'withdrawn').length;
    const skipped = (
      await dbs[0].query<{ count: number }>(`SELECT count(*)::int AS count FROM outbox WHERE kind = 'ops.update' AND last_error = 'COVERED_BY_POST'`)
    )[0]!.count;

    const ratio = drainMs / leastMs;
    process.stdout.write(
      `  requests to the channel after it came back       ${toChannel.length} (${posts.length} posts, ${updates.length} updates; ${skipped} updates covered by the post)\n`,
    );
    process.stdout.write(`  drain time                                        ${(drainMs / 1000).toFixed(1)} s\n`);
    process.stdout.write(`  least time the limits allow for those requests    ${(leastMs / 1000).toFixed(1)} s\n`);
    process.stdout.write(`  ratio                                             ${ratio.toFixed(3)} (target <= ${TARGET_RATIO})\n`);
    process.stdout.write(`  answers of 429 (all requests, both phases)        ${throttled} (target 0)\n`);
    process.stdout.write(
      `  posts per card                                    ${problems.some((p) => p.includes('posts')) ? 'NOT 1 for every card' : '1 for every card'} (${withdrawn} withdrawn)\n`,
    );
    process.stdout.write(`  every update after its post, last content current ${problems.length === 0 ? 'yes' : 'NO'}\n`);
    for (const problem of problems.slice(0, 10)) process.stdout.write(`    ${problem}\n`);
    if (ratio > TARGET_RATIO || throttled > 0 || problems.length > 0) process.exitCode = 1;

    await outageDrain(connector, requests, dbs[0]);
  } finally {
    for (const instance of instances) await instance.stop();
    await connector.close();
    for (const db of dbs) await db.close();
    await schema.drop();
  }
}

/**
 * The backlog an outage leaves: the channel answers 503 for OUTAGE_SECONDS while OUTAGE_CARDS
 * requests are submitted (each card retried with back-off meanwhile), then answers again. Nothing
 * tells the bot it is back but the next retry that gets through; the drain is timed from the
 * moment it is back to the last request to the channel, beside the least time the windows allow.
 */
async function outageDrain(connector: Awaited<ReturnType<typeof startThrottlingConnector>>, requests: TransferRequests, db: SqlDatabase): Promise<void> {
  process.stdout.write(`Outage: ${OUTAGE_CARDS} requests submitted while the ops channel answers 503 for ${OUTAGE_SECONDS} s, then back\n`);
  connector.takeChannelDown();
  const downAt = performance.now();
  for (let index = 0; index < OUTAGE_CARDS; index++) {
    const requester = { id: randomUUID(), name: `Outage requester ${index}` };
    await requests.submit({
      ...requestDetails(requester),
      draftId: randomUUID(),
      accounts: [screenedAccount(1, `outage.${index}@nhsmail.example`, 'eligible')],
    });
  }
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, OUTAGE_SECONDS * 1000 - (performance.now() - downAt))));
  connector.bringChannelBack();
  const backAt = performance.now();
  const throttledBefore = connector.calls.filter((call) => call.status === 429).length;
  const owed = async () =>
    (await db.query<{ count: number }>(`SELECT count(*)::int AS count FROM outbox WHERE kind IN ('ops.post', 'ops.update') AND status = 'pending'`))[0]!.count;
  await waitUntil(async () => (await owed()) === 0, 600_000, 'the outage backlog to drain');
  const toChannel = connector.calls.filter((call) => call.at >= backAt && call.conversationId.split(';')[0] === DEMO.opsChannelId);
  const refusedWhileDown = connector.calls.filter((call) => call.at >= downAt && call.at < backAt && call.status === 503).length;
  const drainMs = Math.max(...toChannel.map((call) => call.at)) - backAt;
  // The requests made while it was down still fill Teams' windows when it is back: the least time counts them.
  const earlier = connector.calls.filter((call) => call.at < backAt && call.conversationId.split(';')[0] === DEMO.opsChannelId).map((call) => call.at - backAt);
  const leastMs = leastTimeMs(toChannel.length, TEAMS_DOCUMENTED_LIMITS.conversation, earlier);
  const freshMs = leastTimeMs(toChannel.length, TEAMS_DOCUMENTED_LIMITS.conversation);
  const throttled = connector.calls.filter((call) => call.status === 429).length - throttledBefore;
  const ratio = drainMs / leastMs;
  if (process.env.PACING_TIMELINE)
    process.stdout.write(`${toChannel.map((call) => `${call.method}${call.status}@${((call.at - backAt) / 1000).toFixed(1)}`).join(' ')}\n`);
  process.stdout.write(`  503s answered while down                          ${refusedWhileDown}\n`);
  process.stdout.write(`  requests to the channel after it came back       ${toChannel.length}\n`);
  process.stdout.write(`  drain time                                        ${(drainMs / 1000).toFixed(1)} s\n`);
  process.stdout.write(
    `  least time the limits allow for those requests    ${(leastMs / 1000).toFixed(1)} s (counting the requests made while down; ${(freshMs / 1000).toFixed(1)} s from empty windows)\n`,
  );
  process.stdout.write(
    `  ratio                                             ${ratio.toFixed(3)} (target <= ${TARGET_RATIO}; ${(drainMs / freshMs).toFixed(3)} against empty windows)\n`,
  );
  process.stdout.write(`  answers of 429                                    ${throttled} (target 0)\n`);
  if (ratio > TARGET_RATIO || throttled > 0) process.exitCode = 1;
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
