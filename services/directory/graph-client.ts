import type { TokenCredential } from '@azure/identity';
import {
  AuthenticationHandler,
  Client,
  HTTPMessageHandler,
  RedirectHandler,
  RedirectHandlerOptions,
  RetryHandler,
  RetryHandlerOptions,
  type Middleware,
} from '@microsoft/microsoft-graph-client';
import { TokenCredentialAuthenticationProvider } from '@microsoft/microsoft-graph-client/authProviders/azureTokenCredentials';
import { isSameOriginRedirect, MAX_SAME_ORIGIN_REDIRECTS } from '../../core/redirects';
import { GRAPH_APP_ONLY_SCOPE } from './graph-credential';

/**
 * The service root without the API version: Microsoft's documentation writes the Graph
 * endpoint both as https://graph.microsoft.com and https://graph.microsoft.com/v1.0, and the
 * SDK adds the version itself, so a trailing /v1.0 is dropped rather than doubled.
 */
export function graphServiceRoot(baseUrl: string): string {
  return baseUrl
    .trim()
    .replace(/\/+$/, '')
    .replace(/\/v1\.0$/i, '');
}

/**
 * Builds the real Graph SDK client. With a credential (client secret, certificate or managed
 * identity, from @azure/identity) it authenticates app-only; without one (a loopback sandbox,
 * or a caller that sends a person's delegated token itself) the chain has no auth handler.
 * `retry: false` leaves waiting out a 429 to the caller (the outbox, which paces and backs off
 * with the row saved), instead of the SDK's in-process retries.
 */
export function createGraphClient(baseUrl: string, credential?: TokenCredential, options: { retry?: boolean } = {}): Client {
  const root = graphServiceRoot(baseUrl);
  const chain: Middleware[] = [];
  if (credential) chain.push(new AuthenticationHandler(new TokenCredentialAuthenticationProvider(credential, { scopes: [GRAPH_APP_ONLY_SCOPE] })));
  // Redirects are handled here, not by fetch (which would follow them anywhere with every header
  // but Authorization): only to Graph's own origin. A redirect elsewhere comes back as the 3xx it
  // is, so the directory is "unavailable", never read from another host.
  if (options.retry !== false) chain.push(new RetryHandler(new RetryHandlerOptions(1, 3)));
  chain.push(new RedirectHandler(new RedirectHandlerOptions(MAX_SAME_ORIGIN_REDIRECTS, isSameOriginRedirect)), new HTTPMessageHandler());
  chain.reduce((previous, next) => {
    (previous as unknown as { setNext(next: Middleware): void }).setNext(next);
    return next;
  });
  return Client.initWithMiddleware({
    baseUrl: root,
    defaultVersion: 'v1.0',
    middleware: chain[0],
    customHosts: new Set([new URL(root).hostname]),
  });
}
