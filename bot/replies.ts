import { escapeMarkdown } from '../core/text';
import { changeWords, transferStateWords } from './transfer-words';
import { plural } from '../cards/plural';
import { NOTHING_TO_TRANSFER_LABEL, statusLabel } from '../services/requests/lifecycle';
import { ageInDays, formatTime, isScreenedOut, STATUS_LABEL, type RequestSummary, type StoredRequest } from '../services/model';

export const REQUESTER_HELP = [
  'I run the NHSmail transfer of accounts from your organisation to the National Administration Service (NAS).',
  '',
  '- **new transfer**: start a request. I ask for a reason and the accounts (one per line: email, site ODS code, specialism), check every account against the transfer policy and show you the results; then you confirm four things about the accounts you are submitting, and submit.',
  '- **status**: your recent requests. **status NTR-100001**: one request and its decisions.',
  '- **withdraw NTR-100001**: take a request back, until NAS Operations have decided anything on it.',
  '- **answer NTR-100001** and your answer: reply to a question NAS Operations asked about a request.',
  '- **cancel**: stop the request you are filling in. Nothing is submitted until you press Submit.',
  '- **help**: this message.',
].join('\n');

/** Help for someone the bot cannot yet place (a quiet turn does not wait for the directory): where NAS Operations find theirs. */
export const HELP_BEFORE_DIRECTORY = `${REQUESTER_HELP}\n\nIn NAS Operations? Type **ops help** for your commands.`;

/** The commands NAS Operations have, in the channel and in their personal chat with the bot. */
export const OPS_COMMANDS =
  '**pending** (requests awaiting a decision or a transfer), **status NTR-…** (one request), **audit NTR-…** (its history), **export NTR-…** (a CSV, sent to your chat with me), **sources** (how fresh each data source is), **help**';

export const OPS_HELP =
  `In this channel I understand: ${OPS_COMMANDS}. Decide on each request with the buttons on its card. ` +
  'Teams passes me a channel message only when it @mentions me, so start each command with **@NAS Transfer**.';

export const OPS_PERSONAL_HELP =
  `You are in NAS Operations. Here, as in the ops channel, I understand: ${OPS_COMMANDS}. ` +
  'Decide on each request with the buttons on its card in the ops channel (there, @mention me to give a command).';

const MAX_ACCOUNT_LINES = 50;

/*
 * These replies are markdown. Addresses, organisation and people's names and the ops decision
 * reason come from requesters, the directory, ODS and ops, so each is escaped where it is
 * inserted: an address may hold * _ ~ ` | and a reason "[click](https://…)" would be a link.
 */

function age(at: Date): string {
  const days = ageInDays(at);
  return days === 0 ? 'today' : days === 1 ? '1 day old' : `${days} days old`;
}

export function describeRequestList(title: string, requests: readonly RequestSummary[]): string {
  const lines = requests.map(
    (request) =>
      `- **${request.reference}** · ${escapeMarkdown(request.organisationName)} · ${formatTime(request.createdAt)} (${age(request.createdAt)}) · ${request.status === 'decided' && request.approvedCount === 0 ? NOTHING_TO_TRANSFER_LABEL : STATUS_LABEL[request.status]}` +
      (request.claimedByName ? ` by ${escapeMarkdown(request.claimedByName)}` : '') +
      ` · ${plural(request.accountCount, 'account')} (${request.approvedCount} approved, ${request.rejectedCount} rejected)` +
      (request.status === 'decided' && request.approvedCount > 0 ? ' · approved accounts not yet marked transferred' : ''),
  );
  return [title, '', ...lines].join('\n');
}

/** One request in words. Requesters see names; NAS Operations also see the policy version it was screened under. */
export function describeRequest(request: StoredRequest, forOps = false): string {
  const accountLines = request.accounts.slice(0, MAX_ACCOUNT_LINES).map((account) => {
    const email = escapeMarkdown(account.email);
    if (isScreenedOut(account)) return `- ${email}: not eligible (screened out at submission)`;
    const changed = forOps ? changeWords(account) : '';
    if (account.decision === null) return `- ${email}: awaiting decision${changed}`;
    const by = `by ${escapeMarkdown(account.decidedBy?.name ?? 'NAS Operations')} at ${formatTime(account.decidedAt)}`;
    return `- ${email}: ${account.decision} ${by}${account.decisionReason ? ` (${escapeMarkdown(account.decisionReason)})` : ''}${transferStateWords(account)}${changed}`;
  });
  const more = request.accounts.length > MAX_ACCOUNT_LINES ? [`- …and ${plural(request.accounts.length - MAX_ACCOUNT_LINES, 'more account')}.`] : [];
  // Teams joins lines a single line break separates: each line of the heading is its own paragraph, so the status never runs into "Submitted by".
  const heading = [
    `**${request.reference}** · ${escapeMarkdown(request.organisationName)} (${request.organisationOds}) · ${statusLabel(request)}`,
    `Submitted by ${escapeMarkdown(request.requester.name)} at ${formatTime(request.createdAt)}${forOps ? ` under policy ${request.policyVersion}` : ''}.`,
    ...(request.claimedBy && request.status === 'in_review'
      ? [`Being reviewed by ${escapeMarkdown(request.claimedBy.name)} since ${formatTime(request.claimedAt)}.`]
      : []),
    ...(request.status === 'withdrawn' ? [`Withdrawn by the requester at ${formatTime(request.withdrawnAt)}.`] : []),
    ...(request.status === 'completed' ? [`Completed at ${formatTime(request.completedAt)}: NAS administers the approved accounts.`] : []),
  ];
  return [heading.join('\n\n'), '', ...accountLines, ...more].join('\n');
}
