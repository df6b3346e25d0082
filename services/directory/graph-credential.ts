import { accessSync, constants } from 'node:fs';
import { ClientCertificateCredential, ClientSecretCredential, ManagedIdentityCredential, type TokenCredential } from '@azure/identity';
import { AppError } from '../../core/errors';
import { SharedAppToken } from './shared-token';

/** How the bot authenticates to Microsoft Graph, app-only (config.ts reads it from the GRAPH_* settings). */
export type GraphAuthSettings =
  | { kind: 'client-secret'; tenantId: string; clientId: string; clientSecret: string }
  | { kind: 'certificate'; tenantId: string; clientId: string; certificatePath: string; certificatePassword?: string }
  /** clientId names a user-assigned identity; without it, the system-assigned one. */
  | { kind: 'managed-identity'; clientId?: string };

/** The scope an app-only Graph token is requested for (application permissions, admin consented). */
export const GRAPH_APP_ONLY_SCOPE = 'https://graph.microsoft.com/.default';

/**
 * The @azure/identity credential for app-only Microsoft Graph access, from config.graph.auth:
 * a client secret, a certificate (PEM with its private key, on disk: a Key Vault certificate
 * mounted into the container), or a managed identity (user-assigned when a client id is given,
 * else the system-assigned one). Undefined settings mean no credential: a loopback sandbox.
 *
 * The credential is wrapped in SharedAppToken: one token per scope for the process, shared by
 * every Graph call (services/data-sources.ts asks for it at start-up). What can be checked now
 * (the certificate file is there and readable) is checked now, so a wrong path fails start-up.
 */
export function createGraphCredential(settings: GraphAuthSettings | undefined): SharedAppToken | undefined {
  if (!settings) return undefined;
  return new SharedAppToken(sourceOf(settings));
}

function sourceOf(settings: GraphAuthSettings): TokenCredential {
  switch (settings.kind) {
    case 'client-secret':
      return new ClientSecretCredential(settings.tenantId, settings.clientId, settings.clientSecret);
    case 'certificate':
      try {
        accessSync(settings.certificatePath, constants.R_OK);
      } catch {
        throw new AppError(
          'CONFIG_INVALID',
          `Fix these settings:\n  - GRAPH_CLIENT_CERTIFICATE_PATH: no readable certificate file at ${settings.certificatePath}`,
        );
      }
      return new ClientCertificateCredential(settings.tenantId, settings.clientId, {
        certificatePath: settings.certificatePath,
        ...(settings.certificatePassword ? { certificatePassword: settings.certificatePassword } : {}),
      });
    case 'managed-identity':
      return settings.clientId ? new ManagedIdentityCredential({ clientId: settings.clientId }) : new ManagedIdentityCredential();
  }
}
