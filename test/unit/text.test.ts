import assert from 'node:assert/strict';
import { CONTROL_CHARACTERS, escapeMarkdown, hasUnprintableCharacters, printableOnOneLine, withoutInvisibleCharacters } from '../../core/text';

/*
 * One definition of the characters that must never reach a person as themselves, used by the
 * input guard, quoted values in messages and cards, and markdown escaping.
 */
const NUL = '\u0000';
const TAB = '\t';
const LF = '\n';
const CR = '\r';
const VT = '\u000b';
const ESC = '\u001b';
const DEL = '\u007f';
const C1_CSI = '\u009b';
const LINE_SEPARATOR = '\u2028';
const PARAGRAPH_SEPARATOR = '\u2029';
const RIGHT_TO_LEFT_OVERRIDE = '\u202e';
const FIRST_STRONG_ISOLATE = '\u2068';
const POP_DIRECTIONAL_ISOLATE = '\u2069';

describe('core/text: unprintable characters, one definition', () => {
  const cases: Array<{ name: string; input: string; oneLine: string; withoutInvisible: string; controlsAsQuery: string }> = [
    {
      name: 'plain text',
      input: 'jo.bloggs@nhs.net',
      oneLine: 'jo.bloggs@nhs.net',
      withoutInvisible: 'jo.bloggs@nhs.net',
      controlsAsQuery: 'jo.bloggs@nhs.net',
    },
    { name: 'NUL and a terminal escape', input: `a${NUL}b${ESC}[31m`, oneLine: 'a b [31m', withoutInvisible: 'ab[31m', controlsAsQuery: 'a?b?[31m' },
    { name: 'tab and line breaks', input: `a${TAB}b${LF}c${CR}d`, oneLine: 'a b c d', withoutInvisible: `a${TAB}b${LF}c${CR}d`, controlsAsQuery: 'a?b?c?d' },
    { name: 'vertical tab', input: `a${VT}b`, oneLine: 'a b', withoutInvisible: 'ab', controlsAsQuery: 'a?b' },
    { name: 'DEL and a C1 control', input: `a${DEL}b${C1_CSI}c`, oneLine: 'a b c', withoutInvisible: 'abc', controlsAsQuery: 'a?b?c' },
    {
      name: 'line and paragraph separators',
      input: `a${LINE_SEPARATOR}b${PARAGRAPH_SEPARATOR}c`,
      oneLine: 'a b c',
      withoutInvisible: `a${LINE_SEPARATOR}b${PARAGRAPH_SEPARATOR}c`,
      controlsAsQuery: `a${LINE_SEPARATOR}b${PARAGRAPH_SEPARATOR}c`,
    },
    {
      name: 'bidirectional override and isolates',
      input: `moc.evil${RIGHT_TO_LEFT_OVERRIDE}@x ${FIRST_STRONG_ISOLATE}y${POP_DIRECTIONAL_ISOLATE}`,
      oneLine: 'moc.evil @x  y ',
      withoutInvisible: 'moc.evil@x y',
      controlsAsQuery: `moc.evil${RIGHT_TO_LEFT_OVERRIDE}@x ${FIRST_STRONG_ISOLATE}y${POP_DIRECTIONAL_ISOLATE}`,
    },
    {
      name: 'letters from other scripts stay',
      input: 'Zoë Ó Briain Łukasz 山田',
      oneLine: 'Zoë Ó Briain Łukasz 山田',
      withoutInvisible: 'Zoë Ó Briain Łukasz 山田',
      controlsAsQuery: 'Zoë Ó Briain Łukasz 山田',
    },
  ];

  for (const { name, input, oneLine, withoutInvisible, controlsAsQuery } of cases) {
    it(`${name}: on one line, without invisible characters, controls replaced`, () => {
      assert.equal(printableOnOneLine(input), oneLine);
      assert.equal(withoutInvisibleCharacters(input), withoutInvisible);
      assert.equal(input.replace(CONTROL_CHARACTERS, '?'), controlsAsQuery);
      assert.equal(hasUnprintableCharacters(input), oneLine !== input);
    });
  }

  it('replaces with what the caller shows (U+FFFD for quoted input)', () => {
    assert.equal(printableOnOneLine(`a${ESC}b${RIGHT_TO_LEFT_OVERRIDE}`, '\uFFFD'), 'a\uFFFDb\uFFFD');
  });

  it('gives the same answer called again (no state carried between calls)', () => {
    for (let i = 0; i < 3; i++) assert.equal(hasUnprintableCharacters(`x${NUL}`), true);
    for (let i = 0; i < 3; i++) assert.equal(hasUnprintableCharacters('x'), false);
  });
});

describe('core/text: escapeMarkdown', () => {
  const cases: Array<[string, string]> = [
    ['jo.bloggs@nhs.net', 'jo.bloggs@nhs.net'],
    ['**verified**@x.nhs.uk', '\\*\\*verified\\*\\*@x.nhs.uk'],
    ['jo_bloggs_@x.nhs.uk', 'jo\\_bloggs\\_@x.nhs.uk'],
    ['[click](https://evil.example)', '\\[click\\](https://evil.example)'],
    ['`code` ~strike~ <b> #1 a|b back\\slash', '\\`code\\` \\~strike\\~ \\<b\\> \\#1 a\\|b back\\\\slash'],
    ['- a list item', '\\- a list item'],
    ['+ a list item', '\\+ a list item'],
    ['  12. a numbered item', '  \\12. a numbered item'],
    ['12.5 accounts', '12.5 accounts'],
    ['a - b', 'a - b'],
    [`line one${LF}- line two`, 'line one - line two'],
    [`evil${RIGHT_TO_LEFT_OVERRIDE}moc`, 'evil moc'],
  ];
  for (const [input, escaped] of cases) {
    it(`${JSON.stringify(input)} reads as written`, () => assert.equal(escapeMarkdown(input), escaped));
  }
});
