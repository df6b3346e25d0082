import assert from 'node:assert/strict';
import path from 'node:path';
import { evidenceLine } from '../../cards/account-rows';
import { screenAccounts } from '../../services/eligibility/engine';
import { loadPolicy, type Policy } from '../../services/eligibility/policy';
import type { AccountFacts, DsptEntry, OdsSite, RuleId, SiteFacts, Verdict } from '../../services/eligibility/types';
import { splitDsptStatus } from '../../services/reference/registers';

/** The DSPT rule's outcomes and what each tells the requester to do next (issue 21 §3), and the export's Primary Sector (issue 22). */
const TODAY = '2026-11-29'; // the current DSPT year needed is 25/26
const POLICY_FILE = path.join(__dirname, '..', '..', 'policy', 'nas-transfer-policy.json');

const entry = (status: string, published?: string, primarySector?: string): DsptEntry => ({
  odsCode: 'ZZ9101',
  status,
  ...splitDsptStatus(status),
  ...(published ? { published } : {}),
  ...(primarySector ? { primarySector } : {}),
});

function account(dspt: SiteFacts['dspt'], roleIds: string[] = ['RO182'], site: Partial<SiteFacts> = {}): AccountFacts {
  const ods: OdsSite = { odsCode: 'ZZ9101', name: 'HARBOUR LANE', active: true, roleIds, links: [] };
  return {
    position: 1,
    email: 'jo.bloggs@nhsmail.example',
    directory: {
      id: 'id-1',
      userPrincipalName: 'jo.bloggs@nhsmail.example',
      displayName: 'Jo Bloggs',
      givenName: 'Jo',
      surname: 'Bloggs',
      accountEnabled: true,
      mobilePhone: '07400 123456',
      jobTitle: 'Pharmacist',
      department: 'Dispensary',
      otherMails: [],
      proxyAddresses: [],
      organisationOds: 'ZZ9001',
      siteOds: 'ZZ9101',
      markedAsLeaver: false,
    },
    site: {
      odsCode: 'ZZ9101',
      source: 'directory',
      ods,
      parents: [],
      dspt,
      nasSite: { odsCode: 'ZZ9101', allowedAccounts: 10, nasAccounts: 0 },
      accountsInOtherRequests: 0,
      ...site,
    },
  };
}

interface Case {
  name: string;
  account: AccountFacts;
  verdict: Verdict;
  rules: RuleId[];
  message?: RegExp;
  notInMessage?: RegExp;
  nextStep?: RegExp;
  notNextStep?: RegExp;
  maxAge?: number;
}

const CASES: Case[] = [
  {
    name: 'not in the register: register and publish',
    account: account(null),
    verdict: 'ineligible',
    rules: ['SITE_NOT_DSPT_COMPLIANT'],
    message: /not in the DSPT register/,
    nextStep: /^Register the site on the Data Security and Protection Toolkit \(DSPT\) and publish its 25\/26 assessment at Standards Met or above\.$/,
  },
  {
    name: 'Not Published: publish',
    account: account(entry('Not Published')),
    verdict: 'ineligible',
    rules: ['SITE_NOT_DSPT_COMPLIANT'],
    message: /^Site ZZ9101 DSPT status is “Not Published”: it has no current DSPT publication\.$/,
    nextStep: /^Publish the site’s Data Security and Protection Toolkit \(DSPT\) assessment for 25\/26, at Standards Met or above\.$/,
  },
  {
    name: 'Not Published with a date (as a real export has): not "published" that day',
    account: account(entry('Not Published', '2022-03-31')),
    verdict: 'ineligible',
    rules: ['SITE_NOT_DSPT_COMPLIANT'],
    notInMessage: /published 31 Mar 2022/,
    nextStep: /^Publish the site’s/,
  },
  {
    name: 'out of date (23/24, which stopped counting on 30 Jun 2025): publish this year’s',
    account: account(entry('23/24 Standards Met', '2024-06-28')),
    verdict: 'ineligible',
    rules: ['SITE_NOT_DSPT_COMPLIANT'],
    message: /last published its DSPT for 23\/24/,
    nextStep: /^Publish this year’s Data Security and Protection Toolkit \(DSPT\) assessment \(25\/26\) for the site: its last one no longer counts\.$/,
  },
  {
    name: 'Standards Not Met: it has published; meet the standards (an improvement plan), not "publish"',
    account: account(entry('25/26 Standards Not Met', '2026-06-30')),
    verdict: 'ineligible',
    rules: ['SITE_NOT_DSPT_COMPLIANT'],
    message: /“25\/26 Standards Not Met”, published 30 Jun 2026: it published, but did not meet the DSPT standards\./,
    nextStep: /^Meet the DSPT standards for the site: .*improvement plan/,
    notNextStep: /^Publish/,
  },
  {
    name: 'Approaching Standards at a pharmacy: NAS will judge; the improvement plan helps',
    account: account(entry('25/26 Approaching Standards', '2026-06-29')),
    verdict: 'review',
    rules: ['SITE_NOT_DSPT_COMPLIANT'],
    nextStep: /^Nothing to publish for now: NAS Operations will judge whether Approaching Standards is enough for this site\. The site’s DSPT improvement plan/,
    notNextStep: /^Publish/,
  },
  {
    name: 'Approaching Standards at a care home (ODS role): accepted',
    account: account(entry('25/26 Approaching Standards', '2026-06-29'), ['RO269']),
    verdict: 'eligible',
    rules: [],
  },
  {
    name: 'Plan Agreed: NAS will judge, with the plan',
    account: account(entry('Standards Not Fully Met (Plan Agreed)', '2026-06-29')),
    verdict: 'review',
    rules: ['SITE_NOT_DSPT_COMPLIANT'],
    nextStep: /agreed DSPT improvement plan/,
  },
  {
    name: 'a status the policy does not know: NAS will check',
    account: account(entry('25/26 Something New', '2026-06-29')),
    verdict: 'review',
    rules: ['SITE_NOT_DSPT_COMPLIANT'],
    nextStep: /they will check the site’s DSPT status/,
  },
  {
    name: 'a register of unknown date (renamed, no database) with DSPT_MAX_AGE_DAYS set: review, never a pass',
    account: account(entry('25/26 Standards Met', '2026-06-28'), ['RO182'], { dsptRegister: { file: 'renamed.csv', rows: 10 } }),
    maxAge: 14,
    verdict: 'review',
    rules: ['SITE_NOT_DSPT_COMPLIANT'],
    message: /the DSPT register's date is not known \(renamed\.csv/,
    nextStep: /^Nothing for the requester to do: NAS Operations will check the current DSPT status\.$/,
  },
  {
    name: 'the site’s row in the register could not be read (issue 20): NAS will check, never "not in the register"',
    account: account({ unreadable: true, ownRow: true, lines: [7] }, ['RO182'], { dsptRegister: { file: 'dspt.csv', rows: 10 } }),
    verdict: 'review',
    rules: ['SITE_NOT_DSPT_COMPLIANT'],
    message: /^The DSPT status could not be checked: site ZZ9101's row in the DSPT register \(dspt\.csv, line 7\) could not be read\.$/,
    notInMessage: /not in the DSPT register/,
    nextStep: /^Nothing for the requester to do: NAS Operations will check the site’s DSPT status, and have the DSPT register file corrected\.$/,
  },
  {
    name: 'not among the rows read while rows without a readable code may be its own: NAS will check, never "not in the register"',
    account: account({ unreadable: true, ownRow: false, lines: [4, 9] }, ['RO182'], { dsptRegister: { file: 'dspt.csv', rows: 10 } }),
    verdict: 'review',
    rules: ['SITE_NOT_DSPT_COMPLIANT'],
    message:
      /site ZZ9101 is not among the rows of the DSPT register that could be read, and rows whose ODS code could not be read \(dspt\.csv, lines 4, 9\) may be its own/,
  },
  {
    name: 'Primary Sector where ODS gives none: Approaching Standards at a "Social Care" site is accepted',
    account: account(entry('25/26 Approaching Standards', '2026-06-29', 'Social Care'), []),
    verdict: 'eligible',
    rules: [],
  },
  {
    name: 'Primary Sector where ODS gives none: an "NHS Trust" is a sector NAS does not support',
    account: account(entry('25/26 Standards Met', '2026-06-29', 'NHS Trust'), []),
    verdict: 'ineligible',
    rules: ['UNSUPPORTED_SPECIALISM'],
    message: /ODS gives site ZZ9101 no sector, and the DSPT register gives its primary sector as “NHS Trust” \(NHS trust\), a sector NAS does not support/,
  },
  {
    name: 'ODS decides over the Primary Sector: a pharmacy registered as "Social Care" on the DSPT is still a pharmacy',
    account: account(entry('25/26 Approaching Standards', '2026-06-29', 'Social Care'), ['RO182']),
    verdict: 'review',
    rules: ['SITE_NOT_DSPT_COMPLIANT'],
    message: /for a pharmacy site NAS Operations will judge it/,
  },
  {
    name: 'a Primary Sector the policy does not map is not used',
    account: account(entry('25/26 Approaching Standards', '2026-06-29', 'Some Other Sector'), []),
    verdict: 'review',
    rules: ['UNSUPPORTED_SPECIALISM', 'SITE_NOT_DSPT_COMPLIANT'],
  },
];

describe('DSPT outcomes: each with its own true next step, and the export’s Primary Sector', () => {
  let policy: Policy;
  before(async () => {
    policy = await loadPolicy(POLICY_FILE);
  });

  for (const testCase of CASES) {
    it(testCase.name, () => {
      const context = { requestingOrgOds: 'ZZ9001', today: TODAY, policy, ...(testCase.maxAge ? { dsptMaxAgeDays: testCase.maxAge } : {}) };
      const [result] = screenAccounts([testCase.account], context).accounts;
      assert.deepEqual(
        result?.reasons.map((reason) => reason.rule),
        testCase.rules,
      );
      assert.equal(result?.verdict, testCase.verdict);
      const first = result.reasons[0];
      if (testCase.message) assert.match(first?.message ?? '', testCase.message);
      if (testCase.notInMessage) assert.doesNotMatch(first?.message ?? '', testCase.notInMessage);
      if (testCase.nextStep) assert.match(first?.remedy ?? '', testCase.nextStep);
      if (testCase.notNextStep) assert.doesNotMatch(first?.remedy ?? '', testCase.notNextStep);
    });
  }

  it('no two DSPT outcomes a requester can act on share a next step', () => {
    const steps = CASES.filter((testCase) => testCase.nextStep && testCase.rules[0] === 'SITE_NOT_DSPT_COMPLIANT').map(
      (testCase) =>
        screenAccounts([testCase.account], {
          requestingOrgOds: 'ZZ9001',
          today: TODAY,
          policy,
          ...(testCase.maxAge ? { dsptMaxAgeDays: testCase.maxAge } : {}),
        }).accounts[0]!.reasons[0]!.remedy,
    );
    const distinct = new Set(steps);
    // "Not Published" appears twice (with and without a date): the same outcome, the same step.
    assert.equal(distinct.size, steps.length - 1);
  });

  it('the evidence and the ops card show the Primary Sector, where the sector came from, and the register’s age and dating', () => {
    const facts = account(entry('25/26 Approaching Standards', '2026-06-29', 'Social Care'), [], {
      dsptRegister: {
        file: 'DSPT search results 01_11_2026 09_00_00.csv',
        fileDate: '2026-11-01T09:00:00.000Z',
        dateSource: 'export-name',
        rows: 12,
        ageDays: 28,
      },
    });
    const [result] = screenAccounts([facts], { requestingOrgOds: 'ZZ9001', today: TODAY, policy }).accounts;
    assert.equal(result?.evidence.dsptPrimarySector, 'Social Care');
    assert.equal(result?.evidence.sectorSource, 'dspt-sector');
    assert.equal(result?.evidence.dsptRegisterAgeDays, 28);
    const line = evidenceLine(result!.evidence, 'ops');
    assert.match(line, /Sector: Social care \(from the DSPT register\)/);
    assert.match(line, /DSPT: 25\/26 Approaching Standards \(29 Jun 2026\), DSPT sector Social Care/);
    assert.match(line, /DSPT register DSPT search results 01\\?_11\\?_2026 09\\?_00\\?_00\.csv of 1 Nov 2026 09:00 \(by its export name, 28 days old\)/);
  });

  it('the card never shows a "Not Published" row’s date as its publication', () => {
    const [result] = screenAccounts([account(entry('Not Published', '2022-03-31'))], { requestingOrgOds: 'ZZ9001', today: TODAY, policy }).accounts;
    const line = evidenceLine(result!.evidence, 'requester');
    assert.match(line, /DSPT: Not Published/);
    assert.doesNotMatch(line, /31 Mar 2022/);
  });
});
