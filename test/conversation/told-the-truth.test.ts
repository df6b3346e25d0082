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

  /** Submits a request of these verdicts; `named` addresses (in the sandbox directory) are used first, then made-up ones. */
  async function submit(accounts: Array<'eligible' | 'review'>, named: string[] = []): Promise<string[]> {
    const n = ++made;
    const emails = accounts.map((_, index) => named[index] ?? `truth.${n}.${index + 1}@nhsmail.example`);
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

  /** The directory changes, as an administrator would change it in the NHSmail Portal. */
  const changeInDirectory = async (upn: string, fields: Record<string, unknown>) => {
    const response = await fetch(harness.graph.adminUserUrl(upn), {
      method: 'PATCH',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(fields),
    });
    assert.equal(response.status, 204);
  };
  const outcomeSent = () => toPriya().find((sent) => cardText(sent.activity).includes(`${request.reference} has been decided`));
  const outcomeAsShown = (activityId: string) => {
    const latest = [...harness.messenger.updates].reverse().find((update) => update.activityId === activityId);
    return cardText(latest?.activity ?? {});
  };

  it('brings the outcome card up to date in place when the directory completes the request, not only when a person changes something', async () => {
    const OSCAR = 'oscar.bell@nhsmail.example';
    await submit(['eligible'], [OSCAR]);
    await tom.press({ title: 'Approve all eligible (1)' });
    await checksRun();
    const outcome = outcomeSent();
    assert.ok(outcome, 'the outcome reached the requester');
    assert.match(cardText(outcome.activity), /Do not mark the account being transferred as a leaver/);
    harness.messenger.clear();

    // Oscar moves in the NHSmail Portal; the next look in the directory sees it and completes the request, with no one pressing anything.
    await changeInDirectory(OSCAR, { onPremisesExtensionAttributes: { extensionAttribute1: 'NAS', extensionAttribute2: 'ZZ9102' } });
    try {
      await harness.db.query(`UPDATE request_checks SET due_at = now() WHERE request_id = $1 AND kind = 'transfer'`, [request.id]);
      await checksRun();
    } finally {
      await changeInDirectory(OSCAR, { onPremisesExtensionAttributes: { extensionAttribute1: 'ZZ9001', extensionAttribute2: 'ZZ9102' } });
    }
    assert.equal((await stored()).status, 'completed');
    assert.equal(textsToPriya().filter((text) => text.includes('is complete')).length, 1, 'the completion is told');
    const card = outcomeAsShown(outcome.activityId);
    assert.ok(card, 'the outcome card is updated in place');
    assert.match(card, new RegExp(`Transfer request ${request.reference} is complete`));
    assert.doesNotMatch(card, /Do not mark the account being transferred as a leaver/, 'no longer warns of a transfer still to come');
  });

  it('tells the requester of an override that completes the request in one message: the completion, naming who overrode and why', async () => {
    const [only] = await submit(['eligible']);
    await tom.press({ title: 'Approve all eligible (1)' });
    await tom.press({ title: 'Mark approved as transferred (1)' });
    await checksRun();
    const outcome = outcomeSent();
    assert.ok(outcome, 'the outcome reached the requester');
    seeCard();
    harness.messenger.clear();

    await tom.press({ title: 'Transferred anyway: override', row: only! }, { decisionReason: 'Moved by the service desk; the directory lags.' });
    await harness.settle();
    assert.equal((await stored()).status, 'completed');
    const told = textsToPriya();
    assert.equal(told.length, 1, `one message: ${told.join(' | ')}`);
    assert.match(told[0]!, new RegExp(`The transfer \\*\\*${request.reference}\\*\\* is complete: NAS now administers this account\\.`));
    assert.ok(told[0]!.includes(only!), 'names the account');
    assert.match(
      told[0]!,
      /NAS Operations recorded this one as transferred, although the directory did not show the move yet:\n- .*: by Tom Ashdown at .*, because: Moved by the service desk; the directory lags\./,
    );
    assert.match(outcomeAsShown(outcome.activityId), /is complete/, 'the outcome card is brought up to date in place');
    const audit = await harness.app.audit.forRequest(request.id);
    assert.equal(audit.filter((event) => event.action === 'account.transfer_overridden').length, 1, 'the override is audited');
  });

  it('holds news of a change back until the outcome it changes has reached the requester', async () => {
    const [, review] = await submit(['eligible', 'review']);
    await tom.press({ title: 'Approve all eligible (1)' });
    await tom.press({ title: 'Reject', row: review! }, { decisionReason: 'Site DSPT not met.' });
    // The outcome is owed but Teams has not taken it yet (say it is waiting out a back-off).
    await harness.db.query(`UPDATE outbox SET due_at = now() + interval '1 hour' WHERE request_id = $1 AND kind = 'outcome'`, [request.id]);
    await checksRun();
    seeCard();
    await tom.press({ title: 'Change to approved', row: review! }, { decisionReason: 'DSPT now met (checked 24 Nov).' });
    await harness.settle();
    assert.deepEqual(textsToPriya(), [], 'nothing about a change to an outcome the requester has not seen');

    await harness.db.query(`UPDATE outbox SET due_at = now() WHERE request_id = $1 AND status = 'pending'`, [request.id]);
    await harness.settle();
    const told = textsToPriya();
    const outcomeAt = told.findIndex((text) => text.includes(`${request.reference} has been decided`));
    const changeAt = told.findIndex((text) => text.includes('has changed'));
    assert.ok(outcomeAt >= 0 && changeAt >= 0, `both told: ${told.join(' | ')}`);
    assert.ok(outcomeAt < changeAt, 'the outcome first, then what changed');
  });
});
