import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { DEMO } from '../../config';
import { freshPostgresSchema, requirePostgres } from '../support/databases';
import { activityText, startFakeConnector, type ConnectorCall, type FakeConnector, inChat, opsPostsOf } from '../support/fake-connector';
import { startBotProcess, type BotProcess, freePort } from '../support/processes';
import { opsCardUserOverHttp, submitPressed, TeamsClient } from '../support/teams-client';

/**
 * The real bot process over the Bot Framework protocol, with a loopback Bot Connector that
 * can refuse, throttle, hang and be slow, on a real PostgreSQL: what production sees when
 * Teams retries, people double-click and processes die.
 */
/** The four confirmations, ticked on the card. */
const ALL_TICKED = { usersInformed: 'true', residualDataRemoved: 'true', notMarkedAsLeavers: 'true', resolutionForIneligible: 'true' };
/** Two of these go for a decision (eligible, and for review): kezia.morrow is not eligible. */
const LIST = ['amara.mensah@nhsmail.example, ZZ9101', 'esme.flint@nhsmail.example', 'kezia.morrow@nhsmail.example'].join('\n');

/** The card a message carried, as Teams shows it. */
const cardIn = (call: ConnectorCall) => call.activity.attachments?.[0]?.content as Record<string, unknown> | undefined;

async function count(databaseUrl: string, sql: string): Promise<number> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    return Number((await client.query<{ count: string }>(sql)).rows[0]?.count);
  } finally {
    await client.end();
  }
}

/**
 * count, asked again every 50 ms until it is `expected` or `ms` have passed (the last count then): for a row the bot
 * writes after Teams answered, which the connector records before the bot has read the answer.
 */
async function settledCount(databaseUrl: string, sql: string, expected: number, ms = 5000): Promise<number> {
  const until = Date.now() + ms;
  for (;;) {
    const counted = await count(databaseUrl, sql);
    if (counted === expected || Date.now() >= until) return counted;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('fault injection over the Bot Framework protocol (real bot process, loopback connector, PostgreSQL)', function () {
  this.timeout(120_000);
  let connector: FakeConnector;
  let client: TeamsClient;
  /** Each test has a database of its own: the demo accounts, once requested, are ALREADY_REQUESTED for good. */
  let schema: Awaited<ReturnType<typeof freshPostgresSchema>>;
  const schemas: Array<typeof schema> = [];
  const bots: BotProcess[] = [];

  const startBot = async (env: Record<string, string> = {}): Promise<BotProcess> => {
    const bot = await startBotProcess({
      PORT: String(await freePort()),
      DATABASE_URL: schema.url,
      LOG_LEVEL: 'info',
      APP_ENV: 'development',
      MicrosoftAppId: '',
      ...env,
    });
    bots.push(bot);
    return bot;
  };
  /** A bot on this test's database that knows the ops channel. */
  const aBot = async (): Promise<BotProcess> => {
    const bot = await startBot();
    await client.opsChannelInstalled(bot.endpoint);
    return bot;
  };

  /**
   * Answers the form up to the screening results, each turn to `pick(turn)`: typed answers, then
   * the list into the accounts card and its Continue. The results card comes by itself, once
   * screened; the confirmations card is what its Continue brings.
   */
  async function toResults(pick: (turn: number) => BotProcess, chatId: string): Promise<ConnectorCall> {
    const typed = ['new transfer', 'yes', 'Our sponsorship of these pharmacies ends in March.'];
    for (const [index, text] of typed.entries()) {
      const sent = await client.message(pick(index).endpoint, 'priya', chatId, text);
      assert.equal(sent.status, 200, `turn ${index + 1} was taken`);
    }
    const accountsCard = cardIn(await connector.waitFor(inChat(chatId, 'Accounts to transfer'), 5000));
    const listed = await client.message(pick(typed.length).endpoint, 'priya', chatId, submitPressed(accountsCard, 'Continue', { accounts: LIST }));
    assert.equal(listed.status, 200, 'the accounts card was taken');
    await connector.waitFor(inChat(chatId, 'Checking 3 accounts'), 5000);
    return connector.waitFor(inChat(chatId, 'Screening results'), 30_000);
  }

  /** Presses the results card's Continue; returns what the confirmations card's Submit sends with the four ticked. */
  async function toConfirmations(bot: BotProcess, chatId: string, results: ConnectorCall): Promise<Record<string, unknown>> {
    const continued = await client.message(bot.endpoint, 'priya', chatId, submitPressed(cardIn(results), 'Continue with 2 accounts'));
    assert.equal(continued.status, 200);
    const confirmations = await connector.waitFor(inChat(chatId, 'Before you submit'), 15_000);
    const submit = submitPressed(cardIn(confirmations), 'Submit 2 accounts to NAS', ALL_TICKED);
    assert.deepEqual(submit, { step: 'attestations', ...ALL_TICKED }, 'the Submit sends the four ticks');
    return submit;
  }

  /** The whole form, then Submit; waits for the reference and for the card in the ops channel. */
  async function submittedAndPosted(bot: BotProcess, chatId: string): Promise<{ reference: string; posted: ConnectorCall; requestId: number }> {
    const submit = await toConfirmations(bot, chatId, await toResults(() => bot, chatId));
    await client.message(bot.endpoint, 'priya', chatId, submit);
    const reference = /NTR-\d+/.exec(activityText(await connector.waitFor(inChat(chatId, 'Your reference is'))))![0];
    const posted = await connector.waitFor((call) => opsPostsOf(connector, reference).includes(call));
    const requestId = await count(schema.url, `SELECT id AS count FROM transfer_requests WHERE reference = '${reference}'`);
    return { reference, posted, requestId };
  }

  before(requirePostgres);
  before(async () => {
    connector = await startFakeConnector();
    client = new TeamsClient(connector.url);
  });
  beforeEach(async () => {
    // References start again at NTR-100001 in each test's database: only this test's calls count.
    connector.calls.splice(0);
    schema = await freshPostgresSchema();
    schemas.push(schema);
  });
  afterEach(async () => {
    connector.clearFaults();
    await Promise.all(bots.splice(0).map((bot) => bot.stop()));
  });
  after(async () => {
    await connector?.close();
    for (const created of schemas) await created.drop();
  });

  it('two instances started at the same moment on an empty database both come up, and share the work: one request, one decision per account, one outcome', async () => {
    const [first, second] = await Promise.all([startBot(), startBot()]);
    const instances = [first, second];
    const installed = await client.opsChannelInstalled(first.endpoint);
    assert.equal(installed.status, 200);
    const chatId = `a:priya-${randomUUID()}`;
    const results = await toResults((turn) => instances[turn % 2]!, chatId);
    const submit = await toConfirmations(second, chatId, results);
    const submits = await Promise.all([client.message(first.endpoint, 'priya', chatId, submit), client.message(second.endpoint, 'priya', chatId, submit)]);
    assert.deepEqual(
      submits.map((sent) => sent.status),
      [200, 200],
    );
    const confirmation = await connector.waitFor(inChat(chatId, 'Your reference is'));
    const reference = /NTR-\d+/.exec(activityText(confirmation))![0];
    const posted = await connector.waitFor((call) => opsPostsOf(connector, reference).includes(call));
    assert.equal(await count(schema.url, 'SELECT count(*) FROM transfer_requests'), 1, 'one request');
    const requestId = await count(schema.url, `SELECT id AS count FROM transfer_requests WHERE reference = '${reference}'`);

    // NAS Operations press the buttons of the posted card on both instances at once, twice over.
    const onFirst = opsCardUserOverHttp(client, () => first.endpoint, 'tom').sees(cardIn(posted));
    const onSecond = opsCardUserOverHttp(client, () => second.endpoint, 'tom').sees(cardIn(posted));
    const approvals = await Promise.all([onFirst.press({ verb: 'approveEligible' }), onSecond.press({ verb: 'approveEligible' })]);
    assert.deepEqual(
      approvals.map((sent) => sent.status),
      [200, 200],
    );
    // An account for review (esme.flint, while the DSPT rules make it one): both press its row, one Approve, one Reject.
    const reviewRow = 'esme.flint@nhsmail.example';
    if (onFirst.sees(cardIn(posted)).offers({ title: 'Approve', row: reviewRow })) {
      onSecond.sees(cardIn(posted));
      await Promise.all([
        onFirst.press({ title: 'Approve', row: reviewRow }),
        onSecond.press({ title: 'Reject', row: reviewRow }, { decisionReason: 'crossed' }),
      ]);
    }
    const forDecision = `request_id = ${requestId} AND verdict <> 'ineligible'`;
    assert.equal(
      await count(schema.url, `SELECT count(*) FROM request_accounts WHERE ${forDecision} AND decision IS NULL`),
      0,
      'every account for decision decided',
    );
    assert.equal(
      await count(
        schema.url,
        `SELECT count(*) FROM audit_events WHERE request_id = ${requestId} AND (action LIKE 'account.%' OR action = 'request.approved_eligible')`,
      ),
      await count(schema.url, `SELECT count(*) FROM request_accounts WHERE ${forDecision}`),
      'one decision per account in the audit',
    );
    await connector.waitFor(inChat(chatId, `Transfer request ${reference} has been decided`), 20_000);
    await new Promise((resolve) => setTimeout(resolve, 2500));
    assert.equal(connector.calls.filter(inChat(chatId, `Transfer request ${reference} has been decided`)).length, 1, 'the outcome went once');
    assert.equal(opsPostsOf(connector, reference).length, 1, 'the ops card was posted once');
    assert.equal(connector.calls.filter(inChat(chatId, 'Screening results')).length, 1, 'the results were posted once');
  });

  it('turns three concurrent Submits into one request, posted once', async () => {
    const bot = await aBot();
    const chatId = `a:priya-${randomUUID()}`;
    const submit = await toConfirmations(bot, chatId, await toResults(() => bot, chatId));
    const before = await count(schema.url, 'SELECT count(*) FROM transfer_requests');
    // Three presses of the confirmations card's Submit at once (a triple click, or Teams retrying).
    const sent = await Promise.all([1, 2, 3].map(() => client.message(bot.endpoint, 'priya', chatId, submit)));
    assert.deepEqual(
      sent.map((response) => response.status),
      [200, 200, 200],
    );
    assert.equal(await count(schema.url, 'SELECT count(*) FROM transfer_requests'), before + 1);
    const reference = /NTR-\d+/.exec(activityText(await connector.waitFor(inChat(chatId, 'Your reference is'))))![0];
    await connector.waitFor((call) => opsPostsOf(connector, reference).includes(call));
    await new Promise((resolve) => setTimeout(resolve, 2000));
    assert.equal(opsPostsOf(connector, reference).length, 1);
  });

  it('survives kill -9 during Submit: after a restart, Submit again gives the same reference and the card is posted once', async function () {
    this.timeout(180_000);
    // The shortest lease allowed, so the dead instance's claim on the post runs out sooner.
    const shortLease = { OUTBOX_LEASE_SECONDS: '31' };
    const bot = await startBot(shortLease);
    await client.opsChannelInstalled(bot.endpoint);
    const chatId = `a:priya-${randomUUID()}`;
    const submit = await toConfirmations(bot, chatId, await toResults(() => bot, chatId));
    // The confirmation reply hangs: the request is committed, the turn (and its state save) is not finished.
    connector.addFault({
      matches: (call) => call.conversationId === chatId && JSON.stringify(call.activity).includes('Your reference is'),
      hold: true,
      times: 1,
    });
    const submitting = client.message(bot.endpoint, 'priya', chatId, submit).catch(() => undefined);
    const held = await connector.waitFor(inChat(chatId, 'Your reference is'));
    const reference = /NTR-\d+/.exec(activityText(held))![0];
    await bot.kill();
    await submitting;
    const restarted = await startBot(shortLease);
    // The confirmations card is still in the chat: Submit again, to the restarted bot.
    const again = await client.message(restarted.endpoint, 'priya', chatId, submit);
    assert.equal(again.status, 200);
    const answer = await connector.waitFor((call) => call !== held && inChat(chatId, 'Your reference is')(call));
    assert.match(activityText(answer), new RegExp(`already submitted\\. Your reference is \\*\\*${reference}\\*\\*`));
    assert.equal(
      await count(
        schema.url,
        `SELECT count(*) FROM transfer_requests WHERE draft_id = (SELECT draft_id FROM transfer_requests WHERE reference = '${reference}')`,
      ),
      1,
    );
    // If the dead instance had leased the post, it is taken over when the lease (31 s) runs out.
    await connector.waitFor((call) => opsPostsOf(connector, reference).includes(call), 60_000);
    await new Promise((resolve) => setTimeout(resolve, 2000));
    assert.equal(opsPostsOf(connector, reference).length, 1, 'posted once');
  });

  it('answers an approval within 2 s while Teams takes 20 s to update cards, and the shared update still arrives', async function () {
    this.timeout(120_000);
    const bot = await aBot();
    const chatId = `a:priya-${randomUUID()}`;
    const { posted } = await submittedAndPosted(bot, chatId);
    connector.addFault({ matches: (call) => call.method === 'PUT', delayMs: 20_000 });
    const approval = await opsCardUserOverHttp(client, () => bot.endpoint, 'tom')
      .sees(cardIn(posted))
      .press({ verb: 'approveEligible' });
    assert.equal(approval.status, 200);
    assert.ok(approval.ms < 2000, `answered in ${Math.round(approval.ms)} ms`);
    assert.match(JSON.stringify(approval.body), /Approved by Tom Ashdown/);
    // The card everyone sees is still brought up to date, when Teams gets round to it.
    const update = await connector.waitFor(
      (call) => call.method === 'PUT' && call.conversationId === DEMO.opsChannelId && activityText(call).includes('Approved by Tom Ashdown'),
      40_000,
    );
    assert.equal(update.status, 200);
    assert.equal(update.activityId, posted.answeredId, 'it updates the card that was posted, in place');
  });

  it('does not let a 28,000-character answer in one chat hold up another chat’s turn', async () => {
    const bot = await aBot();
    const slowChat = `a:priya-${randomUUID()}`;
    await client.message(bot.endpoint, 'priya', slowChat, 'new transfer');
    await connector.waitFor(inChat(slowChat, 'Are the accounts transferring'));
    const baseline = await client.message(bot.endpoint, 'sam', `a:sam-${randomUUID()}`, 'help');
    const [huge, other] = await Promise.all([
      client.message(bot.endpoint, 'priya', slowChat, 'yes '.repeat(7000)),
      new Promise((resolve) => setTimeout(resolve, 20)).then(() => client.message(bot.endpoint, 'sam', `a:sam-${randomUUID()}`, 'help')),
    ]);
    assert.equal(huge.status, 200);
    assert.ok(other.ms < baseline.ms + 1000, `the other chat waited ${Math.round(other.ms)} ms (baseline ${Math.round(baseline.ms)} ms)`);
    assert.ok(huge.ms < 2000, `the long answer itself took ${Math.round(huge.ms)} ms`);
    await connector.waitFor(inChat(slowChat, 'Please answer yes or no.'));
  });

  it('refreshes the ops card (Universal Actions, trigger automatic) to the buttons for NAS Operations and read-only for anyone else', async () => {
    const bot = await aBot();
    const chatId = `a:priya-${randomUUID()}`;
    const { reference, posted, requestId } = await submittedAndPosted(bot, chatId);
    const refresh = (posted.activity.attachments?.[0]?.content as { refresh?: { action: { verb: string; data: Record<string, unknown> } } }).refresh;
    assert.equal(refresh?.action.verb, 'refreshCard', 'the posted card asks Teams to refresh it');

    const tom = opsCardUserOverHttp(client, () => bot.endpoint, 'tom').sees(cardIn(posted));
    const forOps = await tom.refresh();
    assert.equal(forOps.status, 200);
    const opsCard = JSON.stringify(forOps.body);
    assert.match(opsCard, /"statusCode":200/);
    assert.match(opsCard, /"title":"Assign to me"/);
    assert.ok(tom.offers({ title: 'Approve', row: 'esme.flint@nhsmail.example' }), 'the refreshed card has the rows’ buttons');
    const forOthers = await opsCardUserOverHttp(client, () => bot.endpoint, 'sam')
      .sees(cardIn(posted))
      .refresh();
    const readOnly = JSON.stringify(forOthers.body);
    assert.match(readOnly, /"statusCode":200/);
    assert.match(readOnly, new RegExp(`Transfer request ${reference}`));
    assert.doesNotMatch(readOnly, /"title":"(Assign to me|Approve all eligible|Reject all undecided|Approve|Reject)/);
    assert.equal(
      await count(schema.url, `SELECT count(*) FROM audit_events WHERE request_id = ${requestId} AND action = 'card_action.refused'`),
      0,
      'a refresh is not a refusal',
    );
  });

  it('stops cleanly on SIGTERM: the turn in flight is answered, then the process exits 0 having closed the server', async () => {
    const bot = await aBot();
    const chatId = `a:priya-${randomUUID()}`;
    // A reply Teams is slow to take keeps a turn in flight while the stop begins.
    connector.addFault({ matches: (call) => call.conversationId === chatId, delayMs: 1500, times: 1 });
    const inFlight = client.message(bot.endpoint, 'priya', chatId, 'help');
    await new Promise((resolve) => setTimeout(resolve, 300));
    const exitCode = await bot.terminate();
    assert.equal((await inFlight).status, 200, 'the turn in flight finished');
    assert.equal(exitCode, 0);
    assert.match(bot.output(), /"event":"http.closed"/);
  });

  it('retries a card post Teams throttles and fails, and records one Teams refuses for good without ever calling it delivered', async () => {
    const bot = await aBot();
    connector.addFault({ matches: (call) => call.method === 'POST' && call.conversationId === DEMO.opsChannelId, status: 429, retryAfterSeconds: 1, times: 1 });
    connector.addFault({ matches: (call) => call.method === 'POST' && call.conversationId === DEMO.opsChannelId, status: 503, times: 1 });
    const chatId = `a:priya-${randomUUID()}`;
    await client.message(bot.endpoint, 'priya', chatId, await toConfirmations(bot, chatId, await toResults(() => bot, chatId)));
    const reference = /NTR-\d+/.exec(activityText(await connector.waitFor(inChat(chatId, 'Your reference is'))))![0];
    const posted = await connector.waitFor((call) => opsPostsOf(connector, reference).includes(call), 30_000);
    const attempts = connector.calls.filter(
      (call) => call.conversationId === DEMO.opsChannelId && call.method === 'POST' && activityText(call).includes(reference),
    );
    assert.deepEqual(
      attempts.map((call) => call.status),
      [429, 503, 200],
      'throttled, failed, then accepted',
    );
    assert.ok(attempts[1]!.at - attempts[0]!.at >= 900, 'the retry waited for Retry-After');
    // Three calls by the outbox itself (the connector client's own retry policy is out of the way), two of them attempts: a 429 is a wait, not an attempt.
    // The connector records Teams' 200 before the bot has read it and marked the row: asked until it shows (or 5 s).
    assert.equal(
      await settledCount(
        schema.url,
        `SELECT count(*) FROM outbox WHERE dedupe_key = 'ops.post:' || (SELECT id FROM transfer_requests WHERE reference = '${reference}') AND status = 'delivered' AND attempts = 2`,
        1,
      ),
      1,
    );

    // The requester blocked the bot: Teams answers 403 to the outcome, for good.
    const requestId = await count(schema.url, `SELECT id AS count FROM transfer_requests WHERE reference = '${reference}'`);
    connector.addFault({ matches: (call) => call.conversationId === chatId && JSON.stringify(call.activity).includes('has been decided'), status: 403 });
    await opsCardUserOverHttp(client, () => bot.endpoint, 'tom')
      .sees(cardIn(posted))
      .press({ verb: 'rejectRequest' }, { decisionReason: 'Not this time.' });
    const refused = await connector.waitFor((call) => inChat(chatId, 'has been decided')(call) && call.status === 403, 20_000);
    assert.ok(refused);
    const update = await connector.waitFor((call) => call.method === 'PUT' && activityText(call).includes('could not be notified'), 20_000);
    assert.ok(update);
    assert.equal(
      await count(schema.url, `SELECT count(*) FROM outbox WHERE dedupe_key = 'outcome:${requestId}' AND status = 'undeliverable' AND last_error = 'HTTP_403'`),
      1,
    );
    assert.equal(
      await count(schema.url, `SELECT count(*) FROM transfer_requests WHERE id = ${requestId} AND outcome_notified_at IS NULL`),
      1,
      'never marked as told',
    );
  });
});
