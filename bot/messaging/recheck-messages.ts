import { MessageFactory, type Activity } from 'botbuilder';
import { escapeMarkdown } from '../../core/text';
import type { StoredAccount, StoredRequest } from '../../services/model';

/** Addresses named in one message at most; the rest are counted. */
const NAMED = 20;

function addressList(accounts: readonly StoredAccount[]): string[] {
  const lines = accounts.slice(0, NAMED).map((account) => `- ${escapeMarkdown(account.email)}`);
  if (accounts.length > NAMED) lines.push(`- …and ${accounts.length - NAMED} more`);
  return lines;
}

/**
 * To the requester, at once: accounts of their request were marked as leavers after they
 * submitted it. A leaver is deleted 30 days later (the clinical-risk case the process warns
 * about), so the message says what to do now.
 */
export function leaverAlertMessage(request: StoredRequest, accountIds: readonly number[]): Partial<Activity> {
  const accounts = request.accounts.filter((account) => accountIds.includes(account.id));
  const one = accounts.length === 1;
  return MessageFactory.text(
    [
      `**Urgent: ${one ? 'an account' : `${accounts.length} accounts`} in ${request.reference} ${one ? 'has' : 'have'} been marked as ${one ? 'a leaver' : 'leavers'} since you submitted it.**`,
      '',
      ...addressList(accounts),
      '',
      `A leaver's account is deleted 30 days after it is marked. Unmark ${one ? 'it' : 'them'} in the NHSmail Portal now if the ${one ? 'person is' : 'people are'} staying, or ${one ? 'it' : 'they'} will be deleted. NAS Operations can see this on the request.`,
    ].join('\n'),
  );
}

/** To the ops channel: approved accounts the directory has not shown moved, flagged like an overdue request. */
export function transferChaseMessage(request: StoredRequest, workingDays: number, unmoved: number): Partial<Activity> {
  return MessageFactory.text(
    `Reminder: **${request.reference}** from ${escapeMarkdown(request.organisationName)} has ${unmoved} approved ${unmoved === 1 ? 'account' : 'accounts'} ` +
      `not yet moved in the directory, ${workingDays} working days after the decision. Move ${unmoved === 1 ? 'it' : 'them'} in the NHSmail Portal, or override on the card with a reason. ` +
      `Type **status ${request.reference}** to see ${unmoved === 1 ? 'it' : 'them'}.`,
  );
}
