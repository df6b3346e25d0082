import { createLocalJWKSet, exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWTVerifyGetKey } from 'jose';

/**
 * APP_ENV=development only (config.ts refuses it elsewhere): with no Teams around, the page
 * signs in as the demo NAS Operations member. The token is made like a Teams one (our tenant's
 * issuer, our audience, the user's oid) but signed by a key this process made at start, so the
 * API checks it the same way and still asks the directory whether the user is in NAS Operations.
 */
export class DevSignIn {
  private constructor(
    private readonly privateKey: CryptoKey,
    /** The only key the verifier trusts in this mode. */
    readonly keys: JWTVerifyGetKey,
    private readonly claims: { tenantId: string; audience: string; scope: string; userId: string },
  ) {}

  static async create(claims: { tenantId: string; audience: string; scope: string; userId: string }): Promise<DevSignIn> {
    const { privateKey, publicKey } = await generateKeyPair('RS256');
    const jwk = { ...(await exportJWK(publicKey)), kid: 'development-sign-in', alg: 'RS256', use: 'sig' };
    return new DevSignIn(privateKey, createLocalJWKSet({ keys: [jwk] }), claims);
  }

  /** A token for an hour, as Teams would give the page. */
  issue(): Promise<string> {
    return new SignJWT({ oid: this.claims.userId, tid: this.claims.tenantId, scp: this.claims.scope })
      .setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid: 'development-sign-in' })
      .setIssuer(`https://login.microsoftonline.com/${this.claims.tenantId}/v2.0`)
      .setAudience(this.claims.audience)
      .setIssuedAt()
      .setNotBefore('0s')
      .setExpirationTime('1h')
      .sign(this.privateKey);
  }
}
