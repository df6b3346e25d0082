import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import Ajv from 'ajv-draft-04';
import { fillManifest } from '../../manifest/package';

/**
 * The workspace in the Teams app: a personal static tab and a configurable tab for the ops
 * channel served by the bot's own domain, and webApplicationInfo for Teams single sign-on whose
 * resource is the audience the API checks; valid against the official 1.29 schema.
 */
const ROOT = path.join(__dirname, '..', '..');
const VALUES = { appId: '6e6d7300-0000-4000-8000-0000000000f1', botDomain: 'nas-transfer.azurewebsites.net' };

describe('Teams app manifest: the NAS Operations workspace', () => {
  const manifest = JSON.parse(fillManifest(readFileSync(path.join(ROOT, 'manifest', 'manifest.json'), 'utf8'), VALUES)) as Record<string, any>;

  it('is valid against the 1.29 schema with its tabs and webApplicationInfo', () => {
    const ajv = new Ajv({ allErrors: true, strict: false });
    ajv.addFormat('uri', (value: string) => URL.canParse(value));
    const validate = ajv.compile(JSON.parse(readFileSync(path.join(ROOT, 'test', 'schemas', 'teams-manifest-1.29.schema.json'), 'utf8')));
    assert.ok(validate(manifest), JSON.stringify(validate.errors, null, 2));
  });

  it('offers the workspace as a personal tab and as a tab for the ops channel, on the bot’s domain', () => {
    assert.deepEqual(manifest.staticTabs, [
      {
        entityId: 'nas-operations-workspace',
        name: 'NAS workspace',
        contentUrl: 'https://nas-transfer.azurewebsites.net/workspace/',
        websiteUrl: 'https://nas-transfer.azurewebsites.net/workspace/',
        scopes: ['personal'],
      },
    ]);
    assert.deepEqual(manifest.configurableTabs, [
      {
        configurationUrl: 'https://nas-transfer.azurewebsites.net/workspace/configure',
        canUpdateConfiguration: false,
        scopes: ['team'],
        context: ['channelTab'],
      },
    ]);
    assert.ok(manifest.validDomains.includes('nas-transfer.azurewebsites.net'));
  });

  it('asks Teams for SSO tokens whose audience is the application ID URI the API checks (WORKSPACE_APP_ID_URI)', () => {
    assert.deepEqual(manifest.webApplicationInfo, { id: VALUES.appId, resource: `api://${VALUES.botDomain}/${VALUES.appId}` });
    const example = readFileSync(path.join(ROOT, '.env.example'), 'utf8');
    assert.match(example, /^WORKSPACE_APP_ID_URI=$/m);
    assert.match(example, /webApplicationInfo\.resource,\s*\n#\s*e\.g\. api:\/\/<bot domain>\/<app id>/);
  });
});
