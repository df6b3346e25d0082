import { understoodSpecialisms, type SpecialismVocabulary } from '../services/account-list';
import { escapeMarkdown } from '../core/text';
import { CARD_BUDGET_BYTES, expandCard, utf16Bytes, type CardAttachment } from './render';
import template from './accounts-entry.json';

export interface AccountsEntryCardData {
  maxAccounts: number;
  problemSummary: string;
  problems: Array<{ text: string }>;
  /** What the requester sent last time, so a correction never means retyping the list. */
  previousText: string;
  /** The policy's specialism words, listed on the card so a requester knows what is understood. */
  specialisms?: SpecialismVocabulary;
}

export function renderAccountsEntryCard(data: AccountsEntryCardData): CardAttachment {
  const { specialisms, ...rest } = data;
  // Problems quote the requester's own values back: shown as written, never as markdown.
  const shown = {
    ...rest,
    problemSummary: escapeMarkdown(data.problemSummary),
    problems: data.problems.map((problem) => ({ text: escapeMarkdown(problem.text) })),
    specialismList: specialismList(specialisms),
  };
  const card = expandCard(template, shown);
  if (utf16Bytes(card) <= CARD_BUDGET_BYTES) return card;
  // Too long to send back whole: the requester still has their own copy to correct.
  return expandCard(template, {
    ...shown,
    previousText: '',
    problemSummary: `${shown.problemSummary} Your list is too long to show here again: correct your copy and paste it in full.`,
  });
}

/** "Pharmacy (or community pharmacy), GP locum (or locum), …" */
function specialismList(vocabulary: SpecialismVocabulary | undefined): string {
  if (!vocabulary) return '';
  return escapeMarkdown(
    understoodSpecialisms(vocabulary)
      .map(({ name, alsoAccepted }) => (alsoAccepted.length > 0 ? `${name} (or ${alsoAccepted.join(', ')})` : name))
      .join('; '),
  );
}
