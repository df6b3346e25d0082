import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import JSZip from 'jszip';

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Builds the Teams app package (manifest.json with the bot's app id, and the two icons). */
export async function packageManifest(appId: string, outputDir: string): Promise<string> {
  if (!GUID.test(appId)) throw new Error('MANIFEST_APP_ID must be the bot’s Microsoft app id (a GUID).');
  const template = await readFile(path.join(__dirname, 'manifest.json'), 'utf8');
  const zip = new JSZip();
  zip.file('manifest.json', template.replaceAll('${MANIFEST_APP_ID}', appId));
  for (const icon of ['color.png', 'outline.png']) zip.file(icon, await readFile(path.join(__dirname, icon)));
  await mkdir(outputDir, { recursive: true });
  const target = path.join(outputDir, 'nas-transfer-bot.zip');
  await writeFile(target, await zip.generateAsync({ type: 'nodebuffer', compression: 'DEFLATE' }));
  return target;
}

if (require.main === module) {
  packageManifest(process.env.MANIFEST_APP_ID ?? '', path.join(__dirname, 'build')).then(
    (target) => process.stdout.write(`Wrote ${target}\n`),
    (error: Error) => {
      process.stderr.write(`${error.message}\n`);
      process.exitCode = 2;
    },
  );
}
