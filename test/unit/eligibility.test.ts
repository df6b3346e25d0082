import assert from 'node:assert/strict';
import path from 'node:path';
import { screenAccounts } from '../../services/eligibility/engine';
import { loadPolicy, type Policy } from '../../services/eligibility/policy';
import type { AccountFacts, DirectoryAccount, RuleId, Verdict } from '../../services/eligibility/types';
import { isValidUkMobile } from '../../services/eligibility/uk-mobile';

const ORG = 'ZZ9001';

function person(overrides: Partial<DirectoryAccount> = {}): DirectoryAccount {
  return {
    id: 'id-1',
    userPrincipalName: 'jo.bloggs@nhsmail.example',
    displayName: 'Jo Bloggs',
    givenName: 'Jo',
    surname: 'Bloggs',
    accountEnabled: true,
    mobilePhone: '07700 900001',
    organisationOds: ORG,
    siteOds: 'ZZ9101',
    markedAsLeaver: false,
    ...overrides,
  };
}

function facts(overrides: Partial<AccountFacts> = {}, directory: Partial<DirectoryAccount> | null = {}): AccountFacts {
  return {
    position: 1,
    email: 'jo.bloggs@nhsmail.example',
    directory: directory === null ? null : person(directory),
    site: {
      odsCode: 'ZZ9101',
      source: 'directory',
      ods: { odsCode: 'ZZ9101', name: 'HARBOUR LANE PHARMACY', active: true, roleIds: ['RO182'] },
      dspt: { odsCode: 'ZZ9101', status: 'Standards Met' },
      nasSite: { odsCode: 'ZZ9101', allowedAccounts: 10, nasAccounts: 0 },
    },
    ...overrides,
  };
}

const site = (changes: Partial<NonNullable<AccountFacts['site']>>) => ({ ...facts().site!, ...changes });

interface RuleCase {
  name: string;
  account: AccountFacts;
  verdict: Verdict;
  rules: RuleId[];
}

/** Each rule with an account it lets through and one it stops. */
const CASES: RuleCase[] = [
  { name: 'a complete, in-policy account is eligible', account: facts(), verdict: 'eligible', rules: [] },
  { name: 'ACCOUNT_NOT_FOUND: not in the directory', account: facts({}, null), verdict: 'ineligible', rules: ['ACCOUNT_NOT_FOUND'] },
  { name: 'ALREADY_REQUESTED: in another open request', account: facts({ openRequestReference: 'NTR-100007' }), verdict: 'ineligible', rules: ['ALREADY_REQUESTED'] },
  { name: 'NOT_IN_REQUESTING_ORG: administered elsewhere', account: facts({}, { organisationOds: 'ZZ9002' }), verdict: 'ineligible', rules: ['NOT_IN_REQUESTING_ORG'] },
  { name: 'NOT_IN_REQUESTING_ORG: organisation compared without case', account: facts({}, { organisationOds: 'zz9001' }), verdict: 'eligible', rules: [] },
  { name: 'NOT_IN_REQUESTING_ORG: no organisation recorded', account: facts({}, { organisationOds: undefined }), verdict: 'ineligible', rules: ['NOT_IN_REQUESTING_ORG'] },
  { name: 'ACCOUNT_DISABLED', account: facts({}, { accountEnabled: false }), verdict: 'ineligible', rules: ['ACCOUNT_DISABLED'] },
  { name: 'MARKED_AS_LEAVER', account: facts({}, { markedAsLeaver: true }), verdict: 'ineligible', rules: ['MARKED_AS_LEAVER'] },
  {
    name: 'GENERIC_ACCOUNT strong: role address with no person’s name',
    account: facts({ email: 'reception.harbourlane@nhsmail.example' }, { givenName: undefined, surname: undefined, displayName: 'Harbour Lane Reception' }),
    verdict: 'ineligible',
    rules: ['GENERIC_ACCOUNT'],
  },
  { name: 'GENERIC_ACCOUNT weak: a surname is missing', account: facts({}, { surname: undefined }), verdict: 'review', rules: ['GENERIC_ACCOUNT'] },
  { name: 'GENERIC_ACCOUNT: a person whose name merely contains a keyword is not generic', account: facts({ email: 'teamworth.jo@nhsmail.example' }), verdict: 'eligible', rules: [] },
  {
    name: 'UNSUPPORTED_SPECIALISM: an NHS trust site',
    account: facts({ site: site({ ods: { odsCode: 'ZZ9105', name: 'HOSPITAL', active: true, roleIds: ['RO198'] } }) }),
    verdict: 'ineligible',
    rules: ['UNSUPPORTED_SPECIALISM'],
  },
  {
    name: 'UNSUPPORTED_SPECIALISM: a declared supported specialism overrides an unmapped ODS role',
    account: facts({ declaredSpecialism: 'Optician', site: site({ ods: { odsCode: 'ZZ9109', name: 'HUB', active: true, roleIds: ['RO300'] } }) }),
    verdict: 'eligible',
    rules: [],
  },
  {
    name: 'UNSUPPORTED_SPECIALISM: sector unknown is for review',
    account: facts({ site: site({ ods: { odsCode: 'ZZ9109', name: 'HUB', active: true, roleIds: ['RO300'] } }) }),
    verdict: 'review',
    rules: ['UNSUPPORTED_SPECIALISM'],
  },
  {
    name: 'SITE_CLOSED: inactive in ODS',
    account: facts({ site: site({ ods: { odsCode: 'ZZ9106', name: 'OLD MILL', active: false, roleIds: ['RO182'] } }) }),
    verdict: 'ineligible',
    rules: ['SITE_CLOSED'],
  },
  { name: 'SITE_NOT_DSPT_COMPLIANT: Standards Not Met', account: facts({ site: site({ dspt: { odsCode: 'ZZ9101', status: 'Standards Not Met' } }) }), verdict: 'ineligible', rules: ['SITE_NOT_DSPT_COMPLIANT'] },
  { name: 'SITE_NOT_DSPT_COMPLIANT: not in the register', account: facts({ site: site({ dspt: null }) }), verdict: 'ineligible', rules: ['SITE_NOT_DSPT_COMPLIANT'] },
  { name: 'SITE_NOT_DSPT_COMPLIANT: Approaching Standards is for review', account: facts({ site: site({ dspt: { odsCode: 'ZZ9101', status: 'Approaching Standards' } }) }), verdict: 'review', rules: ['SITE_NOT_DSPT_COMPLIANT'] },
  { name: 'SITE_NOT_DSPT_COMPLIANT: Standards Exceeded passes', account: facts({ site: site({ dspt: { odsCode: 'ZZ9101', status: 'Standards Exceeded' } }) }), verdict: 'eligible', rules: [] },
  { name: 'NO_UK_MOBILE: none registered', account: facts({}, { mobilePhone: undefined }), verdict: 'ineligible', rules: ['NO_UK_MOBILE'] },
  { name: 'NO_UK_MOBILE: a French mobile', account: facts({}, { mobilePhone: '+33 6 12 34 56 78' }), verdict: 'ineligible', rules: ['NO_UK_MOBILE'] },
  { name: 'NO_UK_MOBILE: +44 format passes', account: facts({}, { mobilePhone: '+44 (0)7700-900001'.replace('(0)', '') }), verdict: 'eligible', rules: [] },
];

describe('eligibility engine', () => {
  let policy: Policy;
  before(async () => {
    policy = await loadPolicy(path.join(__dirname, '..', '..', 'policy', 'nas-transfer-policy.json'));
  });

  for (const testCase of CASES) {
    it(testCase.name, () => {
      const [result] = screenAccounts([testCase.account], { requestingOrgOds: ORG, policy }).accounts;
      assert.deepEqual(result?.reasons.map((reason) => reason.rule), testCase.rules);
      assert.equal(result?.verdict, testCase.verdict);
      for (const reason of result?.reasons ?? []) {
        assert.ok(reason.message.length > 0 && reason.remedy.length > 0, `${reason.rule} has a message and a remedy`);
      }
    });
  }

  it('DUPLICATE_IN_REQUEST: the second listing of an address, in any case, is ineligible and the first is not', () => {
    const result = screenAccounts([facts({ position: 1 }), facts({ position: 2, email: 'JO.Bloggs@nhsmail.example' })], { requestingOrgOds: ORG, policy });
    assert.deepEqual(result.accounts.map((account) => [account.verdict, account.reasons.map((reason) => reason.rule)]), [
      ['eligible', []],
      ['ineligible', ['DUPLICATE_IN_REQUEST']],
    ]);
    assert.match(result.accounts[1]!.reasons[0]!.message, /line 1/);
  });

  it('SITE_ALLOWANCE_EXCEEDED: accounts beyond what is left at the site, in request order; ineligible ones use no place', () => {
    const limited = site({ nasSite: { odsCode: 'ZZ9108', allowedAccounts: 3, nasAccounts: 1 }, odsCode: 'ZZ9108' });
    const accounts = [
      facts({ position: 1, email: 'a@nhsmail.example', site: limited }),
      facts({ position: 2, email: 'b@nhsmail.example', site: limited }, { markedAsLeaver: true }),
      facts({ position: 3, email: 'c@nhsmail.example', site: limited }),
      facts({ position: 4, email: 'd@nhsmail.example', site: limited }),
    ];
    const result = screenAccounts(accounts, { requestingOrgOds: ORG, policy });
    assert.deepEqual(result.accounts.map((account) => account.reasons.map((reason) => reason.rule)), [[], ['MARKED_AS_LEAVER'], [], ['SITE_ALLOWANCE_EXCEEDED']]);
  });

  it('records the policy version and the evidence each verdict used, without the mobile number', () => {
    const result = screenAccounts([facts()], { requestingOrgOds: ORG, policy });
    assert.equal(result.policyVersion, policy.version);
    const evidence = result.accounts[0]!.evidence;
    assert.deepEqual(evidence, {
      directoryFound: true,
      organisationOds: ORG,
      siteOds: 'ZZ9101',
      siteSource: 'directory',
      siteActive: true,
      sector: 'pharmacy',
      sectorSource: 'ods-role',
      dsptStatus: 'Standards Met',
      ukMobileOnRecord: true,
      openRequestReference: undefined,
    });
    assert.doesNotMatch(JSON.stringify(result), /07700/);
  });

  it('lists every reason that applies, not only the first', () => {
    const [result] = screenAccounts([facts({}, { markedAsLeaver: true, mobilePhone: undefined, accountEnabled: false })], { requestingOrgOds: ORG, policy }).accounts;
    assert.deepEqual(result?.reasons.map((reason) => reason.rule), ['ACCOUNT_DISABLED', 'MARKED_AS_LEAVER', 'NO_UK_MOBILE']);
  });
});

describe('UK mobile numbers', () => {
  const valid = ['07700900001', '07700 900 001', '+447700900001', '+44 7700 900001', '0044 7700 900001', '07700-900-001'];
  const invalid = ['', '01632 960001', '+33612345678', '0770090000', '077009000011', '+44 20 7946 0001', 'call me'];
  for (const number of valid) it(`accepts ${number}`, () => assert.equal(isValidUkMobile(number), true));
  for (const number of invalid) it(`rejects "${number}"`, () => assert.equal(isValidUkMobile(number), false));
});
