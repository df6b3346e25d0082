import { ERROR_CATALOGUE, type AppError } from '../core/errors';
import { formatTime, statusPhrase } from '../services/model';
import { ReasonRequiredError, RefusedError, type ReasonNeeded, type Refusal, type RefusalReason } from '../services/requests/lifecycle';

function lastDecided({ request }: Refusal): string {
  const latest = request.accounts.filter((account) => account.decidedAt).sort((a, b) => b.decidedAt!.getTime() - a.decidedAt!.getTime())[0];
  return latest ? `Last decided by ${latest.decidedBy?.name ?? 'someone'} at ${formatTime(latest.decidedAt)}.` : 'There is nothing left to decide.';
}

/**
 * What the person who pressed is told for each of the lifecycle's refusals: the one table of
 * refusal words (the lifecycle says only which rule refused). Undefined: the catalogue's words
 * for the refusal's code say it all. A catalogue code other than INVALID_INPUT prefaces these
 * words with its own (core/errors.ts), as for every AppError.
 */
export const REFUSAL_WORDS: Record<RefusalReason, ((refusal: Refusal) => string) | undefined> = {
  withdrawn: () => 'The requester withdrew this request: there is nothing to decide.',
  not_open: ({ request }) => `This request is ${statusPhrase(request.status)}: there is nothing to review.`,
  already_reviewing: () => 'You are already reviewing this request.',
  claimed_by_other: ({ request }) =>
    `${request.claimedBy?.name ?? 'Another member of NAS Operations'} has been reviewing it since ${formatTime(request.claimedAt)}.`,
  nobody_reviewing: () => 'Nobody is reviewing this request now: use Assign to me.',
  no_eligible_accounts: () => 'This request has no eligible accounts: decide the accounts for review one by one.',
  nothing_left_to_decide: lastDecided,
  all_changed_since_submission: () => 'Every eligible account left has changed since submission: decide them one by one.',
  no_one_to_ask: ({ request }) => `This request is ${statusPhrase(request.status)}: questions can no longer be put to the requester about it.`,
  not_all_decided: ({ request }) => `Accounts can be marked as transferred once every account is decided; this request is ${statusPhrase(request.status)}.`,
  already_marked_transferred: () => 'Those accounts are already marked as transferred.',
  account_not_in_request: undefined,
  account_already_decided: ({ account }) =>
    `It was ${account?.decision ?? 'decided'} by ${account?.decidedBy?.name ?? 'someone'} at ${formatTime(account?.decidedAt ?? null)}.`,
  screened_out: () => 'That account was screened out at submission as not eligible: it is not for decision.',
  withdrawn_no_corrections: () => 'The requester withdrew this request.',
  completed: () => 'This request is completed: its decisions can no longer change.',
  not_decided_yet: () => 'That account has not been decided yet: use Approve or Reject.',
  account_transferred: ({ account }) => `That account was transferred at ${formatTime(account?.transferredAt ?? null)}; its decision can no longer change.`,
  same_decision: ({ to }) => `That account is already ${to ?? 'so decided'}.`,
  transfer_not_decided: ({ request }) => `Only a decided request's transfers can be overridden; this request is ${statusPhrase(request.status)}.`,
  not_approved: () => 'Only an approved account can be marked as transferred.',
  not_approved_to_override: () => 'Only an approved account is transferred.',
  not_marked_transferred: () => 'Mark the account as transferred first: the bot then checks the directory.',
  transfer_confirmed: ({ account }) => `The directory shows it moved at ${formatTime(account?.transferConfirmedAt ?? null)}.`,
  transfer_overridden: ({ account }) =>
    `${account?.transferOverride?.by.name ?? 'Someone'} overrode it at ${formatTime(account?.transferOverride?.at ?? null)}.`,
  not_your_request: undefined,
  already_withdrawn: () => 'This request is already withdrawn.',
  decisions_made: () => 'NAS Operations have already decided on accounts in this request, so it can no longer be withdrawn.',
  no_open_question: () => 'NAS Operations have no open question on that request.',
};

/** A refusal in words for the person who pressed. */
export function refusalWords(refusal: Refusal, code: AppError['code']): string {
  const detail = REFUSAL_WORDS[refusal.reason]?.(refusal);
  if (!detail) return ERROR_CATALOGUE[code];
  return code === 'INVALID_INPUT' ? detail : `${ERROR_CATALOGUE[code]} ${detail}`;
}

/**
 * What the person who pressed is told when an action needs a reason they did not give: where to
 * type it and who will read it. Each sentence says it all, without the catalogue's general words.
 */
export const REASON_NEEDED_WORDS: Record<ReasonNeeded, string> = {
  reject: 'Give a reason to reject: the requester will see it.',
  correct: 'Give a reason for changing the decision, in the box above the buttons: it is kept in the audit.',
  override: 'Give a reason for overriding the directory, in the box above the buttons: it is kept in the audit.',
  approve_ineligible: 'This account is not eligible now (see what changed since submission): give a reason to approve it anyway, in the box above the buttons.',
};

/** What the person is told for an error: a lifecycle refusal or a missing reason worded from its table, any other AppError in its own words. */
export function userWords(error: AppError): string {
  if (error instanceof RefusedError) return refusalWords(error.refusal, error.code);
  if (error instanceof ReasonRequiredError) return REASON_NEEDED_WORDS[error.needed];
  return error.userMessage;
}
