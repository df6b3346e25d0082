import { fork } from 'node:child_process';
import { loadConfig, type AppConfig } from '../config';
import { silentLogger } from '../core/log';
import { startMissingSandboxes, type SandboxedConfig } from '../dev/sandbox/sandbox-defaults';

/**
 * The sandbox Graph and ODS servers in a child process of their own, for the turn benches: in
 * production they are Microsoft's and the NHS's servers, whose work is not the bot's. Started in
 * the bench's process, each Graph request the bot makes counted twice against it (its client, and
 * the server answering), while the bare bot beside it asks Graph nothing. The bot's own side of
 * each call (the Graph SDK, fetch, the socket) stays in the measured process.
 */
export async function startSandboxesElsewhere(config: AppConfig): Promise<SandboxedConfig> {
  const child = fork(__filename, [], { execArgv: process.execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const urls = await new Promise<{ graph: string; fhir: string }>((resolve, reject) => {
    child.once('message', (message) => resolve(message as { graph: string; fhir: string }));
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`the sandbox process ended (${code}) before it answered`)));
  });
  child.removeAllListeners('exit');
  return {
    config: { ...config, graph: { ...config.graph, baseUrl: urls.graph }, ods: { ...config.ods, fhirBaseUrl: urls.fhir } },
    close: async () => {
      if (child.exitCode !== null) return;
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill();
      await exited;
    },
  };
}

// The child: start the sandboxes from the demo data, say where they are, and serve until killed, or until the bench
// that started it is gone (its IPC channel closes), however the bench ended.
if (require.main === module && process.send) {
  process.once('disconnect', () => process.exit(0));
  startMissingSandboxes(loadConfig({ LOG_LEVEL: 'silent', PORT: '0' }), silentLogger).then(
    ({ config }) => process.send!({ graph: config.graph.baseUrl, fhir: config.ods.fhirBaseUrl }),
    (error: unknown) => {
      process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
      process.exit(1);
    },
  );
}
