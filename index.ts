import { startApp } from './app';
import { prepareFirstTurnCards } from './bot/first-turn-cards';
import { loadConfig } from './config';
import { startupFailureMessage } from './core/errors';
import { createLogger } from './core/log';

/**
 * Entry point: configuration, then the app, then clean shutdown on SIGINT/SIGTERM. Outside
 * production, a missing Graph or ODS URL means the local sandboxes; production configuration
 * must name both (config.ts refuses to start otherwise), so it never loads dev/.
 */
async function main(): Promise<void> {
  let config = loadConfig();
  const logger = createLogger(config.logLevel);
  const closers: Array<() => Promise<void>> = [];
  if (config.environment !== 'production' && (!config.graph.baseUrl || (!config.ods.fhirBaseUrl && !config.ods.baseUrl))) {
    // Loaded only here, so that a production image may leave dev/ out.
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- a lazy require keeps dev/ out of the production bundle's module graph
    const { startMissingSandboxes } = require('./dev/sandbox/sandbox-defaults') as typeof import('./dev/sandbox/sandbox-defaults.js');
    const sandboxed = await startMissingSandboxes(config, logger);
    closers.push(() => sandboxed.close());
    config = sandboxed.config;
  }
  // Before the server listens: the first turns of a burst must not wait behind a template's parse.
  prepareFirstTurnCards();
  const app = await startApp(config, logger);
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    await app.stop();
    await Promise.all(closers.map((close) => close()));
    process.exit(0);
  };
  process.on('SIGINT', () => void stop());
  process.on('SIGTERM', () => void stop());
}

main().catch((error: unknown) => {
  process.stderr.write(`${startupFailureMessage(error)}\n`);
  process.exit(1);
});
