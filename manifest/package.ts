import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import JSZip from 'jszip';

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
// A host name only: Teams' validDomains take no scheme, port or path.
const DOMAIN = /^(?=.{1,253}$)(?!-)[a-z0-9-]{1,63}(?<!-)(\.(?!-)[a-z0-9-]{1,63}(?<!-))+$/i;

export interface ManifestValues {
  /** The bot's Microsoft app id (Azure Bot registration): bots[0].botId and, unless teamsAppId says otherwise, the Teams app id. */
  appId: string;
  /** Host name the bot is served from, e.g. nas-transfer.azurewebsites.net (validDomains). */
  botDomain: string;
  /** The Teams app id when it differs from the bot's (the Agents Toolkit registers its own). */
  teamsAppId?: string;
}

/**
 * Fills the manifest's placeholders. They are written `${{NAME}}`, the Microsoft 365 Agents
 * Toolkit's syntax, so the toolkit (m365agents.yml, teamsApp/zipAppPackage) and this script
 * build the same package from the same file.
 */
export function fillManifest(template: string, values: ManifestValues): string {
  const teamsAppId = values.teamsAppId ?? values.appId;
  if (!GUID.test(values.appId)) throw new Error('MANIFEST_APP_ID must be the bot’s Microsoft app id (a GUID).');
  if (!GUID.test(teamsAppId)) throw new Error('TEAMS_APP_ID must be a GUID.');
  if (!DOMAIN.test(values.botDomain))
    throw new Error('BOT_DOMAIN must be the host name the bot is served from, e.g. nas-transfer.azurewebsites.net (no scheme or path).');
  const filled = template.replaceAll('${{TEAMS_APP_ID}}', teamsAppId).replaceAll('${{BOT_ID}}', values.appId).replaceAll('${{BOT_DOMAIN}}', values.botDomain);
  const unfilled = filled.match(/\$\{\{[A-Z0-9_]+\}\}/);
  if (unfilled) throw new Error(`The manifest has a placeholder this script does not fill: ${unfilled[0]}`);
  return filled;
}

/** Builds the Teams app package: manifest.json with the placeholders filled, and the two icons. */
export async function packageManifest(values: ManifestValues, outputDir: string): Promise<string> {
  const template = await readFile(path.join(__dirname, 'manifest.json'), 'utf8');
  const zip = new JSZip();
  zip.file('manifest.json', fillManifest(template, values));
  for (const icon of ['color.png', 'outline.png']) zip.file(icon, await readFile(path.join(__dirname, icon)));
  await mkdir(outputDir, { recursive: true });
  const target = path.join(outputDir, 'nas-transfer-bot.zip');
  await writeFile(target, await zip.generateAsync({ type: 'nodebuffer', compression: 'DEFLATE' }));
  return target;
}

if (require.main === module) {
  const env = process.env;
  packageManifest(
    { appId: env.MANIFEST_APP_ID ?? '', botDomain: env.BOT_DOMAIN ?? '', teamsAppId: env.TEAMS_APP_ID || undefined },
    path.join(__dirname, 'build'),
  ).then(
    (target) => process.stdout.write(`Wrote ${target}\n`),
    (error: Error) => {
      process.stderr.write(`${error.message}\n`);
      process.exitCode = 2;
    },
  );
}
