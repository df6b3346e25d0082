import { sectorName, type Policy } from './policy';
import type { AccountFacts, OdsSite, Reason } from './types';
import { classifyMobile, crownDependencyName } from './uk-mobile';

export interface RuleContext {
  requestingOrgOds: string;
  policy: Policy;
}

/** A per-account rule: facts in, zero or one reason out. Pure. */
export type AccountRule = (facts: AccountFacts, context: RuleContext) => Reason | undefined;

export interface ResolvedSector {
  sector: string;
  source: 'declared' | 'ods-role';
  /** The ODS role the sector came from (source ods-role). */
  roleId?: string;
}

/** The sector ODS gives the site: its first mapped role, primary role first. */
export function odsSector(site: OdsSite | null | undefined, policy: Policy): { sector: string; roleId: string; roleName: string } | undefined {
  for (const roleId of site?.roleIds ?? []) {
    const mapped = policy.odsRoleSectors[roleId];
    if (mapped) return { sector: mapped.sector, roleId, roleName: mapped.roleName };
  }
  return undefined;
}

export function declaredSector(facts: AccountFacts, policy: Policy): string | undefined {
  const declared = facts.declaredSpecialism?.trim().toLowerCase();
  return declared ? policy.declaredSpecialismAliases[declared] : undefined;
}

/** The site's ODS sector first; what the requester declared only when ODS gives none. */
export function resolveSector(facts: AccountFacts, policy: Policy): ResolvedSector | undefined {
  const fromOds = odsSector(facts.site?.ods, policy);
  if (fromOds) return { sector: fromOds.sector, source: 'ods-role', roleId: fromOds.roleId };
  const declared = declaredSector(facts, policy);
  return declared ? { sector: declared, source: 'declared' } : undefined;
}

/** Text from the directory or the requester, safe to quote inside a message: no control characters, bounded. */
export function quote(value: string, max = 60): string {
  const printable = value.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g, ' ').trim();
  return `“${printable.length > max ? `${printable.slice(0, max - 1)}…` : printable}”`;
}

/** Lower-case words, so keywords match whole words or phrases in any case. */
function words(text: string): string[] {
  return text.toLowerCase().split(/[^\p{L}\p{N}]+/u).filter(Boolean);
}

function containsPhrase(haystack: readonly string[], phrase: string): boolean {
  const needle = words(phrase);
  if (needle.length === 0) return false;
  for (let start = 0; start + needle.length <= haystack.length; start++) {
    if (needle.every((word, offset) => haystack[start + offset] === word)) return true;
  }
  return false;
}

export const alreadyRequested: AccountRule = (facts) => {
  const prior = facts.priorRequest;
  if (!prior) return undefined;
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
};

export const notInRequestingOrg: AccountRule = (facts, { requestingOrgOds }) => {
  const administeredBy = facts.directory?.organisationOds;
  if (administeredBy && administeredBy.toUpperCase() === requestingOrgOds.toUpperCase()) return undefined;
  return {
    rule: 'NOT_IN_REQUESTING_ORG',
    verdict: 'ineligible',
    message: administeredBy
      ? `Administered by ${administeredBy}, not by ${requestingOrgOds}.`
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
  if (keywordHit && (namesMissing || displayHit)) {
    return { rule: 'GENERIC_ACCOUNT', verdict: 'ineligible', message: 'The account is generically named (a role or shared use, not a person).', remedy };
  }
  if (keywordHit || namesMissing || displayHit) {
    return { rule: 'GENERIC_ACCOUNT', verdict: 'review', message: 'The account may be generic: its name does not clearly identify one person.', remedy };
  }
  return undefined;
};

export const unsupportedSpecialism: AccountRule = (facts, { policy }) => {
  const fromOds = odsSector(facts.site?.ods, policy);
  const declaredText = facts.declaredSpecialism?.trim();
  const declared = declaredSector(facts, policy);
  const otherOrganisation = 'Transfer it to another NHSmail organisation.';
  if (fromOds) {
    const siteLabel = `ODS records site ${facts.site?.odsCode} as ${fromOds.roleName} (${sectorName(policy, fromOds.sector)})`;
    if (!policy.supportedSectors.includes(fromOds.sector)) {
      const alsoDeclared = declared && declared !== fromOds.sector ? ` The line declares ${quote(declaredText ?? '')}, but the site's ODS record decides.` : '';
      return { rule: 'UNSUPPORTED_SPECIALISM', verdict: 'ineligible', message: `${siteLabel}, a sector NAS does not support.${alsoDeclared}`, remedy: otherOrganisation };
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
    return { rule: 'UNSUPPORTED_SPECIALISM', verdict: 'ineligible', message: `${sectorName(policy, declared)} (declared on the line) is not a sector NAS supports.`, remedy: otherOrganisation };
  }
  const supported = policy.supportedSectors.map((sector) => sectorName(policy, sector).toLowerCase()).join(', ');
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
    message: facts.site?.ods ? `The sector could not be determined: ODS gives no sector NAS knows for site ${facts.site.odsCode}.` : 'The sector could not be determined: no site record gives it.',
    remedy: `Add the specialism on that line (email, site ODS code, specialism), one of: ${supported}.`,
  };
};

export const siteClosed: AccountRule = (facts) => {
  const site = facts.site;
  if (!site) return undefined;
  const remedy = 'Move the account to a legally open organisation.';
  if (site.ods === null) {
    return { rule: 'SITE_CLOSED', verdict: 'ineligible', message: `Site ${site.odsCode} is not in the ODS register.`, remedy };
  }
  if (!site.ods.active) {
    return { rule: 'SITE_CLOSED', verdict: 'ineligible', message: `Site ${site.odsCode} (${site.ods.name}) is not active in ODS.`, remedy };
  }
  return undefined;
};

export const siteNotDsptCompliant: AccountRule = (facts, { policy }) => {
  const remedy = 'Complete the Data Security and Protection Toolkit for the site.';
  const site = facts.site;
  if (!site) {
    return { rule: 'SITE_NOT_DSPT_COMPLIANT', verdict: 'review', message: 'No site ODS code was given or recorded, so DSPT status is unknown.', remedy: 'Give the site ODS code for this account.' };
  }
  const status = site.dspt?.status;
  if (status && policy.dspt.compliantStatuses.includes(status)) return undefined;
  const published = site.dspt?.published ? ` (published ${site.dspt.published})` : '';
  if (status && policy.dspt.reviewStatuses.includes(status)) {
    return { rule: 'SITE_NOT_DSPT_COMPLIANT', verdict: 'review', message: `Site ${site.odsCode} DSPT status is ${status}${published}.`, remedy };
  }
  return {
    rule: 'SITE_NOT_DSPT_COMPLIANT',
    verdict: 'ineligible',
    message: status ? `Site ${site.odsCode} DSPT status is ${status}${published}.` : `Site ${site.odsCode} has no published DSPT assessment.`,
    remedy,
  };
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
        remedy: `NAS will judge whether it is acceptable; adding a UK mobile number avoids the question.`,
      };
    default:
      return { rule: 'NO_UK_MOBILE', verdict: 'ineligible', message: 'The registered number is not a valid UK mobile number.', remedy };
  }
};

/** The multiple an optical site belongs to: by its headquarters' ODS code, or by its own or its headquarters' name. */
export function optometryMultipleOf(facts: AccountFacts, policy: Policy): { multiple: string; via?: OdsSite } | undefined {
  const site = facts.site?.ods;
  if (!site) return undefined;
  const headquarters = (facts.site?.parents ?? []).filter((parent) =>
    site.links.some((link) => link.targetOds === parent.odsCode && link.targetPrimaryRoleId && policy.optometryMultiples.headquartersRoleIds.includes(link.targetPrimaryRoleId)),
  );
  const isOptical = headquarters.length > 0 || odsSector(site, policy)?.sector === 'optometry';
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
  return at > 0 ? bare.slice(at + 1).trim().toLowerCase().replace(/\.$/, '') : undefined;
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
