import type restify from 'restify';
import type { WorkspaceSettings } from '../../config';
import type { Logger } from '../../core/log';
import type { TransferRequests } from '../../services/requests/transfer-requests';
import type { WorkspaceAudit } from '../../services/workspace-audit';
import type { WorkspaceQueue } from '../../services/workspace-queue';
import type { AccessControl } from '../access-control';
import { DevSignIn } from './dev-sign-in';
import { loadPageFiles, type PageFiles } from './page-files';
import { EntraTokenVerifier } from './token-verifier';
import { registerWorkspaceRoutes } from './workspace-api';

export interface WorkspaceParts {
  settings: WorkspaceSettings;
  /** The folder holding the built page (index.html, workspace.js, workspace.css): web/workspace/build.ts writes it. */
  pageDir: () => Promise<string>;
  environment: 'development' | 'test' | 'production';
  access: AccessControl;
  requests: TransferRequests;
  queue: WorkspaceQueue;
  audit: WorkspaceAudit;
  logger: Logger;
}

export interface Workspace {
  /** Adds the page and its API to the bot's HTTP server. */
  register(server: restify.Server): void;
  /** The page's path on the bot's server. */
  path: '/workspace/';
}

/**
 * Builds the NAS Operations workspace, or nothing when production has no application ID URI
 * (no token could be for us). The page is served from the folder the composition root names
 * (in production the one `npm run build` wrote beside the code): bot/ never builds it.
 */
export async function createWorkspace(parts: WorkspaceParts): Promise<Workspace | undefined> {
  const { settings, logger } = parts;
  if (!settings.appIdUri) {
    logger.warn('workspace.disabled', { reason: 'WORKSPACE_APP_ID_URI is not set' });
    return undefined;
  }
  const page: PageFiles = await loadPageFiles(await parts.pageDir());
  const devSignIn =
    parts.environment === 'development' && settings.devSignInUserId
      ? await DevSignIn.create({ tenantId: settings.tenantId, audience: settings.appIdUri, scope: settings.scope, userId: settings.devSignInUserId })
      : undefined;
  const verifier = new EntraTokenVerifier(
    {
      tenantId: settings.tenantId,
      appIdUri: settings.appIdUri,
      ...(settings.clientId ? { clientId: settings.clientId } : {}),
      scope: settings.scope,
      openIdMetadataUrl: settings.openIdMetadataUrl,
    },
    devSignIn?.keys,
  );
  if (devSignIn) logger.warn('workspace.development_sign_in', { note: 'the workspace signs in as the demo NAS Operations member' });
  return {
    path: '/workspace/',
    register: (server) =>
      registerWorkspaceRoutes(server, {
        page,
        verifier,
        access: parts.access,
        queue: parts.queue,
        requests: parts.requests,
        audit: parts.audit,
        tenantId: settings.tenantId,
        devSignIn,
        logger,
      }),
  };
}
