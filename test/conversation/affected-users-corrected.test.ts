import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { CardFactory, type TurnContext } from 'botbuilder';
import type { MailSignIn } from '../../bot/duties/mail-sign-in';
import { sandboxUserToken } from '../../dev/sandbox/graph-server';
import { knowOpsChannelAndRequester, PEOPLE, startHarness, type Harness } from '../support/bot-harness';
import { requestDetails, screenedAccount } from '../support/fixtures';

/** Priya is signed in to send from her mailbox throughout. */
class SignedIn implements MailSignIn {
  async tokenFor(userId: string): Promise<string | undefined> {
    return userId === PEOPLE.priya.aadObjectId ? sandboxUserToken(userId) : undefined;
  }
  async signInCard() {
    return CardFactory.oauthCard('graph-mail', 'Sign in', 'Allow sending.', 'https://token.example/sign-in');
  }
  async verify(_context: TurnContext, _code: string): Promise<boolean> {
    return false;
  }
  async exchange(_context: TurnContext, _token: string): Promise<boolean> {
    return false;
  }
}

/**
 * An affected user is told the decision that stands, not one NAS Operations corrected: a message
 * queued with the earlier decision is not sent, and one already sent is followed by the new one
 * when the requester presses Send again (found in review). Never the same message twice.
 */
describe('telling the affected users after a decision is corrected or the request withdrawn', () => {
  let harness: Harness;
  let n = 0;
  const tom = { id: PEOPLE.tom.aadObjectId, name: 'Tom Ashdown' };

  before(async () => {
    harness = await startHarness({ mailSignIn: new SignedIn() });
    await knowOpsChannelAndRequester(harness);
  });
  after(() => harness.close());

  /** Eve approved, Dev rejected: the request decided and its outcome delivered. */
  async function decided() {
    n++;
    const submitted = await harness.app.requests.submit({
      ...requestDetails({ id: PEOPLE.priya.aadObjectId, name: 'Priya Okafor' }),
      draftId: randomUUID(),
      accounts: [
        { ...screenedAccount(1, `eve.stone.${n}@nhsmail.example`, 'eligible'), evidence: { directoryFound: true, displayName: 'Eve Stone' } },
        { ...screenedAccount(2, `dev.rao.${n}@nhsmail.example`, 'review'), evidence: { directoryFound: true, displayName: 'Dev Rao' } },
      ],
    });
    const id = submitted.request.id;
    await harness.app.requests.approveEligible(id, tom);
    await harness.app.requests.rejectUndecided(id, tom, 'Works at head office, not in patient care.');
    await harness.settle();
    const request = (await harness.app.requests.get(id))!;
    harness.messenger.clear();
    const dev = request.accounts.find((account) => account.email.startsWith('dev'))!;
    return { request, dev };
  }

  const pressSend = async (requestId: number): Promise<string> => {
    let reply = '';
    await harness
      .adapterFor('priya')
      .send({ type: 'message', value: { duties: 'send', requestId: String(requestId), stage: 'outcome' } })
      .assertReply((activity) => {
        reply = activity.text ?? '';
      })
      .startTest();
    return reply;
  };
  const mailTo = (address: string) => harness.graph.sentMail.filter((mail) => mail.to[0] === address);
  const priyaTexts = () => harness.messenger.toUser('priya').map((sent) => sent.activity.text ?? '');

  it('a message queued with the earlier decision is not sent; the requester is told why, and Send sends the new one once', async () => {
    const { request, dev } = await decided();
    assert.match(await pressSend(request.id), /^Sending 2 messages/);
    assert.equal(mailTo(dev.email).length, 0, 'the paced mail has not gone yet');
    await harness.app.requests.correctDecision(request.id, dev.id, 'approved', tom, 'Patient-facing after all.');
    await harness.settle();

    assert.equal(mailTo(dev.email).length, 0, 'Dev is not told the rejection that was corrected');
    assert.equal(mailTo(`eve.stone.${n}@nhsmail.example`).length, 1);
    const tally = priyaTexts().find((text) => text.includes('told 1 of 2'));
    assert.ok(tally, priyaTexts().join('\n'));
    assert.match(tally, new RegExp(`1 failed:\\n- dev\\.rao\\.${n}@nhsmail\\.example: not sent: the decision changed before it went`));
    assert.match(tally, /press \*\*Send\*\* again to send the current message/);

    assert.match(await pressSend(request.id), /^Sending 1 message from your mailbox[\s\S]*1 sent before are not sent again\./);
    await harness.settle();
    const told = mailTo(dev.email);
    assert.equal(told.length, 1);
    assert.match(told[0]!.body, /^Dear Dev Rao,[\s\S]*agreed to administer your NHSmail account/);
    assert.doesNotMatch(told[0]!.body, /head office/);

    assert.match(await pressSend(request.id), /Nothing new to send .*2 already sent/);
    await harness.settle();
    assert.equal(mailTo(dev.email).length, 1, 'never the same message twice');
  });

  it('Send pressed again before the earlier message went: only the current message goes, once', async () => {
    const { request, dev } = await decided();
    assert.match(await pressSend(request.id), /^Sending 2 messages/);
    await harness.app.requests.correctDecision(request.id, dev.id, 'approved', tom, 'Patient-facing after all.');
    const reply = await pressSend(request.id);
    assert.match(reply, /^Sending 1 message from your mailbox/);
    assert.doesNotMatch(reply, /earlier decision/, 'nobody was told the earlier one');
    await harness.settle();
    const told = mailTo(dev.email);
    assert.equal(told.length, 1, told.map((mail) => mail.body.slice(0, 80)).join('\n'));
    assert.match(told[0]!.body, /agreed to administer your NHSmail account/);
    assert.ok(
      priyaTexts().some((text) => text.includes('told 2 of 2')),
      priyaTexts().join('\n'),
    );
  });

  it('a message queued at submission is not sent once the request is withdrawn, and the requester is not asked to send it again', async () => {
    n++;
    const submitted = await harness.app.requests.submit({
      ...requestDetails({ id: PEOPLE.priya.aadObjectId, name: 'Priya Okafor' }),
      draftId: randomUUID(),
      accounts: [{ ...screenedAccount(1, `gil.hart.${n}@nhsmail.example`, 'eligible'), evidence: { directoryFound: true, displayName: 'Gil Hart' } }],
    });
    await harness.settle();
    harness.messenger.clear();
    let reply = '';
    await harness
      .adapterFor('priya')
      .send({ type: 'message', value: { duties: 'send', requestId: String(submitted.request.id), stage: 'submitted' } })
      .assertReply((activity) => {
        reply = activity.text ?? '';
      })
      .startTest();
    assert.match(reply, /^Sending 1 message/);
    await harness.app.requests.withdraw(submitted.request.id, { id: PEOPLE.priya.aadObjectId, name: 'Priya Okafor' });
    await harness.settle();
    assert.equal(mailTo(`gil.hart.${n}@nhsmail.example`).length, 0, 'nobody is told of a transfer that was withdrawn');
    const tally = priyaTexts().find((text) => text.includes('told 0 of 1'));
    assert.ok(tally, priyaTexts().join('\n'));
    assert.match(tally, /not sent: the request was withdrawn/);
    assert.match(tally, /The request was withdrawn: nobody needs to be told about a transfer\./);
    assert.doesNotMatch(tally, /send the failed ones again|press \*\*Send\*\*/);
  });

  it('a message sent before the correction is followed by the corrected one when Send is pressed again, once', async () => {
    const { request, dev } = await decided();
    assert.match(await pressSend(request.id), /^Sending 2 messages/);
    await harness.settle();
    assert.match(mailTo(dev.email)[0]!.body, /Why: NAS Operations decided not to take it/);

    await harness.app.requests.correctDecision(request.id, dev.id, 'approved', tom, 'Patient-facing after all.');
    await harness.settle();
    const change = priyaTexts().find((text) => text.includes('has changed'));
    assert.ok(change, priyaTexts().join('\n'));
    assert.match(
      change,
      new RegExp(
        `if that included dev\\.rao\\.${n}@nhsmail\\.example, they were told the earlier decision\\. Type \\*\\*tell ${request.reference}\\*\\* and press \\*\\*Send\\*\\*`,
      ),
    );
    const reply = await pressSend(request.id);
    assert.match(reply, /^Sending 1 message from your mailbox/);
    assert.match(reply, /One goes to someone told an earlier decision, since changed\./);
    await harness.settle();
    const told = mailTo(dev.email);
    assert.equal(told.length, 2);
    assert.match(told[1]!.body, /agreed to administer your NHSmail account/);
    assert.equal(mailTo(`eve.stone.${n}@nhsmail.example`).length, 1, 'Eve is not told again');

    assert.match(await pressSend(request.id), /Nothing new to send .*2 already sent/);
    await harness.settle();
    assert.equal(mailTo(dev.email).length, 2, 'never the same message twice');
  });
});
