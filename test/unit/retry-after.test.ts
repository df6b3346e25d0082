import assert from 'node:assert/strict';
import { retryAfterSeconds } from '../../core/retry-after';

describe('core/retry-after: delay-seconds or an HTTP-date (RFC 9110 §10.2.3)', () => {
  const now = new Date('1994-11-06T08:49:00Z');
  const cases: Array<[value: string | null | undefined, seconds: number | undefined]> = [
    ['120', 120],
    ['0', 0],
    [' 5 ', 5],
    ['1.5', 1.5],
    ['Sun, 06 Nov 1994 08:49:37 GMT', 37],
    ['Sunday, 06-Nov-94 08:49:37 GMT', 37],
    ['Sun Nov  6 08:49:37 1994', 37],
    ['Sun, 06 Nov 1994 08:48:00 GMT', 0],
    [undefined, undefined],
    [null, undefined],
    ['', undefined],
    ['   ', undefined],
    ['-3', undefined],
    ['soon', undefined],
    ['1e3', undefined],
    ['1,5', undefined],
    ['1994-11-06T08:49:37Z', undefined],
    ['Sun, 06 Nov 1994 08:49:37 BST', undefined],
  ];
  for (const [value, seconds] of cases) {
    it(`${JSON.stringify(value)} asks for ${seconds === undefined ? 'nothing usable' : `${seconds} s`}`, () => {
      assert.equal(retryAfterSeconds(value, now), seconds);
    });
  }

  it('counts a date from the clock it is given', () => {
    assert.equal(retryAfterSeconds('Sun, 06 Nov 1994 08:49:37 GMT', new Date('1994-11-06T08:49:30Z')), 7);
  });
});
