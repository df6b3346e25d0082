import type { Logger } from '../../core/log';
import type { StoredRequest } from '../model';
import { Never, type DeliveryHandler } from '../outbox/delivery-engine';
import type { DeliveryOf } from '../store/outbox';
import { AffectedUserMailStore } from '../store/affected-user-messages';
import { groupOf } from './drafts';
import type { MailSender } from './graph-mail';
import type { AffectedUserMessages } from './message-templates';
import { mailboxDestination } from './mail-pacing';
import type { MailTokens } from './mail-tokens';

/**
 * Delivers one affected user's message from the requester's own mailbox. The outbox gives it
 * its lease, pacing (Exchange Online's limits, per mailbox), retries and give-up: 429 waits its
 * Retry-After and is never counted a failure; 5xx and no answer are retried with back-off; 401
 * (the sign-in expired or was withdrawn) and 403 (the mailbox may not send, or the permission
 * was refused) end it at once. At-least-once applies: Graph's sendMail takes no idempotency
 * key, so a call abandoned after its time-out may have been sent, and is retried; the lease
 * makes a second copy rare, and a message once recorded as sent is never sent again.
 * The text was drafted when Send was pressed, and the request may have changed since (a decision
 * corrected, the request withdrawn): a message whose group is no longer the account's is not
 * sent but failed as superseded, so the tally says so and Send owes the current one.
 * Nothing of the message (address, subject or text) is logged.
 */
export function mailDeliveryHandler(
  messages: AffectedUserMailStore,
  tokens: MailTokens,
  sender: MailSender,
  logger: Logger,
  current: { requests: { get(id: number): Promise<StoredRequest | null> }; templates: AffectedUserMessages },
): DeliveryHandler<DeliveryOf<'duties.mail'>> {
  return {
    async deliver(delivery, call) {
      const message = await messages.message(delivery.payload.messageId);
      if (!message || message.status !== 'pending' || message.subject === null || message.body === null) throw new Never('NOT_OWED');
      const request = await current.requests.get(message.requestId);
      const account = request?.accounts.find((each) => each.id === message.accountId);
      const stale =
        !request || request.status === 'withdrawn'
          ? 'WITHDRAWN'
          : !account || groupOf(account, message.stage, current.templates) !== message.group
            ? 'SUPERSEDED'
            : undefined;
      if (stale) {
        await messages.fail(message.id, stale, message.group);
        logger.info('duties.mail_superseded', { requestId: message.requestId, messageId: message.id, code: stale });
        throw new Never(stale);
      }
      const token = await tokens.tokenFor(message.senderId);
      if (!token) {
        await messages.fail(message.id, 'SIGN_IN_NEEDED');
        logger.info('duties.mail_not_signed_in', { requestId: message.requestId, messageId: message.id });
        throw new Never('SIGN_IN_NEEDED');
      }
      const { subject, body } = message;
      await call(() => sender.send(token, { to: message.recipient, subject, body }), mailboxDestination(message.senderId));
      return AffectedUserMailStore.sent(message.id, message.group);
    },
    async reclassify(_delivery, failure) {
      if (failure.status === 401) return { action: 'give-up', as: 'undeliverable', code: 'SIGN_IN_NEEDED' };
      if (failure.status === 403) return { action: 'give-up', as: 'undeliverable', code: 'MAIL_SEND_NOT_ALLOWED' };
      if (failure.status === 404) return { action: 'give-up', as: 'undeliverable', code: 'RECIPIENT_REFUSED' };
      return undefined;
    },
    async gaveUp(tx, delivery, code) {
      await AffectedUserMailStore.failed(delivery.payload.messageId, code)(tx);
    },
  };
}
