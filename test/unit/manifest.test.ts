import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { inflateSync } from 'node:zlib';
import Ajv from 'ajv-draft-04';
import JSZip from 'jszip';
import { fillManifest, packageManifest } from '../../manifest/package';

const MANIFEST_DIR = path.join(__dirname, '..', '..', 'manifest');
const SCHEMA_FILE = path.join(__dirname, '..', 'schemas', 'teams-manifest-1.29.schema.json');
const VALUES = { appId: '6e6d7300-0000-4000-8000-0000000000f1', botDomain: 'nas-transfer.azurewebsites.net' };

/** The official Teams schema (draft-04), offline. Its only format is "uri", checked as an absolute URL. */
function manifestValidator() {
  const ajv = new Ajv({ allErrors: true, strict: false });
  ajv.addFormat('uri', (value: string) => URL.canParse(value));
  return ajv.compile(JSON.parse(readFileSync(SCHEMA_FILE, 'utf8')));
}

function filledManifest(): Record<string, any> {
  return JSON.parse(fillManifest(readFileSync(path.join(MANIFEST_DIR, 'manifest.json'), 'utf8'), VALUES));
}

/** Width, height and RGBA pixels of an 8-bit, non-interlaced RGBA or RGB PNG (enough for our two icons). */
function decodePng(png: Buffer): { width: number; height: number; channels: number; pixel(x: number, y: number): number[] } {
  assert.equal(png.subarray(0, 8).toString('hex'), '89504e470d0a1a0a', 'a PNG file');
  let offset = 8;
  let width = 0;
  let height = 0;
  let channels = 0;
  const idat: Buffer[] = [];
  while (offset < png.length) {
    const length = png.readUInt32BE(offset);
    const type = png.subarray(offset + 4, offset + 8).toString('ascii');
    const data = png.subarray(offset + 8, offset + 8 + length);
    if (type === 'IHDR') {
      width = data.readUInt32BE(0);
      height = data.readUInt32BE(4);
      assert.equal(data[8], 8, '8-bit');
      assert.equal(data[12], 0, 'not interlaced');
      channels = { 2: 3, 6: 4 }[data[9] as 2 | 6];
      assert.ok(channels, 'RGB or RGBA');
    }
    if (type === 'IDAT') idat.push(data);
    offset += 12 + length;
  }
  const raw = inflateSync(Buffer.concat(idat));
  const stride = width * channels;
  const pixels = Buffer.alloc(height * stride);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)]!;
    for (let x = 0; x < stride; x++) {
      const value = raw[y * (stride + 1) + 1 + x]!;
      const left = x >= channels ? pixels[y * stride + x - channels]! : 0;
      const up = y > 0 ? pixels[(y - 1) * stride + x]! : 0;
      const upLeft = x >= channels && y > 0 ? pixels[(y - 1) * stride + x - channels]! : 0;
      const paeth = () => {
        const p = left + up - upLeft;
        const [pa, pb, pc] = [Math.abs(p - left), Math.abs(p - up), Math.abs(p - upLeft)];
        return pa <= pb && pa <= pc ? left : pb <= pc ? up : upLeft;
      };
      const predictor = [0, left, up, (left + up) >> 1, paeth()][filter]!;
      pixels[y * stride + x] = (value + predictor) & 0xff;
    }
  }
  return { width, height, channels, pixel: (x, y) => [...pixels.subarray(y * stride + x * channels, y * stride + (x + 1) * channels)] };
}

describe('Teams app manifest', () => {
  it('is valid against the official 1.29 schema once its placeholders are filled', () => {
    const validate = manifestValidator();
    const manifest = filledManifest();
    assert.equal(manifest.manifestVersion, '1.29');
    assert.match(manifest.$schema, /\/v1\.29\/MicrosoftTeams\.schema\.json$/);
    assert.ok(validate(manifest), JSON.stringify(validate.errors, null, 2));
  });

  it('would be refused by the schema with an over-long developer name, so the check has teeth', () => {
    const validate = manifestValidator();
    const manifest = filledManifest();
    manifest.developer.name = 'NHSmail National Administration Service';
    assert.equal(validate(manifest), false);
    assert.ok(validate.errors!.some((error) => error.instancePath === '/developer/name' && error.keyword === 'maxLength'));
  });

  it('offers the bot in personal and team scope with command lists for requesters and ops, and the bot domain', () => {
    const manifest = filledManifest();
    const [bot] = manifest.bots;
    assert.deepEqual(bot.scopes, ['personal', 'team']);
    const commands = (scope: string) =>
      bot.commandLists.find((list: { scopes: string[] }) => list.scopes.includes(scope)).commands.map((command: { title: string }) => command.title);
    assert.deepEqual(commands('personal'), ['new transfer', 'status', 'help', 'cancel', 'withdraw', 'answer']);
    assert.deepEqual(commands('team'), ['pending', 'status', 'audit', 'export', 'sources', 'help']);
    assert.deepEqual(manifest.validDomains, [VALUES.botDomain]);
    assert.equal(bot.botId, VALUES.appId);
    assert.equal(manifest.id, VALUES.appId);
  });

  it('has a 192×192 colour icon and a 32×32 outline icon that is white on transparent', () => {
    const colour = decodePng(readFileSync(path.join(MANIFEST_DIR, 'color.png')));
    assert.deepEqual([colour.width, colour.height], [192, 192]);
    const outline = decodePng(readFileSync(path.join(MANIFEST_DIR, 'outline.png')));
    assert.deepEqual([outline.width, outline.height], [32, 32]);
    assert.equal(outline.channels, 4, 'the outline icon has an alpha channel');
    let opaque = 0;
    for (let y = 0; y < 32; y++) {
      for (let x = 0; x < 32; x++) {
        const [r, g, b, alpha] = outline.pixel(x, y);
        if (alpha === 0) continue;
        opaque += 1;
        assert.deepEqual([r, g, b], [255, 255, 255], `outline pixel ${x},${y} is white`);
      }
    }
    assert.equal(outline.pixel(0, 0)[3], 0, 'the background is transparent');
    assert.ok(opaque > 20, 'the outline draws something');
  });
});

describe('Teams app package', () => {
  it('zips the filled manifest and both icons', async () => {
    const zip = await JSZip.loadAsync(readFileSync(await packageManifest(VALUES, mkdtempSync(path.join(os.tmpdir(), 'nas-manifest-')))));
    assert.deepEqual(Object.keys(zip.files).sort(), ['color.png', 'manifest.json', 'outline.png']);
    const manifest = JSON.parse(await zip.file('manifest.json')!.async('string'));
    assert.equal(manifest.id, VALUES.appId);
    assert.equal(manifest.bots[0].botId, VALUES.appId);
    assert.ok(manifestValidator()(manifest));
    assert.equal(decodePng(await zip.file('color.png')!.async('nodebuffer')).width, 192);
  });

  it('takes a separate Teams app id when the Agents Toolkit registered one', () => {
    const manifest = JSON.parse(
      fillManifest(readFileSync(path.join(MANIFEST_DIR, 'manifest.json'), 'utf8'), { ...VALUES, teamsAppId: '6e6d7300-0000-4000-8000-0000000000f2' }),
    );
    assert.equal(manifest.id, '6e6d7300-0000-4000-8000-0000000000f2');
    assert.equal(manifest.bots[0].botId, VALUES.appId);
  });

  it('refuses to build without a real app id or bot domain', async () => {
    await assert.rejects(packageManifest({ ...VALUES, appId: '' }, os.tmpdir()), /MANIFEST_APP_ID/);
    await assert.rejects(packageManifest({ ...VALUES, botDomain: 'https://nas.example/api' }, os.tmpdir()), /BOT_DOMAIN/);
  });
});
