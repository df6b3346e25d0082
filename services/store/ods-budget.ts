import type { OdsPacer, OdsReservation } from '../reference/ods-http';
import { hostOf } from '../reference/source-status';
import type { SqlDatabase } from './database';

/*
 * Pacing of the bot's calls to the ODS FHIR R4 API across every instance. The API's
 * specification (NHSDigital/organisation-data-terminology-api, organisation-data-terminology-api.yaml
 * at commit 659e4648d45f10997d551949dac0edc44e943ceb, "Rate limits") asks users to "keep usage
 * below 5,000 requests per 5 minutes" and answers 429 beyond its limit, which is per application:
 * one key, shared by every instance. So the instances share one ledger, as they do for Teams
 * sends (send-budget.ts): the same table, under a scope of its own ('ods:<host>'), holding one
 * row per request for the length of the window.
 */

/** Namespace of the advisory lock taken here (apart from the migrations' and the send budget's). */
const ODS_BUDGET_LOCK = 7_272_014;

export interface RequestWindow {
  seconds: number;
  requests: number;
}

/** 4,500 requests in any 5 minutes: under the 5,000 the API asks for, with room for clocks and retries. */
export const ODS_REQUEST_WINDOW: RequestWindow = { seconds: 300, requests: 4_500 };

/**
 * The ledger in PostgreSQL. Taking a slot is one statement under an advisory lock on the scope:
 * if the window already holds `requests` rows, the oldest of the last `requests` frees a slot
 * `seconds` after it was taken, and the caller is told how long that is; otherwise a row is
 * written at the database's clock (the one clock every instance shares) and the slot granted.
 */
export class SqlOdsBudget implements OdsPacer {
  private readonly scope: string;

  constructor(
    private readonly db: SqlDatabase,
    /** The API's base URL: its host names the scope (one key, one budget). */
    apiUrl: string,
    private readonly window: RequestWindow = ODS_REQUEST_WINDOW,
  ) {
    this.scope = `ods:${hostOf(apiUrl)}`;
  }

  async reserve(): Promise<OdsReservation> {
    return this.db.transaction(async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [ODS_BUDGET_LOCK, this.scope]);
      const [row] = await tx.query<{ wait_ms: number | string | null; granted: boolean }>(
        `WITH clock AS (SELECT clock_timestamp() AS now),
         frees AS (
           SELECT (SELECT sent_at FROM send_budget, clock
                   WHERE scope = $1 AND sent_at > clock.now - make_interval(secs => $2)
                   ORDER BY sent_at DESC OFFSET $3 - 1 LIMIT 1) + make_interval(secs => $2) AS at),
         taken AS (
           INSERT INTO send_budget (scope, sent_at)
           SELECT $1, clock.now FROM clock, frees WHERE frees.at IS NULL OR frees.at <= clock.now
           RETURNING id),
         forgotten AS (
           DELETE FROM send_budget USING clock
           WHERE scope = $1 AND sent_at < clock.now - make_interval(secs => $2) AND EXISTS (SELECT 1 FROM taken))
         SELECT (SELECT count(*) FROM taken) > 0 AS granted, extract(epoch FROM frees.at - clock.now) * 1000 AS wait_ms FROM clock, frees`,
        [this.scope, this.window.seconds, this.window.requests],
      );
      return row?.granted ? { granted: true } : { granted: false, waitMs: Math.max(1, Math.ceil(Number(row?.wait_ms ?? 1))) };
    });
  }
}
