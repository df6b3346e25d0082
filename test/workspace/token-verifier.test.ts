import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { EntraTokenVerifier, type WorkspaceTokenSettings } from '../../bot/workspace/token-verifier';
import { refusalOf, type TokenRefusal } from '../../bot/workspace/token-rules';
import { loadConfig } from '../../config';
import type { AppError } from '../../core/errors';
import { startEntraKeysServer, type EntraKeysServer } from '../support/entra-keys-server';

/**
 * The workspace's Teams SSO token check against tokens shaped exactly as Microsoft documents them:
 * the v1.0 and v2.0 example access tokens in https://learn.microsoft.com/entra/identity-platform/access-tokens
 * (decoded below; only the tenant, audience, user, client and times are ours), the claims in
 * https://learn.microsoft.com/entra/identity-platform/access-token-claims-reference, signed by a
 * test key served from a local Entra-shaped key server that counts every fetch.
 */
const TENANT = '6e6d7300-0000-4000-8000-000000000001';
const OTHER_TENANT = '72f988bf-86f1-41af-91ab-2d7cd011db47';
const CLIENT_ID = '6e6d7300-0000-4000-8000-0000000000f1';
const APP_ID_URI = `api://nas-transfer.example.test/${CLIENT_ID}`;
const USER = '6e6d7300-0000-4000-8000-000000000131';
/** Teams desktop and mobile, the client Teams SSO tokens are requested by (Teams tab SSO docs). */
const TEAMS_CLIENT = '1fec8e78-bce4-4aaf-ab1b-5451cc387264';
const now = () => Math.floor(Date.now() / 1000);

/** Microsoft's v1.0 example: header {typ, alg, x5t, kid}; issuer sts.windows.net; appid, amr, unique_name. */
const v1Token = (kid: string, claims: Record<string, unknown> = {}) => ({
  header: { typ: 'JWT', alg: 'RS256', x5t: kid, kid },
  claims: {
    aud: APP_ID_URI,
    iss: `https://sts.windows.net/${TENANT}/`,
    iat: now() - 60,
    nbf: now() - 60,
    exp: now() + 3900,
    acr: '1',
    aio: 'AXQAi/8IAAAAFm+E/QTG+gFnVxLjWdw8K+61AGrSOuMMF6ebaMj7XO3IbmD3fGmrOyD+NvZyGn2VaT/kDKXw4MIhrgGVq6Bn8wLXoT1LkIZ+FzQVkJPPLQOV4KcXqSlCVPDS/DiCDgE222TImMvWNaEMaUOTsIGvTQ==',
    amr: ['wia'],
    appid: TEAMS_CLIENT,
    appidacr: '0',
    email: 'tom.ashdown@nhs.example',
    family_name: 'Ashdown',
    given_name: 'Tom',
    idp: `https://sts.windows.net/${TENANT}/`,
    ipaddr: '222.222.222.22',
    name: 'Tom Ashdown',
    oid: USER,
    rh: 'I',
    scp: 'access_as_user',
    sub: 'l3_roISQU222bULS9yi2k0XpqpOiMz5H3ZACo1GeXA',
    tid: TENANT,
    unique_name: 'tom.ashdown@nhs.example',
    uti: 'FVsGxYXI30-TuikuuUoFAA',
    ver: '1.0',
    ...claims,
  },
});

/** Microsoft's v2.0 example: header {typ, alg, kid}; issuer login.microsoftonline.com/<tenant>/v2.0; aud the client ID; azp. */
const v2Token = (kid: string, claims: Record<string, unknown> = {}) => ({
  header: { typ: 'JWT', alg: 'RS256', kid },
  claims: {
    aud: CLIENT_ID,
    iss: `https://login.microsoftonline.com/${TENANT}/v2.0`,
    iat: now() - 60,
    nbf: now() - 60,
    exp: now() + 3900,
    aio: 'AXQAi/8IAAAAtAaZLo3ChMif6KOnttRB7eBq4/DccQzjcJGxPYy/C3jDaNGxXd6wNIIVGRghNRnwJ1lOcAnNZcjvkoyrFxCttv33140RioOFJ4bCCGVuoCag1uOTT22222gHwLPYQ/uf79QX+0KIijdrmp69RctzmQ==',
    azp: TEAMS_CLIENT,
    azpacr: '0',
    name: 'Tom Ashdown',
    oid: USER,
    preferred_username: 'tom.ashdown@nhs.example',
    rh: 'I',
    scp: 'access_as_user',
    sub: 'HKZpfaHyWadeOouYlitjrI-KffTm222X5rrV3xDqfKQ',
    tid: TENANT,
    uti: 'fqiBqXLPj0eQa82S-IYFAA',
    ver: '2.0',
    ...claims,
  },
});

const base64url = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
const unsignedWith = (header: object, claims: object, signature = '') => `${base64url(header)}.${base64url(claims)}.${signature}`;

describe('workspace sign-in: Teams SSO tokens as Entra ID issues them', function () {
  this.timeout(20_000);
  let keys: EntraKeysServer;
  const settings = (): WorkspaceTokenSettings => ({
    tenantId: TENANT,
    appIdUri: APP_ID_URI,
    clientId: CLIENT_ID,
    scope: 'access_as_user',
    openIdMetadataUrl: keys.metadataUrl,
  });
  const sign = ({ header, claims }: { header: Record<string, unknown>; claims: Record<string, unknown> }) => keys.sign(header, claims);
  const refusedWith = (code: string) => (error: AppError) => error.code === code;

  beforeEach(async () => {
    keys = await startEntraKeysServer(TENANT);
  });
  afterEach(() => keys.close());

  const accepted: Array<{ name: string; token: () => { header: Record<string, unknown>; claims: Record<string, unknown> } }> = [
    { name: 'a v2.0 token (aud: the client ID)', token: () => v2Token(keys.kid) },
    { name: 'a v1.0 token for the App ID URI', token: () => v1Token(keys.kid) },
    { name: 'a v1.0 token for api://<client id>', token: () => v1Token(keys.kid, { aud: `api://${CLIENT_ID}` }) },
    { name: 'a v1.0 token for the client ID', token: () => v1Token(keys.kid, { aud: CLIENT_ID }) },
    { name: 'a token with more scopes than ours', token: () => v2Token(keys.kid, { scp: 'email access_as_user profile' }) },
    { name: 'a token that expired 4 minutes ago (within 5 minutes of clock skew)', token: () => v2Token(keys.kid, { exp: now() - 240 }) },
    { name: 'a token valid from 4 minutes ahead (within 5 minutes of clock skew)', token: () => v2Token(keys.kid, { nbf: now() + 240 }) },
  ];
  for (const { name, token } of accepted) {
    it(`accepts ${name}, and signs in its user`, async () => {
      const verifier = new EntraTokenVerifier(settings());
      assert.deepEqual(await verifier.verify(`Bearer ${await sign(token())}`), { userId: USER });
      assert.equal(keys.requests(), 2, 'the metadata and the key set, once each');
    });
  }

  it('fetches the keys once for many tokens', async () => {
    const verifier = new EntraTokenVerifier(settings());
    for (let i = 0; i < 5; i++) await verifier.verify(`Bearer ${await sign(v2Token(keys.kid))}`);
    assert.equal(keys.requests(), 2);
  });

  const refusedOnFace: Array<{ name: string; token: () => Promise<string> }> = [
    {
      name: 'an HS256 token keyed with a public value',
      token: async () => {
        const body = `${base64url({ typ: 'JWT', alg: 'HS256', kid: keys.kid })}.${base64url(v2Token(keys.kid).claims)}`;
        return `${body}.${createHmac('sha256', keys.kid).update(body).digest('base64url')}`;
      },
    },
    { name: 'an unsigned token (alg none)', token: async () => unsignedWith({ typ: 'JWT', alg: 'none' }, v2Token(keys.kid).claims) },
    { name: 'a token with no key id', token: () => keys.sign({ typ: 'JWT' }, v2Token(keys.kid).claims) },
    { name: 'a token that expired 6 minutes ago', token: () => sign(v2Token(keys.kid, { exp: now() - 360 })) },
    { name: 'a token valid only from 6 minutes ahead', token: () => sign(v2Token(keys.kid, { nbf: now() + 360 })) },
    {
      name: 'an expired token from another tenant',
      token: () => sign(v2Token(keys.kid, { iss: `https://login.microsoftonline.com/${OTHER_TENANT}/v2.0`, tid: OTHER_TENANT, exp: now() - 3600 })),
    },
    { name: 'a v1.0 token from another tenant', token: () => sign(v1Token(keys.kid, { iss: `https://sts.windows.net/${OTHER_TENANT}/`, tid: OTHER_TENANT })) },
    { name: 'our issuer with another tenant id', token: () => sign(v2Token(keys.kid, { tid: OTHER_TENANT })) },
    { name: 'a token for another application', token: () => sign(v2Token(keys.kid, { aud: '00000003-0000-0000-c000-000000000000' })) },
    { name: 'a token for api://<another client id>', token: () => sign(v1Token(keys.kid, { aud: 'api://0b0b0b0b-0000-4000-8000-000000000999' })) },
    { name: 'Microsoft’s v1.0 example as it is (scp user_impersonation)', token: () => sign(v1Token(keys.kid, { scp: 'user_impersonation' })) },
    { name: 'a user token for another scope (scp Files.Read)', token: () => sign(v2Token(keys.kid, { scp: 'Files.Read' })) },
    {
      name: 'an app-only token (idtyp app, roles, no scp)',
      token: () => sign(v2Token(keys.kid, { scp: undefined, idtyp: 'app', roles: ['access_as_user'], oid: '0b0b0b0b-0000-4000-8000-0000000000aa' })),
    },
    { name: 'an app-only token marked idtyp app even with a scp', token: () => sign(v2Token(keys.kid, { idtyp: 'app' })) },
    { name: 'a token without scp (roles only)', token: () => sign(v2Token(keys.kid, { scp: undefined, roles: ['Ops.Read'] })) },
    { name: 'a token with no user (oid)', token: () => sign(v2Token(keys.kid, { oid: undefined })) },
    { name: 'a token that is not a JWT', token: async () => 'eyJub3Q.eyJhIGp3dA.c2ln' },
  ];
  for (const { name, token } of refusedOnFace) {
    it(`refuses ${name} at once (401), without fetching any key, even while the keys are out of reach`, async () => {
      const bearer = `Bearer ${await token()}`;
      await assert.rejects(new EntraTokenVerifier(settings()).verify(bearer), refusedWith('WORKSPACE_UNAUTHENTICATED'));
      assert.equal(keys.requests(), 0, 'no outbound key fetch');
      keys.setMode('failing');
      await assert.rejects(new EntraTokenVerifier(settings()).verify(bearer), refusedWith('WORKSPACE_UNAUTHENTICATED'), 'still 401, not 503');
      const unreachable = new EntraTokenVerifier({ ...settings(), openIdMetadataUrl: 'http://127.0.0.1:9/tenant/v2.0/.well-known/openid-configuration' });
      await assert.rejects(unreachable.verify(bearer), refusedWith('WORKSPACE_UNAUTHENTICATED'));
      assert.equal(keys.requests(), 0);
    });
  }

  it('refuses a well-formed token signed by a key the tenant does not publish (after fetching the keys)', async () => {
    const token = await keys.sign(v2Token(keys.kid).header, v2Token(keys.kid).claims, { unpublishedKey: true });
    await assert.rejects(new EntraTokenVerifier(settings()).verify(`Bearer ${token}`), refusedWith('WORKSPACE_UNAUTHENTICATED'));
    assert.equal(keys.requests(), 2);
  });

  it('refuses v2.0 tokens when no client ID is known (only the App ID URI is then ours)', async () => {
    const { clientId: _omitted, ...withoutClient } = settings();
    await assert.rejects(new EntraTokenVerifier(withoutClient).verify(`Bearer ${await sign(v2Token(keys.kid))}`), refusedWith('WORKSPACE_UNAUTHENTICATED'));
  });

  for (const mode of ['metadata-redirects', 'keys-elsewhere', 'keys-redirect'] as const) {
    it(`never follows the key fetch to another origin (${mode}): "not now" (503), nothing asked of the other origin`, async () => {
      keys.setMode(mode);
      const verifier = new EntraTokenVerifier(settings());
      await assert.rejects(verifier.verify(`Bearer ${await sign(v2Token(keys.kid))}`), refusedWith('WORKSPACE_SIGN_IN_UNAVAILABLE'));
      assert.equal(keys.elsewhereRequests(), 0);
      assert.ok(keys.requests() >= 1);
    });
  }
});

describe('workspace sign-in rules (pure, on the token as it came)', () => {
  const audience = { tenantId: TENANT, appIdUri: APP_ID_URI, clientId: CLIENT_ID, scope: 'access_as_user' };
  const t = 1_800_000_000;
  const cases: Array<{ name: string; header?: object; claims: Record<string, unknown>; refusal: TokenRefusal | undefined }> = [
    { name: 'v2.0 for the client ID', claims: {}, refusal: undefined },
    { name: 'alg RS512', header: { alg: 'RS512' }, claims: {}, refusal: 'algorithm' },
    { name: 'alg HS256', header: { alg: 'HS256' }, claims: {}, refusal: 'algorithm' },
    { name: 'v1.0 issuer, our tenant', claims: { iss: `https://sts.windows.net/${TENANT}/` }, refusal: undefined },
    { name: 'v1.0 issuer without its trailing slash', claims: { iss: `https://sts.windows.net/${TENANT}` }, refusal: 'issuer' },
    { name: 'the common endpoint as issuer', claims: { iss: 'https://login.microsoftonline.com/common/v2.0' }, refusal: 'issuer' },
    { name: 'aud as an array holding ours', claims: { aud: ['elsewhere', CLIENT_ID] }, refusal: undefined },
    { name: 'aud the App ID URI', claims: { aud: APP_ID_URI }, refusal: undefined },
    { name: 'aud another App ID URI', claims: { aud: 'api://elsewhere.example/' + CLIENT_ID }, refusal: 'audience' },
    { name: 'expired exactly 5 minutes ago', claims: { exp: t - 300 }, refusal: 'expired' },
    { name: 'expired 299 s ago', claims: { exp: t - 299 }, refusal: undefined },
    { name: 'no exp', claims: { exp: undefined }, refusal: 'expired' },
    { name: 'scp containing access_as_user_extra only', claims: { scp: 'access_as_user_extra' }, refusal: 'scope' },
    { name: 'empty scp', claims: { scp: '' }, refusal: 'app-only' },
  ];
  for (const c of cases) {
    it(`${c.name}: ${c.refusal ?? 'goes on to its signature'}`, () => {
      const claims = { ...v2Token('k').claims, exp: t + 3600, nbf: t - 60, ...c.claims };
      assert.equal(refusalOf({ typ: 'JWT', alg: 'RS256', kid: 'k', ...c.header }, claims, audience, t), c.refusal);
    });
  }
});

describe('workspace sign-in settings', () => {
  it('takes the client ID from the App ID URI Teams documents (api://<domain>/<client id>), or WORKSPACE_CLIENT_ID', () => {
    assert.equal(loadConfig({ APP_ENV: 'test', WORKSPACE_APP_ID_URI: APP_ID_URI }).workspace.clientId, CLIENT_ID);
    assert.equal(loadConfig({ APP_ENV: 'test', WORKSPACE_APP_ID_URI: `api://bot.example/botid-${CLIENT_ID.toUpperCase()}` }).workspace.clientId, CLIENT_ID);
    assert.equal(loadConfig({ APP_ENV: 'test', WORKSPACE_APP_ID_URI: 'api://bot.example/nas', WORKSPACE_CLIENT_ID: CLIENT_ID }).workspace.clientId, CLIENT_ID);
    assert.equal(loadConfig({ APP_ENV: 'test', WORKSPACE_APP_ID_URI: 'api://bot.example/nas' }).workspace.clientId, undefined);
  });

  it('refuses to start production with an App ID URI that does not name the client ID and no WORKSPACE_CLIENT_ID (every v2.0 token would be refused)', () => {
    const problems = (env: Record<string, string>) => {
      try {
        loadConfig({ APP_ENV: 'production', ...env });
        return '';
      } catch (error) {
        return (error as AppError).userMessage;
      }
    };
    assert.match(
      problems({ WORKSPACE_APP_ID_URI: 'api://bot.example/nas' }),
      /WORKSPACE_CLIENT_ID: is required when WORKSPACE_APP_ID_URI does not end in the client ID/,
    );
    assert.doesNotMatch(problems({ WORKSPACE_APP_ID_URI: APP_ID_URI }), /WORKSPACE_CLIENT_ID/);
    assert.doesNotMatch(problems({ WORKSPACE_APP_ID_URI: 'api://bot.example/nas', WORKSPACE_CLIENT_ID: CLIENT_ID }), /WORKSPACE_CLIENT_ID/);
  });

  it('requires the access_as_user scope unless WORKSPACE_SCOPE names another, and refuses a list', () => {
    assert.equal(loadConfig({ APP_ENV: 'test' }).workspace.scope, 'access_as_user');
    assert.equal(loadConfig({ APP_ENV: 'test', WORKSPACE_SCOPE: 'Workspace.Use' }).workspace.scope, 'Workspace.Use');
    assert.throws(
      () => loadConfig({ APP_ENV: 'test', WORKSPACE_SCOPE: 'a b' }),
      (error: AppError) => /WORKSPACE_SCOPE/.test(error.userMessage),
    );
    assert.throws(
      () => loadConfig({ APP_ENV: 'test', WORKSPACE_CLIENT_ID: 'not-a-guid' }),
      (error: AppError) => /WORKSPACE_CLIENT_ID/.test(error.userMessage),
    );
  });
});
