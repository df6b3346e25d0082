import { DeadlineExceeded, withDeadline } from '../../core/deadline';
import { describeErrorForLog } from '../../core/errors';
import type { Logger } from '../../core/log';
import type { SqlExecutor } from '../store/database';
import { SERVICE_DOWN_CODE, WAITING_FOR_SERVICE, type Delivery, type DeliveryKind, type DeliveryOf, type Outbox } from '../store/outbox';
import { conversationKeyOf, UNPACED, type SendDestination, type SendPacer } from './send-pacing';

/**
 * The service a message goes to refused or failed to take it. `status` is the HTTP status it
 * answered (undefined when it could not be reached, or did not answer in time);
 * `retryAfterSeconds` its Retry-After.
 */
export class DeliveryFailure extends Error {
  constructor(
    readonly status: number | undefined,
    readonly retryAfterSeconds: number | undefined,
  ) {
    super(status ? `The service answered ${status}.` : 'The service could not be reached.');
    // The name it has always had in logs (the Teams edge exports it as DeliveryError).
    this.name = 'DeliveryError';
  }
}

/** Not yet deliverable (no chat to go to, waiting for another message): try again after `waitSeconds`, counting no attempt. */
export class NotYet extends Error {
  constructor(
    readonly code: string,
    readonly waitSeconds: number,
  ) {
    super(code);
  }
}

/** No longer owed (the request is gone, the question answered, the run superseded): settled as undeliverable, nothing sent. */
export class Never extends Error {
  constructor(readonly code: string) {
    super(code);
  }
}

/** This worker's claim lapsed and another holds the row: leave it to them. */
class ClaimLost extends Error {}

/**
 * No slot in the send budget for this destination yet: the row waits for one, counting no
 * attempt. `forService`: the destination is down and another request is its probe; the row is
 * marked as waiting for it, so the probe's success wakes it.
 */
class Paced extends Error {
  constructor(
    readonly waitMs: number,
    readonly forService: boolean,
  ) {
    super(forService ? WAITING_FOR_SERVICE : 'PACED');
  }
}

/** What became of one delivery's calls to the service, for what follows them. */
interface CallsMade {
  /** The service answered a call (the backlog may be woken). */
  answered: boolean;
  /** A call went to a destination found down, as its probe, and it answered. */
  probeAnswered: boolean;
}

/** What becomes of a failed attempt. */
export type Verdict =
  /** Try again after the back-off (or `afterSeconds`, when the service said when), counting the attempt. */
  | { action: 'retry'; code: string; afterSeconds?: number }
  /** Stop now: refused for good (undeliverable), or pointless to repeat (failed). */
  | { action: 'give-up'; as: 'undeliverable' | 'failed'; code: string }
  /** Nobody's failure: look again after `seconds` (undefined: the back-off), counting no attempt. */
  | { action: 'wait'; code: string; seconds?: number };

/** Refusals that end a message at once: 403 (blocked, removed) and 404 (gone) for good; 400 and 413 because the same request would fail the same way. */
const REFUSALS: ReadonlyMap<number, 'undeliverable' | 'failed'> = new Map([
  [403, 'undeliverable'],
  [404, 'undeliverable'],
  [400, 'failed'],
  [413, 'failed'],
]);

/**
 * The engine's classification of a failure: a refusal in REFUSALS ends the message; 429 is
 * the service asking to wait, not a failed attempt: the message waits its Retry-After (or the
 * back-off) and no number of 429s ever gives it up; 412, 5xx, no answer and anything else are
 * retried with back-off, counting the attempt. `failure` undefined: the error did not come from
 * the call to the service (a bug, the store), which is retried as DELIVERY_FAILED.
 */
export function classifyFailure(failure: DeliveryFailure | undefined): Verdict {
  if (!failure) return { action: 'retry', code: 'DELIVERY_FAILED' };
  if (failure.status === undefined) return { action: 'retry', code: 'CONNECTOR_UNREACHABLE' };
  const code = `HTTP_${failure.status}`;
  const refused = REFUSALS.get(failure.status);
  if (refused) return { action: 'give-up', as: refused, code };
  if (failure.status === 429)
    return failure.retryAfterSeconds === undefined ? { action: 'wait', code } : { action: 'wait', code, seconds: failure.retryAfterSeconds };
  return { action: 'retry', code };
}

export type Settle = (tx: SqlExecutor) => Promise<void>;

/**
 * A call to the service, as a handler makes it: only while this worker still holds the row
 * (its lease renewed), only with a slot in the send budget of `to` (else the row waits for
 * one, counting no attempt), and abandoned after the policy's send timeout so a hung
 * connection neither stalls the worker nor outlives the lease. An abandoned call may still
 * land; at-least-once is the most a service without idempotency keys allows, and the lease
 * makes a second send rare. Whatever it throws arrives as a DeliveryFailure.
 */
export type GuardedCall = <T>(send: () => Promise<T>, to?: SendDestination) => Promise<T>;

/** How one kind of message is delivered. */
export interface DeliveryHandler<D extends Delivery> {
  /**
   * Delivers it, every call to the service through `call`; resolves to what to write in the
   * transaction that marks it delivered. Throws NotYet or Never when it is not (yet) owed.
   */
  deliver(delivery: D, call: GuardedCall): Promise<Settle | undefined>;
  /** Reads a failure its own way before the engine's table does (undefined: the table decides). */
  reclassify?(delivery: D, failure: DeliveryFailure): Promise<Verdict | undefined>;
  /** Written in the transaction that gives it up after a real failure (refused, or out of attempts); not when it stopped being owed. */
  gaveUp?(tx: SqlExecutor, delivery: D, code: string): Promise<void>;
}

/** Every kind with its handler. */
export type DeliveryHandlers = { [K in DeliveryKind]: DeliveryHandler<DeliveryOf<K>> };

export interface DeliveryPolicy {
  maxAttempts: number;
  /** First retry after a failure; doubled per attempt, with jitter, up to `maxBackoffSeconds`. */
  baseBackoffSeconds: number;
  maxBackoffSeconds: number;
  leaseSeconds: number;
  /** A call to the service that takes longer is abandoned (and retried), well inside the lease. */
  sendTimeoutSeconds: number;
  batchSize: number;
  /** How long a row that used up its attempts rests before it gets another round. */
  rearmAfterSeconds: number;
  /** How long a message with no chat to go to waits before it is looked at again (it is also woken when the chat becomes known). */
  noConversationWaitSeconds: number;
  /**
   * With nothing due, a round waits for a row due within this long rather than return: paced
   * rows fall due a fraction of a second apart, and the poll interval would make each late.
   */
  lookAheadMs: number;
}

/** Ten tries over about a quarter of an hour, then a rest of an hour, then ten more, for as long as the service keeps failing. */
export const DEFAULT_DELIVERY_POLICY: DeliveryPolicy = {
  maxAttempts: 10,
  baseBackoffSeconds: 2,
  maxBackoffSeconds: 15 * 60,
  leaseSeconds: 60,
  sendTimeoutSeconds: 30,
  batchSize: 5,
  rearmAfterSeconds: 3600,
  noConversationWaitSeconds: 3600,
  lookAheadMs: 2000,
};

/**
 * How many times a round looks again for a row it slept until. A timer can fire a millisecond or
 * two before the database's clock reaches the moment it was set for (Node times it from the
 * event loop's cached clock), so the row is not yet claimable: the round looks again rather than
 * report nothing to do, which left a paced message for the next poll (and a drain ended with it
 * still owed).
 */
const LOOKS_FOR_A_ROW_FALLING_DUE = 5;

/** How often the engine looks for failed rows that have rested long enough. */
const REARM_SWEEP_MS = 10 * 60 * 1000;

/**
 * Delivers the outbox, whatever the messages and wherever they go: claims due rows, hands
 * each to its kind's handler, and settles it as the handler's call went: delivered, waiting,
 * retried with back-off and jitter, or given up after a refusal or bounded real failures.
 * Every call takes a slot in the send budget first (shared by all instances), so the service's
 * rate limits are kept rather than discovered; a row without a slot waits for the moment one
 * frees. Rows given up on after failures get another round once they have rested.
 */
export class DeliveryEngine {
  private stopping = false;
  private lastSweep = 0;
  /**
   * Where this instance saw the service down since it last woke what waits there (by recipient;
   * '' for messages to no person). A row that itself failed before (attempts > 1) is the other
   * sign, and the one another instance's failures leave.
   */
  private readonly sawDown = new Set<string>();

  constructor(
    private readonly outbox: Outbox,
    private readonly handlers: DeliveryHandlers,
    /** What an error thrown by a call to the service means, as status and Retry-After. */
    private readonly toFailure: (error: unknown) => DeliveryFailure,
    private readonly logger: Logger,
    private readonly policy: DeliveryPolicy = DEFAULT_DELIVERY_POLICY,
    private readonly random: () => number = Math.random,
    private readonly pacer: SendPacer = UNPACED,
  ) {}

  /** One round: claims due rows and delivers them one by one. True when it found any (more may be due). */
  async deliverDue(): Promise<boolean> {
    if (Date.now() - this.lastSweep > REARM_SWEEP_MS) {
      this.lastSweep = Date.now();
      const rearmed = await this.outbox.rearmFailed(this.policy.rearmAfterSeconds);
      if (rearmed > 0) this.logger.warn('delivery.rearmed', { rows: rearmed });
    }
    if (await this.deliverBatch()) return true;
    for (let look = 0; look < LOOKS_FOR_A_ROW_FALLING_DUE && !this.stopping; look++) {
      const nextInMs = await this.outbox.nextDueInMs(this.policy.lookAheadMs);
      if (nextInMs === undefined) return false;
      await new Promise((resolve) => setTimeout(resolve, nextInMs));
      if (this.stopping) return false;
      if (await this.deliverBatch()) return true;
      // Reported due now and still not claimable: another worker holds it, or nothing was due.
      if (nextInMs === 0) return false;
    }
    return false;
  }

  private async deliverBatch(): Promise<boolean> {
    let unreadable = 0;
    const due = await this.outbox.claimDue(this.policy.batchSize, this.policy.leaseSeconds, (row) => {
      unreadable++;
      this.logger.error('delivery.payload_invalid', {
        deliveryId: row.id,
        kind: Object.hasOwn(this.handlers, row.kind) ? row.kind : 'unknown',
        problems: row.problems,
      });
    });
    // A destination found without a slot in this batch is not asked again for the rest of it.
    const pacedUntil = new Map<string, { until: number; forService: boolean }>();
    for (const [index, delivery] of due.entries()) {
      if (this.stopping) {
        // Shutting down: what was claimed but not tried goes back at once, not after its lease.
        await this.outbox.release(due.slice(index));
        return false;
      }
      await this.deliver(delivery, pacedUntil);
    }
    return due.length + unreadable > 0;
  }

  /** Finish the delivery in hand, hand back the rest of the batch. */
  stop(): void {
    this.stopping = true;
  }

  private handlerOf<K extends DeliveryKind>(delivery: DeliveryOf<K>): DeliveryHandler<DeliveryOf<K>> {
    return this.handlers[delivery.kind];
  }

  private async deliver(delivery: Delivery, pacedUntil: Map<string, { until: number; forService: boolean }>): Promise<void> {
    const handler = this.handlerOf(delivery);
    const context = { deliveryId: delivery.id, kind: delivery.kind, requestId: delivery.requestId ?? undefined, attempt: delivery.attempts };
    const calls: CallsMade = { answered: false, probeAnswered: false };
    try {
      const settle = await handler.deliver(delivery, this.guardedCall(delivery, pacedUntil, calls));
      await this.outbox.markDelivered(delivery, settle);
      this.logger.info('delivery.sent', context);
      if (calls.answered) await this.wakeWhatWaitedForTheService(delivery, calls.probeAnswered);
    } catch (error) {
      if (error instanceof ClaimLost) {
        this.logger.info('delivery.claim_lost', context);
        return;
      }
      if (error instanceof Paced) {
        await this.outbox.retryLater(delivery, error.waitMs / 1000, error.message, false);
        this.logger.debug('delivery.paced', { ...context, inMs: error.waitMs, ...(error.forService ? { reason: WAITING_FOR_SERVICE } : {}) });
        return;
      }
      if (error instanceof NotYet) {
        await this.outbox.retryLater(delivery, error.waitSeconds, error.code, false);
        this.logger.debug('delivery.waiting', { ...context, reason: error.code });
        return;
      }
      if (error instanceof Never) {
        await this.outbox.giveUp(delivery, 'undeliverable', error.code);
        this.logger.warn('delivery.undeliverable', { ...context, reason: error.code });
        return;
      }
      await this.failed(delivery, handler, error, context);
    }
  }

  private async failed(delivery: Delivery, handler: DeliveryHandler<Delivery>, error: unknown, context: Record<string, unknown>): Promise<void> {
    const failure = error instanceof DeliveryFailure ? error : undefined;
    const verdict = (failure && (await handler.reclassify?.(delivery, failure))) ?? classifyFailure(failure);
    if (verdict.action === 'wait') {
      const wait = verdict.seconds ?? this.backoff(delivery.attempts);
      await this.outbox.retryLater(delivery, wait, verdict.code, false);
      // Throttled despite the pacing (a limit lower than configured, or traffic the budget does not see): worth a warning.
      if (verdict.code === 'HTTP_429') this.logger.warn('delivery.throttled', { ...context, inSeconds: Math.round(wait) });
      else this.logger.debug('delivery.waiting', { ...context, reason: verdict.code });
      return;
    }
    if (verdict.action === 'give-up' || delivery.attempts >= this.policy.maxAttempts) {
      const status = verdict.action === 'give-up' ? verdict.as : 'failed';
      await this.outbox.giveUp(delivery, status, verdict.code, handler.gaveUp && ((tx) => handler.gaveUp!(tx, delivery, verdict.code)));
      this.logger.warn('delivery.gave_up', { ...context, status, ...(failure ? { reason: verdict.code } : describeErrorForLog(error)) });
      return;
    }
    const wait = verdict.afterSeconds ?? this.backoff(delivery.attempts);
    if (SERVICE_DOWN_CODE.test(verdict.code)) this.sawDown.add(delivery.recipient ?? '');
    await this.outbox.retryLater(delivery, wait, verdict.code);
    this.logger.warn('delivery.retrying', { ...context, reason: verdict.code, inSeconds: Math.round(wait) });
  }

  /**
   * The service took a message where it had been down: what waits there (for the destination's
   * probe, or out of back-off) is due now (one statement), and goes as pacing allows. Only after a
   * sign of an outage (this row failed before, this instance saw the service down, or the request
   * was the destination's probe), so an ordinary send costs no extra statement.
   */
  private async wakeWhatWaitedForTheService(delivery: Delivery, probeAnswered: boolean): Promise<void> {
    const scope = delivery.recipient ?? '';
    if (delivery.attempts <= 1 && !this.sawDown.has(scope) && !probeAnswered) return;
    this.sawDown.delete(scope);
    // The delivery in hand is already settled as sent: a failure here must never reach its failure path
    // (which could give a sent message up as undeliverable). The rows simply wait out their back-off.
    try {
      const woken = await this.outbox.wakeBackedOff(delivery.recipient);
      if (woken > 0) this.logger.info('delivery.backlog_woken', { deliveryId: delivery.id, kind: delivery.kind, rows: woken });
    } catch (error) {
      this.logger.warn('delivery.backlog_wake_failed', { deliveryId: delivery.id, kind: delivery.kind, ...describeErrorForLog(error) });
    }
  }

  /** The slot is taken last, just before the request leaves, so the ledger's time is when it went. True: the request is the destination's probe. */
  private async takeSlot(to: SendDestination, pacedUntil: Map<string, { until: number; forService: boolean }>): Promise<boolean> {
    const key = `${to.tenant} ${conversationKeyOf(to.conversation)}`;
    const known = pacedUntil.get(key);
    if (known !== undefined && known.until > Date.now()) throw new Paced(known.until - Date.now(), known.forService);
    const reservation = await this.pacer.reserve(to);
    if (reservation.granted) return reservation.probe === true;
    const forService = reservation.waitingForService === true;
    pacedUntil.set(key, { until: Date.now() + reservation.waitMs, forService });
    throw new Paced(reservation.waitMs, forService);
  }

  /** Exponential with "equal jitter": half fixed, half random, so retries from many rows spread out. */
  private backoff(attempts: number): number {
    const ceiling = Math.min(this.policy.maxBackoffSeconds, this.policy.baseBackoffSeconds * 2 ** Math.max(0, attempts - 1));
    return ceiling / 2 + (this.random() * ceiling) / 2;
  }

  private guardedCall(delivery: Delivery, pacedUntil: Map<string, { until: number; forService: boolean }>, calls: CallsMade): GuardedCall {
    return async (send, to) => {
      if (!(await this.outbox.stillHeld(delivery, this.policy.leaseSeconds))) throw new ClaimLost();
      const probe = to !== undefined && (await this.takeSlot(to, pacedUntil));
      let result: Awaited<ReturnType<typeof send>>;
      try {
        result = await withDeadline(send(), this.policy.sendTimeoutSeconds * 1000);
      } catch (error) {
        const failure = error instanceof DeadlineExceeded ? new DeliveryFailure(undefined, undefined) : this.toFailure(error);
        if (to) await this.noteHealth(delivery, to, probe, failure);
        throw failure;
      }
      calls.answered = true;
      if (probe) {
        calls.probeAnswered = true;
        await this.noteHealth(delivery, to, probe, undefined);
      }
      return result;
    };
  }

  /**
   * What a call showed of its destination's health, for the send budget every instance shares: a
   * failure as of a service that is down (no answer, 5xx) marks it down, so that until it takes a
   * request again one request at a time goes there (a probe) and the rest wait for it; any other
   * answer to a probe (taken, or refused for its own reasons: 413, 429, 403) shows it is back.
   * Nothing else hangs on it: a failure to record it is logged, and the rows back off on their own.
   */
  private async noteHealth(delivery: Delivery, to: SendDestination, probe: boolean, failure: DeliveryFailure | undefined): Promise<void> {
    const down = failure !== undefined && SERVICE_DOWN_CODE.test(classifyFailure(failure).code);
    if (!down && !probe) return;
    try {
      if (down) await this.pacer.serviceDown?.(to);
      else await this.pacer.serviceBack?.(to);
    } catch (error) {
      this.logger.warn('delivery.health_not_recorded', { deliveryId: delivery.id, kind: delivery.kind, down, ...describeErrorForLog(error) });
    }
  }
}
