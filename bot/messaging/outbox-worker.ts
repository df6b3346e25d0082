import type { Logger } from '../../core/log';
import { DEFAULT_DELIVERY_POLICY, Never, type DeliveryEngine, type DeliveryPolicy } from '../../services/outbox/delivery-engine';
import type { AffectedUserMail } from '../../services/duties/compose-duties';

export type { AffectedUserMail } from '../../services/duties/compose-duties';
import { UNPACED, type SendPacer } from '../../services/outbox/send-pacing';
import type { DeliveryRecords } from '../../services/outbox/delivery-records';
import type { ConversationReferences } from '../state/conversation-references';
import { TeamsDeliveries, type OwedMessageRenderers } from './delivery-kinds';
import { toDeliveryError, type Messenger } from './messenger';

export { DEFAULT_DELIVERY_POLICY, type DeliveryPolicy } from '../../services/outbox/delivery-engine';
export { MAX_SMALLER_RENDERS, type OwedMessageRenderers } from './delivery-kinds';

/** No mail is sent: a message owed by mistake is given up, never left to block the outbox. */
const NO_AFFECTED_USER_MAIL: AffectedUserMail = {
  mail: {
    deliver: async () => {
      throw new Never('MAIL_NOT_CONFIGURED');
    },
  },
  tallies: async () => [],
};

/**
 * Delivers the outbox to Teams: the generic delivery engine (claim, lease, paced and time-boxed
 * calls, back-off, give-up, re-arm) driven by the table of Teams deliveries, with Bot Connector
 * errors read as status and Retry-After. `pacer` is the send budget shared by every instance
 * (services/store/send-budget.ts), which keeps the calls inside Teams' documented limits.
 */
export class OutboxWorker {
  private readonly engine: DeliveryEngine;

  constructor(
    records: DeliveryRecords,
    references: ConversationReferences,
    messenger: Messenger,
    render: OwedMessageRenderers,
    /** NAS Operations members to name in the ops card's refresh.userIds. */
    opsViewers: () => Promise<string[]>,
    logger: Logger,
    policy: DeliveryPolicy = DEFAULT_DELIVERY_POLICY,
    pacer: SendPacer = UNPACED,
    random: () => number = Math.random,
    /** The affected users' mail (services/duties): its own handler, and the tallies told to the requester. */
    duties: AffectedUserMail = NO_AFFECTED_USER_MAIL,
  ) {
    const deliveries = new TeamsDeliveries(records, references, messenger, render, opsViewers, logger, policy.noConversationWaitSeconds, duties.tallies);
    this.engine = records.engine({ ...deliveries.handlers, 'duties.mail': duties.mail }, toDeliveryError, logger, policy, random, pacer);
  }

  /** One round: claims due rows and delivers them one by one. True when it found any (more may be due). */
  deliverDue(): Promise<boolean> {
    return this.engine.deliverDue();
  }

  /** Finish the delivery in hand, hand back the rest of the batch. */
  stop(): void {
    this.engine.stop();
  }
}
