import type { Verdict } from '../services/eligibility/types';
import type { Decision } from '../services/model';

/** Adaptive card TextBlock colours. */
export type CardColor = 'Default' | 'Good' | 'Warning' | 'Attention' | 'Accent';

export const VERDICT_DISPLAY: Record<Verdict, { label: string; color: CardColor }> = {
  eligible: { label: 'Eligible', color: 'Good' },
  review: { label: 'Needs review', color: 'Warning' },
  ineligible: { label: 'Not eligible', color: 'Attention' },
};

export const DECISION_DISPLAY: Record<Decision, { label: string; color: CardColor }> = {
  approved: { label: 'Approved', color: 'Good' },
  rejected: { label: 'Rejected', color: 'Attention' },
};

export const ATTESTATION_TEXT = {
  usersInformed: 'The affected users have been told about the transfer process and its timescales.',
  residualDataRemoved: 'Residual data and patient identifiable data that we have no legal right to keep has been removed from these accounts.',
  notMarkedAsLeavers: 'None of these accounts is marked as a leaver.',
  resolutionForIneligible: 'We will give every ineligible user a resolution (keep administering them, or transfer them to another organisation).',
} as const;
