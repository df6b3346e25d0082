import type { AppConfig } from '../config';
import { AppError } from '../core/errors';
import { createGraphClient } from './directory/graph-client';
import { createGraphCredential } from './directory/graph-credential';
import { GraphDirectory, type Directory } from './directory/graph-directory';
import { loadPolicy, type Policy } from './eligibility/policy';
import type { DsptEntry, NasSite } from './eligibility/types';
import { OrdClient, type OrganisationLookup } from './reference/ord-client';
import { loadDsptRegister, loadNasSitesRegister, type Register } from './reference/registers';

/** Everything screening reads, shared by the bot and the command line. */
export interface DataSources {
  directory: Directory;
  organisations: OrganisationLookup;
  dspt: Register<DsptEntry>;
  nasSites: Register<NasSite>;
  policy: Policy;
  graphUrl: string;
  odsUrl: string;
}

/**
 * Opens the configured data sources. Both service URLs must be known by now: entry points
 * that run locally fill them in with sandboxes before calling this.
 */
export async function openDataSources(config: AppConfig): Promise<DataSources> {
  const graphUrl = config.graph.baseUrl;
  const odsUrl = config.ods.baseUrl;
  if (!graphUrl || !odsUrl) throw new AppError('CONFIG_INVALID', 'Fix these settings:\n  - GRAPH_BASE_URL and ODS_BASE_URL must be set.');
  const [policy, dspt, nasSites] = await Promise.all([loadPolicy(config.policyFile), loadDsptRegister(config.registers.dsptCsv), loadNasSitesRegister(config.registers.nasSitesCsv)]);
  return {
    directory: new GraphDirectory(createGraphClient(graphUrl, createGraphCredential(config.graph.auth)), config.directoryAttributes),
    organisations: new OrdClient(odsUrl),
    dspt,
    nasSites,
    policy,
    graphUrl,
    odsUrl,
  };
}
