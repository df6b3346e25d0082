import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { expandCard } from '../../cards/render';
import { CARD_TEMPLATES } from '../../cards/warm-up';

describe('card templates warmed before the first turn (cards/warm-up.ts)', () => {
  it('names every template in cards/, so none is left for a first turn to parse', () => {
    const onDisk = readdirSync(path.join(__dirname, '..', '..', 'cards'))
      .filter((file) => file.endsWith('.json'))
      .map((file) => file.replace(/\.json$/, ''))
      .sort();
    assert.deepEqual(Object.keys(CARD_TEMPLATES).sort(), onDisk);
  });

  // warmCardTemplates swallows a template's failure (a warm-up must not stop the bot starting), so each is expanded here
  // as it does it: one that needs data to expand at all would go unwarmed without a word.
  for (const [name, template] of Object.entries(CARD_TEMPLATES))
    it(`expands ${name} with no data, as the warm-up does`, () => {
      const card = expandCard(template, {}).content;
      assert.equal(card.type, 'AdaptiveCard');
    });
});
