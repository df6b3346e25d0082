import { rmSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { build } from 'esbuild';

/**
 * Bundles the workspace page (main.ts with Fluent UI web components and teams-js) with esbuild
 * into a folder, which the bot serves (bot/workspace/page-files.ts) without knowing how it was
 * made: dist/workspace for production (`npm run build`, minified); outside production a
 * temporary folder, built once per process when the bot starts (app.ts). Everything comes
 * from node_modules: nothing is fetched.
 */
const PAGE_DIR = __dirname;
const STATIC_FILES = ['index.html', 'workspace.css'];

/** Writes the page's files into `outDir`; answers their names. */
export async function buildWorkspacePage(outDir: string, options: { minify?: boolean } = {}): Promise<string[]> {
  await mkdir(outDir, { recursive: true });
  const result = await build({
    entryPoints: [path.join(PAGE_DIR, 'main.ts')],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: ['chrome120', 'edge120', 'firefox120', 'safari17'],
    minify: options.minify ?? false,
    sourcemap: false,
    legalComments: 'none',
    write: false,
    outfile: path.join(outDir, 'workspace.js'),
    logLevel: 'silent',
  });
  const names: string[] = [];
  for (const output of result.outputFiles) {
    await writeFile(output.path, output.contents);
    names.push(path.basename(output.path));
  }
  for (const name of STATIC_FILES) {
    await copyFile(path.join(PAGE_DIR, name), path.join(outDir, name));
    names.push(name);
  }
  return names;
}

let builtThisProcess: Promise<string> | undefined;

/**
 * The page built into a temporary folder, once per process (tests start the bot many times),
 * and removed when the process exits, so that test runs and local starts leave no folders behind.
 */
export function workspacePageForDevelopment(): Promise<string> {
  builtThisProcess ??= mkdtemp(path.join(os.tmpdir(), 'nas-transfer-workspace-')).then(async (dir) => {
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
    await buildWorkspacePage(dir);
    return dir;
  });
  return builtThisProcess;
}

/** `tsx web/workspace/build.ts <dir>`: writes the page for production (infra/build.sh). */
async function main(outDir: string): Promise<void> {
  const names = await buildWorkspacePage(outDir, { minify: true });
  process.stdout.write(`workspace page: ${names.join(', ')} in ${outDir}\n`);
}

if (require.main === module) {
  main(process.argv[2] ?? path.join(PAGE_DIR, '..', '..', 'dist', 'workspace')).catch((error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  });
}
