import assert from 'node:assert/strict';
import { SpentTally, type SpentRecord } from '../../services/outbox/spent-tally';

const chat = (id: string) => ({ conversation: id, tenant: 'tenant-1' });

/** A ledger that remembers each write (one array per statement), or refuses. */
function ledger(fails = false): { spentAll(records: readonly SpentRecord[]): Promise<void>; writes: SpentRecord[][] } {
  const writes: SpentRecord[][] = [];
  return {
    writes,
    spentAll: async (records) => {
      if (fails) throw new Error('database unavailable');
      writes.push([...records]);
    },
  };
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('a turn’s replies are tallied in memory and written in one statement per interval', () => {
  it('writes a burst of replies from many chats in one statement, once the interval has passed', async () => {
    const written = ledger();
    const tally = new SpentTally(written, () => undefined, 30);
    for (let index = 0; index < 40; index++) await tally.spent(chat(`a:chat-${index % 8}`), 1);
    assert.equal(written.writes.length, 0, 'nothing written on the reply path');
    await pause(60);
    assert.equal(written.writes.length, 1, 'one statement for the whole burst');
    assert.equal(
      written.writes[0]!.reduce((sum, record) => sum + record.requests, 0),
      40,
    );
  });

  it('dates each record by when it went: its age when written', async () => {
    let clock = 1000;
    const written = ledger();
    const tally = new SpentTally(
      written,
      () => undefined,
      10_000,
      () => clock,
    );
    await tally.spent(chat('a:one'), 2);
    clock = 1080;
    await tally.spent(chat('a:two'), 1);
    clock = 1100;
    await tally.flush();
    assert.deepEqual(written.writes, [
      [
        { destination: chat('a:one'), requests: 2, ageMs: 100 },
        { destination: chat('a:two'), requests: 1, ageMs: 20 },
      ],
    ]);
  });

  it('writes nothing when nothing went, and what is left when stopped', async () => {
    const written = ledger();
    const tally = new SpentTally(written, () => undefined, 10_000);
    await tally.spent(chat('a:one'), 0);
    await tally.flush();
    assert.equal(written.writes.length, 0);
    await tally.spent(chat('a:one'), 1);
    await tally.stop();
    assert.equal(written.writes.length, 1);
  });

  it('reports a write that failed as a count, and never fails the caller', async () => {
    const failures: number[] = [];
    const tally = new SpentTally(ledger(true), (requests) => failures.push(requests), 10_000);
    await tally.spent(chat('a:one'), 2);
    await tally.spent(chat('a:two'), 1);
    await tally.flush();
    assert.deepEqual(failures, [3]);
  });
});
