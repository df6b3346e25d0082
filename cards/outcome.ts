import { fixableAccounts, isScreenedOut, type StoredRequest } from '../services/model';
import { escapeMarkdown } from '../core/text';
import { expandCard, fitToMessageLimit, type CardAttachment } from './render';
import template from './outcome.json';
import { leaverReminder } from './duties-drafts';

export const REJECTED_NEXT_STEP = 'Keep administering this account locally, or transfer it to another NHSmail organisation.';

/** Every string here goes into a TextBlock, which renders markdown: each is escaped. */
interface ExplainedRow {
  email: string;
  why: string;
  nextStep: string;
}

export interface OutcomeCardData {
  /** Decided, decided with nothing to transfer (no account approved), or complete: said first, in words. */
  headline: string;
  reference: string;
  organisationName: string;
  approvedCount: number;
  rejectedCount: number;
  screenedOutCount: number;
  total: number;
  shownCount: number;
  approved: Array<{ email: string }>;
  rejected: ExplainedRow[];
  screenedOut: ExplainedRow[];
  requestId: number;
  /** Accounts turned down only for reasons the requester can fix: offered as a new request. */
  fixableCount: number;
  resubmitTitle: string;
  /** Until every approved account is confirmed moved: marking any as a leaver deletes it. */
  leaverReminder: string;
}

/**
 * The requester's notification once every account in a request is decided. Its headings
 * ("Accepted", "Rejected", "Not submitted") are in the Default colour, told apart by their
 * words and weight: Teams' Good is 2.07:1 on its light theme's white and Attention 3.24:1 on
 * its dark theme (microsoft/AdaptiveCards samples/HostConfig/microsoft-teams-light.json and
 * -dark.json), below WCAG's 4.5:1; test/unit/outcome-contrast.test.ts computes every theme.
 */
export function renderOutcomeCard(request: StoredRequest): CardAttachment {
  const approved = request.accounts.filter((account) => account.decision === 'approved');
  const rejected = request.accounts.filter((account) => account.decision === 'rejected');
  const screenedOut = request.accounts.filter(isScreenedOut);
  // Decided by NAS: their reason is the answer. The screening's remedies were about avoiding a review that has now happened.
  const rejectedRows = rejected.map((account): ExplainedRow => ({
    email: escapeMarkdown(account.email),
    why: escapeMarkdown(account.decisionReason?.trim() ? `NAS Operations: ${account.decisionReason.trim()}` : 'Rejected by NAS Operations.'),
    nextStep: escapeMarkdown(REJECTED_NEXT_STEP),
  }));
  const screenedOutRows = screenedOut.map((account): ExplainedRow => {
    const blocking = account.reasons.filter((reason) => reason.verdict === 'ineligible');
    return {
      email: escapeMarkdown(account.email),
      why: escapeMarkdown(blocking.map((reason) => reason.message).join(' ') || 'Not eligible at screening.'),
      nextStep: escapeMarkdown([...new Set(blocking.map((reason) => reason.remedy))].join(' ') || REJECTED_NEXT_STEP),
    };
  });
  // What needs the requester's action keeps its place first when the list must be cut.
  const ordered = [
    ...rejectedRows.map((row) => ({ kind: 'rejected' as const, row })),
    ...screenedOutRows.map((row) => ({ kind: 'screenedOut' as const, row })),
    ...approved.map((account) => ({ kind: 'approved' as const, row: { email: escapeMarkdown(account.email) } })),
  ];
  const fixableCount = fixableAccounts(request).length;
  return fitToMessageLimit(ordered.length, (shown) => {
    const visible = ordered.slice(0, shown);
    return expandCard<OutcomeCardData>(template, {
      headline:
        approved.length === 0
          ? `Transfer request ${request.reference} has been decided: nothing to transfer, as no account was accepted`
          : request.status === 'completed'
            ? `Transfer request ${request.reference} is complete: NAS now administers the accepted accounts`
            : `Transfer request ${request.reference} has been decided`,
      reference: request.reference,
      organisationName: escapeMarkdown(request.organisationName),
      approvedCount: approved.length,
      rejectedCount: rejected.length,
      screenedOutCount: screenedOut.length,
      total: ordered.length,
      shownCount: shown,
      approved: visible.filter((item) => item.kind === 'approved').map((item) => item.row),
      rejected: visible.filter((item) => item.kind === 'rejected').map((item) => item.row),
      screenedOut: visible.filter((item) => item.kind === 'screenedOut').map((item) => item.row),
      requestId: request.id,
      fixableCount,
      leaverReminder: leaverReminder(request),
      resubmitTitle: fixableCount === 1 ? 'Start a new request with the one you can fix' : `Start a new request with the ${fixableCount} you can fix`,
    });
  }).card;
}
