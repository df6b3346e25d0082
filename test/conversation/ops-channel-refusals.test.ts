import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, utimesSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { dsptRegisterSource } from '../../services/reference/registers';
import { randomUUID } from 'node:crypto';
import { TestAdapter } from 'botbuilder';
import { DEMO } from '../../config';
import { createTurnErrorHandler } from '../../bot/turn-error-handler';
import { silentLogger } from '../../core/log';
import { cardText, knowOpsChannelAndRequester, opsChannel, PEOPLE, startHarness, type Harness } from '../support/bot-harness';
import { requestDetails, screenedAccount } from '../support/fixtures';

/**
 * For NAS Operations "undeliverable" must never mean "forgotten": Teams refusing the ops
 * channel for good (the bot removed from the team, the channel gone) holds the cards until
 * the channel is back, tells the requester, and says so once in the log.
 */
describe('ops channel refusals (the bot removed, the channel gone, a card too large)', function () {
  this.timeout(60_000);
  let harness: Harness;
  const logLines: string[] = [];

  before(async () => {
    harness = await startHarness({ writeLog: (line) => logLines.push(line) });
    await knowOpsChannelAndRequester(harness);
  });
  after(() => harness.close());
  // One bot and database for the suite (starting one costs seconds): each test starts with the channel reachable and nothing recorded.
  beforeEach(async () => {
    await harness.settle();
    await harness.db.query('UPDATE conversation_references SET unreachable_since = NULL, unreachable_status = NULL');
    harness.messenger.clear();
    logLines.length = 0;
  });

  const submit = (emails: string[]) =>
    harness.app.requests.submit({
      ...requestDetails({ id: PEOPLE.priya.aadObjectId, name: PEOPLE.priya.name }),
      draftId: randomUUID(),
      accounts: emails.map((email, index) => screenedAccount(index + 1, email, 'eligible')),
    });
  const opsRow = async (requestId: number) =>
    (
      await harness.db.query<{ status: string; last_error: string | null }>(`SELECT status, last_error FROM outbox WHERE dedupe_key = $1`, [
        `ops.post:${requestId}`,
      ])
    )[0];
  const delayNotices = () =>
    harness.messenger.toUser('priya').filter((message) => (message.activity.text ?? '').includes('NAS Operations have not received your request'));
  const channelAdapter = () => {
    const adapter = new TestAdapter((context) => harness.app.bot.run(context));
    for (const middleware of harness.app.middleware) adapter.use(middleware);
    adapter.onTurnError = createTurnErrorHandler(silentLogger);
    return adapter;
  };
  const BOT = { id: '28:nas-transfer-bot', name: 'NAS Transfer Bot' };
  /** What Teams sends when the bot is added to the ops team (again), or removed from it. */
  const opsTeamChange = (adapter: TestAdapter, change: 'membersAdded' | 'membersRemoved') =>
    adapter.processActivity({
      type: 'conversationUpdate',
      channelId: 'msteams',
      serviceUrl: 'https://test',
      from: PEOPLE.tom,
      recipient: BOT,
      [change]: [BOT],
      conversation: opsChannel,
      channelData: { tenant: { id: DEMO.tenantId }, team: { id: '19:nas-ops-general@thread.tacv2' }, channel: { id: DEMO.opsChannelId } },
    });
  const botAddedToOpsTeam = (adapter: TestAdapter) => opsTeamChange(adapter, 'membersAdded');

  for (const status of [404, 403]) {
    it(`holds the card when Teams answers ${status} to the post, tells the requester, logs it once, and posts it when the bot is added back`, async () => {
      harness.messenger.failNext({ status, to: opsChannel.id });
      const { request: first } = await submit(['a@x.example']);
      await harness.settle();
      assert.equal(harness.messenger.opsPosts().length, 0);
      assert.deepEqual(await opsRow(first.id), { status: 'pending', last_error: 'OPS_CHANNEL_UNREACHABLE' }, 'kept, not given up');
      assert.equal(delayNotices().length, 1, 'the requester is told NAS Operations have not received it yet');
      assert.ok((delayNotices()[0]!.activity.text ?? '').includes(first.reference));

      // A second request while the channel is out: not tried against Teams again, its requester told too.
      const calls = harness.messenger.sent.length;
      const { request: second } = await submit(['b@x.example']);
      await harness.settle();
      assert.equal(harness.messenger.opsPosts().length, 0);
      assert.equal(harness.messenger.sent.length, calls + 1, 'only the requester’s notice went out');
      assert.equal(delayNotices().length, 2);
      assert.equal(logLines.filter((line) => line.includes('"ops_channel.unreachable"')).length, 1, 'logged once per outage');
      assert.ok(logLines.find((line) => line.includes('"ops_channel.unreachable"'))!.includes('"level":"error"'));
      assert.equal((await harness.app.references.unreachable('ops-channel'))?.status, status);
      // NAS Operations looking at the queue from their own chat are told why the cards are not in the channel.
      await harness
        .adapterFor('tom')
        .send('pending')
        .assertReply((activity) => {
          assert.match(activity.text ?? '', /Teams has refused the NAS Operations channel since .*cards are held/);
          assert.match(activity.text ?? '', new RegExp(first.reference));
        });

      await botAddedToOpsTeam(channelAdapter());
      await harness.settle();
      const posts = harness.messenger.opsPosts();
      assert.deepEqual(
        posts.map((post) => /Transfer request (NTR-\d+)/.exec(cardText(post.activity))?.[1]).sort(),
        [first.reference, second.reference].sort(),
        'each card posted once',
      );
      assert.equal(await harness.app.references.unreachable('ops-channel'), null);
      assert.equal(delayNotices().length, 2, 'each requester told once');
    });
  }

  it('marks the channel when Teams says the bot was removed from the team, so cards wait instead of failing', async () => {
    const adapter = channelAdapter();
    await opsTeamChange(adapter, 'membersRemoved');
    const { request } = await submit(['a@x.example']);
    await harness.settle();
    assert.equal(harness.messenger.opsPosts().length, 0);
    assert.equal((await opsRow(request.id))?.last_error, 'OPS_CHANNEL_UNREACHABLE');
    await botAddedToOpsTeam(adapter);
    await harness.settle();
    assert.equal(harness.messenger.opsPosts().length, 1);
  });

  it('renders the card again, smaller, when Teams answers 413, and posts it once', async () => {
    harness.messenger.failNext({ status: 413, to: opsChannel.id });
    const { request } = await submit(['a@x.example', 'b@x.example']);
    await harness.settle();
    assert.equal(harness.messenger.opsPosts().length, 1);
    assert.deepEqual(await opsRow(request.id), { status: 'delivered', last_error: null });
  });

  for (const [name, value] of [
    ['no action', {}],
    ['a string for a value', 'approveEligible'],
    ['another action type', { action: { type: 'Action.Submit', verb: 'approveEligible', data: {} } }],
  ] as const) {
    it(`answers an invoke with ${name} 400, as other malformed card data`, async () => {
      const adapter = channelAdapter();
      await adapter.processActivity({
        type: 'invoke',
        name: 'adaptiveCard/action',
        channelId: 'msteams',
        from: PEOPLE.tom,
        conversation: opsChannel,
        channelData: { tenant: { id: DEMO.tenantId }, channel: { id: DEMO.opsChannelId } },
        value,
      });
      const response = adapter.activeQueue.find((activity) => activity.type === 'invokeResponse');
      assert.equal((response?.value as { status: number }).status, 400);
      assert.equal((response?.value as { body: { value: { code: string } } }).body.value.code, 'CARD_DATA_INVALID');
    });
  }

  it('tells NAS Operations in the channel when a new register file cannot be used, once, and keeps the previous copy', async () => {
    const folder = mkdtempSync(path.join(os.tmpdir(), 'register-'));
    const file = path.join(folder, 'dspt-export.csv');
    copyFileSync(path.join(__dirname, '..', '..', 'dev', 'dspt-register.csv'), file);
    const source = dsptRegisterSource(file);
    await source.refresh();
    const original = harness.dataSources.dspt;
    harness.dataSources.dspt = source;
    const app = harness.app;
    try {
      app.startWorkers();
      // The file as downloaded with the wrong export: not the DSPT organisation search's columns.
      writeFileSync(file, 'Organisation,Status\nZZ9101,Met\n');
      utimesSync(file, new Date(), new Date(Date.now() + 5000));
      await source.refresh();
      await source.refresh();
      const told = async () => harness.messenger.opsPosts().filter((post) => (post.activity.text ?? '').includes('could not be used'));
      for (let wait = 0; wait < 50 && (await told()).length === 0; wait++) await new Promise((resolve) => setTimeout(resolve, 100));
      const posts = await told();
      assert.equal(posts.length, 1, 'told once');
      assert.match(posts[0]!.activity.text ?? '', /The new DSPT register file \(dspt-export\.csv\) could not be used: .*previous copy/);
      assert.ok((await source.current()).get('ZZ9101'), 'the previous copy is still in use');
    } finally {
      await app.stopWorkers();
      harness.dataSources.dspt = original;
    }
  });

  it('holds back a register file that lost most of its rows and tells NAS Operations the counts; tells them again once it is confirmed', async () => {
    const folder = mkdtempSync(path.join(os.tmpdir(), 'register-'));
    const file = path.join(folder, 'dspt-export.csv');
    const header = 'Code,Organisation Name,Status,Date Of Publication,Primary Sector';
    const rows = (bad: number) =>
      Array.from(
        { length: 10 },
        (_, index) => `ZZ${9500 + index},Site ${index},25/26 Standards Met,${index < 10 - bad ? '28/06/2026' : '31/02/2026'},Pharmacy`,
      );
    writeFileSync(file, [header, ...rows(0)].join('\r\n'));
    const source = dsptRegisterSource(file);
    await source.refresh();
    const original = harness.dataSources.dspt;
    harness.dataSources.dspt = source;
    harness.adapterFor('priya'); // a freshly composed bot: the previous test stopped the workers of the last one
    const app = harness.app;
    try {
      app.startWorkers();
      writeFileSync(file, [header, ...rows(9)].join('\r\n'));
      utimesSync(file, new Date(), new Date(Date.now() + 5000));
      await source.refresh();
      await source.refresh();
      const told = async (words: string) => harness.messenger.opsPosts().filter((post) => (post.activity.text ?? '').includes(words));
      for (let wait = 0; wait < 50 && (await told('held back')).length === 0; wait++) await new Promise((resolve) => setTimeout(resolve, 100));
      const held = await told('held back');
      assert.equal(held.length, 1, 'told once');
      assert.match(
        held[0]!.activity.text ?? '',
        /dspt-export\.csv.*held back: 90% of its rows could not be used.*loaded 1 row, skipped 9, previous copy 10 rows/,
      );
      assert.ok((await source.current()).get('ZZ9505'), 'the previous copy is still in use');

      const fingerprint = /writing (\w{12}) into a file named dspt-export\.csv\.confirm/.exec(held[0]!.activity.text ?? '')?.[1];
      writeFileSync(`${file}.confirm`, fingerprint ?? '');
      await source.refresh();
      for (let wait = 0; wait < 50 && (await told('Confirmed and now in use')).length === 0; wait++) await new Promise((resolve) => setTimeout(resolve, 100));
      assert.match(
        (await told('Confirmed and now in use'))[0]?.activity.text ?? '',
        /reloaded from dspt-export\.csv\. Confirmed and now in use: loaded 1 row, skipped 9/,
      );
      assert.equal((await source.current()).get('ZZ9505'), null);
    } finally {
      await app.stopWorkers();
      harness.dataSources.dspt = original;
    }
  });
});
