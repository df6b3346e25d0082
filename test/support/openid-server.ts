import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, exportSPKI, generateKeyPair, SignJWT, type CryptoKey, type JWTPayload } from 'jose';

/**
 * A local stand-in for the Bot Connector's token signing infrastructure, so that the
 * bot's authentication can be tested offline against the real botbuilder code:
 * an OpenID metadata document (the shape of https://login.botframework.com/v1/.well-known/openidconfiguration)
 * whose jwks_uri serves RSA keys with `endorsements`, as the Bot Connector publishes them.
 */
export const BOT_FRAMEWORK_ISSUER = 'https://api.botframework.com';

export interface SigningKey {
  kid: string;
  privateKey: CryptoKey;
  publicKey: CryptoKey;
  /** The public key as PEM: what a forger who confuses RS256 and HS256 would use as the HMAC secret. */
  publicPem: string;
}

export async function createSigningKey(kid: string): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
  return { kid, privateKey, publicKey, publicPem: await exportSPKI(publicKey) };
}

export type OpenIdServerMode = 'serving' | 'failing';

export interface OpenIdServer {
  /** The OpenID metadata URL to configure as BotOpenIdMetadata. */
  metadataUrl: string;
  /** The key the server publishes (kid in the JWKS, endorsed for msteams). */
  key: SigningKey;
  /** How many requests the server answered (metadata and keys). */
  requests(): number;
  /** 'failing' answers every request with 500, as an unhealthy metadata endpoint would. */
  setMode(mode: OpenIdServerMode): void;
  /** Signs a token with the published key, or with `options.key` (a key the server does not publish). */
  sign(claims: JWTPayload, options?: { key?: SigningKey; kid?: string; expiresInSeconds?: number }): Promise<string>;
  close(): Promise<void>;
}

export async function startOpenIdServer(options: { endorsements?: string[] } = {}): Promise<OpenIdServer> {
  const key = await createSigningKey(`test-key-${Math.random().toString(36).slice(2, 10)}`);
  const jwk = await exportJWK(key.publicKey);
  const endorsements = options.endorsements ?? ['msteams'];
  let mode: OpenIdServerMode = 'serving';
  let requests = 0;
  let base = '';
  // botbuilder caches metadata per URL for the life of the process (JwtTokenExtractor.openIdMetadataCache):
  // a unique path keeps one test's keys from answering for another server that reuses the port.
  const instance = Math.random().toString(36).slice(2, 10);

  const server: Server = createServer((req, res) => {
    requests += 1;
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (mode === 'failing') return send(500, { error: 'unavailable' });
    const path = req.url ?? '';
    if (path.endsWith('/v1/.well-known/openidconfiguration')) {
      return send(200, {
        issuer: BOT_FRAMEWORK_ISSUER,
        authorization_endpoint: 'https://invalid.botframework.com',
        jwks_uri: `${base}/${instance}/v1/.well-known/keys`,
        id_token_signing_alg_values_supported: ['RS256'],
        token_endpoint_auth_methods_supported: ['private_key_jwt'],
      });
    }
    if (path.endsWith('/v1/.well-known/keys')) {
      return send(200, { keys: [{ kty: 'RSA', use: 'sig', kid: key.kid, x5t: key.kid, n: jwk.n, e: jwk.e, endorsements }] });
    }
    return send(404, {});
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    metadataUrl: `${base}/${instance}/v1/.well-known/openidconfiguration`,
    key,
    requests: () => requests,
    setMode: (next) => {
      mode = next;
    },
    sign: async (claims, signOptions = {}) => {
      const signingKey = signOptions.key ?? key;
      const now = Math.floor(Date.now() / 1000);
      return new SignJWT({ nbf: now - 60, exp: now + (signOptions.expiresInSeconds ?? 3600), ...claims })
        .setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid: signOptions.kid ?? signingKey.kid })
        .sign(signingKey.privateKey);
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
