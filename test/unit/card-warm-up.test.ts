import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { CARD_TEMPLATES, warmCardTemplates } from '../../cards/warm-up';

describe('card templates warmed before the first turn (cards/warm-up.ts)', () => {
  it('names every template in cards/, so none is left for a first turn to parse', () => {
    const onDisk = readdirSync(path.join(__dirname, '..', '..', 'cards'))
      .filter((file) => file.endsWith('.json'))
      .map((file) => file.replace(/\.json$/, ''))
      .sort();
    assert.deepEqual(Object.keys(CARD_TEMPLATES).sort(), onDisk);
  });

  it('expands each with no data without throwing', () => {
    assert.doesNotThrow(() => warmCardTemplates());
  });
});
