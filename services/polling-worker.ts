import { describeErrorForLog, findAppError } from '../core/errors';
import { inBackground } from '../core/interactive';
import type { Logger } from '../core/log';

/** While the database is away, ticks are tried again after 1 s, 2 s, 4 s … and never more than this apart. */
export const OUTAGE_BACKOFF = { firstMs: 1_000, maxMs: 30_000 } as const;

/**
 * Runs `tick` again and again in the background: at once while it finds work, after
 * `idleMs` when it found none, sooner when woken. `stop` waits for the tick in progress, so
 * a shutdown never leaves a half-done delivery behind in this process.
 *
 * A tick that fails because the service is briefly unavailable (the database is away) is not a
 * fault of the work: the worker backs off exponentially, says so once when the outage begins
 * and once when a tick succeeds again, and carries on by itself.
 */
export class PollingWorker {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = true;
  private wakeRequested = false;
  /** Ticks failed in a row for want of the service; 0 when it is there. */
  private unavailableTicks = 0;
  private unavailableSince = 0;

  constructor(
    private readonly name: string,
    /** Does one round of work; resolves to true when there may be more to do at once. */
    private readonly tick: () => Promise<boolean>,
    private readonly idleMs: number,
    private readonly logger: Logger,
    private readonly backoff: { firstMs: number; maxMs: number } = OUTAGE_BACKOFF,
  ) {}

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.schedule(0);
  }

  /** Something was just enqueued: look now rather than at the next idle tick. */
  wake(): void {
    if (this.stopped) return;
    if (this.running) {
      this.wakeRequested = true;
      return;
    }
    this.schedule(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
  }

  /** Runs ticks until one finds nothing to do; for tests and for draining at shutdown. */
  async drain(maxTicks = 1000): Promise<void> {
    for (let tick = 0; tick < maxTicks; tick++) if (!(await this.tick())) return;
  }

  private schedule(delayMs: number): void {
    if (this.timer) clearTimeout(this.timer);
    // A turn that wakes the worker does not make its ticks a turn's (core/interactive): they stay background work.
    this.timer = inBackground(() =>
      setTimeout(() => {
        this.timer = undefined;
        this.running = this.runOnce().finally(() => {
          this.running = undefined;
        });
      }, delayMs),
    );
    this.timer.unref();
  }

  private async runOnce(): Promise<void> {
    let more = false;
    let delayMs: number | undefined;
    this.wakeRequested = false;
    try {
      more = await this.tick();
      this.recovered();
    } catch (error) {
      if (findAppError(error)?.code === 'SERVICE_BRIEFLY_UNAVAILABLE') delayMs = this.unavailable(error);
      else this.logger.error(`${this.name}.tick_failed`, describeErrorForLog(error));
    }
    if (this.stopped) return;
    // While the service is away a wake is no reason to hammer it: the backoff stands.
    this.schedule(delayMs ?? (more || this.wakeRequested ? 0 : this.idleMs));
  }

  /** How long to wait before the next try; the first failure of an outage is logged, the rest are not. */
  private unavailable(error: unknown): number {
    this.unavailableTicks += 1;
    const delayMs = Math.min(this.backoff.maxMs, this.backoff.firstMs * 2 ** (this.unavailableTicks - 1));
    if (this.unavailableTicks === 1) {
      this.unavailableSince = Date.now();
      this.logger.warn(`${this.name}.paused`, { ...describeErrorForLog(error), retryInMs: delayMs, maxRetryMs: this.backoff.maxMs });
    }
    return delayMs;
  }

  private recovered(): void {
    if (this.unavailableTicks === 0) return;
    this.logger.info(`${this.name}.resumed`, { failedTicks: this.unavailableTicks, pausedMs: Date.now() - this.unavailableSince });
    this.unavailableTicks = 0;
  }
}
