import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWTPayload } from 'jose';

/**
 * A local stand-in for a tenant's Entra ID OpenID metadata and key set, in the shapes
 * https://learn.microsoft.com/entra/identity-platform/access-tokens documents:
 * /<tenant>/v2.0/.well-known/openid-configuration names jwks_uri /<tenant>/discovery/v2.0/keys, whose
 * keys are {kty, use, kid, x5t, n, e, issuer}. It counts every request, so a test can say how many
 * outbound key fetches a token cost, and can misbehave the ways a key fetch must not be led astray.
 */
export type EntraKeysMode =
  | 'serving'
  | 'failing'
  /** The metadata answers 302 to another origin. */
  | 'metadata-redirects'
  /** The metadata names a key set on another origin. */
  | 'keys-elsewhere'
  /** The key set answers 302 to another origin. */
  | 'keys-redirect';

export interface EntraKeysServer {
  metadataUrl: string;
  /** Requests this server answered (metadata and keys). */
  requests(): number;
  /** Requests the "other origin" answered: must stay 0. */
  elsewhereRequests(): number;
  setMode(mode: EntraKeysMode): void;
  /** Signs with the published key (or with a key nobody publishes) under the given header and claims, exactly as given. */
  sign(header: Record<string, unknown>, claims: JWTPayload, options?: { unpublishedKey?: boolean }): Promise<string>;
  /** The published key's id (kid and x5t in Entra's key sets). */
  kid: string;
  close(): Promise<void>;
}

async function listen(handler: Parameters<typeof createServer>[1]): Promise<{ server: Server; base: string }> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, base: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

export async function startEntraKeysServer(tenantId: string): Promise<EntraKeysServer> {
  const kid = `entra-test-${Math.random().toString(36).slice(2, 10)}`;
  const published = await generateKeyPair('RS256', { extractable: true });
  const unpublished: { privateKey: CryptoKey } = await generateKeyPair('RS256');
  const jwk = await exportJWK(published.publicKey);
  let mode: EntraKeysMode = 'serving';
  let requests = 0;
  let elsewhere = 0;

  const other = await listen((_req, res) => {
    elsewhere += 1;
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ jwks_uri: 'http://127.0.0.1:9/keys', keys: [] }));
  });
  let base = '';
  const own = await listen((req, res) => {
    requests += 1;
    const send = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      res.writeHead(status, { 'content-type': 'application/json', ...headers });
      res.end(JSON.stringify(body));
    };
    const path = req.url ?? '';
    if (mode === 'failing') return send(500, { error: 'temporarily_unavailable' });
    if (path === `/${tenantId}/v2.0/.well-known/openid-configuration`) {
      if (mode === 'metadata-redirects') return send(302, {}, { location: `${other.base}${path}` });
      const keysBase = mode === 'keys-elsewhere' ? other.base : base;
      return send(200, {
        token_endpoint: `${base}/${tenantId}/oauth2/v2.0/token`,
        jwks_uri: `${keysBase}/${tenantId}/discovery/v2.0/keys`,
        issuer: `https://login.microsoftonline.com/${tenantId}/v2.0`,
        id_token_signing_alg_values_supported: ['RS256'],
      });
    }
    if (path === `/${tenantId}/discovery/v2.0/keys`) {
      if (mode === 'keys-redirect') return send(302, {}, { location: `${other.base}${path}` });
      return send(200, {
        keys: [{ kty: 'RSA', use: 'sig', kid, x5t: kid, n: jwk.n, e: jwk.e, issuer: `https://login.microsoftonline.com/${tenantId}/v2.0` }],
      });
    }
    return send(404, {});
  });
  base = own.base;

  const close = (server: Server) =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return {
    metadataUrl: `${base}/${tenantId}/v2.0/.well-known/openid-configuration`,
    requests: () => requests,
    elsewhereRequests: () => elsewhere,
    setMode: (next) => {
      mode = next;
    },
    kid,
    sign: (header, claims, options = {}) =>
      new SignJWT(claims).setProtectedHeader({ alg: 'RS256', ...header }).sign(options.unpublishedKey ? unpublished.privateKey : published.privateKey),
    close: async () => {
      await close(own.server);
      await close(other.server);
    },
  };
}
