import assert from 'node:assert/strict';
import { Template } from 'adaptivecards-templating';

type FirstTurnCards = typeof import('../../bot/first-turn-cards');
type Welcome = typeof import('../../cards/welcome');
type AccountsEntry = typeof import('../../cards/accounts-entry');
type Attestations = typeof import('../../cards/attestations');

/**
 * Fresh copies of the card modules, as a new process has them (no template parsed yet): other test files in this
 * process may have rendered these cards already, which would hide whether the start-up render parsed them.
 */
function freshModules() {
  for (const file of Object.keys(require.cache)) {
    if (!file.includes('node_modules') && /[\\/](cards[\\/][^\\/]+|bot[\\/]first-turn-cards)\.ts$/.test(file)) delete require.cache[file];
  }
  /* eslint-disable @typescript-eslint/no-require-imports -- fresh module copies need require() after the cache is cleared */
  return {
    prepareFirstTurnCards: (require('../../bot/first-turn-cards') as FirstTurnCards).prepareFirstTurnCards,
    renderWelcomeCard: (require('../../cards/welcome') as Welcome).renderWelcomeCard,
    renderAccountsEntryCard: (require('../../cards/accounts-entry') as AccountsEntry).renderAccountsEntryCard,
    renderAttestationsCard: (require('../../cards/attestations') as Attestations).renderAttestationsCard,
  };
  /* eslint-enable @typescript-eslint/no-require-imports */
}

/** Counts the template expressions parsed while `work` runs (the ANTLR parse that held the event loop). */
function expressionsParsed(work: () => void): number {
  // A static, not a method: it uses no `this`.
  // eslint-disable-next-line @typescript-eslint/unbound-method
  const parse = Template.parseInterpolatedString;
  let parsed = 0;
  Template.parseInterpolatedString = (text: string) => (parsed++, parse(text));
  try {
    work();
  } finally {
    Template.parseInterpolatedString = parse;
  }
  return parsed;
}

describe('the cards of a requester’s first turns are parsed at start-up (index.ts), not on the first turn of a burst', () => {
  const firstTurns = (modules: ReturnType<typeof freshModules>) => () => {
    modules.renderWelcomeCard({ firstName: 'Priya', forOps: false });
    modules.renderWelcomeCard({ firstName: 'Tom', forOps: true });
    modules.renderAccountsEntryCard({ maxAccounts: 500, problemSummary: 'Line 2 needs correcting.', problems: [{ text: 'Line 2' }], previousText: 'a@b' });
    modules.renderAttestationsCard({ organisationName: 'Northmoor Community Care Partnership', accountCount: 16, missingNotice: '' });
  };

  it('a process that has not prepared them parses them on their first render (what the test would miss)', () => {
    assert.ok(expressionsParsed(firstTurns(freshModules())) > 0);
  });

  it('after prepareFirstTurnCards, the welcome, the accounts box and the confirmations parse nothing when a turn renders them', () => {
    const modules = freshModules();
    assert.ok(expressionsParsed(() => modules.prepareFirstTurnCards()) > 0, 'the start-up render parsed the templates');
    assert.equal(expressionsParsed(firstTurns(modules)), 0);
  });
});
