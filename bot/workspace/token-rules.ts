/**
 * What a Teams single sign-on token for the workspace must say, read from the token as it came
 * (header and payload, not yet verified). Checked twice: before any key is fetched, so a token
 * refused on its face (HS256, expired, another tenant, another audience, no user scope) costs
 * no outbound call; and again on the verified payload, so the rules have one owner.
 *
 * Sources (Microsoft identity platform):
 * - Access token claims reference, https://learn.microsoft.com/entra/identity-platform/access-token-claims-reference
 *   `aud`: "In v2.0 tokens, this value is always the client ID of the API. In v1.0 tokens, it can be
 *   the client ID or the resource URI used in the request." `iss` ends in /v2.0 for v2.0 tokens.
 *   `scp`: "Only included for user tokens"; the API "should verify that these scopes are valid ones".
 *   `idtyp` (optional claim): `app` for an app-only token.
 * - Access tokens, https://learn.microsoft.com/entra/identity-platform/access-tokens: the v1.0
 *   issuer is https://sts.windows.net/{tenant}/, the v2.0 one https://login.microsoftonline.com/{tenant}/v2.0;
 *   Entra ID signs with RS256 keys from the tenant's OpenID metadata.
 * - Clock skew: Microsoft.IdentityModel's TokenValidationParameters.DefaultClockSkew is 300 seconds,
 *   https://learn.microsoft.com/dotnet/api/microsoft.identitymodel.tokens.tokenvalidationparameters.defaultclockskew
 */
export interface TokenAudience {
  /** The tenant whose users may sign in (TENANT_ID). */
  tenantId: string;
  /** The application ID URI (webApplicationInfo.resource), e.g. api://nas-transfer.example/<client id>. */
  appIdUri: string;
  /** The app registration's client ID (webApplicationInfo.id): the `aud` of a v2.0 token. */
  clientId?: string;
  /** The delegated scope the API exposes (Expose an API), e.g. access_as_user. */
  scope: string;
}

export const CLOCK_TOLERANCE_SECONDS = 300;
export const SIGNING_ALGORITHM = 'RS256';

/** Why a token is refused, for the log (never shown to the caller, who is told only 401). */
export type TokenRefusal = 'algorithm' | 'no-key-id' | 'issuer' | 'tenant' | 'audience' | 'expired' | 'not-yet-valid' | 'app-only' | 'scope' | 'no-user';

export function acceptedIssuers(tenantId: string): string[] {
  return [`https://login.microsoftonline.com/${tenantId}/v2.0`, `https://sts.windows.net/${tenantId}/`];
}

/** The client ID (v2.0 tokens, and v1.0 ones requested by it), api://<client id>, and the App ID URI. */
export function acceptedAudiences(audience: TokenAudience): string[] {
  const all = [audience.appIdUri, ...(audience.clientId ? [audience.clientId, `api://${audience.clientId}`] : [])];
  return [...new Set(all)];
}

const text = (value: unknown): string | undefined => (typeof value === 'string' && value.length > 0 ? value : undefined);
const seconds = (value: unknown): number | undefined => (typeof value === 'number' && Number.isFinite(value) ? value : undefined);

/** The first reason to refuse the token, or undefined when it may go on to its signature. */
export function refusalOf(
  header: Record<string, unknown>,
  payload: Record<string, unknown>,
  audience: TokenAudience,
  nowSeconds: number,
): TokenRefusal | undefined {
  if (header.alg !== SIGNING_ALGORITHM) return 'algorithm';
  if (!text(header.kid)) return 'no-key-id';
  if (!acceptedIssuers(audience.tenantId).includes(text(payload.iss) ?? '')) return 'issuer';
  if (payload.tid !== audience.tenantId) return 'tenant';
  const audiences = Array.isArray(payload.aud) ? payload.aud : [payload.aud];
  const accepted = acceptedAudiences(audience);
  if (!audiences.some((aud) => typeof aud === 'string' && accepted.includes(aud))) return 'audience';
  const exp = seconds(payload.exp);
  if (exp === undefined || exp + CLOCK_TOLERANCE_SECONDS <= nowSeconds) return 'expired';
  const nbf = seconds(payload.nbf);
  if (nbf !== undefined && nbf - CLOCK_TOLERANCE_SECONDS > nowSeconds) return 'not-yet-valid';
  const scopes = text(payload.scp)?.split(' ');
  if (payload.idtyp === 'app' || !scopes) return 'app-only';
  if (!scopes.includes(audience.scope)) return 'scope';
  if (!text(payload.oid) || (payload.oid as string).length > 64) return 'no-user';
  return undefined;
}
