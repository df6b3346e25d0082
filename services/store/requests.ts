import type { Evidence, Reason, ScreenedAccount, Verdict } from '../eligibility/types';
import {
  OPEN_STATUSES,
  type Attestations,
  type Decision,
  type NewTransferRequest,
  type NotificationState,
  type RequestStatus,
  type RequestSummary,
  type StoredRequest,
  type AffectedUsersTold,
  type RequestForDecision,
  type StoredAccount,
} from '../model';
import { AuditLog, type AuditEvent } from './audit';
import type { SqlDatabase, SqlExecutor } from './database';
import { toQuestion, type QuestionRow } from './questions';
import { PERMANENT_FAILURES } from './outbox';

type OutboxStatus = 'pending' | 'delivered' | 'undeliverable' | 'failed';

interface RequestRow {
  id: number;
  reference: string;
  organisation_ods: string;
  organisation_name: string;
  requester_id: string;
  requester_name: string;
  reason: string;
  attestations: Attestations;
  policy_version: string;
  status: RequestStatus;
  created_at: Date;
  decided_at: Date | null;
  ops_conversation_id: string | null;
  ops_activity_id: string | null;
  outcome_conversation_id?: string | null;
  outcome_activity_id?: string | null;
  outcome_notified_at: Date | null;
  claimed_by_id: string | null;
  claimed_by_name: string | null;
  claimed_at: Date | null;
  completed_at: Date | null;
  withdrawn_at: Date | null;
  outcome_status: OutboxStatus | null;
  /** json_agg of the tally's rows; the timestamps arrive as JSON text. */
  affected_users_told: TallyRow[];
  /** json_agg of the request's questions, oldest first; the timestamps arrive as JSON text. */
  questions: Array<Omit<QuestionRow, 'asked_at' | 'answered_at'> & { asked_at: string; answered_at: string | null }>;
}

interface TallyRow {
  stage: AffectedUsersTold['stage'];
  total: string | number;
  sent: string | number;
  pending: string | number;
  last_sent: Date | string | null;
}

interface AccountRow {
  id: number;
  position: number;
  email: string;
  site_ods: string | null;
  specialism: string | null;
  verdict: Verdict;
  reasons: Reason[];
  evidence: Evidence;
  decision: Decision | null;
  decision_reason: string | null;
  decided_by_id: string | null;
  decided_by_name: string | null;
  decided_at: Date | null;
  transferred_at: Date | null;
  transferred_by_id: string | null;
  transferred_by_name: string | null;
  transfer_note: string | null;
  rechecked_at?: Date | null;
  rechecked_verdict?: Verdict | null;
  rechecked_reasons?: Reason[] | null;
  rechecked_evidence?: Evidence | null;
  change_summary?: string | null;
  changed_at?: Date | null;
  leaver_alerted_at?: Date | null;
  leaver_alert_status?: OutboxStatus | null;
  transfer_confirmed_at?: Date | null;
  transfer_checked_at?: Date | null;
  transfer_overridden_at?: Date | null;
  transfer_overridden_by_id?: string | null;
  transfer_overridden_by_name?: string | null;
  transfer_override_reason?: string | null;
}

export interface Submitted {
  request: StoredRequest;
  /** False when this draft had already been submitted: the same request is answered again. */
  created: boolean;
}

/**
 * The outcome's delivery as the card tells it: one that failed for a reason rest can help (Teams
 * answered 5xx to every attempt) is owed again after a rest (Outbox.rearmFailed), so it is still
 * being told, not "could not be told: tell them another way"; only a refusal for good is that.
 */
const OUTCOME_STATUS = `CASE WHEN o.status = 'failed' AND o.last_error <> ALL(ARRAY[${PERMANENT_FAILURES.map((code) => `'${code}'`).join(', ')}]) THEN 'pending' ELSE o.status END`;

/**
 * The request row with its outcome message's state, the affected users' messages per stage
 * (migration 017, for the ops card's tally beside the requester's confirmation) and NAS
 * Operations' questions, in one round trip: every read and lock of a request is on the reply path
 * of a turn or an invoke, and a statement of its own for the tally, or for the questions, queued
 * behind the others (issue 23). Both are scalar subqueries, so `FOR UPDATE OF r` still locks only
 * the request's row. The questions are few (one per Ask, each at most 500 characters), so their
 * JSON costs nothing beside a statement.
 */
const SELECT_REQUEST = `SELECT r.*, ${OUTCOME_STATUS} AS outcome_status,
    (SELECT coalesce(json_agg(t ORDER BY t.stage DESC), '[]'::json) FROM (
       SELECT m.stage, count(*) AS total, count(*) FILTER (WHERE m.status = 'sent') AS sent, count(*) FILTER (WHERE m.status = 'pending') AS pending,
              max(m.settled_at) FILTER (WHERE m.status = 'sent') AS last_sent
       FROM affected_user_messages m WHERE m.request_id = r.id GROUP BY m.stage) t) AS affected_users_told,
    (SELECT coalesce(json_agg(json_build_object('id', q.id, 'asked_by_id', q.asked_by_id, 'asked_by_name', q.asked_by_name, 'question', q.question,
                                                'asked_at', q.asked_at, 'answer', q.answer, 'answered_at', q.answered_at) ORDER BY q.id), '[]'::json)
       FROM request_questions q WHERE q.request_id = r.id) AS questions
  FROM transfer_requests r
  LEFT JOIN outbox o ON o.dedupe_key = 'outcome:' || r.id`;

/**
 * The request's accounts, each leaver with the state of the urgent alert that named it (the card
 * says whether the requester was told from whether Teams took the alert, not from its being owed),
 * in the same statement. An alert names its accounts in its payload; the outbox is indexed on
 * (request_id, kind), and only accounts alerted about look.
 */
const SELECT_ACCOUNTS = `SELECT a.*,
    CASE WHEN a.leaver_alerted_at IS NOT NULL THEN (
      SELECT o.status FROM outbox o
      WHERE o.request_id = a.request_id AND o.kind = 'leaver.alert' AND o.payload->'accountIds' @> to_jsonb(a.id)
      ORDER BY o.id DESC LIMIT 1) END AS leaver_alert_status
  FROM request_accounts a WHERE a.request_id = $1 ORDER BY a.position`;

/** Transfer requests and their screened accounts: created once per draft, read as the model. */
export class RequestRepository {
  constructor(private readonly db: SqlDatabase) {}

  get(id: number): Promise<StoredRequest | null> {
    return readRequest(this.db, 'r.id = $1', id);
  }

  getByReference(reference: string): Promise<StoredRequest | null> {
    return readRequest(this.db, 'r.reference = $1', reference.toUpperCase());
  }

  /** Who raised a request, or null when there is none: what the access rule needs, without reading its accounts. */
  async requesterOf(id: number): Promise<Pick<StoredRequest, 'requester'> | null> {
    const [row] = await this.db.query<{ requester_id: string; requester_name: string }>(
      'SELECT requester_id, requester_name FROM transfer_requests WHERE id = $1',
      [id],
    );
    return row ? { requester: { id: row.requester_id, name: row.requester_name } } : null;
  }

  async exists(id: number): Promise<boolean> {
    const [row] = await this.db.query<{ id: number }>('SELECT id FROM transfer_requests WHERE id = $1', [id]);
    return row !== undefined;
  }

  async listBy(requesterId: string, limit = 10): Promise<RequestSummary[]> {
    return this.summaries('WHERE r.requester_id = $1', [requesterId, limit]);
  }

  /** Requests NAS Operations still have to decide, oldest first. */
  async listAwaitingDecision(limit = 20): Promise<RequestSummary[]> {
    return this.summaries(`WHERE r.status = ANY($1::text[])`, [OPEN_STATUSES, limit], 'r.created_at ASC, r.id ASC');
  }

  /** Requests meeting `awaitingTransfer` (the lifecycle's condition as SQL on `transfer_requests r`), oldest first. */
  async listAwaitingTransfer(awaitingTransfer: string, limit = 20): Promise<RequestSummary[]> {
    return this.summaries(`WHERE ${awaitingTransfer}`, [limit], 'r.created_at ASC, r.id ASC');
  }

  /** Where the ops card was posted, so later changes update it in place. */
  static async recordOpsMessage(tx: SqlExecutor, requestId: number, conversationId: string, activityId: string): Promise<void> {
    await tx.query('UPDATE transfer_requests SET ops_conversation_id = $2, ops_activity_id = $3 WHERE id = $1', [requestId, conversationId, activityId]);
  }

  /** The requester was sent the outcome; where its card is, so a later change updates it in place. */
  static async recordOutcomeNotified(
    tx: SqlExecutor,
    requestId: number,
    sent: { conversationId?: string | undefined; activityId?: string | undefined } = {},
  ): Promise<void> {
    await tx.query(
      `UPDATE transfer_requests SET outcome_notified_at = COALESCE(outcome_notified_at, now()),
         outcome_conversation_id = COALESCE($2, outcome_conversation_id), outcome_activity_id = COALESCE($3, outcome_activity_id)
       WHERE id = $1`,
      [requestId, sent.conversationId ?? null, sent.activityId ?? null],
    );
  }

  /** One event of the request's audit, by id. */
  auditEvent(id: number): Promise<AuditEvent | null> {
    return new AuditLog(this.db).event(id);
  }

  private async summaries(where: string, params: unknown[], order = 'r.created_at DESC, r.id DESC'): Promise<RequestSummary[]> {
    const rows = await this.db.query<{
      id: number;
      reference: string;
      organisation_name: string;
      status: RequestStatus;
      created_at: Date;
      claimed_by_name: string | null;
      account_count: number;
      approved_count: number;
      rejected_count: number;
    }>(
      `SELECT r.id, r.reference, r.organisation_name, r.status, r.created_at, r.claimed_by_name,
              count(a.id) FILTER (WHERE a.verdict <> 'ineligible')::int AS account_count,
              count(a.id) FILTER (WHERE a.decision = 'approved')::int AS approved_count,
              count(a.id) FILTER (WHERE a.decision = 'rejected')::int AS rejected_count
       FROM transfer_requests r LEFT JOIN request_accounts a ON a.request_id = r.id
       ${where}
       GROUP BY r.id ORDER BY ${order} LIMIT $${params.length}`,
      params,
    );
    return rows.map((row) => ({
      id: row.id,
      reference: row.reference,
      organisationName: row.organisation_name,
      status: row.status,
      createdAt: row.created_at,
      claimedByName: row.claimed_by_name,
      accountCount: row.account_count,
      approvedCount: row.approved_count,
      rejectedCount: row.rejected_count,
    }));
  }
}

/**
 * A request with its accounts and questions, read through `db` (a transaction's executor
 * reads what the transaction sees). `lock` takes the request's row lock first: every change
 * to a request starts there, so changes to one request happen one after another.
 */
async function readRequest(db: SqlExecutor, where: string, value: unknown, lock = false): Promise<StoredRequest | null> {
  const [row] = await db.query<RequestRow>(`${SELECT_REQUEST} WHERE ${where}${lock ? ' FOR UPDATE OF r' : ''}`, [value]);
  return row ? withAccounts(db, row) : null;
}

/** The request, locked for the rest of the transaction `tx`. */
export function lockRequest(tx: SqlExecutor, requestId: number): Promise<StoredRequest | null> {
  return readRequest(tx, 'r.id = $1', requestId, true);
}

/**
 * The columns of an account a decision reads (AccountFacts): what the lifecycle asks and a refusal
 * names. Not its reasons and evidence, nor its re-check's: those are most of a row (JSON, parsed
 * row by row), and a decision on a 500-account request read all of them under the request's lock
 * (issue 23: 3-9 ms of approve-all on 500 accounts, against 1-2.5 ms for these columns; and the
 * same for every single decision on such a request).
 */
const SELECT_ACCOUNT_FACTS = `SELECT a.id, a.position, a.verdict, a.decision, a.decided_by_id, a.decided_by_name, a.decided_at, a.transferred_at,
    a.rechecked_at, a.rechecked_verdict, a.change_summary, a.transfer_confirmed_at,
    a.transfer_overridden_at, a.transfer_overridden_by_id, a.transfer_overridden_by_name, a.transfer_override_reason
  FROM request_accounts a WHERE a.request_id = $1 ORDER BY a.position`;

/** The request locked for the rest of `tx` as a decision reads it: its row whole, its accounts as facts (two statements). */
export async function lockRequestForDecision(tx: SqlExecutor, requestId: number): Promise<RequestForDecision | null> {
  const [row] = await tx.query<RequestRow>(`${SELECT_REQUEST} WHERE r.id = $1 FOR UPDATE OF r`, [requestId]);
  if (!row) return null;
  const accounts = await tx.query<AccountRow>(SELECT_ACCOUNT_FACTS, [row.id]);
  return {
    ...requestOfRow(row),
    accounts: accounts.map((account) => ({
      id: account.id,
      position: account.position,
      verdict: account.verdict,
      decision: account.decision,
      decidedBy: account.decided_by_id ? { id: account.decided_by_id, name: account.decided_by_name ?? '' } : null,
      decidedAt: account.decided_at,
      transferredAt: account.transferred_at,
      // As the whole read has it: a re-check is there once it recorded a verdict.
      recheck: account.rechecked_at && account.rechecked_verdict ? { verdict: account.rechecked_verdict, changes: account.change_summary ?? null } : null,
      transferConfirmedAt: account.transfer_confirmed_at ?? null,
      transferOverride: transferOverrideOf(account),
    })),
  };
}

async function withAccounts(db: SqlExecutor, row: RequestRow): Promise<StoredRequest> {
  // After the request's row, not beside it: inside a transaction `db` is one pg connection, and
  // statements sent to it while it is busy queue in pg (deprecated in pg 8.23, to be removed in pg 9;
  // the warning is printed outside our structured log).
  const accounts = await db.query<AccountRow>(SELECT_ACCOUNTS, [row.id]);
  return {
    ...requestOfRow(row),
    accounts: accounts.map((account) => ({
      id: account.id,
      position: account.position,
      email: account.email,
      siteOds: account.site_ods,
      specialism: account.specialism,
      verdict: account.verdict,
      reasons: account.reasons,
      evidence: account.evidence,
      decision: account.decision,
      decisionReason: account.decision_reason,
      decidedBy: account.decided_by_id ? { id: account.decided_by_id, name: account.decided_by_name ?? '' } : null,
      decidedAt: account.decided_at,
      transferredBy: account.transferred_by_id ? { id: account.transferred_by_id, name: account.transferred_by_name ?? '' } : null,
      transferredAt: account.transferred_at,
      transferNote: account.transfer_note,
      recheck:
        account.rechecked_at && account.rechecked_verdict
          ? {
              at: account.rechecked_at,
              verdict: account.rechecked_verdict,
              reasons: account.rechecked_reasons ?? [],
              evidence: account.rechecked_evidence ?? { directoryFound: false },
              changes: account.change_summary ?? null,
              changedAt: account.changed_at ?? null,
            }
          : null,
      transferConfirmedAt: account.transfer_confirmed_at ?? null,
      transferCheckedAt: account.transfer_checked_at ?? null,
      transferOverride: transferOverrideOf(account),
      leaverAlertedAt: account.leaver_alerted_at ?? null,
      leaverAlert: notificationState(account.leaver_alert_status ?? null),
    })),
  };
}

function transferOverrideOf(account: AccountRow): StoredAccount['transferOverride'] {
  return account.transfer_overridden_at && account.transfer_overridden_by_id
    ? {
        by: { id: account.transfer_overridden_by_id, name: account.transfer_overridden_by_name ?? '' },
        at: account.transfer_overridden_at,
        reason: account.transfer_override_reason ?? '',
      }
    : null;
}

/** The request's own row, as the model has it. */
function requestOfRow(row: RequestRow): Omit<StoredRequest, 'accounts'> {
  return {
    id: row.id,
    reference: row.reference,
    organisationOds: row.organisation_ods,
    organisationName: row.organisation_name,
    requester: { id: row.requester_id, name: row.requester_name },
    reason: row.reason,
    attestations: row.attestations,
    policyVersion: row.policy_version,
    status: row.status,
    createdAt: row.created_at,
    decidedAt: row.decided_at,
    opsConversationId: row.ops_conversation_id,
    opsActivityId: row.ops_activity_id,
    outcomeNotifiedAt: row.outcome_notified_at,
    outcomeCard:
      row.outcome_conversation_id && row.outcome_activity_id ? { conversationId: row.outcome_conversation_id, activityId: row.outcome_activity_id } : null,
    outcomeNotification: notificationState(row.outcome_status),
    claimedBy: row.claimed_by_id ? { id: row.claimed_by_id, name: row.claimed_by_name ?? '' } : null,
    claimedAt: row.claimed_at,
    completedAt: row.completed_at,
    withdrawnAt: row.withdrawn_at,
    questions: row.questions.map((question) =>
      toQuestion({ ...question, asked_at: new Date(question.asked_at), answered_at: question.answered_at === null ? null : new Date(question.answered_at) }),
    ),
    affectedUsersTold: row.affected_users_told.map(toTally),
  };
}

/** Namespace of the advisory locks on account addresses (the two-key form, apart from the other locks' keys). */
const ADDRESS_LOCK_NAMESPACE = 7_272_002;

/**
 * Locks `emails` for the rest of `tx`, so that the requests holding an address are read, and
 * the address then taken, by one submission at a time. Only submissions that share an address
 * wait for each other: one lock for every submission made each wait for all those before it,
 * holding a pooled connection while it waited. The locks are taken in one order (by hash), so
 * two submissions sharing several addresses cannot deadlock; two addresses with the same hash
 * share a lock, which only makes them wait for each other.
 */
export async function lockAddresses(tx: SqlExecutor, emails: readonly string[]): Promise<void> {
  if (emails.length === 0) return;
  // A volatile function in the select list is evaluated after ORDER BY (PostgreSQL 9.6 and later), so the locks are taken in key order.
  await tx.query(
    `SELECT pg_advisory_xact_lock($1, address.key) FROM (SELECT DISTINCT hashtext(lower(email)) AS key FROM unnest($2::text[]) AS email) AS address ORDER BY address.key`,
    [ADDRESS_LOCK_NAMESPACE, [...emails]],
  );
}

/** A new request for the draft; `created` false (and the existing request's id) when the draft was submitted before. */
export async function insertRequest(
  tx: SqlExecutor,
  request: Omit<NewTransferRequest, 'accounts'>,
): Promise<{ id: number; reference: string; created: boolean }> {
  const [created] = await tx.query<{ id: number; reference: string }>(
    `INSERT INTO transfer_requests (reference, draft_id, organisation_ods, organisation_name, requester_id, requester_name, reason, attestations, policy_version)
     VALUES ('NTR-' || nextval('request_reference_seq'), $1, $2, $3, $4, $5, $6, $7, $8)
     ON CONFLICT (draft_id) DO NOTHING
     RETURNING id, reference`,
    [
      request.draftId,
      request.organisationOds,
      request.organisationName,
      request.requester.id,
      request.requester.name,
      request.reason,
      JSON.stringify(request.attestations),
      request.policyVersion,
    ],
  );
  if (created) return { ...created, created: true };
  const [existing] = await tx.query<{ id: number; reference: string }>('SELECT id, reference FROM transfer_requests WHERE draft_id = $1', [request.draftId]);
  return { ...(existing as { id: number; reference: string }), created: false };
}

/** One statement for the whole list keeps a 500-account request to one round trip. */
export async function insertAccounts(tx: SqlExecutor, requestId: number, screened: readonly ScreenedAccount[]): Promise<void> {
  const accounts = screened.map((account) => ({
    position: account.position,
    email: account.email,
    site_ods: account.siteOds ?? null,
    specialism: account.specialism ?? null,
    verdict: account.verdict,
    reasons: account.reasons,
    evidence: account.evidence,
  }));
  await tx.query(
    `INSERT INTO request_accounts (request_id, position, email, site_ods, specialism, verdict, reasons, evidence)
     SELECT $1, x.position, x.email, x.site_ods, x.specialism, x.verdict, x.reasons, x.evidence
     FROM jsonb_to_recordset($2::jsonb) AS x(position INTEGER, email TEXT, site_ods TEXT, specialism TEXT, verdict TEXT, reasons JSONB, evidence JSONB)`,
    [requestId, JSON.stringify(accounts)],
  );
}

function notificationState(outboxStatus: OutboxStatus | null): NotificationState {
  if (outboxStatus === null) return 'not_due';
  if (outboxStatus === 'failed') return 'undeliverable';
  return outboxStatus;
}

/** One stage's row of the affected users' tally, as SELECT_REQUEST aggregates it. */
function toTally(row: TallyRow): AffectedUsersTold {
  return {
    stage: row.stage,
    total: Number(row.total),
    sent: Number(row.sent),
    pending: Number(row.pending),
    lastSentAt: row.last_sent ? new Date(row.last_sent) : null,
  };
}
