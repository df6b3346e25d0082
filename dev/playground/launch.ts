import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { AppError } from '../../core/errors';

export interface RunningPlayground {
  url: string;
  process: ChildProcess;
  stop(): Promise<void>;
}

export interface PlaygroundOptions {
  /** A .m365agentsplayground.yml: it fixes the current user, the chats, the team and its channels. */
  configFile: string;
  port: number;
  botEndpoint: string;
  logDir: string;
}

const CLI = require.resolve('@microsoft/m365agentsplayground/cli.js');
const START_TIMEOUT_MS = 30_000;

/** Starts one Microsoft 365 Agents Playground as a child process and waits until it serves its page. */
export async function startPlayground(options: PlaygroundOptions): Promise<RunningPlayground> {
  mkdirSync(options.logDir, { recursive: true });
  const child = spawn(process.execPath, [CLI, '-e', options.botEndpoint, '-c', 'msteams', '-p', String(options.port), '--disable-telemetry'], {
    env: {
      ...process.env,
      M365_AGENTS_PLAYGROUND_CONFIG_PATH: options.configFile,
      M365_AGENTS_PLAYGROUND_LOGFILE: path.join(options.logDir, `playground-${options.port}.log`),
      TEAMSAPPTESTER_BROWSER: 'none',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new AppError('PLAYGROUND_UNAVAILABLE', `It did not start within ${START_TIMEOUT_MS / 1000} s; see ${options.logDir}.`)),
      START_TIMEOUT_MS,
    );
    child.stdout?.on('data', (chunk: Buffer) => {
      const match = /Listening on (\d+)/.exec(chunk.toString());
      if (match) {
        clearTimeout(timer);
        resolve(Number(match[1]));
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new AppError('PLAYGROUND_UNAVAILABLE', `It exited (code ${code}) before it was ready; see ${options.logDir}.`));
    });
  });
  // It prints "Listening" before it has read its config; a config error ends it straight after.
  await waitForPage(`http://localhost:${port}`, child);
  return {
    url: `http://localhost:${port}`,
    process: child,
    stop: () => stopChild(child),
  };
}

async function waitForPage(url: string, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new AppError('PLAYGROUND_UNAVAILABLE', 'It stopped while starting: check its configuration file.');
    const ok = await fetch(url).then(
      (response) => response.ok,
      () => false,
    );
    if (ok) {
      await new Promise((resolve) => setTimeout(resolve, 500));
      if (child.exitCode === null) return;
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new AppError('PLAYGROUND_UNAVAILABLE', `${url} did not answer in time.`);
}

export function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const force = setTimeout(() => child.kill('SIGKILL'), 5_000);
    child.once('exit', () => {
      clearTimeout(force);
      resolve();
    });
    child.kill('SIGTERM');
  });
}
