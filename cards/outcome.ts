import type { Attachment } from 'botbuilder';
import type { StoredRequest } from '../services/store/request-store';
import { expandCard, fitToMessageLimit } from './render';
import template from './outcome.json';

export const REJECTED_NEXT_STEP = 'Keep administering this account locally, or transfer it to another NHSmail organisation.';

export interface OutcomeCardData {
  reference: string;
  organisationName: string;
  approvedCount: number;
  rejectedCount: number;
  total: number;
  shownCount: number;
  approved: Array<{ email: string }>;
  rejected: Array<{ email: string; why: string; nextStep: string }>;
}

/** The requester's notification once every account in a request is decided. */
export function renderOutcomeCard(request: StoredRequest): Attachment {
  const approved = request.accounts.filter((account) => account.decision === 'approved');
  const rejected = request.accounts.filter((account) => account.decision === 'rejected');
  const rejectedRows = rejected.map((account) => {
    const flagged = account.reasons.filter((reason) => reason.verdict === 'review');
    return {
      email: account.email,
      why: account.decisionReason ?? (flagged.map((reason) => reason.message).join(' ') || 'Rejected by NAS Operations.'),
      nextStep: flagged.length > 0 ? `${flagged.map((reason) => reason.remedy).join(' ')} Otherwise: ${REJECTED_NEXT_STEP}` : REJECTED_NEXT_STEP,
    };
  });
  // Rejections need action, so they keep their place first when the list must be cut.
  const ordered = [...rejectedRows.map((row) => ({ kind: 'rejected' as const, row })), ...approved.map((account) => ({ kind: 'approved' as const, row: { email: account.email } }))];
  return fitToMessageLimit(ordered.length, (shown) => {
    const visible = ordered.slice(0, shown);
    return expandCard<OutcomeCardData>(template, {
      reference: request.reference,
      organisationName: request.organisationName,
      approvedCount: approved.length,
      rejectedCount: rejected.length,
      total: ordered.length,
      shownCount: shown,
      approved: visible.filter((item) => item.kind === 'approved').map((item) => item.row as { email: string }),
      rejected: visible.filter((item) => item.kind === 'rejected').map((item) => item.row as OutcomeCardData['rejected'][number]),
    });
  }).card;
}
