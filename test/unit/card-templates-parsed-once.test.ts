import assert from 'node:assert/strict';
import { Template } from 'adaptivecards-templating';
import { renderOpsRequestCard } from '../../cards/ops-request';
import { cardWords, type Card } from '../support/card-actions';
import { sampleRequest } from '../support/card-samples';

/**
 * Parsing a template's expressions was nearly all of a card's render (issue 23, large requests:
 * 200-400 ms an ops card). Each template is parsed once; every render after binds new data to it.
 */
describe('card templates, parsed once', () => {
  it('parses no expression when the same card is rendered again, and each render shows its own data', () => {
    // A static, not a method: it uses no `this`.
    // eslint-disable-next-line @typescript-eslint/unbound-method
    const parse = Template.parseInterpolatedString;
    let parsed = 0;
    Template.parseInterpolatedString = (text: string) => (parsed++, parse(text));
    try {
      const first = renderOpsRequestCard(sampleRequest('submitted'));
      parsed = 0;
      const second = renderOpsRequestCard({ ...sampleRequest('in_review'), reference: 'NTR-999999' });
      assert.equal(parsed, 0, 'the second render parsed expressions again');
      assert.ok(!cardWords(first.content as Card).includes('NTR-999999'));
      assert.ok(cardWords(second.content as Card).includes('NTR-999999'), 'the second card shows its own request');
    } finally {
      Template.parseInterpolatedString = parse;
    }
  });
});
