import type { AppConfig } from '../../config';
import type { Logger } from '../../core/log';
import { loadSandboxDirectory, startSandboxGraph } from './graph-server';
import type { RunningSandbox } from './http-sandbox';
import { startSandboxOds } from './ods-server';
import { loadSandboxOds } from './ord-server';

export interface SandboxedConfig {
  /** The configuration with GRAPH_BASE_URL and an ODS source filled in (the sandbox's FHIR API when none was set). */
  config: AppConfig;
  close(): Promise<void>;
}

/**
 * For local runs only: wherever GRAPH_BASE_URL, or both ODS_FHIR_BASE_URL and ODS_BASE_URL, are
 * not set, starts the loopback sandbox for it from the demo data, so the clients still speak
 * real HTTP. The sandbox ODS server answers as the FHIR R4 API (the default) and as ORD.
 * Entry points call this; production start-up never does.
 */
export async function startMissingSandboxes(config: AppConfig, logger: Logger): Promise<SandboxedConfig> {
  const started: RunningSandbox[] = [];
  const close = async () => {
    await Promise.all(started.map((sandbox) => sandbox.close()));
  };
  const urlOrSandbox = async (configured: string | undefined, name: string, start: () => Promise<RunningSandbox>): Promise<string> => {
    if (configured) return configured;
    const sandbox = await start();
    started.push(sandbox);
    logger.info(`sandbox.${name}_started`, { url: sandbox.url });
    return sandbox.url;
  };
  try {
    const graphUrl = await urlOrSandbox(config.graph.baseUrl, 'graph', async () => startSandboxGraph(await loadSandboxDirectory(config.graph.sandboxDataFile)));
    if (config.ods.fhirBaseUrl || config.ods.baseUrl) return { config: { ...config, graph: { ...config.graph, baseUrl: graphUrl } }, close };
    const fhirUrl = await urlOrSandbox(undefined, 'ods', async () => startSandboxOds(await loadSandboxOds(config.ods.sandboxDataFile)));
    return { config: { ...config, graph: { ...config.graph, baseUrl: graphUrl }, ods: { ...config.ods, fhirBaseUrl: fhirUrl } }, close };
  } catch (error) {
    await close();
    throw error;
  }
}
