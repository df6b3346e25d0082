import assert from 'node:assert/strict';
import { ConfigurationBotFrameworkAuthentication, TestAdapter, TurnContext, type Activity } from 'botbuilder';
import { TokenServiceMailSignIn } from '../../bot/duties/mail-sign-in';
import { ConversationReferences } from '../../bot/state/conversation-references';
import { ConversationReferenceRecords } from '../../services/store/conversation-references';
import type { SqlDatabase } from '../../services/store/database';
import { freshPglite } from '../support/databases';
import { startFakeTokenService, TEAMS_SSO_TOKEN, type FakeTokenService } from '../support/fake-token-service';

describe('the requester’s mail sign-in, against a fake Bot Framework token service over HTTP', () => {
  let tokenService: FakeTokenService;
  let db: SqlDatabase;
  let signIn: TokenServiceMailSignIn;
  const PRIYA_AAD = '6e6d7300-0000-4000-8000-000000000128';

  before(async () => {
    tokenService = await startFakeTokenService();
    db = await freshPglite();
    const references = new ConversationReferences(new ConversationReferenceRecords(db));
    await references.save(ConversationReferences.forUser(PRIYA_AAD), {
      channelId: 'msteams',
      serviceUrl: 'https://smba.example/',
      user: { id: '29:priya.okafor', name: 'Priya Okafor', aadObjectId: PRIYA_AAD },
      conversation: { id: 'a:priya-chat', conversationType: 'personal', isGroup: false, name: '' },
      bot: { id: '28:bot', name: 'NAS Transfer' },
    });
    // No app id: as in local runs, the token service is called without a Bot Framework token.
    const auth = new ConfigurationBotFrameworkAuthentication({ OAuthUrl: tokenService.url });
    signIn = new TokenServiceMailSignIn(TokenServiceMailSignIn.clientFor(auth, ''), 'graph-mail', references);
  });
  after(async () => {
    await tokenService.close();
    await db.close();
  });

  const turn = (activity: Partial<Activity>) =>
    new TurnContext(new TestAdapter(), {
      type: 'invoke',
      channelId: 'msteams',
      serviceUrl: 'https://smba.example/',
      from: { id: '29:priya.okafor', name: 'Priya Okafor', aadObjectId: PRIYA_AAD },
      recipient: { id: '28:bot', name: 'NAS Transfer' },
      conversation: { id: 'a:priya-chat', conversationType: 'personal', isGroup: false, name: '' },
      ...activity,
    } as Activity);

  it('has no token for someone who has not signed in (the token service answers 404)', async () => {
    assert.equal(await signIn.tokenFor(PRIYA_AAD), undefined);
    const call = tokenService.calls.at(-1)!;
    assert.equal(call.path, '/api/usertoken/GetToken');
    assert.equal(call.query.get('userId'), '29:priya.okafor', 'the token service knows people by their Teams user id, found from their chat');
    assert.equal(call.query.get('connectionName'), 'graph-mail');
    assert.equal(call.query.get('channelId'), 'msteams');
  });

  it('has no token for someone the bot has no chat with', async () => {
    const before = tokenService.calls.length;
    assert.equal(await signIn.tokenFor('someone-unknown'), undefined);
    assert.equal(tokenService.calls.length, before, 'nothing asked of the token service');
  });

  it('gives an OAuth card with the token service’s sign-in link', async () => {
    const card = await signIn.signInCard(turn({ type: 'message' }));
    assert.equal(card.contentType, 'application/vnd.microsoft.card.oauth');
    const content = card.content as { connectionName: string; buttons: Array<{ value: string }> };
    assert.equal(content.connectionName, 'graph-mail');
    assert.equal(content.buttons[0]?.value, 'https://token.example/sign-in?state=abc');
    assert.equal(tokenService.calls.at(-1)?.path, '/api/botsignin/GetSignInResource');
  });

  it('redeems the code of signin/verifyState, after which each send asks for (and gets) the token', async () => {
    assert.equal(await signIn.verify(turn({ name: 'signin/verifyState' }), '999999'), false, 'a wrong code gives no token');
    assert.equal(await signIn.verify(turn({ name: 'signin/verifyState' }), '246810'), true);
    assert.equal(tokenService.calls.at(-1)?.query.get('code'), '246810');
    assert.equal(await signIn.tokenFor(PRIYA_AAD), 'delegated-token-for-29:priya.okafor');
  });

  it('exchanges the Teams token of single sign-on (signin/tokenExchange), and gives none while consent is needed', async () => {
    const sam = (activity: Partial<Activity>) => turn({ ...activity, from: { id: '29:sam', name: 'Sam', aadObjectId: 'sam-aad' } });
    assert.equal(await signIn.exchange(sam({ name: 'signin/tokenExchange' }), 'a-token-needing-consent'), false);
    const call = tokenService.calls.at(-1)!;
    assert.equal(call.path, '/api/usertoken/exchange');
    assert.equal(call.query.get('userId'), '29:sam');
    assert.equal(call.query.get('connectionName'), 'graph-mail');
    assert.equal(await signIn.exchange(sam({ name: 'signin/tokenExchange' }), TEAMS_SSO_TOKEN), true);
  });

  it('throws when the token service fails (the message is retried), rather than treating it as not signed in', async () => {
    tokenService.failNext(500);
    try {
      await assert.rejects(signIn.tokenFor(PRIYA_AAD));
    } finally {
      tokenService.failNext(undefined);
    }
  });
});
