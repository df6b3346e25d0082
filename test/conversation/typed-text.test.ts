import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { AdaptiveCardInvokeResponse, TestAdapter } from 'botbuilder';
import { hasReadableText } from '../../core/text';
import type { StoredRequest } from '../../services/model';
import { knowOpsChannelAndRequester, opsCardUser, opsChannelCard, PEOPLE, startHarness, type Harness } from '../support/bot-harness';
import type { CardUser } from '../support/card-actions';
import { requestDetails, screenedAccount } from '../support/fixtures';

/**
 * Reasons that stand in the audit (a changed decision, an override of the directory, a
 * rejection) must say something a person can read, and fit the box (issue 20 §6).
 */
const INVISIBLE_REASONS: ReadonlyArray<[string, string]> = [
  ['zero-width space', '\u200B'],
  ['word joiners', '\u2060\u2060\u2060'],
  ['Hangul filler', '\u3164'],
  ['halfwidth Hangul filler and choseong/jungseong fillers', '\uFFA0\u115F\u1160'],
  ['braille pattern blanks', '\u2800\u2800'],
  ['byte order mark, soft hyphen, Mongolian vowel separator', '\uFEFF\u00AD\u180E'],
  ['combining grapheme joiner and variation selector', '\u034F\uFE0F'],
  ['a mix with ideographic and no-break spaces', '\u200B\u3000\u00A0\u2800\u3164\u200D'],
];

describe('typed text on the ops card: readable, and no longer than the box', () => {
  it('finds no readable text in blanks, fillers and format characters, and finds it in any script', () => {
    for (const [name, text] of INVISIBLE_REASONS) assert.equal(hasReadableText(text), false, name);
    for (const text of ['ok', 'DSPT met', '\u200Bx', 'é', '确认', 'ك', '1', '—', '✓']) assert.equal(hasReadableText(text), true, JSON.stringify(text));
  });

  let harness: Harness;
  let adapter: TestAdapter;
  let request: StoredRequest;
  let tom: CardUser<AdaptiveCardInvokeResponse>;
  let reviewEmail: string;
  let eligibleEmail: string;
  let made = 0;
  const card = (response: AdaptiveCardInvokeResponse) => JSON.stringify(response.value);
  const stored = async () => (await harness.app.requests.get(request.id))!;
  const events = async () => (await harness.app.audit.forRequest(request.id)).map((event) => event.action);

  before(async () => {
    harness = await startHarness();
    await knowOpsChannelAndRequester(harness);
  });
  after(() => harness.close());
  beforeEach(async () => {
    adapter = harness.adapterFor('tom');
    const n = ++made;
    eligibleEmail = `typed.eligible.${n}@nhsmail.example`;
    reviewEmail = `typed.review.${n}@nhsmail.example`;
    const submitted = await harness.app.requests.submit({
      ...requestDetails({ id: PEOPLE.priya.aadObjectId, name: 'Priya Okafor' }),
      draftId: randomUUID(),
      accounts: [screenedAccount(1, eligibleEmail, 'eligible'), screenedAccount(2, reviewEmail, 'review')],
    });
    await harness.settle();
    request = (await harness.app.requests.get(submitted.request.id))!;
    tom = opsCardUser(() => adapter, 'tom').sees(opsChannelCard(harness.messenger, request.opsActivityId));
    harness.messenger.clear();
  });

  it('refuses a changed decision whose reason is only invisible characters, saying readable text is needed, and changes nothing', async () => {
    await tom.press({ title: 'Approve all eligible (1)' });
    await tom.press({ title: 'Reject', row: reviewEmail }, { decisionReason: 'DSPT not met.' });
    const before = await events();
    for (const [name, reason] of INVISIBLE_REASONS) {
      const refused = await tom.press({ title: 'Change to approved', row: reviewEmail }, { decisionReason: reason });
      assert.equal(refused.statusCode, 200, name);
      assert.match(card(refused), /Readable text is needed: what was typed is only spaces or invisible characters\. Type the reason in words\./, name);
      assert.doesNotMatch(card(refused), /not recognised/, name);
      assert.equal((await stored()).accounts[1]?.decision, 'rejected', name);
    }
    assert.deepEqual(await events(), before, 'no correction audited');
  });

  it('refuses a reason over 500 characters saying it is too long, and keeps one of exactly 500', async () => {
    await tom.press({ title: 'Approve all eligible (1)' });
    await tom.press({ title: 'Reject', row: reviewEmail }, { decisionReason: 'DSPT not met.' });
    const long = await tom.press({ title: 'Change to approved', row: reviewEmail }, { decisionReason: 'x'.repeat(501) });
    assert.match(card(long), /That is too long\. The reason has 501 characters; keep it to 500 or fewer\. Nothing was changed\./);
    assert.doesNotMatch(card(long), /not recognised/);
    assert.equal((await stored()).accounts[1]?.decision, 'rejected');
    // Characters, not UTF-16 units: 500 emoji are 1,000 units and fit the box.
    const fits = await tom.press({ title: 'Change to approved', row: reviewEmail }, { decisionReason: '✅'.repeat(250) + 'y'.repeat(250) });
    assert.doesNotMatch(card(fits), /too long/);
    assert.equal((await stored()).accounts[1]?.decision, 'approved');
  });

  it('refuses an override of the directory whose reason is invisible, and a rejection whose reason is invisible', async () => {
    const rejected = await tom.press({ title: 'Reject', row: reviewEmail }, { decisionReason: '\u3164\u2800' });
    assert.match(card(rejected), /Readable text is needed.*Type the reason in words/);
    assert.equal((await stored()).accounts[1]?.decision, null);
    await tom.press({ title: 'Approve all eligible (1)' });
    await tom.press({ title: 'Approve', row: reviewEmail });
    await tom.press({ title: 'Mark approved as transferred (2)' });
    const override = await tom.press({ title: 'Transferred anyway: override', row: eligibleEmail }, { decisionReason: '\u200B\u2060' });
    assert.match(card(override), /Readable text is needed.*Type the reason in words/);
    assert.equal((await stored()).accounts[0]?.transferOverride ?? null, null);
    assert.ok(!(await events()).includes('account.transfer_overridden'));
  });
});
