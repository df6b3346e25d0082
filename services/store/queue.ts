import { OPEN_STATUSES, type Actor, type RequestStatus } from '../model';
import type { SqlExecutor } from './database';

/**
 * The NAS Operations queue as SQL: every request with its account counts, filtered and paged,
 * oldest first, and the figures behind the picture of the work. Each filter is a condition an
 * index of migration 010 (or 001 for the address) serves. Mapping only: what "overdue" or
 * "mine" mean is decided by the caller (services/workspace-queue.ts).
 */

export type QueueStatusFilter = 'open' | 'all' | RequestStatus;

export interface QueueConditions {
  status: QueueStatusFilter;
  /** A reviewer's directory id, or requests nobody has claimed. */
  reviewer?: { kind: 'person'; id: string } | { kind: 'unassigned' };
  /** The organisation's ODS code, exactly. */
  organisationOds?: string;
  /** Open requests submitted before this instant (the caller turns "overdue" into it). */
  openAndSubmittedBefore?: Date;
  /** A reference (NTR-1000…, or its digits) or words of the organisation's name or ODS code. */
  text?: string;
  /** An account address: every request that ever held it. */
  address?: string;
}

export interface AccountCounts {
  accounts: number;
  eligible: number;
  review: number;
  ineligible: number;
  approved: number;
  rejected: number;
  transferred: number;
  /** Accounts whose facts changed since submission (the latest re-check); null until any account of the request has been re-checked. */
  changed: number | null;
}

export interface QueueRow {
  id: number;
  reference: string;
  organisationOds: string;
  organisationName: string;
  requesterName: string;
  status: RequestStatus;
  createdAt: Date;
  /** When it stopped waiting on NAS Operations: decided, or withdrawn. */
  closedAt: Date | null;
  reviewer: Actor | null;
  counts: AccountCounts;
}

export interface QueuePage {
  rows: QueueRow[];
  total: number;
}

interface Row {
  id: number;
  reference: string;
  organisation_ods: string;
  organisation_name: string;
  requester_name: string;
  status: RequestStatus;
  created_at: Date;
  decided_at: Date | null;
  withdrawn_at: Date | null;
  claimed_by_id: string | null;
  claimed_by_name: string | null;
  accounts: number;
  eligible: number;
  review: number;
  ineligible: number;
  approved: number;
  rejected: number;
  transferred: number;
  rechecked: number;
  changed: number;
}

/** Written as literals, not a parameter, so that the planner can use the partial index of open requests (migration 010). */
const OPEN_CONDITION = `r.status IN (${OPEN_STATUSES.map((status) => `'${status}'`).join(', ')})`;

const REFERENCE_TEXT = /^(?:NTR-?)?(\d{1,12})$/i;
/** Letters and digits of any script: what to_tsvector('simple') keeps as a word. */
const WORD = /[\p{L}\p{N}]+/gu;

export class QueueRepository {
  constructor(private readonly db: SqlExecutor) {}

  async page(conditions: QueueConditions, offset: number, limit: number): Promise<QueuePage> {
    const { where, params } = whereClause(conditions);
    const [rows, [total]] = await Promise.all([
      // The page's ids first (an index walk in queue order), then the counts for those rows only, not for those skipped.
      this.db.query<Row>(
        `WITH page AS (SELECT r.id FROM transfer_requests r ${where} ORDER BY r.created_at, r.id LIMIT $${params.length + 1} OFFSET $${params.length + 2})
         SELECT r.id, r.reference, r.organisation_ods, r.organisation_name, r.requester_name, r.status, r.created_at, r.decided_at, r.withdrawn_at,
                r.claimed_by_id, r.claimed_by_name, c.*
         FROM page JOIN transfer_requests r ON r.id = page.id
         CROSS JOIN LATERAL (
           SELECT count(*)::int AS accounts,
                  count(*) FILTER (WHERE a.verdict = 'eligible')::int AS eligible,
                  count(*) FILTER (WHERE a.verdict = 'review')::int AS review,
                  count(*) FILTER (WHERE a.verdict = 'ineligible')::int AS ineligible,
                  count(*) FILTER (WHERE a.decision = 'approved')::int AS approved,
                  count(*) FILTER (WHERE a.decision = 'rejected')::int AS rejected,
                  count(*) FILTER (WHERE a.transferred_at IS NOT NULL)::int AS transferred,
                  count(*) FILTER (WHERE a.rechecked_at IS NOT NULL)::int AS rechecked,
                  count(*) FILTER (WHERE a.change_summary IS NOT NULL)::int AS changed
           FROM request_accounts a WHERE a.request_id = r.id
         ) c
         ORDER BY r.created_at, r.id`,
        [...params, limit, offset],
      ),
      this.db.query<{ total: number }>(`SELECT count(*)::int AS total FROM transfer_requests r ${where}`, params),
    ]);
    return { rows: rows.map(toQueueRow), total: total?.total ?? 0 };
  }

  /** Everyone who has ever claimed a request, for the reviewer filter. */
  async reviewers(): Promise<Actor[]> {
    const rows = await this.db.query<{ id: string; name: string }>(
      `SELECT DISTINCT ON (claimed_by_id) claimed_by_id AS id, claimed_by_name AS name FROM transfer_requests
       WHERE claimed_by_id IS NOT NULL ORDER BY claimed_by_id, claimed_at DESC`,
    );
    return rows.map((row) => ({ id: row.id, name: row.name ?? '' })).sort((a, b) => a.name.localeCompare(b.name));
  }

  /** Open requests: when each was submitted and its status (the ages chart). */
  async openRequests(): Promise<Array<{ createdAt: Date; status: RequestStatus }>> {
    const rows = await this.db.query<{ created_at: Date; status: RequestStatus }>(
      'SELECT created_at, status FROM transfer_requests WHERE status = ANY($1::text[])',
      [OPEN_STATUSES],
    );
    return rows.map((row) => ({ createdAt: row.created_at, status: row.status }));
  }

  /** Requests received per week (weeks start on Monday, in London) since `since`. */
  async receivedPerWeek(since: Date): Promise<Map<string, number>> {
    return weekly(
      await this.db.query<{ week: string; count: number }>(
        `SELECT to_char(date_trunc('week', created_at AT TIME ZONE 'Europe/London'), 'YYYY-MM-DD') AS week, count(*)::int AS count
       FROM transfer_requests WHERE created_at >= $1 GROUP BY 1`,
        [since],
      ),
    );
  }

  /** Requests decided per week since `since`, with when each was submitted and decided (the median). */
  async decidedSince(since: Date): Promise<Array<{ createdAt: Date; decidedAt: Date }>> {
    const rows = await this.db.query<{ created_at: Date; decided_at: Date }>('SELECT created_at, decided_at FROM transfer_requests WHERE decided_at >= $1', [
      since,
    ]);
    return rows.map((row) => ({ createdAt: row.created_at, decidedAt: row.decided_at }));
  }
}

function weekly(rows: Array<{ week: string; count: number }>): Map<string, number> {
  return new Map(rows.map((row) => [row.week, row.count]));
}

function whereClause(conditions: QueueConditions): { where: string; params: unknown[] } {
  const clauses: string[] = [];
  const params: unknown[] = [];
  const param = (value: unknown) => {
    params.push(value);
    return `$${params.length}`;
  };
  if (conditions.status === 'open') clauses.push(OPEN_CONDITION);
  else if (conditions.status !== 'all') clauses.push(`r.status = ${param(conditions.status)}`);
  if (conditions.reviewer?.kind === 'unassigned') clauses.push('r.claimed_by_id IS NULL');
  else if (conditions.reviewer?.kind === 'person') clauses.push(`r.claimed_by_id = ${param(conditions.reviewer.id)}`);
  if (conditions.organisationOds) clauses.push(`r.organisation_ods = ${param(conditions.organisationOds)}`);
  if (conditions.openAndSubmittedBefore) {
    clauses.push(OPEN_CONDITION, `r.created_at < ${param(conditions.openAndSubmittedBefore)}`);
  }
  const text = conditions.text?.trim();
  if (text) {
    const reference = REFERENCE_TEXT.exec(text);
    if (reference) clauses.push(`r.reference LIKE ${param(`NTR-${reference[1]}%`)}`);
    else {
      const words = text.toLowerCase().match(WORD) ?? [];
      // Nothing searchable (only punctuation) finds nothing, rather than everything.
      if (words.length === 0) clauses.push('false');
      else
        clauses.push(
          `to_tsvector('simple', r.organisation_name || ' ' || r.organisation_ods) @@ to_tsquery('simple', ${param(words.map((word) => `${word}:*`).join(' & '))})`,
        );
    }
  }
  if (conditions.address !== undefined) {
    clauses.push(`r.id IN (SELECT a.request_id FROM request_accounts a WHERE lower(a.email) = ${param(conditions.address.trim().toLowerCase())})`);
  }
  return { where: clauses.length > 0 ? `WHERE ${clauses.join(' AND ')}` : '', params };
}

function toQueueRow(row: Row): QueueRow {
  return {
    id: row.id,
    reference: row.reference,
    organisationOds: row.organisation_ods,
    organisationName: row.organisation_name,
    requesterName: row.requester_name,
    status: row.status,
    createdAt: row.created_at,
    closedAt: row.decided_at ?? row.withdrawn_at,
    reviewer: row.claimed_by_id ? { id: row.claimed_by_id, name: row.claimed_by_name ?? '' } : null,
    counts: {
      accounts: row.accounts,
      eligible: row.eligible,
      review: row.review,
      ineligible: row.ineligible,
      approved: row.approved,
      rejected: row.rejected,
      transferred: row.transferred,
      changed: row.rechecked > 0 ? row.changed : null,
    },
  };
}
