import type { OdsPacer, OdsReservation } from '../reference/ods-http';
import { hostOf } from '../reference/source-status';
import type { SqlDatabase } from './database';
import { nthMostRecentSql } from './send-budget';
import { asInteractive, inBackground, isInteractive } from '../../core/interactive';

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

/** Callers waiting at once that one ledger statement answers at most. */
const MOST_AT_ONCE = 100;

/**
 * The ledger in PostgreSQL. Taking slots is one statement under an advisory lock on the scope:
 * as many as the window has room for are written at the database's clock (the one clock every
 * instance shares) and granted; when it has none, the caller is told how long until the oldest of
 * the last `requests` rows frees one (`seconds` after it was taken).
 *
 * The lock serialises every instance's reservations, so callers waiting at the same moment share
 * one statement (issue 23): 100 requesters starting at once each had an ODS look-up, and each took
 * the lock in turn, a transaction of four round trips apiece, while their first turns waited. A
 * slot is only ever taken for a caller waiting now, never held for later, so each is dated when
 * its request goes, as before.
 */
export class SqlOdsBudget implements OdsPacer {
  private readonly scope: string;
  private readonly waiting: Array<{ resolve: (reservation: OdsReservation) => void; reject: (error: unknown) => void; interactive: boolean }> = [];
  private draining = false;

  constructor(
    private readonly db: SqlDatabase,
    /** The API's base URL: its host names the scope (one key, one budget). */
    apiUrl: string,
    private readonly window: RequestWindow = ODS_REQUEST_WINDOW,
  ) {
    this.scope = `ods:${hostOf(apiUrl)}`;
  }

  reserve(): Promise<OdsReservation> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ resolve, reject, interactive: isInteractive() });
      if (this.draining) return;
      this.draining = true;
      // After this tick, so that the callers of this moment go in one statement.
      queueMicrotask(() => void this.drain());
    });
  }

  /** Answers the waiting callers, a statement for as many as are waiting (up to MOST_AT_ONCE), until none are. */
  private async drain(): Promise<void> {
    while (this.waiting.length > 0) {
      const callers = this.waiting.splice(0, MOST_AT_ONCE);
      try {
        // The drain runs in the lane of whoever started it; each statement goes in the lane of those it serves (core/interactive).
        const take = () => this.take(callers.length);
        const { granted, waitMs } = await (callers.some((caller) => caller.interactive) ? asInteractive(take) : inBackground(take));
        callers.forEach((caller, index) => caller.resolve(index < granted ? { granted: true } : { granted: false, waitMs }));
      } catch (error) {
        for (const caller of callers) caller.reject(error);
      }
    }
    this.draining = false;
  }

  /** Up to `wanted` slots: how many were granted, and how long until one frees when not all were. */
  private take(wanted: number): Promise<{ granted: number; waitMs: number }> {
    return this.db.transaction(async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [ODS_BUDGET_LOCK, this.scope]);
      const [row] = await tx.query<{ wait_ms: number | string | null; granted: number | string }>(
        `WITH clock AS (SELECT clock_timestamp() AS now),
         used AS (
           SELECT coalesce(sum(requests), 0)::int AS n FROM send_budget, clock WHERE scope = $1 AND sent_at > clock.now - make_interval(secs => $2)),
         room AS (SELECT GREATEST(0, LEAST($4::int, $3::int - used.n)) AS n FROM used),
         frees AS (
           SELECT (${nthMostRecentSql('$1', '$2', '$3::int', 'clock.now')}) + make_interval(secs => $2) AS at FROM clock),
         taken AS (
           INSERT INTO send_budget (scope, sent_at, requests)
           SELECT $1, clock.now, room.n FROM clock, room WHERE room.n > 0
           RETURNING requests),
         forgotten AS (
           DELETE FROM send_budget USING clock
           WHERE scope = $1 AND sent_at < clock.now - make_interval(secs => $2) AND EXISTS (SELECT 1 FROM taken))
         SELECT (SELECT coalesce(sum(requests), 0) FROM taken) AS granted, extract(epoch FROM frees.at - clock.now) * 1000 AS wait_ms FROM clock, frees`,
        [this.scope, this.window.seconds, this.window.requests, wanted],
      );
      // A window that was not full before this statement names no oldest row: a caller left over waits a moment and asks again.
      return { granted: Number(row?.granted ?? 0), waitMs: Math.max(1, Math.ceil(Number(row?.wait_ms ?? 1))) };
    });
  }
}
