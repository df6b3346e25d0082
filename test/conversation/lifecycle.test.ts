import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { AdaptiveCardInvokeResponse, TestAdapter } from 'botbuilder';
import { ConversationReferences } from '../../bot/state/conversation-references';
import type { StoredRequest } from '../../services/model';
import { cardText, knowOpsChannelAndRequester, opsCardUser, opsChannel, opsChannelCard, PEOPLE, startHarness, type Harness } from '../support/bot-harness';
import { findOffered, type CardUser } from '../support/card-actions';
import { requestDetails, screenedAccount } from '../support/fixtures';

/** The request's life after submission: claimed, decided, corrected, transferred, completed, or withdrawn. */
describe('request lifecycle (claim, correct, transferred, completed, withdrawn)', () => {
  let harness: Harness;
  let adapter: TestAdapter;
  let request: StoredRequest;
  let made = 0;

  /** Tom (NAS Operations) with the card posted in the channel in front of him; `viewer` gives anyone else that card. */
  let tom: CardUser<AdaptiveCardInvokeResponse>;
  /** The card as posted in the channel, kept: the record of what was sent is cleared before each test. */
  let posted: Record<string, unknown> | undefined;
  const viewer = (user: keyof typeof PEOPLE) => opsCardUser(() => adapter, user).sees(opsChannelCard(harness.messenger, request.opsActivityId) ?? posted);
  let eligibleEmail: string;
  let reviewEmail: string;
  const card = (response: AdaptiveCardInvokeResponse) => JSON.stringify(response.value);
  const events = async () => (await harness.app.audit.forRequest(request.id)).map((event) => event.action);
  const stored = async () => (await harness.app.requests.get(request.id))!;

  before(async () => {
    harness = await startHarness();
    await knowOpsChannelAndRequester(harness);
  });
  after(() => harness.close());
  beforeEach(async () => {
    adapter = harness.adapterFor('tom');
    const n = ++made;
    const submitted = await harness.app.requests.submit({
      ...requestDetails({ id: PEOPLE.priya.aadObjectId, name: 'Priya Okafor' }),
      draftId: randomUUID(),
      accounts: [screenedAccount(1, `life.eligible.${n}@nhsmail.example`, 'eligible'), screenedAccount(2, `life.review.${n}@nhsmail.example`, 'review')],
    });
    eligibleEmail = `life.eligible.${n}@nhsmail.example`;
    reviewEmail = `life.review.${n}@nhsmail.example`;
    await harness.settle();
    request = (await harness.app.requests.get(submitted.request.id))!;
    posted = opsChannelCard(harness.messenger, request.opsActivityId);
    tom = viewer('tom');
    harness.messenger.clear();
  });

  it('shows who is reviewing a request once they assign it to themselves, on the card, in pending and in the audit', async () => {
    assert.equal((await stored()).status, 'submitted');
    const claimed = await tom.press({ title: 'Assign to me' });
    assert.match(card(claimed), /"In review"/);
    assert.match(card(claimed), /assigned to Tom Ashdown since \d{1,2} \w{3} \d{4}, \d\d:\d\d (GMT|BST)/);
    assert.equal(tom.offers({ title: 'Assign to me' }), false, 'no Assign to me once it is his');
    assert.deepEqual(await events(), ['request.submitted', 'request.claimed']);
    await harness.settle();
    assert.match(cardText(harness.messenger.updates.at(-1)!.activity), /assigned to Tom Ashdown/, 'everyone sees it');
    assert.doesNotMatch(cardText(harness.messenger.updates.at(-1)!.activity), /"Assign to me"/, 'and nobody is offered it');

    adapter.activeQueue.splice(0);
    await adapter.processActivity({
      type: 'message',
      text: '<at>NAS Transfer Bot</at> pending',
      from: PEOPLE.tom,
      conversation: opsChannel,
      channelData: { tenant: { id: opsChannel.tenantId }, channel: { id: opsChannel.id } },
    });
    assert.match(adapter.activeQueue[0]?.text ?? '', new RegExp(`\\*\\*${request.reference}\\*\\*.*\\(today\\) · In review by Tom Ashdown`));
  });

  it('changes a decision only with a reason, told next to the button pressed, and keeps both decisions in the audit', async () => {
    await tom.press({ title: 'Approve all eligible (1)' });
    const reviewId = request.accounts[1]!.id;
    await tom.press({ title: 'Reject', row: reviewEmail }, { decisionReason: 'DSPT not met.' });
    assert.equal((await stored()).status, 'decided');

    const withoutReason = await tom.press({ title: 'Change to approved', row: reviewEmail });
    const body = card(withoutReason);
    const rowNotice = body.indexOf('Give a reason for changing the decision');
    assert.ok(rowNotice > body.indexOf('life.review.'), 'the refusal is shown by that account, below its address');
    assert.match(
      findOffered(tom.card, { title: 'Change to approved', row: reviewEmail }).row,
      /Give a reason for changing the decision/,
      'in that account’s row, next to the button pressed',
    );
    assert.doesNotMatch(findOffered(tom.card, { title: 'Mark transferred', row: eligibleEmail }).row, /Give a reason/, 'not in another account’s row');
    // Accent, not Attention: Attention is 2.5:1 on Teams dark (the ops card's notices, test/browser/cards-render.test.ts).
    assert.match(
      body,
      /"text":"[^"]*Give a reason for changing the decision[^"]*","wrap":true,"size":"Small","weight":"Bolder","color":"Accent"/,
      'in the row, not at the foot of the card',
    );
    assert.equal((await stored()).accounts[1]?.decision, 'rejected');

    const corrected = await tom.press({ title: 'Change to approved', row: reviewEmail }, { decisionReason: 'DSPT now met (checked 24 Nov).' });
    assert.match(card(corrected), /Approved by Tom Ashdown at .*: DSPT now met/);
    const audit = await harness.app.audit.forRequest(request.id);
    const correction = audit.find((event) => event.action === 'account.corrected');
    assert.deepEqual(correction?.detail.before, { decision: 'rejected', by: 'Tom Ashdown', reason: 'DSPT not met.' });
    assert.deepEqual(correction?.detail.after, { decision: 'approved', by: 'Tom Ashdown', reason: 'DSPT now met (checked 24 Nov).' });
    assert.ok(
      audit.some((event) => event.action === 'account.rejected' && event.accountId === reviewId),
      'the first decision stays',
    );
  });

  it('completes the request only when every approved account marked transferred is confirmed (here: overridden), tells the requester, and freezes those decisions', async () => {
    await tom.press({ title: 'Approve all eligible (1)' });
    const decided = await tom.press({ title: 'Approve', row: reviewEmail });
    assert.match(card(decided), /Mark approved as transferred \(2\)/);

    // A second window still showing the card before the transfer was marked.
    const before = opsCardUser(() => adapter, 'tom').sees(tom.card);
    const one = await tom.press({ title: 'Mark transferred', row: eligibleEmail }, { transferNote: 'Batch 1' });
    assert.match(card(one), /Not yet moved in the directory; marked transferred by Tom Ashdown at .* \(Batch 1\)/);
    assert.equal(tom.offers({ title: 'Change to rejected', row: eligibleEmail }), false, 'a transferred account offers no change');
    assert.equal((await stored()).status, 'decided', 'one approved account is still to move');
    const frozen = await before.press({ title: 'Change to rejected', row: eligibleEmail }, { decisionReason: 'Too late' });
    assert.match(card(frozen), /its decision can no longer change/);

    const rest = await tom.press({ title: 'Mark approved as transferred (1)' });
    assert.match(card(rest), /"Decided"/, 'marked is not moved: these addresses are not in the directory, so nothing confirms them');
    assert.equal((await stored()).status, 'decided');
    // NAS Operations vouch for both moves, with a reason (test/conversation/facts-change.test.ts has the directory confirming them).
    await tom.press({ title: 'Transferred anyway: override', row: eligibleEmail }, { decisionReason: 'Moved by hand' });
    const last = await tom.press({ title: 'Transferred anyway: override', row: reviewEmail }, { decisionReason: 'Moved by hand' });
    assert.match(card(last), /"Completed"/);
    const completed = await stored();
    assert.equal(completed.status, 'completed');
    assert.ok(completed.completedAt);
    assert.deepEqual(await events(), [
      'request.submitted',
      'request.approved_eligible',
      'account.approved',
      'account.transferred',
      'account.transferred',
      'account.transfer_overridden',
      'account.transfer_overridden',
      'request.completed',
    ]);

    await harness.settle();
    const told = harness.messenger
      .toUser('priya')
      .map((sent) => sent.activity.text ?? '')
      .filter((text) => text.includes('is complete'));
    assert.equal(told.length, 1);
    assert.match(told[0]!, new RegExp(`The transfer \\*\\*${request.reference}\\*\\* is complete: NAS now administers these 2 accounts\\.`));
    assert.match(told[0]!, /- life\.eligible\.\d+@nhsmail\.example\n- life\.review\.\d+@nhsmail\.example/);
  });

  it('refreshes the card to the buttons for NAS Operations and to a read-only view for everyone else (Universal Actions refresh)', async () => {
    const forOps = await tom.refresh();
    assert.equal(forOps.statusCode, 200);
    assert.match(card(forOps), /"Approve all eligible \(1\)"/);
    assert.match(card(forOps), /"id":"decisionReason"/);
    assert.ok(tom.offers({ title: 'Approve', row: reviewEmail }) && tom.offers({ title: 'Reject', row: eligibleEmail }), 'every row’s buttons');

    for (const person of ['priya', 'sam'] as const) {
      const readOnly = await viewer(person).sees(tom.card).refresh();
      assert.equal(readOnly.statusCode, 200, 'not a refusal: they see the request, without the buttons');
      assert.match(card(readOnly), new RegExp(`Transfer request ${request.reference}`));
      assert.doesNotMatch(card(readOnly), /"Action\.(Execute|ShowCard)","title":"(Approve|Reject|Assign to me)/);
      assert.doesNotMatch(card(readOnly), /"type":"Input\.Text"/);
    }
    assert.deepEqual(await events(), ['request.submitted'], 'a refresh changes nothing and refuses no one');

    // Tom acted as NAS Operations, so the card names him for automatic refresh.
    const body = (forOps.value as unknown as { refresh: { action: { verb: string; data: { requestId: number } }; userIds: string[] } }).refresh;
    assert.equal(body.action.verb, 'refreshCard');
    assert.equal(body.action.data.requestId, request.id);
    assert.ok(body.userIds.includes(PEOPLE.tom.id));
    assert.ok(!body.userIds.includes(PEOPLE.priya.id));
    await tom.press({ title: 'Assign to me' });
    await harness.settle();
    const shared = harness.messenger.updates.at(-1)!.activity.attachments![0]!.content as { refresh: { userIds: string[] } };
    assert.deepEqual(shared.refresh.userIds, [PEOPLE.tom.id], 'the card everyone sees refreshes for NAS Operations');
  });

  it('reminds NAS Operations of a request left undecided after 3 working days, once, and again after 3 more', async () => {
    const submittedAt = (await stored()).createdAt;
    const later = (workingDays: number) => {
      // From the submission, skip that many working days (weekends and bank holidays left out), at 09:00 the day after.
      const at = new Date(submittedAt);
      let counted = 0;
      while (counted <= workingDays) {
        at.setUTCDate(at.getUTCDate() + 1);
        const weekday = at.getUTCDay();
        const date = at.toISOString().slice(0, 10);
        if (weekday !== 0 && weekday !== 6 && !['2026-12-25', '2026-12-28', '2027-01-01'].includes(date)) counted++;
      }
      return at;
    };
    const reminders = () => harness.messenger.opsPosts().filter((post) => (post.activity.text ?? '').includes(`Reminder: **${request.reference}**`));
    await harness.app.chasing.flagOverdue(later(2));
    await harness.settle();
    assert.equal(reminders().length, 0, 'not yet due');
    await harness.app.chasing.flagOverdue(later(3));
    await harness.app.chasing.flagOverdue(later(3));
    await harness.settle();
    assert.equal(reminders().length, 1, 'flagged once');
    assert.match(reminders()[0]!.activity.text ?? '', /has waited 3 working days for a decision \(nobody has assigned it to themselves yet\)/);
    await harness.app.chasing.flagOverdue(later(6));
    await harness.settle();
    assert.equal(reminders().length, 1, 'not again until the same period has passed again');
    await harness.app.chasing.flagOverdue(later(7));
    await harness.settle();
    assert.equal(reminders().length, 2);
    assert.match(reminders()[1]!.activity.text ?? '', /has waited 7 working days/);
    await tom.press({ title: 'Yes, reject both undecided' }, { decisionReason: 'Not now.' });
    await harness.app.chasing.flagOverdue(later(12));
    await harness.settle();
    assert.equal(reminders().length, 2, 'a decided request is not chased');
  });

  it('puts a question from the card to the requester, takes the answer from the chat, and shows both on the card and in the audit', async () => {
    const empty = await tom.press({ title: 'Send the question' }, { question: '  ' });
    assert.match(card(empty), /Type the question in the box above the button/);
    const asked = await tom.press({ title: 'Send the question' }, { question: 'Is the DSPT for ZZ9103 published yet? **urgent**' });
    assert.match(
      card(asked),
      /"text":"Tom Ashdown asked at [^"]+:","size":"Small","weight":"Bolder"\},\{"type":"TextRun","text":" Is the DSPT for ZZ9103 published yet\? \*\*urgent\*\*"/,
    );
    assert.match(card(asked), /Not answered yet\./);
    await harness.settle();
    const sent = harness.messenger
      .toUser('priya')
      .map((message) => message.activity.text ?? '')
      .find((text) => text.includes('asks about'));
    assert.match(
      sent ?? '',
      new RegExp(
        `Tom Ashdown in NAS Operations asks about \\*\\*${request.reference}\\*\\*:\\n\\nIs the DSPT for ZZ9103 published yet\\? \\\\\\*\\\\\\*urgent`,
      ),
    );

    await harness
      .adapterFor('priya')
      .send(`answer ${request.reference} Yes, it was published on 3 December.`)
      .assertReply((activity) => assert.match(activity.text ?? '', /your answer is on/))
      .send(`answer ${request.reference} And another thing.`)
      .assertReply((activity) => assert.match(activity.text ?? '', /no open question on that request/))
      .startTest();
    await harness
      .adapterFor('sam')
      .send(`answer ${request.reference} Not mine to answer.`)
      .assertReply((activity) => assert.equal(activity.text, 'That request was not raised by you.'))
      .startTest();
    await harness.settle();
    assert.match(cardText(harness.messenger.updates.at(-1)!.activity), /Answer \([^)]+\): Yes, it was published on 3 December\./);
    assert.deepEqual(await events(), ['request.submitted', 'request.asked', 'requester.notified', 'request.answered']);
  });

  it('reminds the requester once of a question left unanswered for 3 working days', async () => {
    await tom.press({ title: 'Send the question' }, { question: 'Which site is this account at?' });
    await harness.settle();
    const reminders = () =>
      harness.messenger.toUser('priya').filter((sent) => (sent.activity.text ?? '').startsWith('Reminder: NAS Operations are still waiting for your answer.'));
    const inDays = (days: number) => new Date(Date.now() + days * 86_400_000);
    await harness.app.chasing.flagOverdue(inDays(1));
    await harness.settle();
    assert.equal(reminders().length, 0);
    // A week on, at least 3 working days have passed whatever the day and the bank holidays.
    await harness.app.chasing.flagOverdue(inDays(8));
    await harness.app.chasing.flagOverdue(inDays(20));
    await harness.settle();
    assert.equal(reminders().length, 1, 'chased once only');
    assert.match(reminders()[0]!.activity.text ?? '', /Which site is this account at\?/);
  });

  it('offers a new request, pre-filled, with the accounts rejected for reasons the requester can fix', async () => {
    await tom.press({ title: 'Approve all eligible (1)' });
    await tom.press({ title: 'Reject', row: reviewEmail }, { decisionReason: 'DSPT not met.' });
    await harness.settle();
    const outcome = harness.messenger.toUser('priya').find((sent) => cardText(sent.activity).includes(`${request.reference} has been decided`));
    assert.match(
      cardText(outcome!.activity),
      new RegExp(`"title":"Start a new request with the (1|one) (I|you) can fix","data":\\{"step":"resubmit","requestId":${request.id}\\}`),
    );

    await harness
      .adapterFor('sam')
      .send({ type: 'message', value: { step: 'resubmit', requestId: String(request.id) } })
      .assertReply((activity) => assert.equal(activity.text, 'That request was not raised by you.'))
      .startTest();
    await harness
      .adapterFor('priya')
      .send({ type: 'message', value: { step: 'resubmit', requestId: String(request.id) } })
      .assertReply((activity) =>
        assert.match(activity.text ?? '', new RegExp(`A new request from \\*\\*${request.reference}\\*\\*, with the account you can fix`)),
      )
      // The reason comes first, quoting the earlier request's; "same" gives it again.
      .assertReply((activity) => {
        assert.match(
          activity.text ?? '',
          new RegExp(`Your reason on ${request.reference} was:\\n\\n> Sponsorship ends in March\\.\\n\\nType \\*\\*same\\*\\* to give it again`),
        );
        assert.equal(activity.attachments?.length ?? 0, 0, 'a question, not yet the accounts card');
      })
      .send('same')
      .assertReply((activity) => {
        const input = (activity.attachments?.[0]?.content as { body: Array<{ id?: string; value?: string }> }).body.find(
          (element) => element.id === 'accounts',
        );
        assert.equal(input?.value, `life.review.${made}@nhsmail.example, ZZ9103`, 'only the fixable account, as it was listed');
      })
      .send('cancel')
      .assertReply((activity) => assert.match(activity.text ?? '', /Cancelled/))
      .startTest();
  });

  it('answers audit and export in the ops channel through the bot as wired: the history for ops, a consent card in the member’s chat, no one else', async () => {
    await tom.press({ title: 'Assign to me' });
    const say = async (user: keyof typeof PEOPLE, text: string) => {
      adapter.activeQueue.splice(0);
      await adapter.processActivity({
        type: 'message',
        text: `<at>NAS Transfer Bot</at> ${text}`,
        from: PEOPLE[user],
        conversation: opsChannel,
        channelData: { tenant: { id: opsChannel.tenantId }, channel: { id: opsChannel.id } },
      });
      return adapter.activeQueue.map((activity) => activity.text ?? '').join('\n');
    };
    const history = await say('tom', `audit ${request.reference}`);
    assert.match(history, new RegExp(`\\*\\*Audit history of ${request.reference}\\*\\* \\(2 events, UK time\\)`));
    assert.match(history, /Tom Ashdown/);
    assert.equal(await say('priya', `audit ${request.reference}`), 'Only members of NAS Operations can act on transfer requests.');

    // Tom has a personal chat with the bot in this test: the consent card goes there.
    await harness.app.references.save(ConversationReferences.forUser(PEOPLE.tom.aadObjectId), {
      serviceUrl: 'https://test',
      conversation: { id: 'a:tom-chat-1' } as never,
    });
    harness.messenger.clear();
    const answer = await say('tom', `export ${request.reference}`);
    assert.match(answer, /sent the export to your chat/i);
    const consent = harness.messenger.sent.find((sent) => sent.conversationId === 'a:tom-chat-1');
    assert.equal(consent?.activity.attachments?.[0]?.contentType, 'application/vnd.microsoft.teams.card.file.consent');
    assert.equal(consent?.activity.attachments?.[0]?.name, `${request.reference}.csv`);
  });

  /** Every ops button, at the stage the card shows it, pressed by the requester on the card in the channel. */
  const OPS_ONLY_BUTTONS: Array<{ title: string; row?: 'eligible' | 'review'; stage: 'fresh' | 'decided'; typed?: Record<string, string> }> = [
    { title: 'Assign to me', stage: 'fresh' },
    { title: 'Approve', row: 'review', stage: 'fresh' },
    { title: 'Yes, reject both undecided', stage: 'fresh', typed: { decisionReason: 'x' } },
    { title: 'Send the question', stage: 'fresh', typed: { question: 'Who are you?' } },
    { title: 'Change to rejected', row: 'eligible', stage: 'decided', typed: { decisionReason: 'x' } },
    { title: 'Mark transferred', row: 'eligible', stage: 'decided' },
    { title: 'Mark approved as transferred (2)', stage: 'decided' },
  ];
  for (const { title, row, stage, typed } of OPS_ONLY_BUTTONS) {
    it(`refuses "${title}"${row ? ` on the ${row} account` : ''} (${stage} card) to someone outside NAS Operations (the requester included), changing nothing`, async () => {
      if (stage === 'decided') {
        await tom.press({ title: 'Approve all eligible (1)' });
        await tom.press({ title: 'Approve', row: reviewEmail });
        await harness.settle();
      }
      const before = { events: await events(), request: await stored() };
      const response = await viewer('priya').press({ title, row: row === 'eligible' ? eligibleEmail : row === 'review' ? reviewEmail : undefined }, typed);
      assert.equal(response.statusCode, 403);
      assert.deepEqual(response.value, { code: 'NOT_OPS', message: 'Only members of NAS Operations can act on transfer requests.' });
      assert.deepEqual(await events(), [...before.events, 'card_action.refused']);
      const after = await stored();
      assert.equal(after.status, before.request.status);
      assert.deepEqual(after.accounts, before.request.accounts);
      assert.deepEqual(after.questions, before.request.questions);
    });
  }

  it('lets the requester withdraw until the first decision, and then no one can decide it', async () => {
    const priya = harness.adapterFor('priya');
    await priya
      .send(`withdraw ${request.reference}`)
      .assertReply((activity) => assert.match(activity.text ?? '', new RegExp(`Withdrawn: \\*\\*${request.reference}\\*\\*`)))
      .startTest();
    assert.equal((await stored()).status, 'withdrawn');
    adapter = harness.adapterFor('tom');
    // Tom's card is the one from before the withdrawal.
    const refused = await tom.press({ title: 'Approve all eligible (1)' });
    assert.match(card(refused), /The requester withdrew this request/);
    assert.match(card(refused), /"Withdrawn"/);
    assert.doesNotMatch(card(refused), /"Approve all eligible/);
    assert.deepEqual(await events(), ['request.submitted', 'request.withdrawn']);
  });

  it('refuses a withdrawal once NAS Operations have decided anything, and one by someone else', async () => {
    await tom.press({ title: 'Approve', row: reviewEmail });
    await harness
      .adapterFor('priya')
      .send(`withdraw ${request.reference}`)
      .assertReply((activity) => assert.match(activity.text ?? '', /already decided on accounts in this request, so it can no longer be withdrawn/))
      .startTest();
    await harness
      .adapterFor('sam')
      .send(`withdraw ${request.reference}`)
      .assertReply((activity) => assert.equal(activity.text, 'That request was not raised by you.'))
      .startTest();
    assert.equal((await stored()).status, 'submitted');
  });
});
