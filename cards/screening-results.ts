import type { ScreeningResult } from '../services/eligibility/types';
import { escapeMarkdown } from '../core/text';
import { accountRow, byAttention, countVerdicts, type AccountRowData } from './account-rows';
import { plural, pluralWord } from './plural';
import { expandCard, fitToMessageLimit, type CardAttachment } from './render';
import template from './screening-results.json';

export const RESULTS_PAGE_SIZE = 25;

export interface ScreeningResultsCardData {
  /** Markdown-escaped: it is ODS reference data, shown in a TextBlock. */
  organisationName: string;
  /** "4 accounts". The policy version is for NAS Operations and exports, not shown here. */
  checkedPhrase: string;
  total: number;
  eligibleCount: number;
  reviewCount: number;
  ineligibleCount: number;
  firstShown: number;
  lastShown: number;
  pageHint: string;
  accounts: AccountRowData[];
  submitCount: number;
  /** The button that goes on to the confirmations, then Submit. */
  continueTitle: string;
  submitNotice: string;
}

export interface ResultsPage {
  card: CardAttachment;
  /** Where the next page starts (0-based, attention order); undefined on the last page. */
  nextStart?: number;
}

/**
 * The requester's results from `start` on, as many as fit one message (at most a page).
 * Pages follow what was actually shown, so an account is never skipped.
 */
export function renderScreeningResultsCard(organisationName: string, result: ScreeningResult, start = 0): ResultsPage {
  const counts = countVerdicts(result.accounts);
  const submitCount = counts.eligible + counts.review;
  const ordered = byAttention(result.accounts);
  const from = start >= 0 && start < ordered.length ? start : 0;
  const pageAccounts = ordered.slice(from, from + RESULTS_PAGE_SIZE);
  const submitNotice =
    submitCount === 0
      ? 'No account can be submitted. Edit the list, or cancel.'
      : counts.ineligible > 0
        ? `Submitting sends the ${plural(submitCount, 'account')} that ${pluralWord(submitCount, 'is', 'are')} eligible or for review; ${counts.ineligible === 1 ? 'the one that is not eligible stays' : `the ${counts.ineligible} that are not eligible stay`} with you, with the next steps shown. You confirm the four considerations for the submitted accounts next.`
        : submitCount === 1
          ? 'The account can be submitted. You confirm the four considerations for it next.'
          : `${submitCount === 2 ? 'Both accounts' : `All ${plural(submitCount, 'account')}`} can be submitted. You confirm the four considerations for them next.`;
  // Consideration 3, said where it matters: from submission until NAS confirm the move, a leaver mark deletes the account.
  const leaverWarning =
    submitCount === 0
      ? ''
      : ' From submission until NAS confirm each account has moved, do not mark any of them as a leaver: a leaver’s account is deleted, with its mailbox.';
  const { card, shown } = fitToMessageLimit(pageAccounts.length, (count) =>
    expandCard<ScreeningResultsCardData>(template, {
      organisationName: escapeMarkdown(organisationName),
      checkedPhrase: plural(ordered.length, 'account'),
      total: ordered.length,
      eligibleCount: counts.eligible,
      reviewCount: counts.review,
      ineligibleCount: counts.ineligible,
      firstShown: from + 1,
      lastShown: from + count,
      pageHint: from + count < ordered.length ? ' Type **more** for the next ones.' : '',
      accounts: pageAccounts.slice(0, count).map((account) => accountRow(account, 'requester')),
      submitCount,
      continueTitle: `Continue with ${plural(submitCount, 'account')}`,
      submitNotice: submitNotice + leaverWarning,
    }),
  );
  return { card, nextStart: from + shown < ordered.length ? from + shown : undefined };
}
