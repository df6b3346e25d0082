import { sectorName } from './policy';
import { ACCOUNT_RULES, entryRead, isUnreadable, optometryMultipleOf, resolveSector, ukDate, ukDateTime, unreadableRowText, type RuleContext } from './rules';
import type { AccountFacts, Evidence, Reason, ScreenedAccount, ScreeningResult, Verdict } from './types';
import { classifyMobile } from './uk-mobile';

/**
 * The eligibility engine: pure functions from looked-up facts to verdicts. Per-account
 * rules run first; then the rules that compare accounts within the request (duplicates,
 * site allowances) run in request order.
 */
export function screenAccounts(facts: readonly AccountFacts[], context: RuleContext): ScreeningResult {
  const firstPositionByEmail = new Map<string, number>();
  const screened = facts.map((account): ScreenedAccount => {
    const key = account.email.trim().toLowerCase();
    const firstPosition = firstPositionByEmail.get(key);
    if (firstPosition === undefined) firstPositionByEmail.set(key, account.position);
    return screenOne(account, context, firstPosition);
  });
  applySiteAllowances(screened, facts, context);
  return { policyVersion: context.policy.version, accounts: screened };
}

function screenOne(facts: AccountFacts, context: RuleContext, duplicateOf: number | undefined): ScreenedAccount {
  const reasons: Reason[] = [];
  if (duplicateOf !== undefined) {
    reasons.push({
      rule: 'DUPLICATE_IN_REQUEST',
      verdict: 'ineligible',
      message: `Listed twice in this request (first at line ${duplicateOf}).`,
      remedy: 'Remove the duplicate entry.',
    });
  } else if (facts.directory === null) {
    reasons.push({
      rule: 'ACCOUNT_NOT_FOUND',
      verdict: 'ineligible',
      message: 'No account with this address in the NHSmail directory.',
      remedy: 'Check the address.',
    });
  } else {
    for (const rule of ACCOUNT_RULES) {
      const reason = rule(facts, context);
      if (reason) reasons.push(reason);
    }
  }
  return {
    position: facts.position,
    email: facts.email,
    siteOds: facts.site?.odsCode,
    specialism: facts.declaredSpecialism,
    verdict: combineVerdicts(reasons),
    reasons,
    evidence: evidenceOf(facts, context),
  };
}

export function combineVerdicts(reasons: readonly Reason[]): Verdict {
  if (reasons.some((reason) => reason.verdict === 'ineligible')) return 'ineligible';
  if (reasons.some((reason) => reason.verdict === 'review')) return 'review';
  return 'eligible';
}

/**
 * What is left at a site: its allowance less the accounts NAS already manages there (the
 * register) and those approved or awaiting a decision in other requests through the bot.
 * Undefined when the site's row in the register could not be read: not the default allowance.
 */
export function remainingAllowance(site: NonNullable<AccountFacts['site']>, defaultAllowance: number): { allowed: number; remaining: number } | undefined {
  if (isUnreadable(site.nasSite)) return undefined;
  const allowed = site.nasSite?.allowedAccounts ?? defaultAllowance;
  return { allowed, remaining: allowed - (site.nasSite?.nasAccounts ?? 0) - site.accountsInOtherRequests };
}

/**
 * Accounts beyond a site's remaining allowance, counted in request order, are ineligible. Where
 * the site's register row could not be read, the allowance is unknown: its accounts go to review.
 */
function applySiteAllowances(screened: ScreenedAccount[], facts: readonly AccountFacts[], { policy }: RuleContext): void {
  const usedBySite = new Map<string, number>();
  screened.forEach((account, index) => {
    const site = facts[index]?.site;
    if (!site || account.verdict === 'ineligible') return;
    const row = site.nasSite;
    const allowance = remainingAllowance(site, policy.defaultSiteAllowance);
    if (allowance === undefined || isUnreadable(row)) {
      const why = isUnreadable(row)
        ? unreadableRowText(site.odsCode, 'NAS site register', site.nasRegister?.file, row)
        : `site ${site.odsCode}'s row could not be read`;
      account.reasons.push({
        rule: 'SITE_ALLOWANCE_EXCEEDED',
        verdict: 'review',
        message: `The site's allowance of NAS managed accounts could not be checked: ${why}.`,
        remedy:
          'Nothing for the requester to do: NAS Operations will check how many NAS managed accounts the site may have, and have the NAS site register corrected.',
      });
      account.verdict = combineVerdicts(account.reasons);
      return;
    }
    const { allowed, remaining } = allowance;
    const used = (usedBySite.get(site.odsCode) ?? 0) + 1;
    usedBySite.set(site.odsCode, used);
    if (used <= remaining) return;
    const already = entryRead(site.nasSite)?.nasAccounts ?? 0;
    const inOthers = site.accountsInOtherRequests > 0 ? `, ${site.accountsInOtherRequests} approved or awaiting a decision in other requests` : '';
    account.reasons.push({
      rule: 'SITE_ALLOWANCE_EXCEEDED',
      verdict: 'ineligible',
      message: `Site ${site.odsCode} may have ${allowed} NAS managed accounts (${already} already managed${inOthers}); this account, in list order, would go over that.`,
      remedy: 'Reduce the number of accounts for this site, or keep administering them locally.',
    });
    account.verdict = 'ineligible';
  });
}

function evidenceOf(facts: AccountFacts, context: RuleContext): Evidence {
  const { policy } = context;
  const sector = resolveSector(facts, policy);
  const directory = facts.directory;
  const mobile = directory ? classifyMobile(directory.mobilePhone) : undefined;
  const site = facts.site;
  const multiple = optometryMultipleOf(facts, policy);
  const allowance = site ? remainingAllowance(site, policy.defaultSiteAllowance) : undefined;
  const dspt = entryRead(site?.dspt);
  // Undefined fields are dropped by JSON; listing only what is known keeps stored evidence small.
  const evidence: Evidence = {
    directoryFound: directory !== null,
    displayName: directory?.displayName,
    jobTitle: directory?.jobTitle,
    department: directory?.department,
    organisationOds: directory?.organisationOds,
    organisationName: facts.administeringOrganisationName,
    siteOds: site?.odsCode,
    siteSource: site?.source,
    siteName: site?.ods?.name,
    siteActive: site?.ods ? site.ods.active : undefined,
    siteRecordChanged: site?.ods?.lastChanged ? ukDate(site.ods.lastChanged) : undefined,
    sector: sector?.sector,
    sectorName: sector ? sectorName(policy, sector.sector) : undefined,
    sectorSource: sector?.source,
    sectorRoleId: sector?.roleId,
    declaredSpecialism: facts.declaredSpecialism,
    dsptStatus: dspt?.status,
    dsptPublished: dspt?.published ? ukDate(dspt.published) : undefined,
    dsptYear: dspt?.year,
    dsptRegisterFile: site?.dsptRegister?.file,
    dsptPrimarySector: dspt?.primarySector,
    dsptRegisterDate: site?.dsptRegister?.fileDate ? ukDateTime(site.dsptRegister.fileDate) : undefined,
    dsptRegisterDateSource: site?.dsptRegister?.dateSource,
    dsptRegisterAgeDays: site?.dsptRegister?.ageDays,
    dsptRegisterRows: site?.dsptRegister?.rows,
    nasRegisterFile: site?.nasRegister?.file,
    nasRegisterDate: site?.nasRegister?.fileDate ? ukDateTime(site.nasRegister.fileDate) : undefined,
    nasRegisterRows: site?.nasRegister?.rows,
    ukMobileOnRecord: mobile ? mobile.check === 'uk-mobile' : undefined,
    mobileCheck: mobile?.check,
    mobileCountry: mobile?.country,
    opticalParentOds: multiple?.via?.odsCode,
    opticalParentName: multiple?.via?.name,
    priorRequestReference: facts.priorRequest?.reference,
    priorRequestState: facts.priorRequest?.state,
    siteAllowance: allowance?.allowed,
    siteNasAccounts: entryRead(site?.nasSite)?.nasAccounts,
    siteAccountsInOtherRequests: site?.accountsInOtherRequests,
    policyVersion: policy.version,
  };
  return Object.fromEntries(Object.entries(evidence).filter(([, value]) => value !== undefined)) as Evidence;
}
