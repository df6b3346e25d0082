import type { SendDestination } from './send-pacing';

/** Requests that went to one destination at one moment (by this process's clock). */
export interface SpentRecord {
  destination: SendDestination;
  requests: number;
  /** How long before the record is written the requests went: the ledger dates them by its own clock, less this. */
  ageMs: number;
}

/** The shared ledger (services/store/send-budget.ts): many records in one statement. */
export interface SpentLedger {
  spentAll(records: readonly SpentRecord[]): Promise<void>;
}

/**
 * How often a turn's replies counted in memory are written to the shared ledger. Pacing's margin
 * (TEAMS_PACING_MARGIN_MS, 100 ms documented default) is the slack it keeps for requests it did not
 * see at once; replies reach the ledger within this time, dated when they went, so a reservation
 * can miss at most the replies of the last interval (at worst one over a window, which Teams'
 * 429, waited out and never counted as a failure, then paces).
 */
export const SPENT_FLUSH_MS = 100;

/**
 * A turn's replies counted against Teams' limits without the turn paying for it: each reply is
 * counted in memory, and every SPENT_FLUSH_MS what was counted goes to the ledger in one
 * statement for the whole instance, not one per reply. A write that fails costs only accuracy
 * (the replies already went): it is logged as a count and dropped.
 */
export class SpentTally {
  private pending: Array<{ destination: SendDestination; requests: number; at: number }> = [];
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();

  constructor(
    private readonly ledger: SpentLedger,
    private readonly onFailure: (requests: number) => void,
    private readonly flushMs = SPENT_FLUSH_MS,
    private readonly now: () => number = Date.now,
  ) {}

  /** Counts the requests now; they reach the ledger within flushMs. Never waits for, nor fails on, the database. */
  async spent(destination: SendDestination, requests: number): Promise<void> {
    if (requests < 1) return;
    this.pending.push({ destination, requests, at: this.now() });
    // Not keeping the process alive for a count: stop() flushes what is left.
    this.timer ??= setTimeout(() => void this.flush(), this.flushMs).unref();
  }

  /** Writes what was counted so far (one statement); flushes never overlap. */
  flush(): Promise<void> {
    this.flushing = this.flushing.then(() => this.write());
    return this.flushing;
  }

  /** Writes what is left and stops the timer: for shutdown and tests. */
  async stop(): Promise<void> {
    await this.flush();
  }

  private async write(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.pending;
    if (batch.length === 0) return;
    this.pending = [];
    const writtenAt = this.now();
    try {
      await this.ledger.spentAll(batch.map(({ destination, requests, at }) => ({ destination, requests, ageMs: Math.max(0, writtenAt - at) })));
    } catch {
      this.onFailure(batch.reduce((sum, record) => sum + record.requests, 0));
    }
  }
}
