import assert from 'node:assert/strict';
import path from 'node:path';
import { loadSandboxDirectory, startSandboxGraph, type SandboxGraph } from '../../dev/sandbox/graph-server';
import { startSandboxOds, type SandboxOdsServer } from '../../dev/sandbox/ods-server';
import { loadSandboxOds } from '../../dev/sandbox/ord-server';
import { createGraphClient } from '../../services/directory/graph-client';
import { GraphDirectory } from '../../services/directory/graph-directory';
import { screenAccounts } from '../../services/eligibility/engine';
import { OdsFhirClient } from '../../services/reference/ods-fhir-client';
import { loadDsptRegister, loadNasSitesRegister, splitDsptStatus } from '../../services/reference/registers';
import { ScreeningService } from '../../services/screening';
import { loadPolicy, type Policy } from '../../services/eligibility/policy';
import {
  RULE_IDS,
  type AccountFacts,
  type DirectoryAccount,
  type DsptEntry,
  type OdsSite,
  type RuleId,
  type SiteFacts,
  type Verdict,
} from '../../services/eligibility/types';

const ORG = 'ZZ9001';
/** Screening happens on a fixed day: DSPT years are current or lapsed relative to it. */
const TODAY = '2026-11-29';
const POLICY_FILE = path.join(__dirname, '..', '..', 'policy', 'nas-transfer-policy.json');

function person(overrides: Partial<DirectoryAccount> = {}): DirectoryAccount {
  return {
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
    proxyAddresses: ['SMTP:jo.bloggs@nhsmail.example'],
    organisationOds: ORG,
    siteOds: 'ZZ9101',
    markedAsLeaver: false,
    ...overrides,
  };
}

/** A DSPT register row as the export gives it: the status with its year, the date of publication. */
const dspt = (status: string, published?: string, code = 'ZZ9101'): DsptEntry => ({
  odsCode: code,
  status,
  ...splitDsptStatus(status),
  ...(published ? { published } : {}),
});

const ods = (changes: Partial<OdsSite> = {}): OdsSite => ({
  odsCode: 'ZZ9101',
  name: 'HARBOUR LANE PHARMACY',
  active: true,
  roleIds: ['RO182'],
  links: [],
  ...changes,
});

function facts(overrides: Partial<AccountFacts> = {}, directory: Partial<DirectoryAccount> | null = {}): AccountFacts {
  return {
    position: 1,
    email: 'jo.bloggs@nhsmail.example',
    directory: directory === null ? null : person(directory),
    site: {
      odsCode: 'ZZ9101',
      source: 'directory',
      ods: ods(),
      parents: [],
      dspt: dspt('25/26 Standards Met', '2026-06-28'),
      nasSite: { odsCode: 'ZZ9101', allowedAccounts: 10, nasAccounts: 0 },
      accountsInOtherRequests: 0,
    },
    ...overrides,
  };
}

const site = (changes: Partial<SiteFacts>): SiteFacts => ({ ...facts().site!, ...changes });
const onDspt = (entry: DsptEntry) => facts({ site: site({ dspt: entry }) });
const onSite = (odsChanges: Partial<OdsSite>, extra: Partial<AccountFacts> = {}, directory: Partial<DirectoryAccount> = {}) =>
  facts({ site: site({ ods: ods(odsChanges) }), ...extra }, directory);

interface RuleCase {
  name: string;
  account: AccountFacts;
  /** Screening day, when not TODAY. */
  today?: string;
  /** DSPT_MAX_AGE_DAYS, when set. */
  maxAge?: number;
  verdict: Verdict;
  rules: RuleId[];
  /** A phrase the first reason's message must contain. */
  says?: RegExp;
}

const specsaversHq = ods({ odsCode: 'ZZ9201', name: 'SPECSAVERS OPTICIANS LIMITED', roleIds: ['RO166'] });
const independentHq = ods({ odsCode: 'ZZ9202', name: 'FELLSIDE EYE CARE LIMITED', roleIds: ['RO166'] });
const opticalSite = (parent: OdsSite, name = 'HARBOURSIDE OPTICIANS') =>
  facts({
    site: site({
      ods: ods({ name, roleIds: ['RO167'], links: [{ relationship: 'RE6', targetOds: parent.odsCode, targetPrimaryRoleId: 'RO166' }] }),
      parents: [parent],
    }),
  });

/** Each rule with accounts it lets through and accounts it stops, boundaries included. */
const CASES: RuleCase[] = [
  { name: 'a complete, in-policy account is eligible', account: facts(), verdict: 'eligible', rules: [] },
  { name: 'ACCOUNT_NOT_FOUND: not in the directory', account: facts({}, null), verdict: 'ineligible', rules: ['ACCOUNT_NOT_FOUND'] },
  // ALREADY_REQUESTED tells waiting from done.
  {
    name: 'ALREADY_REQUESTED: in another open request',
    account: facts({ priorRequest: { reference: 'NTR-100007', state: 'open' } }),
    verdict: 'ineligible',
    rules: ['ALREADY_REQUESTED'],
    says: /waiting for a decision/,
  },
  {
    name: 'ALREADY_REQUESTED: already approved in another request',
    account: facts({ priorRequest: { reference: 'NTR-100003', state: 'approved' } }),
    verdict: 'ineligible',
    rules: ['ALREADY_REQUESTED'],
    says: /Already approved for transfer to NAS in request NTR-100003/,
  },
  {
    name: 'NOT_IN_REQUESTING_ORG: administered elsewhere',
    account: facts({}, { organisationOds: 'ZZ9002' }),
    verdict: 'ineligible',
    rules: ['NOT_IN_REQUESTING_ORG'],
    says: /^Administered by ZZ9002, not by ZZ9001\.$/,
  },
  {
    name: 'NOT_IN_REQUESTING_ORG: names both organisations when ODS gave their names',
    account: facts({ administeringOrganisationName: 'EASTFOLD HEALTH ALLIANCE' }, { organisationOds: 'zz9002' }),
    verdict: 'ineligible',
    rules: ['NOT_IN_REQUESTING_ORG'],
    says: /^Administered by EASTFOLD HEALTH ALLIANCE \(ZZ9002\), not by ZZ9001\.$/,
  },
  { name: 'NOT_IN_REQUESTING_ORG: organisation compared without case', account: facts({}, { organisationOds: 'zz9001' }), verdict: 'eligible', rules: [] },
  {
    name: 'NOT_IN_REQUESTING_ORG: no organisation recorded',
    account: facts({}, { organisationOds: undefined }),
    verdict: 'ineligible',
    rules: ['NOT_IN_REQUESTING_ORG'],
  },
  { name: 'ACCOUNT_DISABLED', account: facts({}, { accountEnabled: false }), verdict: 'ineligible', rules: ['ACCOUNT_DISABLED'] },
  { name: 'MARKED_AS_LEAVER', account: facts({}, { markedAsLeaver: true }), verdict: 'ineligible', rules: ['MARKED_AS_LEAVER'] },
  {
    name: 'GENERIC_ACCOUNT strong: role address with no person’s name',
    account: facts({ email: 'reception.harbourlane@nhsmail.example' }, { givenName: undefined, surname: undefined, displayName: 'Harbour Lane Reception' }),
    verdict: 'ineligible',
    rules: ['GENERIC_ACCOUNT'],
  },
  { name: 'GENERIC_ACCOUNT weak: a surname is missing', account: facts({}, { surname: undefined }), verdict: 'review', rules: ['GENERIC_ACCOUNT'] },
  {
    name: 'GENERIC_ACCOUNT: a person whose name merely contains a keyword is not generic',
    account: facts({ email: 'teamworth.jo@nhsmail.example' }),
    verdict: 'eligible',
    rules: [],
  },
  // Sector: ODS first, on the real ORD role codes.
  {
    name: 'UNSUPPORTED_SPECIALISM: an NHS trust site (RO198)',
    account: onSite({ roleIds: ['RO198'] }),
    verdict: 'ineligible',
    rules: ['UNSUPPORTED_SPECIALISM'],
    says: /NHS TRUST SITE/,
  },
  {
    name: 'sector: a care home (RO101 SOCIAL CARE SITE + RO269 CARE HOME) is social care',
    account: onSite({ roleIds: ['RO101', 'RO269'] }),
    verdict: 'eligible',
    rules: [],
  },
  { name: 'sector: domiciliary care (RO270) is social care', account: onSite({ roleIds: ['RO101', 'RO270'] }), verdict: 'eligible', rules: [] },
  { name: 'sector: an optical site (RO167) is optometry', account: onSite({ roleIds: ['RO167'] }), verdict: 'eligible', rules: [] },
  { name: 'sector: an appliance contractor (RO94) is a DAC', account: onSite({ roleIds: ['RO94'] }), verdict: 'eligible', rules: [] },
  { name: 'sector: a private dental practice (RO65) is dentistry', account: onSite({ roleIds: ['RO65'] }), verdict: 'eligible', rules: [] },
  {
    name: 'sector: RO266 EXTENDED ACCESS PROVIDER is not optometry',
    account: onSite({ roleIds: ['RO266'] }),
    verdict: 'review',
    rules: ['UNSUPPORTED_SPECIALISM'],
  },
  {
    name: 'sector: a GP practice (primary RO177 PRESCRIBING COST CENTRE, non-primary RO76) is a GP practice',
    account: onSite({ roleIds: ['RO177', 'RO76'] }),
    verdict: 'ineligible',
    rules: ['UNSUPPORTED_SPECIALISM'],
    says: /GP PRACTICE/,
  },
  { name: 'sector: RO177 alone says nothing about the sector', account: onSite({ roleIds: ['RO177'] }), verdict: 'review', rules: ['UNSUPPORTED_SPECIALISM'] },
  {
    name: 'specialism: a declared specialism is used only when ODS gives no sector',
    account: onSite({ roleIds: ['RO172'] }, { declaredSpecialism: 'Optician' }),
    verdict: 'eligible',
    rules: [],
  },
  {
    name: 'specialism: declared contradicts the site’s ODS sector: review, both shown',
    account: onSite({ roleIds: ['RO182'] }, { declaredSpecialism: 'Optician' }),
    verdict: 'review',
    rules: ['UNSUPPORTED_SPECIALISM'],
    says: /declares “Optician” \(Optometry\), but ODS records site ZZ9101 as PHARMACY \(Pharmacy\)/,
  },
  {
    name: 'specialism: declared agrees with ODS, in any case',
    account: onSite({ roleIds: ['RO182'] }, { declaredSpecialism: 'COMMUNITY PHARMACY' }),
    verdict: 'eligible',
    rules: [],
  },
  {
    name: 'specialism: a supported declaration does not rescue an unsupported ODS sector',
    account: onSite({ roleIds: ['RO197'] }, { declaredSpecialism: 'pharmacy' }),
    verdict: 'ineligible',
    rules: ['UNSUPPORTED_SPECIALISM'],
    says: /NHS TRUST .*site's ODS record decides/,
  },
  {
    name: 'specialism: an unsupported declaration where ODS has no sector',
    account: onSite({ roleIds: ['RO172'] }, { declaredSpecialism: 'hospital' }),
    verdict: 'ineligible',
    rules: ['UNSUPPORTED_SPECIALISM'],
  },
  {
    name: 'specialism: an unrecognised declaration is for review',
    account: onSite({ roleIds: ['RO172'] }, { declaredSpecialism: 'eye stuff' }),
    verdict: 'review',
    rules: ['UNSUPPORTED_SPECIALISM'],
  },
  {
    name: 'specialism: sector unknown, with the remedy to add it on the line',
    account: onSite({ roleIds: ['RO172'] }),
    verdict: 'review',
    rules: ['UNSUPPORTED_SPECIALISM'],
  },
  {
    name: 'sector: a site whose only mapped role has ended (not in its active roles) has no ODS sector',
    account: onSite({ roleIds: ['RO172'] }),
    verdict: 'review',
    rules: ['UNSUPPORTED_SPECIALISM'],
  },
  // Optometry multiples.
  {
    name: 'OPTOMETRY_MULTIPLE: a FHIR affiliation (RE6, no target role) to a headquarters whose own roles include RO166',
    account: facts({ site: site({ ods: ods({ roleIds: ['RO167'], links: [{ relationship: 'RE6', targetOds: 'ZZ9201' }] }), parents: [specsaversHq] }) }),
    verdict: 'ineligible',
    rules: ['OPTOMETRY_MULTIPLE'],
    says: /Specsavers \(its optical headquarters is ZZ9201/,
  },
  {
    name: 'OPTOMETRY_MULTIPLE: an affiliation to a Specsavers-named organisation that is not an optical headquarters is not a multiple',
    account: facts({
      site: site({
        ods: ods({ roleIds: ['RO167'], name: 'HARBOURSIDE OPTICIANS', links: [{ relationship: 'RE6', targetOds: 'ZZ9201' }] }),
        parents: [{ ...specsaversHq, roleIds: ['RO172'] }],
      }),
    }),
    verdict: 'eligible',
    rules: [],
  },
  {
    name: 'OPTOMETRY_MULTIPLE: a relationship type other than RE6 does not make a headquarters',
    account: facts({
      site: site({
        ods: ods({ roleIds: ['RO167'], name: 'HARBOURSIDE OPTICIANS', links: [{ relationship: 'RE4', targetOds: 'ZZ9201' }] }),
        parents: [specsaversHq],
      }),
    }),
    verdict: 'eligible',
    rules: [],
  },
  {
    name: 'OPTOMETRY_MULTIPLE: optical headquarters (RO166 parent) is Specsavers',
    account: opticalSite(specsaversHq),
    verdict: 'ineligible',
    rules: ['OPTOMETRY_MULTIPLE'],
    says: /Specsavers \(its optical headquarters is ZZ9201/,
  },
  { name: 'OPTOMETRY_MULTIPLE: an independent optical headquarters passes', account: opticalSite(independentHq), verdict: 'eligible', rules: [] },
  {
    name: 'OPTOMETRY_MULTIPLE: an optical site named for a multiple, in any case',
    account: onSite({ name: 'Vision Express (UK) Ltd - Harbour Mall', roleIds: ['RO167'] }),
    verdict: 'ineligible',
    rules: ['OPTOMETRY_MULTIPLE'],
  },
  // Issue 20 §10: optical by DSPT or by the line's declaration (ODS giving no sector) is still checked.
  {
    name: 'OPTOMETRY_MULTIPLE: a site ODS gives no sector, optical by its DSPT primary sector, named for a multiple',
    account: facts({
      site: site({
        ods: ods({ name: 'SPECSAVERS HARBOUR MALL', roleIds: ['RO172'] }),
        dspt: { ...dspt('25/26 Standards Met', '2026-06-28'), primarySector: 'Optometry' },
      }),
    }),
    verdict: 'ineligible',
    rules: ['OPTOMETRY_MULTIPLE'],
    says: /belongs to Specsavers/,
  },
  {
    name: 'OPTOMETRY_MULTIPLE: a site ODS and DSPT give no sector, declared optometry on the line, named for a multiple',
    account: facts({ declaredSpecialism: 'optician', site: site({ ods: ods({ name: 'Vision Express Harbour Mall', roleIds: ['RO172'] }) }) }),
    verdict: 'ineligible',
    rules: ['OPTOMETRY_MULTIPLE'],
    says: /belongs to Vision Express/,
  },
  {
    name: 'OPTOMETRY_MULTIPLE: a Boots pharmacy is not an optometry multiple',
    account: onSite({ name: 'BOOTS THE CHEMIST', roleIds: ['RO182'] }),
    verdict: 'eligible',
    rules: [],
  },
  {
    name: 'OPTOMETRY_MULTIPLE: a name that merely contains a multiple’s name',
    account: onSite({ name: 'BOOTSTRAP EYE CARE', roleIds: ['RO167'] }),
    verdict: 'eligible',
    rules: [],
  },
  {
    name: 'SITE_CLOSED: inactive in ODS',
    account: onSite({ odsCode: 'ZZ9106', name: 'OLD MILL', active: false }),
    verdict: 'ineligible',
    rules: ['SITE_CLOSED'],
  },
  // DSPT, as the export publishes it: the status names its year.
  {
    name: 'SITE_NOT_DSPT_COMPLIANT: 25/26 Standards Not Met',
    account: onDspt(dspt('25/26 Standards Not Met', '2026-06-30')),
    verdict: 'ineligible',
    rules: ['SITE_NOT_DSPT_COMPLIANT'],
    says: /“25\/26 Standards Not Met”, published 30 Jun 2026/,
  },
  {
    name: 'SITE_NOT_DSPT_COMPLIANT: Not Published',
    account: onDspt(dspt('Not Published')),
    verdict: 'ineligible',
    rules: ['SITE_NOT_DSPT_COMPLIANT'],
    says: /“Not Published”: it has no current DSPT publication\./,
  },
  {
    name: 'SITE_NOT_DSPT_COMPLIANT: not in the register',
    account: facts({ site: site({ dspt: null }) }),
    verdict: 'ineligible',
    rules: ['SITE_NOT_DSPT_COMPLIANT'],
    says: /not in the DSPT register/,
  },
  {
    name: 'SITE_NOT_DSPT_COMPLIANT: 25/26 Standards Exceeded passes',
    account: onDspt(dspt('25/26 Standards Exceeded', '2026-06-20')),
    verdict: 'eligible',
    rules: [],
  },
  { name: 'SITE_NOT_DSPT_COMPLIANT: status words in any case', account: onDspt(dspt('25/26 STANDARDS met', '2026-06-20')), verdict: 'eligible', rules: [] },
  {
    name: 'SITE_NOT_DSPT_COMPLIANT: a lapsed year’s Standards Met is not compliant, and says which year is needed',
    account: onDspt(dspt('24/25 Standards Met', '2025-06-30')),
    verdict: 'ineligible',
    rules: ['SITE_NOT_DSPT_COMPLIANT'],
    says: /published its DSPT for 24\/25 .*30 Jun 2025.*stopped counting after 30 Jun 2026; 25\/26 or later is needed/,
  },
  {
    name: 'SITE_NOT_DSPT_COMPLIANT: 24/25 still counts on 30 June 2026',
    account: onDspt(dspt('24/25 Standards Met', '2025-06-30')),
    today: '2026-06-30',
    verdict: 'eligible',
    rules: [],
  },
  {
    name: 'SITE_NOT_DSPT_COMPLIANT: 24/25 has lapsed on 1 July 2026',
    account: onDspt(dspt('24/25 Standards Met', '2025-06-30')),
    today: '2026-07-01',
    verdict: 'ineligible',
    rules: ['SITE_NOT_DSPT_COMPLIANT'],
    says: /25\/26 or later is needed/,
  },
  {
    name: 'SITE_NOT_DSPT_COMPLIANT: 25/26 counts until 30 June 2027',
    account: onDspt(dspt('25/26 Standards Met', '2026-06-28')),
    today: '2027-06-30',
    verdict: 'eligible',
    rules: [],
  },
  {
    name: 'SITE_NOT_DSPT_COMPLIANT: 25/26 has lapsed on 1 July 2027',
    account: onDspt(dspt('25/26 Standards Met', '2026-06-28')),
    today: '2027-07-01',
    verdict: 'ineligible',
    rules: ['SITE_NOT_DSPT_COMPLIANT'],
    says: /26\/27 or later is needed/,
  },
  {
    name: 'SITE_NOT_DSPT_COMPLIANT: a Standards Met that names no year is for review',
    account: onDspt(dspt('Standards Met', '2026-06-28')),
    verdict: 'review',
    rules: ['SITE_NOT_DSPT_COMPLIANT'],
    says: /does not say which DSPT year/,
  },
  {
    name: 'SITE_NOT_DSPT_COMPLIANT: current Approaching Standards at a social care site (RO101) is compliant',
    account: facts({ site: site({ ods: ods({ roleIds: ['RO101', 'RO269'] }), dspt: dspt('25/26 Approaching Standards', '2026-06-29') }) }),
    verdict: 'eligible',
    rules: [],
  },
  {
    name: 'SITE_NOT_DSPT_COMPLIANT: current Approaching Standards at a pharmacy is for review',
    account: onDspt(dspt('25/26 Approaching Standards', '2026-06-29')),
    verdict: 'review',
    rules: ['SITE_NOT_DSPT_COMPLIANT'],
    says: /accepted for social care; for a pharmacy site NAS Operations will judge it/,
  },
  {
    name: 'SITE_NOT_DSPT_COMPLIANT: current Approaching Standards at a dental practice is for review',
    account: facts({ site: site({ ods: ods({ roleIds: ['RO110'] }), dspt: dspt('25/26 approaching standards', '2026-06-29') }) }),
    verdict: 'review',
    rules: ['SITE_NOT_DSPT_COMPLIANT'],
  },
  {
    name: 'SITE_NOT_DSPT_COMPLIANT: a lapsed Approaching Standards at a social care site is not compliant',
    account: facts({ site: site({ ods: ods({ roleIds: ['RO101'] }), dspt: dspt('24/25 Approaching Standards', '2025-06-29') }) }),
    verdict: 'ineligible',
    rules: ['SITE_NOT_DSPT_COMPLIANT'],
  },
  {
    name: 'SITE_NOT_DSPT_COMPLIANT: Standards Not Fully Met (Plan Agreed) is for review, showing the status',
    account: onDspt(dspt('Standards Not Fully Met (Plan Agreed)', '2020-07-15')),
    verdict: 'review',
    rules: ['SITE_NOT_DSPT_COMPLIANT'],
    says: /“Standards Not Fully Met \(Plan Agreed\)”, published 15 Jul 2020: NAS Operations will judge it/,
  },
  {
    name: 'SITE_NOT_DSPT_COMPLIANT: an unrecognised status is for review, as published',
    account: onDspt(dspt('25/26 Entry Level', '2026-05-01')),
    verdict: 'review',
    rules: ['SITE_NOT_DSPT_COMPLIANT'],
    says: /“25\/26 Entry Level”/,
  },
  {
    name: 'SITE_NOT_DSPT_COMPLIANT: a pass from a register older than DSPT_MAX_AGE_DAYS is for review',
    account: facts({ site: site({ dsptRegister: { file: 'dspt.csv', fileDate: '2026-11-01T09:00:00Z', rows: 10, ageDays: 28 } }) }),
    maxAge: 14,
    verdict: 'review',
    rules: ['SITE_NOT_DSPT_COMPLIANT'],
    says: /the DSPT register is 28 days old/,
  },
  {
    name: 'SITE_NOT_DSPT_COMPLIANT: a register exactly DSPT_MAX_AGE_DAYS old still passes',
    account: facts({ site: site({ dsptRegister: { file: 'dspt.csv', fileDate: '2026-11-15T09:00:00Z', rows: 10, ageDays: 14 } }) }),
    maxAge: 14,
    verdict: 'eligible',
    rules: [],
  },
  {
    name: 'SITE_NOT_DSPT_COMPLIANT: an old register does not soften a failure',
    account: facts({
      site: site({ dspt: dspt('Not Published'), dsptRegister: { file: 'dspt.csv', fileDate: '2026-10-01T09:00:00Z', rows: 10, ageDays: 59 } }),
    }),
    maxAge: 14,
    verdict: 'ineligible',
    rules: ['SITE_NOT_DSPT_COMPLIANT'],
  },
  // Unknown and closed sites.
  {
    name: 'SITE_CLOSED: a mistyped site code is “not a known ODS code”, fixable, with no DSPT or sector reason piled on',
    account: facts({ site: site({ odsCode: 'ZZ91O1', source: 'input', ods: null, dspt: null }) }),
    verdict: 'ineligible',
    rules: ['SITE_CLOSED'],
    says: /^ZZ91O1 is not a known ODS code: check it\.$/,
  },
  {
    name: 'SITE_CLOSED: an inactive organisation is closed',
    account: onSite({ active: false }),
    verdict: 'ineligible',
    rules: ['SITE_CLOSED'],
    says: /is not active in ODS/,
  },
  // Direct patient care: whole words and phrases, any case.
  {
    name: 'NOT_DIRECT_PATIENT_CARE: job title PAYROLL Officer',
    account: facts({}, { jobTitle: 'PAYROLL Officer' }),
    verdict: 'ineligible',
    rules: ['NOT_DIRECT_PATIENT_CARE'],
    says: /job title “PAYROLL Officer”/,
  },
  {
    name: 'NOT_DIRECT_PATIENT_CARE: department Head Office',
    account: facts({}, { jobTitle: 'Administrator', department: 'head OFFICE' }),
    verdict: 'ineligible',
    rules: ['NOT_DIRECT_PATIENT_CARE'],
  },
  {
    name: 'NOT_DIRECT_PATIENT_CARE: hR Business Partner',
    account: facts({}, { jobTitle: 'hR Business Partner' }),
    verdict: 'ineligible',
    rules: ['NOT_DIRECT_PATIENT_CARE'],
  },
  {
    name: 'NOT_DIRECT_PATIENT_CARE: IT Support Analyst',
    account: facts({}, { jobTitle: 'IT Support Analyst' }),
    verdict: 'ineligible',
    rules: ['NOT_DIRECT_PATIENT_CARE'],
  },
  {
    name: 'NOT_DIRECT_PATIENT_CARE: Human-Resources Manager (punctuation between words)',
    account: facts({}, { jobTitle: 'Human-Resources Manager' }),
    verdict: 'ineligible',
    rules: ['NOT_DIRECT_PATIENT_CARE'],
  },
  {
    name: 'NOT_DIRECT_PATIENT_CARE: “Head of Dispensary” is not head office',
    account: facts({}, { jobTitle: 'Head of Dispensary' }),
    verdict: 'eligible',
    rules: [],
  },
  {
    name: 'NOT_DIRECT_PATIENT_CARE: keywords inside words do not match (Chris, Transition, Community)',
    account: facts({}, { jobTitle: 'Transitions Nurse', department: 'Community Christchurch' }),
    verdict: 'eligible',
    rules: [],
  },
  {
    name: 'NOT_DIRECT_PATIENT_CARE: no job title or department is for review',
    account: facts({}, { jobTitle: undefined, department: undefined }),
    verdict: 'review',
    rules: ['NOT_DIRECT_PATIENT_CARE'],
  },
  {
    name: 'NOT_DIRECT_PATIENT_CARE: no job information, but a specialism was declared',
    account: facts({ declaredSpecialism: 'pharmacy' }, { jobTitle: undefined, department: undefined }),
    verdict: 'eligible',
    rules: [],
  },
  // UK mobiles by the numbering plan.
  { name: 'NO_UK_MOBILE: none registered', account: facts({}, { mobilePhone: undefined }), verdict: 'ineligible', rules: ['NO_UK_MOBILE'] },
  { name: 'NO_UK_MOBILE: a French mobile', account: facts({}, { mobilePhone: '+33 6 12 34 56 78' }), verdict: 'ineligible', rules: ['NO_UK_MOBILE'] },
  {
    name: 'NO_UK_MOBILE: a 070 personal number is not a mobile',
    account: facts({}, { mobilePhone: '07011 123456' }),
    verdict: 'ineligible',
    rules: ['NO_UK_MOBILE'],
  },
  { name: 'NO_UK_MOBILE: a 076 pager is not a mobile', account: facts({}, { mobilePhone: '07640 123456' }), verdict: 'ineligible', rules: ['NO_UK_MOBILE'] },
  {
    name: 'NO_UK_MOBILE: a Guernsey mobile is for review, and says so',
    account: facts({}, { mobilePhone: '07781 123456' }),
    verdict: 'review',
    rules: ['NO_UK_MOBILE'],
    says: /Guernsey/,
  },
  {
    name: 'NO_UK_MOBILE: a Jersey mobile is for review',
    account: facts({}, { mobilePhone: '+44 7797 123456' }),
    verdict: 'review',
    rules: ['NO_UK_MOBILE'],
    says: /Jersey/,
  },
  {
    name: 'NO_UK_MOBILE: an Isle of Man mobile is for review',
    account: facts({}, { mobilePhone: '07624 123456' }),
    verdict: 'review',
    rules: ['NO_UK_MOBILE'],
    says: /Isle of Man/,
  },
  { name: 'NO_UK_MOBILE: +44 format passes', account: facts({}, { mobilePhone: '+44 7400 123456' }), verdict: 'eligible', rules: [] },
  // Centrally funded email: gov.uk and its subdomains, in otherMails or smtp proxies.
  {
    name: 'CENTRALLY_FUNDED_EMAIL: an otherMails address at gov.uk',
    account: facts({}, { otherMails: ['jo@gov.uk'] }),
    verdict: 'ineligible',
    rules: ['CENTRALLY_FUNDED_EMAIL'],
  },
  {
    name: 'CENTRALLY_FUNDED_EMAIL: a subdomain of gov.uk, in any case',
    account: facts({}, { otherMails: ['Jo.Bloggs@Northmoor.GOV.UK'] }),
    verdict: 'ineligible',
    rules: ['CENTRALLY_FUNDED_EMAIL'],
    says: /northmoor\.gov\.uk/,
  },
  {
    name: 'CENTRALLY_FUNDED_EMAIL: a secondary smtp proxy address',
    account: facts({}, { proxyAddresses: ['SMTP:jo.bloggs@nhsmail.example', 'smtp:jo@dwp.gov.uk'] }),
    verdict: 'ineligible',
    rules: ['CENTRALLY_FUNDED_EMAIL'],
  },
  {
    name: 'CENTRALLY_FUNDED_EMAIL: a domain merely ending in gov.uk letters is not gov.uk',
    account: facts({}, { otherMails: ['jo@notgov.uk', 'jo@gov.uk.example.com'] }),
    verdict: 'eligible',
    rules: [],
  },
  {
    name: 'CENTRALLY_FUNDED_EMAIL: a SIP proxy is not an email address',
    account: facts({}, { proxyAddresses: ['SIP:jo@gov.uk'] }),
    verdict: 'eligible',
    rules: [],
  },
];

describe('eligibility engine', () => {
  let policy: Policy;
  before(async () => {
    policy = await loadPolicy(POLICY_FILE);
  });

  for (const testCase of CASES) {
    it(testCase.name, () => {
      const context = { requestingOrgOds: ORG, today: testCase.today ?? TODAY, policy, ...(testCase.maxAge ? { dsptMaxAgeDays: testCase.maxAge } : {}) };
      const [result] = screenAccounts([testCase.account], context).accounts;
      assert.deepEqual(
        result?.reasons.map((reason) => reason.rule),
        testCase.rules,
      );
      assert.equal(result?.verdict, testCase.verdict);
      if (testCase.says) assert.match(result.reasons[0]!.message, testCase.says);
      for (const reason of result?.reasons ?? []) {
        assert.ok(reason.message.length > 0 && reason.remedy.length > 0, `${reason.rule} has a message and a remedy`);
        for (const id of RULE_IDS) assert.ok(!reason.message.startsWith(id) && !reason.remedy.startsWith(id), 'no sentence starts with a rule id');
      }
    });
  }

  it('a review’s remedy says what the requester can do to avoid it, and sector names keep their capitals', () => {
    const screen = (account: AccountFacts) => screenAccounts([account], { requestingOrgOds: ORG, today: TODAY, policy }).accounts[0]!;
    const weakGeneric = screen(facts({}, { surname: undefined }));
    assert.equal(weakGeneric.verdict, 'review');
    assert.match(weakGeneric.reasons[0]!.remedy, /display name in the directory that person’s full name/);
    const undetermined = screen(onSite({ roleIds: ['RO172'] }));
    assert.match(undetermined.reasons[0]!.remedy, /GP locum/, 'GP keeps its capitals');
  });

  it('an undetermined sector’s remedy is to add the specialism on that line', () => {
    const [result] = screenAccounts([onSite({ roleIds: ['RO172'] })], { requestingOrgOds: ORG, today: TODAY, policy }).accounts;
    assert.match(result!.reasons[0]!.remedy, /Add the specialism on that line/);
  });

  it('OPTOMETRY_MULTIPLE: a headquarters listed by ODS code matches whatever its name', () => {
    const byCode: Policy = {
      ...policy,
      optometryMultiples: { ...policy.optometryMultiples, multiples: [{ name: 'Example Multiple', nameWords: [], odsCodes: ['ZZ9202'] }] },
    };
    const [result] = screenAccounts([opticalSite(independentHq)], { requestingOrgOds: ORG, today: TODAY, policy: byCode }).accounts;
    assert.deepEqual(
      result?.reasons.map((reason) => reason.rule),
      ['OPTOMETRY_MULTIPLE'],
    );
  });

  it('DUPLICATE_IN_REQUEST: the second listing of an address, in any case, is ineligible and the first is not', () => {
    const result = screenAccounts([facts({ position: 1 }), facts({ position: 2, email: 'JO.Bloggs@nhsmail.example' })], {
      requestingOrgOds: ORG,
      today: TODAY,
      policy,
    });
    assert.deepEqual(
      result.accounts.map((account) => [account.verdict, account.reasons.map((reason) => reason.rule)]),
      [
        ['eligible', []],
        ['ineligible', ['DUPLICATE_IN_REQUEST']],
      ],
    );
    assert.match(result.accounts[1]!.reasons[0]!.message, /line 1/);
  });

  interface AllowanceCase {
    name: string;
    allowed: number;
    nasAccounts: number;
    inOtherRequests: number;
    accounts: number;
    /** Rules per account, in request order. */
    expected: RuleId[][];
  }
  const ALLOWANCES: AllowanceCase[] = [
    { name: 'exactly reached within the request', allowed: 3, nasAccounts: 0, inOtherRequests: 0, accounts: 3, expected: [[], [], []] },
    {
      name: 'exceeded within the request by one',
      allowed: 3,
      nasAccounts: 0,
      inOtherRequests: 0,
      accounts: 4,
      expected: [[], [], [], ['SITE_ALLOWANCE_EXCEEDED']],
    },
    {
      name: 'exactly reached across requests (register + other requests + this one)',
      allowed: 3,
      nasAccounts: 1,
      inOtherRequests: 1,
      accounts: 1,
      expected: [[]],
    },
    {
      name: 'exceeded across requests: the other request took the last place',
      allowed: 3,
      nasAccounts: 1,
      inOtherRequests: 2,
      accounts: 1,
      expected: [['SITE_ALLOWANCE_EXCEEDED']],
    },
    {
      name: 'exceeded across requests by the second account here',
      allowed: 3,
      nasAccounts: 1,
      inOtherRequests: 1,
      accounts: 2,
      expected: [[], ['SITE_ALLOWANCE_EXCEEDED']],
    },
    {
      name: 'already over the allowance before this request',
      allowed: 2,
      nasAccounts: 2,
      inOtherRequests: 1,
      accounts: 1,
      expected: [['SITE_ALLOWANCE_EXCEEDED']],
    },
  ];
  for (const testCase of ALLOWANCES) {
    it(`SITE_ALLOWANCE_EXCEEDED: ${testCase.name}`, () => {
      const limited = site({
        odsCode: 'ZZ9108',
        nasSite: { odsCode: 'ZZ9108', allowedAccounts: testCase.allowed, nasAccounts: testCase.nasAccounts },
        accountsInOtherRequests: testCase.inOtherRequests,
      });
      const accounts = Array.from({ length: testCase.accounts }, (_, index) =>
        facts({ position: index + 1, email: `p${index}@nhsmail.example`, site: limited }),
      );
      const result = screenAccounts(accounts, { requestingOrgOds: ORG, today: TODAY, policy });
      assert.deepEqual(
        result.accounts.map((account) => account.reasons.map((reason) => reason.rule)),
        testCase.expected,
      );
      const blocked = result.accounts.find((account) => account.verdict === 'ineligible');
      if (blocked && testCase.inOtherRequests > 0)
        assert.match(blocked.reasons.at(-1)!.message, new RegExp(`${testCase.inOtherRequests} approved or awaiting a decision in other requests`));
    });
  }

  it('SITE_ALLOWANCE_EXCEEDED: a site whose NAS site register row could not be read is review for every account there, never the default allowance (issue 20)', () => {
    const unread = site({ odsCode: 'ZZ9108', nasSite: { unreadable: true, ownRow: true, lines: [7] }, nasRegister: { file: 'nas-sites.csv', rows: 6 } });
    const other = site({ odsCode: 'ZZ9101' });
    const result = screenAccounts(
      [
        facts({ position: 1, email: 'a@nhsmail.example', site: unread }),
        facts({ position: 2, email: 'b@nhsmail.example', site: other }),
        facts({ position: 3, email: 'c@nhsmail.example', site: unread }, { markedAsLeaver: true }),
      ],
      { requestingOrgOds: ORG, today: TODAY, policy },
    );
    assert.deepEqual(
      result.accounts.map((account) => [account.verdict, account.reasons.map((reason) => `${reason.rule}:${reason.verdict}`)]),
      [
        ['review', ['SITE_ALLOWANCE_EXCEEDED:review']],
        ['eligible', []],
        ['ineligible', ['MARKED_AS_LEAVER:ineligible']],
      ],
    );
    const reason = result.accounts[0]!.reasons[0]!;
    assert.equal(
      reason.message,
      "The site's allowance of NAS managed accounts could not be checked: site ZZ9108's row in the NAS site register (nas-sites.csv, line 7) could not be read.",
    );
    assert.match(reason.remedy, /^Nothing for the requester to do: NAS Operations will check/);
    assert.equal(result.accounts[0]!.evidence.siteAllowance, undefined, 'no allowance is claimed for it');
  });

  it('SITE_ALLOWANCE_EXCEEDED: ineligible accounts use no place, in request order', () => {
    const limited = site({ nasSite: { odsCode: 'ZZ9108', allowedAccounts: 3, nasAccounts: 1 }, odsCode: 'ZZ9108' });
    const accounts = [
      facts({ position: 1, email: 'a@nhsmail.example', site: limited }),
      facts({ position: 2, email: 'b@nhsmail.example', site: limited }, { markedAsLeaver: true }),
      facts({ position: 3, email: 'c@nhsmail.example', site: limited }),
      facts({ position: 4, email: 'd@nhsmail.example', site: limited }),
    ];
    const result = screenAccounts(accounts, { requestingOrgOds: ORG, today: TODAY, policy });
    assert.deepEqual(
      result.accounts.map((account) => account.reasons.map((reason) => reason.rule)),
      [[], ['MARKED_AS_LEAVER'], [], ['SITE_ALLOWANCE_EXCEEDED']],
    );
  });

  it('records the policy version and the evidence each verdict used, as plain JSON without the mobile number', () => {
    const result = screenAccounts([facts({}, { mobilePhone: '07781 123456' })], { requestingOrgOds: ORG, today: TODAY, policy });
    assert.equal(result.policyVersion, policy.version);
    const evidence = result.accounts[0]!.evidence;
    assert.deepEqual(evidence, {
      directoryFound: true,
      displayName: 'Jo Bloggs',
      jobTitle: 'Pharmacist',
      department: 'Dispensary',
      organisationOds: ORG,
      siteOds: 'ZZ9101',
      siteSource: 'directory',
      siteName: 'HARBOUR LANE PHARMACY',
      siteActive: true,
      sector: 'pharmacy',
      sectorName: 'Pharmacy',
      sectorSource: 'ods-role',
      sectorRoleId: 'RO182',
      dsptStatus: '25/26 Standards Met',
      dsptPublished: '28 Jun 2026',
      dsptYear: '25/26',
      ukMobileOnRecord: false,
      mobileCheck: 'crown-dependency-mobile',
      mobileCountry: 'GG',
      siteAllowance: 10,
      siteNasAccounts: 0,
      siteAccountsInOtherRequests: 0,
      policyVersion: policy.version,
    });
    assert.deepEqual(JSON.parse(JSON.stringify(evidence)), evidence, 'survives a JSON round trip unchanged');
    assert.doesNotMatch(JSON.stringify(result), /123456|7781/);
  });

  it('lists every reason that applies, not only the first', () => {
    const [result] = screenAccounts(
      [facts({}, { markedAsLeaver: true, mobilePhone: undefined, accountEnabled: false, jobTitle: 'Finance Officer', otherMails: ['jo@gov.uk'] })],
      { requestingOrgOds: ORG, today: TODAY, policy },
    ).accounts;
    assert.deepEqual(
      result?.reasons.map((reason) => reason.rule),
      ['ACCOUNT_DISABLED', 'MARKED_AS_LEAVER', 'NOT_DIRECT_PATIENT_CARE', 'NO_UK_MOBILE', 'CENTRALLY_FUNDED_EMAIL'],
    );
  });

  it('the issue’s example, a head-office HR account at a Specsavers store with a gov.uk address, is not eligible on all three counts', () => {
    const store = opticalSite(specsaversHq, 'SPECSAVERS HARBOUR MALL');
    const account = { ...store, directory: person({ jobTitle: 'HR Advisor', department: 'Head Office', otherMails: ['jo@gov.uk'] }) };
    const [result] = screenAccounts([account], { requestingOrgOds: ORG, today: TODAY, policy }).accounts;
    assert.equal(result?.verdict, 'ineligible');
    assert.deepEqual(
      result?.reasons.map((reason) => reason.rule),
      ['OPTOMETRY_MULTIPLE', 'NOT_DIRECT_PATIENT_CARE', 'CENTRALLY_FUNDED_EMAIL'],
    );
  });
});

describe('eligibility through the ODS FHIR API (sandbox servers)', () => {
  const DEV = path.join(__dirname, '..', '..', 'dev');
  let graph: SandboxGraph;
  let ods: SandboxOdsServer;
  let service: ScreeningService;
  let waits: number[];
  before(async () => {
    graph = await startSandboxGraph(await loadSandboxDirectory(path.join(DEV, 'demo-directory.json')));
    ods = await startSandboxOds(await loadSandboxOds(path.join(DEV, 'demo-ods.json')), { apiKey: 'k' });
    waits = [];
    service = new ScreeningService({
      directory: new GraphDirectory(createGraphClient(graph.url), {
        organisation: 'onPremisesExtensionAttributes.extensionAttribute1',
        site: 'onPremisesExtensionAttributes.extensionAttribute2',
        leaver: 'onPremisesExtensionAttributes.extensionAttribute3',
        leaverValue: 'Leaver',
      }),
      organisations: new OdsFhirClient(ods.fhirUrl, 'k', { sleep: async (ms) => void waits.push(ms) }),
      dspt: await loadDsptRegister(path.join(DEV, 'dspt-register.csv')),
      nasSites: await loadNasSitesRegister(path.join(DEV, 'nas-sites.csv')),
      policy: await loadPolicy(POLICY_FILE),
      now: () => new Date('2026-11-29T12:00:00Z'),
    });
  });
  after(async () => {
    await graph.close();
    await ods.close();
  });

  it('a throttled ODS read waits for Retry-After, is retried, and then gives the right verdicts', async () => {
    ods.requests.length = 0;
    ods.throttleNext(3, 2);
    const result = await service.screen(ORG, [
      { position: 1, email: 'maya.sorel@nhsmail.example' },
      { position: 2, email: 'harry.oduya@nhsmail.example' },
      { position: 3, email: 'amara.mensah@nhsmail.example' },
    ]);
    assert.deepEqual(waits, [2000, 2000, 2000]);
    assert.deepEqual(
      result.accounts.map((account) => [account.verdict, account.reasons.map((reason) => reason.rule)]),
      [
        ['ineligible', ['OPTOMETRY_MULTIPLE']],
        ['ineligible', ['SITE_CLOSED', 'SITE_NOT_DSPT_COMPLIANT']],
        ['eligible', []],
      ],
    );
    assert.match(result.accounts[1]!.reasons[1]!.message, /24\/25.*25\/26 or later is needed/);
  });
});
