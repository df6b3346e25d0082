import { AppError } from '../../core/errors';
import { formatTime, type Actor, type Decision, type DecisionOutcome } from '../model';
import { appendAudit } from './audit';
import type { SqlDatabase, SqlExecutor } from './database';
import { dedupeKeys, enqueue } from './outbox';

/**
 * NAS Operations' decisions. Each is compare-and-set (one decision per account, ever) and
 * commits with its audit events and the messages it makes owed: the ops card update for
 * everyone and, when it settles the request, the requester's outcome.
 */
export class DecisionRepository {
  constructor(private readonly db: SqlDatabase) {}

  /** Approves every eligible account not yet decided. */
  approveEligible(requestId: number, actor: Actor): Promise<DecisionOutcome> {
    return this.decide(requestId, actor, 'request.approved_eligible', {}, async (tx) => {
      const rows = await tx.query<{ id: number }>(
        `UPDATE request_accounts SET decision = 'approved', decided_by_id = $2, decided_by_name = $3, decided_at = now()
         WHERE request_id = $1 AND verdict = 'eligible' AND decision IS NULL RETURNING id`,
        [requestId, actor.id, actor.name],
      );
      if (rows.length === 0) {
        const [eligible] = await tx.query<{ count: number }>(`SELECT count(*)::int AS count FROM request_accounts WHERE request_id = $1 AND verdict = 'eligible'`, [requestId]);
        if (eligible?.count === 0) throw new AppError('INVALID_INPUT', 'This request has no eligible accounts: decide the accounts for review one by one.');
      }
      return rows;
    });
  }

  /** Rejects every account not yet decided, with one reason. */
  rejectRemaining(requestId: number, actor: Actor, reason: string): Promise<DecisionOutcome> {
    return this.decide(requestId, actor, 'request.rejected', { reason }, async (tx) =>
      tx.query<{ id: number }>(
        `UPDATE request_accounts SET decision = 'rejected', decision_reason = $4, decided_by_id = $2, decided_by_name = $3, decided_at = now()
         WHERE request_id = $1 AND decision IS NULL AND verdict <> 'ineligible' RETURNING id`,
        [requestId, actor.id, actor.name, reason],
      ),
    );
  }

  /** One decision per account, ever: a second attempt learns who decided first. */
  decideAccount(requestId: number, accountId: number, decision: Decision, actor: Actor, reason: string | null): Promise<DecisionOutcome> {
    return this.decide(requestId, actor, `account.${decision}`, reason ? { reason } : {}, async (tx) => {
      const rows = await tx.query<{ id: number }>(
        `UPDATE request_accounts SET decision = $3, decision_reason = $6, decided_by_id = $4, decided_by_name = $5, decided_at = now()
         WHERE request_id = $1 AND id = $2 AND decision IS NULL AND verdict <> 'ineligible' RETURNING id`,
        [requestId, accountId, decision, actor.id, actor.name, reason],
      );
      if (rows.length === 0) await explainUndecidable(tx, requestId, accountId);
      return rows;
    });
  }

  private async decide(
    requestId: number,
    actor: Actor,
    action: string,
    detail: Record<string, unknown>,
    update: (tx: SqlExecutor) => Promise<Array<{ id: number }>>,
  ): Promise<DecisionOutcome> {
    return this.db.transaction(async (tx) => {
      const [request] = await tx.query<{ id: number; requester_id: string; status: string }>('SELECT id, requester_id, status FROM transfer_requests WHERE id = $1 FOR UPDATE', [requestId]);
      if (!request) throw new AppError('REQUEST_NOT_FOUND');
      if (request.status === 'withdrawn') throw new AppError('INVALID_INPUT', 'The requester withdrew this request: there is nothing to decide.');
      const decided = await update(tx);
      if (decided.length === 0) await explainNothingToDecide(tx, requestId);
      for (const { id } of decided) await appendAudit(tx, actor, action, requestId, id, detail);
      const [settled] = await tx.query<{ id: number }>(
        `UPDATE transfer_requests SET status = 'decided', decided_at = now()
         WHERE id = $1 AND status IN ('submitted', 'in_review')
           AND NOT EXISTS (SELECT 1 FROM request_accounts WHERE request_id = $1 AND decision IS NULL AND verdict <> 'ineligible')
         RETURNING id`,
        [requestId],
      );
      await enqueue(tx, { kind: 'ops.update', dedupeKey: dedupeKeys.opsUpdate(requestId), requestId });
      if (settled) await enqueue(tx, { kind: 'outcome', dedupeKey: dedupeKeys.outcome(requestId), requestId, recipient: request.requester_id });
      return { decidedAccountIds: decided.map((row) => row.id), requestNowDecided: settled !== undefined };
    });
  }
}

async function explainUndecidable(tx: SqlExecutor, requestId: number, accountId: number): Promise<never> {
  const [account] = await tx.query<{ decided_by_name: string | null; decided_at: Date | null; decision: Decision | null; verdict: string }>(
    'SELECT decided_by_name, decided_at, decision, verdict FROM request_accounts WHERE request_id = $1 AND id = $2',
    [requestId, accountId],
  );
  if (!account) throw new AppError('ACCOUNT_NOT_IN_REQUEST');
  if (account.decision === null) throw new AppError('INVALID_INPUT', 'That account was screened out at submission as not eligible: it is not for decision.');
  throw new AppError('ALREADY_DECIDED', `It was ${account.decision} by ${account.decided_by_name ?? 'someone'} at ${formatTime(account.decided_at)}.`);
}

async function explainNothingToDecide(tx: SqlExecutor, requestId: number): Promise<never> {
  const [latest] = await tx.query<{ decided_by_name: string | null; decided_at: Date | null }>(
    'SELECT decided_by_name, decided_at FROM request_accounts WHERE request_id = $1 AND decided_at IS NOT NULL ORDER BY decided_at DESC LIMIT 1',
    [requestId],
  );
  throw new AppError('ALREADY_DECIDED', latest ? `Last decided by ${latest.decided_by_name ?? 'someone'} at ${formatTime(latest.decided_at)}.` : 'There is nothing left to decide.');
}
