import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import type { AdaptiveCardInvokeResponse, TestAdapter } from 'botbuilder';
import { randomUUID } from 'node:crypto';
import { ConversationReferences } from '../../bot/state/conversation-references';
import type { ScreenedAccount } from '../../services/eligibility/types';
import type { StoredRequest } from '../../services/model';
import {
  cardText,
  executeCardAction,
  knowOpsChannelAndRequester,
  opsCardUser,
  opsChannel,
  opsChannelCard,
  PEOPLE,
  startHarness,
  type Harness,
} from '../support/bot-harness';
import type { CardUser } from '../support/card-actions';
import { requestDetails, screenedAccount } from '../support/fixtures';

const account = screenedAccount;

/** Forged card data only (tampering tests): everything else presses what the card shows. */
const sendForgedCardData = executeCardAction;

const cardOf = (response: AdaptiveCardInvokeResponse) => JSON.stringify(response.value);

describe('ops card actions (Action.Execute, one handler per verb)', () => {
  let harness: Harness;
  let request: StoredRequest;
  let adapter: TestAdapter;
  let requestsMade = 0;
  /** Tom in NAS Operations, and Priya (not in NAS Operations), each with the card posted in the channel in front of them. */
  let tom: CardUser<AdaptiveCardInvokeResponse>;
  let priya: CardUser<AdaptiveCardInvokeResponse>;
  let eligibleEmail: string;
  let reviewEmail: string;

  /** A submitted request, posted to the ops channel by the outbox as in the app. */
  async function submitted(accounts: ScreenedAccount[]): Promise<StoredRequest> {
    const { request: created } = await harness.app.requests.submit({
      ...requestDetails({ id: PEOPLE.priya.aadObjectId, name: 'Priya Okafor' }),
      draftId: randomUUID(),
      accounts,
    });
    await harness.settle();
    return (await harness.app.requests.get(created.id))!;
  }
  const outcomesSent = () => harness.messenger.toUser('priya').filter((sent) => cardText(sent.activity).includes('has been decided'));

  before(async () => {
    harness = await startHarness();
    await knowOpsChannelAndRequester(harness);
  });
  after(() => harness.close());

  beforeEach(async () => {
    adapter = harness.adapterFor('tom');
    // Each test's request has mailboxes of its own: one mailbox is never in two open requests.
    const n = ++requestsMade;
    eligibleEmail = `amara.mensah.${n}@nhsmail.example`;
    reviewEmail = `esme.flint.${n}@nhsmail.example`;
    request = await submitted([account(1, eligibleEmail, 'eligible'), account(2, reviewEmail, 'review')]);
    assert.ok(request.opsActivityId, 'the outbox posted the card');
    tom = opsCardUser(() => adapter, 'tom').sees(opsChannelCard(harness.messenger, request.opsActivityId));
    priya = opsCardUser(() => adapter, 'priya').sees(opsChannelCard(harness.messenger, request.opsActivityId));
    harness.messenger.clear();
  });

  it('approves all eligible accounts, shows who did it on the card, and updates the posted card for everyone', async () => {
    const response = await tom.press({ title: 'Approve all eligible (1)' });
    assert.equal(response.statusCode, 200);
    assert.equal(response.type, 'application/vnd.microsoft.card.adaptive');
    assert.match(cardOf(response), /Approved by Tom Ashdown at \d{1,2} \w{3} \d{4}, \d\d:\d\d (GMT|BST)/);
    assert.match(cardOf(response), /1 approved, 0 rejected, 1 to decide/);
    assert.equal(harness.messenger.updates.length, 0, 'the invoke did not wait for the shared update');
    await harness.settle();
    assert.equal(harness.messenger.updates.length, 1);
    assert.equal(harness.messenger.updates[0]?.activityId, request.opsActivityId);
    assert.match(cardText(harness.messenger.updates[0].activity), /Approved by Tom Ashdown/);
    assert.equal(outcomesSent().length, 0, 'the requester hears nothing until every account is decided');
  });

  it('needs a reason to reject, then rejects the rest and tells the requester the outcome with next steps', async () => {
    await tom.press({ title: 'Approve all eligible (1)' });
    const withoutReason = await tom.press({ title: 'Yes, reject the undecided account' }, { decisionReason: '  ' });
    assert.match(cardOf(withoutReason), /Give a reason to reject: the requester will see it\./);
    assert.equal((await harness.app.requests.get(request.id))?.status, 'submitted');

    const rejected = await tom.press({ title: 'Yes, reject the undecided account' }, { decisionReason: 'DSPT must be met before transfer.' });
    assert.match(cardOf(rejected), /"Decided"/);
    assert.match(cardOf(rejected), /Rejected by Tom Ashdown at .*?: DSPT must be met before transfer\./);

    await harness.settle();
    assert.equal(outcomesSent().length, 1);
    const outcome = cardText(outcomesSent()[0]!.activity);
    assert.match(outcome, new RegExp(`Transfer request ${request.reference} has been decided`));
    assert.match(outcome, /1 accepted for transfer to NAS, 1 rejected/);
    assert.match(outcome, /"Accepted".*amara\.mensah\.\d+@nhsmail\.example/);
    assert.match(
      outcome,
      /esme\.flint\.\d+@nhsmail\.example.*Why: [^"]*DSPT must be met before transfer\.[^"]*".*Next step: [^"]*Keep administering this account locally/,
    );
    const stored = (await harness.app.requests.get(request.id))!;
    assert.ok(stored.outcomeNotifiedAt, 'the notification is recorded');
    assert.ok(
      (await harness.app.audit.forRequest(request.id)).some((event) => event.action === 'requester.notified' && event.detail.kind === 'outcome'),
      'and audited',
    );
    assert.equal(stored.outcomeNotification, 'delivered');
    await harness.settle();
    assert.equal(outcomesSent().length, 1, 'sent once');
    assert.match(cardText(harness.messenger.updates.at(-1)!.activity), /The requester has been told the outcome/);
  });

  it('keeps an outcome the requester could not be sent, and delivers it when they next message the bot', async () => {
    await harness.app.references.delete(ConversationReferences.forUser(PEOPLE.priya.aadObjectId));
    await tom.press({ title: 'Approve all eligible (1)' });
    await tom.press({ title: 'Approve', row: reviewEmail });
    await harness.settle();
    assert.equal(outcomesSent().length, 0, 'no chat known: nothing sent');
    assert.equal((await harness.app.requests.get(request.id))?.outcomeNotifiedAt, null);
    assert.equal((await harness.app.requests.get(request.id))?.outcomeNotification, 'pending');

    await harness
      .adapterFor('priya')
      .send('help')
      .assertReply((activity) => assert.match(activity.text ?? '', /new transfer/))
      .startTest();
    await harness.settle();
    const delivered = outcomesSent().filter((sent) => cardText(sent.activity).includes(`Transfer request ${request.reference} has been decided`));
    assert.equal(delivered.length, 1);
    assert.match(cardText(delivered[0]!.activity), /2 accepted for transfer to NAS, 0 rejected/);
    assert.ok((await harness.app.requests.get(request.id))?.outcomeNotifiedAt);
  });

  it('retries an outcome Teams throttles or fails, and marks it delivered only once Teams accepts it', async () => {
    await tom.press({ title: 'Approve all eligible (1)' });
    await harness.settle();
    harness.messenger.clear();
    // The card update goes first, then the outcome: each is refused, then accepted.
    harness.messenger.failNext({ status: 503 }, { status: 429, retryAfterSeconds: 0 }, { status: 502 });
    await tom.press({ title: 'Approve', row: reviewEmail });
    await harness.settle();
    assert.equal(outcomesSent().length, 1, 'delivered once after recovery');
    assert.equal((await harness.app.requests.get(request.id))?.outcomeNotification, 'delivered');
  });

  it('records an outcome Teams refuses for good (403) as undeliverable, and says so on the ops card', async () => {
    await tom.press({ title: 'Approve all eligible (1)' });
    await harness.settle();
    harness.messenger.clear();
    await tom.press({ title: 'Approve', row: reviewEmail });
    // The ops card update goes through; the outcome is refused: the bot was blocked in the requester's chat.
    harness.messenger.failNext({ status: 403, to: 'a:priya-chat-' });
    await harness.settle();
    assert.equal(outcomesSent().length, 0);
    const stored = (await harness.app.requests.get(request.id))!;
    assert.equal(stored.outcomeNotification, 'undeliverable');
    assert.equal(stored.outcomeNotifiedAt, null, 'never marked as told');
    assert.match(cardText(harness.messenger.updates.at(-1)!.activity), /The requester could not be notified in Teams/);
    const [row] = await harness.db.query<{ status: string; last_error: string; attempts: number }>(
      `SELECT status, last_error, attempts FROM outbox WHERE dedupe_key = $1`,
      [`outcome:${request.id}`],
    );
    assert.deepEqual(row, { status: 'undeliverable', last_error: 'HTTP_403', attempts: 1 });
    const failed = (await harness.app.audit.forRequest(request.id)).find((event) => event.action === 'requester.notification_failed');
    assert.deepEqual(failed?.detail, { kind: 'outcome', reason: 'HTTP_403' });
    assert.equal(failed?.actorName, 'NAS Transfer Bot');
  });

  it('lists requests awaiting a decision for ops in the channel, and refuses anyone else', async () => {
    const channelMessage = (user: keyof typeof PEOPLE, text: string) => ({
      type: 'message',
      text: `<at>NAS Transfer Bot</at> ${text}`,
      from: PEOPLE[user],
      conversation: opsChannel,
      channelData: { tenant: { id: opsChannel.tenantId }, channel: { id: opsChannel.id } },
    });
    adapter.activeQueue.splice(0);
    await adapter.processActivity(channelMessage('tom', 'pending'));
    assert.match(adapter.activeQueue[0]?.text ?? '', new RegExp(`Awaiting a decision:[\\s\\S]*\\*\\*${request.reference}\\*\\*`));
    adapter.activeQueue.splice(0);
    await adapter.processActivity(channelMessage('priya', 'pending'));
    assert.equal(adapter.activeQueue[0]?.text, 'Only members of NAS Operations can act on transfer requests.');
  });

  it('decides one account; a repeated click is told who decided it first', async () => {
    // Two people with the same card: the second click reaches the bot after the first decided the account.
    const stillShowing = opsCardUser(() => adapter, 'tom').sees(tom.card);
    const first = await tom.press({ title: 'Approve', row: reviewEmail });
    assert.match(cardOf(first), /Approved by Tom Ashdown/);
    assert.equal(tom.offers({ title: 'Approve', row: reviewEmail }), false, 'a decided row offers Approve and Reject no more');
    const again = await stillShowing.press({ title: 'Reject', row: reviewEmail }, { decisionReason: 'changed my mind' });
    assert.match(cardOf(again), /That has already been decided\. It was approved by Tom Ashdown at/);
    assert.equal((await harness.app.requests.get(request.id))?.accounts[1]?.decision, 'approved');
    const audit = await harness.app.audit.forRequest(request.id);
    assert.deepEqual(
      audit.map((event) => [event.action, event.actorName]),
      [
        ['request.submitted', 'Priya Okafor'],
        ['account.approved', 'Tom Ashdown'],
      ],
    );
  });

  it('refuses someone outside NAS Operations with a 403 that shows nothing of the request, audits it, and changes nothing', async () => {
    // The posted card carries the buttons for whoever sees it in the channel: the bot, not the card, says no.
    const response = await priya.press({ title: 'Approve all eligible (1)' });
    assert.equal(response.statusCode, 403);
    assert.equal(response.type, 'application/vnd.microsoft.error');
    assert.deepEqual(response.value, { code: 'NOT_OPS', message: 'Only members of NAS Operations can act on transfer requests.' });
    assert.doesNotMatch(JSON.stringify(response), /amara|esme|Northmoor|Sponsorship/i, 'no request content in the answer');
    assert.deepEqual(
      (await harness.app.requests.get(request.id))?.accounts.map((stored) => stored.decision),
      [null, null],
    );
    await harness.settle();
    assert.equal(harness.messenger.updates.length, 0);
    const refusals = (await harness.app.audit.forRequest(request.id)).filter((event) => event.action === 'card_action.refused');
    assert.equal(refusals.length, 1);
    assert.equal(refusals[0]?.actorId, PEOPLE.priya.aadObjectId);
    assert.equal(refusals[0]?.detail.verb, 'approveEligible');
    assert.ok(refusals[0]?.occurredAt instanceof Date);
  });

  it('answers a click within seconds when the directory is slow: 503, nothing decided', async () => {
    const fresh = harness.adapterFor('tom'); // a new instance: nobody confirmed as NAS Operations yet
    harness.graph.respondAfter(20_000);
    try {
      const started = performance.now();
      const response = await opsCardUser(() => fresh, 'tom')
        .sees(tom.card)
        .press({ title: 'Approve all eligible (1)' });
      const took = performance.now() - started;
      assert.ok(took < 4500, `answered in ${Math.round(took)} ms, well inside Teams' 15 s`);
      assert.equal(response.statusCode, 503);
      // Membership that cannot be confirmed fails closed (bot/access-control.ts).
      assert.equal((response.value as unknown as { code: string }).code, 'OPS_UNCONFIRMED');
      assert.deepEqual(
        (await harness.app.requests.get(request.id))?.accounts.map((stored) => stored.decision),
        [null, null],
      );
    } finally {
      harness.graph.respondAfter(0);
    }
  });

  it('puts the requester’s reason on the card as plain text: markdown in it does not render', async () => {
    const forged = await harness.app.requests.submit({
      ...requestDetails({ id: PEOPLE.priya.aadObjectId, name: 'Priya Okafor' }),
      reason: '**Checked and verified by NAS Operations** [approve here](https://evil.example)',
      draftId: randomUUID(),
      accounts: [account(1, 'reason.test@nhsmail.example', 'eligible')],
    });
    await harness.settle();
    const posted = await harness.app.requests.get(forged.request.id);
    const body = JSON.stringify(opsChannelCard(harness.messenger, posted?.opsActivityId));
    const runs = [...body.matchAll(/"type":"TextRun","text":"([^"]*)"/g)].map((match) => match[1]);
    assert.ok(
      runs.includes('**Checked and verified by NAS Operations** [approve here](https://evil.example)'),
      'the reason is a TextRun, which Teams does not read as markdown',
    );
    assert.doesNotMatch(body, /"type":"TextBlock","text":"[^"]*Checked and verified/, 'never in a TextBlock');
  });

  interface TamperCase {
    name: string;
    verb: string;
    data: Record<string, unknown>;
    status: number;
    code: string;
  }
  const TAMPERED: TamperCase[] = [
    { name: 'an unknown verb', verb: 'deleteEverything', data: { requestId: 1 }, status: 400, code: 'CARD_DATA_INVALID' },
    {
      name: 'a request id that is not a number',
      verb: 'approveEligible',
      data: { requestId: '1; DROP TABLE transfer_requests' },
      status: 400,
      code: 'CARD_DATA_INVALID',
    },
    {
      name: 'a decision that is not approve or reject',
      verb: 'decideAccount',
      data: { requestId: 1, accountId: 1, decision: 'transferred' },
      status: 400,
      code: 'CARD_DATA_INVALID',
    },
    { name: 'a request that does not exist', verb: 'approveEligible', data: { requestId: 987654 }, status: 404, code: 'REQUEST_NOT_FOUND' },
  ];
  for (const tampered of TAMPERED) {
    it(`tampering: answers forged card data (${tampered.name}) with ${tampered.code}`, async () => {
      const response = await sendForgedCardData(adapter, 'tom', tampered.verb, tampered.data);
      assert.equal(response.statusCode, tampered.status);
      assert.equal(response.type, 'application/vnd.microsoft.error');
      assert.equal((response.value as unknown as { code: string }).code, tampered.code);
      assert.doesNotMatch(JSON.stringify(response.value), /at .*\.ts:\d+/, 'no stack trace');
    });
  }

  it('tampering: refuses forged card data naming an account of another request', async () => {
    const other = await submitted([account(1, 'x@nhsmail.example', 'review')]);
    const response = await sendForgedCardData(adapter, 'tom', 'decideAccount', {
      requestId: request.id,
      accountId: other.accounts[0]!.id,
      decision: 'approved',
    });
    assert.match(cardOf(response), /That account is not part of this request\./);
  });

  it('pages a long request, at most 20 accounts and what fits one message at a time, from the store', async () => {
    const long = await submitted(Array.from({ length: 45 }, (_, index) => account(index + 1, `person.${index + 1}@nhsmail.example`, 'eligible')));
    const reader = opsCardUser(() => adapter, 'tom').sees(opsChannelCard(harness.messenger, long.opsActivityId));
    const posted = JSON.stringify(reader.card);
    const shown = Number(/Accounts 1 to (\d+) of 45/.exec(posted)?.[1]);
    assert.ok(shown >= 10 && shown <= 20, `the first page shows ${shown}`);
    assert.ok(posted.length * 2 < 40 * 1024, 'within Teams’ 40 KB message limit');
    assert.match(posted, new RegExp(`"Next accounts","verb":"showPage","data":\\{"requestId":\\d+,"start":${shown}\\}`));
    const second = await reader.press({ title: 'Next accounts' });
    assert.match(cardOf(second), new RegExp(`Accounts ${shown + 1} to \\d+ of 45`));
    let last = second;
    while (reader.offers({ title: 'Next accounts' })) last = await reader.press({ title: 'Next accounts' });
    assert.match(cardOf(last), /Accounts \d+ to 45 of 45/);
    assert.match(cardOf(last), /45\. person\.45@nhsmail\.example/);
    assert.match(cardOf(last), /"Previous accounts","verb":"showPage"/);
    assert.doesNotMatch(cardOf(last), /"Next accounts"/);
  });
});
