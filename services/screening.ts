import { AppError } from '../core/errors';
import type { AccountEntry } from './account-list';
import { BATCHES_IN_FLIGHT, GRAPH_BATCH_LIMIT, type Directory } from './directory/graph-directory';
import { screenAccounts } from './eligibility/engine';
import type { Policy } from './eligibility/policy';
import { englandToday, isHeadquartersOf, odsSector } from './eligibility/rules';
import type { AccountFacts, DirectoryAccount, DsptEntry, NasSite, OdsSite, PriorRequest, ScreeningResult } from './eligibility/types';
import type { OrganisationLookup } from './reference/ord-client';
import type { RegisterReader } from './reference/registers';

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
  dspt: RegisterReader<DsptEntry>;
  nasSites: RegisterReader<NasSite>;
  policy: Policy;
  /** Absent where no store is attached (the command line without DATABASE_URL). */
  history?: ScreeningHistory;
  /** DSPT passes from a register file older than this go to review; undefined: no limit. */
  dsptMaxAgeDays?: number;
  now?: () => Date;
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
const DAY_MS = 24 * 60 * 60 * 1000;

/** Gathers the facts for every account (directory, ODS, registers, store) and runs the engine. */
export class ScreeningService {
  constructor(private readonly deps: ScreeningDependencies) {}

  async screen(requestingOrgOds: string, entries: readonly AccountEntry[], options: ScreenOptions = {}): Promise<ScreeningResult> {
    const { history, policy } = this.deps;
    const now = this.deps.now?.() ?? new Date();
    const total = entries.length;
    const uniqueEmails = [...new Set(entries.map((entry) => entry.email.toLowerCase()))];
    const priorRequests = history?.priorRequests(uniqueEmails, options.excludeRequestId) ?? Promise.resolve(new Map<string, PriorRequest>());
    // The registers are re-read here if their files changed; one copy of each serves the whole run.
    const registers = Promise.all([this.deps.dspt.current(), this.deps.nasSites.current()]);
    registers.catch(() => undefined);
    // Organisations are read once per distinct code, started as soon as the code is known so
    // ODS look-ups overlap the directory's.
    const organisations = new OrganisationCache(this.deps.organisations, policy);
    for (const entry of entries) if (entry.siteOds) organisations.requestSite(entry.siteOds);

    const directoryAccounts = new Map<string, DirectoryAccount | null>();
    for (let start = 0; start < uniqueEmails.length; start += SCREENING_CHUNK) {
      const found = await this.deps.directory.lookupAccounts(uniqueEmails.slice(start, start + SCREENING_CHUNK));
      for (const [email, account] of found) {
        directoryAccounts.set(email, account);
        if (account?.siteOds) organisations.requestSite(account.siteOds);
      }
      const checked = Math.min(start + SCREENING_CHUNK, uniqueEmails.length);
      // Progress counts list entries; duplicates are free, so the last chunk reports the whole list.
      if (checked < uniqueEmails.length) await options.onProgress?.(Math.round((checked / uniqueEmails.length) * total), total);
    }

    // Names for "administered by X, not by Y": only where the organisations differ.
    const otherOrganisations = new Set<string>();
    for (const account of directoryAccounts.values()) {
      const code = account?.organisationOds?.toUpperCase();
      if (code && code !== requestingOrgOds.toUpperCase()) otherOrganisations.add(code);
    }
    const names =
      otherOrganisations.size > 0 ? organisations.names([requestingOrgOds.toUpperCase(), ...otherOrganisations]) : Promise.resolve(new Map<string, string>());

    const siteCodeOf = (entry: AccountEntry) => entry.siteOds ?? directoryAccounts.get(entry.email.toLowerCase())?.siteOds;
    const siteCodes = [...new Set(entries.map(siteCodeOf).filter((code): code is string => code !== undefined))];
    const [sites, prior, usage, [dspt, nasSites], organisationNames] = await Promise.all([
      organisations.sites(siteCodes),
      priorRequests,
      history?.siteAccountsInOtherRequests(siteCodes, options.excludeRequestId) ?? Promise.resolve(new Map<string, number>()),
      registers,
      names,
    ]);
    // The export's own date (its download name, or when the bot first saw its content); unknown stays unknown.
    const dataDate = dspt.snapshot.fileDate;
    const dsptRegister = { ...dspt.snapshot, ...(dataDate ? { ageDays: Math.max(0, Math.floor((now.getTime() - Date.parse(dataDate)) / DAY_MS)) } : {}) };

    const facts = entries.map((entry): AccountFacts => {
      const email = entry.email.toLowerCase();
      const siteCode = siteCodeOf(entry);
      const site = siteCode ? sites.get(siteCode.toUpperCase()) : undefined;
      const directory = directoryAccounts.get(email) ?? null;
      const administeringName = directory?.organisationOds ? organisationNames.get(directory.organisationOds.toUpperCase()) : undefined;
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
              ods: site?.ods ?? null,
              parents: site?.parents ?? [],
              dspt: dspt.lookup(siteCode),
              dsptRegister,
              nasSite: nasSites.lookup(siteCode),
              nasRegister: nasSites.snapshot,
              accountsInOtherRequests: usage.get(siteCode.toUpperCase()) ?? 0,
            }
          : undefined,
        priorRequest: prior.get(email),
        ...(administeringName ? { administeringOrganisationName: administeringName } : {}),
      };
    });
    const result = screenAccounts(facts, {
      requestingOrgOds,
      policy,
      today: englandToday(now),
      ...(organisationNames.get(requestingOrgOds.toUpperCase()) ? { requestingOrgName: organisationNames.get(requestingOrgOds.toUpperCase()) } : {}),
      ...(this.deps.dsptMaxAgeDays !== undefined ? { dsptMaxAgeDays: this.deps.dsptMaxAgeDays } : {}),
    });
    await options.onProgress?.(total, total);
    return result;
  }
}

/** At most `limit` tasks at once; the rest wait their turn. */
class Gate {
  private active = 0;
  private readonly waiting: Array<() => void> = [];
  constructor(private readonly limit: number) {}

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.active >= this.limit) await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.active++;
    try {
      return await task();
    } finally {
      this.active--;
      this.waiting.shift()?.();
    }
  }
}

interface SiteRecord {
  ods: OdsSite | null;
  /** The organisations it is linked to that were read: its optical headquarters. */
  parents: OdsSite[];
}

/**
 * One screening run's reads from ODS: each organisation once, however many accounts, sites or
 * names need it. A site's relationships are read only where they matter (an optical site,
 * for its headquarters), and each headquarters once.
 */
class OrganisationCache {
  private readonly organisations = new Map<string, Promise<OdsSite | null>>();
  private readonly siteRecords = new Map<string, Promise<SiteRecord>>();
  private readonly gate = new Gate(ODS_LOOKUPS_IN_FLIGHT);

  constructor(
    private readonly lookup: OrganisationLookup,
    private readonly policy: Policy,
  ) {}

  /** Starts reading a site now; its failure is reported by sites(). */
  requestSite(code: string): void {
    this.site(code.toUpperCase()).catch(() => undefined);
  }

  /** Every site's record, by upper-case code; throws if any could not be read. */
  async sites(codes: readonly string[]): Promise<Map<string, SiteRecord>> {
    const keys = [...new Set(codes.map((code) => code.toUpperCase()))];
    const records = await Promise.all(keys.map((key) => this.site(key)));
    return new Map(keys.map((key, index) => [key, records[index] as SiteRecord]));
  }

  /** Names for messages: best effort, a name that cannot be read is left out. */
  async names(codes: readonly string[]): Promise<Map<string, string>> {
    const found = await Promise.all(codes.map((code) => this.organisation(code).catch(() => null)));
    return new Map(codes.flatMap((code, index) => (found[index] ? [[code, found[index].name] as [string, string]] : [])));
  }

  private organisation(key: string): Promise<OdsSite | null> {
    let read = this.organisations.get(key);
    if (!read) {
      read = this.gate.run(() => this.lookup.getOrganisation(key));
      this.organisations.set(key, read);
    }
    return read;
  }

  private site(key: string): Promise<SiteRecord> {
    let record = this.siteRecords.get(key);
    if (!record) {
      record = this.readSite(key);
      this.siteRecords.set(key, record);
    }
    return record;
  }

  private async readSite(key: string): Promise<SiteRecord> {
    let ods = await this.organisation(key);
    if (!ods) return { ods: null, parents: [] };
    // A site ODS gives no sector may still be optical by its DSPT registration or the line's
    // declaration, and the optometry multiple check then needs its relationships too.
    const sector = odsSector(ods, this.policy)?.sector;
    if (ods.links === undefined && (sector === undefined || sector === 'optometry')) {
      const links = await this.gate.run(() => this.lookup.getRelationships(key));
      ods = { ...ods, links };
    }
    const { headquartersRoleIds, headquartersRelationships } = this.policy.optometryMultiples;
    const candidates = (ods.links ?? []).filter((link) =>
      link.targetPrimaryRoleId ? headquartersRoleIds.includes(link.targetPrimaryRoleId) : headquartersRelationships.includes(link.relationship),
    );
    const parents = await Promise.all([...new Set(candidates.map((link) => link.targetOds.toUpperCase()))].map((code) => this.headquarters(key, code)));
    const site = ods;
    return { ods: site, parents: parents.filter((parent) => isHeadquartersOf(site, parent, this.policy)) };
  }

  /**
   * The organisation a live relationship names as operating the site. ODS not knowing it, or
   * holding it closed, contradicts the relationship: the multiple could not be checked, which is
   * not the same as the site having no headquarters.
   */
  private async headquarters(site: string, code: string): Promise<OdsSite> {
    const parent = await this.organisation(code);
    if (!parent || !parent.active) {
      const state = parent ? 'holds it closed' : 'does not know it';
      throw new AppError(
        'ODS_UNAVAILABLE',
        `Site ${site}'s ODS relationships name ${code} as the organisation operating it, but ODS ${state}, so its optometry multiple could not be checked.`,
      );
    }
    return parent;
  }
}
