import type { PriorRequest } from '../eligibility/types';
import type { ScreeningHistory } from '../screening';
import type { SqlExecutor } from './database';

/**
 * The bot's own records, read for screening: which accounts are already in a request, and
 * how many accounts each site already has approved or awaiting a decision. Reads
 * transfer_requests and request_accounts only.
 */
export class SqlScreeningHistory implements ScreeningHistory {
  constructor(private readonly db: SqlExecutor) {}

  /**
   * The request each address is already in: approved there (it is with NAS, or on its way),
   * or waiting for a decision in a request that is still open. A withdrawn request holds
   * nothing, nor does a rejection or an account screened out. Used when screening, and again
   * under the submission lock.
   */
  async priorRequests(emails: readonly string[], excludeRequestId?: number): Promise<Map<string, PriorRequest>> {
    if (emails.length === 0) return new Map();
    // Approved first (it is already with NAS, whatever else is open), then the oldest request.
    const rows = await this.db.query<{ email: string; reference: string; state: PriorRequest['state'] }>(
      `SELECT DISTINCT ON (lower(a.email)) lower(a.email) AS email, r.reference,
              CASE WHEN a.decision = 'approved' THEN 'approved' ELSE 'open' END AS state
       FROM request_accounts a JOIN transfer_requests r ON r.id = a.request_id
       WHERE lower(a.email) = ANY($1::text[])
         AND (a.decision = 'approved' OR (a.decision IS NULL AND a.verdict <> 'ineligible' AND r.status <> 'withdrawn'))
         AND ($2::int IS NULL OR r.id <> $2::int)
       ORDER BY lower(a.email), CASE WHEN a.decision = 'approved' THEN 0 ELSE 1 END, r.id`,
      [[...new Set(emails.map((email) => email.toLowerCase()))], excludeRequestId ?? null],
    );
    return new Map(rows.map((row) => [row.email, { reference: row.reference, state: row.state }]));
  }

  /**
   * How each address ended in the latest earlier request that held it, whatever became of it
   * (rejected, withdrawn, screened out, approved), for the history NAS Operations see.
   */
  async earlierRequests(emails: readonly string[], excludeRequestId: number): Promise<Map<string, { reference: string; outcome: string }>> {
    if (emails.length === 0) return new Map();
    const rows = await this.db.query<{
      email: string;
      reference: string;
      status: string;
      decision: string | null;
      verdict: string;
      decision_reason: string | null;
    }>(
      `SELECT DISTINCT ON (lower(a.email)) lower(a.email) AS email, r.reference, r.status, a.decision, a.verdict, a.decision_reason
       FROM request_accounts a JOIN transfer_requests r ON r.id = a.request_id
       WHERE lower(a.email) = ANY($1::text[]) AND r.id <> $2
       ORDER BY lower(a.email), r.id DESC`,
      [[...new Set(emails.map((email) => email.toLowerCase()))], excludeRequestId],
    );
    return new Map(rows.map((row) => [row.email, { reference: row.reference, outcome: earlierOutcome(row) }]));
  }

  async siteAccountsInOtherRequests(siteOdsCodes: readonly string[], excludeRequestId?: number): Promise<Map<string, number>> {
    if (siteOdsCodes.length === 0) return new Map();
    // One account counts once, however many requests hold it. Withdrawn requests are read once
    // (a hashed NOT IN), not joined: a join planned on stale statistics became a nested loop that
    // scanned transfer_requests once per account at the site (the load bench, issue 17).
    const rows = await this.db.query<{ site: string; accounts: number }>(
      `SELECT upper(a.site_ods) AS site, count(DISTINCT lower(a.email))::int AS accounts
       FROM request_accounts a
       WHERE upper(a.site_ods) = ANY($1::text[])
         AND a.verdict <> 'ineligible'
         AND (a.decision = 'approved' OR (a.decision IS NULL AND a.request_id NOT IN (SELECT id FROM transfer_requests WHERE status = 'withdrawn')))
         AND ($2::int IS NULL OR a.request_id <> $2::int)
       GROUP BY upper(a.site_ods)`,
      [[...new Set(siteOdsCodes.map((code) => code.toUpperCase()))], excludeRequestId ?? null],
    );
    return new Map(rows.map((row) => [row.site, row.accounts]));
  }
}

function earlierOutcome(row: { status: string; decision: string | null; verdict: string; decision_reason: string | null }): string {
  if (row.decision === 'rejected') return row.decision_reason ? `rejected: ${row.decision_reason}` : 'rejected';
  if (row.decision === 'approved') return 'approved';
  if (row.status === 'withdrawn') return 'withdrawn by the requester';
  if (row.verdict === 'ineligible') return 'screened out at submission';
  return 'waiting for a decision';
}
