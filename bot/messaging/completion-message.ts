import { MessageFactory, type Activity } from 'botbuilder';
import { escapeMarkdown } from '../../core/text';
import { formatTime, type StoredRequest } from '../../services/model';

/** Addresses named in one message at most; the rest are counted. */
const NAMED = 50;

function listed<T>(items: readonly T[], line: (item: T) => string): string[] {
  const lines = items.slice(0, NAMED).map(line);
  if (items.length > NAMED) lines.push(`- …and ${items.length - NAMED} more`);
  return lines;
}

/**
 * To the requester, once their request is complete: which accounts NAS now administers, and
 * which of them NAS Operations recorded as transferred although the directory did not show the
 * move (by whom, when and why). Rendered from the request as it is, so an override that
 * completed the request is told here, in the one message, rather than in a message of its own
 * followed by this one.
 */
export function completionMessage(request: StoredRequest): Partial<Activity> {
  const moved = request.accounts.filter((account) => account.transferredAt !== null);
  const overridden = moved.filter((account) => account.transferOverride);
  const vouched =
    overridden.length === 0
      ? []
      : [
          '',
          `NAS Operations recorded ${overridden.length === 1 ? 'this one' : `these ${overridden.length}`} as transferred, although the directory did not show the move yet:`,
          ...listed(overridden, (account) => {
            const override = account.transferOverride!;
            return `- ${escapeMarkdown(account.email)}: by ${escapeMarkdown(override.by.name)} at ${formatTime(override.at)}, because: ${escapeMarkdown(override.reason)}`;
          }),
        ];
  return MessageFactory.text(
    [
      `The transfer **${request.reference}** is complete: NAS now administers ${moved.length === 1 ? 'this account' : `these ${moved.length} accounts`}.`,
      '',
      ...listed(moved, (account) => `- ${escapeMarkdown(account.email)}`),
      ...vouched,
    ].join('\n'),
  );
}
