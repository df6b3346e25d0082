import type { PacingLimits, Reservation, SendDestination, SendPacer } from '../outbox/send-pacing';

/**
 * Exchange Online's sending limits for one mailbox, which bind mail sent through Graph as much
 * as mail sent from Outlook: message rate limit 30 messages a minute, recipient rate limit
 * 10,000 recipients a day (each affected user's message has one recipient, so 10,000 messages).
 * Microsoft Learn, "Exchange Online limits", Sending limits:
 * https://learn.microsoft.com/office365/servicedescriptions/exchange-online-service-description/exchange-online-limits#sending-limits-1
 * Kept in the shared send budget (services/store/send-budget.ts): the minute as the
 * "conversation" window and the day as the "tenant" window, both scoped to the sender's mailbox.
 */
export const EXCHANGE_ONLINE_SENDING_LIMITS: PacingLimits = {
  conversation: [{ seconds: 60, sends: 30 }],
  tenant: [{ seconds: 24 * 60 * 60, sends: 10_000 }],
  marginMs: 250,
};

const MAILBOX = 'mailbox:';

/** Where a message from this person's mailbox counts: their mailbox, in both windows. */
export function mailboxDestination(senderId: string): SendDestination {
  return { conversation: `${MAILBOX}${senderId}`, tenant: `${MAILBOX}${senderId}` };
}

/** Mail from a mailbox is paced by Exchange's limits, everything else by the pacer it had (Teams'). */
export function withMailPacing(teams: SendPacer, mail: SendPacer): SendPacer {
  const pacerOf = (destination: SendDestination) => (destination.conversation.startsWith(MAILBOX) ? mail : teams);
  return {
    reserve: (destination: SendDestination): Promise<Reservation> => pacerOf(destination).reserve(destination),
    // A mailbox found down (Graph answering 5xx) is probed as a Teams chat is, in its own budget.
    serviceDown: async (destination) => pacerOf(destination).serviceDown?.(destination),
    serviceBack: async (destination) => pacerOf(destination).serviceBack?.(destination),
  };
}
