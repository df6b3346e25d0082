import type { Evidence, Reason, Verdict } from '../eligibility/types';
import type { Actor } from '../model';
import type { SqlDatabase, SqlExecutor } from './database';

/**
 * The SQL of the background checks on a request (services/requests/recheck.ts): the queue of
 * checks owed, the latest re-screening of each account, and transfer confirmation. Statements
 * only; what is allowed, audited and owed is the use cases'.
 */

export type CheckKind = 'recheck' | 'transfer';

export interface ClaimedCheck {
  requestId: number;
  kind: CheckKind;
  trigger: string;
  claimToken: string;
  attempts: number;
}

/** Owes a check of `kind` on the request now (or re-arms it to now); idempotent. */
export async function oweCheck(tx: SqlExecutor, requestId: number, kind: CheckKind, trigger: string): Promise<void> {
  await oweChecks(tx, requestId, [{ kind, trigger }]);
}

/**
 * Owes each of `checks` on the request now (or re-arms it to now) in one statement; idempotent.
 * A decision that settles the request owes a re-check and the transfer check in one round trip.
 * One kind named twice is owed once, with the last trigger given.
 */
export async function oweChecks(tx: SqlExecutor, requestId: number, checks: ReadonlyArray<{ kind: CheckKind; trigger: string }>): Promise<void> {
  const byKind = new Map(checks.map((check) => [check.kind, check.trigger]));
  if (byKind.size === 0) return;
  await tx.query(
    `INSERT INTO request_checks (request_id, kind, trigger) SELECT $1, check_kind, check_trigger FROM unnest($2::text[], $3::text[]) AS owed (check_kind, check_trigger)
     ON CONFLICT (request_id, kind) DO UPDATE SET due_at = now(), trigger = EXCLUDED.trigger, attempts = 0, last_error = NULL`,
    [requestId, [...byKind.keys()], [...byKind.values()]],
  );
}

export class RequestChecks {
  constructor(private readonly db: SqlDatabase) {}

  /**
   * Every request meeting `rechecked` owes a daily re-check and every one meeting
   * `awaitingTransfer` a transfer check (the lifecycle's conditions as SQL on `transfer_requests r`,
   * services/requests/request-conditions.ts): rows missing for them are added, due now.
   * Cheap and idempotent, so any instance may run it.
   */
  async sweep(conditions: { rechecked: string; awaitingTransfer: string }): Promise<number> {
    const rows = await this.db.query<{ request_id: number }>(
      `INSERT INTO request_checks (request_id, kind, trigger)
       SELECT r.id, 'recheck', 'daily' FROM transfer_requests r WHERE ${conditions.rechecked}
       UNION ALL
       SELECT r.id, 'transfer', 'scheduled' FROM transfer_requests r WHERE ${conditions.awaitingTransfer}
       ON CONFLICT (request_id, kind) DO NOTHING RETURNING request_id`,
    );
    return rows.length;
  }

  /** Leases up to `limit` due checks of `kind`. */
  async claimDue(kind: CheckKind, limit: number, leaseSeconds: number): Promise<ClaimedCheck[]> {
    const rows = await this.db.query<{ request_id: number; kind: CheckKind; trigger: string; claim_token: string; attempts: number }>(
      `UPDATE request_checks SET lease_until = now() + make_interval(secs => $3), attempts = attempts + 1, claim_token = gen_random_uuid()::text
       WHERE (request_id, kind) IN (
         SELECT request_id, kind FROM request_checks
         WHERE kind = $1 AND due_at <= now() AND (lease_until IS NULL OR lease_until < now())
         ORDER BY due_at, request_id LIMIT $2 FOR UPDATE SKIP LOCKED)
       RETURNING request_id, kind, trigger, claim_token, attempts`,
      [kind, limit, leaseSeconds],
    );
    return rows.map((row) => ({ requestId: row.request_id, kind: row.kind, trigger: row.trigger, claimToken: row.claim_token, attempts: row.attempts }));
  }

  /** Done for now: due again after `nextInSeconds`, or removed (null) when nothing more is owed. Only by the claim that holds it. */
  async settle(check: ClaimedCheck, nextInSeconds: number | null, error: string | null = null): Promise<void> {
    if (nextInSeconds === null && error === null) {
      // Removed only if nobody owed it again meanwhile (a re-arm resets attempts to 0).
      await this.db.query('DELETE FROM request_checks WHERE request_id = $1 AND kind = $2 AND claim_token = $3 AND attempts > 0', [
        check.requestId,
        check.kind,
        check.claimToken,
      ]);
      return;
    }
    await this.db.query(
      `UPDATE request_checks SET due_at = CASE WHEN attempts = 0 THEN due_at ELSE now() + make_interval(secs => $4) END,
         lease_until = NULL, claim_token = NULL, last_run_at = now(), last_error = $5
       WHERE request_id = $1 AND kind = $2 AND claim_token = $3`,
      [check.requestId, check.kind, check.claimToken, nextInSeconds ?? 0, error],
    );
  }

  /** When each kind of check last ran on the request, and its error if it failed. */
  async lastRun(requestId: number): Promise<Map<CheckKind, { at: Date | null; error: string | null; due: Date }>> {
    const rows = await this.db.query<{ kind: CheckKind; last_run_at: Date | null; last_error: string | null; due_at: Date }>(
      'SELECT kind, last_run_at, last_error, due_at FROM request_checks WHERE request_id = $1',
      [requestId],
    );
    return new Map(rows.map((row) => [row.kind, { at: row.last_run_at, error: row.last_error, due: row.due_at }]));
  }
}

export interface AccountRecheck {
  accountId: number;
  verdict: Verdict;
  reasons: Reason[];
  evidence: Evidence;
  /** What differs from submission, in words; null when nothing does. */
  changeSummary: string | null;
  /** Whether the change is new (or different) since the last re-check: it is stamped now. */
  changeIsNew: boolean;
}

/** The latest re-screening of accounts, in one statement; a new change is stamped with the time it was seen. */
export async function recordRechecks(tx: SqlExecutor, requestId: number, rechecks: readonly AccountRecheck[]): Promise<void> {
  if (rechecks.length === 0) return;
  await tx.query(
    `UPDATE request_accounts a SET rechecked_at = now(), rechecked_verdict = x.verdict, rechecked_reasons = x.reasons, rechecked_evidence = x.evidence,
       change_summary = x.change_summary,
       changed_at = CASE WHEN x.change_summary IS NULL THEN NULL WHEN x.change_is_new THEN now() ELSE a.changed_at END
     FROM jsonb_to_recordset($2::jsonb) AS x(id INTEGER, verdict TEXT, reasons JSONB, evidence JSONB, change_summary TEXT, change_is_new BOOLEAN)
     WHERE a.request_id = $1 AND a.id = x.id`,
    [
      requestId,
      JSON.stringify(
        rechecks.map((recheck) => ({
          id: recheck.accountId,
          verdict: recheck.verdict,
          reasons: recheck.reasons,
          evidence: recheck.evidence,
          change_summary: recheck.changeSummary,
          change_is_new: recheck.changeIsNew,
        })),
      ),
    ],
  );
}

/** Marks the requester as told about a leaver on these accounts; the ids newly marked. */
export async function markLeaverAlerted(tx: SqlExecutor, requestId: number, accountIds: readonly number[]): Promise<number[]> {
  if (accountIds.length === 0) return [];
  const rows = await tx.query<{ id: number }>(
    'UPDATE request_accounts SET leaver_alerted_at = now() WHERE request_id = $1 AND id = ANY($2::int[]) AND leaver_alerted_at IS NULL RETURNING id',
    [requestId, [...accountIds]],
  );
  return rows.map((row) => row.id);
}

/**
 * Approved accounts seen moved in the directory: confirmed at `seenAt`. One not yet marked
 * transferred is marked now, by the bot, as seen moved. The ids confirmed.
 */
export async function confirmTransfers(tx: SqlExecutor, requestId: number, accountIds: readonly number[], bot: Actor): Promise<number[]> {
  if (accountIds.length === 0) return [];
  const rows = await tx.query<{ id: number }>(
    `UPDATE request_accounts SET transfer_confirmed_at = now(), transfer_checked_at = now(),
       transferred_at = COALESCE(transferred_at, now()),
       transferred_by_id = COALESCE(transferred_by_id, $3), transferred_by_name = COALESCE(transferred_by_name, $4),
       transfer_note = CASE WHEN transferred_at IS NULL THEN 'seen moved in the directory' ELSE transfer_note END
     WHERE request_id = $1 AND id = ANY($2::int[]) AND decision = 'approved' AND transfer_confirmed_at IS NULL AND transfer_overridden_at IS NULL
     RETURNING id`,
    [requestId, [...accountIds], bot.id, bot.name],
  );
  return rows.map((row) => row.id);
}

/** Approved accounts read in the directory and not (yet) moved: when they were last looked at. */
export async function recordTransferChecked(tx: SqlExecutor, requestId: number, accountIds: readonly number[]): Promise<void> {
  if (accountIds.length === 0) return;
  await tx.query('UPDATE request_accounts SET transfer_checked_at = now() WHERE request_id = $1 AND id = ANY($2::int[])', [requestId, [...accountIds]]);
}

/** NAS Operations vouch for a transfer the directory does not show; the id, or none. */
export async function overrideTransfer(tx: SqlExecutor, requestId: number, accountId: number, actor: Actor, reason: string): Promise<number[]> {
  const rows = await tx.query<{ id: number }>(
    `UPDATE request_accounts SET transfer_overridden_at = now(), transfer_overridden_by_id = $3, transfer_overridden_by_name = $4, transfer_override_reason = $5
     WHERE request_id = $1 AND id = $2 AND decision = 'approved' AND transferred_at IS NOT NULL AND transfer_confirmed_at IS NULL AND transfer_overridden_at IS NULL
     RETURNING id`,
    [requestId, accountId, actor.id, actor.name, reason],
  );
  return rows.map((row) => row.id);
}

/**
 * The request is completed when it meets `readyToComplete` (the lifecycle's condition as SQL on
 * `transfer_requests r`, from services/requests/request-conditions.ts); true for the call that completed it.
 */
export async function completeWhen(tx: SqlExecutor, requestId: number, readyToComplete: string): Promise<boolean> {
  const rows = await tx.query<{ id: number }>(
    `UPDATE transfer_requests r SET status = 'completed', completed_at = now() WHERE r.id = $1 AND r.status = 'decided' AND ${readyToComplete} RETURNING r.id`,
    [requestId],
  );
  return rows.length > 0;
}

/** Flags the request's unmoved accounts once more (compare-and-set on the count); true when this call flagged it. */
export async function claimTransferChase(tx: SqlExecutor, requestId: number, seenCount: number, at: Date): Promise<boolean> {
  const rows = await tx.query<{ id: number }>(
    `UPDATE transfer_requests SET transfer_chased_at = $3, transfer_chase_count = transfer_chase_count + 1 WHERE id = $1 AND transfer_chase_count = $2 AND status = 'decided' RETURNING id`,
    [requestId, seenCount, at],
  );
  return rows.length > 0;
}

export async function transferChaseState(db: SqlExecutor, requestId: number): Promise<{ chasedAt: Date | null; count: number }> {
  const [row] = await db.query<{ transfer_chased_at: Date | null; transfer_chase_count: number }>(
    'SELECT transfer_chased_at, transfer_chase_count FROM transfer_requests WHERE id = $1',
    [requestId],
  );
  return { chasedAt: row?.transfer_chased_at ?? null, count: row?.transfer_chase_count ?? 0 };
}
