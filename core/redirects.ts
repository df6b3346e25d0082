/*
 * Redirects on the bot's outbound calls. Node's fetch follows redirects by default and, though
 * it drops `Authorization` when the origin changes (the Fetch standard says so), it forwards
 * every other header: an API key in a custom header (the ODS `apikey`) went to whichever host
 * a redirect named. The bot's services never need to send it elsewhere, so only redirects on
 * the origin the call was made to are followed, and a bounded number of them.
 */

export const REDIRECT_STATUSES: ReadonlySet<number> = new Set([301, 302, 303, 307, 308]);
export const MAX_SAME_ORIGIN_REDIRECTS = 5;

/** A redirect the bot would not follow: to another origin, or one too many. Nothing was sent there. */
export class RedirectRefused extends Error {
  constructor(
    readonly reason: 'other-origin' | 'too-many',
    /** Where the redirect pointed: scheme, host and port only (never its path or query, which may carry data). */
    readonly target: string,
  ) {
    super(reason === 'other-origin' ? `Redirect to another origin (${target}) not followed.` : `More than ${MAX_SAME_ORIGIN_REDIRECTS} redirects.`);
    this.name = 'RedirectRefused';
  }
}

/** Where a redirect answer points, resolved against the URL that gave it; undefined when it names nowhere usable. */
export function redirectTarget(response: Response, from: string): URL | undefined {
  if (!REDIRECT_STATUSES.has(response.status)) return undefined;
  const location = response.headers.get('location');
  if (!location) return undefined;
  try {
    return new URL(location, from);
  } catch {
    return undefined;
  }
}

/**
 * A GET that follows redirects itself, on the first URL's origin only: a redirect elsewhere
 * throws RedirectRefused before anything (headers, key) is sent there. A redirect without a
 * usable Location is returned as it is, for the caller to treat as the error it is.
 */
export async function fetchSameOrigin(url: string, init: Omit<RequestInit, 'redirect' | 'method' | 'body'> = {}): Promise<Response> {
  const origin = new URL(url).origin;
  let current = url;
  for (let redirects = 0; ; redirects++) {
    const response = await fetch(current, { ...init, method: 'GET', redirect: 'manual' });
    const target = redirectTarget(response, current);
    if (!target) return response;
    await response.body?.cancel().catch(() => undefined);
    if (target.origin !== origin) throw new RedirectRefused('other-origin', target.origin);
    if (redirects >= MAX_SAME_ORIGIN_REDIRECTS) throw new RedirectRefused('too-many', target.origin);
    current = target.href;
  }
}

/** For a client that follows redirects itself (the Graph SDK's RedirectHandler): only to the same origin. */
export function isSameOriginRedirect(response: Response): boolean {
  const target = response.url ? redirectTarget(response, response.url) : undefined;
  return target !== undefined && target.origin === new URL(response.url).origin;
}
