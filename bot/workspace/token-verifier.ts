import { createRemoteJWKSet, errors as joseErrors, jwtVerify, type JWTVerifyGetKey } from 'jose';
import { z } from 'zod';
import { AppError } from '../../core/errors';

/**
 * Checks the Teams single sign-on token the workspace page sends: signed by a key the tenant
 * publishes (Entra ID OpenID metadata, then its JWKS), issued by our tenant (v1 or v2 issuer,
 * and the tid claim), for our application ID URI, in date. Anything else is refused; keys that
 * cannot be fetched are "not now", never "yes".
 */
export interface WorkspaceTokenSettings {
  tenantId: string;
  /** The application ID URI in the manifest's webApplicationInfo.resource, e.g. api://nas-transfer.example/<client id>. */
  audience: string;
  /** The tenant's OpenID metadata (https://login.microsoftonline.com/<tenant>/v2.0/.well-known/openid-configuration). */
  openIdMetadataUrl: string;
}

export interface WorkspaceSignIn {
  /** The user's Entra object id (oid): what the directory is asked about. */
  userId: string;
}

/** Answers from the key servers must come in time: a page is waiting. */
const KEY_FETCH_TIMEOUT_MS = 5000;
/** Entra ID and our clock may disagree a little. */
const CLOCK_TOLERANCE_SECONDS = 60;

const metadataSchema = z.object({ jwks_uri: z.url() });
const claimsSchema = z.object({ oid: z.string().min(1).max(64), tid: z.string() });

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
    const tenant = this.settings.tenantId;
    const options = {
      algorithms: ['RS256'],
      issuer: [`https://login.microsoftonline.com/${tenant}/v2.0`, `https://sts.windows.net/${tenant}/`],
      audience: this.settings.audience,
      clockTolerance: CLOCK_TOLERANCE_SECONDS,
      requiredClaims: ['exp', 'oid', 'tid'],
    };
    try {
      const keys = this.extraKeys ?? (await this.tenantKeys());
      const { payload } = await jwtVerify(token, keys, options);
      const claims = claimsSchema.safeParse(payload);
      if (!claims.success || claims.data.tid !== tenant) throw new AppError('WORKSPACE_UNAUTHENTICATED');
      return { userId: claims.data.oid };
    } catch (error) {
      throw classify(error);
    }
  }

  /** The tenant's key set, found through its OpenID metadata; fetched again after a failure. */
  private async tenantKeys(): Promise<JWTVerifyGetKey> {
    if (this.keys) return this.keys;
    let response: Response;
    try {
      response = await fetch(this.settings.openIdMetadataUrl, { signal: AbortSignal.timeout(KEY_FETCH_TIMEOUT_MS) });
    } catch (error) {
      throw new AppError('WORKSPACE_SIGN_IN_UNAVAILABLE', undefined, { cause: error });
    }
    const metadata = metadataSchema.safeParse(response.ok ? await response.json().catch(() => undefined) : undefined);
    if (!metadata.success) throw new AppError('WORKSPACE_SIGN_IN_UNAVAILABLE');
    this.keys = createRemoteJWKSet(new URL(metadata.data.jwks_uri), { timeoutDuration: KEY_FETCH_TIMEOUT_MS });
    return this.keys;
  }
}

/** A token we refuse is 401; a key server we could not read is 503. */
function classify(error: unknown): AppError {
  if (error instanceof AppError) return error;
  if (error instanceof joseErrors.JWKSTimeout || error instanceof joseErrors.JWKSInvalid)
    return new AppError('WORKSPACE_SIGN_IN_UNAVAILABLE', undefined, { cause: error });
  // jose raises its generic error for a key set answered with an error status; fetch raises TypeError when unreachable.
  if (error instanceof joseErrors.JOSEError && error.code === 'ERR_JOSE_GENERIC')
    return new AppError('WORKSPACE_SIGN_IN_UNAVAILABLE', undefined, { cause: error });
  if (error instanceof joseErrors.JOSEError) return new AppError('WORKSPACE_UNAUTHENTICATED', undefined, { cause: error });
  if (error instanceof TypeError || (error as { name?: string })?.name === 'AbortError' || (error as { name?: string })?.name === 'TimeoutError') {
    return new AppError('WORKSPACE_SIGN_IN_UNAVAILABLE', undefined, { cause: error });
  }
  return new AppError('WORKSPACE_UNAUTHENTICATED', undefined, { cause: error });
}
