import type { AppConfig } from '../../config';
import type { Logger } from '../../core/log';
import { loadSandboxDirectory, startSandboxGraph } from './graph-server';
import type { RunningSandbox } from './http-sandbox';
import { loadSandboxOds, startSandboxOrd } from './ord-server';

export interface SandboxedConfig {
  /** The configuration with GRAPH_BASE_URL and ODS_BASE_URL filled in. */
  config: AppConfig;
  close(): Promise<void>;
}

/**
 * For local runs only: wherever GRAPH_BASE_URL or ODS_BASE_URL is not set, starts the
 * loopback sandbox for it from the demo data, so the clients still speak real HTTP.
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
    const odsUrl = await urlOrSandbox(config.ods.baseUrl, 'ods', async () => startSandboxOrd(await loadSandboxOds(config.ods.sandboxDataFile)));
    return { config: { ...config, graph: { ...config.graph, baseUrl: graphUrl }, ods: { ...config.ods, baseUrl: odsUrl } }, close };
  } catch (error) {
    await close();
    throw error;
  }
}
