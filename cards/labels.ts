import type { Verdict } from '../services/eligibility/types';
import type { Decision, RequestStatus } from '../services/model';

/** Adaptive card TextBlock colours. */
export type CardColor = 'Default' | 'Good' | 'Warning' | 'Attention' | 'Accent';
export type TextWeight = 'Default' | 'Bolder';

/*
 * Colours that read in every Teams theme. Teams' light host config draws Good as #92c353 and
 * Warning as #f8d22a on white (about 2.2:1 and 1.5:1, below WCAG's 4.5:1), so neither is used
 * for words on a card, nor is Attention (#d74654 on Teams dark's #2d2c2c is about 2.5:1).
 * Accent (#6264a7 light, #a6a7dc dark) reads in every theme; otherwise the default colour,
 * in bold where it matters: the words say what it means (test/browser checks the contrast).
 */
export const VERDICT_DISPLAY: Record<Verdict, { label: string; color: CardColor }> = {
  eligible: { label: 'Eligible', color: 'Default' },
  review: { label: 'Needs review', color: 'Accent' },
  ineligible: { label: 'Not eligible', color: 'Default' },
};

export const DECISION_DISPLAY: Record<Decision, { label: string; color: CardColor }> = {
  approved: { label: 'Approved', color: 'Default' },
  rejected: { label: 'Rejected', color: 'Default' },
};

export const REQUEST_STATUS_COLOR: Record<RequestStatus, CardColor> = {
  submitted: 'Accent',
  in_review: 'Accent',
  decided: 'Default',
  completed: 'Default',
  withdrawn: 'Default',
};

export const ATTESTATION_TEXT = {
  usersInformed: 'The affected users have been told about the transfer process and its timescales.',
  residualDataRemoved: 'Residual data and patient identifiable data that we have no legal right to keep has been removed from these accounts.',
  notMarkedAsLeavers: 'None of these accounts is marked as a leaver.',
  resolutionForIneligible: 'We will give every ineligible user a resolution (keep administering them, or transfer them to another organisation).',
} as const;
