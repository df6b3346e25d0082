import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import type { Activity } from 'botbuilder';
import { plainText } from '../../bot/message-text';
import { MAX_MESSAGE_CHARS } from '../../bot/middleware/input-guard';

/**
 * A guard against catastrophic backtracking, not a benchmark: a linear pass over 60,000
 * characters takes about a millisecond, the quadratic pattern it replaced took seconds.
 */
const BOUND_MS = 200;

const message = (text: string, extra: Partial<Activity> = {}): Partial<Activity> => ({ type: 'message', text, ...extra });

describe('plainText: what a person said, from what Teams delivers', () => {
  describe('hostile input is read in linear time', () => {
    const HOSTILE: Array<[string, string]> = [
      ['"<" repeated', '<'.repeat(59_000)],
      ['"<a" repeated (tags that never close)', '<a'.repeat(29_500)],
      ['"<at>" repeated (mentions that never close)', '<at>'.repeat(15_000)],
      ['"<br" and spaces that never close', `<br${' '.repeat(58_000)}${'<br '.repeat(400)}`],
      ['"&amp;" chained', '&amp;'.repeat(11_800)],
      ['"&amp;" chains ending in an entity', '&amp;amp;amp;lt;'.repeat(3_600)],
    ];
    for (const [name, text] of HOSTILE) {
      it(`${name}, ${text.length.toLocaleString('en-GB')} characters`, () => {
        assert.ok(text.length <= MAX_MESSAGE_CHARS, 'within what the input guard lets through');
        const started = performance.now();
        plainText(message(text));
        const elapsed = performance.now() - started;
        assert.ok(elapsed < BOUND_MS, `took ${elapsed.toFixed(1)} ms`);
      });
    }
  });

  it('keeps what an unclosed "<" leaves, as text', () => {
    assert.equal(plainText(message('<<<')), '<<<');
    assert.equal(plainText(message('a < b and <b>c</b>')), 'a < b and c');
  });

  it('removes the mention of the bot that begins a channel message', () => {
    assert.equal(plainText(message('<at>NAS Transfer</at> status NTR-100001')), 'status NTR-100001');
    const bot = { id: '28:bot', name: 'NAS Transfer' };
    const mentioned = message('<at>NAS Transfer</at> pending', {
      recipient: bot,
      entities: [{ type: 'mention', mentioned: bot, text: '<at>NAS Transfer</at>' }],
    });
    assert.equal(plainText(mentioned), 'pending');
  });

  it('turns pasted HTML lines into lines, and drops other tags', () => {
    assert.equal(
      plainText(message('<p>a@x.nhs.uk, ZZ9101</p><p>b@x.nhs.uk</p>c@x.nhs.uk<br>d@x.nhs.uk<br/>e@x.nhs.uk<BR />f@x.nhs.uk')),
      'a@x.nhs.uk, ZZ9101\nb@x.nhs.uk\nc@x.nhs.uk\nd@x.nhs.uk\ne@x.nhs.uk\nf@x.nhs.uk',
    );
    assert.equal(plainText(message('<div><span style="color:red">new</span> transfer</div>')), 'new transfer');
  });

  it('decodes the entities Teams writes, once', () => {
    assert.equal(plainText(message('Tom&nbsp;&amp;&nbsp;Jerry &lt;care&gt;')), 'Tom & Jerry <care>');
    assert.equal(plainText(message('&amp;lt; is how you write &lt;')), '&lt; is how you write <');
    assert.equal(plainText(message('&amp;amp;')), '&amp;');
  });
});
