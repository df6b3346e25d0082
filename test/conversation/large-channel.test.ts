import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { knowOpsChannelAndRequester, opsCardUser, opsChannelCard, PEOPLE, startHarness, type Harness } from '../support/bot-harness';
import { requestDetails, screenedAccount } from '../support/fixtures';

/**
 * Teams refreshes a card automatically for at most 60 users (refresh.userIds); in a channel
 * with more members, the rest keep the base card. Microsoft's advice for that case: a base card
 * that is read-only, with a button that asks for one's own view (Action.Execute answered with
 * the user-specific card).
 * https://learn.microsoft.com/microsoftteams/platform/task-modules-and-cards/cards/universal-actions-for-adaptive-cards/user-specific-views
 */
describe('the ops card in a channel of more than 60 members', function () {
  this.timeout(60_000);
  let harness: Harness;
  let made = 0;
  before(async () => {
    harness = await startHarness();
    await knowOpsChannelAndRequester(harness);
  });
  after(() => harness.close());

  async function posted(channelMembers: number) {
    harness.adapterFor('tom'); // a fresh composition: the channel's size is read again
    harness.messenger.channelMembers = channelMembers;
    const n = ++made;
    const { request } = await harness.app.requests.submit({
      ...requestDetails({ id: PEOPLE.priya.aadObjectId, name: 'Priya Okafor' }),
      draftId: randomUUID(),
      accounts: [screenedAccount(1, `large.eligible.${n}@nhsmail.example`, 'eligible'), screenedAccount(2, `large.review.${n}@nhsmail.example`, 'review')],
    });
    await harness.settle();
    const stored = (await harness.app.requests.get(request.id))!;
    return { stored, card: opsChannelCard(harness.messenger, stored.opsActivityId) };
  }

  it('with 61 members, posts a read-only base card with a button for one’s own view, which gives NAS Operations their buttons', async () => {
    const { stored, card } = await posted(61);
    const adapter = harness.adapterFor('tom');
    const tom = opsCardUser(() => adapter, 'tom').sees(card);
    for (const title of ['Approve all eligible (1)', 'Assign to me', 'Approve', 'Reject'])
      assert.equal(tom.offers({ title }), false, `no ${title} on the base card`);
    assert.ok(tom.offers({ title: 'Show my view (NAS Operations: to act on it)' }));
    const own = await tom.press({ title: 'Show my view (NAS Operations: to act on it)' });
    assert.equal(own.statusCode, 200);
    assert.ok(tom.offers({ title: 'Approve all eligible (1)' }), 'his own view has the buttons');
    const decided = await tom.press({ title: 'Approve all eligible (1)' });
    assert.match(JSON.stringify(decided.value), /Approved by Tom Ashdown/);
    assert.equal((await harness.app.requests.get(stored.id))?.accounts[0]?.decision, 'approved');
  });

  it('with 60 members (everyone refreshed), keeps the buttons on the base card', async () => {
    const { card } = await posted(60);
    const tom = opsCardUser(() => harness.adapterFor('tom'), 'tom').sees(card);
    assert.ok(tom.offers({ title: 'Approve all eligible (1)' }));
    assert.equal(tom.offers({ title: 'Show my view (NAS Operations: to act on it)' }), false);
  });
});
