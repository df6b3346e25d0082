import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { Activity } from 'botbuilder';
import type { SqlDatabase } from '../../services/store/database';
import { countingDatabase } from '../support/counting-database';
import { PEOPLE, startHarness, type Harness } from '../support/bot-harness';

/** The read of a conversation's dialog state (SqlStorage.read). */
const DIALOG_STATE_READ = /^SELECT key, document, etag FROM bot_state WHERE/;
const says = (fragment: string) => (activity: Partial<Activity>) =>
  assert.ok((activity.text ?? '').includes(fragment), `expected a reply containing "${fragment}", got "${activity.text ?? ''}"`);

/**
 * A database whose dialog state reads can be held: until `release` is called, or until `within` ms have passed (so a
 * bot that never releases it still finishes its turn, and the test fails on what it saw rather than hanging).
 */
function holdingDialogStateReads(db: SqlDatabase) {
  let hold: { release: Promise<void>; within: number } | undefined;
  /** How each held read ended: released by the test, or let go after `within`. */
  const outcomes: Array<'released' | 'timed out'> = [];
  const held: SqlDatabase = {
    get engine() {
      return db.engine;
    },
    query: async (sql, params) => {
      if (hold && DIALOG_STATE_READ.test(sql.trim())) {
        const { release, within } = hold;
        const released = await Promise.race([
          release.then(() => 'released' as const),
          new Promise<'timed out'>((resolve) => setTimeout(() => resolve('timed out'), within).unref()),
        ]);
        outcomes.push(released);
      }
      return db.query(sql, params);
    },
    transaction: (work) => db.transaction(work),
    exec: (script) => db.exec(script),
    close: () => db.close(),
  };
  return {
    db: held,
    outcomes,
    holdUntil(release: Promise<void>, within: number) {
      hold = { release, within };
    },
    stopHolding() {
      hold = undefined;
    },
  };
}

describe('a requester’s first turn: what it waits for', () => {
  let harness: Harness;
  let statements: string[];
  let holding: ReturnType<typeof holdingDialogStateReads>;
  before(async () => {
    harness = await startHarness({
      wrapDatabase: (db) => {
        const counting = countingDatabase(db);
        statements = counting.statements;
        holding = holdingDialogStateReads(counting.db);
        return holding.db;
      },
    });
  });
  afterEach(() => {
    holding.stopHolding();
    harness.graph.failWith(undefined);
  });
  after(() => harness.close());

  it('a new chat’s "new transfer" stores the new form in one statement, not an update that finds nothing and then a create', async () => {
    const before = statements.length;
    await harness.adapterFor('priya').send('new transfer').assertReply(says('**Northmoor Community Care Partnership** (ZZ9001)'));
    const turn = statements.slice(before);
    assert.deepEqual(
      turn.filter((sql) => /\bbot_state\b/.test(sql)).map((sql) => sql.split(' ').slice(0, 3).join(' ')),
      ['SELECT key, document,', 'INSERT INTO bot_state'],
      turn.join(' | '),
    );
  });

  it('the directory is asked while the form’s state is read, not after it (both are waits on someone else)', async () => {
    // A chat the bot already knows, on an instance that has not placed Priya yet: nothing has warmed her look-up there.
    const chat = randomUUID();
    const asksAboutPriya = (from: number) =>
      harness.graph.requests.slice(from).filter((request) => `${request.path} ${JSON.stringify(request.body ?? '')}`.includes(PEOPLE.priya.aadObjectId)).length;
    const start = harness.graph.requests.length;
    await harness.adapterFor('priya', chat).send('cancel').assertReply(says('There is nothing to cancel.'));
    // That chat's first activity warmed the look-up on the instance that took it (one Graph batch): done before the turn measured.
    for (let waited = 0; asksAboutPriya(start) < 1 && waited < 5000; waited += 10) await new Promise((resolve) => setTimeout(resolve, 10));
    const adapter = harness.adapterFor('priya', chat);
    const graphBefore = harness.graph.requests.length;
    let askedDuringRead = false;
    let release!: () => void;
    holding.holdUntil(
      new Promise<void>((resolve) => (release = resolve)),
      // Only a bot that never asks waits this out: the assertion below then fails.
      3000,
    );
    const watcher = setInterval(() => {
      if (asksAboutPriya(graphBefore) > 0) {
        askedDuringRead = true;
        release();
      }
    }, 5);
    try {
      await adapter.send('new transfer').assertReply(says('**Northmoor Community Care Partnership** (ZZ9001)'));
    } finally {
      clearInterval(watcher);
    }
    assert.ok(askedDuringRead, 'the directory was not asked');
    assert.deepEqual(holding.outcomes.splice(0), ['released'], 'the directory look-up began only after the dialog state had been read');
  });

  it('fails closed: with the directory down, "new transfer" starts no form; with a form open, it says so and the form carries on', async () => {
    const chat = randomUUID();
    harness.graph.failWith(503);
    await harness
      .adapterFor('priya', chat)
      .send('new transfer')
      .assertReply(says('The NHSmail directory could not be reached'))
      .send('yes')
      .assertReply(says('I did not recognise that'));

    harness.graph.failWith(undefined);
    const open = randomUUID();
    await harness.adapterFor('priya', open).send('new transfer').assertReply(says('Are the accounts transferring from this organisation?'));
    harness.graph.failWith(503);
    // A fresh instance (nothing cached) and a directory that cannot answer: the open form is what the requester hears about.
    await harness
      .adapterFor('priya', open)
      .send('new transfer')
      .assertReply(says('You already have a transfer in progress'))
      .send('yes')
      .assertReply(says('Why are these accounts being transferred'));
  });
});
