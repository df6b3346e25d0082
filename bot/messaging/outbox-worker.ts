import { MessageFactory, type Activity, type Attachment, type ConversationReference } from 'botbuilder';
import { describeErrorForLog } from '../../core/errors';
import type { Logger } from '../../core/log';
import type { RequestQuestion, StoredRequest } from '../../services/model';
import { dedupeKeys, enqueue, type Delivery, type DeliveryKind, type Outbox } from '../../services/store/outbox';
import { appendAudit } from '../../services/store/audit';
import { RequestRepository } from '../../services/store/requests';
import type { ScreeningJob, ScreeningJobs } from '../../services/store/screening-jobs';
import type { SqlExecutor } from '../../services/store/database';
import { ConversationReferences } from '../state/conversation-references';
import { DeliveryError, toDeliveryError, type Messenger } from './messenger';

/** How the bot renders each owed message; from the store at delivery time, never from the row. */
export interface OwedMessageRenderers {
  /**
   * The ops card. `smaller` counts how often Teams answered 413 (too large) to this render:
   * each step must make the card smaller, down to a summary that always fits.
   */
  opsRequest(request: StoredRequest, refreshUserIds: readonly string[], smaller: number): Attachment;
  /** To the requester: NAS Operations have not received the request yet. */
  opsDelayed(request: StoredRequest): Partial<Activity>;
  outcome(request: StoredRequest): Attachment;
  completion(request: StoredRequest): Partial<Activity>;
  chase(request: StoredRequest, workingDays: number): Partial<Activity>;
  question(request: StoredRequest, question: RequestQuestion, reminder: boolean): Partial<Activity>;
  screeningResults(job: ScreeningJob): Partial<Activity>;
  /** To the ops channel, in the request card's thread: the requester answered a question. */
  answerInThread(request: StoredRequest, question: RequestQuestion): Partial<Activity>;
}

export interface DeliveryPolicy {
  maxAttempts: number;
  /** First retry after a failure; doubled per attempt, with jitter, up to `maxBackoffSeconds`. */
  baseBackoffSeconds: number;
  maxBackoffSeconds: number;
  leaseSeconds: number;
  /** A Bot Connector call that takes longer is abandoned (and retried), well inside the lease. */
  sendTimeoutSeconds: number;
  batchSize: number;
  /** How long a row that used up its attempts rests before it gets another round. */
  rearmAfterSeconds: number;
  /** How long a message with no chat to go to waits before it is looked at again (it is also woken when the chat becomes known). */
  noConversationWaitSeconds: number;
}

/** Ten tries over about a quarter of an hour, then a rest of an hour, then ten more, for as long as Teams keeps failing. */
export const DEFAULT_DELIVERY_POLICY: DeliveryPolicy = {
  maxAttempts: 10,
  baseBackoffSeconds: 2,
  maxBackoffSeconds: 15 * 60,
  leaseSeconds: 60,
  sendTimeoutSeconds: 30,
  batchSize: 5,
  rearmAfterSeconds: 3600,
  noConversationWaitSeconds: 3600,
};

/** How often the worker looks for failed rows that have rested long enough. */
const REARM_SWEEP_MS = 10 * 60 * 1000;

/** Messages to the requester: each one delivered, or given up on, is in the request's audit. */
const REQUESTER_MESSAGES: ReadonlySet<DeliveryKind> = new Set(['outcome', 'completion', 'question', 'question.chase', 'ops.delayed']);
/** How many times an ops card is rendered smaller after Teams answers 413 before it is a bug, not a size. */
export const MAX_SMALLER_RENDERS = 3;
/**
 * A channel marked unreachable is not tried again for this long (the bot being added back
 * clears the mark at once); after it, the next owed card is sent anyway, as a probe.
 */
const UNREACHABLE_PROBE_SECONDS = 3600;
/** The bot itself, as the actor of what it does on its own. */
const BOT_ACTOR = { id: 'nas-transfer-bot', name: 'NAS Transfer Bot' };

/** What a delivery came to: sent, or why not. */
type Sent = { settle?: (tx: SqlExecutor) => Promise<void> };
class NotYet extends Error {
  constructor(readonly code: string, readonly waitSeconds: number) {
    super(code);
  }
}
class Never extends Error {
  constructor(readonly code: string) {
    super(code);
  }
}
/** This worker's claim lapsed and another holds the row: leave it to them. */
class ClaimLost extends Error {}

/**
 * Delivers the outbox. Teams answers are handled as documented for the Bot Connector:
 * 2xx delivered; 429 after Retry-After; 412, 5xx and no answer with exponential backoff and
 * jitter; 403 (bot removed or blocked) and 404 (conversation gone) undeliverable at once,
 * and shown on the ops card when it was the requester's outcome; attempts are bounded.
 */
export class OutboxWorker {
  private readonly handlers: Record<DeliveryKind, (delivery: Delivery) => Promise<Sent>>;

  constructor(
    private readonly outbox: Outbox,
    private readonly requests: RequestRepository,
    private readonly jobs: ScreeningJobs,
    private readonly references: ConversationReferences,
    private readonly messenger: Messenger,
    private readonly render: OwedMessageRenderers,
    /** NAS Operations members to name in the ops card's refresh.userIds. */
    private readonly opsViewers: () => Promise<string[]>,
    private readonly logger: Logger,
    private readonly policy: DeliveryPolicy = DEFAULT_DELIVERY_POLICY,
    private readonly random: () => number = Math.random,
  ) {
    this.handlers = {
      'ops.post': (delivery) => this.postOpsCard(delivery),
      'ops.update': (delivery) => this.updateOpsCard(delivery),
      outcome: (delivery) => this.sendOutcome(delivery),
      'screening.results': (delivery) => this.sendScreeningResults(delivery),
      completion: (delivery) => this.sendToRequester(delivery, (request) => this.render.completion(request)),
      'ops.chase': (delivery) => this.remindOps(delivery),
      question: (delivery) => this.askRequester(delivery, false),
      'question.chase': (delivery) => this.askRequester(delivery, true),
      'ops.delayed': (delivery) => this.sendToRequester(delivery, (request) => this.render.opsDelayed(request)),
      'ops.answer': (delivery) => this.replyInOpsThread(delivery),
    };
  }

  private stopping = false;
  private lastSweep = 0;

  /** One round: claims due rows and delivers them one by one. True when it found any (more may be due). */
  async deliverDue(): Promise<boolean> {
    if (Date.now() - this.lastSweep > REARM_SWEEP_MS) {
      this.lastSweep = Date.now();
      const rearmed = await this.outbox.rearmFailed(this.policy.rearmAfterSeconds);
      if (rearmed > 0) this.logger.warn('delivery.rearmed', { rows: rearmed });
    }
    const due = await this.outbox.claimDue(this.policy.batchSize, this.policy.leaseSeconds);
    for (const [index, delivery] of due.entries()) {
      if (this.stopping) {
        // Shutting down: what was claimed but not tried goes back at once, not after its lease.
        await this.outbox.release(due.slice(index));
        return false;
      }
      await this.deliver(delivery);
    }
    return due.length > 0;
  }

  /** Finish the delivery in hand, hand back the rest of the batch. */
  stop(): void {
    this.stopping = true;
  }

  private async deliver(delivery: Delivery): Promise<void> {
    const context = { deliveryId: delivery.id, kind: delivery.kind, requestId: delivery.requestId ?? undefined, attempt: delivery.attempts };
    try {
      const sent = await this.handlers[delivery.kind](delivery);
      await this.outbox.markDelivered(delivery, async (tx) => {
        if (sent.settle) await sent.settle(tx);
        if (delivery.requestId !== null && REQUESTER_MESSAGES.has(delivery.kind)) await appendAudit(tx, BOT_ACTOR, 'requester.notified', delivery.requestId, null, { kind: delivery.kind });
      });
      this.logger.info('delivery.sent', context);
    } catch (error) {
      if (error instanceof ClaimLost) {
        this.logger.info('delivery.claim_lost', context);
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
      await this.failed(delivery, error, context);
    }
  }

  private async failed(delivery: Delivery, error: unknown, context: Record<string, unknown>): Promise<void> {
    const failure = error instanceof DeliveryError ? error : undefined;
    const status = failure?.status;
    const code = status ? `HTTP_${status}` : failure ? 'CONNECTOR_UNREACHABLE' : 'DELIVERY_FAILED';
    if (status !== undefined && refusesTheChannel(delivery.kind, status)) {
      await this.opsChannelRefused(delivery, status, context);
      return;
    }
    const refusedForGood = status === 403 || status === 404;
    const pointless = status === 400 || status === 413;
    if (refusedForGood || pointless || delivery.attempts >= this.policy.maxAttempts) {
      const finalStatus = refusedForGood ? 'undeliverable' : 'failed';
      await this.outbox.giveUp(delivery, finalStatus, code, async (tx) => {
        if (delivery.requestId === null || !REQUESTER_MESSAGES.has(delivery.kind)) return;
        await appendAudit(tx, BOT_ACTOR, 'requester.notification_failed', delivery.requestId, null, { kind: delivery.kind, reason: code });
        // The requester could not be told the outcome: NAS Operations see it on the card.
        if (delivery.kind === 'outcome') await enqueue(tx, { kind: 'ops.update', dedupeKey: dedupeKeys.opsUpdate(delivery.requestId), requestId: delivery.requestId });
      });
      this.logger.warn('delivery.gave_up', { ...context, status: finalStatus, ...(failure ? { reason: code } : describeErrorForLog(error)) });
      return;
    }
    const wait = status === 429 && failure?.retryAfterSeconds !== undefined ? failure.retryAfterSeconds : this.backoff(delivery.attempts);
    await this.outbox.retryLater(delivery, wait, code);
    this.logger.warn('delivery.retrying', { ...context, reason: code, inSeconds: Math.round(wait) });
  }

  /** Exponential with "equal jitter": half fixed, half random, so retries from many rows spread out. */
  private backoff(attempts: number): number {
    const ceiling = Math.min(this.policy.maxBackoffSeconds, this.policy.baseBackoffSeconds * 2 ** Math.max(0, attempts - 1));
    return ceiling / 2 + (this.random() * ceiling) / 2;
  }

  /**
   * Teams refused the ops channel for good (the bot removed from the team, the channel gone).
   * For NAS Operations "undeliverable" must never mean "forgotten": the channel is marked (and
   * logged at error level once, shown in `pending` and /readyz), the card waits for the channel
   * to come back (any activity in it, such as the bot being added again, clears the mark and
   * makes everything owed to it due), and the requester is told NAS Operations have not
   * received the request yet.
   */
  private async opsChannelRefused(delivery: Delivery, status: number, context: Record<string, unknown>): Promise<void> {
    if (await this.references.markUnreachable(ConversationReferences.OPS_CHANNEL, status)) this.logger.error('ops_channel.unreachable', { ...context, status });
    if (delivery.kind === 'ops.post') await this.oweDelayNotice(delivery);
    await this.outbox.retryLater(delivery, UNREACHABLE_PROBE_SECONDS, 'OPS_CHANNEL_UNREACHABLE', false);
  }

  private async oweDelayNotice(delivery: Delivery): Promise<void> {
    if (delivery.requestId === null) return;
    const request = await this.requests.get(delivery.requestId);
    if (!request) return;
    await this.outbox.enqueue({ kind: 'ops.delayed', dedupeKey: dedupeKeys.opsDelayed(request.id), requestId: request.id, recipient: request.requester.id });
  }

  /**
   * Where owed ops messages go. A channel Teams refused recently is not tried again until it
   * is back (or the probe interval has passed): the card waits, and its requester is told.
   */
  private async opsChannel(delivery: Delivery): Promise<{ reference: Partial<ConversationReference> & { conversation: ConversationReference['conversation'] }; probing: boolean }> {
    const reach = await this.references.reach(ConversationReferences.OPS_CHANNEL);
    if (!reach?.reference.conversation) throw new NotYet('NO_CONVERSATION', this.policy.noConversationWaitSeconds);
    if (reach.unreachable && Date.now() - reach.unreachable.since.getTime() < UNREACHABLE_PROBE_SECONDS * 1000) {
      if (delivery.kind === 'ops.post') await this.oweDelayNotice(delivery);
      throw new NotYet('OPS_CHANNEL_UNREACHABLE', UNREACHABLE_PROBE_SECONDS);
    }
    return { reference: { ...reach.reference, conversation: reach.reference.conversation }, probing: reach.unreachable !== null };
  }

  /** Teams took a message in a channel marked unreachable (the hourly probe): it is back, and everything waiting for it is due. */
  private channelBack(probing: boolean): Sent['settle'] {
    if (!probing) return undefined;
    return async (tx) => {
      await ConversationReferences.markReachable(tx, ConversationReferences.OPS_CHANNEL);
      await this.outbox.nudgeOpsChannel(tx);
    };
  }

  /**
   * Sends or updates the ops card; a 413 (too large for Teams) renders it smaller and tries
   * again at once, down to a summary. A card that cannot be made small enough is a bug (a
   * test renders the largest request allowed at every step).
   */
  private async withSmallerOnTooLarge<T>(attempt: (smaller: number) => Promise<T>): Promise<T> {
    for (let smaller = 0; ; smaller++) {
      try {
        return await attempt(smaller);
      } catch (error) {
        if (!(error instanceof DeliveryError && error.status === 413) || smaller >= MAX_SMALLER_RENDERS) throw error;
        this.logger.warn('delivery.too_large', { smaller: smaller + 1 });
      }
    }
  }

  private async postOpsCard(delivery: Delivery): Promise<Sent> {
    const request = await this.requestOf(delivery);
    const { reference, probing } = await this.opsChannel(delivery);
    const viewers = await this.opsViewers();
    const activityId = await this.withSmallerOnTooLarge((smaller) => this.send(delivery, reference, MessageFactory.attachment(this.render.opsRequest(request, viewers, smaller))));
    if (!activityId) throw new DeliveryError(undefined, undefined);
    const conversationId = reference.conversation.id;
    const back = this.channelBack(probing);
    return {
      settle: async (tx) => {
        await RequestRepository.recordOpsMessage(tx, request.id, conversationId, activityId);
        await back?.(tx);
      },
    };
  }

  private async updateOpsCard(delivery: Delivery): Promise<Sent> {
    const request = await this.requestOf(delivery);
    if (!request.opsConversationId || !request.opsActivityId) {
      // The post renders the current state when it goes; until then there is nothing to update.
      const post = await this.outbox.statusOf(dedupeKeys.opsPost(request.id));
      if (post?.status === 'pending') throw new NotYet('WAITING_FOR_POST', 2);
      throw new Never('NOT_POSTED');
    }
    const { reference, probing } = await this.opsChannel(delivery);
    const viewers = await this.opsViewers();
    const thread = { ...reference, conversation: { ...reference.conversation, id: request.opsConversationId } };
    const activityId = request.opsActivityId;
    await this.withSmallerOnTooLarge((smaller) => this.update(delivery, thread, activityId, MessageFactory.attachment(this.render.opsRequest(request, viewers, smaller))));
    return { settle: this.channelBack(probing) };
  }

  /**
   * The requester's answer, as a reply in the request card's thread so NAS Operations notice it
   * (a card update alone changes nothing anyone sees arrive). Teams names a channel thread by
   * the channel's id with `;messageid=` and the id of the thread's first message, the card.
   */
  private async replyInOpsThread(delivery: Delivery): Promise<Sent> {
    const request = await this.requestOf(delivery);
    const question = request.questions.find((candidate) => candidate.id === Number(delivery.payload.questionId));
    if (!question || question.answer === null) throw new Never('QUESTION_NOT_FOUND');
    if (!request.opsConversationId || !request.opsActivityId) {
      const post = await this.outbox.statusOf(dedupeKeys.opsPost(request.id));
      if (post?.status === 'pending') throw new NotYet('WAITING_FOR_POST', 2);
      throw new Never('NOT_POSTED');
    }
    const { reference, probing } = await this.opsChannel(delivery);
    const thread = { ...reference, conversation: { ...reference.conversation, id: `${request.opsConversationId.split(';')[0]};messageid=${request.opsActivityId}` } };
    await this.send(delivery, thread, this.render.answerInThread(request, question));
    return { settle: this.channelBack(probing) };
  }

  private async sendOutcome(delivery: Delivery): Promise<Sent> {
    const request = await this.requestOf(delivery);
    const reference = await this.references.get(ConversationReferences.forUser(request.requester.id));
    if (!reference) throw new NotYet('NO_CONVERSATION', this.policy.noConversationWaitSeconds);
    await this.send(delivery, reference, MessageFactory.attachment(this.render.outcome(request)));
    return {
      settle: async (tx) => {
        await RequestRepository.recordOutcomeNotified(tx, request.id);
        // The ops card says whether the requester has been told.
        await enqueue(tx, { kind: 'ops.update', dedupeKey: dedupeKeys.opsUpdate(request.id), requestId: request.id });
      },
    };
  }

  private async remindOps(delivery: Delivery): Promise<Sent> {
    const request = await this.requestOf(delivery);
    // Decided (or withdrawn) since it was flagged: the reminder is moot.
    if (request.status !== 'submitted' && request.status !== 'in_review') throw new Never('NO_LONGER_OPEN');
    const { reference, probing } = await this.opsChannel(delivery);
    await this.send(delivery, reference, this.render.chase(request, Number(delivery.payload.workingDays ?? 0)));
    return { settle: this.channelBack(probing) };
  }

  private async askRequester(delivery: Delivery, reminder: boolean): Promise<Sent> {
    return this.sendToRequester(delivery, (request) => {
      const question = request.questions.find((candidate) => candidate.id === Number(delivery.payload.questionId));
      if (!question) throw new Never('QUESTION_NOT_FOUND');
      // Answered since the reminder was owed: nothing to remind.
      if (reminder && question.answer !== null) throw new Never('ANSWERED');
      return this.render.question(request, question, reminder);
    });
  }

  private async sendToRequester(delivery: Delivery, render: (request: StoredRequest) => Partial<Activity>): Promise<Sent> {
    const request = await this.requestOf(delivery);
    const reference = await this.references.get(ConversationReferences.forUser(request.requester.id));
    if (!reference) throw new NotYet('NO_CONVERSATION', this.policy.noConversationWaitSeconds);
    await this.send(delivery, reference, render(request));
    return {};
  }

  private async sendScreeningResults(delivery: Delivery): Promise<Sent> {
    const jobId = String(delivery.payload.jobId ?? '');
    const job = await this.jobs.get(jobId);
    if (!job || job.run !== Number(delivery.payload.run ?? 1)) throw new Never('SUPERSEDED');
    if (job.status !== 'done' && job.status !== 'failed') throw new NotYet('JOB_NOT_FINISHED', 5);
    const reference = await this.references.get(ConversationReferences.forUser(job.ownerId));
    if (!reference) throw new NotYet('NO_CONVERSATION', this.policy.noConversationWaitSeconds);
    await this.send(delivery, reference, this.render.screeningResults(job));
    return {};
  }

  private async requestOf(delivery: Delivery): Promise<StoredRequest> {
    const request = delivery.requestId === null ? null : await this.requests.get(delivery.requestId);
    if (!request) throw new Never('REQUEST_NOT_FOUND');
    return request;
  }

  private async send(delivery: Delivery, reference: Partial<ConversationReference>, activity: Partial<Activity>): Promise<string | undefined> {
    return this.call(delivery, () => this.messenger.send(reference, activity));
  }

  private async update(delivery: Delivery, reference: Partial<ConversationReference>, activityId: string, activity: Partial<Activity>): Promise<void> {
    await this.call(delivery, () => this.messenger.update(reference, activityId, activity));
  }

  /**
   * Every call to Teams: only while this worker still holds the row (its lease renewed), and
   * abandoned after sendTimeoutSeconds so a hung connection neither stalls the worker nor
   * outlives the lease. An abandoned call may still land; at-least-once is the most a
   * connector without idempotency keys allows, and the lease makes a second send rare.
   */
  private async call<T>(delivery: Delivery, send: () => Promise<T>): Promise<T> {
    if (!(await this.outbox.stillHeld(delivery, this.policy.leaseSeconds))) throw new ClaimLost();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new DeliveryError(undefined, undefined)), this.policy.sendTimeoutSeconds * 1000);
    });
    try {
      return await Promise.race([send(), timeout]);
    } catch (error) {
      throw toDeliveryError(error);
    } finally {
      clearTimeout(timer);
    }
  }
}

/**
 * A refusal that says the ops channel itself is out of reach: 403 to anything sent there (the
 * bot was removed or blocked), and 404 to a new post or reminder (the conversation is gone).
 * A 404 to a card update means that one message is gone, which is the card's own matter.
 */
function refusesTheChannel(kind: DeliveryKind, status: number): boolean {
  if (kind === 'ops.delayed' || !kind.startsWith('ops.')) return false;
  // A 404 to a thread reply, like one to a card update, means the card is gone, not the channel.
  return status === 403 || (status === 404 && kind !== 'ops.update' && kind !== 'ops.answer');
}
