import { ACCOUNT_RULES, resolveSector, type RuleContext } from './rules';
import type { AccountFacts, Evidence, Reason, ScreenedAccount, ScreeningResult, Verdict } from './types';
import { isValidUkMobile } from './uk-mobile';

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
    reasons.push({ rule: 'ACCOUNT_NOT_FOUND', verdict: 'ineligible', message: 'No such account in the NHSmail directory.', remedy: 'Check the address.' });
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

/** Accounts beyond a site's remaining allowance, counted in request order, are ineligible. */
function applySiteAllowances(screened: ScreenedAccount[], facts: readonly AccountFacts[], { policy }: RuleContext): void {
  const usedBySite = new Map<string, number>();
  screened.forEach((account, index) => {
    const site = facts[index]?.site;
    if (!site || account.verdict === 'ineligible') return;
    const allowed = site.nasSite?.allowedAccounts ?? policy.defaultSiteAllowance;
    const remaining = allowed - (site.nasSite?.nasAccounts ?? 0);
    const used = (usedBySite.get(site.odsCode) ?? 0) + 1;
    usedBySite.set(site.odsCode, used);
    if (used <= remaining) return;
    account.reasons.push({
      rule: 'SITE_ALLOWANCE_EXCEEDED',
      verdict: 'ineligible',
      message: `Site ${site.odsCode} may have ${allowed} NAS managed accounts and would exceed that (${Math.max(remaining, 0)} left).`,
      remedy: 'Reduce the number of accounts for this site, or keep administering them locally.',
    });
    account.verdict = 'ineligible';
  });
}

function evidenceOf(facts: AccountFacts, context: RuleContext): Evidence {
  const sector = resolveSector(facts, context.policy);
  return {
    directoryFound: facts.directory !== null,
    organisationOds: facts.directory?.organisationOds,
    siteOds: facts.site?.odsCode,
    siteSource: facts.site?.source,
    siteActive: facts.site?.ods ? facts.site.ods.active : undefined,
    sector: sector?.sector,
    sectorSource: sector?.source,
    dsptStatus: facts.site?.dspt?.status,
    ukMobileOnRecord: facts.directory ? isValidUkMobile(facts.directory.mobilePhone) : undefined,
    openRequestReference: facts.openRequestReference,
  };
}
