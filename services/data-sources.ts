import path from 'node:path';
import { AppError } from '../core/errors';
import { createGraphClient } from './directory/graph-client';
import { createGraphCredential, GRAPH_APP_ONLY_SCOPE, type GraphAuthSettings } from './directory/graph-credential';
import { GraphDirectory, type Directory, type DirectoryAttributePaths } from './directory/graph-directory';
import { loadPolicy, type Policy } from './eligibility/policy';
import type { DsptEntry, NasSite } from './eligibility/types';
import { CachedOrganisations } from './reference/cached-organisations';
import { OdsFhirClient } from './reference/ods-fhir-client';
import { OrdClient, type OrganisationLookup } from './reference/ord-client';
import type { OdsPacer } from './reference/ods-http';
import { PrimaryRoles } from './reference/ods-role-codesystem';
import { dsptRegisterSource, nasSitesRegisterSource, type RegisterLedger, type RegisterSource } from './reference/registers';
import { hostOf, type SourceStatus } from './reference/source-status';

/** Register files are looked at this often besides on every screening, so a bad new file is reported promptly. */
const REGISTER_CHECK_MS = 60_000;
/**
 * The start-up read of the roles CodeSystem waits this long at most before the snapshot stands in.
 * A 429's Retry-After (or the shared ODS ledger's wait) longer than maxRetryAfterMs is not waited out:
 * OdsHttp's default of 60 s held start-up, and /healthz with it, for a minute (issue 23). The snapshot
 * stands in, and the read is tried again within 15 minutes (ods-role-codesystem.ts).
 */
const PRIMARY_ROLES_READ = { timeoutMs: 5_000, maxAttempts: 2, maxRetryAfterMs: 2_000 };

/** Everything screening reads, shared by the bot and the command line. */
export interface DataSources {
  directory: Directory;
  organisations: OrganisationLookup;
  /** Re-read when their files change; subscribe with onChange to hear of a reload, a file held back, or one that could not be used. */
  dspt: RegisterSource<DsptEntry>;
  nasSites: RegisterSource<NasSite>;
  policy: Policy;
  /** DSPT passes from a register older than this go to review; undefined for the built-in development sample. */
  dsptMaxAgeDays?: number;
  graphUrl: string;
  /** The ODS base URL in use (no key in it), and which API it is. */
  odsUrl: string;
  odsKind: 'fhir' | 'ord';
  /** Each source's freshness and last error, for the ops command `sources`. */
  sources(): SourceStatus[];
  /** Stops the register checks. */
  close(): void;
}

/** What the data sources are opened from: config.ts's AppConfig is one (it extends this), the command line passes the same. */
export interface DataSourceSettings {
  graph: { baseUrl?: string; auth?: GraphAuthSettings };
  directoryAttributes: DirectoryAttributePaths;
  ods: { fhirBaseUrl?: string; apiKey?: string; baseUrl?: string };
  registers: { dsptCsv: string; nasSitesCsv: string; dsptMaxAgeDays?: number };
  policyFile: string;
}

/**
 * Opens the configured data sources. The service URLs must be known by now: entry points
 * that run locally fill them in with sandboxes before calling this. A register that cannot
 * be read does not stop the bot: screening says so (REGISTER_UNAVAILABLE) until it can be.
 */
export async function openDataSources(
  config: DataSourceSettings,
  options: { registerLedger?: RegisterLedger; odsPacer?: OdsPacer } = {},
): Promise<DataSources> {
  const graphUrl = config.graph.baseUrl;
  const fhirUrl = config.ods.fhirBaseUrl;
  const ordUrl = config.ods.baseUrl;
  if (!graphUrl || (!fhirUrl && !ordUrl)) {
    throw new AppError('CONFIG_INVALID', 'Fix these settings:\n  - GRAPH_BASE_URL, and ODS_FHIR_BASE_URL or ODS_BASE_URL, must be set.');
  }
  const policy = await loadPolicy(config.policyFile);
  // Every instance's ODS calls share one budget when a store is attached (the bot); the command line goes unpaced.
  const pacing = options.odsPacer ? { pacer: options.odsPacer } : {};
  // Primary roles from the FHIR API's ODSOrganisationRole CodeSystem; the dated snapshot beside the policy only while it cannot be read.
  const primaryRoles = fhirUrl
    ? new PrimaryRoles(fhirUrl, config.ods.apiKey, path.dirname(config.policyFile), { ...PRIMARY_ROLES_READ, ...pacing })
    : undefined;
  await primaryRoles?.refresh();
  // Answers are kept a few minutes (CachedOrganisations): the instances' requesters and screenings read the same few organisations.
  const organisations: OrganisationLookup = new CachedOrganisations(
    fhirUrl && primaryRoles ? new OdsFhirClient(fhirUrl, config.ods.apiKey, { primaryRoleIds: primaryRoles, ...pacing }) : new OrdClient(ordUrl as string),
  );
  // The database dates a DSPT export whose name is gone, and remembers the copy in use across restarts.
  const ledger = options.registerLedger ? { ledger: options.registerLedger } : {};
  const dspt = dsptRegisterSource(config.registers.dsptCsv, ledger);
  const nasSites = nasSitesRegisterSource(config.registers.nasSitesCsv, ledger);
  await Promise.all([dspt.refresh(), nasSites.refresh()]);
  const stopWatching = [dspt.watch(REGISTER_CHECK_MS), nasSites.watch(REGISTER_CHECK_MS)];
  const credential = createGraphCredential(config.graph.auth);
  // The app's token asked for now, not by the first turn that needs Graph: that turn, and every other one meanwhile, shares
  // this request (SharedAppToken). A failure is only dropped: the first Graph call asks again, and fails as it would have.
  credential?.getToken(GRAPH_APP_ONLY_SCOPE).catch(() => undefined);
  const directory = new GraphDirectory(createGraphClient(graphUrl, credential), config.directoryAttributes);
  return {
    directory,
    organisations,
    dspt,
    nasSites,
    policy,
    ...(config.registers.dsptMaxAgeDays !== undefined ? { dsptMaxAgeDays: config.registers.dsptMaxAgeDays } : {}),
    graphUrl,
    odsUrl: (fhirUrl ?? ordUrl) as string,
    odsKind: fhirUrl ? 'fhir' : 'ord',
    sources: () => [
      { name: 'Directory', kind: 'Microsoft Graph', where: hostOf(graphUrl) },
      organisations.status(),
      ...(primaryRoles ? [primaryRoles.status()] : []),
      withAgeLimit(dspt.status(), config.registers.dsptMaxAgeDays),
      nasSites.status(),
      { name: 'Policy', kind: 'JSON file', where: path.basename(config.policyFile), notes: `version ${policy.version}` },
    ],
    close: () => stopWatching.forEach((stop) => stop()),
  };
}

function withAgeLimit(status: SourceStatus, maxAgeDays: number | undefined): SourceStatus {
  const limit = maxAgeDays === undefined ? 'no age limit (development sample)' : `DSPT passes go to review when it is over ${maxAgeDays} days old`;
  return { ...status, notes: status.notes ? `${status.notes}; ${limit}` : limit };
}
