import type { Attachment } from 'botbuilder';
import { CARD_BUDGET_BYTES, expandCard, utf16Bytes } from './render';
import template from './accounts-entry.json';

export interface AccountsEntryCardData {
  maxAccounts: number;
  problemSummary: string;
  problems: Array<{ text: string }>;
  /** What the requester sent last time, so a correction never means retyping the list. */
  previousText: string;
}

export function renderAccountsEntryCard(data: AccountsEntryCardData): Attachment {
  const card = expandCard(template, data);
  if (utf16Bytes(card) <= CARD_BUDGET_BYTES) return card;
  // Too long to send back whole: the requester still has their own copy to correct.
  return expandCard(template, {
    ...data,
    previousText: '',
    problemSummary: `${data.problemSummary} Your list is too long to show here again: correct your copy and paste it in full.`,
  });
}
