import assert from 'node:assert/strict';
import { asInteractive, inBackground } from '../../core/interactive';
import { MAX_PASSED_OVER, WaitingPeopleFirst } from '../../services/store/database';

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
});
