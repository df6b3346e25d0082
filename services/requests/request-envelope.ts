import { AppError } from '../../core/errors';
import type { RequestForDecision, StoredRequest } from '../model';
import type { SqlDatabase, SqlExecutor } from '../store/database';
import { enqueueAll, owed, type OwedMessage } from '../store/outbox';
import { lockRequest, lockRequestForDecision } from '../store/requests';

/** Raised after a change commits what it owes, so the workers deliver (or check) now rather than at their next poll. */
export interface WorkSignal {
  workQueued(): void;
  /** A re-check or transfer check was owed: the checks worker looks now. */
  checksQueued?(): void;
}

/** The two statements that owe work (services/store/outbox.ts `enqueue`, services/store/request-checks.ts): what is watched. */
const OWES_MESSAGE = /^\s*INSERT INTO outbox\b/i;
const OWES_CHECK = /^\s*INSERT INTO request_checks\b/i;

/** What a committed transaction wrote for the workers. */
interface Enqueued {
  messages: boolean;
  checks: boolean;
}

/**
 * Runs `work` in one transaction and, once it has committed, wakes the workers for what it
 * enqueued: the delivery worker for owed messages (outbox rows), the checks worker for owed
 * checks. Nothing is woken for a transaction that rolled back, nor for one that owed nothing;
 * no caller has to remember to signal. Every owed message and check is written by one of two
 * statements (services/store/outbox.ts `enqueue`, services/store/request-checks.ts `oweCheck`),
 * which is what is watched.
 */
export async function inTransaction<T>(db: SqlDatabase, signal: WorkSignal, work: (tx: SqlExecutor) => Promise<T>): Promise<T> {
  const enqueued: Enqueued = { messages: false, checks: false };
  const result = await db.transaction((tx) =>
    work({
      query: (sql, params) => {
        if (OWES_MESSAGE.test(sql)) enqueued.messages = true;
        else if (OWES_CHECK.test(sql)) enqueued.checks = true;
        return tx.query(sql, params);
      },
    }),
  );
  if (enqueued.messages) signal.workQueued();
  if (enqueued.checks) signal.checksQueued?.();
  return result;
}

/**
 * `db` whose every commit wakes the workers for what it enqueued: a transaction after it commits
 * (as `inTransaction`), a single statement outside one after it returns (it commits on its own).
 * For the bot's bulk work that owes messages or checks outside a single request's envelope (the
 * daily check sweep, retention, register notices), so the composition root wires one signal and
 * no worker is woken by hand.
 */
export function signalledDatabase(db: SqlDatabase, signal: WorkSignal): SqlDatabase {
  return {
    engine: db.engine,
    query: (sql, params) => autocommitted(db, signal, sql, params),
    transaction: (work) => inTransaction(db, signal, work),
    exec: (script) => db.exec(script),
    close: () => db.close(),
  };
}

async function autocommitted<Row>(db: SqlDatabase, signal: WorkSignal, sql: string, params?: readonly unknown[]): Promise<Row[]> {
  const rows = await db.query<Row>(sql, params);
  if (OWES_MESSAGE.test(sql)) signal.workQueued();
  else if (OWES_CHECK.test(sql)) signal.checksQueued?.();
  return rows;
}

/**
 * The one way a request changes: in one transaction, the request is locked (changes to one
 * request happen one after another) and read as it is now, `apply` asks the lifecycle and makes
 * the change with its audit events and the messages it owes, the ops card owes its update
 * (every change shows on it), and after the commit the workers are woken for what was owed.
 * The use cases of people (TransferRequests), the background checks (RequestRechecks) and the
 * reminders (ChaseScheduler) all change requests through it.
 */
export class RequestEnvelope {
  constructor(
    private readonly db: SqlDatabase,
    private readonly signal: WorkSignal,
  ) {}

  /** Throws REQUEST_NOT_FOUND when there is no such request. */
  async change<T>(requestId: number, apply: (tx: SqlExecutor, request: StoredRequest) => Promise<T>): Promise<T> {
    return found(await this.changeIfPresent(requestId, apply));
  }

  /**
   * As `change`, for a decision on accounts: the request is locked and read as the lifecycle asks
   * it (its accounts' decisions and facts, not their reasons and evidence), so a decision on a
   * 500-account request does not read and parse every account's evidence under the lock. The
   * messages the decision owes (`owe`) are written with the card's update in one statement.
   */
  async decide<T>(requestId: number, apply: (tx: SqlExecutor, request: RequestForDecision, owe: Owe) => Promise<T>): Promise<T> {
    return found(await this.locked(lockRequestForDecision, requestId, apply, { cardUpdate: true }));
  }

  /** As `change`, for the bot's own work: a request gone meanwhile (removed under retention) is nothing to do. */
  changeIfPresent<T>(
    requestId: number,
    apply: (tx: SqlExecutor, request: StoredRequest) => Promise<T>,
    options: { cardUpdate: boolean } = { cardUpdate: true },
  ): Promise<{ found: true; result: T } | { found: false }> {
    return this.locked(lockRequest, requestId, apply, options);
  }

  private locked<Locked, T>(
    lock: (tx: SqlExecutor, requestId: number) => Promise<Locked | null>,
    requestId: number,
    apply: (tx: SqlExecutor, request: Locked, owe: Owe) => Promise<T>,
    options: { cardUpdate: boolean },
  ): Promise<{ found: true; result: T } | { found: false }> {
    return inTransaction(this.db, this.signal, async (tx) => {
      const request = await lock(tx, requestId);
      if (!request) return { found: false as const };
      const owedByChange: OwedMessage[] = [];
      const result = await apply(tx, request, (message) => void owedByChange.push(message));
      // What the change owes, then the card's update (every change shows on it): one statement, in that order.
      await enqueueAll(tx, options.cardUpdate ? [...owedByChange, owed.opsUpdate(requestId)] : owedByChange);
      return { found: true as const, result };
    });
  }
}

/** Owes a message, written when the change is done, with the card's update, in one statement. */
export type Owe = (message: OwedMessage) => void;

function found<T>(changed: { found: true; result: T } | { found: false }): T {
  if (!changed.found) throw new AppError('REQUEST_NOT_FOUND');
  return changed.result;
}
