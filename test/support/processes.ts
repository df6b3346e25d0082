import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { stopChild } from '../../dev/playground/launch';

const ROOT = path.join(__dirname, '..', '..');
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Flags for a closed network: without them Chromium keeps trying to reach Google's services. */
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export function chromiumAvailable(): boolean {
  return existsSync(CHROMIUM_PATH);
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
}

const START_LIMIT_MS = 90_000;

/** A loopback port nobody is listening on now, for a bot process or a server of a test's own. */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export interface BotProcess {
  endpoint: string;
  /** The bot's own process id (node itself, not a wrapper): benches read its /proc/<pid>/status. */
  pid: number;
  /** The bot's own base URL (health and readiness). */
  baseUrl: string;
  /** Everything the bot wrote to stdout and stderr: tests read it to check what is logged. */
  output(): string;
  stop(): Promise<void>;
  /** kill -9: the process dies mid-whatever, as on a crash. */
  kill(): Promise<void>;
  /** SIGTERM, as a platform stopping the container does; resolves with the exit code. */
  terminate(): Promise<number | null>;
}

/**
 * Runs the real bot (index.ts, as `npm run bot` does) as a child process and waits for /healthz.
 * `bundle` runs the production bundle instead (dist/index.js, which `npm run build` writes), as `npm run start:prod` does.
 */
export async function startBotProcess(env: Record<string, string>, options: { bundle?: boolean } = {}): Promise<BotProcess> {
  const chunks: string[] = [];
  // node --import tsx, not the tsx command: that one runs the bot in a child of its own, which a kill -9 of the parent would leave running.
  const args = options.bundle ? [path.join(ROOT, 'dist', 'index.js')] : ['--import', 'tsx', path.join(ROOT, 'index.ts')];
  const child: ChildProcess = spawn(process.execPath, args, {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.on('data', (chunk: Buffer) => chunks.push(chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => chunks.push(chunk.toString()));
  const port = env.PORT;
  // A fresh embedded database and the sandboxes take seconds on a quiet machine and far longer on a loaded one (2 cores in CI).
  const deadline = Date.now() + START_LIMIT_MS;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`The bot exited while starting:\n${chunks.join('')}`);
    const healthy = await fetch(`http://127.0.0.1:${port}/healthz`).then(
      (response) => response.ok,
      () => false,
    );
    if (healthy) break;
    if (Date.now() > deadline) {
      await stopChild(child);
      throw new Error(`The bot did not start within ${START_LIMIT_MS / 1000} s:\n${chunks.join('')}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return {
    endpoint: `http://127.0.0.1:${port}/api/messages`,
    pid: child.pid!,
    baseUrl: `http://127.0.0.1:${port}`,
    output: () => chunks.join(''),
    stop: () => stopChild(child),
    terminate: async () => {
      if (child.exitCode !== null) return child.exitCode;
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      child.kill('SIGTERM');
      return exited;
    },
    kill: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      await exited;
    },
  };
}
