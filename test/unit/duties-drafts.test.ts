import { leaverReminder } from '../../cards/duties-drafts';
import { renderScreeningResultsCard } from '../../cards/screening-results';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { isAppError } from '../../core/errors';
import { RULE_IDS } from '../../services/eligibility/types';
import { FIXABLE_RULES } from '../../services/model';
import { allDrafts, checkRecipients, draftMessages, type MeasuredTimescales } from '../../services/duties/drafts';
import { AFFECTED_USERS_MESSAGES_FILE, loadAffectedUserMessages, parseAffectedUserMessages } from '../../services/duties/message-templates';
import { describeTimescale, measureTimescale, MIN_TIMESCALE_SAMPLES, nearestRank, type TimescaleSample } from '../../services/duties/timescales';
import { loadBankHolidays } from '../../services/working-days';
import { NO_MOBILE, NOT_FOUND, NOT_PATIENT_CARE, storedAccount, storedRequest } from '../support/duty-requests';

const messages = loadAffectedUserMessages();
const holidays = loadBankHolidays();
const KNOWN: MeasuredTimescales = {
  decision: { known: true, medianDays: 3, p90Days: 7, samples: 24 },
  transfer: { known: true, medianDays: 6, p90Days: 12, samples: 20 },
};
const UNKNOWN: MeasuredTimescales = { decision: { known: false, samples: 2 }, transfer: { known: false, samples: 0 } };

const rawFile = () => JSON.parse(readFileSync(AFFECTED_USERS_MESSAGES_FILE, 'utf8')) as Record<string, any>;

function refusal(raw: unknown): string {
  try {
    parseAffectedUserMessages(raw);
  } catch (error) {
    assert.ok(isAppError(error));
    return error.userMessage;
  }
  assert.fail('the file was accepted');
}

describe('the affected users’ messages: templates in the policy data', () => {
  it('loads the shipped file', () => {
    assert.match(messages.version, /^\d{4}\.\d{2}-\d+$/);
  });

  it('has plain words for the reason and resolution of every rule a person can be turned away for', () => {
    for (const rule of RULE_IDS) {
      if (messages.notTold.has(rule)) continue;
      assert.ok(messages.reasons[rule], `reason for ${rule}`);
      assert.ok(messages.resolutions[rule], `resolution for ${rule}`);
    }
  });

  const REFUSED: Array<{ name: string; edit: (raw: Record<string, any>) => void; says: RegExp }> = [
    {
      name: 'a template that drops the person’s name',
      edit: (raw) => (raw.templates.submitted.transferring.body = raw.templates.submitted.transferring.body.replace('{{name}}', 'colleague')),
      says: /submitted\.transferring no longer includes \{\{name\}\}: each message must be addressed to its own person/,
    },
    {
      name: 'a template that drops the reason',
      edit: (raw) => (raw.templates.outcome.notEligible.body = raw.templates.outcome.notEligible.body.replace('{{reason}}', 'policy')),
      says: /outcome\.notEligible no longer includes \{\{reason\}\}: each person who is not moving must be told their own reason/,
    },
    {
      name: 'a template that drops the resolution',
      edit: (raw) => (raw.templates.submitted.keptLocally.body = raw.templates.submitted.keptLocally.body.replace('{{resolution}}', '')),
      says: /submitted\.keptLocally no longer includes \{\{resolution\}\}/,
    },
    {
      name: 'a placeholder nobody fills',
      edit: (raw) => (raw.templates.outcome.transferring.subject += ' {{mobile}}'),
      says: /uses \{\{mobile\}\}, which the bot does not fill/,
    },
    {
      name: 'NAS’s decision words without their reason',
      edit: (raw) => (raw.nasDecisionReason = 'NAS said no.'),
      says: /nasDecisionReason no longer include \{\{decisionReason\}\}/,
    },
    {
      name: 'a rule’s words that would put a reason inside a reason',
      edit: (raw) => (raw.resolutions.NO_UK_MOBILE = 'See {{reason}}.'),
      says: /resolutions\.NO_UK_MOBILE use \{\{reason\}\}/,
    },
  ];
  it('refuses a set of templates where one message would fit everybody (no name, no reason)', () => {
    const raw = rawFile();
    raw.templates.outcome.keptLocally.body = 'Dear colleague, your account is staying with us.';
    const said = refusal(raw);
    assert.match(said, /outcome\.keptLocally no longer includes \{\{name\}\}/);
    assert.match(said, /outcome\.keptLocally no longer includes \{\{reason\}\}/);
  });

  for (const testCase of REFUSED) {
    it(`refuses ${testCase.name}, saying what to put back`, () => {
      const raw = rawFile();
      testCase.edit(raw);
      assert.match(refusal(raw), testCase.says);
    });
  }
});

describe('the affected users’ messages: drafted per person', () => {
  const request = storedRequest([
    storedAccount(1, 'asha.patel@nhs.net', { displayName: 'Asha Patel' }),
    storedAccount(2, 'ben.cole@nhs.net', { displayName: 'Ben Cole', reasons: [NO_MOBILE] }),
    storedAccount(3, 'cara.diaz@nhs.net', { displayName: 'Cara Diaz', reasons: [NOT_PATIENT_CARE] }),
    storedAccount(4, 'nobody@nhs.net', { reasons: [NOT_FOUND] }),
    storedAccount(5, 'dev.rao@nhs.net', { verdict: 'review' }),
  ]);

  interface Case {
    name: string;
    to: string;
    group: string;
    says: RegExp[];
    saysNot?: RegExp[];
  }
  const SUBMITTED: Case[] = [
    {
      name: 'an account being submitted is told it is moving, with the measured timescales',
      to: 'asha.patel@nhs.net',
      group: 'transferring',
      says: [/^Dear Asha Patel,/, /NTR-100007/, /decide within 3 to 7 working days of the request/, /complete within 6 to 12 working days/, /Priya Okafor/],
    },
    {
      name: 'an account sent for review is told it is being submitted too',
      to: 'dev.rao@nhs.net',
      group: 'transferring',
      says: [/^Dear dev\.rao@nhs\.net,/],
    },
    {
      name: 'a fixable reason: not eligible yet, with what to do',
      to: 'ben.cole@nhs.net',
      group: 'notEligible',
      says: [/^Dear Ben Cole,/, /Why: Your NHSmail account has no UK mobile number registered\./, /What to do: add your UK mobile number/],
      saysNot: [/Cara/],
    },
    {
      name: 'a lasting reason: kept locally, with what happens next',
      to: 'cara.diaz@nhs.net',
      group: 'keptLocally',
      says: [
        /^Dear Cara Diaz,/,
        /Why: NAS only administer accounts of staff who give direct patient care\./,
        /Northmoor Community Care Partnership keeps administering/,
      ],
    },
  ];
  const drafted = draftMessages(request, 'submitted', messages, KNOWN);
  for (const testCase of SUBMITTED) {
    it(testCase.name, () => {
      const draft = allDrafts(drafted).find((each) => each.to === testCase.to);
      assert.ok(draft, `a draft to ${testCase.to}`);
      assert.equal(draft.group, testCase.group);
      for (const pattern of testCase.says) assert.match(draft.body, pattern);
      for (const pattern of testCase.saysNot ?? []) assert.doesNotMatch(draft.body, pattern);
      assert.doesNotMatch(`${draft.subject}\n${draft.body}`, /\{\{/);
    });
  }

  it('drafts nothing for an address the directory did not know, and says why', () => {
    assert.equal(allDrafts(drafted).length, 4);
    assert.deepEqual(
      drafted.notTold.map((each) => each.email),
      ['nobody@nhs.net'],
    );
  });

  it('after the outcome: the approved moving, NAS’s rejection with NAS’s own reason, the screened-out with theirs', () => {
    const decided = storedRequest(
      [
        storedAccount(1, 'asha.patel@nhs.net', { displayName: 'Asha Patel', decision: 'approved' }),
        storedAccount(2, 'ben.cole@nhs.net', { displayName: 'Ben Cole', reasons: [NO_MOBILE] }),
        storedAccount(5, 'dev.rao@nhs.net', { displayName: 'Dev Rao', decision: 'rejected', decisionReason: 'Works at head office.' }),
      ],
      { status: 'decided' },
    );
    const outcome = draftMessages(decided, 'outcome', messages, KNOWN);
    assert.deepEqual(
      outcome.groups.transferring.map((each) => each.to),
      ['asha.patel@nhs.net'],
    );
    assert.match(outcome.groups.transferring[0]!.body, /agreed to administer/);
    const dev = outcome.groups.keptLocally.find((each) => each.to === 'dev.rao@nhs.net');
    assert.ok(dev);
    assert.match(dev.body, /Why: NAS Operations decided not to take it: Works at head office\./);
    assert.match(outcome.groups.notEligible[0]!.body, /has not been moved/);
  });

  it('says plainly when there is too little history, never a guessed timescale', () => {
    const draft = draftMessages(request, 'submitted', messages, UNKNOWN).groups.transferring[0]!;
    assert.match(draft.body, /in a time we cannot yet estimate \(too few transfers have been completed recently to say\); Priya Okafor will tell you/);
    assert.doesNotMatch(draft.body, /working days/);
  });

  it('classes fixable and lasting reasons by the same list the outcome card uses', () => {
    assert.ok(FIXABLE_RULES.has('NO_UK_MOBILE'));
    assert.ok(!FIXABLE_RULES.has('NOT_DIRECT_PATIENT_CARE'));
  });
});

describe('the affected users’ messages: recipients', () => {
  const request = storedRequest([storedAccount(1, 'asha.patel@nhs.net')]);
  it('accepts the accounts of the request, whatever the case', () => {
    checkRecipients(request, ['Asha.Patel@nhs.net']);
  });
  it('refuses an address outside the request, naming it, before anything is sent', () => {
    assert.throws(
      () => checkRecipients(request, ['asha.patel@nhs.net', 'someone.else@nhs.net']),
      (error: unknown) =>
        isAppError(error) &&
        error.userMessage === 'someone.else@nhs.net is not an account in NTR-100007: messages go only to the accounts of the request. Nothing was sent.',
    );
  });
});

describe('the affected users’ messages: measured timescales', () => {
  const at = (iso: string) => new Date(iso);
  // Tuesday 1 Dec 2026 to: Thu 3 (1), Fri 4 (2), Tue 8 (4), Fri 11 (7), Tue 15 (9) working days.
  const samples = (ends: string[]): TimescaleSample[] => ends.map((end) => ({ from: at('2026-12-01T10:00:00Z'), to: at(end) }));

  const CASES: Array<{ name: string; ends: string[]; median?: number; p90?: number; says: RegExp }> = [
    { name: 'too little history', ends: ['2026-12-03T10:00:00Z'], says: /^UNKNOWN$/ },
    {
      name: 'five requests',
      ends: ['2026-12-03T10:00:00Z', '2026-12-04T10:00:00Z', '2026-12-08T10:00:00Z', '2026-12-11T10:00:00Z', '2026-12-15T10:00:00Z'],
      median: 4,
      p90: 9,
      says: /^within 4 to 9 working days of the request$/,
    },
    {
      name: 'all alike',
      ends: Array<string>(6).fill('2026-12-04T10:00:00Z'),
      median: 2,
      p90: 2,
      says: /^within about 2 working days of the request$/,
    },
    {
      name: 'over Christmas the bank holidays are not counted',
      ends: Array<string>(5).fill('2026-12-31T10:00:00Z'),
      median: 19,
      p90: 19,
      says: /about 19 working days/,
    },
  ];
  for (const testCase of CASES) {
    it(testCase.name, () => {
      const timescale = measureTimescale(samples(testCase.ends), holidays);
      if (testCase.median === undefined) assert.equal(timescale.known, false);
      else assert.deepEqual(timescale, { known: true, medianDays: testCase.median, p90Days: testCase.p90, samples: testCase.ends.length });
      assert.match(describeTimescale(timescale, 'UNKNOWN'), testCase.says);
    });
  }

  it('needs at least the minimum number of samples', () => {
    assert.equal(measureTimescale(samples(Array<string>(MIN_TIMESCALE_SAMPLES - 1).fill('2026-12-04T10:00:00Z')), holidays).known, false);
  });

  it('takes percentiles by nearest rank', () => {
    assert.equal(nearestRank([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 50), 5);
    assert.equal(nearestRank([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 90), 9);
    assert.equal(nearestRank([4], 90), 4);
  });
});

describe('the leaver warning (consideration 3), until every approved account is confirmed moved', () => {
  const CASES: Array<{ name: string; request: () => ReturnType<typeof storedRequest>; warns: boolean }> = [
    { name: 'submitted, awaiting a decision', request: () => storedRequest([storedAccount(1, 'a@nhs.net')]), warns: true },
    { name: 'only screened-out accounts', request: () => storedRequest([storedAccount(1, 'a@nhs.net', { reasons: [NO_MOBILE] })]), warns: false },
    {
      name: 'approved, not yet seen moved',
      request: () => storedRequest([storedAccount(1, 'a@nhs.net', { decision: 'approved' })], { status: 'decided' }),
      warns: true,
    },
    {
      name: 'approved and confirmed moved',
      request: () => storedRequest([{ ...storedAccount(1, 'a@nhs.net', { decision: 'approved' }), transferConfirmedAt: new Date() }], { status: 'decided' }),
      warns: false,
    },
    { name: 'completed', request: () => storedRequest([storedAccount(1, 'a@nhs.net', { decision: 'approved' })], { status: 'completed' }), warns: false },
    { name: 'rejected', request: () => storedRequest([storedAccount(1, 'a@nhs.net', { decision: 'rejected' })], { status: 'decided' }), warns: false },
  ];
  for (const testCase of CASES) {
    it(`${testCase.name}: ${testCase.warns ? 'warns' : 'says nothing'}`, () => {
      const words = leaverReminder(testCase.request());
      if (testCase.warns) assert.match(words, /as a leaver: a leaver’s account is deleted/);
      else assert.equal(words, '');
    });
  }

  it('the screening results say it for the accounts about to be submitted, and not when none can be', () => {
    const result = (verdict: 'eligible' | 'ineligible') => ({
      policyVersion: 'x',
      accounts: [{ position: 1, email: 'a@nhs.net', verdict, reasons: verdict === 'eligible' ? [] : [NO_MOBILE], evidence: { directoryFound: true } }],
    });
    assert.match(JSON.stringify(renderScreeningResultsCard('Northmoor', result('eligible')).card), /do not mark any of them as a leaver/);
    assert.doesNotMatch(JSON.stringify(renderScreeningResultsCard('Northmoor', result('ineligible')).card), /leaver/);
  });
});
