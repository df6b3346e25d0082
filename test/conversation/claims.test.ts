import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { TestAdapter } from 'botbuilder';
import { knowOpsChannelAndRequester, opsCardUser, opsChannelCard, PEOPLE, startHarness, type Harness } from '../support/bot-harness';
import { requestDetails, screenedAccount } from '../support/fixtures';

/** Two members of NAS Operations and one request: who reviews it is compare-and-set, and taking it over is a button of its own. */
describe('who reviews a request (Assign to me, take over)', function () {
  this.timeout(60_000);
  let harness: Harness;
  let adapter: TestAdapter;

  before(async () => {
    harness = await startHarness();
    await knowOpsChannelAndRequester(harness);
    adapter = harness.adapterFor('tom');
  });
  after(() => harness.close());

  const postedRequest = async () => {
    const { request } = await harness.app.requests.submit({
      ...requestDetails({ id: PEOPLE.priya.aadObjectId, name: PEOPLE.priya.name }),
      draftId: randomUUID(),
      accounts: [screenedAccount(1, `claim.${randomUUID()}@nhsmail.example`, 'eligible')],
    });
    await harness.settle();
    const stored = (await harness.app.requests.get(request.id))!;
    return { request: stored, posted: opsChannelCard(harness.messenger, stored.opsActivityId)! };
  };
  const words = (response: { value?: unknown }) => JSON.stringify(response.value);

  it('tells the second of two people pressing Assign to me who has it, and offers them to take it over', async () => {
    const { request, posted } = await postedRequest();
    const tom = opsCardUser(() => adapter, 'tom').sees(posted);
    const lena = opsCardUser(() => adapter, 'lena').sees(posted);
    await tom.press({ title: 'Assign to me' });
    // Lena's card is the one posted before Tom pressed: her click loses the race.
    const refused = await lena.press({ title: 'Assign to me' });
    assert.match(words(refused), /Tom Ashdown has been reviewing it since/);
    assert.equal((await harness.app.requests.get(request.id))!.claimedBy?.name, 'Tom Ashdown', 'the first claim stands');
    assert.equal(lena.offers({ title: 'Assign to me' }), false);
    await lena.press({ title: 'Take over from Tom Ashdown' });
    assert.equal((await harness.app.requests.get(request.id))!.claimedBy?.name, 'Lena Marsh');
    const audit = (await harness.app.audit.forRequest(request.id)).map((event) => [event.action, event.actorName]);
    assert.deepEqual(audit.slice(-2), [
      ['request.claimed', 'Tom Ashdown'],
      ['request.taken_over', 'Lena Marsh'],
    ]);
  });

  it('does not offer the reviewer to take over from themselves in their own view', async () => {
    const { posted } = await postedRequest();
    const tom = opsCardUser(() => adapter, 'tom').sees(posted);
    await tom.press({ title: 'Assign to me' });
    assert.equal(tom.offers({ title: 'Take over from Tom Ashdown' }), false);
    await tom.refresh();
    assert.equal(tom.offers({ verb: 'takeOverRequest' }), false);
    const lena = opsCardUser(() => adapter, 'lena').sees(tom.card);
    await lena.refresh();
    assert.equal(lena.offers({ title: 'Take over from Tom Ashdown' }), true);
  });

  it('refuses a take-over pressed on a card that named someone who no longer has it', async () => {
    const { request, posted } = await postedRequest();
    const tom = opsCardUser(() => adapter, 'tom').sees(posted);
    await tom.press({ title: 'Assign to me' });
    const lena = opsCardUser(() => adapter, 'lena').sees(tom.card);
    await lena.refresh();
    const staleCard = lena.card;
    await lena.press({ title: 'Take over from Tom Ashdown' });
    // Tom, still holding the card that names Tom as reviewer, cannot take it from Lena by accident.
    const tomAgain = opsCardUser(() => adapter, 'tom').sees(staleCard);
    assert.equal(tomAgain.offers({ title: 'Take over from Tom Ashdown' }), true);
    const refused = await tomAgain.press({ title: 'Take over from Tom Ashdown' });
    assert.match(words(refused), /Lena Marsh has been reviewing it since/);
    assert.equal((await harness.app.requests.get(request.id))!.claimedBy?.name, 'Lena Marsh');
  });
});
