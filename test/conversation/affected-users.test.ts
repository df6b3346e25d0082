import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { CardFactory, type Activity, type TurnContext } from 'botbuilder';
import type { MailSignIn } from '../../bot/duties/mail-sign-in';
import sinon from 'sinon';
import { sandboxUserToken } from '../../dev/sandbox/graph-server';
import { AffectedUserDuties } from '../../services/duties/affected-users';
import type { Reason } from '../../services/eligibility/types';
import type { StoredRequest } from '../../services/model';
import { cardText, knowOpsChannelAndRequester, opsChannelCard, PEOPLE, startHarness, type Harness } from '../support/bot-harness';
import { requestDetails, screenedAccount } from '../support/fixtures';

/** Stands in for the Bot Framework token service: a person has a token once they signed in with the right code. */
class FakeMailSignIn implements MailSignIn {
  readonly signedIn = new Set<string>();
  cardsShown = 0;
  async tokenFor(userId: string): Promise<string | undefined> {
    return this.signedIn.has(userId) ? sandboxUserToken(userId) : undefined;
  }
  async signInCard() {
    this.cardsShown++;
    return CardFactory.oauthCard('graph-mail', 'Sign in to send from your mailbox', 'Allow sending.', 'https://token.example/sign-in');
  }
  async verify(context: TurnContext, code: string): Promise<boolean> {
    if (code !== '246810') return false;
    this.signedIn.add(context.activity.from.aadObjectId ?? '');
    return true;
  }
  /** Single sign-on: only the one Teams token given consent exchanges. */
  async exchange(context: TurnContext, teamsToken: string): Promise<boolean> {
    if (teamsToken !== 'consented-teams-token') return false;
    this.signedIn.add(context.activity.from.aadObjectId ?? '');
    return true;
  }
}

const NO_MOBILE: Reason = { rule: 'NO_UK_MOBILE', verdict: 'ineligible', message: 'No mobile number is registered.', remedy: 'Add a UK mobile.' };
const NOT_PATIENT_CARE: Reason = { rule: 'NOT_DIRECT_PATIENT_CARE', verdict: 'ineligible', message: 'Finance role.', remedy: 'Keep it locally.' };

describe('telling the affected users (drafts, sign-in, sending from the requester’s mailbox, the tally)', () => {
  let harness: Harness;
  let signIn: FakeMailSignIn;
  const logLines: string[] = [];
  let request: StoredRequest;
  let n = 0;

  before(async () => {
    signIn = new FakeMailSignIn();
    harness = await startHarness({ mailSignIn: signIn, writeLog: (line) => logLines.push(line) });
    await knowOpsChannelAndRequester(harness);
  });
  after(() => harness.close());
  beforeEach(async () => {
    n++;
    signIn.signedIn.clear();
    harness.graph.sentMail.splice(0);
    const account = (position: number, name: string, reasons: Reason[] = []) => ({
      ...screenedAccount(position, `${name.toLowerCase().replace(' ', '.')}.${n}@nhsmail.example`, reasons.length > 0 ? 'ineligible' : 'eligible'),
      reasons,
      evidence: { directoryFound: true, displayName: name, siteOds: 'ZZ9103' },
    });
    const submitted = await harness.app.requests.submit({
      ...requestDetails({ id: PEOPLE.priya.aadObjectId, name: 'Priya Okafor' }),
      draftId: randomUUID(),
      accounts: [account(1, 'Asha Patel'), account(2, 'Ben Cole', [NO_MOBILE]), account(3, 'Cara Diaz', [NOT_PATIENT_CARE])],
    });
    await harness.settle();
    request = (await harness.app.requests.get(submitted.request.id))!;
    harness.messenger.clear();
  });

  const priya = () => harness.adapterFor('priya');
  const press = (duties: 'send' | 'download' | 'show', stage = 'submitted') => ({ type: 'message', value: { duties, requestId: String(request.id), stage } });
  const tallies = () => harness.messenger.toUser('priya').map((sent) => sent.activity.text ?? '');

  it('shows the drafts before anything is sent: each group, an example in full, the leaver warning and the residual data to check', async () => {
    await priya()
      .send(`tell ${request.reference}`)
      .assertReply((activity) => {
        const text = cardText(activity);
        assert.match(text, /Being transferred to NAS \(1\)/);
        assert.match(text, /Not eligible yet: each is told their reason and what to do \(1\)/);
        assert.match(text, /Staying with you: each is told their reason and what happens next \(1\)/);
        assert.match(text, /Dear Asha Patel,/);
        assert.match(text, /Why: Your NHSmail account has no UK mobile number registered\./);
        assert.match(text, /Do not mark the account being transferred as a leaver: a leaver’s account is deleted/);
        assert.match(text, /shared mailboxes and any delegated access.*forwarding rules.*patient-identifiable data in their mailbox and OneDrive/);
        assert.match(text, /too little history to measure/);
        assert.match(text, /"title":"Send 3 messages by email"/);
        assert.match(text, /"title":"Download to send yourself"/);
      })
      .startTest();
    assert.equal(harness.graph.sentMail.length, 0, 'nothing is sent by showing the drafts');
  });

  it('refuses the drafts of someone else’s request', async () => {
    await harness
      .adapterFor('ruth')
      .send(press('show'))
      .assertReply((activity) => assert.equal(activity.text, 'That request was not raised by you.'))
      // Send is refused before a sign-in is offered or anything remembered for after it.
      .send(press('send'))
      .assertReply((activity) => assert.equal(activity.text, 'That request was not raised by you.'))
      .send(press('download'))
      .assertReply((activity) => assert.equal(activity.text, 'That request was not raised by you.'))
      .startTest();
  });

  it('asks the one requester check first: someone who is not a Primary or Local Administrator gets no drafts, by button or command', async () => {
    const refused = 'Only Primary or Local Administrators can request a NAS transfer.';
    await harness
      .adapterFor('tom')
      .send(press('show'))
      .assertReply((activity) => assert.equal(activity.text, refused))
      .send(`tell ${request.reference}`)
      .assertReply((activity) => assert.equal(activity.text, refused))
      .startTest();
    assert.equal(harness.graph.sentMail.length, 0);
  });

  it('asks for the one-off sign-in first, then sends one message per person with their own reason, and tells the tally', async () => {
    await priya()
      .send(press('send'))
      .assertReply((activity) => assert.match(activity.text ?? '', /sign in on the card below/))
      .assertReply((activity) => assert.equal(activity.attachments?.[0]?.contentType, 'application/vnd.microsoft.card.oauth'))
      .startTest();
    await harness.settle();
    assert.equal(harness.graph.sentMail.length, 0, 'nothing is sent before the sign-in');

    // The sign-in completes: what Priya was about to send goes, without pressing Send again.
    await priya()
      .send({ type: 'invoke', name: 'signin/verifyState', value: { state: '246810' } } as Partial<Activity>)
      .assertReply((activity) => assert.match(activity.text ?? '', /^Signed in/))
      .assertReply((activity) => assert.match(activity.text ?? '', /^Sending 3 messages from your mailbox/))
      .startTest();
    await harness.settle();

    const mail = harness.graph.sentMail;
    assert.equal(mail.length, 3);
    for (const sent of mail) assert.equal(sent.from, PEOPLE.priya.aadObjectId);
    const to = (name: string) => mail.find((sent) => sent.to[0]?.startsWith(name));
    assert.match(to('asha.patel')!.body, /^Dear Asha Patel,/);
    assert.match(to('ben.cole')!.body, /^Dear Ben Cole,[\s\S]*no UK mobile number/);
    assert.doesNotMatch(to('ben.cole')!.body, /direct patient care/);
    assert.match(to('cara.diaz')!.body, /^Dear Cara Diaz,[\s\S]*direct patient care/);
    assert.ok(
      tallies().some((text) => text.startsWith(`**${request.reference}**: told 3 of 3 affected users by email from your mailbox.`)),
      tallies().join('\n'),
    );

    // NAS Operations see what was done beside the requester's tick, not the tick alone.
    const posted = (await harness.app.requests.get(request.id))!;
    const opsCard = JSON.stringify(opsChannelCard(harness.messenger, posted.opsActivityId));
    const today = new Date().toLocaleDateString('en-GB', { day: 'numeric', month: 'short', timeZone: 'Europe/London' });
    assert.ok(
      opsCard.includes(`told about the transfer process and its timescales. (affected users told by email on ${today} (at submission): 3 of 3)`),
      opsCard,
    );

    // Pressing Send again sends nobody a second message.
    await priya()
      .send(press('send'))
      .assertReply((activity) => assert.match(activity.text ?? '', /Nothing new to send .*3 already sent/))
      .startTest();
    await harness.settle();
    assert.equal(harness.graph.sentMail.length, 3);

    const events = (await harness.app.audit.forRequest(request.id)).map((event) => event.action);
    assert.equal(events.filter((action) => action === 'duties.mail_sent').length, 3, 'audited per recipient');
    const details = JSON.stringify((await harness.app.audit.forRequest(request.id)).map((event) => event.detail));
    assert.doesNotMatch(details, /Dear|mobile number/, 'no message text in the audit');
  });

  it('single sign-on: a consented Teams token sends what was about to go, once, however many devices answer; a refused one gets 412', async () => {
    await priya().send(press('send')).startTest(); // the sign-in card, with the send remembered
    const exchange = (id: string, token: string) =>
      ({ type: 'invoke', name: 'signin/tokenExchange', value: { id, connectionName: 'graph-mail', token } }) as Partial<Activity>;

    // Consent not given yet: 412 echoing the exchange, so Teams shows the sign-in button; nothing sent.
    await priya()
      .send(exchange('exchange-1', 'unconsented-teams-token'))
      .assertReply((activity) => {
        assert.equal(activity.type, 'invokeResponse');
        const response = activity.value as { status: number; body: { id: string; connectionName: string } };
        assert.equal(response.status, 412);
        assert.equal(response.body.id, 'exchange-1');
        assert.equal(response.body.connectionName, 'graph-mail');
      })
      .startTest();
    await harness.settle();
    assert.equal(harness.graph.sentMail.length, 0);

    // Consented, from two devices: one send, one "Signed in", and the second answer is silent.
    const replies: Array<Partial<Activity>> = [];
    for (const device of [1, 2]) {
      const adapter = priya();
      await adapter.receiveActivity(exchange('exchange-2', 'consented-teams-token'));
      const answered = adapter.activeQueue.splice(0);
      assert.deepEqual(
        answered.filter((activity) => activity.type === 'invokeResponse').map((activity) => (activity.value as { status: number }).status),
        [200],
        `device ${device}`,
      );
      replies.push(...answered.filter((activity) => activity.type === 'message'));
    }
    await harness.settle();
    assert.equal(harness.graph.sentMail.length, 3, 'each affected user mailed once');
    const texts = replies.map((activity) => activity.text ?? '');
    assert.equal(texts.filter((text) => text.startsWith('Signed in')).length, 1, texts.join('\n'));
    assert.equal(texts.filter((text) => text.startsWith('Sending 3 messages')).length, 1, texts.join('\n'));
  });

  it('tells the requester when single sign-on failed in Teams (signin/failure), which Teams itself does not', async () => {
    await priya()
      .send({
        type: 'invoke',
        name: 'signin/failure',
        value: { code: 'resourcematchfailed', message: 'Resource match failed for priya@…' },
      } as Partial<Activity>)
      .assertReply((activity) => assert.match(activity.text ?? '', /^Signing in through Teams did not work, so nothing was sent\. Choose \*\*Download/))
      .assertReply((activity) => assert.equal((activity.value as { status: number }).status, 200))
      .startTest();
    assert.ok(!logLines.some((line) => line.includes('Resource match failed')), 'Teams’ message (personal data) is not logged');
  });

  it('a Send press drafts the messages once (issue 23: the check before the sign-in reads the request only)', async () => {
    signIn.signedIn.add(PEOPLE.priya.aadObjectId);
    const offer = sinon.spy(AffectedUserDuties.prototype, 'offer');
    try {
      await priya()
        .send(press('send'))
        .assertReply((activity) => assert.match(activity.text ?? '', /^Sending 3 messages/))
        .startTest();
      assert.equal(offer.callCount, 1, 'drafted once per press');
    } finally {
      offer.restore();
    }
    await harness.settle();
    assert.equal(harness.graph.sentMail.length, 3);
  });

  it('a sign-in with nothing about to be sent (or a failed one) sends nothing and says what to press', async () => {
    await priya()
      .send({ type: 'invoke', name: 'signin/verifyState', value: { state: '999999' } } as Partial<Activity>)
      .assertReply((activity) => assert.match(activity.text ?? '', /^The sign-in did not complete, so nothing was sent/))
      .startTest();
    await priya()
      .send({ type: 'invoke', name: 'signin/verifyState', value: { state: '246810' } } as Partial<Activity>)
      .assertReply((activity) => assert.match(activity.text ?? '', /^Signed in: .* Press \*\*Send\*\* on the drafts card/))
      .startTest();
    await harness.settle();
    assert.equal(harness.graph.sentMail.length, 0);
  });

  it('waits out a 429, gives up on a 403, and says who was not told and what to do', async () => {
    signIn.signedIn.add(PEOPLE.priya.aadObjectId);
    harness.graph.failNextSendMail(429, 1, 0);
    harness.graph.failNextSendMail(403, 1);
    await priya()
      .send(press('send'))
      .assertReply((activity) => assert.match(activity.text ?? '', /^Sending 3 messages/))
      .startTest();
    await harness.settle();
    assert.equal(harness.graph.sentMail.length, 2);
    const tally = tallies().find((text) => text.includes('told 2 of 3'));
    assert.ok(tally, tallies().join('\n'));
    assert.match(tally, /1 failed:\n- .+@nhsmail\.example: your mailbox does not allow the bot to send mail for you/);
    assert.match(tally, /choose \*\*Download\*\*/);
  });

  it('an expired sign-in fails each message plainly rather than sending nothing silently', async () => {
    await priya().send(press('send')).startTest(); // not signed in: the sign-in card
    signIn.signedIn.add(PEOPLE.priya.aadObjectId);
    await priya().send(press('send')).startTest();
    signIn.signedIn.clear(); // the token expires before the outbox sends
    await harness.settle();
    assert.equal(harness.graph.sentMail.length, 0);
    assert.ok(
      tallies().some((text) => /told 0 of 3[\s\S]*you are not signed in to send mail \(or your sign-in expired\)/.test(text)),
      tallies().join('\n'),
    );
  });

  it('the outcome offers the follow-up messages: the approved told they are moving, the rejected their NAS reason, with the leaver warning', async () => {
    const tom = { id: PEOPLE.tom.aadObjectId, name: 'Tom Ashdown' };
    const submitted = await harness.app.requests.submit({
      ...requestDetails({ id: PEOPLE.priya.aadObjectId, name: 'Priya Okafor' }),
      draftId: randomUUID(),
      accounts: [
        { ...screenedAccount(1, `eve.stone.${n}@nhsmail.example`, 'eligible'), evidence: { directoryFound: true, displayName: 'Eve Stone' } },
        { ...screenedAccount(2, `dev.rao.${n}@nhsmail.example`, 'review'), evidence: { directoryFound: true, displayName: 'Dev Rao' } },
      ],
    });
    await harness.app.requests.approveEligible(submitted.request.id, tom);
    await harness.app.requests.rejectUndecided(submitted.request.id, tom, 'Works at head office, not in patient care.');
    await harness.settle();
    const decided = (await harness.app.requests.get(submitted.request.id))!;
    const outcome = harness.messenger.toUser('priya').find((sent) => cardText(sent.activity).includes(`${decided.reference} has been decided`));
    assert.ok(outcome);
    const outcomeCard = cardText(outcome.activity);
    assert.match(outcomeCard, /"title":"Tell the affected users","data":\{"duties":"show","requestId":\d+,"stage":"outcome"\}/);
    assert.match(outcomeCard, /Do not mark the account being transferred as a leaver/);

    signIn.signedIn.add(PEOPLE.priya.aadObjectId);
    await priya()
      .send({ type: 'message', value: { duties: 'show', requestId: String(decided.id), stage: 'outcome' } })
      .assertReply((activity) => {
        const text = cardText(activity);
        assert.match(text, /NAS Operations have decided every account/);
        assert.match(text, /Staying with you: each is told their reason and what happens next \(1\)/);
      })
      .send({ type: 'message', value: { duties: 'send', requestId: String(decided.id), stage: 'outcome' } })
      .assertReply((activity) => assert.match(activity.text ?? '', /^Sending 2 messages/))
      .startTest();
    await harness.settle();
    const dev = harness.graph.sentMail.find((sent) => sent.to[0] === `dev.rao.${n}@nhsmail.example`);
    assert.match(dev!.body, /^Dear Dev Rao,[\s\S]*Why: NAS Operations decided not to take it: Works at head office, not in patient care\./);
    const eve = harness.graph.sentMail.find((sent) => sent.to[0] === `eve.stone.${n}@nhsmail.example`);
    assert.match(eve!.body, /agreed to administer your NHSmail account/);
  });

  it('offers the messages as files to download, a CSV for mail merge and one per group', async () => {
    await priya()
      .send(press('download'))
      .assertReply((activity) => assert.match(activity.text ?? '', /are 4 files/))
      .assertReply((activity) => assert.equal(activity.attachments?.[0]?.name, `${request.reference}-submitted-mail-merge.csv`))
      .assertReply((activity) => assert.equal(activity.attachments?.[0]?.name, `${request.reference}-submitted-being-transferred.txt`))
      .assertReply((activity) => assert.equal(activity.attachments?.[0]?.name, `${request.reference}-submitted-not-eligible-yet.txt`))
      .assertReply((activity) => assert.equal(activity.attachments?.[0]?.name, `${request.reference}-submitted-staying-with-you.txt`))
      .startTest();
  });
});
