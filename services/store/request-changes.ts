import { OPEN_STATUSES, type Actor, type Decision } from '../model';
import type { SqlExecutor } from './database';

/**
 * The SQL that changes a request after submission: decisions, corrections, who reviews it,
 * transfers, completion and withdrawal. Statements only, each inside the caller's
 * transaction; which change is allowed, what is audited and what is owed is the use cases'
 * (services/requests/transfer-requests.ts). Every UPDATE repeats its own precondition in
 * its WHERE clause, so a change can never apply twice even if a caller forgot to ask.
 */

type Ids = Array<{ id: number }>;
const ids = (rows: Ids): number[] => rows.map((row) => row.id);

/**
 * A decision's own precondition on the request, as the lifecycle's `open` condition reads it
 * (services/requests/lifecycle.ts: decisions are taken while the request is submitted or in
 * review): `$1` is the request's id, `$statuses` the parameter holding OPEN_STATUSES. With it a
 * decision on a withdrawn or decided request changes nothing, whoever calls.
 */
const REQUEST_OPEN = (statuses: string) => `EXISTS (SELECT 1 FROM transfer_requests r WHERE r.id = $1 AND r.status = ANY(${statuses}::text[]))`;

/**
 * Approves every eligible account not yet decided, except those changed since submission (decided one by one); the ids approved.
 * One statement for the whole request, whatever its size: a 500-account request is one UPDATE, not 500.
 */
export async function approveEligibleAccounts(tx: SqlExecutor, requestId: number, actor: Actor): Promise<number[]> {
  return ids(
    await tx.query<{ id: number }>(
      `UPDATE request_accounts SET decision = 'approved', decided_by_id = $2, decided_by_name = $3, decided_at = now()
       WHERE request_id = $1 AND verdict = 'eligible' AND decision IS NULL AND change_summary IS NULL AND ${REQUEST_OPEN('$4')} RETURNING id`,
      [requestId, actor.id, actor.name, OPEN_STATUSES],
    ),
  );
}

/** Rejects every account put to a decision and not yet decided, with one reason; the ids rejected. */
export async function rejectUndecidedAccounts(tx: SqlExecutor, requestId: number, actor: Actor, reason: string): Promise<number[]> {
  return ids(
    await tx.query<{ id: number }>(
      `UPDATE request_accounts SET decision = 'rejected', decision_reason = $4, decided_by_id = $2, decided_by_name = $3, decided_at = now()
       WHERE request_id = $1 AND decision IS NULL AND verdict <> 'ineligible' AND ${REQUEST_OPEN('$5')} RETURNING id`,
      [requestId, actor.id, actor.name, reason, OPEN_STATUSES],
    ),
  );
}

/** Decides one undecided account (compare-and-set: one decision per account, ever); the id, or none. */
export async function decideOneAccount(
  tx: SqlExecutor,
  requestId: number,
  accountId: number,
  decision: Decision,
  actor: Actor,
  reason: string | null,
): Promise<number[]> {
  return ids(
    await tx.query<{ id: number }>(
      `UPDATE request_accounts SET decision = $3, decision_reason = $6, decided_by_id = $4, decided_by_name = $5, decided_at = now()
       WHERE request_id = $1 AND id = $2 AND decision IS NULL AND verdict <> 'ineligible' AND ${REQUEST_OPEN('$7')} RETURNING id`,
      [requestId, accountId, decision, actor.id, actor.name, reason, OPEN_STATUSES],
    ),
  );
}

/** The request becomes decided when no account put to a decision is left undecided; true for the call that settled it. */
export async function settleIfAllDecided(tx: SqlExecutor, requestId: number): Promise<boolean> {
  const rows = await tx.query<{ id: number }>(
    `UPDATE transfer_requests SET status = 'decided', decided_at = now()
     WHERE id = $1 AND status = ANY($2::text[])
       AND NOT EXISTS (SELECT 1 FROM request_accounts WHERE request_id = $1 AND decision IS NULL AND verdict <> 'ineligible')
     RETURNING id`,
    [requestId, OPEN_STATUSES],
  );
  return rows.length > 0;
}

/** Replaces a decision not yet acted on (the account not transferred). */
export async function changeDecision(tx: SqlExecutor, requestId: number, accountId: number, decision: Decision, actor: Actor, reason: string): Promise<void> {
  await tx.query(
    `UPDATE request_accounts SET decision = $3, decision_reason = $4, decided_by_id = $5, decided_by_name = $6, decided_at = now()
     WHERE request_id = $1 AND id = $2 AND decision IS NOT NULL AND transferred_at IS NULL`,
    [requestId, accountId, decision, reason, actor.id, actor.name],
  );
}

/** The request is in review by `actor` from now. */
export async function assignReviewer(tx: SqlExecutor, requestId: number, actor: Actor): Promise<void> {
  await tx.query(`UPDATE transfer_requests SET status = 'in_review', claimed_by_id = $2, claimed_by_name = $3, claimed_at = now() WHERE id = $1`, [
    requestId,
    actor.id,
    actor.name,
  ]);
}

/** Marks approved accounts (all, or those named) as moved to NAS; the ids marked. */
export async function markAccountsTransferred(
  tx: SqlExecutor,
  requestId: number,
  actor: Actor,
  accountIds: readonly number[] | 'all',
  note: string | null,
): Promise<number[]> {
  return ids(
    await tx.query<{ id: number }>(
      `UPDATE request_accounts SET transferred_at = now(), transferred_by_id = $2, transferred_by_name = $3, transfer_note = $4
       WHERE request_id = $1 AND decision = 'approved' AND transferred_at IS NULL AND ($5::int[] IS NULL OR id = ANY($5::int[]))
       RETURNING id`,
      [requestId, actor.id, actor.name, note, accountIds === 'all' ? null : [...accountIds]],
    ),
  );
}

export async function markWithdrawn(tx: SqlExecutor, requestId: number): Promise<void> {
  await tx.query(`UPDATE transfer_requests SET status = 'withdrawn', withdrawn_at = now() WHERE id = $1 AND status = ANY($2::text[])`, [
    requestId,
    OPEN_STATUSES,
  ]);
}

/** Counts one more reminder of an undecided request (compare-and-set on the count seen); true when this call counted it. */
export async function claimRequestChase(tx: SqlExecutor, requestId: number, seenCount: number, at: Date): Promise<boolean> {
  const rows = await tx.query<{ id: number }>(
    'UPDATE transfer_requests SET last_chased_at = $3, chase_count = chase_count + 1 WHERE id = $1 AND chase_count = $2 RETURNING id',
    [requestId, seenCount, at],
  );
  return rows.length > 0;
}

/** Marks an unanswered question as put once more (once only); true when this call marked it. */
export async function claimQuestionChase(tx: SqlExecutor, questionId: number, at: Date): Promise<boolean> {
  const rows = await tx.query<{ id: number }>(
    'UPDATE request_questions SET chased_at = $2 WHERE id = $1 AND chased_at IS NULL AND answered_at IS NULL RETURNING id',
    [questionId, at],
  );
  return rows.length > 0;
}
