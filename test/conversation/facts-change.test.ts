import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { AdaptiveCardInvokeResponse, TestAdapter } from 'botbuilder';
import type { StoredRequest } from '../../services/model';
import { ScreeningService } from '../../services/screening';
import { SqlScreeningHistory } from '../../services/store/screening-history';
import { knowOpsChannelAndRequester, opsCardUser, opsChannelCard, PEOPLE, startHarness, type Harness } from '../support/bot-harness';
import { cardWords, findOffered, type CardUser } from '../support/card-actions';
import { requestDetails } from '../support/fixtures';

/**
 * Facts change (issue 15): the sandbox directory changes under a running request, through its
 * test-only admin route, and the bot notices: re-checks flag what changed since submission (and
 * keep it out of Approve all eligible), a leaver is urgent for ops and the requester, and a
 * transfer is confirmed from the directory, not only from a click.
 */
describe('facts change: re-checks before deciding, and transfers confirmed in the directory', () => {
  let harness: Harness;
  let adapter: TestAdapter;
  let request: StoredRequest;
  let tom: CardUser<AdaptiveCardInvokeResponse>;
  const card = (response: AdaptiveCardInvokeResponse) => JSON.stringify(response.value);
  const words = () => cardWords(tom.card);
  /** What the card says about one account: its row, from its address to the next account's. */
  const rowOf = (email: string) => {
    const text = words();
    const from = text.indexOf(email);
    assert.ok(from >= 0, `${email} is on the card`);
    const rest = text.slice(from + email.length);
    const next = rest.search(/\n\d+\. \S+@|\nQuestions to the requester/);
    return email + (next < 0 ? rest : rest.slice(0, next));
  };
  const stored = async () => (await harness.app.requests.get(request.id))!;
  const events = async () => harness.app.audit.forRequest(request.id);
  /** The directory changes, as an administrator would change it in the NHSmail Portal. */
  const change = async (upn: string, fields: Record<string, unknown>) => {
    const response = await fetch(harness.graph.adminUserUrl(upn), {
      method: 'PATCH',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(fields),
    });
    assert.equal(response.status, 204);
  };
  /** The background checks run (as their worker would), then what they owe is delivered. */
  const checksRun = async () => {
    await harness.app.checks.drain();
    await harness.settle();
  };
  /** What `status NTR-…` tells the requester in her chat. */
  const statusForPriya = async () => {
    let reply = '';
    await harness
      .adapterFor('priya')
      .send(`status ${request.reference}`)
      .assertReply((activity) => {
        reply = activity.text ?? '';
      })
      .startTest();
    return reply;
  };
  const toPriya = () => harness.messenger.toUser('priya').map((sent) => sent.activity.text ?? '');

  const AMARA = 'amara.mensah@nhsmail.example';
  const BEN = 'ben.hollis@nhsmail.example';
  const WREN = 'wren.hadley@nhsmail.example';
  const ZAC = 'zac.pemberton@nhsmail.example';
  const ESME = 'esme.flint@nhsmail.example';

  before(async function () {
    this.timeout(60_000);
    harness = await startHarness();
    await knowOpsChannelAndRequester(harness);
    // Screened as the bot screens at submission: the same engine and sources.
    const screening = new ScreeningService({ ...harness.dataSources, history: new SqlScreeningHistory(harness.db) });
    const screened = await screening.screen(
      'ZZ9001',
      [AMARA, BEN, WREN, ZAC, ESME].map((email, index) => ({ position: index + 1, email })),
    );
    assert.deepEqual(
      screened.accounts.map((account) => account.verdict),
      ['eligible', 'eligible', 'eligible', 'eligible', 'review'],
    );
    const submitted = await harness.app.requests.submit({
      ...requestDetails({ id: PEOPLE.priya.aadObjectId, name: 'Priya Okafor' }, screened.policyVersion),
      draftId: randomUUID(),
      accounts: screened.accounts,
    });
    await harness.settle();
    request = (await harness.app.requests.get(submitted.request.id))!;
    adapter = harness.adapterFor('tom');
    tom = opsCardUser(() => adapter, 'tom').sees(opsChannelCard(harness.messenger, request.opsActivityId));
  });
  after(() => harness.close());

  it('re-checks when the request is assigned: changes since submission are flagged first, a leaver is urgent, and the requester is told', async () => {
    // Between submission and review: Ben disabled, Wren marked as a leaver, Zac's site now one whose DSPT is not met.
    await change(BEN, { accountEnabled: false });
    await change(WREN, { onPremisesExtensionAttributes: { extensionAttribute3: 'Leaver' } });
    await change(ZAC, { onPremisesExtensionAttributes: { extensionAttribute2: 'ZZ9104' } });
    harness.messenger.clear();

    await tom.press({ title: 'Assign to me' });
    await checksRun();
    const shared = opsChannelCard(harness.messenger, request.opsActivityId);
    tom.sees(shared);
    const text = words();
    assert.match(
      text,
      /Urgent: account 3 was marked as a leaver since submission and will be deleted 30 days after marking unless unmarked\. The requester has been told\./,
    );
    assert.ok(text.indexOf('Urgent') < text.indexOf('Organisation'), 'at the top');
    assert.match(text, /Accounts screened again at .*: 3 changed since submission/);
    assert.match(
      findOffered(tom.card, { title: 'Approve', row: BEN }).row,
      /Since submission: disabled, now ineligible \(seen \d{1,2} \w{3} \d{4}, \d\d:\d\d (GMT|BST)\)/,
    );
    assert.match(findOffered(tom.card, { title: 'Approve', row: WREN }).row, /Since submission: marked as a leaver, now ineligible/);
    assert.match(findOffered(tom.card, { title: 'Approve', row: ZAC }).row, /Since submission: .*now ineligible/);
    assert.doesNotMatch(findOffered(tom.card, { title: 'Approve', row: AMARA }).row, /Since submission/);
    // The changed accounts first; the evidence shown is the latest (Zac's site as the directory says now).
    const order = [BEN, WREN, ZAC, ESME, AMARA].map((email) => text.indexOf(email));
    assert.ok(order[0]! < order[3]! && order[1]! < order[3]! && order[2]! < order[3]! && order[3]! < order[4]!, `changed first: ${order.join(', ')}`);
    assert.match(findOffered(tom.card, { title: 'Approve', row: ZAC }).row, /Site ZZ9104/);
    assert.ok(tom.offers({ title: 'Approve all eligible (1)' }), 'only Amara is approved in bulk');

    const alerts = toPriya().filter((message) => message.includes('Urgent'));
    assert.equal(alerts.length, 1, 'told once, at once');
    assert.match(alerts[0]!, new RegExp(`Urgent: an account in ${request.reference} has been marked as a leaver since you submitted it`));
    assert.match(alerts[0]!, /wren\.hadley@nhsmail\.example/);
    assert.match(alerts[0]!, /Unmark it in the NHSmail Portal now .* or it will be deleted/);

    const recheck = (await events()).find((event) => event.action === 'request.rechecked');
    assert.equal(recheck?.detail.trigger, 'claim');
    assert.equal((recheck?.detail.changed as unknown[]).length, 3);
    assert.deepEqual((recheck?.detail.changed as Array<{ position: number }>).map((entry) => entry.position).sort(), [2, 3, 4]);
    assert.equal((recheck?.detail.snapshot as { policyVersion: string }).policyVersion, request.policyVersion);
    assert.match(String((recheck?.detail.snapshot as { dsptRegisterFile?: string }).dsptRegisterFile), /dspt-register\.csv/);
    assert.ok((await events()).some((event) => event.action === 'request.leaver_alerted'));

    // A second re-check finding the same facts neither alerts again nor re-stamps the change.
    await harness.db.query(`UPDATE request_checks SET due_at = now() WHERE request_id = $1`, [request.id]);
    await checksRun();
    assert.equal(toPriya().filter((message) => message.includes('Urgent')).length, 1);
  });

  it('approves all eligible without the changed accounts, and approving one now ineligible needs a reason', async () => {
    await tom.press({ title: 'Approve all eligible (1)' });
    let current = await stored();
    assert.deepEqual(
      current.accounts.map((account) => account.decision),
      ['approved', null, null, null, null],
    );

    const refused = await tom.press({ title: 'Approve', row: BEN });
    assert.match(card(refused), /This account is not eligible now .*give a reason to approve it anyway/);
    assert.equal((await stored()).accounts[1]?.decision, null);
    await tom.press({ title: 'Approve', row: BEN }, { decisionReason: 'Re-enabled today, confirmed by phone.' });
    await tom.press({ title: 'Reject', row: WREN }, { decisionReason: 'Marked as a leaver.' });
    await tom.press({ title: 'Reject', row: ZAC }, { decisionReason: 'Site DSPT not met.' });
    // Amara moves in the NHSmail Portal before anyone marks anything: the bot notices by itself.
    await change(AMARA, { onPremisesExtensionAttributes: { extensionAttribute1: 'NAS' } });
    await tom.press({ title: 'Approve', row: ESME });
    current = await stored();
    assert.equal(current.status, 'decided');
    assert.equal(current.accounts[1]?.decisionReason, 'Re-enabled today, confirmed by phone.');

    await checksRun();
    tom.sees(opsChannelCard(harness.messenger, request.opsActivityId));
    assert.match(rowOf(AMARA), /Transferred: seen moved in the directory at \d{1,2} \w{3} \d{4}/);
    assert.equal(tom.offers({ title: 'Mark transferred', row: AMARA }), false, 'nothing to mark: it moved');
    assert.equal((await stored()).status, 'decided', 'two approved accounts have not moved');
  });

  it('keeps checking accounts marked transferred until they move, completes on override, and tells the requester which accounts NAS administers', async () => {
    harness.messenger.clear();
    await tom.press({ title: 'Mark approved as transferred (2)' });
    await checksRun();
    tom.sees(opsChannelCard(harness.messenger, request.opsActivityId));
    assert.match(
      findOffered(tom.card, { title: 'Transferred anyway: override', row: BEN }).row,
      /Not yet moved in the directory \(last checked .*\); marked transferred by Tom Ashdown/,
    );
    assert.match(findOffered(tom.card, { title: 'Transferred anyway: override', row: ESME }).row, /Not yet moved in the directory/);
    assert.equal((await stored()).status, 'decided');
    assert.equal(toPriya().filter((message) => message.includes('is complete')).length, 0, 'not complete: the directory does not agree yet');
    const marked = await statusForPriya();
    assert.match(marked, /ben\.hollis@nhsmail\.example: approved by Tom Ashdown .*; marked transferred at .*, not yet moved in the directory/);
    assert.match(marked, /amara\.mensah@nhsmail\.example: approved by Tom Ashdown .*; transferred: seen moved in the directory at /);

    // Ben moves; the next scheduled look (TRANSFER_CHECK_MINUTES later) sees it.
    await change(BEN, { onPremisesExtensionAttributes: { extensionAttribute1: 'NAS' } });
    await harness.db.query(`UPDATE request_checks SET due_at = now() WHERE request_id = $1 AND kind = 'transfer'`, [request.id]);
    await checksRun();
    tom.sees(opsChannelCard(harness.messenger, request.opsActivityId));
    assert.match(rowOf(BEN), /Transferred: seen moved in the directory at .*; marked transferred by Tom Ashdown/);
    assert.doesNotMatch(rowOf(BEN), /Not yet moved/);
    assert.equal((await stored()).status, 'decided', 'Esme has not moved');

    // Esme never moves: after TRANSFER_CHASE_WORKING_DAYS it is flagged in the channel, like an overdue request.
    await harness.db.query(`UPDATE transfer_requests SET decided_at = now() - interval '15 days' WHERE id = $1`, [request.id]);
    await harness.db.query(`UPDATE request_checks SET due_at = now() WHERE request_id = $1 AND kind = 'transfer'`, [request.id]);
    await checksRun();
    const flagged = harness.messenger
      .opsPosts()
      .map((sent) => sent.activity.text ?? '')
      .filter((message) => message.includes('not yet moved in the directory'));
    assert.equal(flagged.length, 1);
    assert.match(flagged[0]!, new RegExp(`${request.reference}.* has 1 approved account not yet moved in the directory, \\d+ working days after the decision`));

    const noReason = await tom.press({ title: 'Transferred anyway: override', row: ESME });
    assert.match(card(noReason), /Give a reason for overriding the directory/);
    const done = await tom.press({ title: 'Transferred anyway: override', row: ESME }, { decisionReason: 'Moved by the service desk; the directory lags.' });
    assert.match(card(done), /"Completed"/);
    assert.match(rowOf(ESME), /Transferred: overridden by Tom Ashdown at .*: Moved by the service desk; the directory lags\./);

    await harness.settle();
    const complete = toPriya().filter((message) => message.includes('is complete'));
    assert.equal(complete.length, 1);
    assert.match(complete[0]!, /NAS now administers these 3 accounts/);
    for (const email of [AMARA, BEN, ESME]) assert.ok(complete[0]!.includes(email.replace(/\./g, '.')), email);
    assert.ok(!complete[0]!.includes(WREN) && !complete[0]!.includes(ZAC), 'not the rejected ones');

    const finalStatus = await statusForPriya();
    assert.match(finalStatus, /Completed/);
    assert.match(
      finalStatus,
      /esme\.flint@nhsmail\.example: approved by Tom Ashdown .*; transferred: overridden by Tom Ashdown at .* \(Moved by the service desk; the directory lags\.\)/,
    );
    assert.match(finalStatus, /ben\.hollis@nhsmail\.example: approved .*; transferred: seen moved in the directory at /);
    assert.match(finalStatus, /wren\.hadley@nhsmail\.example: rejected by Tom Ashdown .* \(Marked as a leaver\.\)$/m);

    const actions = (await events()).map((event) => event.action);
    assert.equal(actions.filter((action) => action === 'account.transfer_confirmed').length, 2);
    assert.ok(actions.includes('account.transfer_overridden'));
    assert.equal(actions.at(-1) === 'request.completed' || actions.includes('request.completed'), true);
    const override = (await events()).find((event) => event.action === 'account.transfer_overridden');
    assert.deepEqual(override?.detail, { reason: 'Moved by the service desk; the directory lags.' });
  });
});
