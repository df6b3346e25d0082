import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { CONFIG_VARIABLES, DEMO, loadConfig } from '../../config';

describe('configuration', () => {
  it('runs with no environment at all, on the embedded demo defaults', () => {
    const config = loadConfig({});
    assert.equal(config.environment, 'development');
    assert.equal(config.port, 3978);
    assert.equal(config.bot.appId, '');
    assert.equal(config.bot.appType, 'MultiTenant');
    assert.equal(config.database.kind, 'pglite');
    assert.equal(config.graph.baseUrl, undefined);
    assert.equal(config.opsGroupId, DEMO.opsGroupId);
    assert.equal(config.maxAccountsPerRequest, 500);
  });

  it('uses PostgreSQL when DATABASE_URL is set', () => {
    assert.deepEqual(loadConfig({ DATABASE_URL: 'postgres://db/nas' }).database, { kind: 'postgres', url: 'postgres://db/nas' });
  });

  it('fails fast in production with every missing setting listed, an empty app id among them', () => {
    assert.throws(
      () => loadConfig({ APP_ENV: 'production' }),
      (error: { code: string; userMessage: string }) => {
        assert.equal(error.code, 'CONFIG_INVALID');
        for (const setting of ['MicrosoftAppId', 'TENANT_ID', 'DATABASE_URL', 'GRAPH_BASE_URL', 'ODS_BASE_URL', 'REQUESTER_GROUP_ID', 'OPS_GROUP_ID', 'OPS_CHANNEL_ID', 'GRAPH_CLIENT_ID']) {
          assert.match(error.userMessage, new RegExp(`- ${setting}: `));
        }
        return true;
      },
    );
  });

  it('names each malformed value', () => {
    assert.throws(() => loadConfig({ PORT: 'eighty', GRAPH_BASE_URL: 'not a url', MAX_ACCOUNTS_PER_REQUEST: '0' }), (error: { userMessage: string }) => {
      assert.match(error.userMessage, /- PORT: /);
      assert.match(error.userMessage, /- GRAPH_BASE_URL: /);
      assert.match(error.userMessage, /- MAX_ACCOUNTS_PER_REQUEST: /);
      return true;
    });
  });

  it('refuses a remote Graph without credentials', () => {
    assert.throws(() => loadConfig({ GRAPH_BASE_URL: 'https://graph.microsoft.com' }), /GRAPH_TENANT_ID/);
    assert.equal(loadConfig({ GRAPH_BASE_URL: 'http://127.0.0.1:4000' }).graph.credentials, undefined);
  });

  it('documents every variable it reads in .env.example', () => {
    const example = readFileSync(path.join(__dirname, '..', '..', '.env.example'), 'utf8');
    const documented = new Set([...example.matchAll(/^([A-Za-z_]+)=/gm)].map((match) => match[1]));
    assert.ok(CONFIG_VARIABLES.length > 20);
    assert.deepEqual(CONFIG_VARIABLES.filter((name) => !documented.has(name)), []);
  });
});
