import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { AdaptiveCardInvokeResponse, TestAdapter } from 'botbuilder';
import type { StoredRequest } from '../../services/model';
import { cardText, knowOpsChannelAndRequester, opsCardUser, opsChannelCard, PEOPLE, startHarness, type Harness } from '../support/bot-harness';
import { cardWords, type CardUser } from '../support/card-actions';
import { requestDetails, screenedAccount } from '../support/fixtures';

/**
 * Issue 21: what people are told is true. A request with nothing approved is "decided: nothing
 * to transfer", never "complete", and stays correctable; a decision changed after the requester
 * was told reaches them, and their outcome card is brought up to date in place.
 */
describe('told the truth: nothing to transfer, and changed decisions reach the requester', () => {
  let harness: Harness;
  let adapter: TestAdapter;
  let request: StoredRequest;
  let tom: CardUser<AdaptiveCardInvokeResponse>;
  let made = 0;
  const stored = async () => (await harness.app.requests.get(request.id))!;
  const toPriya = () => harness.messenger.toUser('priya');
  const textsToPriya = () => toPriya().map((sent) => sent.activity.text ?? cardText(sent.activity));
  const checksRun = async () => {
    await harness.app.checks.drain();
    await harness.settle();
  };
  const seeCard = () => tom.sees(opsChannelCard(harness.messenger, request.opsActivityId));

  before(async () => {
    harness = await startHarness();
    await knowOpsChannelAndRequester(harness);
  });
  after(() => harness.close());

  async function submit(accounts: Array<'eligible' | 'review'>): Promise<string[]> {
    const n = ++made;
    const emails = accounts.map((_, index) => `truth.${n}.${index + 1}@nhsmail.example`);
    const submitted = await harness.app.requests.submit({
      ...requestDetails({ id: PEOPLE.priya.aadObjectId, name: 'Priya Okafor' }),
      draftId: randomUUID(),
      accounts: accounts.map((verdict, index) => screenedAccount(index + 1, emails[index]!, verdict)),
    });
    await harness.settle();
    request = (await harness.app.requests.get(submitted.request.id))!;
    adapter = harness.adapterFor('tom');
    tom = opsCardUser(() => adapter, 'tom').sees(opsChannelCard(harness.messenger, request.opsActivityId));
    harness.messenger.clear();
    return emails;
  }

  it('ends a request with no approved account as "decided: nothing to transfer", in words that say so, and keeps it correctable', async () => {
    const [only] = await submit(['review']);
    await tom.press({ title: 'Reject', row: only! }, { decisionReason: 'Site DSPT not met.' });
    await checksRun();
    assert.equal((await stored()).status, 'decided', 'never complete with nothing approved');
    seeCard();
    const words = cardWords(tom.card);
    assert.match(words, /Decided: nothing to transfer/);
    assert.doesNotMatch(words, /Completed|every approved account transferred|waiting to be transferred/);
    assert.ok(tom.offers({ title: 'Change to approved', row: only! }), 'the decision can still be changed');

    const told = textsToPriya().join('\n');
    assert.match(told, /has been decided: nothing to transfer/);
    assert.doesNotMatch(told, /is complete|NAS now administers/);
    const actions = (await harness.app.audit.forRequest(request.id)).map((event) => event.action);
    assert.ok(!actions.includes('request.completed'));
  });

  it('tells the requester a decision changed after the outcome reached them, and updates their outcome card in place', async () => {
    const [eligible, review] = await submit(['eligible', 'review']);
    await tom.press({ title: 'Approve all eligible (1)' });
    await tom.press({ title: 'Reject', row: review! }, { decisionReason: 'Site DSPT not met.' });
    await checksRun();
    const outcome = toPriya().find((sent) => cardText(sent.activity).includes('has been decided'));
    assert.ok(outcome, 'the outcome reached the requester');
    assert.match(cardText(outcome.activity), /"Rejected"/);
    assert.match(cardText(outcome.activity), /Start a new request with the one you can fix/);
    seeCard();
    harness.messenger.clear();

    await tom.press({ title: 'Change to approved', row: review! }, { decisionReason: 'DSPT now met (checked 24 Nov).' });
    await checksRun();

    const told = toPriya().map((sent) => sent.activity.text ?? '');
    const news = told.filter((text) => text.includes('has changed'));
    assert.equal(news.length, 1, `told once: ${told.join(' | ')}`);
    assert.ok(news[0]!.includes(review!), 'names the account');
    assert.match(news[0]!, /is now \*\*approved\*\* \(it was rejected\)/);
    assert.match(news[0]!, /Changed by Tom Ashdown \(NAS Operations\) at .*, because: DSPT now met \(checked 24 Nov\)\./);

    const updated = harness.messenger.updates.filter((update) => update.activityId === outcome.activityId);
    assert.equal(updated.length, 1, 'the outcome card is updated in place');
    const card = cardText(updated[0]!.activity);
    assert.doesNotMatch(card, /"Rejected"/, 'no longer listed under Rejected');
    assert.doesNotMatch(card, /Start a new request/, 'nor offered to resubmit');
    assert.ok(card.includes(review!) && card.includes(eligible!), 'both listed as accepted');
    assert.match(card, /2 accepted for transfer to NAS, 0 rejected/);

    const audit = await harness.app.audit.forRequest(request.id);
    assert.equal(audit.filter((event) => event.action === 'account.corrected').length, 1);
    assert.ok(audit.some((event) => event.action === 'requester.notified' && event.detail.kind === 'outcome.changed'));
  });
});
