import assert from 'node:assert/strict';
import { asInteractive, inBackground, isInteractive } from '../../core/interactive';
import { silentLogger } from '../../core/log';
import { PollingWorker } from '../../services/polling-worker';
import { MAX_PASSED_OVER, WaitingPeopleFirst } from '../../services/store/database';
import { freshPglite } from '../support/databases';

/** A unit that records when it ran and holds the gate until released. */
function recorder() {
  const ran: string[] = [];
  const unit = (name: string) => async () => {
    ran.push(name);
    await new Promise((resolve) => setImmediate(resolve));
  };
  return { ran, unit };
}

describe('the embedded database serves people waiting in Teams before queued background work (WaitingPeopleFirst)', () => {
  it('runs one unit at a time; a turn queued after background work goes before it', async () => {
    const gate = new WaitingPeopleFirst();
    const { ran, unit } = recorder();
    const work = [gate.run(unit('background 1')), gate.run(unit('background 2')), gate.run(unit('background 3')), asInteractive(() => gate.run(unit('turn')))];
    await Promise.all(work);
    assert.deepEqual(ran, ['background 1', 'turn', 'background 2', 'background 3']);
  });

  it(`lets background work through after ${MAX_PASSED_OVER} turns in a row passed it, so a stream of turns cannot starve deliveries`, async () => {
    const gate = new WaitingPeopleFirst();
    const { ran, unit } = recorder();
    const work = [gate.run(unit('background 1')), gate.run(unit('background 2'))];
    for (let turn = 1; turn <= 2 * MAX_PASSED_OVER; turn++) work.push(asInteractive(() => gate.run(unit(`turn ${turn}`))));
    await Promise.all(work);
    const passes = Array.from({ length: MAX_PASSED_OVER }, (_, index) => `turn ${index + 1}`);
    const after = Array.from({ length: MAX_PASSED_OVER }, (_, index) => `turn ${MAX_PASSED_OVER + index + 1}`);
    assert.deepEqual(ran, ['background 1', ...passes, 'background 2', ...after]);
  });

  it('keeps work a turn starts in the background as background (inBackground), and a failed unit frees the gate', async () => {
    const gate = new WaitingPeopleFirst();
    const { ran, unit } = recorder();
    const first = gate.run(unit('background 1'));
    const failed = gate.run(async () => {
      throw new Error('a statement failed');
    });
    const started = asInteractive(() => inBackground(() => gate.run(unit('started by a turn'))));
    const turn = asInteractive(() => gate.run(unit('turn')));
    await assert.rejects(failed, /a statement failed/);
    await Promise.all([first, started, turn]);
    assert.deepEqual(ran, ['background 1', 'turn', 'started by a turn']);
  });

  it("is what the embedded database does: a turn's statement queued after background ones is answered first", async function () {
    this.timeout(20_000);
    const db = await freshPglite();
    try {
      const answered: string[] = [];
      const holding = db.transaction(async (tx) => tx.query('SELECT pg_sleep(0.05)'));
      const queued = [
        db.query('SELECT 1').then(() => answered.push('background a')),
        db.query('SELECT 1').then(() => answered.push('background b')),
        asInteractive(() => db.query('SELECT 1')).then(() => answered.push('turn')),
      ];
      await Promise.all([holding, ...queued]);
      assert.deepEqual(answered, ['turn', 'background a', 'background b']);
    } finally {
      await db.close();
    }
  });

  it("keeps a worker's ticks background when a turn wakes it", async () => {
    const ticks: boolean[] = [];
    let ticked: () => void = () => undefined;
    const worker = new PollingWorker(
      'lane-probe',
      async () => {
        ticks.push(isInteractive());
        ticked();
        return false;
      },
      60_000,
      silentLogger,
    );
    const tick = () => new Promise<void>((resolve) => (ticked = resolve));
    const first = tick();
    worker.start();
    await first;
    await new Promise((resolve) => setTimeout(resolve, 20)); // the first tick has finished: the wake schedules the next one
    const woken = tick();
    asInteractive(() => worker.wake());
    await woken;
    await worker.stop();
    assert.deepEqual(ticks, [false, false]);
  });
});
