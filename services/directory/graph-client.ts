import { ClientSecretCredential } from '@azure/identity';
import { AuthenticationHandler, Client, HTTPMessageHandler, RetryHandler, RetryHandlerOptions, type Middleware } from '@microsoft/microsoft-graph-client';
import { TokenCredentialAuthenticationProvider } from '@microsoft/microsoft-graph-client/authProviders/azureTokenCredentials';
import type { GraphCredentials } from '../../config';

/**
 * Builds the real Graph SDK client. With credentials it authenticates app-only through
 * @azure/identity; without (a loopback sandbox) the chain simply has no auth handler.
 */
export function createGraphClient(baseUrl: string, credentials?: GraphCredentials): Client {
  const chain: Middleware[] = [];
  if (credentials) {
    const credential = new ClientSecretCredential(credentials.tenantId, credentials.clientId, credentials.clientSecret);
    chain.push(new AuthenticationHandler(new TokenCredentialAuthenticationProvider(credential, { scopes: ['https://graph.microsoft.com/.default'] })));
  }
  chain.push(new RetryHandler(new RetryHandlerOptions(1, 3)), new HTTPMessageHandler());
  chain.reduce((previous, next) => {
    (previous as unknown as { setNext(next: Middleware): void }).setNext(next);
    return next;
  });
  return Client.initWithMiddleware({
    baseUrl: baseUrl.replace(/\/+$/, ''),
    defaultVersion: 'v1.0',
    middleware: chain[0],
    customHosts: new Set([new URL(baseUrl).hostname]),
  });
}
