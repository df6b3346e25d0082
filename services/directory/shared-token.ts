import type { AccessToken, GetTokenOptions, TokenCredential } from '@azure/identity';
import { withDeadline } from '../../core/deadline';

/** Asked again this long before a token expires when Entra ID gave no refresh time of its own. */
export const REFRESH_BEFORE_EXPIRY_MS = 5 * 60_000;
/** A token this close to expiry is not handed out even when a refresh has failed: a request takes time to reach Graph. */
const STILL_USABLE_MS = 30_000;
/**
 * How long the shared request is waited for. @azure/identity sets no deadline of its own, and a
 * request hung on a dropped connection to Entra ID (or the managed identity endpoint) would
 * otherwise hold every Graph call of the process; past it, the next call asks again.
 */
export const TOKEN_REQUEST_MS = 30_000;
/** After a renewal failed while the token was still good, the next renewal waits this long, rather than one per Graph call. */
export const RENEW_AGAIN_AFTER_MS = 30_000;

/**
 * One app-only token per scope, shared by every Graph call of the process. The Graph client asks
 * its credential on every request, and @azure/identity's credentials neither share a request in
 * flight nor keep the token themselves (MSAL's cache is searched on each call): after a start,
 * the first burst of turns (a Monday morning, 100 requesters adding the bot at once) sent one
 * token request each to Entra ID, which throttles token requests, and every one of those turns
 * waited for its own. Here callers share the request in flight and the token it gave until
 * Entra ID's refresh time (`refreshAfterTimestamp`), or REFRESH_BEFORE_EXPIRY_MS before expiry;
 * then one request renews it while callers go on with the old one, which stays in use if the
 * renewal fails. A failure is never kept (the next call asks again), and a failure with no usable
 * token goes to the caller as it came.
 */
export class SharedAppToken implements TokenCredential {
  private readonly tokens = new Map<string, AccessToken>();
  private readonly asking = new Map<string, Promise<AccessToken>>();
  /** When a renewal last failed, per scope, while the token was still good. */
  private readonly renewalFailed = new Map<string, number>();

  constructor(
    /** The @azure/identity credential that fetches tokens (client secret, certificate, managed identity). */
    readonly source: TokenCredential,
    private readonly now: () => number = Date.now,
    private readonly requestMs = TOKEN_REQUEST_MS,
  ) {}

  async getToken(scopes: string | string[], options?: GetTokenOptions): Promise<AccessToken | null> {
    // A caller's own claims (a Conditional Access challenge) or tenant need their own token.
    if (options?.claims || options?.tenantId) return this.source.getToken(scopes, options);
    const scope = ([] as string[]).concat(scopes).join(' ');
    const token = this.tokens.get(scope);
    if (token && this.now() < refreshAt(token)) return token;
    // Due for refresh but still good: the callers go on with it while one request renews it (a failure pauses renewals
    // for RENEW_AGAIN_AFTER_MS). Only a missing or nearly expired token makes callers wait for Entra ID.
    if (token && this.now() < token.expiresOnTimestamp - STILL_USABLE_MS) {
      if (this.now() - (this.renewalFailed.get(scope) ?? -Infinity) >= RENEW_AGAIN_AFTER_MS)
        this.ask(scope, scopes).catch(() => this.renewalFailed.set(scope, this.now()));
      return token;
    }
    return this.ask(scope, scopes);
  }

  /** The request in flight for `scope`, or a new one. No caller's abort signal is passed: the request is everyone's. */
  private ask(scope: string, scopes: string | string[]): Promise<AccessToken> {
    const inFlight = this.asking.get(scope);
    if (inFlight) return inFlight;
    const asked = withDeadline(this.source.getToken(scopes), this.requestMs).then((token) => {
      if (!token) throw new Error('The credential returned no token.');
      this.tokens.set(scope, token);
      this.renewalFailed.delete(scope);
      return token;
    });
    this.asking.set(scope, asked);
    const done = () => this.asking.delete(scope);
    asked.then(done, done);
    return asked;
  }
}

function refreshAt(token: AccessToken): number {
  return token.refreshAfterTimestamp ?? token.expiresOnTimestamp - REFRESH_BEFORE_EXPIRY_MS;
}
