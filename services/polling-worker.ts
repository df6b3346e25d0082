import { describeErrorForLog } from '../core/errors';
import type { Logger } from '../core/log';

/**
 * Runs `tick` again and again in the background: at once while it finds work, after
 * `idleMs` when it found none, sooner when woken. `stop` waits for the tick in progress, so
 * a shutdown never leaves a half-done delivery behind in this process.
 */
export class PollingWorker {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = true;
  private wakeRequested = false;

  constructor(
    private readonly name: string,
    /** Does one round of work; resolves to true when there may be more to do at once. */
    private readonly tick: () => Promise<boolean>,
    private readonly idleMs: number,
    private readonly logger: Logger,
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
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.running = this.runOnce().finally(() => {
        this.running = undefined;
      });
    }, delayMs);
    this.timer.unref();
  }

  private async runOnce(): Promise<void> {
    let more = false;
    this.wakeRequested = false;
    try {
      more = await this.tick();
    } catch (error) {
      this.logger.error(`${this.name}.tick_failed`, describeErrorForLog(error));
    }
    if (!this.stopped) this.schedule(more || this.wakeRequested ? 0 : this.idleMs);
  }
}
