import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ClientCertificateCredential, ClientSecretCredential, ManagedIdentityCredential } from '@azure/identity';
import { loadConfig } from '../../config';
import { createGraphCredential } from '../../services/directory/graph-credential';

/** The @azure/identity credential behind the shared token. */
const sourceOf = (settings: Parameters<typeof createGraphCredential>[0]) => createGraphCredential(settings)?.source;

describe('Graph app-only credential', () => {
  const app = {
    GRAPH_BASE_URL: 'https://graph.microsoft.com',
    GRAPH_TENANT_ID: '6e6d7300-0000-4000-8000-000000000001',
    GRAPH_CLIENT_ID: '6e6d7300-0000-4000-8000-0000000000c1',
  };

  it('has none for a loopback sandbox', () => {
    assert.equal(createGraphCredential(loadConfig({ GRAPH_BASE_URL: 'http://127.0.0.1:4000' }).graph.auth), undefined);
  });

  it('uses a client secret', () => {
    assert.ok(sourceOf(loadConfig({ ...app, GRAPH_CLIENT_SECRET: 'shh' }).graph.auth) instanceof ClientSecretCredential);
  });

  it('uses a certificate file, and refuses a path with no file at start-up', () => {
    const pem = path.join(mkdtempSync(path.join(os.tmpdir(), 'nas-cert-')), 'graph.pem');
    writeFileSync(pem, '-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n');
    assert.ok(sourceOf(loadConfig({ ...app, GRAPH_CLIENT_CERTIFICATE_PATH: pem }).graph.auth) instanceof ClientCertificateCredential);
    assert.throws(
      () => createGraphCredential(loadConfig({ ...app, GRAPH_CLIENT_CERTIFICATE_PATH: `${pem}.missing` }).graph.auth),
      (error: { code?: string; userMessage?: string }) => error.code === 'CONFIG_INVALID' && /GRAPH_CLIENT_CERTIFICATE_PATH/.test(error.userMessage ?? ''),
    );
  });

  it('uses a managed identity, user-assigned when a client id is given', () => {
    assert.ok(sourceOf({ kind: 'managed-identity', clientId: app.GRAPH_CLIENT_ID }) instanceof ManagedIdentityCredential);
    assert.ok(sourceOf(loadConfig({ GRAPH_BASE_URL: app.GRAPH_BASE_URL, GRAPH_AUTH: 'managed-identity' }).graph.auth) instanceof ManagedIdentityCredential);
  });
});
