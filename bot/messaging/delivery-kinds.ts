import { MessageFactory, type Activity, type Attachment, type ConversationReference } from 'botbuilder';
import type { Logger } from '../../core/log';
import type { AuditEvent } from '../../services/requests/transfer-requests';
import type { RequestQuestion, StoredRequest } from '../../services/model';
import { isOpen } from '../../services/requests/lifecycle';
import { DeliveryFailure, Never, NotYet, type DeliveryHandler, type DeliveryHandlers, type Settle, type Verdict } from '../../services/outbox/delivery-engine';
import { DeliveryRecords, WAITING_FOR_EARLIER_CHANGE, WAITING_FOR_OUTCOME, type Delivery, type DeliveryOf } from '../../services/outbox/delivery-records';
import type { DeliveryKind, PayloadOf } from '../../services/outbox/owed-messages';
import type { SendTally } from '../../services/duties/send-tally';
import type { SendDestination } from '../../services/outbox/send-pacing';
import type { ScreeningJob } from '../../services/screening-requests';
import { REFRESH_USER_LIMIT } from '../../services/model';
import { ConversationReferences } from '../state/conversation-references';
import { DeliveryError, type Messenger } from './messenger';

/** How the bot renders each owed message; from the store at delivery time, never from the row. */
export interface OwedMessageRenderers {
  /**
   * The ops card. `smaller` counts how often Teams answered 413 (too large) to this render:
   * each step must make the card smaller, down to a summary that always fits.
   */
  opsRequest(request: StoredRequest, refreshUserIds: readonly string[], smaller: number, largeChannel?: boolean): Attachment;
  /** To the requester: NAS Operations have not received the request yet. */
  opsDelayed(request: StoredRequest): Partial<Activity>;
  /** To the requester: NAS Operations got only a short summary of the request (Teams refused its card as too large at every size). */
  cardTooLarge(request: StoredRequest, refused?: boolean): Partial<Activity>;
  /** To the ops channel, as plain text: Teams refused this request's card as too large even at its minimal size. */
  opsCardRefused(request: StoredRequest): Partial<Activity>;
  outcome(request: StoredRequest): Attachment;
  completion(request: StoredRequest): Partial<Activity>;
  chase(request: StoredRequest, workingDays: number): Partial<Activity>;
  question(request: StoredRequest, question: RequestQuestion, reminder: boolean): Partial<Activity>;
  screeningResults(job: ScreeningJob): Partial<Activity>;
  /** To the ops channel, in the request card's thread: the requester answered a question. */
  answerInThread(request: StoredRequest, question: RequestQuestion): Partial<Activity>;
  /** To the requester, at once: accounts marked as leavers since submission (they will be deleted unless unmarked). */
  leaverAlert(request: StoredRequest, accountIds: readonly number[]): Partial<Activity>;
  /** To the ops channel: approved accounts not yet moved in the directory. */
  transferChase(request: StoredRequest, workingDays: number, unmoved: number): Partial<Activity>;
  /** To the ops channel: a reference register's new file could not be used. */
  sourceProblem(problem: PayloadOf<'ops.source_problem'>): Partial<Activity>;
  /** To the requester: how sending their messages to the affected users went. */
  dutiesTally(request: StoredRequest, tally: SendTally): Partial<Activity>;
  /** To the requester, after the outcome: what changed (the change's audit event; of it, only `accountIds` when given), by whom and why. */
  outcomeChanged(request: StoredRequest, change: AuditEvent, accountIds?: readonly number[]): Partial<Activity>;
}

/** Kinds that go somewhere other than Teams, delivered by their own handlers (services/duties: mail from the requester's mailbox). */
export type NotTeamsKind = 'duties.mail';
type TeamsKind = Exclude<DeliveryKind, NotTeamsKind>;
export type TeamsDeliveryHandlers = Omit<DeliveryHandlers, NotTeamsKind>;

/** How many times an ops card is rendered smaller after Teams answers 413 before it is a bug, not a size. */
export const MAX_SMALLER_RENDERS = 3;
/**
 * The render after the smallest: a minimal card (reference, counts, where to open it in the
 * NAS workspace). Posting it owes the requester word, and NAS Operations read it on the card:
 * "undeliverable" never means "forgotten".
 */
export const MINIMAL_OPS_CARD = MAX_SMALLER_RENDERS + 1;
/**
 * A channel marked unreachable is not tried again for this long (the bot being added back
 * clears the mark at once); after it, the next owed card is sent anyway, as a probe.
 */
const UNREACHABLE_PROBE_SECONDS = 3600;
/** How long an update or thread reply waits for its card's post before looking again. */
const WAITING_FOR_POST_SECONDS = 2;
/** A change waiting for the one before it looks again after this, if that one's delivery has not woken it first. */
const WAITING_FOR_CHANGE_SECONDS = 30;
/** How long screening results wait for their run to finish before looking again. */
const WAITING_FOR_JOB_SECONDS = 5;
/** What each kind of message is about, read from the store when it goes. */
interface AboutRequest {
  request: StoredRequest;
}
interface AboutOpsCard extends AboutRequest {
  /** NAS Operations members to name in the card's refresh.userIds. */
  viewers: readonly string[];
  /** The ops channel has more members than refresh.userIds can name: the base card is read-only, with a button for one's own view. */
  largeChannel: boolean;
}

/** How long the ops channel's size is trusted before Teams is asked again. */
const CHANNEL_SIZE_SECONDS = 3600;
interface AboutQuestion extends AboutRequest {
  question: RequestQuestion;
}
interface AboutOverdueRequest extends AboutRequest {
  workingDays: number;
}
interface AboutJob {
  job: ScreeningJob;
}
interface AboutNewOpsCard extends AboutOpsCard {
  /** The version of the card's update owed when the card was read: the post shows that state, so the update is redundant. */
  updateOwed?: number;
}
interface Subjects {
  'ops.post': AboutNewOpsCard;
  'ops.update': AboutOpsCard;
  'ops.chase': AboutOverdueRequest;
  'ops.answer': AboutQuestion;
  outcome: AboutRequest;
  completion: AboutRequest;
  question: AboutQuestion;
  'question.chase': AboutQuestion;
  'ops.delayed': AboutRequest;
  'card.too_large': AboutRequest & { refused: boolean };
  'ops.card_refused': AboutRequest;
  'screening.results': AboutJob;
  'leaver.alert': AboutRequest & { accountIds: number[] };
  'ops.transfer_chase': AboutOverdueRequest & { unmoved: number };
  'ops.source_problem': PayloadOf<'ops.source_problem'>;
  'duties.tally': AboutRequest & { tally: SendTally };
  'outcome.changed': AboutRequest & { change: AuditEvent; accountIds?: readonly number[] };
  'outcome.update': AboutRequest;
}

/** Where a message lands, resolved when it goes. */
interface Place {
  reference: Partial<ConversationReference>;
  /** Update this message in place instead of sending a new one. */
  replaces?: string;
  /** Written with the delivery: the ops channel took a message while marked unreachable, so it is back. */
  settle?: Settle;
}

/** Who a message is for: how to reach them, what their refusals mean, and what is recorded about them. */
interface Recipient<S> {
  /** Throws NotYet while there is nowhere to send it (no chat known, the channel out). */
  reach(delivery: Delivery, subject: S): Promise<Place>;
  /** A refusal that says more about this recipient than about the message (undefined: the engine's table decides). */
  reclassify?(delivery: Delivery, failure: DeliveryFailure): Promise<Verdict | undefined>;
  /** Written in the transaction that marks a message to them delivered. */
  delivered?(delivery: Delivery): Settle | undefined;
  /** Written in the transaction that gives a message to them up after a real failure. */
  gaveUp?(delivery: Delivery, code: string): Settle | undefined;
}

/** One kind of owed message, as the bot delivers it to Teams. */
interface OwedKind<K extends TeamsKind> {
  /** What it is about, from the store; throws Never when it is no longer owed, NotYet when not yet. */
  about(delivery: DeliveryOf<K>): Promise<Subjects[K]>;
  to: Recipient<Subjects[K]>;
  /** The message. `smaller` counts Teams' 413s, for a kind that `shrinks`. */
  render(subject: Subjects[K], smaller: number): Partial<Activity>;
  /** Rendered again, smaller, when Teams answers 413 (too large), down to a summary that always fits. */
  shrinks?: true;
  /** What to write in the transaction that marks it delivered (may throw when Teams' answer is not enough to settle). */
  settle?(subject: Subjects[K], sent: { activityId: string | undefined; conversationId: string | undefined }): Settle;
  /** What to write, beyond the recipient's own record, in the transaction that gives it up after a real failure. */
  gaveUp?(delivery: DeliveryOf<K>, code: string): Settle | undefined;
}

type OwedKinds = { [K in TeamsKind]: OwedKind<K> };

/**
 * Every message the bot owes, as it goes to Teams: to whom (the ops channel, the posted ops
 * card or its thread, the requester's chat, the screening job's owner), how it is rendered,
 * what is settled with it, and what giving it up means. Teams answers are read as documented
 * for the Bot Connector (the engine's table), except that a refusal of the ops channel
 * itself holds what is owed to it until the channel is back.
 */
export class TeamsDeliveries {
  readonly handlers: TeamsDeliveryHandlers;

  constructor(
    private readonly records: DeliveryRecords,
    private readonly references: ConversationReferences,
    private readonly messenger: Messenger,
    private readonly render: OwedMessageRenderers,
    /** NAS Operations members to name in the ops card's refresh.userIds. */
    private readonly opsViewers: () => Promise<string[]>,
    private readonly logger: Logger,
    /** How long a message with no chat to go to waits before it is looked at again. */
    private readonly noConversationWaitSeconds: number,
    /** How sending the affected users' messages went, per stage. */
    private readonly sendTallies: (requestId: number) => Promise<SendTally[]> = async () => [],
  ) {
    this.handlers = this.handlersOf(this.kinds());
  }

  private kinds(): OwedKinds {
    const opsCard = ({ request, viewers, largeChannel }: AboutOpsCard, smaller: number) =>
      MessageFactory.attachment(this.render.opsRequest(request, viewers, smaller, largeChannel));
    return {
      'ops.post': {
        about: async (delivery) => {
          // Read before the request: the card then shows at least the state this version of the update reports.
          const updateOwed = delivery.requestId === null ? undefined : await this.records.cardUpdateOwed(delivery.requestId);
          return { ...(await this.opsCardOf(delivery)), updateOwed };
        },
        to: this.opsChannel({ tellRequesterWhileOut: true }),
        render: opsCard,
        shrinks: true,
        // Even the minimal card was refused as too large: NAS Operations (in plain text) and the requester are told.
        gaveUp: (delivery, code) => (code === 'HTTP_413' && delivery.requestId !== null ? DeliveryRecords.cardRefused(delivery.requestId) : undefined),
        settle: ({ request, updateOwed }, { activityId, conversationId }) => {
          // Without the id Teams gave the card it could never be updated: not delivered.
          if (!activityId || !conversationId) throw new DeliveryError(undefined, undefined);
          // Changes made while the channel was out are on the card as posted: no request to Teams repeats them.
          return DeliveryRecords.cardPosted(request.id, conversationId, activityId, updateOwed);
        },
      },
      'ops.update': { about: (delivery) => this.opsCardOf(delivery), to: this.postedOpsCard, render: opsCard, shrinks: true },
      'ops.chase': {
        about: async (delivery) => {
          const request = await this.requestOf(delivery);
          // Decided (or withdrawn) since it was flagged: the reminder is moot.
          if (!isOpen(request.status)) throw new Never('NO_LONGER_OPEN');
          return { request, workingDays: delivery.payload.workingDays };
        },
        to: this.opsChannel({ tellRequesterWhileOut: false }),
        render: ({ request, workingDays }) => this.render.chase(request, workingDays),
      },
      'ops.answer': {
        about: async (delivery) => {
          const request = await this.requestOf(delivery);
          const question = request.questions.find((candidate) => candidate.id === delivery.payload.questionId);
          if (!question || question.answer === null) throw new Never('QUESTION_NOT_FOUND');
          return { request, question };
        },
        to: this.opsCardThread,
        render: ({ request, question }) => this.render.answerInThread(request, question),
      },
      outcome: {
        about: (delivery) => this.aboutRequest(delivery),
        to: this.requesterChat,
        render: ({ request }) => MessageFactory.attachment(this.render.outcome(request)),
        // The ops card says whether the requester has been told.
        settle: ({ request }, sent) => DeliveryRecords.outcomeDelivered(request.id, sent),
        // The requester could not be told the outcome: NAS Operations see it on the card.
        gaveUp: (delivery) => (delivery.requestId === null ? undefined : DeliveryRecords.outcomeUndelivered(delivery.requestId)),
      },
      'outcome.changed': {
        about: async (delivery) => {
          // News of a change to the outcome follows the outcome: never before it, whatever order the rows fall due in.
          const request = await this.afterOutcome(delivery);
          // ... and follows the news before it: approved then rejected again must not end on "now approved" (a 5xx on the
          // first, or two instances each taking one, would otherwise send them out of order).
          if (await this.records.earlierChangeOwed(request.id, delivery.id)) throw new NotYet(WAITING_FOR_EARLIER_CHANGE, WAITING_FOR_CHANGE_SECONDS);
          const change = await this.records.auditEvent(delivery.payload.auditId);
          if (!change || change.requestId !== request.id) throw new Never('CHANGE_NOT_FOUND');
          return { request, change, accountIds: delivery.payload.accountIds };
        },
        to: this.requesterChat,
        render: ({ request, change, accountIds }) => this.render.outcomeChanged(request, change, accountIds),
        settle: ({ request }) => DeliveryRecords.changeDelivered(request.id),
      },
      'outcome.update': {
        about: async (delivery) => {
          // Still on its way, the outcome will show the request as it is then: the update waits for it, then replaces it.
          const request = await this.afterOutcome(delivery);
          if (!request.outcomeCard) throw new Never('OUTCOME_NOT_SENT');
          return { request };
        },
        to: this.requesterOutcomeCard,
        render: ({ request }) => MessageFactory.attachment(this.render.outcome(request)),
      },
      // "Complete" follows the outcome it completes.
      completion: {
        about: async (delivery) => ({ request: await this.afterOutcome(delivery) }),
        to: this.requesterChat,
        render: ({ request }) => this.render.completion(request),
      },
      question: {
        about: (delivery) => this.questionOf(delivery, false),
        to: this.requesterChat,
        render: ({ request, question }) => this.render.question(request, question, false),
      },
      'question.chase': {
        about: (delivery) => this.questionOf(delivery, true),
        to: this.requesterChat,
        render: ({ request, question }) => this.render.question(request, question, true),
      },
      'ops.delayed': { about: (delivery) => this.aboutRequest(delivery), to: this.requesterChat, render: ({ request }) => this.render.opsDelayed(request) },
      'card.too_large': {
        about: async (delivery) => ({ ...(await this.aboutRequest(delivery)), refused: delivery.payload.refused === true }),
        to: this.requesterChat,
        render: ({ request, refused }) => this.render.cardTooLarge(request, refused),
      },
      'ops.card_refused': {
        about: (delivery) => this.aboutRequest(delivery),
        to: this.opsChannel({ tellRequesterWhileOut: false }),
        render: ({ request }) => this.render.opsCardRefused(request),
      },
      'leaver.alert': {
        about: async (delivery) => ({ request: await this.requestOf(delivery), accountIds: delivery.payload.accountIds }),
        to: this.requesterChat,
        render: ({ request, accountIds }) => this.render.leaverAlert(request, accountIds),
        // The ops card says whether the requester has been told of the leaver: delivered or refused, it changes.
        settle: ({ request }) => DeliveryRecords.leaverAlertSettled(request.id),
        gaveUp: (delivery) => (delivery.requestId === null ? undefined : DeliveryRecords.leaverAlertSettled(delivery.requestId)),
      },
      'ops.transfer_chase': {
        about: async (delivery) => {
          const request = await this.requestOf(delivery);
          // Completed since it was flagged: every approved account moved or was overridden.
          if (request.status !== 'decided') throw new Never('NO_LONGER_WAITING');
          return { request, workingDays: delivery.payload.workingDays, unmoved: delivery.payload.unmoved };
        },
        to: this.opsChannel({ tellRequesterWhileOut: false }),
        render: ({ request, workingDays, unmoved }) => this.render.transferChase(request, workingDays, unmoved),
      },
      'ops.source_problem': {
        about: async (delivery) => delivery.payload,
        to: this.opsChannel({ tellRequesterWhileOut: false }),
        render: (problem) => this.render.sourceProblem(problem),
      },
      'duties.tally': {
        about: async (delivery) => {
          const request = await this.requestOf(delivery);
          const tally = (await this.sendTallies(request.id)).find((each) => each.stage === delivery.payload.stage);
          if (!tally) throw new Never('NOTHING_SENT');
          return { request, tally };
        },
        to: this.requesterChat,
        render: ({ request, tally }) => this.render.dutiesTally(request, tally),
      },
      'screening.results': {
        about: async (delivery) => {
          const job = await this.records.screeningJob(delivery.payload.jobId);
          if (!job || job.run !== delivery.payload.run) throw new Never('SUPERSEDED');
          if (job.status !== 'done' && job.status !== 'failed') throw new NotYet('JOB_NOT_FINISHED', WAITING_FOR_JOB_SECONDS);
          return { job };
        },
        to: this.jobOwnerChat,
        render: ({ job }) => this.render.screeningResults(job),
      },
    };
  }

  // What the messages are about.

  private async requestOf(delivery: Delivery): Promise<StoredRequest> {
    const request = delivery.requestId === null ? null : await this.records.request(delivery.requestId);
    if (!request) throw new Never('REQUEST_NOT_FOUND');
    return request;
  }

  private async aboutRequest(delivery: Delivery): Promise<AboutRequest> {
    return { request: await this.requestOf(delivery) };
  }

  /**
   * The request of a message that must reach the requester after their outcome (a change to it,
   * its card's update, the completion): while the outcome is still owed (not yet accepted by
   * Teams) it waits until the outcome is next tried, as an ops card's update waits for the
   * card's post. An outcome given up on holds nothing back.
   */
  private async afterOutcome(delivery: Delivery): Promise<StoredRequest> {
    const request = await this.requestOf(delivery);
    if (request.outcomeCard) return request;
    // Looked at again when the outcome is next tried (a back-off, a chat not yet known), not every few seconds until then.
    const outcomeDueIn = await this.records.outcomeOwed(request.id);
    if (outcomeDueIn !== undefined) throw new NotYet(WAITING_FOR_OUTCOME, Math.max(WAITING_FOR_POST_SECONDS, outcomeDueIn));
    return request;
  }

  private async opsCardOf(delivery: Delivery): Promise<AboutOpsCard> {
    return { request: await this.requestOf(delivery), viewers: await this.opsViewers(), largeChannel: await this.largeOpsChannel() };
  }

  private channelSize: { large: boolean; at: number } | undefined;

  /**
   * Whether the ops channel has more members than refresh.userIds may name (60): then anyone
   * beyond the list sees the base card, so it must be read-only. When Teams cannot say, the
   * card stays as it was (the server checks every click either way).
   */
  private async largeOpsChannel(): Promise<boolean> {
    if (this.channelSize && Date.now() - this.channelSize.at < CHANNEL_SIZE_SECONDS * 1000) return this.channelSize.large;
    const reach = await this.references.reach(ConversationReferences.OPS_CHANNEL);
    if (!reach?.reference.conversation || !this.messenger.memberCount) return false;
    const count = await this.messenger.memberCount(reach.reference, REFRESH_USER_LIMIT + 1).catch(() => undefined);
    if (count === undefined) return this.channelSize?.large ?? false;
    this.channelSize = { large: count > REFRESH_USER_LIMIT, at: Date.now() };
    return this.channelSize.large;
  }

  private async questionOf(delivery: DeliveryOf<'question' | 'question.chase'>, reminder: boolean): Promise<AboutQuestion> {
    const request = await this.requestOf(delivery);
    const question = request.questions.find((candidate) => candidate.id === delivery.payload.questionId);
    if (!question) throw new Never('QUESTION_NOT_FOUND');
    // Answered since the reminder was owed: nothing to remind.
    if (reminder && question.answer !== null) throw new Never('ANSWERED');
    return { request, question };
  }

  // Who they go to.

  /** The requester's personal chat: every message to them, delivered or given up on, is in the request's audit. */
  private readonly requesterChat: Recipient<AboutRequest> = {
    reach: async (_delivery, { request }) => ({ reference: await this.personalChat(request.requester.id) }),
    delivered: (delivery) => (delivery.requestId === null ? undefined : DeliveryRecords.requesterNotified(delivery.requestId, delivery.kind)),
    gaveUp: (delivery, code) =>
      delivery.requestId === null ? undefined : DeliveryRecords.requesterNotificationFailed(delivery.requestId, delivery.kind, code),
  };

  /** The outcome card in the requester's chat, updated in place (Teams lets a bot update its own message). */
  private readonly requesterOutcomeCard: Recipient<AboutRequest> = {
    reach: async (_delivery, { request }) => {
      const card = request.outcomeCard!;
      const chat = await this.personalChat(request.requester.id);
      return { reference: { ...chat, conversation: { ...chat.conversation!, id: card.conversationId } }, replaces: card.activityId };
    },
  };

  /** The personal chat of whoever started the screening. */
  private readonly jobOwnerChat: Recipient<AboutJob> = {
    reach: async (_delivery, { job }) => ({ reference: await this.personalChat(job.ownerId) }),
  };

  private async personalChat(userId: string): Promise<Partial<ConversationReference>> {
    const reference = await this.references.get(ConversationReferences.forUser(userId));
    if (!reference) throw new NotYet('NO_CONVERSATION', this.noConversationWaitSeconds);
    return reference;
  }

  /**
   * A new message in the NAS Operations channel. 403 (the bot removed or blocked) and 404
   * (the conversation gone) refuse the channel itself. `tellRequesterWhileOut`: the card
   * cannot reach NAS Operations, so its requester is told it has not arrived yet.
   */
  private opsChannel<S>(options: { tellRequesterWhileOut: boolean }): Recipient<S> {
    return {
      reach: async (delivery) => this.opsChannelPlace(delivery, options.tellRequesterWhileOut, (reference) => reference),
      reclassify: async (delivery, failure) =>
        failure.status === 403 || failure.status === 404 ? this.opsChannelRefused(delivery, failure.status, options.tellRequesterWhileOut) : undefined,
    };
  }

  /**
   * The posted ops card, updated in place. A 404 means that one message is gone, which is the
   * card's own matter (undeliverable); a 403 refuses the whole channel.
   */
  private readonly postedOpsCard: Recipient<AboutRequest> = {
    reach: async (delivery, { request }) => {
      const card = await this.postedCard(request);
      const place = await this.opsChannelPlace(delivery, false, (reference) => ({
        ...reference,
        conversation: { ...reference.conversation, id: card.conversationId },
      }));
      return { ...place, replaces: card.activityId };
    },
    reclassify: async (delivery, failure) => (failure.status === 403 ? this.opsChannelRefused(delivery, failure.status, false) : undefined),
  };

  /**
   * A reply in the ops card's thread, so NAS Operations notice it (a card update alone changes
   * nothing anyone sees arrive). Teams names a channel thread by the channel's id with
   * `;messageid=` and the id of the thread's first message, the card. Like an update, a 404
   * means the card is gone, not the channel.
   */
  private readonly opsCardThread: Recipient<AboutRequest> = {
    reach: async (delivery, { request }) => {
      const card = await this.postedCard(request);
      return this.opsChannelPlace(delivery, false, (reference) => ({
        ...reference,
        conversation: { ...reference.conversation, id: `${card.conversationId.split(';')[0]};messageid=${card.activityId}` },
      }));
    },
    reclassify: async (delivery, failure) => (failure.status === 403 ? this.opsChannelRefused(delivery, failure.status, false) : undefined),
  };

  /** The card as posted; until the post goes (and renders the current state) there is nothing to update or reply to. */
  private async postedCard(request: StoredRequest): Promise<{ conversationId: string; activityId: string }> {
    if (request.opsConversationId && request.opsActivityId) return { conversationId: request.opsConversationId, activityId: request.opsActivityId };
    if (await this.records.cardPostOwed(request.id)) throw new NotYet('WAITING_FOR_POST', WAITING_FOR_POST_SECONDS);
    throw new Never('NOT_POSTED');
  }

  /**
   * Where owed ops messages go. A channel Teams refused recently is not tried again until it
   * is back (or the probe interval has passed): the message waits, and a card's requester is told.
   * A message taken while the channel was marked (the probe) shows it is back: everything
   * waiting for it falls due.
   */
  private async opsChannelPlace(
    delivery: Delivery,
    tellRequesterWhileOut: boolean,
    within: (channel: Partial<ConversationReference> & { conversation: ConversationReference['conversation'] }) => Partial<ConversationReference>,
  ): Promise<Place> {
    const reach = await this.references.reach(ConversationReferences.OPS_CHANNEL);
    if (!reach?.reference.conversation) throw new NotYet('NO_CONVERSATION', this.noConversationWaitSeconds);
    if (reach.unreachable && Date.now() - reach.unreachable.since.getTime() < UNREACHABLE_PROBE_SECONDS * 1000) {
      if (tellRequesterWhileOut) await this.oweDelayNotice(delivery);
      throw new NotYet('OPS_CHANNEL_UNREACHABLE', UNREACHABLE_PROBE_SECONDS);
    }
    const reference = within({ ...reach.reference, conversation: reach.reference.conversation });
    if (!reach.unreachable) return { reference };
    return { reference, settle: this.records.channelBack(ConversationReferences.OPS_CHANNEL) };
  }

  /**
   * Teams refused the ops channel for good (the bot removed from the team, the channel gone).
   * For NAS Operations "undeliverable" must never mean "forgotten": the channel is marked (and
   * logged at error level once, shown in `pending` and /readyz), the message waits for the
   * channel to come back (any activity in it, such as the bot being added again, clears the
   * mark and makes everything owed to it due), and a card's requester is told NAS Operations
   * have not received the request yet.
   */
  private async opsChannelRefused(delivery: Delivery, status: number, tellRequester: boolean): Promise<Verdict> {
    if (await this.references.markUnreachable(ConversationReferences.OPS_CHANNEL, status)) {
      this.logger.error('ops_channel.unreachable', {
        deliveryId: delivery.id,
        kind: delivery.kind,
        requestId: delivery.requestId ?? undefined,
        attempt: delivery.attempts,
        status,
      });
    }
    if (tellRequester) await this.oweDelayNotice(delivery);
    return { action: 'wait', code: 'OPS_CHANNEL_UNREACHABLE', seconds: UNREACHABLE_PROBE_SECONDS };
  }

  private async oweDelayNotice(delivery: Delivery): Promise<void> {
    if (delivery.requestId !== null) await this.records.oweDelayNotice(delivery.requestId);
  }

  // How a kind is delivered, from its entry.

  private handlersOf(kinds: OwedKinds): TeamsDeliveryHandlers {
    const handlers = Object.fromEntries((Object.keys(kinds) as TeamsKind[]).map((kind) => [kind, this.handlerFor(kinds[kind] as OwedKind<typeof kind>)]));
    return handlers as TeamsDeliveryHandlers;
  }

  private handlerFor<K extends TeamsKind>(kind: OwedKind<K>): DeliveryHandler<DeliveryOf<K>> {
    const { to } = kind;
    return {
      deliver: async (delivery, call) => {
        const subject = await kind.about(delivery);
        const place = await to.reach(delivery, subject);
        const transmit = (smaller: number) => {
          const activity = kind.render(subject, smaller);
          return call(async () => {
            if (place.replaces === undefined) return this.messenger.send(place.reference, activity);
            await this.messenger.update(place.reference, place.replaces, activity);
            return place.replaces;
          }, destinationOf(place.reference));
        };
        const { sent: activityId, smaller } = kind.shrinks ? await this.smallerOnTooLarge(transmit) : { sent: await transmit(0), smaller: 0 };
        // Only the minimal card got through: the requester is told NAS Operations have a summary (once per request).
        const minimal = smaller >= MINIMAL_OPS_CARD ? this.oweTooLargeNotice(subject) : undefined;
        return inOrder(
          kind.settle?.(subject, { activityId, conversationId: place.reference.conversation?.id }),
          place.settle,
          to.delivered?.(delivery),
          minimal,
        );
      },
      reclassify: to.reclassify && ((delivery, failure) => to.reclassify!(delivery, failure)),
      gaveUp:
        to.gaveUp || kind.gaveUp
          ? async (tx, delivery, code) => {
              await inOrder(to.gaveUp?.(delivery, code), kind.gaveUp?.(delivery, code))?.(tx);
            }
          : undefined,
    };
  }

  /**
   * Sends a card; a 413 (too large for Teams) renders it smaller and tries again at once, down
   * to a summary. A card that cannot be made small enough is a bug (a test renders the largest
   * request allowed at every step).
   */
  private async smallerOnTooLarge<T>(attempt: (smaller: number) => Promise<T>): Promise<{ sent: T; smaller: number }> {
    for (let smaller = 0; ; smaller++) {
      try {
        return { sent: await attempt(smaller), smaller };
      } catch (error) {
        if (!(error instanceof DeliveryError && error.status === 413) || smaller >= MINIMAL_OPS_CARD) throw error;
        this.logger.warn('delivery.too_large', { smaller: smaller + 1 });
      }
    }
  }

  private oweTooLargeNotice(subject: unknown): Settle | undefined {
    const request = (subject as Partial<AboutRequest> | undefined)?.request;
    return request ? DeliveryRecords.cardTooLarge(request.id, request.requester.id) : undefined;
  }
}

/** Where Teams counts a request to this conversation: the conversation (a channel for its threads) in its tenant. */
export function destinationOf(reference: Partial<ConversationReference>): SendDestination {
  return { conversation: reference.conversation?.id ?? '', tenant: reference.conversation?.tenantId ?? '' };
}

/** Writes each in turn, in one transaction; undefined when there is nothing to write. */
function inOrder(...steps: Array<Settle | undefined>): Settle | undefined {
  const present = steps.filter((step): step is Settle => step !== undefined);
  if (present.length === 0) return undefined;
  return async (tx) => {
    for (const step of present) await step(tx);
  };
}
