import assert from 'node:assert/strict';
import { fitToMessageLimit, utf16Bytes, type CardAttachment } from '../../cards/render';

/**
 * Fitting a card's list to Teams' message limit renders (expands the template) and measures
 * (serialises) the card as few times as it can, whatever the list's length (issue 23, large
 * requests): the whole list; if it is too large, one item and then the count the two predict,
 * again only when a prediction was too large. The card it gives is within the budget and says
 * how many it shows. Counted here on a card whose items have known sizes; no timings.
 */
function listCard(itemTexts: readonly string[]) {
  const renders: number[] = [];
  const render = (shown: number): CardAttachment => {
    renders.push(shown);
    return {
      contentType: 'application/vnd.microsoft.card.adaptive',
      content: {
        type: 'AdaptiveCard',
        body: [
          { type: 'TextBlock', text: `Showing ${shown} of ${itemTexts.length}`, wrap: true },
          ...itemTexts.slice(0, shown).map((text) => ({ type: 'TextBlock', text, wrap: true })),
        ],
      },
    };
  };
  return { render, renders };
}

const shownIn = (card: CardAttachment) => Number(/Showing (\d+) of/.exec(JSON.stringify(card.content))?.[1]);

describe('fitting a card to the message limit', () => {
  it('renders a card that fits once', () => {
    const { render, renders } = listCard(Array.from({ length: 20 }, (_, index) => `account ${index}`));
    const { card, shown } = fitToMessageLimit(20, render, 10_000);
    assert.deepEqual([shown, shownIn(card), renders], [20, 20, [20]]);
  });

  it('cuts 500 items of one size to the most that fit in three renders: the whole list, one item, the prediction', () => {
    const { render, renders } = listCard(Array.from({ length: 500 }, (_, index) => `${String(index).padStart(3, '0')} ${'x'.repeat(200)}`));
    const budget = 36 * 1024;
    const { card, shown } = fitToMessageLimit(500, render, budget);
    assert.ok(utf16Bytes(card) <= budget, `${utf16Bytes(card)} bytes`);
    assert.equal(shownIn(card), shown);
    assert.ok(utf16Bytes(render(shown + 1)) > budget, `one more (${shown + 1}) would not have fitted either`);
    renders.pop();
    assert.deepEqual(renders, [500, 1, shown], 'stepping down by a quarter rendered it seven times');
  });

  it('fits a list whose first items are the longest (what needs attention first) within the budget, predicting again from each render', () => {
    const texts = Array.from({ length: 500 }, (_, index) => (index < 60 ? 'r'.repeat(900) : 'a'.repeat(60)));
    const { render, renders } = listCard(texts);
    const budget = 36 * 1024;
    const { card, shown } = fitToMessageLimit(500, render, budget);
    assert.ok(utf16Bytes(card) <= budget, `${utf16Bytes(card)} bytes`);
    assert.equal(shownIn(card), shown);
    assert.ok(shown >= 1 && shown < 60, `shows ${shown}`);
    assert.ok(renders.length <= 5, `rendered ${renders.length} times: ${renders.join(', ')}`);
    const [whole, one, ...predictions] = renders;
    assert.deepEqual([whole, one], [500, 1]);
    for (let index = 1; index < predictions.length; index++) assert.ok(predictions[index]! < predictions[index - 1]!, `fewer each time: ${renders.join(', ')}`);
  });

  it('gives the card with one item when even that is too large, so the caller can try a smaller rendering', () => {
    const { render, renders } = listCard(Array.from({ length: 50 }, () => 'x'.repeat(5000)));
    const { card, shown } = fitToMessageLimit(50, render, 4000);
    assert.deepEqual([shown, shownIn(card), renders], [1, 1, [50, 1]]);
  });
});
