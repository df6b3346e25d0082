import { sectorName, type Policy } from './policy';
import type { AccountFacts, Reason } from './types';
import { isValidUkMobile } from './uk-mobile';

export interface RuleContext {
  requestingOrgOds: string;
  policy: Policy;
}

/** A per-account rule: facts in, zero or one reason out. Pure. */
export type AccountRule = (facts: AccountFacts, context: RuleContext) => Reason | undefined;

export interface ResolvedSector {
  sector: string;
  source: 'declared' | 'ods-role';
}

export function resolveSector(facts: AccountFacts, policy: Policy): ResolvedSector | undefined {
  if (facts.declaredSpecialism) {
    const sector = policy.declaredSpecialismAliases[facts.declaredSpecialism.trim().toLowerCase()];
    if (sector) return { sector, source: 'declared' };
  }
  for (const roleId of facts.site?.ods?.roleIds ?? []) {
    const sector = policy.odsRoleSectors[roleId];
    if (sector) return { sector, source: 'ods-role' };
  }
  return undefined;
}

export const alreadyRequested: AccountRule = (facts) =>
  facts.openRequestReference
    ? {
        rule: 'ALREADY_REQUESTED',
        verdict: 'ineligible',
        message: `Already in open transfer request ${facts.openRequestReference}.`,
        remedy: `Wait for ${facts.openRequestReference} to be decided, or check its status.`,
      }
    : undefined;

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
  const resolved = resolveSector(facts, policy);
  const remedy = 'Transfer it to another NHSmail organisation.';
  if (!resolved) {
    return { rule: 'UNSUPPORTED_SPECIALISM', verdict: 'review', message: 'The sector could not be determined from the site or the request.', remedy };
  }
  if (policy.supportedSectors.includes(resolved.sector)) return undefined;
  return {
    rule: 'UNSUPPORTED_SPECIALISM',
    verdict: 'ineligible',
    message: `${sectorName(policy, resolved.sector)} is not a sector NAS supports.`,
    remedy,
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
  if (status && policy.dspt.reviewStatuses.includes(status)) {
    return { rule: 'SITE_NOT_DSPT_COMPLIANT', verdict: 'review', message: `Site ${site.odsCode} DSPT status is ${status}.`, remedy };
  }
  return {
    rule: 'SITE_NOT_DSPT_COMPLIANT',
    verdict: 'ineligible',
    message: status ? `Site ${site.odsCode} DSPT status is ${status}.` : `Site ${site.odsCode} has no published DSPT assessment.`,
    remedy,
  };
};

export const noUkMobile: AccountRule = (facts) =>
  facts.directory && !isValidUkMobile(facts.directory.mobilePhone)
    ? {
        rule: 'NO_UK_MOBILE',
        verdict: 'ineligible',
        message: facts.directory.mobilePhone ? 'The registered mobile number is not a valid UK mobile.' : 'No mobile number is registered.',
        remedy: 'Add a valid UK mobile number to the account, then resubmit it.',
      }
    : undefined;

/** Applied in this order to an account that exists in the directory. */
export const ACCOUNT_RULES: readonly AccountRule[] = [
  alreadyRequested,
  notInRequestingOrg,
  accountDisabled,
  markedAsLeaver,
  genericAccount,
  unsupportedSpecialism,
  siteClosed,
  siteNotDsptCompliant,
  noUkMobile,
];
