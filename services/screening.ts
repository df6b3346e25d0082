import type { AccountEntry } from './account-list';
import { mapWithConcurrency } from './concurrency';
import type { Directory } from './directory/graph-directory';
import { screenAccounts } from './eligibility/engine';
import type { Policy } from './eligibility/policy';
import type { AccountFacts, DsptEntry, NasSite, OdsSite, ScreeningResult } from './eligibility/types';
import type { OrganisationLookup } from './reference/ord-client';
import type { Register } from './reference/registers';

export interface OpenRequestLookup {
  /** Email (lower case) to the reference of an open request that already holds it. */
  openRequestsHolding(emails: readonly string[]): Promise<Map<string, string>>;
}

export interface ScreeningDependencies {
  directory: Directory;
  organisations: OrganisationLookup;
  dspt: Register<DsptEntry>;
  nasSites: Register<NasSite>;
  policy: Policy;
  /** Absent where no store is attached (the command line without DATABASE_URL). */
  openRequests?: OpenRequestLookup;
}

const ODS_LOOKUPS_IN_FLIGHT = 6;

/** Gathers the facts for every account (directory, ODS, registers, store) and runs the engine. */
export class ScreeningService {
  constructor(private readonly deps: ScreeningDependencies) {}

  get policyVersion(): string {
    return this.deps.policy.version;
  }

  async screen(requestingOrgOds: string, entries: readonly AccountEntry[]): Promise<ScreeningResult> {
    const emails = entries.map((entry) => entry.email);
    const [directoryAccounts, openRequests] = await Promise.all([
      this.deps.directory.lookupAccounts(emails),
      this.deps.openRequests?.openRequestsHolding(emails) ?? Promise.resolve(new Map<string, string>()),
    ]);
    const siteCodeOf = (entry: AccountEntry) => entry.siteOds ?? directoryAccounts.get(entry.email)?.siteOds;
    const siteCodes = [...new Set(entries.map(siteCodeOf).filter((code): code is string => code !== undefined))];
    const sites = new Map<string, OdsSite | null>();
    await mapWithConcurrency(siteCodes, ODS_LOOKUPS_IN_FLIGHT, async (code) => {
      sites.set(code, await this.deps.organisations.getOrganisation(code));
    });
    const facts = entries.map((entry): AccountFacts => {
      const directory = directoryAccounts.get(entry.email) ?? null;
      const siteCode = siteCodeOf(entry);
      return {
        position: entry.position,
        email: entry.email,
        declaredSiteOds: entry.siteOds,
        declaredSpecialism: entry.specialism,
        directory,
        site: siteCode
          ? {
              odsCode: siteCode,
              source: entry.siteOds ? 'input' : 'directory',
              ods: sites.get(siteCode) ?? null,
              dspt: this.deps.dspt.get(siteCode),
              nasSite: this.deps.nasSites.get(siteCode),
            }
          : undefined,
        openRequestReference: openRequests.get(entry.email),
      };
    });
    return screenAccounts(facts, { requestingOrgOds, policy: this.deps.policy });
  }
}
