import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { CONFIG_VARIABLES, DEMO, loadConfig } from '../../config';

/** A complete production environment; tests take settings away from it. */
const PRODUCTION = {
  APP_ENV: 'production',
  MicrosoftAppId: '6e6d7300-0000-4000-8000-0000000000f1',
  MicrosoftAppPassword: 's3cret',
  MicrosoftAppTenantId: '6e6d7300-0000-4000-8000-000000000001',
  TENANT_ID: '6e6d7300-0000-4000-8000-000000000001',
  DATABASE_URL: 'postgres://nas@db.example.test/nas',
  GRAPH_BASE_URL: 'https://graph.microsoft.com',
  GRAPH_AUTH: 'managed-identity',
  GRAPH_MANAGED_IDENTITY_CLIENT_ID: '6e6d7300-0000-4000-8000-0000000000c1',
  ODS_FHIR_BASE_URL: 'https://api.service.nhs.uk/organisation-data-terminology-api/fhir',
  ODS_API_KEY: 'an-api-key',
  REQUESTER_GROUP_ID: '6e6d7300-0000-4000-8000-0000000000a1',
  OPS_GROUP_ID: '6e6d7300-0000-4000-8000-0000000000b1',
  OPS_CHANNEL_ID: '19:ops@thread.tacv2',
  DSPT_REGISTER_CSV: '/data/dspt-register.csv',
  NAS_SITES_CSV: '/data/nas-sites.csv',
} as const;

/** The problem list loadConfig reports; fails the test if it accepted the settings. */
function configProblems(env: Record<string, string | undefined>): string {
  try {
    loadConfig(env);
  } catch (error) {
    assert.equal((error as { code?: string }).code, 'CONFIG_INVALID');
    return (error as { userMessage: string }).userMessage;
  }
  assert.fail('the configuration was accepted');
}

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
    assert.equal(config.host, '127.0.0.1', 'a developer machine listens on loopback only');
    assert.equal(config.bot.openIdMetadataUrl, undefined);
    assert.equal(config.graph.auth, undefined);
  });

  it('listens where HOST says, on every interface by default in production', () => {
    assert.equal(loadConfig({ HOST: '::' }).host, '::');
    assert.equal(loadConfig(PRODUCTION).host, '0.0.0.0');
  });

  it('uses PostgreSQL when DATABASE_URL is set', () => {
    assert.deepEqual(loadConfig({ DATABASE_URL: 'postgres://db/nas' }).database, { kind: 'postgres', url: 'postgres://db/nas' });
  });

  it('fails fast in production with every missing setting listed, an empty app id among them', () => {
    assert.throws(
      () => loadConfig({ APP_ENV: 'production' }),
      (error: { code: string; userMessage: string }) => {
        assert.equal(error.code, 'CONFIG_INVALID');
        for (const setting of [
          'MicrosoftAppId',
          'MicrosoftAppTenantId',
          'MicrosoftAppPassword',
          'TENANT_ID',
          'DATABASE_URL',
          'GRAPH_BASE_URL',
          'ODS_FHIR_BASE_URL',
          'REQUESTER_GROUP_ID',
          'OPS_GROUP_ID',
          'OPS_CHANNEL_ID',
          'GRAPH_AUTH',
          'DSPT_REGISTER_CSV',
          'NAS_SITES_CSV',
        ]) {
          assert.match(error.userMessage, new RegExp(`- ${setting}: `));
        }
        return true;
      },
    );
  });

  it('ODS: exactly one of the FHIR API and ORD; the FHIR API needs its key unless on loopback; https in production', () => {
    const config = loadConfig(PRODUCTION);
    assert.deepEqual(config.ods, {
      fhirBaseUrl: PRODUCTION.ODS_FHIR_BASE_URL,
      apiKey: 'an-api-key',
      baseUrl: undefined,
      sandboxDataFile: config.ods.sandboxDataFile,
    });
    const ord = loadConfig({ ...PRODUCTION, ODS_FHIR_BASE_URL: '', ODS_API_KEY: '', ODS_BASE_URL: 'https://directory.spineservices.nhs.uk/ORD/2-0-0' });
    assert.equal(ord.ods.baseUrl, 'https://directory.spineservices.nhs.uk/ORD/2-0-0');
    assert.equal(ord.ods.fhirBaseUrl, undefined);
    assert.match(
      configProblems({ ...PRODUCTION, ODS_BASE_URL: 'https://directory.spineservices.nhs.uk/ORD/2-0-0' }),
      /ODS_BASE_URL: must be empty when ODS_FHIR_BASE_URL is set/,
    );
    assert.match(configProblems({ ...PRODUCTION, ODS_FHIR_BASE_URL: '' }), /ODS_FHIR_BASE_URL: is required in production \(or ODS_BASE_URL/);
    const noKey = configProblems({ ...PRODUCTION, ODS_API_KEY: '' });
    assert.match(noKey, /ODS_API_KEY: is required with a non-loopback ODS_FHIR_BASE_URL/);
    assert.match(
      configProblems({ ODS_FHIR_BASE_URL: 'https://int.api.service.nhs.uk/organisation-data-terminology-api/fhir' }),
      /ODS_API_KEY/,
      'outside production too',
    );
    assert.match(configProblems({ ...PRODUCTION, ODS_FHIR_BASE_URL: 'http://ods.example.test/fhir' }), /ODS_FHIR_BASE_URL: must be an https URL in production/);
    assert.equal(loadConfig({ ODS_FHIR_BASE_URL: 'http://127.0.0.1:8080/fhir' }).ods.apiKey, undefined, 'a loopback sandbox needs no key');
    assert.doesNotMatch(
      configProblems({ ...PRODUCTION, ODS_FHIR_BASE_URL: 'not a url', ODS_API_KEY: 'secret-key-value' }),
      /secret-key-value/,
      'the key is never echoed',
    );
  });

  it('DSPT_MAX_AGE_DAYS: 14 by default for a configured register, none for the built-in sample', () => {
    assert.equal(loadConfig(PRODUCTION).registers.dsptMaxAgeDays, 14);
    assert.equal(loadConfig({ ...PRODUCTION, DSPT_MAX_AGE_DAYS: '30' }).registers.dsptMaxAgeDays, 30);
    assert.equal(loadConfig({}).registers.dsptMaxAgeDays, undefined);
    assert.match(configProblems({ DSPT_MAX_AGE_DAYS: '0' }), /DSPT_MAX_AGE_DAYS/);
  });

  it('names each malformed value', () => {
    assert.throws(
      () => loadConfig({ PORT: 'eighty', GRAPH_BASE_URL: 'not a url', MAX_ACCOUNTS_PER_REQUEST: '0' }),
      (error: { userMessage: string }) => {
        assert.match(error.userMessage, /- PORT: /);
        assert.match(error.userMessage, /- GRAPH_BASE_URL: /);
        assert.match(error.userMessage, /- MAX_ACCOUNTS_PER_REQUEST: /);
        return true;
      },
    );
  });

  it('accepts a complete production configuration', () => {
    const config = loadConfig(PRODUCTION);
    assert.equal(config.environment, 'production');
    assert.deepEqual(config.bot, {
      appId: PRODUCTION.MicrosoftAppId,
      appPassword: 's3cret',
      appType: 'SingleTenant',
      appTenantId: PRODUCTION.MicrosoftAppTenantId,
      openIdMetadataUrl: undefined,
    });
    assert.deepEqual(config.graph.auth, { kind: 'managed-identity', clientId: PRODUCTION.GRAPH_MANAGED_IDENTITY_CLIENT_ID });
  });

  it('lists SingleTenant without MicrosoftAppTenantId with the other problems, not as a bare assertion later', () => {
    const { MicrosoftAppTenantId: _omitted, ...withoutTenant } = PRODUCTION;
    const message = configProblems({ ...withoutTenant, MicrosoftAppType: 'SingleTenant', OPS_CHANNEL_ID: '' });
    assert.match(message, /- MicrosoftAppTenantId: is required when MicrosoftAppType is SingleTenant/);
    assert.match(message, /- OPS_CHANNEL_ID: is required in production/);
    // Outside production too: botbuilder would otherwise die at the first turn.
    assert.match(configProblems({ MicrosoftAppId: PRODUCTION.MicrosoftAppId, MicrosoftAppPassword: 'x' }), /- MicrosoftAppTenantId: /);
  });

  it('refuses a password with a user-assigned managed identity, and needs its tenant', () => {
    const message = configProblems({ MicrosoftAppId: PRODUCTION.MicrosoftAppId, MicrosoftAppType: 'UserAssignedMSI', MicrosoftAppPassword: 'x' });
    assert.match(message, /- MicrosoftAppPassword: must be empty/);
    assert.match(message, /- MicrosoftAppTenantId: is required when MicrosoftAppType is UserAssignedMSI/);
  });

  it('does not let a malformed value hide the other problems', () => {
    const message = configProblems({ APP_ENV: 'production', PORT: 'eighty', MicrosoftAppType: 'SingleTenant', GRAPH_BASE_URL: 'not a url' });
    for (const setting of ['PORT', 'GRAPH_BASE_URL', 'MicrosoftAppId', 'MicrosoftAppTenantId', 'DATABASE_URL', 'OPS_GROUP_ID', 'GRAPH_AUTH']) {
      assert.match(message, new RegExp(`- ${setting}: `), `${setting} is listed`);
    }
  });

  it('takes an OpenID metadata override for the channel, https only in production', () => {
    assert.equal(loadConfig({ BotOpenIdMetadata: 'http://127.0.0.1:4100/openid' }).bot.openIdMetadataUrl, 'http://127.0.0.1:4100/openid');
    assert.match(configProblems({ ...PRODUCTION, BotOpenIdMetadata: 'http://keys.example.test/openid' }), /- BotOpenIdMetadata: must be an https URL/);
    assert.match(configProblems({ BotOpenIdMetadata: 'not a url' }), /- BotOpenIdMetadata: /);
  });

  it('reads Graph app-only auth as a client secret, a certificate or a managed identity', () => {
    const app = { GRAPH_BASE_URL: 'https://graph.microsoft.com', GRAPH_TENANT_ID: 'tenant', GRAPH_CLIENT_ID: 'client' };
    const secret = loadConfig({ ...app, GRAPH_CLIENT_SECRET: 'shh' }).graph;
    assert.deepEqual(secret.auth, { kind: 'client-secret', tenantId: 'tenant', clientId: 'client', clientSecret: 'shh' });
    assert.deepEqual(loadConfig({ ...app, GRAPH_CLIENT_CERTIFICATE_PATH: '/secrets/graph.pem' }).graph.auth, {
      kind: 'certificate',
      tenantId: 'tenant',
      clientId: 'client',
      certificatePath: '/secrets/graph.pem',
      certificatePassword: undefined,
    });
    assert.deepEqual(loadConfig({ GRAPH_BASE_URL: 'https://graph.microsoft.com', GRAPH_AUTH: 'managed-identity' }).graph.auth, {
      kind: 'managed-identity',
      clientId: undefined,
    });
    const missing = configProblems({ GRAPH_BASE_URL: 'https://graph.microsoft.com', GRAPH_AUTH: 'certificate' });
    for (const setting of ['GRAPH_TENANT_ID', 'GRAPH_CLIENT_ID', 'GRAPH_CLIENT_CERTIFICATE_PATH'])
      assert.match(missing, new RegExp(`- ${setting}: is required for Graph certificate`));
  });

  it('refuses a remote Graph without credentials', () => {
    assert.throws(() => loadConfig({ GRAPH_BASE_URL: 'https://graph.microsoft.com' }), /GRAPH_TENANT_ID/);
    assert.equal(loadConfig({ GRAPH_BASE_URL: 'http://127.0.0.1:4000' }).graph.auth, undefined);
  });

  it('documents every variable it reads in .env.example', () => {
    const example = readFileSync(path.join(__dirname, '..', '..', '.env.example'), 'utf8');
    const documented = new Set([...example.matchAll(/^([A-Za-z_]+)=/gm)].map((match) => match[1]));
    assert.ok(CONFIG_VARIABLES.length > 20);
    assert.deepEqual(
      CONFIG_VARIABLES.filter((name) => !documented.has(name)),
      [],
    );
  });
});
