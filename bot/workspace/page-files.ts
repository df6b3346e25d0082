import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { AppError } from '../../core/errors';

/** The workspace page: a few static files served from memory, by name. */
export type PageFiles = ReadonlyMap<string, { contentType: string; body: Buffer }>;

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
};

export function contentTypeOf(name: string): string {
  return CONTENT_TYPES[path.extname(name)] ?? 'application/octet-stream';
}

/** The page as `npm run build` wrote it (dist/workspace): production never bundles at run time. */
export async function loadPageFiles(dir: string): Promise<PageFiles> {
  const names = await readdir(dir).catch((error: unknown) => {
    throw new AppError('CONFIG_INVALID', `The workspace page is missing from ${dir}: run npm run build.`, { cause: error });
  });
  const files = new Map<string, { contentType: string; body: Buffer }>();
  for (const name of names) files.set(name, { contentType: contentTypeOf(name), body: await readFile(path.join(dir, name)) });
  if (!files.has('index.html')) throw new AppError('CONFIG_INVALID', `The workspace page in ${dir} has no index.html: run npm run build.`);
  return files;
}
