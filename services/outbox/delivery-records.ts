import type { StoredRequest } from '../model';
import { appendAudit, type AuditEvent } from '../store/audit';
import { ConversationReferenceRecords } from '../store/conversation-references';
import { enqueue, Outbox } from '../store/outbox';
import { RequestRepository } from '../store/requests';
import type { ScreeningJob, ScreeningJobs } from '../store/screening-jobs';
import { DeliveryEngine, type Settle } from './delivery-engine';
import { dedupeKeys, owed } from './owed-messages';

/** Why a message to the requester waits: their outcome, which it follows, is still owed. */
export const WAITING_FOR_OUTCOME = 'WAITING_FOR_OUTCOME';
/** ... or news of an earlier change to the same request is: changes are told in the order they happened. */
export const WAITING_FOR_EARLIER_CHANGE = 'WAITING_FOR_EARLIER_CHANGE';
/** How often what follows an outcome that failed (and will be tried again) looks again. */
const FAILED_OUTCOME_RECHECK_SECONDS = 600;

export type { Delivery, DeliveryOf } from '../store/outbox';

type DropFirst<T extends unknown[]> = T extends [unknown, ...infer Rest] ? Rest : never;

/** The bot itself, as the actor of what it does on its own. */
const BOT_ACTOR = { id: 'nas-transfer-bot', name: 'NAS Transfer Bot' };

/**
 * What delivering an owed message reads and records, for the Teams deliveries in bot/messaging:
 * the reads say what a message is about when it goes, and each settle is written in the
 * transaction that marks the message delivered or given up, so what it records and the row's
 * state cannot disagree. The bot never touches the store itself.
 */
export class DeliveryRecords {
  constructor(
    private readonly outbox: Outbox,
    private readonly requests: RequestRepository,
    private readonly jobs: ScreeningJobs,
  ) {}

  /** The engine that delivers this outbox with the given handlers (the rest of its arguments as DeliveryEngine's). */
  engine(...args: DropFirst<ConstructorParameters<typeof DeliveryEngine>>): DeliveryEngine {
    return new DeliveryEngine(this.outbox, ...args);
  }

  // Reads, when a message goes.

  request(id: number): Promise<StoredRequest | null> {
    return this.requests.get(id);
  }

  /** The audit event a message about a change names: what changed, by whom and why. */
  auditEvent(id: number): Promise<AuditEvent | null> {
    return this.requests.auditEvent(id);
  }

  /**
   * Whether the requester's outcome is still on its way (it will show the request as it is then):
   * undefined when it is not, else the seconds until it next falls due (0: due now, or being sent).
   */
  /**
   * Seconds until the requester's outcome is next tried, while it is owed: pending, or failed
   * for a reason rest can help (Teams answered 5xx to every attempt), which is owed again and
   * looked at again every `FAILED_OUTCOME_RECHECK_SECONDS`. Undefined once delivered or refused for good.
   */
  outcomeOwed(requestId: number): Promise<number | undefined> {
    return this.outbox.pendingDueInSeconds(dedupeKeys.outcome(requestId), FAILED_OUTCOME_RECHECK_SECONDS);
  }

  /** Whether news of an earlier change to the request is still owed to the requester (the later one waits for it). */
  earlierChangeOwed(requestId: number, id: number): Promise<boolean> {
    return this.outbox.earlierOwed(requestId, 'outcome.changed', id);
  }

  /** News of a change reached the requester: the next one, which waited for it, goes now. */
  static changeDelivered(requestId: number): Settle {
    return (tx) => Outbox.dueNow(tx, requestId, WAITING_FOR_EARLIER_CHANGE);
  }

  screeningJob(id: string): Promise<ScreeningJob | null> {
    return this.jobs.get(id);
  }

  /** The version of the request card's update still owed, if one is: read before the request, so the card shows at least that state. */
  cardUpdateOwed(requestId: number): Promise<number | undefined> {
    return this.outbox.pendingVersion(dedupeKeys.opsUpdate(requestId));
  }

  /** Whether the request's card is still owed its first post (an update or thread reply waits for it). */
  async cardPostOwed(requestId: number): Promise<boolean> {
    return (await this.outbox.statusOf(dedupeKeys.opsPost(requestId)))?.status === 'pending';
  }

  /** The requester is owed word that NAS Operations have not received the request yet (once per request). */
  async oweDelayNotice(requestId: number): Promise<void> {
    const request = await this.requests.get(requestId);
    if (request) await this.outbox.enqueue(owed.opsDelayed(request.id, request.requester.id));
  }

  // Settles, each written with the delivery's own row.

  /**
   * The card is in the channel: its ids are kept for updates, and an update owed at `updateOwed`
   * is settled by the post itself (the post already shows that state), unless newer.
   */
  static cardPosted(requestId: number, conversationId: string, activityId: string, updateOwed: number | undefined): Settle {
    return async (tx) => {
      await RequestRepository.recordOpsMessage(tx, requestId, conversationId, activityId);
      if (updateOwed !== undefined) await Outbox.coveredBy(tx, dedupeKeys.opsUpdate(requestId), updateOwed, 'COVERED_BY_POST');
    };
  }

  /**
   * The requester has the outcome: recorded, with where the card is (a later change updates it
   * in place), and the ops card (which says whether they were told) owes an update.
   */
  static outcomeDelivered(requestId: number, sent: { conversationId: string | undefined; activityId: string | undefined }): Settle {
    return async (tx) => {
      await RequestRepository.recordOutcomeNotified(tx, requestId, sent);
      await enqueue(tx, owed.opsUpdate(requestId));
      // What waited for the outcome (a change to it, its card's update, the completion) goes now, not at the outcome's old
      // due time (up to an hour for a chat not yet known, or a back-off after Teams was away).
      await Outbox.dueNow(tx, requestId, WAITING_FOR_OUTCOME);
    };
  }

  /** Teams took only the minimal ops card: the requester is owed word that NAS Operations have a summary (once per request). */
  static cardTooLarge(requestId: number, requesterId: string): Settle {
    return (tx) => enqueue(tx, owed.cardTooLarge(requestId, requesterId));
  }

  /**
   * Teams refused even the minimal ops card as too large: NAS Operations are told in plain text
   * in their channel, and the requester is told, so "undeliverable" never means "forgotten".
   */
  static cardRefused(requestId: number): Settle {
    return async (tx) => {
      const [row] = await tx.query<{ requester_id: string }>('SELECT requester_id FROM transfer_requests WHERE id = $1', [requestId]);
      await enqueue(tx, owed.opsCardRefused(requestId));
      if (row) await enqueue(tx, owed.cardTooLarge(requestId, row.requester_id, true));
    };
  }

  /** The requester could not be told the outcome: NAS Operations see it on the card. */
  static outcomeUndelivered(requestId: number): Settle {
    return (tx) => enqueue(tx, owed.opsUpdate(requestId));
  }

  /**
   * The requester's urgent leaver alert was delivered or given up on: the ops card, which says
   * whether they were told of the leaver (NAS Operations tell them another way when not), owes an update.
   */
  static leaverAlertSettled(requestId: number): Settle {
    return (tx) => enqueue(tx, owed.opsUpdate(requestId));
  }

  /** Every message to a requester, delivered or given up on, is in the request's audit. */
  static requesterNotified(requestId: number, kind: string): Settle {
    return async (tx) => {
      await appendAudit(tx, BOT_ACTOR, 'requester.notified', requestId, null, { kind });
    };
  }

  static requesterNotificationFailed(requestId: number, kind: string, reason: string): Settle {
    return async (tx) => {
      await appendAudit(tx, BOT_ACTOR, 'requester.notification_failed', requestId, null, { kind, reason });
    };
  }

  /** A chat Teams had refused took a message: the mark is cleared and everything waiting for it falls due. */
  channelBack(key: string): Settle {
    return async (tx) => {
      await ConversationReferenceRecords.markReachable(tx, key);
      await this.outbox.nudgeOpsChannel(tx);
    };
  }
}
