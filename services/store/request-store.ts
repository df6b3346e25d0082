import { AppError } from '../../core/errors';
import type { Reason, ScreenedAccount, Verdict } from '../eligibility/types';
import type { OpenRequestLookup } from '../screening';
import type { SqlDatabase, SqlExecutor } from './database';

export interface Actor {
  id: string;
  name: string;
}

export type Decision = 'approved' | 'rejected';
export type RequestStatus = 'awaiting_decision' | 'decided';

export interface Attestations {
  usersInformed: boolean;
  residualDataRemoved: boolean;
  notMarkedAsLeavers: boolean;
  resolutionForIneligible: boolean;
}

/** What the requester told us, and the policy their accounts were screened under. */
export interface RequestDetails {
  organisationOds: string;
  organisationName: string;
  requester: Actor;
  reason: string;
  attestations: Attestations;
  policyVersion: string;
}

export interface NewTransferRequest extends RequestDetails {
  accounts: readonly ScreenedAccount[];
}

export interface StoredAccount {
  id: number;
  position: number;
  email: string;
  siteOds: string | null;
  specialism: string | null;
  verdict: Verdict;
  reasons: Reason[];
  decision: Decision | null;
  decisionReason: string | null;
  decidedBy: Actor | null;
  decidedAt: Date | null;
}

export interface StoredRequest extends RequestDetails {
  id: number;
  reference: string;
  status: RequestStatus;
  createdAt: Date;
  decidedAt: Date | null;
  opsConversationId: string | null;
  opsActivityId: string | null;
  outcomeNotifiedAt: Date | null;
  accounts: StoredAccount[];
}

export interface RequestSummary {
  id: number;
  reference: string;
  organisationName: string;
  status: RequestStatus;
  createdAt: Date;
  accountCount: number;
  approvedCount: number;
  rejectedCount: number;
}

export interface DecisionOutcome {
  decidedAccountIds: number[];
  /** True for exactly one caller: the one whose decision settled the last account. */
  requestNowDecided: boolean;
}

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
  outcome_notified_at: Date | null;
}

interface AccountRow {
  id: number;
  position: number;
  email: string;
  site_ods: string | null;
  specialism: string | null;
  verdict: Verdict;
  reasons: Reason[];
  decision: Decision | null;
  decision_reason: string | null;
  decided_by_id: string | null;
  decided_by_name: string | null;
  decided_at: Date | null;
}

/** Requests, their screened accounts, decisions (compare-and-set) and their audit trail. */
export class RequestStore implements OpenRequestLookup {
  constructor(private readonly db: SqlDatabase) {}

  async createRequest(request: NewTransferRequest): Promise<StoredRequest> {
    const id = await this.db.transaction(async (tx) => {
      const [row] = await tx.query<{ id: number; reference: string }>(
        `INSERT INTO transfer_requests (reference, organisation_ods, organisation_name, requester_id, requester_name, reason, attestations, policy_version)
         VALUES ('NTR-' || nextval('request_reference_seq'), $1, $2, $3, $4, $5, $6, $7)
         RETURNING id, reference`,
        [request.organisationOds, request.organisationName, request.requester.id, request.requester.name, request.reason, JSON.stringify(request.attestations), request.policyVersion],
      );
      const created = row as { id: number; reference: string };
      const accounts = request.accounts.map((account) => ({
        position: account.position,
        email: account.email,
        site_ods: account.siteOds ?? null,
        specialism: account.specialism ?? null,
        verdict: account.verdict,
        reasons: account.reasons,
        evidence: account.evidence,
      }));
      // One statement for the whole list keeps a 500-account request to one round trip.
      await tx.query(
        `INSERT INTO request_accounts (request_id, position, email, site_ods, specialism, verdict, reasons, evidence)
         SELECT $1, x.position, x.email, x.site_ods, x.specialism, x.verdict, x.reasons, x.evidence
         FROM jsonb_to_recordset($2::jsonb) AS x(position INTEGER, email TEXT, site_ods TEXT, specialism TEXT, verdict TEXT, reasons JSONB, evidence JSONB)`,
        [created.id, JSON.stringify(accounts)],
      );
      await audit(tx, request.requester, 'request.submitted', created.id, null, {
        reference: created.reference,
        accountCount: accounts.length,
        policyVersion: request.policyVersion,
      });
      return created.id;
    });
    return (await this.getRequest(id)) as StoredRequest;
  }

  async getRequest(id: number): Promise<StoredRequest | null> {
    const [row] = await this.db.query<RequestRow>('SELECT * FROM transfer_requests WHERE id = $1', [id]);
    return row ? this.withAccounts(row) : null;
  }

  async getRequestByReference(reference: string): Promise<StoredRequest | null> {
    const [row] = await this.db.query<RequestRow>('SELECT * FROM transfer_requests WHERE reference = $1', [reference.toUpperCase()]);
    return row ? this.withAccounts(row) : null;
  }

  async listRequestsBy(requesterId: string, limit = 10): Promise<RequestSummary[]> {
    return this.summaries('WHERE r.requester_id = $1', [requesterId, limit]);
  }

  async listAwaitingDecision(limit = 20): Promise<RequestSummary[]> {
    return this.summaries(`WHERE r.status = $1`, ['awaiting_decision', limit]);
  }

  async recordOpsMessage(requestId: number, conversationId: string, activityId: string): Promise<void> {
    await this.db.query('UPDATE transfer_requests SET ops_conversation_id = $2, ops_activity_id = $3 WHERE id = $1', [requestId, conversationId, activityId]);
  }

  async listNotPostedToOps(): Promise<number[]> {
    const rows = await this.db.query<{ id: number }>('SELECT id FROM transfer_requests WHERE ops_activity_id IS NULL ORDER BY id');
    return rows.map((row) => row.id);
  }

  /** Decided requests whose outcome never reached the requester (no chat known yet, or Teams refused). */
  async listUndeliveredOutcomes(requesterId: string): Promise<number[]> {
    const rows = await this.db.query<{ id: number }>(
      `SELECT id FROM transfer_requests WHERE requester_id = $1 AND status = 'decided' AND outcome_notified_at IS NULL ORDER BY id`,
      [requesterId],
    );
    return rows.map((row) => row.id);
  }

  async markOutcomeNotified(requestId: number): Promise<void> {
    await this.db.query('UPDATE transfer_requests SET outcome_notified_at = now() WHERE id = $1', [requestId]);
  }

  async openRequestsHolding(emails: readonly string[]): Promise<Map<string, string>> {
    if (emails.length === 0) return new Map();
    const rows = await this.db.query<{ email: string; reference: string }>(
      `SELECT DISTINCT ON (lower(a.email)) lower(a.email) AS email, r.reference
       FROM request_accounts a JOIN transfer_requests r ON r.id = a.request_id
       WHERE lower(a.email) = ANY($1::text[]) AND (a.decision IS NULL OR a.decision = 'approved')
       ORDER BY lower(a.email), r.id`,
      [emails.map((email) => email.toLowerCase())],
    );
    return new Map(rows.map((row) => [row.email, row.reference]));
  }

  /** Approves every eligible account not yet decided. */
  approveEligible(requestId: number, actor: Actor): Promise<DecisionOutcome> {
    return this.decide(requestId, actor, 'request.approved_eligible', async (tx) => {
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
    return this.decide(requestId, actor, 'request.rejected', async (tx) =>
      tx.query<{ id: number }>(
        `UPDATE request_accounts SET decision = 'rejected', decision_reason = $4, decided_by_id = $2, decided_by_name = $3, decided_at = now()
         WHERE request_id = $1 AND decision IS NULL RETURNING id`,
        [requestId, actor.id, actor.name, reason],
      ),
      { reason },
    );
  }

  /** One decision per account, ever: a second attempt learns who decided first. */
  decideAccount(requestId: number, accountId: number, decision: Decision, actor: Actor, reason: string | null): Promise<DecisionOutcome> {
    return this.decide(requestId, actor, `account.${decision}`, async (tx) => {
      const rows = await tx.query<{ id: number }>(
        `UPDATE request_accounts SET decision = $3, decision_reason = $6, decided_by_id = $4, decided_by_name = $5, decided_at = now()
         WHERE request_id = $1 AND id = $2 AND decision IS NULL RETURNING id`,
        [requestId, accountId, decision, actor.id, actor.name, reason],
      );
      if (rows.length === 0) await explainUndecidable(tx, requestId, accountId);
      return rows;
    }, reason ? { reason } : {});
  }

  async auditEvents(requestId: number): Promise<Array<{ action: string; actorName: string; accountId: number | null; occurredAt: Date; detail: Record<string, unknown> }>> {
    const rows = await this.db.query<{ action: string; actor_name: string; account_id: number | null; occurred_at: Date; detail: Record<string, unknown> }>(
      'SELECT action, actor_name, account_id, occurred_at, detail FROM audit_events WHERE request_id = $1 ORDER BY id',
      [requestId],
    );
    return rows.map((row) => ({ action: row.action, actorName: row.actor_name, accountId: row.account_id, occurredAt: row.occurred_at, detail: row.detail }));
  }

  private async decide(
    requestId: number,
    actor: Actor,
    action: string,
    update: (tx: SqlExecutor) => Promise<Array<{ id: number }>>,
    detail: Record<string, unknown> = {},
  ): Promise<DecisionOutcome> {
    return this.db.transaction(async (tx) => {
      const [request] = await tx.query<{ id: number }>('SELECT id FROM transfer_requests WHERE id = $1 FOR UPDATE', [requestId]);
      if (!request) throw new AppError('REQUEST_NOT_FOUND');
      const decided = await update(tx);
      if (decided.length === 0) await explainNothingToDecide(tx, requestId);
      for (const { id } of decided) await audit(tx, actor, action, requestId, id, detail);
      const [settled] = await tx.query<{ id: number }>(
        `UPDATE transfer_requests SET status = 'decided', decided_at = now()
         WHERE id = $1 AND status = 'awaiting_decision'
           AND NOT EXISTS (SELECT 1 FROM request_accounts WHERE request_id = $1 AND decision IS NULL)
         RETURNING id`,
        [requestId],
      );
      return { decidedAccountIds: decided.map((row) => row.id), requestNowDecided: settled !== undefined };
    });
  }

  private async withAccounts(row: RequestRow): Promise<StoredRequest> {
    const accounts = await this.db.query<AccountRow>('SELECT * FROM request_accounts WHERE request_id = $1 ORDER BY position', [row.id]);
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
      accounts: accounts.map((account) => ({
        id: account.id,
        position: account.position,
        email: account.email,
        siteOds: account.site_ods,
        specialism: account.specialism,
        verdict: account.verdict,
        reasons: account.reasons,
        decision: account.decision,
        decisionReason: account.decision_reason,
        decidedBy: account.decided_by_id ? { id: account.decided_by_id, name: account.decided_by_name ?? '' } : null,
        decidedAt: account.decided_at,
      })),
    };
  }

  private async summaries(where: string, params: unknown[]): Promise<RequestSummary[]> {
    const rows = await this.db.query<{
      id: number; reference: string; organisation_name: string; status: RequestStatus; created_at: Date; account_count: number; approved_count: number; rejected_count: number;
    }>(
      `SELECT r.id, r.reference, r.organisation_name, r.status, r.created_at,
              count(a.id)::int AS account_count,
              count(a.id) FILTER (WHERE a.decision = 'approved')::int AS approved_count,
              count(a.id) FILTER (WHERE a.decision = 'rejected')::int AS rejected_count
       FROM transfer_requests r LEFT JOIN request_accounts a ON a.request_id = r.id
       ${where}
       GROUP BY r.id ORDER BY r.created_at DESC, r.id DESC LIMIT $${params.length}`,
      params,
    );
    return rows.map((row) => ({
      id: row.id,
      reference: row.reference,
      organisationName: row.organisation_name,
      status: row.status,
      createdAt: row.created_at,
      accountCount: row.account_count,
      approvedCount: row.approved_count,
      rejectedCount: row.rejected_count,
    }));
  }
}

async function audit(tx: SqlExecutor, actor: Actor, action: string, requestId: number | null, accountId: number | null, detail: Record<string, unknown>): Promise<void> {
  await tx.query('INSERT INTO audit_events (actor_id, actor_name, action, request_id, account_id, detail) VALUES ($1, $2, $3, $4, $5, $6)', [
    actor.id,
    actor.name,
    action,
    requestId,
    accountId,
    JSON.stringify(detail),
  ]);
}

async function explainUndecidable(tx: SqlExecutor, requestId: number, accountId: number): Promise<never> {
  const [account] = await tx.query<{ decided_by_name: string | null; decided_at: Date | null; decision: Decision | null }>(
    'SELECT decided_by_name, decided_at, decision FROM request_accounts WHERE request_id = $1 AND id = $2',
    [requestId, accountId],
  );
  if (!account) throw new AppError('ACCOUNT_NOT_IN_REQUEST');
  throw new AppError('ALREADY_DECIDED', `It was ${account.decision} by ${account.decided_by_name ?? 'someone'} at ${formatTime(account.decided_at)}.`);
}

async function explainNothingToDecide(tx: SqlExecutor, requestId: number): Promise<never> {
  const [latest] = await tx.query<{ decided_by_name: string | null; decided_at: Date | null }>(
    'SELECT decided_by_name, decided_at FROM request_accounts WHERE request_id = $1 AND decided_at IS NOT NULL ORDER BY decided_at DESC LIMIT 1',
    [requestId],
  );
  throw new AppError('ALREADY_DECIDED', latest ? `Last decided by ${latest.decided_by_name ?? 'someone'} at ${formatTime(latest.decided_at)}.` : 'There is nothing left to decide.');
}

export function formatTime(at: Date | null): string {
  return at ? at.toISOString().replace('T', ' ').slice(0, 16) + ' UTC' : 'an unknown time';
}
