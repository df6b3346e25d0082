import type { Actor } from './model';
import type { AuditLog } from './store/audit';
import type { QueueFilters } from './workspace-queue';

/** What the workspace records in the audit and shows of it: refusals, exports, and a request's trail. */
export class WorkspaceAudit {
  constructor(private readonly audit: AuditLog) {}

  /** Someone signed in but outside NAS Operations (or whom the directory could not confirm) was refused. */
  refused(userId: string, route: string, reason: string): Promise<void> {
    return this.audit.record({ id: userId, name: 'unknown' }, 'workspace.refused', null, { route, reason });
  }

  /** What was exported; an address searched for is personal data, so only that one was. */
  exported(actor: Actor, filters: QueueFilters, rows: number): Promise<void> {
    const { address, ...named } = filters;
    return this.audit.record(actor, 'workspace.exported', null, { filters: { ...named, page: undefined, addressSearched: address !== undefined }, rows });
  }

  /** The request's audit trail, oldest first, as the workspace shows it. */
  trailOf(requestId: number): ReturnType<AuditLog['forRequest']> {
    return this.audit.forRequest(requestId);
  }
}
