import accountsEntry from './accounts-entry.json';
import attestations from './attestations.json';
import dutiesDrafts from './duties-drafts.json';
import opsRequest from './ops-request.json';
import outcome from './outcome.json';
import { expandCard } from './render';
import screeningResults from './screening-results.json';
import welcome from './welcome.json';

/** Every card template the bot expands (test/unit/card-warm-up.test.ts checks none in cards/ is missing). */
export const CARD_TEMPLATES: Readonly<Record<string, object>> = {
  'accounts-entry': accountsEntry,
  attestations,
  'duties-drafts': dutiesDrafts,
  'ops-request': opsRequest,
  outcome,
  'screening-results': screeningResults,
  welcome,
};

/**
 * Expands every card template once, with no data, before the bot takes traffic. Templates are
 * expanded by adaptive-expressions, whose ANTLR parser fills its caches at its first parses: the
 * first welcome card of a process took 112 ms and the next 0.3 ms, and in a burst of 50
 * installs on a fresh instance every one of them waited behind it (issue 23: the load run's first
 * turns). Each template is parsed once here and kept (expandCard's cache). Missing data only
 * leaves fields empty; a template that cannot be expanded at all is found by its own tests, not here.
 */
export function warmCardTemplates(): void {
  for (const template of Object.values(CARD_TEMPLATES)) {
    try {
      expandCard(template, {});
    } catch {
      // Only a warm-up: the template's own render reports its problems where it is used.
    }
  }
}
