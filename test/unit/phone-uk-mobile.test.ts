import assert from 'node:assert/strict';
import { parsePhoneNumberFromString } from 'libphonenumber-js/max';
import { classifyMobile, isValidUkMobile } from '../../services/eligibility/uk-mobile';
import type { MobileCheck } from '../../services/eligibility/types';

interface PhoneCase {
  number: string | undefined;
  check: MobileCheck;
  country?: string;
  why: string;
}

/** The numbering plan (libphonenumber-js full metadata), not a 07 + nine digits pattern. */
const CASES: PhoneCase[] = [
  { number: '07400 123456', check: 'uk-mobile', why: 'national format' },
  { number: '07400123456', check: 'uk-mobile', why: 'no spaces' },
  { number: '+44 7400 123456', check: 'uk-mobile', why: 'international format' },
  { number: '+447400123456', check: 'uk-mobile', why: 'E.164' },
  { number: '0044 7400 123456', check: 'uk-mobile', why: 'international prefix 00' },
  { number: '07400-123-456', check: 'uk-mobile', why: 'dashes' },
  { number: '(07400) 123456', check: 'uk-mobile', why: 'brackets' },
  { number: '07011 123456', check: 'not-uk-mobile', why: '070 is a personal number, not a mobile' },
  { number: '07640 123456', check: 'not-uk-mobile', why: '076 is a pager' },
  { number: '07600 123456', check: 'not-uk-mobile', why: '0760 is a pager' },
  { number: '07700 900123', check: 'not-uk-mobile', why: 'the Ofcom drama range is not an allocated mobile range' },
  { number: '01632 960001', check: 'not-uk-mobile', why: 'a landline drama number' },
  { number: '+44 20 7946 0001', check: 'not-uk-mobile', why: 'a London landline' },
  { number: '0740012345', check: 'not-uk-mobile', why: 'one digit short' },
  { number: '074001234567', check: 'not-uk-mobile', why: 'one digit long' },
  { number: '+33 6 12 34 56 78', check: 'not-uk-mobile', country: 'FR', why: 'a French mobile' },
  { number: 'call me', check: 'not-uk-mobile', why: 'not a number' },
  { number: '07781 123456', check: 'crown-dependency-mobile', country: 'GG', why: 'a Guernsey mobile range' },
  { number: '+44 7797 123456', check: 'crown-dependency-mobile', country: 'JE', why: 'a Jersey mobile range' },
  { number: '07624 123456', check: 'crown-dependency-mobile', country: 'IM', why: 'an Isle of Man mobile range' },
  { number: '', check: 'none', why: 'empty' },
  { number: '   ', check: 'none', why: 'blank' },
  { number: undefined, check: 'none', why: 'not recorded' },
];

describe('UK mobile numbers by the numbering plan', () => {
  for (const testCase of CASES) {
    it(`${JSON.stringify(testCase.number)} is ${testCase.check}: ${testCase.why}`, () => {
      const result = classifyMobile(testCase.number);
      assert.equal(result.check, testCase.check);
      assert.equal(result.country, testCase.country);
      assert.equal(isValidUkMobile(testCase.number), testCase.check === 'uk-mobile');
    });
  }
});

/*
 * classifyMobile asks the number's type alone, reading "no type" as "not a valid number": with the
 * full metadata, isValid() is getType() !== undefined (libphonenumber-js source/isValid.js). A
 * canary for that: should a release change it, this fails before a verdict does.
 */
describe('the numbering plan library: a number is valid exactly when it has a type', () => {
  const numbers = [
    ...CASES.map((testCase) => testCase.number).filter((number): number is string => Boolean(number?.trim())),
    // Every 2-digit start after 0 across the UK plan, and other regions' numbers, valid and not.
    ...Array.from({ length: 100 }, (_, index) => `0${String(index).padStart(2, '0')}12 345678`),
    ...['+1 202 555 0143', '+353 87 123 4567', '+49 151 23456789', '+61 4 1234 5678', '+91 98765 43210', '+44 800 123 4567', '+44 9090 123456'],
  ];
  it(`holds for ${numbers.length} numbers`, () => {
    for (const raw of numbers) {
      const number = parsePhoneNumberFromString(raw, 'GB');
      if (number) assert.equal(number.isValid(), number.getType() !== undefined, raw);
    }
  });
});
