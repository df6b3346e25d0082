import assert from 'node:assert/strict';
import type { TestAdapter } from 'botbuilder';
import { PEOPLE, startHarness, type Harness } from '../support/bot-harness';

/** Typed text goes through one route table, in the real bot (issue 21: "one route table for text commands"). */
describe('text routes: one table, in the real bot', function () {
  this.timeout(60_000);
  let harness: Harness;
  before(async () => {
    harness = await startHarness();
  });
  after(() => harness.close());

  it('routes every message through one ordered table: commands, the affected-users card, a resubmission, an outdated form, the transfer conversation, then "not recognised"', () => {
    harness.adapterFor('tom');
    assert.deepEqual(
      harness.app.bot.textRoutes.map((route) => [route.name, [...route.scopes]]),
      [
        ['command', ['personal', 'channel']],
        ['affected users', ['personal']],
        ['resubmit', ['personal']],
        ['outdated form', ['personal']],
        ['transfer conversation', ['personal']],
        ['not recognised', ['personal', 'channel']],
      ],
    );
  });

  it("recognises sources in an ops member's personal chat, as help there says, and refuses a requester", async () => {
    const tom = harness.adapterFor('tom');
    const tenant = harness.config.allowedTenantId;
    const send = async (adapter: TestAdapter, user: keyof typeof PEOPLE, text: string) => {
      adapter.activeQueue.splice(0);
      await adapter.processActivity({ type: 'message', text, from: PEOPLE[user], channelData: { tenant: { id: tenant } } });
      return adapter.activeQueue.map((activity) => activity.text ?? '').join('\n');
    };
    // "ops help" asks the directory; "help" then knows the answer without asking.
    assert.match(await send(tom, 'tom', 'ops help'), /\*\*sources\*\* \(how fresh each data source is\)/);
    assert.match(await send(tom, 'tom', 'help'), /\*\*sources\*\* \(how fresh each data source is\)/);
    const sources = await send(tom, 'tom', 'sources');
    assert.match(sources, /^Data sources:/);
    assert.doesNotMatch(sources, /not recognise/);
    const priya = harness.adapterFor('priya');
    assert.equal(await send(priya, 'priya', 'sources'), 'Only members of NAS Operations can act on transfer requests.');
    assert.equal(await send(priya, 'priya', 'ops help'), 'Only members of NAS Operations can act on transfer requests.');
  });
});
