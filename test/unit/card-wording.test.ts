import assert from 'node:assert/strict';
import { renderOpsRequestCard, everyOf } from '../../cards/ops-request';
import { renderScreeningResultsCard } from '../../cards/screening-results';
import { describeRequest } from '../../bot/replies';
import type { StoredAccount, StoredRequest } from '../../services/model';
import { cardWords } from '../support/card-actions';
import { sampleRequest } from '../support/card-samples';
import { screenedAccount } from '../support/fixtures';

const JO = { id: 'jo-oid', name: 'Jo Bloggs' };
const words = (request: StoredRequest) => cardWords(renderOpsRequestCard(request).content as never);

/** Issue 21 §4: what the ops card, the status reply and the results card say, in the cases a walk-through found wrong. */
describe('words on the cards: who decided, where the transfer stands, plurals of one and two', () => {
  it('says who decided when nobody pressed Assign to me, never "not assigned" alone', () => {
    const decided = { ...sampleRequest('decided'), claimedBy: null, claimedAt: null };
    decided.accounts = decided.accounts.map((account, index) => (index === 1 && account.decision ? { ...account, decidedBy: JO } : account));
    assert.match(words(decided), /every account decided by Tom Ashdown and Jo Bloggs at /);
    assert.doesNotMatch(words(decided), /not assigned/);
    const partly = { ...sampleRequest('in_review'), status: 'submitted' as const, claimedBy: null, claimedAt: null };
    assert.match(words(partly), /not assigned; decided so far by Tom Ashdown/);
    assert.match(words(sampleRequest('submitted')), /not assigned to anyone yet/);
  });

  it('says of urgent leavers whether the requester was told, from their alerts: each state named with its accounts where they differ', () => {
    const leavers = (first: StoredAccount['leaverAlert'], second: StoredAccount['leaverAlert']) => {
      const request = sampleRequest('in_review');
      const states = [first, second];
      request.accounts = request.accounts.map((account, index) =>
        index < 2 ? { ...account, leaverAlertedAt: new Date('2026-11-24T09:00:00Z'), leaverAlert: states[index]! } : account,
      );
      return words(request).match(/Urgent:[^\n]*/)?.[0] ?? '';
    };
    assert.match(leavers('delivered', 'delivered'), /2 accounts \(2, 1\) were marked as leavers .* unless unmarked\. The requester has been told\.$/);
    assert.match(leavers('pending', 'pending'), /unless unmarked\. The requester is being told\.$/);
    assert.match(
      leavers('delivered', 'undeliverable'),
      /unless unmarked\. The requester could not be told of account 2 in Teams \(the bot cannot reach their chat\); has been told of account 1: tell them another way\.$/,
    );
    // No alert read: nothing is claimed.
    assert.doesNotMatch(leavers('not_due', 'not_due'), /told/);
  });

  it('after Mark approved as transferred the header no longer says approved accounts are waiting to be transferred', () => {
    const decided = sampleRequest('decided');
    assert.match(words(decided), /2 approved accounts are waiting to be transferred/);
    const part = sampleRequest('part_transferred');
    assert.match(words(part), /1 approved account is waiting to be transferred/);
    const allMarked = {
      ...part,
      accounts: part.accounts.map((account) => (account.decision === 'approved' ? { ...account, transferredAt: new Date(), transferredBy: JO } : account)),
    };
    assert.doesNotMatch(words(allMarked), /waiting to be transferred/);
    assert.match(words(allMarked), /every approved account is marked transferred; the bot is waiting for the directory to show them moved|show 2 moved/);
  });

  it('counts one and two in words: the undecided account, both, all 3', () => {
    assert.equal(everyOf(1, 'undecided account'), 'the undecided account');
    assert.equal(everyOf(2, 'undecided account'), 'both undecided accounts');
    assert.equal(everyOf(3, 'undecided account'), 'all 3 undecided accounts');
    const one = { ...sampleRequest('in_review') };
    one.accounts = one.accounts.map((account, index) =>
      index === 0 ? { ...account, decision: 'approved' as const, decidedBy: JO, decidedAt: new Date() } : account,
    );
    // The warning and the confirming button are behind Reject all undecided (an Action.ShowCard): the whole card is read.
    const text = JSON.stringify(renderOpsRequestCard(one).content);
    assert.match(text, /This rejects the undecided account/);
    assert.match(text, /Yes, reject the undecided account/);
    assert.doesNotMatch(text, /all 1 /);
  });

  it('the results card: "the one that is not eligible stays", "Both accounts can be submitted"', () => {
    const render = (verdicts: Array<'eligible' | 'review' | 'ineligible'>) =>
      cardWords(
        renderScreeningResultsCard('Northmoor', {
          policyVersion: 'test',
          accounts: verdicts.map((verdict, index) => screenedAccount(index + 1, `p${index}@nhsmail.example`, verdict)),
        }).card.content as never,
      );
    assert.match(render(['eligible', 'ineligible']), /the one that is not eligible stays with you/);
    assert.match(render(['eligible', 'ineligible', 'ineligible']), /the 2 that are not eligible stay with you/);
    assert.match(render(['eligible', 'review']), /Both accounts can be submitted/);
    assert.match(render(['eligible', 'review', 'eligible']), /All 3 accounts can be submitted/);
    assert.doesNotMatch(render(['eligible', 'ineligible']) + render(['eligible', 'review']), /the 1 not eligible|All 2 accounts/);
  });

  it("the status reply's lines are paragraphs: the status never runs into 'Submitted by' in Teams", () => {
    const reply = describeRequest(sampleRequest('decided'), true);
    assert.match(reply, /· Decided\n\nSubmitted by /);
  });
});
