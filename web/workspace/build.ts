import { readFile, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { build } from 'esbuild';
import { contentTypeOf, type PageFiles } from '../../bot/workspace/page-files';

/**
 * Bundles the workspace page (main.ts with Fluent UI web components and teams-js) with
 * esbuild: in memory when the bot starts in development and tests, to dist/workspace for
 * production (`npm run build`). Everything comes from node_modules: nothing is fetched.
 */
const PAGE_DIR = __dirname;
const STATIC_FILES = ['index.html', 'workspace.css'];

export async function buildWorkspacePage(options: { minify?: boolean } = {}): Promise<PageFiles> {
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
    outfile: 'workspace.js',
    logLevel: 'silent',
  });
  const files = new Map<string, { contentType: string; body: Buffer }>();
  for (const output of result.outputFiles) {
    const name = path.basename(output.path);
    files.set(name, { contentType: contentTypeOf(name), body: Buffer.from(output.contents) });
  }
  for (const name of STATIC_FILES) files.set(name, { contentType: contentTypeOf(name), body: await readFile(path.join(PAGE_DIR, name)) });
  return files;
}

/** `tsx web/workspace/build.ts <dir>`: writes the page for production (infra/build.sh). */
async function main(outDir: string): Promise<void> {
  const files = await buildWorkspacePage({ minify: true });
  await mkdir(outDir, { recursive: true });
  for (const [name, file] of files) await writeFile(path.join(outDir, name), file.body);
  process.stdout.write(`workspace page: ${[...files.keys()].join(', ')} in ${outDir}\n`);
}

if (require.main === module) {
  main(process.argv[2] ?? path.join(PAGE_DIR, '..', '..', 'dist', 'workspace')).catch((error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  });
}
