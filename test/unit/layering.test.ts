import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

/**
 * Folders import only downward, in the order the README's layout gives them, so no two folders
 * import each other (a loop at folder level). Every import counts: value, type-only, re-export,
 * require() and import(), since a type import still ties one folder to the other's changes.
 */
const ROOT = path.resolve(__dirname, '..', '..');

/** Lowest first. A folder may import its own files and those of any folder in an earlier row; never one in its own row or a later one. */
const LAYERS: readonly string[][] = [
  ['core'], // errors, logging
  ['services'], // the domain and its ports: settings arrive as services' own types
  ['cards', 'config'], // card rendering; the only reader of process.env (it imports services' setting types)
  ['bot', 'web'], // the Teams edge; the workspace page (built into a folder the bot serves)
  ['app'], // composition root
  ['dev'], // sandboxes and `npm start`
  ['cli', 'index', 'manifest'], // entry points and packaging
  ['test'],
  ['bench'],
];
const SKIPPED = new Set(['node_modules', '.git', 'dist', 'deploy-stage', 'test-output', '.data']);

const rank = new Map(LAYERS.flatMap((row, index) => row.map((folder) => [folder, index] as const)));

/** The top-level folder a file belongs to: app.ts is "app", services/store/x.ts is "services". */
function folderOf(file: string): string {
  const [first] = path.relative(ROOT, file).split(path.sep);
  return first!.replace(/\.(ts|js|mjs|cjs)$/, '');
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    if (SKIPPED.has(entry.name)) return [];
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(full);
    return /\.ts$/.test(entry.name) && !entry.name.endsWith('.d.ts') ? [full] : [];
  });
}

interface Crossing {
  from: string;
  to: string;
  file: string;
  specifier: string;
}

function folderImports(): Crossing[] {
  const crossings: Crossing[] = [];
  for (const file of sourceFiles(ROOT)) {
    const { importedFiles } = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
    for (const { fileName: specifier } of importedFiles) {
      if (!specifier.startsWith('.')) continue;
      const from = folderOf(file);
      const to = folderOf(path.resolve(path.dirname(file), specifier));
      if (from !== to) crossings.push({ from, to, file: path.relative(ROOT, file), specifier });
    }
  }
  return crossings;
}

describe('layering: folders import only downward', () => {
  const crossings = folderImports();

  it('finds the imports it judges (the parse is not silently empty)', () => {
    assert.ok(crossings.some((crossing) => crossing.from === 'app' && crossing.to === 'bot'));
    assert.ok(crossings.some((crossing) => crossing.from === 'config' && crossing.to === 'services'));
    assert.ok(
      crossings.some((crossing) => crossing.from === 'app' && crossing.to === 'web'),
      'a require() counts',
    );
  });

  it('every folder with code has a place in the order', () => {
    const unplaced = [...new Set(crossings.flatMap((crossing) => [crossing.from, crossing.to]))].filter((folder) => !rank.has(folder));
    assert.deepEqual(unplaced, [], 'add new folders to LAYERS (and the README layout)');
  });

  it('no import goes up or sideways (so no two folders import each other)', () => {
    const upward = crossings
      .filter((crossing) => rank.has(crossing.from) && rank.has(crossing.to) && rank.get(crossing.to)! >= rank.get(crossing.from)!)
      .map((crossing) => `${crossing.file} (${crossing.from}) imports ${crossing.specifier} (${crossing.to})`);
    assert.deepEqual(upward, []);
  });

  it('no loop between folders, whatever the order says', () => {
    const edges = new Map<string, Set<string>>();
    for (const { from, to } of crossings) edges.set(from, (edges.get(from) ?? new Set()).add(to));
    const reaches = (start: string, goal: string, seen = new Set<string>()): boolean =>
      [...(edges.get(start) ?? [])].some((next) => next === goal || (!seen.has(next) && (seen.add(next), reaches(next, goal, seen))));
    const loops = [...edges.keys()].filter((folder) => reaches(folder, folder));
    assert.deepEqual(loops, []);
  });
});
