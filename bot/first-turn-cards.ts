import { renderAccountsEntryCard } from '../cards/accounts-entry';
import { renderAttestationsCard } from '../cards/attestations';
import { renderWelcomeCard } from '../cards/welcome';

/**
 * Renders once, before the server takes its first turn, the cards a requester's first turns show
 * (the welcome when they add the bot, the accounts box, the confirmations), so that their templates
 * are parsed now (cards/render.ts keeps each template parsed once per process). Parsing a template's
 * ${…} expressions is a synchronous ANTLR parse: under the load bench (100 requesters adding the bot
 * at once, issue 23) the welcome card's first render held the event loop for 0.6 s while every other
 * first turn of the burst waited behind it, and the accounts box's for 0.26 s.
 */
export function prepareFirstTurnCards(): void {
  renderWelcomeCard({ firstName: 'there' });
  renderAccountsEntryCard({ maxAccounts: 1, problemSummary: '', problems: [], previousText: '' });
  renderAttestationsCard({ organisationName: '', accountCount: 1, missingNotice: '' });
}
