import path from 'node:path';
import { startApp } from '../app';
import { loadConfig } from '../config';
import { startupFailureMessage } from '../core/errors';
import { createLogger } from '../core/log';
import { startMissingSandboxes } from './sandbox/sandbox-defaults';
import { startPlayground, type RunningPlayground } from './playground/launch';

/**
 * `npm start`: the bot with its embedded defaults, and two Agents Playgrounds as the Teams
 * client: one signed in as the requester, one as NAS Operations. Ctrl-C stops all three.
 */
async function main(): Promise<void> {
  const logger = createLogger(loadConfig().logLevel);
  const sandboxed = await startMissingSandboxes(loadConfig(), logger);
  const app = await startApp(sandboxed.config, logger);
  const logDir = path.join(__dirname, '..', '.data', 'playground-logs');
  const playgrounds: RunningPlayground[] = [];
  const stopAll = async () => {
    await Promise.all(playgrounds.map((playground) => playground.stop()));
    await app.stop();
    await sandboxed.close();
  };
  process.once('SIGINT', () => void stopAll().then(() => process.exit(0)));
  process.once('SIGTERM', () => void stopAll().then(() => process.exit(0)));
  try {
    playgrounds.push(
      await startPlayground({ configFile: path.join(__dirname, 'playground', 'requester.yml'), port: 56150, botEndpoint: app.endpoint, logDir }),
    );
    playgrounds.push(await startPlayground({ configFile: path.join(__dirname, 'playground', 'ops.yml'), port: 56151, botEndpoint: app.endpoint, logDir }));
  } catch (error) {
    await stopAll();
    throw error;
  }
  const [requester, ops] = playgrounds as [RunningPlayground, RunningPlayground];
  process.stdout.write(
    [
      '',
      'NAS Transfer Bot is running with its embedded defaults (PGlite, sandbox Graph and ODS, sample registers).',
      `  Bot endpoint:           ${app.endpoint}`,
      `  Requester's Teams:      ${requester.url}   (Priya Okafor, Primary Administrator) -> Personal Chat, type "new transfer"`,
      `  NAS Operations' Teams:  ${ops.url}   (Tom Ashdown, NAS Operations) -> "Transfer Requests" channel`,
      ...(app.workspaceUrl ? [`  NAS Operations workspace: ${app.workspaceUrl}   (signed in as Tom Ashdown without Teams, development only)`] : []),
      'Open the NAS Operations page and its Transfer Requests channel once, so the bot learns the channel.',
      'Press Ctrl-C to stop everything.',
      '',
    ].join('\n'),
  );
}

main().catch((error: unknown) => {
  process.stderr.write(`${startupFailureMessage(error)}\n`);
  process.exit(1);
});
