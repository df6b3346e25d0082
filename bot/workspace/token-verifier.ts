import { createRemoteJWKSet, decodeJwt, decodeProtectedHeader, errors as joseErrors, jwtVerify, type JWTVerifyGetKey } from 'jose';
import { z } from 'zod';
import { AppError } from '../../core/errors';
import {
  acceptedAudiences,
  acceptedIssuers,
  CLOCK_TOLERANCE_SECONDS,
  refusalOf,
  SIGNING_ALGORITHM,
  type TokenAudience,
  type TokenRefusal,
} from './token-rules';

/**
 * Checks the Teams single sign-on token the workspace page sends. First on its face (token-rules.ts:
 * RS256, our tenant's v1 or v2 issuer, one of our audiences, in date, a user token with our scope),
 * with no outbound call; only then is it checked against a key the tenant publishes (Entra ID
 * OpenID metadata, then its JWKS). Anything else is refused; keys that cannot be fetched are
 * "not now", never "yes".
 */
export interface WorkspaceTokenSettings extends TokenAudience {
  /** The tenant's OpenID metadata (https://login.microsoftonline.com/<tenant>/v2.0/.well-known/openid-configuration). */
  openIdMetadataUrl: string;
}

export interface WorkspaceSignIn {
  /** The user's Entra object id (oid): what the directory is asked about. */
  userId: string;
}

/** Answers from the key servers must come in time: a page is waiting. */
const KEY_FETCH_TIMEOUT_MS = 5000;

const metadataSchema = z.object({ jwks_uri: z.url() });

export class EntraTokenVerifier {
  private keys: JWTVerifyGetKey | undefined;

  constructor(
    private readonly settings: WorkspaceTokenSettings,
    /** Tokens signed by keys that are not the tenant's: only the local development sign-in (see dev-sign-in.ts). */
    private readonly extraKeys?: JWTVerifyGetKey,
  ) {}

  /** The signed-in user, or WORKSPACE_UNAUTHENTICATED (401), or WORKSPACE_SIGN_IN_UNAVAILABLE (503). */
  async verify(authorization: string | undefined): Promise<WorkspaceSignIn> {
    const token = /^Bearer ([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)$/.exec(authorization?.trim() ?? '')?.[1];
    if (!token) throw new AppError('WORKSPACE_UNAUTHENTICATED');
    const onFace = refusalOf(...readUnverified(token), this.settings, nowSeconds());
    if (onFace) throw refused(onFace);
    try {
      const keys = this.extraKeys ?? (await this.tenantKeys());
      const { payload, protectedHeader } = await jwtVerify(token, keys, {
        algorithms: [SIGNING_ALGORITHM],
        issuer: acceptedIssuers(this.settings.tenantId),
        audience: acceptedAudiences(this.settings),
        clockTolerance: CLOCK_TOLERANCE_SECONDS,
        requiredClaims: ['exp', 'oid', 'tid', 'scp'],
      });
      const verified = refusalOf(protectedHeader, payload, this.settings, nowSeconds());
      if (verified) throw refused(verified);
      return { userId: payload.oid as string };
    } catch (error) {
      throw classify(error);
    }
  }

  /**
   * The tenant's key set, found through its OpenID metadata; fetched again after a failure. Neither
   * answer may send us elsewhere: no redirect is followed (jose's JWKS fetch does not follow one
   * either), and the key set must be on the metadata's own origin, as Entra ID publishes it.
   */
  private async tenantKeys(): Promise<JWTVerifyGetKey> {
    if (this.keys) return this.keys;
    let response: Response;
    try {
      response = await fetch(this.settings.openIdMetadataUrl, { redirect: 'manual', signal: AbortSignal.timeout(KEY_FETCH_TIMEOUT_MS) });
    } catch (error) {
      throw new AppError('WORKSPACE_SIGN_IN_UNAVAILABLE', undefined, { cause: error });
    }
    const metadata = metadataSchema.safeParse(response.status === 200 ? await response.json().catch(() => undefined) : undefined);
    if (!metadata.success) throw new AppError('WORKSPACE_SIGN_IN_UNAVAILABLE');
    const jwksUrl = new URL(metadata.data.jwks_uri);
    if (jwksUrl.origin !== new URL(this.settings.openIdMetadataUrl).origin) {
      throw new AppError('WORKSPACE_SIGN_IN_UNAVAILABLE', undefined, { cause: new Error('the key set is on another origin than the metadata') });
    }
    this.keys = createRemoteJWKSet(jwksUrl, { timeoutDuration: KEY_FETCH_TIMEOUT_MS });
    return this.keys;
  }
}

const nowSeconds = () => Math.floor(Date.now() / 1000);

/** Header and payload as they came: a token that is not a JWT at all is refused here. */
function readUnverified(token: string): [Record<string, unknown>, Record<string, unknown>] {
  try {
    return [decodeProtectedHeader(token), decodeJwt(token)];
  } catch (error) {
    throw new AppError('WORKSPACE_UNAUTHENTICATED', undefined, { cause: error });
  }
}

/** The reason goes to the log through the cause; the caller is told only 401. */
function refused(reason: TokenRefusal): AppError {
  return new AppError('WORKSPACE_UNAUTHENTICATED', undefined, { cause: new Error(`token refused: ${reason}`) });
}

/** A token we refuse is 401; a key server we could not read is 503. */
function classify(error: unknown): AppError {
  if (error instanceof AppError) return error;
  if (error instanceof joseErrors.JWKSTimeout || error instanceof joseErrors.JWKSInvalid)
    return new AppError('WORKSPACE_SIGN_IN_UNAVAILABLE', undefined, { cause: error });
  // jose raises its generic error for a key set answered with an error status (or a redirect); fetch raises TypeError when unreachable.
  if (error instanceof joseErrors.JOSEError && error.code === 'ERR_JOSE_GENERIC')
    return new AppError('WORKSPACE_SIGN_IN_UNAVAILABLE', undefined, { cause: error });
  if (error instanceof joseErrors.JOSEError) return new AppError('WORKSPACE_UNAUTHENTICATED', undefined, { cause: error });
  if (error instanceof TypeError || (error as { name?: string })?.name === 'AbortError' || (error as { name?: string })?.name === 'TimeoutError') {
    return new AppError('WORKSPACE_SIGN_IN_UNAVAILABLE', undefined, { cause: error });
  }
  return new AppError('WORKSPACE_UNAUTHENTICATED', undefined, { cause: error });
}
