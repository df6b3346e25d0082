import type { Actor } from '../model';
import { appendAudit } from './audit';
import type { SqlDatabase, SqlExecutor } from './database';
import { enqueue, owed } from './outbox';

/**
 * Retention: the personal data of a request closed more than RETENTION_DAYS ago is removed,
 * leaving the audit skeleton (which request and account, what happened, who by id, when).
 * Least data: what NAS needs to answer "what happened to request NTR-…" stays, who the
 * accounts were and what people wrote goes.
 */

/** Who the purge is recorded as: the system, under the policy, not a person. */
export const RETENTION_ACTOR: Actor = { id: 'system:retention', name: 'Retention policy' };

/** Written in place of removed free text (names, reasons), so a reader sees it was removed rather than never given. */
export const REDACTED = '[removed under the retention policy]';

/**
 * Statuses after which the request is closed: decided (as the issue asks, even before the
 * transfer is marked), completed, withdrawn. A later event (a correction, a transfer) moves
 * the closing time on, so a request still being worked is not purged under anyone's feet.
 */
export const CLOSED_STATUSES = ['decided', 'completed', 'withdrawn'] as const;

/**
 * Events that do not reopen a request: reading it (an export) and the purge itself. Any other
 * event (a correction, a transfer, a question) moves the closing time on.
 */
const NON_CHANGING_EVENTS = ['request.exported', 'request.purged'];

/**
 * Requests per transaction: a backlog after enabling retention is worked through in short transactions.
 * A request holds up to 500 accounts (the form's limit), so ten are up to 5,000 account rows rewritten;
 * on the embedded database every turn waits while a transaction holds its one connection.
 */
const BATCH_SIZE = 10;

const DAY_MS = 86_400_000;

/**
 * Removes the personal data of requests closed more than `olderThanDays` days before `now`.
 * Idempotent (a purged request carries a `request.purged` event and is not chosen again) and
 * safe with several instances (rows are claimed with SKIP LOCKED). Returns how many requests
 * it purged.
 */
export async function purgeClosedRequests(db: SqlDatabase, olderThanDays: number, now: Date = new Date()): Promise<number> {
  if (!Number.isInteger(olderThanDays) || olderThanDays < 1) throw new RangeError('olderThanDays must be an integer of at least 1.');
  const cutoff = new Date(now.getTime() - olderThanDays * DAY_MS);
  let purged = 0;
  for (;;) {
    const count = await db.transaction((tx) => purgeBatch(tx, cutoff, olderThanDays));
    purged += count;
    if (count < BATCH_SIZE) return purged;
  }
}

async function purgeBatch(tx: SqlExecutor, cutoff: Date, olderThanDays: number): Promise<number> {
  // Closed when its last state-changing event happened (or it was decided), whatever later
  // status columns the lifecycle adds: every transition writes an audit event.
  const due = await tx.query<{ id: number; ops_activity_id: string | null }>(
    `SELECT r.id, r.ops_activity_id FROM transfer_requests r
     WHERE r.status = ANY($1::text[])
       AND NOT EXISTS (SELECT 1 FROM audit_events p WHERE p.request_id = r.id AND p.action = 'request.purged')
       AND GREATEST(r.created_at, r.decided_at, r.completed_at, r.withdrawn_at,
             (SELECT max(e.occurred_at) FROM audit_events e WHERE e.request_id = r.id AND NOT (e.action = ANY($2::text[])))) < $3
     ORDER BY r.id
     LIMIT $4
     FOR UPDATE OF r SKIP LOCKED`,
    [[...CLOSED_STATUSES], NON_CHANGING_EVENTS, cutoff, BATCH_SIZE],
  );
  if (due.length === 0) return 0;
  const ids = due.map((row) => row.id);

  await tx.query(
    `UPDATE transfer_requests SET requester_name = $2, reason = $2, claimed_by_name = CASE WHEN claimed_by_name IS NULL THEN NULL ELSE $2 END
     WHERE id = ANY($1::int[])`,
    [ids, REDACTED],
  );
  // What NAS Operations asked and the requester answered is free text about people.
  await tx.query(
    `UPDATE request_questions SET question = $2, asked_by_name = $2, answer = CASE WHEN answer IS NULL THEN NULL ELSE $2 END
     WHERE request_id = ANY($1::int[])`,
    [ids, REDACTED],
  );
  // The account becomes "redacted-<its row id>": not reversible, still distinct per row. Rule
  // ids, verdicts, remedies (policy text), decisions and who decided (by id) stay; what was said
  // about the person, and people's names, go, as in the audit skeleton.
  await tx.query(
    `UPDATE request_accounts SET
       email = 'redacted-' || id,
       specialism = NULL,
       evidence = jsonb_build_object('directoryFound', COALESCE(evidence -> 'directoryFound', 'false'::jsonb)),
       reasons = (SELECT COALESCE(jsonb_agg(jsonb_set(reason.value, '{message}', '""'::jsonb) ORDER BY reason.position), '[]'::jsonb)
                  FROM jsonb_array_elements(reasons) WITH ORDINALITY AS reason(value, position)),
       decision_reason = CASE WHEN decision_reason IS NULL THEN NULL ELSE $2 END,
       decided_by_name = CASE WHEN decided_by_name IS NULL THEN NULL ELSE $2 END,
       transferred_by_name = CASE WHEN transferred_by_name IS NULL THEN NULL ELSE $2 END,
       transfer_note = CASE WHEN transfer_note IS NULL THEN NULL ELSE $2 END,
       rechecked_reasons = NULL,
       rechecked_evidence = NULL,
       change_summary = CASE WHEN change_summary IS NULL THEN NULL ELSE $2 END,
       transfer_overridden_by_name = CASE WHEN transfer_overridden_by_name IS NULL THEN NULL ELSE $2 END,
       transfer_override_reason = CASE WHEN transfer_override_reason IS NULL THEN NULL ELSE $2 END
     WHERE request_id = ANY($1::int[])`,
    [ids, REDACTED],
  );

  // The affected users' messages (migration 017): who they went to goes with the accounts; their text went when each was settled.
  await tx.query(`UPDATE affected_user_messages SET recipient = 'redacted-' || id, subject = NULL, body = NULL WHERE request_id = ANY($1::int[])`, [ids]);

  // The only path through the audit trigger (migrations/003): for this transaction alone, and
  // the trigger still lets it only take information away.
  await tx.query(`SELECT set_config('nas.audit_purge', 'on', true)`);
  const events = await tx.query<{ id: string | number; detail: Record<string, unknown> }>(
    'SELECT id, detail FROM audit_events WHERE request_id = ANY($1::int[])',
    [ids],
  );
  if (events.length > 0) {
    await tx.query(
      `UPDATE audit_events e SET detail = x.detail, actor_name = ''
       FROM jsonb_to_recordset($1::jsonb) AS x(id BIGINT, detail JSONB) WHERE e.id = x.id`,
      [JSON.stringify(events.map((event) => ({ id: Number(event.id), detail: auditSkeleton(event.detail) })))],
    );
  }
  // Delivered messages need their payloads no more; one still pending keeps what it must send.
  await tx.query(`UPDATE outbox SET payload = '{}'::jsonb, last_error = NULL WHERE request_id = ANY($1::int[]) AND status <> 'pending'`, [ids]);

  for (const { id, ops_activity_id: opsActivityId } of due) {
    await appendAudit(tx, RETENTION_ACTOR, 'request.purged', id, null, { olderThanDays });
    // The card in the ops channel still shows the addresses: re-render it from the purged store.
    if (opsActivityId) await enqueue(tx, owed.opsUpdate(id));
  }
  return due.length;
}

/**
 * Working data nobody has touched for `olderThanDays` days is deleted, whole rows: a screening
 * job (its owner_id, the entries screened and their result) and a conversation's dialog state
 * (bot_state's document: answers and pasted lists). Both exist only while someone is filling in
 * the form; a list screened and never submitted would otherwise stay for good. A request holds
 * its own copy of what was submitted, so neither is needed once it is. Returns what it deleted.
 */
export async function purgeStaleWork(db: SqlDatabase, olderThanDays: number, now: Date = new Date()): Promise<{ screeningJobs: number; dialogStates: number }> {
  if (!Number.isInteger(olderThanDays) || olderThanDays < 1) throw new RangeError('olderThanDays must be an integer of at least 1.');
  const cutoff = new Date(now.getTime() - olderThanDays * DAY_MS);
  // A job's result goes with it: its chunks (screening_job_results, the accounts screened) are deleted by ON DELETE CASCADE (migration 022).
  const jobs = await db.query('DELETE FROM screening_jobs WHERE updated_at < $1 RETURNING id', [cutoff]);
  const states = await db.query('DELETE FROM bot_state WHERE updated_at < $1 RETURNING key', [cutoff]);
  return { screeningJobs: jobs.length, dialogStates: states.length };
}

/** Text values kept in audit detail: references, versions and machine words, never what a person wrote or is called. */
const KEPT_TEXT_KEYS = new Set(['reference', 'policyVersion', 'verb', 'decision', 'verdict', 'status', 'state', 'kind', 'rule', 'rules']);
/** Keys whose value is kept only when it is one of our codes (e.g. a refusal's reason NOT_OPS), never free text. */
const CODE_KEYS = new Set(['reason', 'code', 'errorCode']);
const CODE = /^[A-Z][A-Z0-9_]{1,63}$/;

/**
 * An audit event's detail with every personal field removed: numbers and booleans, known
 * machine words and codes stay; any other text goes (a reason, a note, a question, an address,
 * a name), at any depth (before/after objects). Only ever removes, which is what the audit
 * trigger allows: the result is contained in the input.
 */
export function auditSkeleton(detail: Record<string, unknown>): Record<string, unknown> {
  const kept: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(detail ?? {})) {
    const skeleton = keptValue(key, value);
    if (skeleton !== undefined) kept[key] = skeleton;
  }
  return kept;
}

function keptValue(key: string, value: unknown): unknown {
  if (value === null || typeof value === 'number' || typeof value === 'boolean') return value;
  if (typeof value === 'string') return KEPT_TEXT_KEYS.has(key) || (CODE_KEYS.has(key) && CODE.test(value)) ? value : undefined;
  if (Array.isArray(value)) return value.map((item) => keptValue(key, item)).filter((item) => item !== undefined);
  if (typeof value === 'object') return auditSkeleton(value as Record<string, unknown>);
  return undefined;
}
