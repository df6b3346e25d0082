import type { AddressInfo } from 'node:net';
import restify from 'restify';
import { AppError } from '../../core/errors';
import { silentLogger } from '../../core/log';
import type { Actor } from '../../services/model';
import type { TransferRequests } from '../../services/requests/transfer-requests';
import { AuditLog } from '../../services/store/audit';
import type { SqlDatabase } from '../../services/store/database';
import { WorkspaceAudit } from '../../services/workspace-audit';
import type { WorkspaceQueue } from '../../services/workspace-queue';
import type { EntraTokenVerifier } from '../../bot/workspace/token-verifier';
import { registerWorkspaceRoutes } from '../../bot/workspace/workspace-api';

export interface WorkspaceAnswer {
  status: number;
  body: { error?: { code: string; message: string; reason?: string }; request?: { status: string } };
}

/**
 * The workspace API's routes (registerWorkspaceRoutes) on a local server over `db`, as NAS
 * Operations member `ops` signs in: the bearer token is the person's id, and anyone else is
 * not in NAS Operations. The sign-in itself is tested in test/workspace/api.test.ts.
 */
export async function startWorkspaceActions(db: SqlDatabase, requests: TransferRequests, ops: Actor) {
  const server = restify.createServer();
  server.use(restify.plugins.bodyParser({ mapParams: false }));
  registerWorkspaceRoutes(server, {
    page: new Map(),
    verifier: { verify: async (header: string | undefined) => ({ userId: header?.replace(/^Bearer /, '') ?? '' }) } as unknown as EntraTokenVerifier,
    access: {
      opsMember: async (userId) => {
        if (userId !== ops.id) throw new AppError('NOT_OPS');
        return ops;
      },
    },
    queue: { ageOf: () => 0, isOverdue: () => false } as unknown as WorkspaceQueue,
    requests,
    audit: new WorkspaceAudit(new AuditLog(db)),
    tenantId: 'tenant',
    logger: silentLogger,
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    /** POST /api/workspace/requests/:id/<action>, with `body` as JSON, signed in as `userId`. */
    async post(action: string, requestId: number, body: Record<string, unknown> = {}, userId: string = ops.id): Promise<WorkspaceAnswer> {
      const response = await fetch(`http://127.0.0.1:${port}/api/workspace/requests/${requestId}/${action}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${userId}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      return { status: response.status, body: (await response.json()) as WorkspaceAnswer['body'] };
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
