import { escapeMarkdown } from '../cards/account-rows';
import { ageInDays, formatTime, isScreenedOut, STATUS_LABEL, type RequestSummary, type StoredRequest } from '../services/model';

export const REQUESTER_HELP = [
  'I run the NHSmail transfer of accounts from your organisation to the National Administration Service (NAS).',
  '',
  '- **new transfer**: start a request. I ask for a reason, the accounts (one per line: email, site ODS code, specialism), and four confirmations, then check every account against the transfer policy before you submit.',
  '- **status**: your recent requests. **status NTR-100001**: one request and its decisions.',
  '- **withdraw NTR-100001**: take a request back, until NAS Operations have decided anything on it.',
  '- **answer NTR-100001** and your answer: reply to a question NAS Operations asked about a request.',
  '- **cancel**: stop the request you are filling in. Nothing is submitted until you press Submit.',
  '- **help**: this message.',
].join('\n');

export const OPS_HELP =
  'In this channel I understand: **pending** (requests awaiting a decision), **status NTR-…** (one request), **audit NTR-…** (its history), ' +
  '**export NTR-…** (a CSV, sent to your chat with me), **help**. Decide on each request with the buttons on its card.';

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
      `- **${request.reference}** · ${escapeMarkdown(request.organisationName)} · ${formatTime(request.createdAt)} (${age(request.createdAt)}) · ${STATUS_LABEL[request.status]}` +
      (request.claimedByName ? ` by ${escapeMarkdown(request.claimedByName)}` : '') +
      ` · ${request.accountCount} accounts (${request.approvedCount} approved, ${request.rejectedCount} rejected)`,
  );
  return [title, '', ...lines].join('\n');
}

export function describeRequest(request: StoredRequest): string {
  const accountLines = request.accounts.slice(0, MAX_ACCOUNT_LINES).map((account) => {
    const email = escapeMarkdown(account.email);
    if (isScreenedOut(account)) return `- ${email}: not eligible (screened out at submission)`;
    if (account.decision === null) return `- ${email}: awaiting decision`;
    const by = `by ${escapeMarkdown(account.decidedBy?.name ?? 'NAS Operations')} at ${formatTime(account.decidedAt)}`;
    const moved = account.transferredAt ? `; transferred to NAS at ${formatTime(account.transferredAt)}` : '';
    return `- ${email}: ${account.decision} ${by}${account.decisionReason ? ` (${escapeMarkdown(account.decisionReason)})` : ''}${moved}`;
  });
  const more = request.accounts.length > MAX_ACCOUNT_LINES ? [`- …and ${request.accounts.length - MAX_ACCOUNT_LINES} more accounts.`] : [];
  return [
    `**${request.reference}** · ${escapeMarkdown(request.organisationName)} (${request.organisationOds}) · ${STATUS_LABEL[request.status]}`,
    `Submitted by ${escapeMarkdown(request.requester.name)} at ${formatTime(request.createdAt)} under policy ${request.policyVersion}.`,
    ...(request.claimedBy && request.status === 'in_review' ? [`Being reviewed by ${escapeMarkdown(request.claimedBy.name)} since ${formatTime(request.claimedAt)}.`] : []),
    ...(request.status === 'withdrawn' ? [`Withdrawn by the requester at ${formatTime(request.withdrawnAt)}.`] : []),
    ...(request.status === 'completed' ? [`Completed at ${formatTime(request.completedAt)}: NAS administers the approved accounts.`] : []),
    '',
    ...accountLines,
    ...more,
  ].join('\n');
}
