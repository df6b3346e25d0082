import {
  conversationKeyOf,
  PROBE_WHILE_DOWN,
  type PacingLimits,
  type ProbePolicy,
  type Reservation,
  type SendDestination,
  type SendPacer,
} from '../outbox/send-pacing';
import type { SpentRecord } from '../outbox/spent-tally';
import type { SqlDatabase } from './database';

/** Namespace of the advisory locks taken here (the two-key form, apart from the migrations' key). */
const SEND_BUDGET_LOCK = 7_272_012;
/** How often an instance's flush also drops every conversation's rows past their windows (SqlSendBudget.spentAll). */
export const CONVERSATIONS_PRUNED_EVERY_MS = 60_000;

/** What a ledger that records sends already made (spentAll) keeps tidy in the table it shares with others. */
export interface LedgerUpkeep {
  /**
   * Past this age no ledger sharing the table counts a conversation's row (Teams' chats and channels, and Exchange's
   * mailboxes, whose scopes are conversations too): the longest conversation window of them all, margin included
   * (conversationKeptSeconds of each). Given, spentAll drops every conversation's older rows once every
   * CONVERSATIONS_PRUNED_EVERY_MS; not given, conversations' rows are dropped only as their own sends are reserved.
   */
  conversationRowsCountForSeconds?: number;
  /** This process's clock, for how often only. */
  now?: () => number;
}

/** How long a conversation's rows count in a ledger with these limits: its longest conversation window, margin included. */
export function conversationKeptSeconds(limits: PacingLimits): number {
  return longestWindowSeconds(limits.conversation, limits);
}

function longestWindowSeconds(windows: readonly { seconds: number }[], limits: PacingLimits): number {
  return Math.max(0, ...windows.map((window) => window.seconds)) + limits.marginMs / 1000;
}

/**
 * The send budget in PostgreSQL: every request that left for Teams is a row in each scope it
 * counts against (its conversation, its tenant), so every instance sees the same ledger.
 * Taking a slot is one short transaction under an advisory lock on the tenant (every request
 * counts against its tenant, so one lock orders them all and none can deadlock): for each
 * rolling window, the `sends`-th most recent request in it (if there is one) frees a slot
 * `seconds` after it went; the latest of those moments is when the next request may go. If that
 * is now or past, the slot is written at the database's clock and granted; otherwise nothing is
 * written and the caller is told how long to wait. The database's clock is the one clock every
 * instance shares.
 *
 * A conversation found down carries a mark in the ledger (scope `down:conversation:<id>`, dated
 * when it was found down) until a request to it is taken again, and beside it the moment its next
 * probe may go (scope `down-probe:conversation:<id>`, dated then). A probe granted holds that
 * moment a lease ahead (ProbePolicy.leaseSeconds: its answer, or its timeout, comes first), so one
 * request at a time finds out whether the conversation is back, shared by every instance; its
 * failure sets the next probe the probe interval on. Only probes move it: a turn's replies and
 * other sends to the conversation, which go whatever the ledger says, do not push it back.
 */
export class SqlSendBudget implements SendPacer {
  /**
   * How long a scope's rows can still count: its own longest window, margin included. A tenant's rows (Teams: one
   * second) are not kept for a conversation's hour; a flood of turns would otherwise keep an hour of them.
   */
  private readonly keptSeconds: { conversation: number; tenant: number };
  /** When this instance's flush last dropped conversations' old rows (this process's clock: only how often, never what). */
  private conversationsPrunedAt = -Infinity;

  constructor(
    private readonly db: SqlDatabase,
    private readonly limits: PacingLimits,
    private readonly probe: ProbePolicy = PROBE_WHILE_DOWN,
    private readonly options: LedgerUpkeep = {},
  ) {
    this.keptSeconds = { conversation: conversationKeptSeconds(limits), tenant: longestWindowSeconds(limits.tenant, limits) };
  }

  private now(): number {
    return (this.options.now ?? Date.now)();
  }

  async reserve(destination: SendDestination): Promise<Reservation> {
    const [conversation, tenant] = scopesOf(destination);
    const margin = this.limits.marginMs / 1000;
    const windows = [
      ...this.limits.conversation.map((window) => ({ scope: conversation, ...window })),
      ...this.limits.tenant.map((window) => ({ scope: tenant, ...window })),
    ];
    return this.db.transaction(async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [SEND_BUDGET_LOCK, tenant]);
      // clock_timestamp(), not now(): now() is when the transaction began, before the lock was granted.
      // One statement under the lock, pruning included: every round trip made while holding it is one
      // every other sender in the tenant waits through, on an instance whose event loop may be busy.
      const [row] = await tx.query<{ wait_ms: number | string | null; granted: boolean; down: boolean; for_service: boolean | null }>(
        `WITH clock AS (SELECT clock_timestamp() AS now),
         frees AS (
           SELECT max(last.sent_at + make_interval(secs => w.seconds)) AS at
           FROM clock, unnest($1::text[], $2::float8[], $3::int[]) AS w (scope, seconds, sends)
           CROSS JOIN LATERAL (${nthMostRecentSql('w.scope', 'w.seconds', 'w.sends', 'clock.now')}) AS last),
         down AS (SELECT min(sent_at) AS since FROM send_budget WHERE scope = $6),
         probe AS (
           SELECT down.since IS NOT NULL AS down,
             CASE WHEN down.since IS NOT NULL THEN coalesce((SELECT max(sent_at) FROM send_budget WHERE scope = $7), down.since) END AS at
           FROM down),
         next AS (
           SELECT greatest(frees.at, probe.at) AS at, probe.down, probe.at IS NOT NULL AND (frees.at IS NULL OR probe.at > frees.at) AS for_service
           FROM frees, probe),
         taken AS (
           INSERT INTO send_budget (scope, sent_at)
           SELECT scope, clock.now FROM clock, next, unnest($4::text[]) AS scope
           WHERE next.at IS NULL OR next.at <= clock.now
           RETURNING id),
         forgotten AS (
           DELETE FROM send_budget USING clock, unnest($4::text[], $5::float8[]) AS kept (scope, seconds)
           WHERE send_budget.scope = kept.scope AND sent_at < clock.now - make_interval(secs => kept.seconds) AND EXISTS (SELECT 1 FROM taken)),
         unleased AS (DELETE FROM send_budget USING next WHERE scope = $7 AND next.down AND EXISTS (SELECT 1 FROM taken)),
         leased AS (
           INSERT INTO send_budget (scope, sent_at)
           SELECT $7, clock.now + make_interval(secs => $8) FROM clock, next WHERE next.down AND EXISTS (SELECT 1 FROM taken))
         SELECT (SELECT count(*) FROM taken) > 0 AS granted, extract(epoch FROM next.at - clock.now) * 1000 AS wait_ms, next.down, next.for_service
         FROM clock, next`,
        [
          windows.map((window) => window.scope),
          windows.map((window) => window.seconds + margin),
          windows.map((window) => window.sends),
          [conversation, tenant],
          [this.keptSeconds.conversation, this.keptSeconds.tenant],
          downMarkOf(conversation),
          probeMarkOf(conversation),
          this.probe.leaseSeconds,
        ],
      );
      if (row?.granted) return row.down ? { granted: true, probe: true } : { granted: true };
      const waitMs = Math.max(1, Math.ceil(Number(row?.wait_ms ?? 1)));
      return row?.for_service ? { granted: false, waitMs, waitingForService: true } : { granted: false, waitMs };
    });
  }

  /**
   * Marks the conversation down, dated now, unless it is already, and sets its next probe the
   * probe interval from now (a share of the outage's age, within bounds). One statement,
   * idempotent; marks left a day (a conversation never sent to again) are dropped with it.
   */
  async serviceDown(destination: SendDestination): Promise<void> {
    const conversation = scopesOf(destination)[0];
    await this.db.query(
      `WITH clock AS (SELECT clock_timestamp() AS now),
       forgotten AS (DELETE FROM send_budget USING clock WHERE scope LIKE 'down%' AND scope NOT IN ($1, $2) AND sent_at < clock.now - interval '1 day'),
       marked AS (INSERT INTO send_budget (scope, sent_at) SELECT $1, clock.now FROM clock WHERE NOT EXISTS (SELECT 1 FROM send_budget WHERE scope = $1)),
       since AS (SELECT coalesce((SELECT min(sent_at) FROM send_budget WHERE scope = $1), clock.now) AS at FROM clock),
       unleased AS (DELETE FROM send_budget WHERE scope = $2)
       INSERT INTO send_budget (scope, sent_at)
       SELECT $2, clock.now + make_interval(secs => least($4::float8, greatest($3::float8, extract(epoch FROM clock.now - since.at)::float8 * $5::float8)))
       FROM clock, since`,
      [downMarkOf(conversation), probeMarkOf(conversation), this.probe.minSeconds, this.probe.maxSeconds, this.probe.fractionOfOutage],
    );
  }

  /** The conversation took a request again: the mark and its probe go (idempotent; a second instance finding them gone is fine), and so do marks left a day. */
  async serviceBack(destination: SendDestination): Promise<void> {
    const conversation = scopesOf(destination)[0];
    await this.db.query(`DELETE FROM send_budget WHERE scope IN ($1, $2) OR (scope LIKE 'down%' AND sent_at < clock_timestamp() - interval '1 day')`, [
      downMarkOf(conversation),
      probeMarkOf(conversation),
    ]);
  }

  /**
   * Records requests that already went: a turn's own replies, which are never held for the
   * budget, so that what is paced leaves room for them. One statement, without the lock: the
   * requests went whatever the ledger says, and a reservation granted meanwhile is at worst one
   * over a window, which Teams' 429 (waited out, never counted as a failure) then paces.
   */
  async spent(destination: SendDestination, requests: number): Promise<void> {
    await this.spentAll([{ destination, requests, ageMs: 0 }]);
  }

  /**
   * An instance's replies since its last flush (services/outbox/spent-tally.ts) in one statement, one row per scope
   * holding how many went. The row is dated by the database's clock less the age of the newest of them: the older ones
   * then count as later than they went, which keeps them in a window longer (pacing waits a little more, never less),
   * by at most the tally's flush interval.
   *
   * What a flush reads stays the same however large the ledger grows (it runs ten times a second on every instance
   * under load): its tenants' rows past their window go each time, read through the index (a tenant's window is a
   * second, so it holds few). Pruning each flush's conversations too read the whole ledger every time: the cut-off is
   * the database's clock, which no index can be searched by when written in the condition, and a join over hundreds
   * of chats was planned as a scan (40 ms at 30,000 rows). Conversations' rows instead go at most once every
   * CONVERSATIONS_PRUNED_EVERY_MS, all of them at once, when the composition root says past what age no ledger
   * sharing the table counts one (LedgerUpkeep): a chat only the turns speak in then keeps none long past its hour.
   */
  async spentAll(records: readonly SpentRecord[]): Promise<void> {
    const byScope = new Map<string, { requests: number; ageMs: number }>();
    for (const { destination, requests, ageMs } of records) {
      if (requests < 1) continue;
      for (const scope of scopesOf(destination)) {
        const counted = byScope.get(scope);
        if (counted) {
          counted.requests += requests;
          counted.ageMs = Math.min(counted.ageMs, ageMs);
        } else byScope.set(scope, { requests, ageMs });
      }
    }
    if (byScope.size === 0) return;
    const scopes = [...byScope.keys()];
    const counted = [...byScope.values()];
    const conversationsCountFor = this.options.conversationRowsCountForSeconds;
    const pruneConversations = conversationsCountFor !== undefined && this.now() - this.conversationsPrunedAt >= CONVERSATIONS_PRUNED_EVERY_MS;
    if (pruneConversations) this.conversationsPrunedAt = this.now();
    await this.db.query(
      `WITH clock AS (SELECT clock_timestamp() AS now),
       forgotten AS (
         DELETE FROM send_budget USING clock, unnest($4::text[]) AS kept (scope)
         WHERE send_budget.scope = kept.scope AND sent_at < clock.now - make_interval(secs => $5))${
           pruneConversations
             ? `,
       forgotten_chats AS (
         DELETE FROM send_budget USING clock WHERE scope LIKE 'conversation:%' AND sent_at < clock.now - make_interval(secs => $6))`
             : ''
         }
       INSERT INTO send_budget (scope, sent_at, requests)
       SELECT scope, clock.now - make_interval(secs => age), requests FROM clock, unnest($1::text[], $2::float8[], $3::int[]) AS spent (scope, age, requests)`,
      [
        scopes,
        counted.map(({ ageMs }) => ageMs / 1000),
        counted.map(({ requests }) => requests),
        scopes.filter((scope) => scope.startsWith(TENANT_SCOPE)),
        this.keptSeconds.tenant,
        ...(pruneConversations ? [Math.max(conversationsCountFor, this.keptSeconds.conversation)] : []),
      ],
    );
  }
}

/**
 * A query for when the `sends`-th most recent request to `scope` in the `seconds` before `now` went, no row when
 * fewer went: the moment `seconds` after which a window of `sends` has room again. A row stands for `requests`
 * requests (a flush of a turn's replies is one row per scope), so it is the row where their running count, newest
 * first, reaches `sends`. The arguments are SQL expressions. Shared with the ODS budget (services/store/ods-budget.ts).
 */
export function nthMostRecentSql(scope: string, seconds: string, sends: string, now: string): string {
  return `SELECT counted.sent_at FROM (
             SELECT sent_at, sum(requests) OVER (ORDER BY sent_at DESC ROWS UNBOUNDED PRECEDING) AS upto FROM send_budget
             WHERE scope = ${scope} AND sent_at > ${now} - make_interval(secs => ${seconds})) AS counted
           WHERE counted.upto >= ${sends} ORDER BY counted.sent_at DESC LIMIT 1`;
}

/** The ledger's mark of a conversation found down (dated when it was). */
function downMarkOf(conversationScope: string): string {
  return `down:${conversationScope}`;
}

/** When the conversation's next probe may go (a probe in flight holds it a lease ahead). */
function probeMarkOf(conversationScope: string): string {
  return `down-probe:${conversationScope}`;
}

const TENANT_SCOPE = 'tenant:';

/** The ledger's scopes a request to `destination` counts against: its conversation (a channel for its threads), then its tenant. */
function scopesOf(destination: SendDestination): [conversation: string, tenant: string] {
  return [`conversation:${conversationKeyOf(destination.conversation)}`, `${TENANT_SCOPE}${destination.tenant}`];
}
