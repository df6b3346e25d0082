import type { AffectedUsersTold, StoredRequest } from '../model';
import type { SendTally } from '../store/affected-user-messages';
import { formatTime } from '../model';

/** Our codes for why a message to an affected user was not sent, as the requester is told them. */
export const MAIL_FAILURE_WORDS: Record<string, string> = {
  SIGN_IN_NEEDED: 'you are not signed in to send mail (or your sign-in expired)',
  MAIL_SEND_NOT_ALLOWED: 'your mailbox does not allow the bot to send mail for you',
  RECIPIENT_REFUSED: 'the address was refused',
  HTTP_400: 'the message was refused',
  DELIVERY_FAILED: 'sending kept failing',
  SUPERSEDED: 'not sent: the decision changed before it went',
  WITHDRAWN: 'not sent: the request was withdrawn',
};

export function mailFailureWords(code: string): string {
  return MAIL_FAILURE_WORDS[code] ?? (code.startsWith('HTTP_5') || code === 'CONNECTOR_UNREACHABLE' ? 'Microsoft 365 kept failing' : 'sending failed');
}

const FAILED_SHOWN = 20;
/** Failures the requester can put right by signing in again, or by downloading the messages instead. */
const NEEDS_THE_REQUESTER: ReadonlySet<string> = new Set(['SIGN_IN_NEEDED', 'MAIL_SEND_NOT_ALLOWED']);
/** Not sent because the request changed after Send was pressed (mail-delivery), not because sending failed. */
const NOT_SENT_ON_PURPOSE: ReadonlySet<string> = new Set(['SUPERSEDED', 'WITHDRAWN']);

/** "Told 14 of 16 affected users by email; 2 failed: …", with what to do about the failures. Addresses are escaped by the caller's renderer. */
export function tallyWords(request: Pick<StoredRequest, 'reference'>, tally: SendTally, escape: (text: string) => string): string {
  const lines = [`**${request.reference}**: told ${tally.sent} of ${tally.total} affected users by email from your mailbox.`];
  if (tally.failed.length > 0) {
    const shown = tally.failed.slice(0, FAILED_SHOWN).map((failure) => `- ${escape(failure.recipient)}: ${mailFailureWords(failure.code)}`);
    if (tally.failed.length > FAILED_SHOWN) shown.push(`- …and ${tally.failed.length - FAILED_SHOWN} more`);
    lines.push('', `${tally.failed.length} failed:`, ...shown, '');
    lines.push(whatNext(request.reference, tally.failed));
  }
  if (tally.lastSentAt)
    lines.push('', `Each message is in your Sent Items. NAS Operations see this tally on the request (last sent ${formatTime(tally.lastSentAt)}).`);
  return lines.join('\n');
}

/** What the requester can do about the messages not sent: a superseded one is sent again with the current text, a withdrawn request's never. */
function whatNext(reference: string, failed: SendTally['failed']): string {
  if (failed.some((failure) => NEEDS_THE_REQUESTER.has(failure.code)))
    return `Type **tell ${reference}** to sign in and send the failed ones again, or choose **Download** there to send them yourself.`;
  if (failed.every((failure) => failure.code === 'WITHDRAWN')) return 'The request was withdrawn: nobody needs to be told about a transfer.';
  if (failed.every((failure) => NOT_SENT_ON_PURPOSE.has(failure.code)))
    return `Type **tell ${reference}** and press **Send** again to send the current message (those already sent are not sent twice).`;
  return `Type **tell ${reference}** to send the failed ones again (those already sent are not sent twice), or download them to send yourself.`;
}

/** For the ops card, beside the consideration's tick: "affected users told by email on 6 Dec: 14 of 16". */
export function opsTallyWords(tallies: readonly AffectedUsersTold[]): string | undefined {
  const parts = tallies
    .filter((tally) => tally.total > 0)
    .map((tally) => {
      const when = tally.lastSentAt ? ` on ${tally.lastSentAt.toLocaleDateString('en-GB', { day: 'numeric', month: 'short', timeZone: 'Europe/London' })}` : '';
      const stage = tally.stage === 'submitted' ? 'at submission' : 'after the outcome';
      return `affected users told by email${when} (${stage}): ${tally.sent} of ${tally.total}${tally.pending > 0 ? `, ${tally.pending} still sending` : ''}`;
    });
  return parts.length > 0 ? parts.join('; ') : undefined;
}
