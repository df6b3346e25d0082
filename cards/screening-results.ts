import type { Attachment } from 'botbuilder';
import type { ScreeningResult } from '../services/eligibility/types';
import { accountRow, byAttention, countVerdicts, type AccountRowData } from './account-rows';
import { expandCard, fitToMessageLimit } from './render';
import template from './screening-results.json';

export const RESULTS_PAGE_SIZE = 25;

export interface ScreeningResultsCardData {
  organisationName: string;
  policyVersion: string;
  total: number;
  eligibleCount: number;
  reviewCount: number;
  ineligibleCount: number;
  firstShown: number;
  lastShown: number;
  pageHint: string;
  accounts: AccountRowData[];
  submitCount: number;
  submitNotice: string;
}

export function pageCount(total: number): number {
  return Math.max(1, Math.ceil(total / RESULTS_PAGE_SIZE));
}

/** One page of the requester's results; `page` is 1-based and clamped to the pages there are. */
export function renderScreeningResultsCard(organisationName: string, result: ScreeningResult, page = 1): Attachment {
  const counts = countVerdicts(result.accounts);
  const submitCount = counts.eligible + counts.review;
  const ordered = byAttention(result.accounts);
  const pages = pageCount(ordered.length);
  const currentPage = Math.min(Math.max(1, page), pages);
  const pageStart = (currentPage - 1) * RESULTS_PAGE_SIZE;
  const pageAccounts = ordered.slice(pageStart, pageStart + RESULTS_PAGE_SIZE);
  const submitNotice =
    submitCount === 0
      ? 'No account can be submitted. Edit the list, or cancel.'
      : counts.ineligible > 0
        ? `Submitting sends the ${submitCount} eligible or reviewable accounts; the ${counts.ineligible} not eligible stay with you, with the next steps shown.`
        : `All ${submitCount} accounts can be submitted.`;
  return fitToMessageLimit(pageAccounts.length, (shown) =>
    expandCard<ScreeningResultsCardData>(template, {
      organisationName,
      policyVersion: result.policyVersion,
      total: ordered.length,
      eligibleCount: counts.eligible,
      reviewCount: counts.review,
      ineligibleCount: counts.ineligible,
      firstShown: pageStart + 1,
      lastShown: pageStart + shown,
      pageHint: shown < pageAccounts.length || currentPage < pages ? ` Type **page ${currentPage + 1}** for more.` : '',
      accounts: pageAccounts.slice(0, shown).map((account) => accountRow(account, true)),
      submitCount,
      submitNotice,
    }),
  );
}
