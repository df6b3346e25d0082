import type { AppConfig } from '../config';
import { loadSandboxDirectory, startSandboxGraph } from '../dev/sandbox/graph-server';
import type { RunningSandbox } from '../dev/sandbox/http-sandbox';
import { loadSandboxOds, startSandboxOrd } from '../dev/sandbox/ord-server';
import { createGraphClient } from './directory/graph-client';
import { GraphDirectory, type Directory } from './directory/graph-directory';
import { loadPolicy, type Policy } from './eligibility/policy';
import type { DsptEntry, NasSite } from './eligibility/types';
import type { Logger } from '../core/log';
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
  close(): Promise<void>;
}

/**
 * Opens the configured data sources. Where GRAPH_BASE_URL or ODS_BASE_URL is not set, the
 * loopback sandbox for it is started from dev/ demo data: the client still talks real HTTP.
 */
export async function openDataSources(config: AppConfig, logger: Logger): Promise<DataSources> {
  const closers: Array<() => Promise<void>> = [];
  const urlOrSandbox = async (configured: string | undefined, name: string, start: () => Promise<RunningSandbox>): Promise<string> => {
    if (configured) return configured;
    const sandbox = await start();
    closers.push(() => sandbox.close());
    logger.info(`sandbox.${name}_started`, { url: sandbox.url });
    return sandbox.url;
  };
  try {
    const graphUrl = await urlOrSandbox(config.graph.baseUrl, 'graph', async () => startSandboxGraph(await loadSandboxDirectory(config.graph.sandboxDataFile)));
    const odsUrl = await urlOrSandbox(config.ods.baseUrl, 'ods', async () => startSandboxOrd(await loadSandboxOds(config.ods.sandboxDataFile)));
    const [policy, dspt, nasSites] = await Promise.all([loadPolicy(config.policyFile), loadDsptRegister(config.registers.dsptCsv), loadNasSitesRegister(config.registers.nasSitesCsv)]);
    return {
      directory: new GraphDirectory(createGraphClient(graphUrl, config.graph.credentials), config.directoryAttributes),
      organisations: new OrdClient(odsUrl),
      dspt,
      nasSites,
      policy,
      graphUrl,
      odsUrl,
      close: async () => {
        await Promise.all(closers.map((close) => close()));
      },
    };
  } catch (error) {
    await Promise.all(closers.map((close) => close()));
    throw error;
  }
}
