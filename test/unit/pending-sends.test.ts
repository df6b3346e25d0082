import assert from 'node:assert/strict';
import { MemoryStorage } from 'botbuilder';
import { PENDING_SEND_MINUTES, PendingSends } from '../../bot/duties/pending-sends';
import { SqlStorage } from '../../services/store/bot-state';
import { freshPglite } from '../support/databases';

describe('the send a requester was about to make when asked to sign in', () => {
  const at = new Date('2026-12-06T10:00:00Z');
  const later = (minutes: number) => new Date(at.getTime() + minutes * 60_000);

  const cases: Array<{ name: string; minutesLater: number; taken: boolean }> = [
    { name: 'taken right after the sign-in', minutesLater: 2, taken: true },
    { name: 'taken at the end of the window', minutesLater: PENDING_SEND_MINUTES, taken: true },
    { name: 'not taken after the window: a sign-in the next day sends nothing by itself', minutesLater: PENDING_SEND_MINUTES + 1, taken: false },
  ];
  for (const { name, minutesLater, taken } of cases) {
    it(name, async () => {
      const storage = new MemoryStorage();
      await new PendingSends(storage, () => at).remember('priya', { requestId: 7, stage: 'outcome' });
      const pending = new PendingSends(storage, () => later(minutesLater));
      assert.deepEqual(await pending.take('priya'), taken ? { requestId: 7, stage: 'outcome' } : undefined);
      assert.equal(await pending.take('priya'), undefined, 'taken once');
    });
  }

  it('is each person’s own', async () => {
    const pending = new PendingSends(new MemoryStorage(), () => at);
    await pending.remember('priya', { requestId: 7, stage: 'submitted' });
    assert.equal(await pending.take('sam'), undefined);
    assert.deepEqual(await pending.take('priya'), { requestId: 7, stage: 'submitted' });
  });

  it('is taken by one of two takers at once (two devices answering one sign-in, or two instances), on the bot’s SQL storage', async () => {
    const db = await freshPglite();
    try {
      const storage = new SqlStorage(db);
      const pending = new PendingSends(storage, () => at);
      await pending.remember('priya', { requestId: 7, stage: 'outcome' });
      const taken = await Promise.all([pending.take('priya'), new PendingSends(storage, () => at).take('priya')]);
      assert.deepEqual(
        taken.filter((one) => one !== undefined),
        [{ requestId: 7, stage: 'outcome' }],
        'exactly one taker gets it',
      );
      // The next Send remembers anew over the taken marker.
      await pending.remember('priya', { requestId: 8, stage: 'submitted' });
      assert.deepEqual(await pending.take('priya'), { requestId: 8, stage: 'submitted' });
    } finally {
      await db.close();
    }
  });
});
