import assert from 'node:assert/strict';
import type { Reason, Verdict } from '../../services/eligibility/types';
import { describeChange } from '../../services/requests/recheck';

const OVER: Reason = { rule: 'SITE_ALLOWANCE_EXCEEDED', verdict: 'ineligible', message: 'The site has used its allowance.', remedy: 'Ask NAS.' };
const ROW_UNREADABLE: Reason = {
  rule: 'SITE_ALLOWANCE_EXCEEDED',
  verdict: 'review',
  message:
    "The site's allowance of NAS managed accounts could not be checked: site ZZ9108's row in the NAS site register (nas-sites.csv, line 6) could not be read.",
  remedy: 'NAS Operations will check it.',
};
const LEAVER: Reason = { rule: 'MARKED_AS_LEAVER', verdict: 'ineligible', message: 'Marked as a leaver.', remedy: 'Unmark.' };

const at = (verdict: Verdict, ...reasons: Reason[]) => ({ verdict, reasons });

describe('what a re-check says changed since submission', () => {
  const cases: Array<{ name: string; before: ReturnType<typeof at>; after: ReturnType<typeof at>; told: string | null }> = [
    { name: 'nothing changed', before: at('eligible'), after: at('eligible'), told: null },
    { name: 'a finding appears, in the card’s words', before: at('eligible'), after: at('ineligible', LEAVER), told: 'marked as a leaver, now ineligible' },
    { name: 'a finding goes', before: at('ineligible', OVER), after: at('eligible'), told: "within its site's allowance, now eligible" },
    {
      name: 'a rule that could not be checked is told as such, not as a finding (was "over its site’s allowance")',
      before: at('eligible'),
      after: at('review', ROW_UNREADABLE),
      told: "its site's allowance could not be checked, now for review",
    },
    {
      name: 'and when it can be checked again, it is not told as "within its allowance"',
      before: at('review', ROW_UNREADABLE),
      after: at('eligible'),
      told: "its site's allowance checked again, now eligible",
    },
  ];
  for (const { name, before, after, told } of cases) {
    it(name, () => assert.equal(describeChange(before, after), told));
  }

  it('says the same on the next day when nothing but a count or a file name moved (a change is told when its words change)', () => {
    const stale = (days: number): Reason => ({
      rule: 'SITE_NOT_DSPT_COMPLIANT',
      verdict: 'review',
      message: `The DSPT register is ${days} days old (dspt-export-2026-11-0${days % 9}.csv), so the site's status could not be trusted.`,
      remedy: 'NAS Operations will check it.',
    });
    const monday = describeChange(at('eligible'), at('review', stale(31)));
    const tuesday = describeChange(at('eligible'), at('review', stale(32)));
    assert.equal(monday, "its site's DSPT could not be checked, now for review");
    assert.equal(tuesday, monday);
  });
});
