import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { findOffered, teamsActionData, type Card } from '../support/card-actions';
import { postgresServerBinaries, startThrowawayPostgres, type ThrowawayPostgres } from '../support/databases';
import { activityText, startFakeConnector, type FakeConnector, inChat, opsPostsOf } from '../support/fake-connector';
import { startBotProcess, type BotProcess, freePort } from '../support/processes';
import { TeamsClient } from '../support/teams-client';

/**
 * The database goes away under a running bot (a failover, a restart): a PostgreSQL cluster of
 * the test's own, stopped with pg_ctl stop -m fast (every connection ended with 57P01, new ones
 * refused) and started again. The real bot process, driven over the Bot Framework protocol with
 * a loopback Bot Connector, must stay up, tell people "briefly unavailable" at once, say so on
 * /readyz, and carry on when the database is back, with nothing lost or done twice, and
 * without writing the connection's details or a stack trace to its log.
 */
const ALL_TICKED = { usersInformed: 'true', residualDataRemoved: 'true', notMarkedAsLeavers: 'true', resolutionForIneligible: 'true' };
/** Names the log must never show: the cluster's superuser and database are ours, so any trace of them is a leak. */
const NAMES = { user: 'nas_outage_owner', database: 'nas_outage_db' };
const BRIEFLY_UNAVAILABLE = 'The service is briefly unavailable. Nothing was lost; please try again in a minute.';

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('a database outage under the running bot (real bot process, a PostgreSQL cluster of its own stopped and started)', function () {
  this.timeout(90_000);
  let cluster: ThrowawayPostgres | undefined;
  let connector: FakeConnector | undefined;
  let bot: BotProcess | undefined;
  let client: TeamsClient;

  const count = async (sql: string): Promise<number> => {
    const connection = new pg.Client({ connectionString: cluster!.url });
    await connection.connect();
    try {
      return Number((await connection.query<{ count: string }>(sql)).rows[0]?.count);
    } finally {
      await connection.end();
    }
  };
  const status = async (path: string): Promise<number | 'down'> =>
    fetch(`${bot!.baseUrl}${path}`).then(
      (response) => response.status,
      () => 'down' as const,
    );

  /** The form, turn by turn, through the screening results to the confirmations card, whose button is the Submit. */
  async function toSubmit(chatId: string, accounts: string[]): Promise<void> {
    const turns: Array<string | Record<string, unknown>> = [
      'new transfer',
      'yes',
      'Our sponsorship of these sites ends in March.',
      { step: 'accounts', accounts: accounts.join('\n') },
    ];
    for (const [index, content] of turns.entries()) {
      const sent = await client.message(bot!.endpoint, 'priya', chatId, content);
      assert.equal(sent.status, 200, `turn ${index + 1} was taken`);
    }
    await connector!.waitFor(inChat(chatId, 'Screening results'), 30_000);
    assert.equal((await client.message(bot!.endpoint, 'priya', chatId, { step: 'submit' })).status, 200);
    await connector!.waitFor(inChat(chatId, 'Before you submit'), 15_000);
  }
  const submit = (chatId: string) => client.message(bot!.endpoint, 'priya', chatId, { step: 'attestations', ...ALL_TICKED });

  async function referenceAfterSubmit(chatId: string): Promise<string> {
    const answer = await connector!.waitFor(inChat(chatId, 'Your reference is'), 15_000);
    return /NTR-\d+/.exec(activityText(answer))![0];
  }

  before(async function () {
    if (!postgresServerBinaries()) {
      if (process.env.CI === 'true')
        throw new Error('CI needs the PostgreSQL server binaries (/usr/lib/postgresql/*/bin: apt-get install postgresql) for the database outage test.');
      process.stderr.write('  (skipped: the PostgreSQL server binaries, /usr/lib/postgresql/*/bin/initdb and pg_ctl, are not installed on this machine)\n');
      this.skip();
    }
    cluster = await startThrowawayPostgres(NAMES);
    connector = await startFakeConnector();
    client = new TeamsClient(connector.url);
    bot = await startBotProcess({ PORT: String(await freePort()), DATABASE_URL: cluster.url, LOG_LEVEL: 'info', APP_ENV: 'development', MicrosoftAppId: '' });
    assert.equal((await client.opsChannelInstalled(bot.endpoint)).status, 200);
  });
  afterEach(function () {
    // The bot's own log (structured, personal data removed) says why, when a step did not come.
    if (this.currentTest?.state === 'failed' && bot)
      process.stderr.write(`  the bot's log, last 40 lines:\n${bot.output().split('\n').slice(-40).join('\n')}\n`);
  });
  after(async () => {
    await bot?.stop();
    await connector?.close();
    await cluster?.destroy();
  });

  it('stays up, answers "briefly unavailable" (503 to a card action), is not ready, then resumes without a restart: one request, one card, one decision, and a clean log', async () => {
    // Before the outage: one request on the ops card, and a second requester at the results, about to press Submit.
    const firstChat = `a:priya-${randomUUID()}`;
    await toSubmit(firstChat, ['amara.mensah@nhsmail.example, ZZ9101', 'esme.flint@nhsmail.example', 'kezia.morrow@nhsmail.example']);
    await submit(firstChat);
    const first = await referenceAfterSubmit(firstChat);
    const posted = await connector!.waitFor((call) => opsPostsOf(connector!, first).includes(call), 20_000);
    const firstId = await count(`SELECT id AS count FROM transfer_requests WHERE reference = '${first}'`);
    // NAS Operations press the button the posted card shows, as Teams sends it.
    const approveAll = findOffered(posted.activity.attachments![0]!.content as Card, { verb: 'approveEligible' });
    const approve = () => client.invoke(bot!.endpoint, 'tom', approveAll.verb, teamsActionData(approveAll));
    const secondChat = `a:priya-${randomUUID()}`;
    await toSubmit(secondChat, ['ben.hollis@nhsmail.example', 'quentin.ashe@nhsmail.example']);
    assert.equal(await status('/readyz'), 200, 'ready before the outage');

    await cluster!.stop();
    // The pool's idle connections were just ended by the server; the workers keep ticking against a refused port.
    await pause(1500);
    assert.equal(await status('/healthz'), 200, 'the process is still up after the server ended its connections');

    const submitDuringOutage = await submit(secondChat);
    assert.equal(submitDuringOutage.status, 200);
    assert.ok(submitDuringOutage.ms < 5000, `Submit answered in ${Math.round(submitDuringOutage.ms)} ms`);
    const told = await connector!.waitFor(inChat(secondChat, 'briefly unavailable'), 5000);
    assert.equal(told.activity.text, BRIEFLY_UNAVAILABLE, 'the catalogue text, nothing of the failure');

    const approvalDuringOutage = await approve();
    assert.equal(approvalDuringOutage.status, 200, 'Universal Actions: the error is in the body');
    assert.ok(approvalDuringOutage.ms < 5000, `the approval answered in ${Math.round(approvalDuringOutage.ms)} ms`);
    assert.deepEqual(approvalDuringOutage.body, {
      statusCode: 503,
      type: 'application/vnd.microsoft.error',
      value: { code: 'SERVICE_BRIEFLY_UNAVAILABLE', message: BRIEFLY_UNAVAILABLE },
    });
    assert.equal(await status('/readyz'), 503, 'not ready while the database is away');

    // Long enough for every worker to fail several ticks in a row (and back off), then the database comes back.
    await pause(4000);
    assert.equal(await status('/healthz'), 200, 'still up at the end of the outage');
    await cluster!.start();

    // The first turn after recovery: the retried Submit makes one request, posted once.
    const submitAgain = await submit(secondChat);
    assert.equal(submitAgain.status, 200);
    const second = await referenceAfterSubmit(secondChat);
    assert.notEqual(second, first);
    await connector!.waitFor((call) => opsPostsOf(connector!, second).includes(call), 30_000);
    assert.equal(await status('/readyz'), 200, 'ready again');

    const approvalAgain = await approve();
    assert.equal(approvalAgain.status, 200);
    assert.match(JSON.stringify(approvalAgain.body), /"statusCode":200/);
    assert.match(JSON.stringify(approvalAgain.body), /Approved by Tom Ashdown/);

    await pause(2500);
    assert.equal(await count('SELECT count(*) FROM transfer_requests'), 2, 'two requests: the one before the outage and the Submit retried after it');
    assert.equal(opsPostsOf(connector!, second).length, 1, 'the retried Submit’s card was posted once');
    assert.equal(opsPostsOf(connector!, first).length, 1, 'the first card was not posted again');
    assert.equal(await count(`SELECT count(*) FROM audit_events WHERE request_id = ${firstId} AND action = 'request.approved_eligible'`), 1, 'one approval');
    assert.equal(
      await count(`SELECT count(*) FROM request_accounts WHERE request_id = ${firstId} AND decision = 'approved'`),
      await count(`SELECT count(*) FROM request_accounts WHERE request_id = ${firstId} AND verdict = 'eligible'`),
      'each eligible account approved, once',
    );

    const log = bot!.output();
    // Node's own deprecation notices (restify) are the only lines that are not ours.
    const lines = log.split('\n').filter((line) => line && !/^\(node:\d+\) \[DEP\d+\]|^\(Use `node --trace-deprecation/.test(line));
    assert.ok(
      lines.every((line) => line.startsWith('{')),
      `every line is a structured log line, nothing printed around them:\n${lines
        .filter((line) => !line.startsWith('{'))
        .slice(0, 10)
        .join('\n')}`,
    );
    assert.doesNotMatch(log, /\bat .+:\d+:\d+\)?$/m, 'no stack trace');
    assert.doesNotMatch(log, new RegExp(`${NAMES.user}|${NAMES.database}`), 'neither the database user nor the database name');
    assert.doesNotMatch(log, /"(user|password|connectionString|client|_connected|connectionParameters)"/, 'nothing of the pg client');
    const events = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    const unavailable = events.filter((event) => event.event === 'database.unavailable');
    assert.equal(unavailable.length, 1, 'the outage is logged once');
    // Whichever noticed the outage first (a turn or a worker tick) decides whether it carries a turn's correlationId; both are right.
    assert.deepEqual(
      Object.keys(unavailable[0]!)
        .filter((key) => !['level', 'time', 'pid', 'event', 'correlationId'].includes(key))
        .sort(),
      ['errorCode', 'host'],
    );
    assert.equal(unavailable[0]!.host, '127.0.0.1');
    assert.equal(unavailable[0]!.level, 'warn');
    assert.equal(events.filter((event) => event.event === 'database.available').length, 1, 'and its end once');
    const paused = events.filter((event) => event.event === 'outbox.paused');
    assert.equal(paused.length, 1, 'the outbox worker says once that it is waiting, not on every tick');
    assert.equal(paused[0]!.level, 'warn');
    assert.equal(events.filter((event) => event.event === 'outbox.resumed').length, 1, 'and once that it carries on');
    assert.equal(events.filter((event) => String(event.event).endsWith('.tick_failed')).length, 0, 'no tick logged as a failure of its own');
    assert.equal(events.filter((event) => event.level === 'error').length, 0, 'nothing at error level: an outage is expected');
  });
});
