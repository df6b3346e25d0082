import { MessageFactory, type Activity } from 'botbuilder';
import { REJECTED_NEXT_STEP } from '../../cards/outcome';
import { escapeMarkdown } from '../../core/text';
import { formatTime, type StoredRequest } from '../../services/model';
import type { AuditEvent } from '../../services/requests/transfer-requests';

const text = (value: unknown): string | null => (typeof value === 'string' && value.trim() ? value.trim() : null);
const field = (value: unknown, key: string): unknown => (value && typeof value === 'object' ? (value as Record<string, unknown>)[key] : undefined);

/**
 * To the requester, after they were told the outcome: what changed on their request (one audit
 * event; of a re-check's findings, only `accountIds`, the ones that are news for them), by whom
 * and why, and what it means for them. The outcome card above is updated in place to the
 * request as it is now; this message is what they see arrive.
 */
export function outcomeChangedMessage(request: StoredRequest, change: AuditEvent, accountIds?: readonly number[]): Partial<Activity> {
  const account = request.accounts.find((candidate) => candidate.id === change.accountId);
  const email = account ? escapeMarkdown(account.email) : 'an account';
  const by = escapeMarkdown(change.actorName);
  const when = formatTime(change.occurredAt);
  const footer = `Your outcome card for **${request.reference}** above now shows the request as it is. Type **status ${request.reference}** for a summary.`;
  switch (change.action) {
    case 'account.corrected': {
      const before = text(field(field(change.detail, 'before'), 'decision'));
      const after = text(field(field(change.detail, 'after'), 'decision'));
      const reason = text(field(field(change.detail, 'after'), 'reason'));
      const meaning =
        after === 'approved'
          ? 'NAS Operations will transfer it to NAS; you will be told when NAS administers it.'
          : `It will not be transferred. ${REJECTED_NEXT_STEP}`;
      // The tally is per stage, not per person: whether this account was among those emailed is for the requester to know.
      const emailed = (request.affectedUsersTold ?? []).some((tally) => tally.stage === 'outcome' && tally.sent > 0);
      const tellAgain = emailed
        ? [
            '',
            `You emailed the affected users the outcome from your mailbox: if that included ${email}, they were told the earlier decision. Type **tell ${request.reference}** and press **Send** to email them the new one (nobody is sent the same message twice).`,
          ]
        : [];
      return MessageFactory.text(
        [
          `**A decision on your request ${request.reference} has changed.** ${email} is now **${after ?? 'changed'}**${before ? ` (it was ${before})` : ''}.`,
          `Changed by ${by} (NAS Operations) at ${when}${reason ? `, because: ${escapeMarkdown(reason)}` : ''}.`,
          '',
          meaning,
          ...tellAgain,
          '',
          footer,
        ].join('\n'),
      );
    }
    case 'account.transfer_overridden': {
      const reason = text(field(change.detail, 'reason'));
      return MessageFactory.text(
        [
          `**${request.reference}: ${email} is recorded as transferred to NAS**, although the directory does not show the move yet.`,
          `Recorded by ${by} (NAS Operations) at ${when}${reason ? `, because: ${escapeMarkdown(reason)}` : ''}.`,
          '',
          footer,
        ].join('\n'),
      );
    }
    case 'request.rechecked': {
      const found = Array.isArray(field(change.detail, 'changed')) ? (field(change.detail, 'changed') as unknown[]) : [];
      // A leaver, or an account no longer approved, is not this message's news: only the accounts the check owed it for.
      const changed = accountIds ? found.filter((entry) => accountIds.includes(field(entry, 'accountId') as number)) : found;
      const lines = changed.flatMap((entry) => {
        const changedAccount = request.accounts.find((candidate) => candidate.id === field(entry, 'accountId'));
        const words = text(field(entry, 'changes'));
        return changedAccount && words ? [`- ${escapeMarkdown(changedAccount.email)}: ${escapeMarkdown(words)}`] : [];
      });
      return MessageFactory.text(
        [
          `**Since the decision on ${request.reference}, the bot checked its accounts again (${when}) and found changes:**`,
          '',
          ...lines,
          '',
          'NAS Operations see this on the request and decide whether each transfer still goes ahead.',
          '',
          footer,
        ].join('\n'),
      );
    }
    default:
      return MessageFactory.text(`Something changed on your request **${request.reference}** at ${when}. ${footer}`);
  }
}
