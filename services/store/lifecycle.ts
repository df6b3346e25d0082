import { AppError } from '../../core/errors';
import { formatTime, type Actor, type Decision, type RequestStatus } from '../model';
import { appendAudit } from './audit';
import type { SqlDatabase, SqlExecutor } from './database';
import { dedupeKeys, enqueue } from './outbox';

/**
 * A request's life around the decisions: who is reviewing it, corrections, accounts marked
 * as actually transferred (which completes it), and withdrawal by the requester. Each
 * change is compare-and-set under a row lock, audited with before and after, and commits
 * with the messages it makes owed.
 */
export class LifecycleRepository {
  constructor(private readonly db: SqlDatabase) {}

  /**
   * "Assign to me": the request is in review by this member of NAS Operations. Compare-and-set:
   * only an unassigned request can be claimed, so of two people pressing at once the second is
   * told who has it. Taking a request over from someone is `takeOver`.
   */
  claim(requestId: number, actor: Actor): Promise<void> {
    return this.change(requestId, async (tx, request) => {
      assertReviewable(request);
      if (request.claimed_by_id === actor.id) throw new AppError('INVALID_INPUT', 'You are already reviewing this request.');
      if (request.claimed_by_id !== null) throw alreadyClaimed(request);
      await this.assign(tx, request, actor, 'request.claimed');
    });
  }

  /**
   * Takes a request over from the reviewer the card showed (`fromReviewerId`): compare-and-set
   * on that reviewer, so a take-over of a card that is out of date is refused, and audited
   * with both names.
   */
  takeOver(requestId: number, actor: Actor, fromReviewerId: string): Promise<void> {
    return this.change(requestId, async (tx, request) => {
      assertReviewable(request);
      if (request.claimed_by_id === actor.id) throw new AppError('INVALID_INPUT', 'You are already reviewing this request.');
      if (request.claimed_by_id !== fromReviewerId) {
        if (request.claimed_by_id === null) throw new AppError('INVALID_INPUT', 'Nobody is reviewing this request now: use Assign to me.');
        throw alreadyClaimed(request);
      }
      await this.assign(tx, request, actor, 'request.taken_over');
    });
  }

  private async assign(tx: SqlExecutor, request: LockedRequest, actor: Actor, action: 'request.claimed' | 'request.taken_over'): Promise<void> {
    await tx.query(`UPDATE transfer_requests SET status = 'in_review', claimed_by_id = $2, claimed_by_name = $3, claimed_at = now() WHERE id = $1`, [request.id, actor.id, actor.name]);
    await appendAudit(tx, actor, action, request.id, null, { before: { status: request.status, reviewer: request.claimed_by_name }, after: { status: 'in_review', reviewer: actor.name } });
  }

  /**
   * Changes a decision, with a reason, until the account has been transferred. Both
   * decisions stay in the audit. A request that was settled stays decided.
   */
  correctDecision(requestId: number, accountId: number, decision: Decision, actor: Actor, reason: string): Promise<void> {
    return this.change(requestId, async (tx, request) => {
      if (request.status === 'withdrawn') throw new AppError('INVALID_INPUT', 'The requester withdrew this request.');
      const [account] = await tx.query<{ decision: Decision | null; transferred_at: Date | null; decided_by_name: string | null; decision_reason: string | null }>(
        'SELECT decision, transferred_at, decided_by_name, decision_reason FROM request_accounts WHERE request_id = $1 AND id = $2',
        [requestId, accountId],
      );
      if (!account) throw new AppError('ACCOUNT_NOT_IN_REQUEST');
      if (account.decision === null) throw new AppError('INVALID_INPUT', 'That account has not been decided yet: use Approve or Reject.');
      if (account.transferred_at) throw new AppError('INVALID_INPUT', `That account was transferred at ${formatTime(account.transferred_at)}; its decision can no longer change.`);
      if (account.decision === decision) throw new AppError('INVALID_INPUT', `That account is already ${decision}.`);
      await tx.query(
        `UPDATE request_accounts SET decision = $3, decision_reason = $4, decided_by_id = $5, decided_by_name = $6, decided_at = now() WHERE request_id = $1 AND id = $2`,
        [requestId, accountId, decision, reason, actor.id, actor.name],
      );
      await appendAudit(tx, actor, 'account.corrected', requestId, accountId, {
        before: { decision: account.decision, by: account.decided_by_name, reason: account.decision_reason },
        after: { decision, by: actor.name, reason },
      });
    });
  }

  /**
   * Records approved accounts as moved to NAS (all of them, or those named), with an
   * optional note. When every approved account is transferred the request is completed and
   * the requester is owed the news.
   */
  markTransferred(requestId: number, actor: Actor, accountIds: readonly number[] | 'all', note: string | null): Promise<{ transferred: number; completed: boolean }> {
    return this.change(requestId, async (tx, request) => {
      if (request.status !== 'decided') throw new AppError('INVALID_INPUT', `Accounts can be marked as transferred once every account is decided; this request is ${describe(request.status)}.`);
      const rows = await tx.query<{ id: number }>(
        `UPDATE request_accounts SET transferred_at = now(), transferred_by_id = $2, transferred_by_name = $3, transfer_note = $4
         WHERE request_id = $1 AND decision = 'approved' AND transferred_at IS NULL AND ($5::int[] IS NULL OR id = ANY($5::int[]))
         RETURNING id`,
        [requestId, actor.id, actor.name, note, accountIds === 'all' ? null : [...accountIds]],
      );
      if (rows.length === 0) throw new AppError('ALREADY_DECIDED', 'Those accounts are already marked as transferred.');
      for (const { id } of rows) await appendAudit(tx, actor, 'account.transferred', requestId, id, note ? { note } : {});
      const [completed] = await tx.query<{ id: number }>(
        `UPDATE transfer_requests SET status = 'completed', completed_at = now()
         WHERE id = $1 AND status = 'decided' AND NOT EXISTS (SELECT 1 FROM request_accounts WHERE request_id = $1 AND decision = 'approved' AND transferred_at IS NULL)
         RETURNING id`,
        [requestId],
      );
      if (completed) {
        await appendAudit(tx, actor, 'request.completed', requestId, null, { before: { status: 'decided' }, after: { status: 'completed' } });
        await enqueue(tx, { kind: 'completion', dedupeKey: dedupeKeys.completion(requestId), requestId, recipient: request.requester_id });
      }
      return { transferred: rows.length, completed: completed !== undefined };
    });
  }

  /** The requester takes the request back, until NAS Operations decide anything on it. */
  withdraw(requestId: number, requester: Actor): Promise<void> {
    return this.change(requestId, async (tx, request) => {
      if (request.requester_id !== requester.id) throw new AppError('NOT_YOUR_REQUEST');
      if (request.status === 'withdrawn') throw new AppError('INVALID_INPUT', 'This request is already withdrawn.');
      const [decided] = await tx.query<{ count: number }>(`SELECT count(*)::int AS count FROM request_accounts WHERE request_id = $1 AND decision IS NOT NULL`, [requestId]);
      if ((decided?.count ?? 0) > 0 || (request.status !== 'submitted' && request.status !== 'in_review')) {
        throw new AppError('INVALID_INPUT', 'NAS Operations have already decided on accounts in this request, so it can no longer be withdrawn.');
      }
      await tx.query(`UPDATE transfer_requests SET status = 'withdrawn', withdrawn_at = now() WHERE id = $1`, [requestId]);
      await appendAudit(tx, requester, 'request.withdrawn', requestId, null, { before: { status: request.status }, after: { status: 'withdrawn' } });
    });
  }

  /** Locks the request, applies the change, and owes the ops card its update. */
  private change<T>(requestId: number, apply: (tx: SqlExecutor, request: LockedRequest) => Promise<T>): Promise<T> {
    return this.db.transaction(async (tx) => {
      const [request] = await tx.query<LockedRequest>('SELECT id, status, requester_id, claimed_by_id, claimed_by_name, claimed_at FROM transfer_requests WHERE id = $1 FOR UPDATE', [requestId]);
      if (!request) throw new AppError('REQUEST_NOT_FOUND');
      const result = await apply(tx, request);
      await enqueue(tx, { kind: 'ops.update', dedupeKey: dedupeKeys.opsUpdate(requestId), requestId });
      return result;
    });
  }
}

interface LockedRequest {
  id: number;
  status: RequestStatus;
  requester_id: string;
  claimed_by_id: string | null;
  claimed_by_name: string | null;
  claimed_at: Date | null;
}

function assertReviewable(request: LockedRequest): void {
  if (request.status !== 'submitted' && request.status !== 'in_review') throw new AppError('INVALID_INPUT', `This request is ${describe(request.status)}: there is nothing to review.`);
}

function alreadyClaimed(request: LockedRequest): AppError {
  return new AppError('ALREADY_CLAIMED', `${request.claimed_by_name ?? 'Another member of NAS Operations'} has been reviewing it since ${formatTime(request.claimed_at)}.`);
}

function describe(status: RequestStatus): string {
  return { submitted: 'waiting for review', in_review: 'in review', decided: 'decided', completed: 'completed', withdrawn: 'withdrawn' }[status];
}
