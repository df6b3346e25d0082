import assert from 'node:assert/strict';
import { SPENT_FLUSH_MS } from '../../services/outbox/spent-tally';
import { countingDatabase } from '../support/counting-database';
import { startHarness, type Harness } from '../support/bot-harness';

/** The one round trip a quiet turn may make: reading its conversation's dialog state. */
const DIALOG_STATE_READ = /^SELECT key, document, etag FROM bot_state WHERE/;

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('a quiet turn touches storage at most once', () => {
  let harness: Harness;
  let statements: string[];
  before(async () => {
    harness = await startHarness({
      wrapDatabase: (db) => {
        const counting = countingDatabase(db);
        statements = counting.statements;
        return counting.db;
      },
    });
  });
  after(() => harness.close());

  // A new chat's first "help" does not wait for the directory: before it has answered, NAS Operations are told where their
  // help is; the look-up that first turn started then places them.
  const cases = [
    { user: 'priya', first: /\*\*new transfer\*\*/, reply: /\*\*new transfer\*\*/ },
    { user: 'tom', first: /In NAS Operations\? Type \*\*ops help\*\*/, reply: /\*\*pending\*\*/ },
  ] as const;
  for (const { user, first, reply } of cases) {
    it(`"help" from ${user}, in a chat the bot already knows: at most a dialog state read, no write`, async () => {
      const adapter = harness.adapterFor(user);
      // The first turn in a new chat stores its reference (a new chat is a change); the tally of its reply is written after.
      await adapter.send('help').assertReply((activity) => assert.match(activity.text ?? '', first));
      await pause(SPENT_FLUSH_MS * 3);
      const before = statements.length;
      await adapter.send('help').assertReply((activity) => assert.match(activity.text ?? '', reply));
      const turn = statements.slice(before);
      assert.ok(turn.length <= 1, `${turn.length} round trips: ${turn.join(' | ')}`);
      assert.ok(
        turn.every((sql) => DIALOG_STATE_READ.test(sql)),
        `only the dialog state may be read: ${turn.join(' | ')}`,
      );
    });
  }

  it('writes the replies of a burst of turns to the send budget in one statement per interval', async () => {
    await pause(SPENT_FLUSH_MS * 3);
    const before = statements.length;
    const adapter = harness.adapterFor('priya');
    for (let turn = 0; turn < 10; turn++) await adapter.send('help').assertReply((activity) => assert.match(activity.text ?? '', /\*\*new transfer\*\*/));
    await pause(SPENT_FLUSH_MS * 3);
    const ledgerWrites = statements.slice(before).filter((sql) => sql.includes('INSERT INTO send_budget'));
    assert.ok(ledgerWrites.length >= 1 && ledgerWrites.length <= 2, `${ledgerWrites.length} ledger writes for 10 replies`);
  });
});
