import { escapeMarkdown } from '../core/text';
import { formatTime, transferState, type StoredAccount } from '../services/model';

/**
 * An approved account's transfer state in words, for `status` (approved, marked, confirmed when,
 * overridden by whom and why); empty for an account that is not approved.
 */
export function transferStateWords(account: StoredAccount): string {
  if (account.decision !== 'approved') return '';
  switch (transferState(account)) {
    case 'approved':
      return '; not yet moved to NAS';
    case 'marked':
      return `; marked transferred at ${formatTime(account.transferredAt)}, not yet moved in the directory`;
    case 'confirmed':
      return `; transferred: seen moved in the directory at ${formatTime(account.transferConfirmedAt ?? null)}`;
    case 'overridden':
      return `; transferred: overridden by ${escapeMarkdown(account.transferOverride?.by.name ?? 'NAS Operations')} at ${formatTime(account.transferOverride?.at ?? null)} (${escapeMarkdown(account.transferOverride?.reason ?? '')})`;
  }
}

/** What changed since submission, per the latest re-check, for NAS Operations; empty when nothing did. */
export function changeWords(account: StoredAccount): string {
  return account.recheck?.changes ? ` [since submission: ${escapeMarkdown(account.recheck.changes)}, seen ${formatTime(account.recheck.changedAt)}]` : '';
}
