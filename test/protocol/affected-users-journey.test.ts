import assert from 'node:assert/strict';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { loadSandboxDirectory, sandboxUserToken, startSandboxGraph, type SandboxGraph } from '../../dev/sandbox/graph-server';
import { DEMO } from '../../config';
import { PEOPLE } from '../support/bot-harness';
import { freshPostgresSchema, requirePostgres } from '../support/databases';
import { activityText, inChat, startFakeConnector, type ConnectorCall, type FakeConnector } from '../support/fake-connector';
import { SIGN_IN_CODE, startFakeTokenService, type FakeTokenService } from '../support/fake-token-service';
import { freePort, startBotProcess, type BotProcess } from '../support/processes';
import { submitPressed, TeamsClient } from '../support/teams-client';

/**
 * Telling the affected users, end to end with the bot in its own process: the requester
 * submits over the Bot Framework protocol (a loopback connector), is offered the drafts, signs
 * in through a fake Bot Framework token service over HTTP (MAIL_TOKEN_SERVICE_URL), and the
 * messages go from her mailbox to the sandbox Graph's /me/sendMail, which throttles one (429)
 * and refuses one (403) on the way; she sees the tally.
 */
const ALL_TICKED = { usersInformed: 'true', residualDataRemoved: 'true', notMarkedAsLeavers: 'true', resolutionForIneligible: 'true' };
/** Two go for a decision; kezia.morrow is not eligible and is turned away, and is told why. */
const LIST = ['amara.mensah@nhsmail.example, ZZ9101', 'esme.flint@nhsmail.example', 'kezia.morrow@nhsmail.example'].join('\n');
const cardIn = (call: ConnectorCall) => call.activity.attachments?.[0]?.content as Record<string, unknown> | undefined;

describe('the affected users told from the requester’s mailbox (real bot process, fake token service, sandbox Graph, PostgreSQL)', function () {
  this.timeout(180_000);
  let connector: FakeConnector;
  let graph: SandboxGraph;
  let tokenService: FakeTokenService;
  let schema: Awaited<ReturnType<typeof freshPostgresSchema>>;
  let bot: BotProcess;
  let client: TeamsClient;
  const chatId = `a:priya-${randomUUID()}`;

  before(async function () {
    await requirePostgres.call(this);
    connector = await startFakeConnector();
    client = new TeamsClient(connector.url);
    graph = await startSandboxGraph(await loadSandboxDirectory(path.join(__dirname, '..', '..', 'dev', 'demo-directory.json')));
    // The token service knows Priya by her Teams id; the sandbox Graph takes her delegated token as hers.
    tokenService = await startFakeTokenService((channelUserId) => {
      const person = Object.values(PEOPLE).find((candidate) => candidate.id === channelUserId);
      return sandboxUserToken(person?.aadObjectId ?? 'nobody');
    });
    schema = await freshPostgresSchema();
    bot = await startBotProcess({
      PORT: String(await freePort()),
      DATABASE_URL: schema.url,
      GRAPH_BASE_URL: graph.url,
      MAIL_OAUTH_CONNECTION: 'graph-mail',
      MAIL_TOKEN_SERVICE_URL: tokenService.url,
      LOG_LEVEL: 'info',
      APP_ENV: 'development',
      MicrosoftAppId: '',
    });
    assert.equal((await client.opsChannelInstalled(bot.endpoint)).status, 200);
  });
  after(async () => {
    await bot?.stop();
    await connector?.close();
    await tokenService?.close();
    await graph?.close();
    await schema?.drop();
  });

  const say = async (content: string | Record<string, unknown>) => assert.equal((await client.message(bot.endpoint, 'priya', chatId, content)).status, 200);

  it('submits, is offered the drafts, signs in, and the messages go (one per person, with their own reason) past a 429 and a 403; she sees the tally', async () => {
    for (const text of ['new transfer', 'yes', 'Our sponsorship of these pharmacies ends in March.']) await say(text);
    await say(submitPressed(cardIn(await connector.waitFor(inChat(chatId, 'Accounts to transfer'), 5000)), 'Continue', { accounts: LIST }));
    await say(submitPressed(cardIn(await connector.waitFor(inChat(chatId, 'Screening results'), 30_000)), 'Continue with 2 accounts'));
    await say(submitPressed(cardIn(await connector.waitFor(inChat(chatId, 'Before you submit'), 15_000)), 'Submit 2 accounts to NAS', ALL_TICKED));
    const reference = /NTR-\d+/.exec(activityText(await connector.waitFor(inChat(chatId, 'Your reference is'))))![0];

    // The drafts, offered after submission, before anything is sent.
    const drafts = await connector.waitFor(inChat(chatId, 'Download to send yourself'), 30_000);
    assert.match(activityText(drafts), /Dear /);
    assert.equal(graph.sentMail.length, 0, 'nothing is sent by offering the drafts');

    // Send: she has not signed in, so the sign-in card, from the token service's sign-in resource.
    await say(submitPressed(cardIn(drafts), /^Send \d+ messages? by email$/));
    const oauth = await connector.waitFor(
      (call) =>
        call.conversationId === chatId &&
        (call.activity.attachments?.[0] as { contentType?: string } | undefined)?.contentType === 'application/vnd.microsoft.card.oauth',
    );
    assert.match(activityText(oauth), /https:\/\/token\.example\/sign-in\?state=abc/);
    assert.ok(tokenService.calls.some((call) => call.path === '/api/botsignin/GetSignInResource'));
    assert.equal(graph.sentMail.length, 0, 'nothing is sent before the sign-in');

    // Graph throttles the first message and refuses the next; she signs in, and the send goes without pressing Send again.
    graph.failNextSendMail(429, 1, 1);
    graph.failNextSendMail(403, 1);
    const verified = await client.post(bot.endpoint, {
      type: 'invoke',
      name: 'signin/verifyState',
      from: PEOPLE.priya,
      conversation: { id: chatId, conversationType: 'personal', tenantId: DEMO.tenantId },
      channelData: { tenant: { id: DEMO.tenantId } },
      value: { state: SIGN_IN_CODE },
    });
    assert.equal(verified.status, 200);
    const sending = await connector.waitFor(inChat(chatId, 'from your mailbox for'));
    const queued = Number(/Sending (\d+) messages?/.exec(activityText(sending))?.[1]);
    assert.equal(queued, 3, activityText(sending));

    const tally = activityText(await connector.waitFor(inChat(chatId, `**${reference}**: told`), 60_000));
    assert.match(tally, /told 2 of 3 affected users by email from your mailbox/, tally);
    const failed = /1 failed:\n- ([a-z.]+@nhsmail\.example): your mailbox does not allow the bot to send mail for you/.exec(tally)?.[1];
    assert.ok(failed, tally);

    // Graph was asked four times: the throttled message again after its Retry-After, the refused one not again.
    const sendCalls = graph.requests.filter((request) => request.path === '/v1.0/me/sendMail');
    assert.equal(sendCalls.length, 4, 'three messages, one of them twice (after the 429)');

    // The sandbox Graph holds one message per person told, from Priya's mailbox, each with their own words.
    const told = ['amara.mensah@nhsmail.example', 'esme.flint@nhsmail.example', 'kezia.morrow@nhsmail.example'].filter((who) => who !== failed);
    assert.deepEqual(graph.sentMail.map((sent) => sent.to[0]).sort(), told, 'everyone else told, once');
    for (const sent of graph.sentMail) {
      assert.equal(sent.from, PEOPLE.priya.aadObjectId);
      assert.match(sent.body, /^Dear [A-Z][a-z]+ [A-Z][a-z]+,/, 'addressed by their own name');
      // kezia.morrow was turned away at screening: her message says why; those moving are not given a reason.
      if (sent.to[0] === 'kezia.morrow@nhsmail.example') assert.match(sent.body, /Why: /);
      else assert.doesNotMatch(sent.body, /Why: /);
    }
    const bodies = new Set(graph.sentMail.map((sent) => sent.body));
    assert.equal(bodies.size, graph.sentMail.length, 'each message is the person’s own');

    // NAS Operations see what was done beside the requester's tick, on the card in their channel.
    const updated = await connector.waitFor(
      (call) => call.conversationId.startsWith(DEMO.opsChannelId) && call.status === 200 && activityText(call).includes('affected users told by email'),
      30_000,
    );
    assert.match(activityText(updated), /affected users told by email on \d+ [A-Z][a-z]{2} \(at submission\): 2 of 3/);
    assert.doesNotMatch(bot.output(), /Dear |nhsmail\.example/, 'no message text or address in the log');
  });
});
