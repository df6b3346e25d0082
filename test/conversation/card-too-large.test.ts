import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { cardText, knowOpsChannelAndRequester, PEOPLE, startHarness, type Harness } from '../support/bot-harness';
import { requestDetails, screenedAccount } from '../support/fixtures';

/** An ops card Teams refuses as too large at every size is never given up silently (issue 22). */
describe('an ops card Teams refuses as too large (413) at every size', function () {
  this.timeout(60_000);
  let harness: Harness;
  before(async () => {
    harness = await startHarness();
    await knowOpsChannelAndRequester(harness);
  });
  after(() => harness.close());

  it('posts a minimal card (reference, counts, the workspace) and tells the requester; the card stays updatable', async () => {
    // A connector that answers 413 to every rendering of the full card, down to the smallest.
    harness.messenger.tooLargeOver = 2_500;
    const { request } = await harness.app.requests.submit({
      ...requestDetails({ id: PEOPLE.priya.aadObjectId, name: 'Priya Okafor' }),
      draftId: randomUUID(),
      accounts: [screenedAccount(1, 'big.one@nhsmail.example', 'eligible'), screenedAccount(2, 'big.two@nhsmail.example', 'review')],
    });
    await harness.settle();
    const posts = harness.messenger.opsPosts();
    assert.equal(posts.length, 1, 'a card reached the channel');
    const minimal = cardText(posts[0]!.activity);
    assert.match(minimal, new RegExp(`Transfer request ${request.reference}`));
    assert.match(minimal, /2 accounts: 1 eligible, 1 for review, 0 screened out/);
    assert.match(minimal, /Teams refused this request's full card as too large, even at its smallest\. Open NTR-\d+ in the NAS workspace tab/);
    const [row] = await harness.db.query<{ status: string }>(`SELECT status FROM outbox WHERE dedupe_key = $1`, [`ops.post:${request.id}`]);
    assert.equal(row?.status, 'delivered', 'not given up');
    const told = harness.messenger.toUser('priya').map((message) => message.activity.text ?? '');
    assert.ok(
      told.some((text) =>
        text.includes(`Your request **${request.reference}** reached NAS Operations as a short summary: Teams refused its full card as too large.`),
      ),
      told.join('\n'),
    );
    assert.ok((await harness.app.requests.get(request.id))?.opsActivityId, 'the card is known, so later updates replace it');
    harness.messenger.tooLargeOver = undefined;
  });

  it('when even the minimal card is refused (a connector answering 413 to every card), NAS Operations are told in plain text in their channel and the requester is told', async () => {
    harness.messenger.tooLargeOver = 0;
    try {
      const { request } = await harness.app.requests.submit({
        ...requestDetails({ id: PEOPLE.priya.aadObjectId, name: 'Priya Okafor' }),
        draftId: randomUUID(),
        accounts: [screenedAccount(1, 'huge.one@nhsmail.example', 'eligible'), screenedAccount(2, 'huge.two@nhsmail.example', 'review')],
      });
      await harness.settle();
      const [post] = await harness.db.query<{ status: string }>(`SELECT status FROM outbox WHERE dedupe_key = $1`, [`ops.post:${request.id}`]);
      assert.equal(post?.status, 'failed', 'the card itself could not go');

      const inChannel = harness.messenger
        .opsPosts()
        .map((message) => message.activity.text ?? '')
        .filter((text) => text.includes(request.reference));
      assert.deepEqual(inChannel, [
        `Transfer request **${request.reference}** (2 accounts) could not be posted here: Teams refused its card as too large, even its minimal summary. ` +
          `Open **${request.reference}** in the NAS workspace tab to review and decide it; Priya Okafor has been told.`,
      ]);
      const told = harness.messenger
        .toUser('priya')
        .map((message) => message.activity.text ?? '')
        .filter((text) => text.includes(request.reference));
      assert.ok(
        told.some((text) =>
          text.startsWith(
            `Your request **${request.reference}** could not be shown to NAS Operations as a card: Teams refused it as too large, even as a short summary.`,
          ),
        ),
        told.join('\n'),
      );
      assert.ok(!told.some((text) => text.includes('reached NAS Operations as a short summary')), 'not told a summary arrived when none did');
    } finally {
      harness.messenger.tooLargeOver = undefined;
    }
  });
});
