import type { AccountEntry } from './account-list';
import { mapWithConcurrency } from './concurrency';
import { BATCHES_IN_FLIGHT, GRAPH_BATCH_LIMIT, type Directory } from './directory/graph-directory';
import { screenAccounts } from './eligibility/engine';
import type { Policy } from './eligibility/policy';
import type { AccountFacts, DirectoryAccount, DsptEntry, NasSite, OdsSite, PriorRequest, ScreeningResult } from './eligibility/types';
import type { OrganisationLookup } from './reference/ord-client';
import type { Register } from './reference/registers';

/**
 * What the bot's own records say about accounts and sites, for the rules that look across
 * requests (ALREADY_REQUESTED, SITE_ALLOWANCE_EXCEEDED). `excludeRequestId` leaves one
 * request out, so re-screening a stored request does not count it against itself.
 */
export interface ScreeningHistory {
  /** Email (lower case) to the request that already holds it; approved wins over open. */
  priorRequests(emails: readonly string[], excludeRequestId?: number): Promise<Map<string, PriorRequest>>;
  /** Site ODS code (upper case) to the number of its accounts approved or awaiting a decision in other requests. */
  siteAccountsInOtherRequests(siteOdsCodes: readonly string[], excludeRequestId?: number): Promise<Map<string, number>>;
}

export interface ScreeningDependencies {
  directory: Directory;
  organisations: OrganisationLookup;
  dspt: Register<DsptEntry>;
  nasSites: Register<NasSite>;
  policy: Policy;
  /** Absent where no store is attached (the command line without DATABASE_URL). */
  history?: ScreeningHistory;
}

export interface ScreenOptions {
  /** Called after each chunk of directory look-ups and once at the end (checked === total). */
  onProgress?: (checked: number, total: number) => void | Promise<void>;
  excludeRequestId?: number;
}

/**
 * Directory look-ups go in chunks of two full rounds of batches in flight: progress can be
 * shown between chunks while every round still sends BATCHES_IN_FLIGHT full batches.
 */
export const SCREENING_CHUNK = GRAPH_BATCH_LIMIT * BATCHES_IN_FLIGHT * 2;
const ODS_LOOKUPS_IN_FLIGHT = 6;

/** Gathers the facts for every account (directory, ODS, registers, store) and runs the engine. */
export class ScreeningService {
  constructor(private readonly deps: ScreeningDependencies) {}

  get policyVersion(): string {
    return this.deps.policy.version;
  }

  async screen(requestingOrgOds: string, entries: readonly AccountEntry[], options: ScreenOptions = {}): Promise<ScreeningResult> {
    const { history, policy } = this.deps;
    const total = entries.length;
    const uniqueEmails = [...new Set(entries.map((entry) => entry.email.toLowerCase()))];
    const priorRequests = history?.priorRequests(uniqueEmails, options.excludeRequestId) ?? Promise.resolve(new Map<string, PriorRequest>());
    // Organisations are read once per distinct code, started as soon as the code is known so
    // ODS look-ups overlap the directory's.
    const organisations = new OrganisationCache(this.deps.organisations, policy.optometryMultiples.headquartersRoleIds);
    for (const entry of entries) if (entry.siteOds) organisations.request(entry.siteOds);

    const directoryAccounts = new Map<string, DirectoryAccount | null>();
    for (let start = 0; start < uniqueEmails.length; start += SCREENING_CHUNK) {
      const found = await this.deps.directory.lookupAccounts(uniqueEmails.slice(start, start + SCREENING_CHUNK));
      for (const [email, account] of found) {
        directoryAccounts.set(email, account);
        if (account?.siteOds) organisations.request(account.siteOds);
      }
      const checked = Math.min(start + SCREENING_CHUNK, uniqueEmails.length);
      // Progress counts list entries; duplicates are free, so the last chunk reports the whole list.
      if (checked < uniqueEmails.length) await options.onProgress?.(Math.round((checked / uniqueEmails.length) * total), total);
    }

    const siteCodeOf = (entry: AccountEntry) => entry.siteOds ?? directoryAccounts.get(entry.email.toLowerCase())?.siteOds;
    const siteCodes = [...new Set(entries.map(siteCodeOf).filter((code): code is string => code !== undefined))];
    const [sites, prior, usage] = await Promise.all([
      organisations.settled(),
      priorRequests,
      history?.siteAccountsInOtherRequests(siteCodes, options.excludeRequestId) ?? Promise.resolve(new Map<string, number>()),
    ]);

    const facts = entries.map((entry): AccountFacts => {
      const email = entry.email.toLowerCase();
      const siteCode = siteCodeOf(entry);
      const ods = siteCode ? (sites.get(siteCode) ?? null) : null;
      return {
        position: entry.position,
        email: entry.email,
        declaredSiteOds: entry.siteOds,
        declaredSpecialism: entry.specialism,
        directory: directoryAccounts.get(email) ?? null,
        site: siteCode
          ? {
              odsCode: siteCode,
              source: entry.siteOds ? 'input' : 'directory',
              ods,
              parents: organisations.parentsOf(ods, sites),
              dspt: this.deps.dspt.get(siteCode),
              nasSite: this.deps.nasSites.get(siteCode),
              accountsInOtherRequests: usage.get(siteCode.toUpperCase()) ?? 0,
            }
          : undefined,
        priorRequest: prior.get(email),
      };
    });
    const result = screenAccounts(facts, { requestingOrgOds, policy });
    await options.onProgress?.(total, total);
    return result;
  }
}

/**
 * Each ODS code read once per screening, and the headquarters a site links to (by a parent
 * role such as RO166 OPTICAL HEADQUARTERS) read once per distinct parent.
 */
class OrganisationCache {
  private readonly requested = new Set<string>();
  private readonly found = new Map<string, OdsSite | null>();
  private readonly queue: string[] = [];
  private running: Promise<void> | undefined;
  private failure: unknown;

  constructor(
    private readonly lookup: OrganisationLookup,
    private readonly parentRoleIds: readonly string[],
  ) {}

  request(code: string): void {
    const key = code.toUpperCase();
    if (this.requested.has(key)) return;
    this.requested.add(key);
    this.queue.push(key);
    this.running ??= this.drain();
  }

  /** Waits for every organisation requested so far, and for the parents they name. */
  async settled(): Promise<Map<string, OdsSite | null>> {
    while (this.running) await this.running;
    if (this.failure) throw this.failure;
    return this.found;
  }

  parentsOf(site: OdsSite | null, sites: ReadonlyMap<string, OdsSite | null>): OdsSite[] {
    return (site?.links ?? [])
      .filter((link) => link.targetPrimaryRoleId && this.parentRoleIds.includes(link.targetPrimaryRoleId))
      .map((link) => sites.get(link.targetOds))
      .filter((parent): parent is OdsSite => parent !== null && parent !== undefined);
  }

  private async drain(): Promise<void> {
    try {
      while (this.queue.length > 0) {
        const batch = this.queue.splice(0);
        await mapWithConcurrency(batch, ODS_LOOKUPS_IN_FLIGHT, async (code) => {
          const organisation = await this.lookup.getOrganisation(code);
          this.found.set(code, organisation);
          for (const link of organisation?.links ?? []) {
            if (link.targetPrimaryRoleId && this.parentRoleIds.includes(link.targetPrimaryRoleId)) this.request(link.targetOds);
          }
        });
      }
    } catch (error) {
      this.failure ??= error;
    } finally {
      this.running = undefined;
    }
  }
}
