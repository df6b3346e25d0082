import assert from 'node:assert/strict';
import { AppError } from '../../core/errors';
import { createLogger } from '../../core/log';
import { PollingWorker } from '../../services/polling-worker';

/** The background loop every worker (outbox, screening, chasing, retention) runs on, while the database is away and after. */
describe('PollingWorker while the database is away', () => {
  const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

  function worker(outcomes: Array<'ok' | 'away' | 'bug'>) {
    const lines: Array<Record<string, unknown>> = [];
    const ticks: number[] = [];
    const logger = createLogger('info', (line) => lines.push(JSON.parse(line) as Record<string, unknown>));
    const polling = new PollingWorker(
      'outbox',
      async () => {
        ticks.push(performance.now());
        const outcome = outcomes.shift() ?? 'ok';
        if (outcome === 'away') throw new AppError('SERVICE_BRIEFLY_UNAVAILABLE');
        if (outcome === 'bug') throw new TypeError('x is undefined');
        return false;
      },
      10_000,
      logger,
      { firstMs: 40, maxMs: 160 },
    );
    return { polling, lines, ticks };
  }

  it('backs off exponentially up to its cap, says once that it paused and once that it resumed, then goes back to its idle pace', async () => {
    const { polling, lines, ticks } = worker(['away', 'away', 'away', 'away', 'away', 'ok']);
    polling.start();
    for (const deadline = Date.now() + 5000; ticks.length < 6 && Date.now() < deadline;) await wait(10);
    await wait(100);
    await polling.stop();
    assert.equal(ticks.length, 6, 'five failed ticks and the one that succeeded; the idle pace (10 s) after it');
    const gaps = ticks.slice(1).map((at, index) => at - ticks[index]!);
    const expected = [40, 80, 160, 160, 160];
    // Timers never fire early; a busy machine may fire them late, so only the total has an upper bound.
    for (const [index, least] of expected.entries())
      assert.ok(gaps[index]! >= least - 5, `gap ${index + 1} was ${Math.round(gaps[index]!)} ms, at least ${least} expected`);
    assert.ok(gaps.reduce((sum, gap) => sum + gap, 0) < 600 + 400, `the retries took ${Math.round(gaps.reduce((sum, gap) => sum + gap, 0))} ms`);
    assert.deepEqual(
      lines.map((line) => [line.level, line.event]),
      [
        ['warn', 'outbox.paused'],
        ['info', 'outbox.resumed'],
      ],
    );
    assert.equal(lines[0]!.errorCode, 'SERVICE_BRIEFLY_UNAVAILABLE');
    assert.equal(lines[1]!.failedTicks, 5);
  });

  it('logs a second outage again, and any other failure as an error on every tick', async () => {
    const { polling, lines } = worker(['away', 'ok', 'away', 'ok']);
    polling.start();
    await wait(20);
    for (let tick = 0; tick < 3; tick++) {
      await wait(60);
      polling.wake();
    }
    await wait(60);
    await polling.stop();
    assert.deepEqual(
      lines.map((line) => line.event),
      ['outbox.paused', 'outbox.resumed', 'outbox.paused', 'outbox.resumed'],
    );

    const broken = worker(['bug', 'bug']);
    broken.polling.start();
    await wait(20);
    broken.polling.wake();
    await wait(20);
    await broken.polling.stop();
    assert.deepEqual(
      broken.lines.map((line) => [line.level, line.event, line.errorClass]),
      [
        ['error', 'outbox.tick_failed', 'TypeError'],
        ['error', 'outbox.tick_failed', 'TypeError'],
      ],
    );
  });
});
