import assert from 'node:assert/strict';
import { loadBankHolidays, londonDate, workingDaysElapsed } from '../../services/working-days';

describe('working days in England and Wales', () => {
  const holidays = loadBankHolidays();

  interface Case {
    name: string;
    from: string;
    to: string;
    days: number;
  }
  const CASES: Case[] = [
    { name: 'the same day', from: '2026-11-24T09:00:00Z', to: '2026-11-24T17:00:00Z', days: 0 },
    { name: 'Tuesday to Friday', from: '2026-11-24T09:00:00Z', to: '2026-11-27T09:00:00Z', days: 2 },
    { name: 'Friday to Monday: the weekend does not count', from: '2026-11-27T09:00:00Z', to: '2026-11-30T09:00:00Z', days: 0 },
    { name: 'Friday to Thursday', from: '2026-11-27T09:00:00Z', to: '2026-12-03T09:00:00Z', days: 3 },
    {
      name: 'over Christmas 2026: 25 Dec and the substitute Boxing Day on the 28th do not count',
      from: '2026-12-24T09:00:00Z',
      to: '2026-12-31T09:00:00Z',
      days: 2,
    },
    { name: 'over Easter 2026: Good Friday and Easter Monday do not count', from: '2026-04-02T09:00:00Z', to: '2026-04-09T09:00:00Z', days: 2 },
    { name: 'late on a Friday in BST is still Friday in London', from: '2026-07-24T22:30:00Z', to: '2026-07-28T09:00:00Z', days: 1 },
  ];
  for (const testCase of CASES) {
    it(`${testCase.name}: ${testCase.days}`, () => {
      assert.equal(workingDaysElapsed(new Date(testCase.from), new Date(testCase.to), holidays), testCase.days);
    });
  }

  it('reads the dates in London, not UTC', () => {
    assert.equal(londonDate(new Date('2026-07-24T23:30:00Z')), '2026-07-25');
    assert.equal(londonDate(new Date('2026-01-24T23:30:00Z')), '2026-01-24');
  });

  it('holds every England and Wales bank holiday GOV.UK lists for 2026', () => {
    for (const date of ['2026-01-01', '2026-04-03', '2026-04-06', '2026-05-04', '2026-05-25', '2026-08-31', '2026-12-25', '2026-12-28'])
      assert.ok(holidays.has(date), date);
    assert.equal([...holidays].filter((date) => date.startsWith('2026-')).length, 8);
  });
});
