import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { AdaptiveCardInvokeResponse, TestAdapter } from 'botbuilder';
import type { StoredRequest } from '../../services/model';
import {
  cardText,
  IMMEDIATE_RETRIES,
  knowOpsChannelAndRequester,
  opsCardUser,
  opsChannelCard,
  PEOPLE,
  startHarness,
  type Harness,
} from '../support/bot-harness';
import { cardWords, type CardUser } from '../support/card-actions';
import { requestDetails, screenedAccount } from '../support/fixtures';

/*
 * What the requester is told after their outcome arrives in the order it happened, and reaches
 * them when Teams lets it (found by a hostile review): a change and its reversal must not end on
 * the first, and an outcome refused in a chat the requester later uses again is sent then.
 */
describe('news after the outcome, in order and not lost', () => {
  let harness: Harness;
  let adapter: TestAdapter;
  let request: StoredRequest;
  let tom: CardUser<AdaptiveCardInvokeResponse>;
  let made = 0;
  const textsToPriya = () => harness.messenger.toUser('priya').map((sent) => sent.activity.text ?? cardText(sent.activity));
  const outboxRows = () =>
    harness.db.query<{ kind: string; status: string }>(`SELECT kind, status FROM outbox WHERE request_id = $1 ORDER BY id`, [request.id]);
  /** Every row owed for the request falls due now (the back-offs waited out), then the workers run. */
  const waitOutBackOffs = async () => {
    await harness.db.query(`UPDATE outbox SET due_at = now() WHERE request_id = $1 AND status = 'pending'`, [request.id]);
    await harness.settle();
  };

  before(async () => {
    harness = await startHarness({ deliveryPolicy: { ...IMMEDIATE_RETRIES, baseBackoffSeconds: 120, maxBackoffSeconds: 120 } });
    await knowOpsChannelAndRequester(harness);
  });
  after(() => harness.close());

  /** A request of one eligible account and one for review; the review one is rejected and the outcome owed. */
  async function decidedWithOneRejected(beforeDeciding: () => void = () => undefined): Promise<string> {
    const n = ++made;
    const emails = [`in.order.${n}.1@nhsmail.example`, `in.order.${n}.2@nhsmail.example`];
    const submitted = await harness.app.requests.submit({
      ...requestDetails({ id: PEOPLE.priya.aadObjectId, name: 'Priya Okafor' }),
      draftId: randomUUID(),
      accounts: [screenedAccount(1, emails[0]!, 'eligible'), screenedAccount(2, emails[1]!, 'review')],
    });
    await harness.settle();
    request = (await harness.app.requests.get(submitted.request.id))!;
    adapter = harness.adapterFor('tom');
    tom = opsCardUser(() => adapter, 'tom').sees(opsChannelCard(harness.messenger, request.opsActivityId));
    beforeDeciding();
    await tom.press({ title: 'Approve all eligible (1)' });
    await tom.press({ title: 'Reject', row: emails[1]! }, { decisionReason: 'Site DSPT not met.' });
    await harness.app.checks.drain();
    await harness.settle();
    return emails[1]!;
  }

  it('a change and its reversal end on the reversal, although Teams answered 503 to the first (was: "now approved" last, stored rejected)', async () => {
    const account = await decidedWithOneRejected();
    harness.messenger.clear();
    // The card's update goes; the change message to Priya gets a 503 and backs off.
    harness.messenger.failNext({ status: 200, to: 'a:priya' }, { status: 503, to: 'a:priya' });
    await tom.press({ title: 'Change to approved', row: account }, { decisionReason: 'DSPT now met.' });
    await harness.settle();
    tom.sees(opsChannelCard(harness.messenger, request.opsActivityId));
    await tom.press({ title: 'Change to rejected', row: account }, { decisionReason: 'DSPT still not met.' });
    await harness.settle();
    await waitOutBackOffs();
    await waitOutBackOffs();

    const stored = (await harness.app.requests.get(request.id))!;
    assert.equal(stored.accounts.find((candidate) => candidate.email === account)?.decision, 'rejected');
    const changes = textsToPriya().filter((text) => text.includes(account) && /now \**(approved|rejected)/.test(text));
    assert.equal(changes.length, 2, changes.join('\n---\n'));
    assert.match(changes[0]!, /now \**approved/);
    assert.match(changes[1]!, /now \**rejected/, 'the last word is the decision as stored');
  });

  it('an outcome Teams refused (403) is owed again, and goes, when the requester talks to the bot again', async () => {
    await decidedWithOneRejected(() => harness.messenger.failNext({ status: 403, to: 'a:priya' }));
    assert.deepEqual(
      (await outboxRows()).filter((row) => row.kind === 'outcome').map((row) => row.status),
      ['undeliverable'],
      'Teams refused the outcome',
    );

    // Priya talks to the bot again: the outcome is owed again, and goes.
    await harness.adapterFor('priya').send('hello').startTest();
    await harness.settle();
    assert.deepEqual(
      (await outboxRows()).filter((row) => row.kind === 'outcome').map((row) => row.status),
      ['delivered'],
    );
    assert.ok(
      textsToPriya().some((text) => text.includes(`Transfer request ${request.reference} has been decided`)),
      textsToPriya().join('\n---\n'),
    );
  });

  it('a rejected account resubmitted in a new request cannot then be approved in the old one: one mailbox, one request', async () => {
    const account = await decidedWithOneRejected();
    const old = request;
    const again = await harness.app.requests.submit({
      ...requestDetails({ id: PEOPLE.priya.aadObjectId, name: 'Priya Okafor' }),
      draftId: randomUUID(),
      accounts: [screenedAccount(1, account, 'review')],
    });
    await harness.settle();
    request = old;
    await tom.press({ title: 'Change to approved', row: account }, { decisionReason: 'DSPT now met.' });
    assert.match(
      cardWords(tom.card),
      /That account is in another transfer request now, so it cannot be approved in this one\. It is waiting for a decision in NTR-/,
    );
    assert.equal((await harness.app.requests.get(old.id))!.accounts.find((candidate) => candidate.email === account)?.decision, 'rejected');
    assert.equal((await harness.app.requests.get(again.request.id))!.accounts[0]?.decision, null);
  });
});
