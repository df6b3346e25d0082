import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import JSZip from 'jszip';
import { packageManifest } from '../../manifest/package';

describe('Teams app package', () => {
  it('zips the manifest with the bot id filled in, and both icons', async () => {
    const appId = '6e6d7300-0000-4000-8000-0000000000f1';
    const zip = await JSZip.loadAsync(readFileSync(await packageManifest(appId, mkdtempSync(path.join(os.tmpdir(), 'nas-manifest-')))));
    assert.deepEqual(Object.keys(zip.files).sort(), ['color.png', 'manifest.json', 'outline.png']);
    const manifest = JSON.parse(await zip.file('manifest.json')!.async('string'));
    assert.equal(manifest.id, appId);
    assert.equal(manifest.bots[0].botId, appId);
    const personalCommands = manifest.bots[0].commandLists[0].commands.map((command: { title: string }) => command.title);
    assert.deepEqual(personalCommands, ['new transfer', 'status', 'cancel', 'help']);
    const colour = await zip.file('color.png')!.async('nodebuffer');
    assert.equal(colour.readUInt32BE(16), 192, 'colour icon is 192 px wide');
  });

  it('refuses to build without a real app id', async () => {
    await assert.rejects(packageManifest('', os.tmpdir()), /MANIFEST_APP_ID/);
  });
});
