import { londonDate, londonParts } from '../../core/london-time';
import { printableOnOneLine } from '../../core/text';
import { sectorName, type DsptStanding, type Policy } from './policy';
import type { AccountFacts, DsptEntry, OdsSite, PriorRequest, Reason, UnreadableRow } from './types';
import { classifyMobile, crownDependencyName } from './uk-mobile';

export interface RuleContext {
  requestingOrgOds: string;
  policy: Policy;
  /** Today in England (YYYY-MM-DD): which DSPT years are current depends on it. */
  today: string;
  /** The requesting organisation's ODS name, when read. */
  requestingOrgName?: string;
  /** DSPT passes from a register file older than this many days go to review; undefined: no limit. */
  dsptMaxAgeDays?: number;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** YYYY-MM-DD (or an ISO date-time) as a UK reader writes it: 28 Jun 2026. */
export function ukDate(iso: string): string {
  const match = /^(\d{4})-(\d{2})-(\d{2})/.exec(iso);
  if (!match) return iso;
  return `${Number(match[3])} ${MONTHS[Number(match[2]) - 1] ?? match[2]} ${match[1]}`;
}

/** Register dates repeat for every account of a run: formatting each once keeps screening 5,000 accounts cheap. */
const formattedInstants = new Map<string, string>();

/** An instant as UK local date and time: 29 Nov 2026 14:05. */
export function ukDateTime(instant: string): string {
  const known = formattedInstants.get(instant);
  if (known) return known;
  const date = new Date(instant);
  if (Number.isNaN(date.getTime())) return instant;
  const parts = londonParts(date);
  const formatted = `${ukDate(`${parts.year}-${parts.month}-${parts.day}`)} ${parts.hour}:${parts.minute}`;
  if (formattedInstants.size > 1000) formattedInstants.clear();
  formattedInstants.set(instant, formatted);
  return formatted;
}

/** Today's date in England, YYYY-MM-DD. */
export function englandToday(now: Date = new Date()): string {
  return londonDate(now);
}

/** The DSPT year starting in `startYear`, as the export writes it: 2025 is 25/26. */
function dsptYearName(startYear: number): string {
  return `${String(startYear % 100).padStart(2, '0')}/${String((startYear + 1) % 100).padStart(2, '0')}`;
}

/** The last day (YYYY-MM-DD) a status for DSPT year "25/26" counts, by the policy. */
export function dsptCurrentUntil(year: string, policy: Policy): string {
  const start = 2000 + Number(year.slice(0, 2));
  const { yearsAfterStart, month, day } = policy.dspt.currentUntil;
  return `${start + yearsAfterStart}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
}

/** The oldest DSPT year still current on `today`: a publication for it or a later year is needed. */
export function dsptYearNeeded(today: string, policy: Policy): string {
  const year = Number(today.slice(0, 4));
  const { yearsAfterStart, month, day } = policy.dspt.currentUntil;
  const boundary = `${year}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
  return dsptYearName(today <= boundary ? year - yearsAfterStart : year - yearsAfterStart + 1);
}

export function dsptStanding(entry: DsptEntry, policy: Policy): DsptStanding {
  const words = entry.statusWords.toLowerCase().replace(/\s+/g, ' ').trim();
  return policy.dspt.statuses[words] ?? 'unrecognised';
}

export function isUnreadable(value: object | null | undefined): value is UnreadableRow {
  return value !== null && value !== undefined && 'unreadable' in value;
}

/** A register entry when the site's row was read; undefined when it is not listed or its row could not be read. */
export function entryRead<T extends object>(value: T | null | UnreadableRow | undefined): T | undefined {
  return value === null || value === undefined || isUnreadable(value) ? undefined : value;
}

const LINES_SHOWN = 5;

function linesText(lines: readonly number[]): string {
  const shown = lines.slice(0, LINES_SHOWN).join(', ');
  const rest = lines.length - LINES_SHOWN;
  return `line${lines.length > 1 ? 's' : ''} ${shown}${rest > 0 ? ` and ${rest} more` : ''}`;
}

/**
 * Why a site's register row gives no answer, in a sentence for the requester and NAS Operations:
 * its own row could not be read, or it is missing while rows whose code could not be read may be its.
 */
export function unreadableRowText(siteCode: string, register: string, file: string | undefined, row: UnreadableRow): string {
  const where = `${file ? `${file}, ` : ''}${linesText(row.lines)}`;
  return row.ownRow
    ? `site ${siteCode}'s row in the ${register} (${where}) could not be read`
    : `site ${siteCode} is not among the rows of the ${register} that could be read, and rows whose ODS code could not be read (${where}) may be its own`;
}

/** A per-account rule: facts in, zero or one reason out. Pure. */
export type AccountRule = (facts: AccountFacts, context: RuleContext) => Reason | undefined;

export interface ResolvedSector {
  sector: string;
  source: 'declared' | 'ods-role' | 'dspt-sector';
  /** The ODS role the sector came from (source ods-role). */
  roleId?: string;
}

/** A sector a record gives the site: ODS's role, else the DSPT export's Primary Sector; `label` says so in a sentence. */
export interface RecordedSector {
  sector: string;
  source: 'ods-role' | 'dspt-sector';
  roleId?: string;
  label: string;
  /** Which record decides when the requester's line says otherwise. */
  record: string;
}

/** The sector ODS gives the site: its first mapped role, primary role first. */
export function odsSector(site: OdsSite | null | undefined, policy: Policy): { sector: string; roleId: string; roleName: string } | undefined {
  for (const roleId of site?.roleIds ?? []) {
    const mapped = policy.odsRoleSectors[roleId];
    if (mapped) return { sector: mapped.sector, roleId, roleName: mapped.roleName };
  }
  return undefined;
}

/** The sector the DSPT export's Primary Sector gives the site, when the policy maps it. */
export function dsptSector(entry: DsptEntry | null | undefined, policy: Policy): string | undefined {
  const named = entry?.primarySector?.trim().toLowerCase().replace(/\s+/g, ' ');
  return named ? policy.dspt.primarySectors[named] : undefined;
}

/** The site's sector by its records: ODS first; the DSPT export's Primary Sector where ODS gives none. */
export function recordedSector(facts: AccountFacts, policy: Policy): RecordedSector | undefined {
  const site = facts.site;
  const fromOds = odsSector(site?.ods, policy);
  if (fromOds) {
    return {
      sector: fromOds.sector,
      source: 'ods-role',
      roleId: fromOds.roleId,
      label: `ODS records site ${site?.odsCode} as ${fromOds.roleName} (${sectorName(policy, fromOds.sector)})`,
      record: "the site's ODS record",
    };
  }
  const dspt = entryRead(site?.dspt);
  const fromDspt = dsptSector(dspt, policy);
  if (site && fromDspt && dspt?.primarySector) {
    return {
      sector: fromDspt,
      source: 'dspt-sector',
      label: `ODS gives site ${site.odsCode} no sector, and the DSPT register gives its primary sector as ${quote(dspt.primarySector)} (${sectorName(policy, fromDspt)})`,
      record: "the site's DSPT registration",
    };
  }
  return undefined;
}

export function declaredSector(facts: AccountFacts, policy: Policy): string | undefined {
  const declared = facts.declaredSpecialism?.trim().toLowerCase();
  return declared ? policy.declaredSpecialismAliases[declared] : undefined;
}

/** The site's recorded sector first (ODS, then its DSPT Primary Sector); what the requester declared only when neither gives one. */
export function resolveSector(facts: AccountFacts, policy: Policy): ResolvedSector | undefined {
  const recorded = recordedSector(facts, policy);
  if (recorded) return { sector: recorded.sector, source: recorded.source, ...(recorded.roleId ? { roleId: recorded.roleId } : {}) };
  const declared = declaredSector(facts, policy);
  return declared ? { sector: declared, source: 'declared' } : undefined;
}

/** Text from the directory or the requester, safe to quote inside a message: no control characters, bounded. */
export function quote(value: string, max = 60): string {
  const printable = printableOnOneLine(value).trim();
  return `“${printable.length > max ? `${printable.slice(0, max - 1)}…` : printable}”`;
}

/** A sector name inside a sentence: "Social care" becomes "social care", but "GP locum" keeps its capitals. */
function inSentence(name: string): string {
  return /^[A-Z]{2}/.test(name) ? name : name.charAt(0).toLowerCase() + name.slice(1);
}

/** Lower-case words, so keywords match whole words or phrases in any case. */
function words(text: string): string[] {
  return text
    .toLowerCase()
    .split(/[^\p{L}\p{N}]+/u)
    .filter(Boolean);
}

function containsPhrase(haystack: readonly string[], phrase: string): boolean {
  const needle = words(phrase);
  if (needle.length === 0) return false;
  for (let start = 0; start + needle.length <= haystack.length; start++) {
    if (needle.every((word, offset) => haystack[start + offset] === word)) return true;
  }
  return false;
}

export const alreadyRequested: AccountRule = (facts) => (facts.priorRequest ? alreadyRequestedReason(facts.priorRequest) : undefined);

/** Why an account already in another request cannot be in this one: at screening, and again at Submit under the lock. */
export function alreadyRequestedReason(prior: PriorRequest): Reason {
  if (prior.state === 'approved') {
    return {
      rule: 'ALREADY_REQUESTED',
      verdict: 'ineligible',
      message: `Already approved for transfer to NAS in request ${prior.reference}.`,
      remedy: 'Nothing more to do for this account: it is already with NAS, or on its way. Remove it from this list.',
    };
  }
  return {
    rule: 'ALREADY_REQUESTED',
    verdict: 'ineligible',
    message: `Already in transfer request ${prior.reference}, which is waiting for a decision.`,
    remedy: `Wait for ${prior.reference} to be decided (type status ${prior.reference}); resubmit only if it is rejected there.`,
  };
}

export const notInRequestingOrg: AccountRule = (facts, { requestingOrgOds, requestingOrgName }) => {
  const administeredBy = facts.directory?.organisationOds;
  if (administeredBy && administeredBy.toUpperCase() === requestingOrgOds.toUpperCase()) return undefined;
  const named = (code: string, name: string | undefined) => (name ? `${name} (${code.toUpperCase()})` : code.toUpperCase());
  return {
    rule: 'NOT_IN_REQUESTING_ORG',
    verdict: 'ineligible',
    message: administeredBy
      ? `Administered by ${named(administeredBy, facts.administeringOrganisationName)}, not by ${named(requestingOrgOds, requestingOrgName)}.`
      : 'The directory does not record which organisation administers this account.',
    remedy: 'Only the administering organisation can transfer it.',
  };
};

export const accountDisabled: AccountRule = (facts) =>
  facts.directory && !facts.directory.accountEnabled
    ? { rule: 'ACCOUNT_DISABLED', verdict: 'ineligible', message: 'The account is disabled.', remedy: 'Re-enable the account, or drop it from the request.' }
    : undefined;

export const markedAsLeaver: AccountRule = (facts) =>
  facts.directory?.markedAsLeaver
    ? {
        rule: 'MARKED_AS_LEAVER',
        verdict: 'ineligible',
        message: 'The account is marked as a leaver and would be deleted.',
        remedy: 'Unmark the account as a leaver, then resubmit it.',
      }
    : undefined;

export const genericAccount: AccountRule = (facts, { policy }) => {
  const localPart = facts.email.split('@')[0]?.toLowerCase() ?? '';
  const tokens = localPart.split(/[._\-+\d]+/).filter(Boolean);
  const strongWords = new Set(policy.genericAccount.strongLocalParts);
  const keywordHit = tokens.some((token) => strongWords.has(token)) || strongWords.has(localPart);
  const directory = facts.directory;
  const namesMissing = !directory?.givenName?.trim() || !directory?.surname?.trim();
  const displayWords = (directory?.displayName ?? '').toLowerCase().split(/[^a-z]+/);
  const displayHit = displayWords.some((word) => policy.genericAccount.weakNameWords.includes(word));
  const remedy = 'Follow the shared mailbox conversion process first.';
  const reviewRemedy =
    'If one person uses it, make the display name in the directory that person’s full name before submitting; if it is shared, follow the shared mailbox conversion process first.';
  if (keywordHit && (namesMissing || displayHit)) {
    return { rule: 'GENERIC_ACCOUNT', verdict: 'ineligible', message: 'The account is generically named (a role or shared use, not a person).', remedy };
  }
  if (keywordHit || namesMissing || displayHit) {
    return {
      rule: 'GENERIC_ACCOUNT',
      verdict: 'review',
      message: 'The account may be generic: its name does not clearly identify one person.',
      remedy: reviewRemedy,
    };
  }
  return undefined;
};

export const unsupportedSpecialism: AccountRule = (facts, { policy }) => {
  const fromOds = recordedSector(facts, policy);
  const declaredText = facts.declaredSpecialism?.trim();
  const declared = declaredSector(facts, policy);
  const otherOrganisation = 'Transfer it to another NHSmail organisation.';
  if (fromOds) {
    const siteLabel = fromOds.label;
    if (!policy.supportedSectors.includes(fromOds.sector)) {
      const alsoDeclared = declared && declared !== fromOds.sector ? ` The line declares ${quote(declaredText ?? '')}, but ${fromOds.record} decides.` : '';
      return {
        rule: 'UNSUPPORTED_SPECIALISM',
        verdict: 'ineligible',
        message: `${siteLabel}, a sector NAS does not support.${alsoDeclared}`,
        remedy: otherOrganisation,
      };
    }
    if (declared && declared !== fromOds.sector) {
      return {
        rule: 'UNSUPPORTED_SPECIALISM',
        verdict: 'review',
        message: `The line declares ${quote(declaredText ?? '')} (${sectorName(policy, declared)}), but ${siteLabel}.`,
        remedy: 'Check the site ODS code and the specialism on that line; NAS will judge which is right.',
      };
    }
    return undefined;
  }
  if (declared) {
    if (policy.supportedSectors.includes(declared)) return undefined;
    return {
      rule: 'UNSUPPORTED_SPECIALISM',
      verdict: 'ineligible',
      message: `${sectorName(policy, declared)} (declared on the line) is not a sector NAS supports.`,
      remedy: otherOrganisation,
    };
  }
  // An unknown site code is one problem with one fix (SITE_CLOSED says to check it), not also an unknown sector.
  if (facts.site?.ods === null) return undefined;
  const supported = policy.supportedSectors.map((sector) => inSentence(sectorName(policy, sector))).join(', ');
  if (declaredText) {
    return {
      rule: 'UNSUPPORTED_SPECIALISM',
      verdict: 'review',
      message: `The specialism ${quote(declaredText)} is not one we recognise, and ODS gives no sector for the site.`,
      remedy: `Give one of these specialisms on that line: ${supported}.`,
    };
  }
  return {
    rule: 'UNSUPPORTED_SPECIALISM',
    verdict: 'review',
    message: facts.site?.ods
      ? `The sector could not be determined: ODS gives no sector NAS knows for site ${facts.site.odsCode}.`
      : 'The sector could not be determined: no site record gives it.',
    remedy: `Add the specialism on that line (email, site ODS code, specialism), one of: ${supported}.`,
  };
};

export const siteClosed: AccountRule = (facts) => {
  const site = facts.site;
  if (!site) return undefined;
  const remedy = 'Move the account to a legally open organisation.';
  if (site.ods === null) {
    return {
      rule: 'SITE_CLOSED',
      verdict: 'ineligible',
      message: `${site.odsCode} is not a known ODS code: check it.`,
      remedy:
        site.source === 'input'
          ? 'Correct the site ODS code on that line (O and 0, I and 1 are easily mixed up), then resubmit the account.'
          : 'Correct the site ODS code recorded for the account in the directory, or give the right one on that line, then resubmit the account.',
      fixable: true,
    };
  }
  if (!site.ods.active) {
    return { rule: 'SITE_CLOSED', verdict: 'ineligible', message: `Site ${site.odsCode} (${site.ods.name}) is not active in ODS.`, remedy };
  }
  return undefined;
};

/** What a DSPT finding can be; each has its own next step (DSPT_NEXT_STEPS). */
export type DsptOutcome =
  | 'no-site-code'
  | 'not-in-register'
  | 'not-published'
  | 'not-met'
  | 'plan-agreed'
  | 'unrecognised'
  | 'no-year'
  | 'out-of-date'
  | 'approaching-outside-accepted'
  | 'register-old'
  | 'register-undated'
  | 'register-row-unreadable';

const NAS_CHECKS_REGISTER = 'Nothing for the requester to do: NAS Operations will check the current DSPT status.';

/**
 * The true next step for each DSPT outcome, given the DSPT year a publication is needed for.
 * Approaching Standards is published with an improvement plan for the items still to do
 * (Digital Social Care, "What does Approaching Standards mean?"); Standards Not Met is a
 * published assessment that did not meet the mandatory standards, so publishing again alone
 * does not help: meeting them does.
 */
export const DSPT_NEXT_STEPS: Record<DsptOutcome, (needed: string) => string> = {
  'no-site-code': () => 'Give the site ODS code for this account.',
  'not-in-register': (needed) =>
    `Register the site on the Data Security and Protection Toolkit (DSPT) and publish its ${needed} assessment at Standards Met or above.`,
  'not-published': (needed) => `Publish the site’s Data Security and Protection Toolkit (DSPT) assessment for ${needed}, at Standards Met or above.`,
  'out-of-date': (needed) =>
    `Publish this year’s Data Security and Protection Toolkit (DSPT) assessment (${needed}) for the site: its last one no longer counts.`,
  'not-met': () =>
    'Meet the DSPT standards for the site: complete the mandatory evidence items it did not meet (for example, agree an improvement plan for them and complete it), then publish again at Standards Met.',
  'approaching-outside-accepted': () =>
    'Nothing to publish for now: NAS Operations will judge whether Approaching Standards is enough for this site. The site’s DSPT improvement plan, and when it expects to reach Standards Met, help them decide.',
  'plan-agreed': () => 'NAS Operations will judge it: the site’s agreed DSPT improvement plan, and how far it has got with it, help them decide.',
  unrecognised: () => 'Nothing for the requester to do unless NAS Operations ask: they will check the site’s DSPT status.',
  'no-year': () => NAS_CHECKS_REGISTER,
  'register-old': () => NAS_CHECKS_REGISTER,
  'register-undated': () => NAS_CHECKS_REGISTER,
  'register-row-unreadable': () =>
    'Nothing for the requester to do: NAS Operations will check the site’s DSPT status, and have the DSPT register file corrected.',
};

export const siteNotDsptCompliant: AccountRule = (facts, context) => {
  const { policy, today } = context;
  const needed = dsptYearNeeded(today, policy);
  const reason = (verdict: Reason['verdict'], outcome: DsptOutcome, message: string): Reason => ({
    rule: 'SITE_NOT_DSPT_COMPLIANT',
    verdict,
    message,
    remedy: DSPT_NEXT_STEPS[outcome](needed),
  });
  const site = facts.site;
  if (!site) return reason('review', 'no-site-code', 'No site ODS code was given or recorded, so DSPT status is unknown.');
  // An unknown site code has its own reason (check the code); the DSPT question waits for the right code.
  if (site.ods === null) return undefined;
  const entry = site.dspt;
  // A row that could not be read is neither a status nor an absence: whatever it says, NAS Operations check it.
  if (isUnreadable(entry)) {
    const why = unreadableRowText(site.odsCode, 'DSPT register', site.dsptRegister?.file, entry);
    return reason('review', 'register-row-unreadable', `The DSPT status could not be checked: ${why}.`);
  }
  if (!entry) return reason('ineligible', 'not-in-register', `Site ${site.odsCode} is not in the DSPT register: it has no DSPT publication.`);
  const standing = dsptStanding(entry, policy);
  // A "Not Published" row can carry a date (a real export does): it is not a publication, so it is never "published" that day.
  const published = entry.published && standing !== 'not-published' ? `, published ${ukDate(entry.published)}` : '';
  const status = `${quote(entry.status)}${published}`;
  switch (standing) {
    case 'not-published':
      return reason('ineligible', 'not-published', `Site ${site.odsCode} DSPT status is ${status}: it has no current DSPT publication.`);
    case 'not-met':
      return reason('ineligible', 'not-met', `Site ${site.odsCode} DSPT status is ${status}: it published, but did not meet the DSPT standards.`);
    case 'plan-agreed':
      return reason('review', 'plan-agreed', `Site ${site.odsCode} DSPT status is ${status}: NAS Operations will judge it.`);
    case 'unrecognised':
      return reason('review', 'unrecognised', `Site ${site.odsCode} DSPT status is ${status}: NAS Operations will judge it.`);
    default:
      break;
  }
  if (!entry.year) {
    return reason(
      'review',
      'no-year',
      `Site ${site.odsCode} DSPT status is ${status}, which does not say which DSPT year it is for (${needed} or later is needed).`,
    );
  }
  const until = dsptCurrentUntil(entry.year, policy);
  if (today > until) {
    return reason(
      'ineligible',
      'out-of-date',
      `Site ${site.odsCode} last published its DSPT for ${entry.year} (${status}), which stopped counting after ${ukDate(until)}; ${needed} or later is needed.`,
    );
  }
  if (standing === 'approaching') {
    const sector = resolveSector(facts, policy)?.sector;
    if (!sector || !policy.dspt.approachingAcceptedSectors.includes(sector)) {
      const accepted = policy.dspt.approachingAcceptedSectors.map((id) => inSentence(sectorName(policy, id))).join(', ');
      return reason(
        'review',
        'approaching-outside-accepted',
        `Site ${site.odsCode} DSPT status is ${status}: Approaching Standards is accepted for ${accepted}; for ${sector ? `a ${inSentence(sectorName(policy, sector))} site` : 'a site of unknown sector'} NAS Operations will judge it.`,
      );
    }
  }
  const age = site.dsptRegister?.ageDays;
  if (context.dsptMaxAgeDays !== undefined && site.dsptRegister && age === undefined) {
    return reason(
      'review',
      'register-undated',
      `Site ${site.odsCode} DSPT status is ${status}, but the DSPT register's date is not known (${site.dsptRegister.file}: not the export's own name, and not dated by the database): check the site's current status.`,
    );
  }
  if (context.dsptMaxAgeDays !== undefined && age !== undefined && age > context.dsptMaxAgeDays) {
    return reason(
      'review',
      'register-old',
      `Site ${site.odsCode} DSPT status is ${status}, but the DSPT register is ${age} days old (${site.dsptRegister?.file}): check the site's current status.`,
    );
  }
  return undefined;
};

export const notDirectPatientCare: AccountRule = (facts, { policy }) => {
  const directory = facts.directory;
  if (!directory) return undefined;
  const sources: Array<[label: string, value: string | undefined]> = [
    ['job title', directory.jobTitle],
    ['department', directory.department],
    ['declared specialism', facts.declaredSpecialism],
  ];
  for (const [label, value] of sources) {
    if (!value?.trim()) continue;
    const tokens = words(value);
    const keyword = policy.directPatientCare.nonPatientFacingKeywords.find((phrase) => containsPhrase(tokens, phrase));
    if (keyword) {
      return {
        rule: 'NOT_DIRECT_PATIENT_CARE',
        verdict: 'ineligible',
        message: `The ${label} ${quote(value)} is not a direct patient care role (it mentions ${quote(keyword)}).`,
        remedy: 'Keep administering this account locally: NAS only takes staff who give direct patient care.',
      };
    }
  }
  if (!directory.jobTitle?.trim() && !directory.department?.trim() && !facts.declaredSpecialism?.trim()) {
    return {
      rule: 'NOT_DIRECT_PATIENT_CARE',
      verdict: 'review',
      message: 'The directory has no job title or department for this account, so whether they give direct patient care is not known.',
      remedy: 'Add the job title to the account in the directory, or give the specialism on that line.',
    };
  }
  return undefined;
};

export const noUkMobile: AccountRule = (facts) => {
  if (!facts.directory) return undefined;
  const mobile = classifyMobile(facts.directory.mobilePhone);
  const remedy = 'Add a valid UK mobile number to the account, then resubmit it.';
  switch (mobile.check) {
    case 'uk-mobile':
      return undefined;
    case 'none':
      return { rule: 'NO_UK_MOBILE', verdict: 'ineligible', message: 'No mobile number is registered.', remedy };
    case 'crown-dependency-mobile':
      return {
        rule: 'NO_UK_MOBILE',
        verdict: 'review',
        message: `The registered mobile is a ${crownDependencyName(mobile.country)} number (+44, but not a UK mobile range).`,
        remedy: 'Add a UK mobile number to the account before submitting, so NAS Operations need not judge it.',
      };
    default:
      return { rule: 'NO_UK_MOBILE', verdict: 'ineligible', message: 'The registered number is not a valid UK mobile number.', remedy };
  }
};

/**
 * Whether `parent` is the site's optical headquarters: ORD names the target's primary role in
 * the relationship; FHIR does not, so the relationship type and the parent's own roles decide.
 */
export function isHeadquartersOf(site: OdsSite, parent: OdsSite, policy: Policy): boolean {
  const { headquartersRoleIds, headquartersRelationships } = policy.optometryMultiples;
  return (site.links ?? []).some((link) => {
    if (link.targetOds !== parent.odsCode) return false;
    if (link.targetPrimaryRoleId) return headquartersRoleIds.includes(link.targetPrimaryRoleId);
    return headquartersRelationships.includes(link.relationship) && parent.roleIds.some((role) => headquartersRoleIds.includes(role));
  });
}

/** The multiple an optical site belongs to: by its headquarters' ODS code, or by its own or its headquarters' name. */
export function optometryMultipleOf(facts: AccountFacts, policy: Policy): { multiple: string; via?: OdsSite } | undefined {
  const site = facts.site?.ods;
  if (!site) return undefined;
  const headquarters = (facts.site?.parents ?? []).filter((parent) => isHeadquartersOf(site, parent, policy));
  // Optical by the sector the rules use (ODS, else the DSPT register, else the line's
  // declaration), not by ODS alone: a site ODS gives no sector is still checked.
  const isOptical = headquarters.length > 0 || resolveSector(facts, policy)?.sector === 'optometry';
  if (!isOptical) return undefined;
  for (const multiple of policy.optometryMultiples.multiples) {
    const named = (organisation: OdsSite) => multiple.nameWords.some((phrase) => containsPhrase(words(organisation.name), phrase));
    const byParent = headquarters.find((parent) => multiple.odsCodes.includes(parent.odsCode) || named(parent));
    if (byParent) return { multiple: multiple.name, via: byParent };
    if (named(site)) return { multiple: multiple.name };
  }
  return undefined;
}

export const optometryMultiple: AccountRule = (facts, { policy }) => {
  const found = optometryMultipleOf(facts, policy);
  if (!found) return undefined;
  const via = found.via ? ` (its optical headquarters is ${found.via.odsCode} ${found.via.name})` : '';
  return {
    rule: 'OPTOMETRY_MULTIPLE',
    verdict: 'ineligible',
    message: `Site ${facts.site?.odsCode} belongs to ${found.multiple}${via}, an optometry multiple.`,
    remedy: 'NAS does not take accounts of optometry multiples: keep administering this account locally.',
  };
};

/** The domain of an address, lower case, from a Graph otherMails entry or an `smtp:` proxy address. */
function domainOf(address: string): string | undefined {
  const bare = address.replace(/^smtp:/i, '');
  if (/^[a-z0-9]+:/i.test(bare)) return undefined; // SIP:, X500: and other non-mail proxies
  const at = bare.lastIndexOf('@');
  return at > 0
    ? bare
        .slice(at + 1)
        .trim()
        .toLowerCase()
        .replace(/\.$/, '')
    : undefined;
}

export const centrallyFundedEmail: AccountRule = (facts, { policy }) => {
  const directory = facts.directory;
  if (!directory) return undefined;
  for (const address of [...directory.otherMails, ...directory.proxyAddresses]) {
    const domain = domainOf(address);
    if (!domain) continue;
    const funded = policy.centrallyFundedEmail.domains.find((listed) => domain === listed || domain.endsWith(`.${listed}`));
    if (funded) {
      return {
        rule: 'CENTRALLY_FUNDED_EMAIL',
        verdict: 'ineligible',
        message: `The directory lists an address at ${domain}, a centrally funded email (${funded}).`,
        remedy: 'Remove it from the request: the NHSmail Access Policy does not allow an NHSmail account beside another publicly funded email account.',
      };
    }
  }
  return undefined;
};

/** Applied in this order to an account that exists in the directory. */
export const ACCOUNT_RULES: readonly AccountRule[] = [
  alreadyRequested,
  notInRequestingOrg,
  accountDisabled,
  markedAsLeaver,
  genericAccount,
  unsupportedSpecialism,
  optometryMultiple,
  siteClosed,
  siteNotDsptCompliant,
  notDirectPatientCare,
  noUkMobile,
  centrallyFundedEmail,
];
