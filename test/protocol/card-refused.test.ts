import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { DEMO } from '../../config';
import { freshPostgresSchema, requirePostgres } from '../support/databases';
import { activityText, inChat, startFakeConnector, type ConnectorCall, type FakeConnector } from '../support/fake-connector';
import { freePort, startBotProcess, type BotProcess } from '../support/processes';
import { submitPressed, TeamsClient } from '../support/teams-client';

/**
 * Issue 22, over the Bot Framework protocol against the real bot process: a connector that
 * answers 413 (too large) to every card in the ops channel, the minimal one included. The
 * request is not given up silently: NAS Operations get a plain text message in their channel,
 * and the requester is told.
 */
const ALL_TICKED = { usersInformed: 'true', residualDataRemoved: 'true', notMarkedAsLeavers: 'true', resolutionForIneligible: 'true' };
const LIST = ['amara.mensah@nhsmail.example, ZZ9101', 'esme.flint@nhsmail.example', 'kezia.morrow@nhsmail.example'].join('\n');
const cardIn = (call: ConnectorCall) => call.activity.attachments?.[0]?.content as Record<string, unknown> | undefined;

describe('an ops card refused as too large at every size, the minimal one included (real bot process, loopback connector, PostgreSQL)', function () {
  this.timeout(180_000);
  let connector: FakeConnector;
  let schema: Awaited<ReturnType<typeof freshPostgresSchema>>;
  let bot: BotProcess;
  let client: TeamsClient;
  const chatId = `a:priya-${randomUUID()}`;

  before(async function () {
    await requirePostgres.call(this);
    connector = await startFakeConnector();
    client = new TeamsClient(connector.url);
    schema = await freshPostgresSchema();
    bot = await startBotProcess({
      PORT: String(await freePort()),
      DATABASE_URL: schema.url,
      LOG_LEVEL: 'info',
      APP_ENV: 'development',
      MicrosoftAppId: '',
    });
    assert.equal((await client.opsChannelInstalled(bot.endpoint)).status, 200);
  });
  after(async () => {
    await bot?.stop();
    await connector?.close();
    await schema?.drop();
  });

  const say = async (content: string | Record<string, unknown>) => assert.equal((await client.message(bot.endpoint, 'priya', chatId, content)).status, 200);

  it('tells NAS Operations in plain text in their channel, and the requester, instead of giving up silently', async () => {
    // Every card to the ops channel is refused as too large, whatever its size.
    connector.addFault({ matches: (call) => call.conversationId.startsWith(DEMO.opsChannelId) && (call.activity.attachments?.length ?? 0) > 0, status: 413 });
    for (const text of ['new transfer', 'yes', 'Our sponsorship of these pharmacies ends in March.']) await say(text);
    await say(submitPressed(cardIn(await connector.waitFor(inChat(chatId, 'Accounts to transfer'), 5000)), 'Continue', { accounts: LIST }));
    await say(submitPressed(cardIn(await connector.waitFor(inChat(chatId, 'Screening results'), 30_000)), 'Continue with 2 accounts'));
    await say(submitPressed(cardIn(await connector.waitFor(inChat(chatId, 'Before you submit'), 15_000)), 'Submit 2 accounts to NAS', ALL_TICKED));
    const reference = /NTR-\d+/.exec(activityText(await connector.waitFor(inChat(chatId, 'Your reference is'))))![0];

    const notice = await connector.waitFor(
      (call) => call.conversationId === DEMO.opsChannelId && call.status === 200 && activityText(call).includes(`Transfer request **${reference}**`),
      30_000,
    );
    assert.equal(notice.activity.attachments?.length ?? 0, 0, 'plain text, which Teams takes');
    assert.match(
      activityText(notice),
      /could not be posted here: Teams refused its card as too large, even its minimal summary\. Open \*\*NTR-\d+\*\* in the NAS workspace tab/,
    );
    const refusedCards = connector.calls.filter((call) => call.conversationId === DEMO.opsChannelId && call.status === 413);
    assert.ok(refusedCards.length >= 5, `the full card, smaller renders and the minimal card were all tried (${refusedCards.length})`);
    await connector.waitFor(inChat(chatId, `Your request **${reference}** could not be shown to NAS Operations as a card`), 30_000);
    assert.match(bot.output(), /delivery\.gave_up/);
  });
});
