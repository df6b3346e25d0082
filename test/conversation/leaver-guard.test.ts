import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { AdaptiveCardInvokeResponse, TestAdapter } from 'botbuilder';
import { silentLogger } from '../../core/log';
import { ConversationReferences } from '../../bot/state/conversation-references';
import type { StoredRequest } from '../../services/model';
import { RequestRechecks } from '../../services/requests/recheck';
import { ScreeningService } from '../../services/screening';
import { SqlScreeningHistory } from '../../services/store/screening-history';
import { knowOpsChannelAndRequester, opsCardUser, opsChannelCard, PEOPLE, startHarness, type Harness } from '../support/bot-harness';
import { cardWords, type CardUser } from '../support/card-actions';
import { requestDetails } from '../support/fixtures';

/**
 * Issue 20 §5: an account that becomes a leaver before its request's final approval is flagged.
 * Re-checks of approved accounts go on after the request is decided, a re-check's finding is kept
 * when the request was decided meanwhile, and the transfer check reads the leaver flag too. The
 * ops card says it is urgent and the requester is told at once, with what to undo.
 */
describe('leaver guard: a leaver found at or after the final approval is urgent and told', () => {
  let harness: Harness;
  let adapter: TestAdapter;
  let request: StoredRequest;
  let tom: CardUser<AdaptiveCardInvokeResponse>;
  let screening: ScreeningService;
  const TOM = { id: PEOPLE.tom.aadObjectId, name: 'Tom Ashdown' };
  const stored = async () => (await harness.app.requests.get(request.id))!;
  const toPriya = () => harness.messenger.toUser('priya').map((sent) => sent.activity.text ?? '');
  const urgentToPriya = () => toPriya().filter((text) => text.includes('Urgent'));
  const checksRun = async () => {
    await harness.app.checks.drain();
    await harness.settle();
  };
  const change = async (upn: string, fields: Record<string, unknown>) => {
    const response = await fetch(harness.graph.adminUserUrl(upn), {
      method: 'PATCH',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(fields),
    });
    assert.equal(response.status, 204);
  };
  const markLeaver = (upn: string) => change(upn, { onPremisesExtensionAttributes: { extensionAttribute3: 'Leaver' } });

  before(async function () {
    this.timeout(60_000);
    harness = await startHarness();
    await knowOpsChannelAndRequester(harness);
    screening = new ScreeningService({ ...harness.dataSources, history: new SqlScreeningHistory(harness.db) });
  });
  after(() => harness.close());

  async function submitOne(email: string): Promise<void> {
    const screened = await screening.screen('ZZ9001', [{ position: 1, email }]);
    assert.equal(screened.accounts[0]?.verdict, 'eligible');
    const submitted = await harness.app.requests.submit({
      ...requestDetails({ id: PEOPLE.priya.aadObjectId, name: 'Priya Okafor' }, screened.policyVersion),
      draftId: randomUUID(),
      accounts: screened.accounts,
    });
    await harness.settle();
    request = (await harness.app.requests.get(submitted.request.id))!;
    adapter = harness.adapterFor('tom');
    tom = opsCardUser(() => adapter, 'tom').sees(opsChannelCard(harness.messenger, request.opsActivityId));
  }

  it('flags a leaver marked between the claim and the final approval: urgent on the card, and the requester told at once', async () => {
    const AMARA = 'amara.mensah@nhsmail.example';
    await submitOne(AMARA);
    await tom.press({ title: 'Assign to me' });
    await checksRun();
    assert.equal((await stored()).accounts[0]?.recheck?.verdict, 'eligible', 'the claim re-check found it eligible');
    harness.messenger.clear();

    await markLeaver(AMARA);
    await tom.press({ title: 'Approve all eligible (1)' });
    assert.equal((await stored()).status, 'decided', 'the approval decided the request');
    await checksRun();

    const alerts = urgentToPriya();
    assert.equal(alerts.length, 1, `told once: ${toPriya().join(' | ')}`);
    assert.ok(alerts[0]!.includes(AMARA));
    assert.match(alerts[0]!, /Unmark it in the NHSmail Portal now/);
    tom.sees(opsChannelCard(harness.messenger, request.opsActivityId));
    assert.match(cardWords(tom.card), /Urgent: account 1 was marked as a leaver since submission/);
    const actions = (await harness.app.audit.forRequest(request.id)).map((event) => event.action);
    assert.ok(actions.includes('request.leaver_alerted'));
    assert.equal((await stored()).accounts[0]?.recheck?.verdict, 'ineligible', 'the finding is recorded');

    // Re-checks go on while the approved account has not moved, and do not alert twice.
    await harness.db.query(`UPDATE request_checks SET due_at = now() WHERE request_id = $1`, [request.id]);
    await checksRun();
    assert.equal(urgentToPriya().length, 1);
    await change(AMARA, { onPremisesExtensionAttributes: { extensionAttribute3: null } });
  });

  /** Claimed, re-checked, then marked as a leaver: the next re-check finds it and owes the requester the urgent alert. */
  async function leaverFoundByRecheck(email: string, beforeRecheck: () => void | Promise<void>): Promise<void> {
    await submitOne(email);
    await tom.press({ title: 'Assign to me' });
    await checksRun();
    harness.messenger.clear();
    await markLeaver(email);
    await beforeRecheck();
    await harness.db.query(`UPDATE request_checks SET due_at = now() WHERE request_id = $1`, [request.id]);
    await checksRun();
  }
  const urgentOnCard = () => {
    tom.sees(opsChannelCard(harness.messenger, request.opsActivityId));
    return cardWords(tom.card).match(/Urgent:[^\n]*/)?.[0] ?? '';
  };
  const leaverAlertRow = async () =>
    (
      await harness.db.query<{ status: string; last_error: string | null }>(
        `SELECT status, last_error FROM outbox WHERE request_id = $1 AND kind = 'leaver.alert'`,
        [request.id],
      )
    )[0];

  // Found in review: the card said "The requester has been told." from the alert being owed, whatever Teams answered.
  it('says on the ops card that the requester could not be told of a leaver when Teams refused the alert (403)', async () => {
    const ZAC = 'zac.pemberton@nhsmail.example';
    try {
      await leaverFoundByRecheck(ZAC, () => harness.messenger.failNext({ status: 403, to: 'a:priya' }));
      assert.deepEqual(await leaverAlertRow(), { status: 'undeliverable', last_error: 'HTTP_403' });
      assert.equal(urgentToPriya().length, 0, 'Teams refused the alert');
      const urgent = urgentOnCard();
      assert.match(urgent, /^Urgent: account 1 was marked as a leaver since submission/);
      assert.match(urgent, /The requester could not be told in Teams \(the bot cannot reach their chat\): tell them another way\.$/);
      assert.doesNotMatch(urgent, /has been told|is being told/);
    } finally {
      await change(ZAC, { onPremisesExtensionAttributes: { extensionAttribute3: null } });
    }
  });

  it('says the requester is being told of a leaver while the alert waits for their chat, and has been told once it is delivered', async () => {
    const CHLOE = 'chloe.danvers@nhsmail.example';
    try {
      await leaverFoundByRecheck(CHLOE, () => harness.app.references.delete(ConversationReferences.forUser(PEOPLE.priya.aadObjectId)));
      assert.equal((await leaverAlertRow())?.status, 'pending', 'no chat with the requester is known yet');
      assert.match(urgentOnCard(), /will be deleted 30 days after marking unless unmarked\. The requester is being told\.$/);

      // Priya writes to the bot: the alert goes, and the card, updated with it, says so.
      await knowOpsChannelAndRequester(harness);
      await harness.db.query(`UPDATE outbox SET due_at = now() WHERE request_id = $1 AND kind = 'leaver.alert'`, [request.id]);
      await harness.settle();
      assert.equal((await leaverAlertRow())?.status, 'delivered');
      assert.equal(urgentToPriya().length, 1, 'the alert reached the requester');
      assert.match(urgentOnCard(), /will be deleted 30 days after marking unless unmarked\. The requester has been told\.$/);
    } finally {
      await knowOpsChannelAndRequester(harness);
      await change(CHLOE, { onPremisesExtensionAttributes: { extensionAttribute3: null } });
    }
  });

  it('keeps the finding of a re-check that raced the final approval', async () => {
    const BEN = 'ben.hollis@nhsmail.example';
    await submitOne(BEN);
    await tom.press({ title: 'Assign to me' });
    harness.messenger.clear();
    await markLeaver(BEN);
    // The claim's re-check reads the directory while Tom approves: the approval decides the request before the re-check writes.
    const racing = new RequestRechecks(
      harness.db,
      {
        screen: async (...args: Parameters<ScreeningService['screen']>) => {
          const result = await screening.screen(...args);
          await harness.app.requests.decideAccount(request.id, request.accounts[0]!.id, 'approved', TOM);
          return result;
        },
      },
      harness.dataSources.directory,
      { nasOrganisations: new Set(['NAS']), transferCheckMinutes: 60, transferChaseWorkingDays: 10, holidays: new Set() },
      { workQueued() {} },
      silentLogger,
    );
    await racing.runDue();
    assert.equal((await stored()).status, 'decided');
    assert.equal((await stored()).accounts[0]?.recheck?.verdict, 'ineligible', 'the finding was kept');
    await harness.settle();
    const alerts = urgentToPriya();
    assert.equal(alerts.length, 1);
    assert.ok(alerts[0]!.includes(BEN));
    await change(BEN, { onPremisesExtensionAttributes: { extensionAttribute3: null } });
  });

  it('has the transfer check read the leaver flag of an approved account marked transferred', async () => {
    const ESME = 'esme.flint@nhsmail.example';
    const screened = await screening.screen('ZZ9001', [{ position: 1, email: ESME }]);
    const submitted = await harness.app.requests.submit({
      ...requestDetails({ id: PEOPLE.priya.aadObjectId, name: 'Priya Okafor' }, screened.policyVersion),
      draftId: randomUUID(),
      accounts: screened.accounts.map((account) => ({ ...account, verdict: 'eligible' as const, reasons: [] })),
    });
    request = (await harness.app.requests.get(submitted.request.id))!;
    await harness.app.requests.decideAccount(request.id, request.accounts[0]!.id, 'approved', TOM);
    await harness.app.requests.markTransferred(request.id, TOM, 'all');
    await harness.db.query(`DELETE FROM request_checks WHERE request_id = $1 AND kind = 'recheck'`, [request.id]);
    harness.messenger.clear();
    await markLeaver(ESME);
    // Only the transfer check runs: it sees the flag, alerts, and owes a re-check for the whole finding.
    const transfers = new RequestRechecks(
      harness.db,
      { screen: () => Promise.reject(new Error('only the transfer check runs here')) },
      harness.dataSources.directory,
      { nasOrganisations: new Set(['NAS']), transferCheckMinutes: 60, transferChaseWorkingDays: 10, holidays: new Set() },
      { workQueued() {} },
      silentLogger,
    );
    await harness.db.query(`UPDATE request_checks SET due_at = now() WHERE request_id = $1`, [request.id]);
    await transfers.runDue();
    await harness.settle();
    const alerts = urgentToPriya();
    assert.equal(alerts.length, 1, toPriya().join(' | '));
    assert.ok(alerts[0]!.includes(ESME));
    const audit = await harness.app.audit.forRequest(request.id);
    assert.deepEqual(audit.find((event) => event.action === 'request.leaver_alerted')?.detail.seenBy, 'transfer check');
    await change(ESME, { onPremisesExtensionAttributes: { extensionAttribute3: null } });
  });

  it('tells the requester of a leaver the transfer check found once, urgently: not again by the re-check it owes, nor by the checks after', async () => {
    const WREN = 'wren.hadley@nhsmail.example';
    await submitOne(WREN);
    await harness.app.requests.decideAccount(request.id, request.accounts[0]!.id, 'approved', TOM);
    await checksRun();
    assert.ok(
      harness.messenger.toUser('priya').some((sent) => JSON.stringify(sent.activity).includes(`${request.reference} has been decided`)),
      'the requester was told the outcome',
    );
    harness.messenger.clear();
    const aboutThisRequest = () => toPriya().filter((text) => text.includes(request.reference) || text.includes(WREN));

    await markLeaver(WREN);
    try {
      // The transfer check looks first: it sees the flag, alerts at once, and owes a re-check, which then records the finding.
      await harness.db.query(`UPDATE request_checks SET due_at = now() WHERE request_id = $1 AND kind = 'transfer'`, [request.id]);
      await checksRun();
      await checksRun();
      const audit = await harness.app.audit.forRequest(request.id);
      assert.deepEqual(audit.find((event) => event.action === 'request.leaver_alerted')?.detail.seenBy, 'transfer check');
      const recheck = audit.filter((event) => event.action === 'request.rechecked').at(-1);
      assert.equal(recheck?.detail.trigger, 'leaver', 're-checked after the transfer check saw the leaver');
      assert.equal((recheck?.detail.changed as unknown[]).length, 1, 'the re-check recorded the change');

      let told = aboutThisRequest();
      assert.equal(told.length, 1, `told once: ${told.join(' | ')}`);
      assert.match(told[0]!, /^\*\*Urgent: an account in .* has been marked as a leaver since you submitted it/);
      assert.ok(told[0]!.includes(WREN));
      tom.sees(opsChannelCard(harness.messenger, request.opsActivityId));
      assert.match(cardWords(tom.card), /Urgent: account 1 was marked as a leaver since submission/);

      // The checks after see the same state: nothing new to tell.
      await harness.db.query(`UPDATE request_checks SET due_at = now() WHERE request_id = $1`, [request.id]);
      await checksRun();
      await checksRun();
      told = aboutThisRequest();
      assert.equal(told.length, 1, `still told once: ${told.join(' | ')}`);
    } finally {
      await change(WREN, { onPremisesExtensionAttributes: { extensionAttribute3: null } });
    }
  });
});
