import { TIMESCALE_WINDOW_DAYS, type TimescaleSample } from '../duties/timescales';
import type { SqlExecutor } from './database';

/**
 * The measured history the affected users' messages quote: requests decided, and requests
 * whose transfer completed, in the last 90 days, each with when it was submitted. A withdrawn
 * request never reached either stage and is not counted.
 */
export class TransferTimescaleHistory {
  constructor(private readonly db: SqlExecutor) {}

  /** Submission to decision (every account decided), for requests decided in the window. */
  async decisions(now: Date = new Date()): Promise<TimescaleSample[]> {
    const rows = await this.db.query<{ created_at: Date; decided_at: Date }>(
      `SELECT created_at, decided_at FROM transfer_requests
       WHERE decided_at IS NOT NULL AND decided_at > $1::timestamptz - make_interval(days => $2) AND decided_at <= $1::timestamptz`,
      [now, TIMESCALE_WINDOW_DAYS],
    );
    return rows.map((row) => ({ from: new Date(row.created_at), to: new Date(row.decided_at) }));
  }

  /**
   * Submission to the confirmed transfer: the last approved account of the request seen moved
   * in the directory, for requests whose every approved account was confirmed in the window.
   * A request completed on NAS Operations' word alone (an override) has no directory
   * confirmation for that account and is left out rather than measured on a claim.
   * Only requests with an account seen moved in the window are read (its last one was), through the
   * index of when accounts were seen moved (migration 024), not every completed request kept.
   */
  async transfers(now: Date = new Date()): Promise<TimescaleSample[]> {
    const rows = await this.db.query<{ created_at: Date; confirmed_at: Date }>(
      `SELECT r.created_at, max(a.transfer_confirmed_at) AS confirmed_at
       FROM transfer_requests r JOIN request_accounts a ON a.request_id = r.id AND a.decision = 'approved'
       WHERE r.completed_at IS NOT NULL
         AND r.id IN (
           SELECT request_id FROM request_accounts
           WHERE transfer_confirmed_at > $1::timestamptz - make_interval(days => $2) AND transfer_confirmed_at <= $1::timestamptz)
       GROUP BY r.id, r.created_at
       HAVING bool_and(a.transfer_confirmed_at IS NOT NULL)
          AND max(a.transfer_confirmed_at) > $1::timestamptz - make_interval(days => $2) AND max(a.transfer_confirmed_at) <= $1::timestamptz`,
      [now, TIMESCALE_WINDOW_DAYS],
    );
    return rows.map((row) => ({ from: new Date(row.created_at), to: new Date(row.confirmed_at) }));
  }
}
