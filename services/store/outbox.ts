import { readOwedContent, rearmsWhenOwedAgain, type DeliveryKind, type OwedContent, type OwedMessage } from '../outbox/owed-messages';
import type { SqlDatabase, SqlExecutor } from './database';

// What is owed is described in services/outbox/owed-messages.ts; these names stay importable from here.
export { dedupeKeys, owed, type DeliveryKind, type OwedMessage, type OwedMessageOf, type PayloadOf } from '../outbox/owed-messages';

/**
 * The messages the bot owes, as rows written in the same transaction as the change they
 * report (a transactional outbox). A worker claims due rows, delivers them and records how it
 * went; nothing is marked delivered unless the recipient's service accepted it.
 */
export interface Claim {
  id: number;
  /** This claim's token: settling the row requires it, so a claim that lapsed cannot overwrite a newer one. */
  claimToken: string;
  requestId: number | null;
  /** Whose personal chat, for messages to a person (their Entra object id). */
  recipient: string | null;
  version: number;
  attempts: number;
}

/** A claimed row, its payload checked against its kind. */
export type Delivery = Claim & OwedContent;
export type DeliveryOf<K extends DeliveryKind> = Extract<Delivery, { kind: K }>;

export type DeliveryStatus = 'pending' | 'delivered' | 'undeliverable' | 'failed';

/** A claimed row whose kind or payload did not parse: given up, and described here for the log. */
export interface UnreadableDelivery {
  id: number;
  kind: string;
  /** Where the payload did not parse (paths and issue codes, no values). */
  problems: string[];
}

/**
 * The failures that say the service (or the recipient's side of it) was down, not that it refused
 * this message: no answer, or a 5xx (services/outbox/delivery-engine.ts classifyFailure names
 * them). One source for the engine's test and the SQL below.
 */
const SERVICE_DOWN_PATTERN = '^(CONNECTOR_UNREACHABLE|HTTP_5[0-9][0-9])$';
export const SERVICE_DOWN_CODE = new RegExp(SERVICE_DOWN_PATTERN);

/**
 * A row that waits, counting no attempt, because its destination is down and another request is
 * its probe (services/outbox/send-pacing.ts ProbePolicy): woken when a send there is taken.
 */
export const WAITING_FOR_SERVICE = 'WAITING_FOR_SERVICE';

/** Given up for good: trying again cannot help, so such rows are not re-armed after a rest. */
export const PERMANENT_FAILURES = ['HTTP_400', 'HTTP_413', 'PAYLOAD_INVALID'];
/** Teams refused a person's chat for good (blocked, removed, gone): tried again only when they next talk to the bot. */
export const CHAT_REFUSED = ['HTTP_403', 'HTTP_404'];

/**
 * The statement that wakes what waited for a person's chat (nudgeRecipient), with the recipient
 * and CHAT_REFUSED as the parameters named: written once, and also run by the routine that stores
 * the chat's reference (ConversationReferenceRecords.saveChat), so the chat is never known
 * without what waited for it woken. No RETURNING: callers add what they need of it.
 */
export function wakeRecipientSql(recipient: string, refused: string): string {
  return `UPDATE outbox SET due_at = now(), status = 'pending',
         attempts = CASE WHEN status = 'undeliverable' THEN 0 ELSE attempts END,
         last_error = CASE WHEN status = 'undeliverable' THEN NULL ELSE last_error END
       WHERE recipient = ${recipient}
         AND ((status = 'pending' AND due_at > now() AND last_error = 'NO_CONVERSATION')
           OR (kind = 'outcome' AND status = 'undeliverable' AND last_error = ANY(${refused}::text[])))`;
}

interface DeliveryRow {
  id: string | number;
  due_at: Date;
  claim_token: string;
  kind: string;
  request_id: number | null;
  recipient: string | null;
  payload: unknown;
  version: number;
  attempts: number;
}

/** A newer change: the update is owed again, whatever happened to the last one. */
const REARM = `UPDATE SET version = outbox.version + 1, status = 'pending', due_at = now(), attempts = 0, last_error = NULL, delivered_at = NULL`;

/** Writes an owed message inside the caller's transaction. */
export async function enqueue(tx: SqlExecutor, message: OwedMessage): Promise<void> {
  await tx.query(
    `INSERT INTO outbox (dedupe_key, kind, request_id, recipient, payload) VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (dedupe_key) DO ${rearmsWhenOwedAgain(message.kind) ? REARM : 'NOTHING'}`,
    [message.dedupeKey, message.kind, message.requestId ?? null, message.recipient ?? null, JSON.stringify(message.payload ?? {})],
  );
}

/**
 * Writes several owed messages inside the caller's transaction in one statement, in the order
 * given (their ids, so the worker's order), each as `enqueue` would: one already owed re-arms if
 * its kind does (rearmsWhenOwedAgain) and is left as it is otherwise. A change that owes the
 * requester the outcome and NAS Operations the card's update makes one round trip for both.
 * A message named twice is written once. One left as it is stays locked by this transaction
 * until it commits (ON CONFLICT DO UPDATE locks every conflicting row, even those its WHERE
 * leaves unchanged: https://www.postgresql.org/docs/current/sql-insert.html#SQL-ON-CONFLICT);
 * the worker's claim skips locked rows.
 */
export async function enqueueAll(tx: SqlExecutor, messages: readonly OwedMessage[]): Promise<void> {
  const distinct = messages.filter((message, index) => messages.findIndex((other) => other.dedupeKey === message.dedupeKey) === index);
  if (distinct.length <= 1) {
    if (distinct[0]) await enqueue(tx, distinct[0]);
    return;
  }
  const rearming = distinct.filter((message) => rearmsWhenOwedAgain(message.kind)).map((message) => message.dedupeKey);
  const values = distinct.map((_, index) => `($${index * 5 + 2}, $${index * 5 + 3}, $${index * 5 + 4}::int, $${index * 5 + 5}, $${index * 5 + 6}::jsonb)`);
  await tx.query(
    `INSERT INTO outbox (dedupe_key, kind, request_id, recipient, payload) VALUES ${values.join(', ')}
     ON CONFLICT (dedupe_key) DO ${REARM} WHERE outbox.dedupe_key = ANY($1::text[])`,
    [
      rearming,
      ...distinct.flatMap((message) => [
        message.dedupeKey,
        message.kind,
        message.requestId ?? null,
        message.recipient ?? null,
        JSON.stringify(message.payload ?? {}),
      ]),
    ],
  );
}

/** Claim, deliver, settle: the worker's side of the outbox. */
export class Outbox {
  constructor(private readonly db: SqlDatabase) {}

  enqueue(message: OwedMessage): Promise<void> {
    return enqueue(this.db, message);
  }

  /**
   * Leases up to `limit` due rows to this worker. SKIP LOCKED and the lease keep each row
   * with one worker at a time, however many bot instances share the database. A row whose
   * kind or payload does not parse is never handed out: it is given up at once as
   * PAYLOAD_INVALID and passed to `unreadable`, so one bad row cannot stall the others.
   */
  async claimDue(limit: number, leaseSeconds: number, unreadable?: (row: UnreadableDelivery) => void): Promise<Delivery[]> {
    const rows = await this.db.query<DeliveryRow>(
      `UPDATE outbox SET lease_until = now() + make_interval(secs => $2), attempts = attempts + 1, claim_token = gen_random_uuid()::text
       WHERE id IN (
         SELECT id FROM outbox
         WHERE status = 'pending' AND due_at <= now() AND (lease_until IS NULL OR lease_until < now())
         ORDER BY due_at, id LIMIT $1 FOR UPDATE SKIP LOCKED)
       RETURNING id, claim_token, kind, request_id, recipient, payload, version, attempts, due_at`,
      [limit, leaseSeconds],
    );
    // RETURNING keeps no order: deliver oldest first, as claimed.
    rows.sort((a, b) => new Date(a.due_at).getTime() - new Date(b.due_at).getTime() || Number(a.id) - Number(b.id));
    const due: Delivery[] = [];
    for (const row of rows) {
      const claim: Claim = {
        id: Number(row.id),
        claimToken: row.claim_token,
        requestId: row.request_id,
        recipient: row.recipient,
        version: row.version,
        attempts: row.attempts,
      };
      const read = readOwedContent(row.kind, row.payload);
      if (read.ok) {
        due.push({ ...claim, ...read.content });
        continue;
      }
      await this.settleUnreadable(claim);
      unreadable?.({ id: claim.id, kind: row.kind, problems: read.problems });
    }
    return due;
  }

  private async settleUnreadable(claim: Claim): Promise<void> {
    await this.db.query(
      `UPDATE outbox SET status = 'failed', lease_until = NULL, last_error = 'PAYLOAD_INVALID', claim_token = NULL WHERE id = $1 AND claim_token = $2`,
      [claim.id, claim.claimToken],
    );
  }

  /**
   * Renews this claim's lease just before the send. False when the claim lapsed and someone
   * else holds the row now: then this worker must not send it.
   */
  async stillHeld(delivery: Claim, leaseSeconds: number): Promise<boolean> {
    const rows = await this.db.query<{ id: string }>(
      `UPDATE outbox SET lease_until = now() + make_interval(secs => $3) WHERE id = $1 AND claim_token = $2 AND status = 'pending' RETURNING id`,
      [delivery.id, delivery.claimToken, leaseSeconds],
    );
    return rows.length > 0;
  }

  /**
   * Teams accepted it. An update re-armed while it was in flight stays owed (its version
   * moved on), so the newer state is delivered next.
   */
  async markDelivered(delivery: Claim, also?: (tx: SqlExecutor) => Promise<void>): Promise<void> {
    await this.db.transaction(async (tx) => {
      const [settled] = await tx.query<{ id: string }>(
        `UPDATE outbox SET status = 'delivered', delivered_at = now(), lease_until = NULL, last_error = NULL, claim_token = NULL
         WHERE id = $1 AND version = $2 AND claim_token = $3 RETURNING id`,
        [delivery.id, delivery.version, delivery.claimToken],
      );
      if (!settled)
        await tx.query('UPDATE outbox SET lease_until = NULL, claim_token = NULL WHERE id = $1 AND claim_token = $2', [delivery.id, delivery.claimToken]);
      if (also) await also(tx);
    });
  }

  /** Not now: try again after `delaySeconds`. `countAttempt` false for waits that are nobody's failure (no chat known yet). */
  async retryLater(delivery: Claim, delaySeconds: number, errorCode: string, countAttempt = true): Promise<void> {
    await this.db.query(
      `UPDATE outbox SET due_at = now() + make_interval(secs => $2), lease_until = NULL, last_error = $3, claim_token = NULL,
         attempts = CASE WHEN $4 THEN attempts ELSE greatest(attempts - 1, 0) END
       WHERE id = $1 AND status = 'pending' AND claim_token = $5`,
      [delivery.id, delaySeconds, errorCode, countAttempt, delivery.claimToken],
    );
  }

  /** Never: the recipient refused for good (403, 404) or the attempts ran out. */
  async giveUp(
    delivery: Claim,
    status: Exclude<DeliveryStatus, 'pending' | 'delivered'>,
    errorCode: string,
    also?: (tx: SqlExecutor) => Promise<void>,
  ): Promise<void> {
    await this.db.transaction(async (tx) => {
      await tx.query(
        `UPDATE outbox SET status = $2, lease_until = NULL, last_error = $3, claim_token = NULL WHERE id = $1 AND version = $4 AND claim_token = $5`,
        [delivery.id, status, errorCode, delivery.version, delivery.claimToken],
      );
      await tx.query('UPDATE outbox SET lease_until = NULL, claim_token = NULL WHERE id = $1 AND claim_token = $2', [delivery.id, delivery.claimToken]);
      if (also) await also(tx);
    });
  }

  /** Hands back rows this worker claimed and did not try, without counting an attempt. */
  async release(deliveries: readonly Claim[]): Promise<void> {
    if (deliveries.length === 0) return;
    await this.db.query(
      `UPDATE outbox SET lease_until = NULL, claim_token = NULL, attempts = greatest(attempts - 1, 0) WHERE id = ANY($1::bigint[]) AND claim_token = ANY($2::text[]) AND status = 'pending'`,
      [deliveries.map((delivery) => delivery.id), deliveries.map((delivery) => delivery.claimToken)],
    );
  }

  /**
   * Gives rows that failed for a retryable reason (Teams kept answering 5xx, or could not be
   * reached) another round of attempts once they have rested: a long outage delays a message,
   * it does not lose it. Refused-for-good rows (403, 404) stay as they are, and so do rows no
   * rest can help (a request Teams cannot take, a payload that does not parse).
   */
  async rearmFailed(restedSeconds: number): Promise<number> {
    const rows = await this.db.query<{ id: string }>(
      `UPDATE outbox SET status = 'pending', attempts = 0, due_at = now()
       WHERE status = 'failed' AND due_at < now() - make_interval(secs => $1) AND NOT (last_error = ANY($2::text[])) RETURNING id`,
      [restedSeconds, PERMANENT_FAILURES],
    );
    return rows.length;
  }

  /**
   * A send to `recipient`'s chat (null: the messages to no person, the ops channel's) was
   * accepted after it had been down: what still waits out back-off because that service was
   * down, or waits for the probe that just got through, is due now, so a backlog drains as fast
   * as pacing allows rather than as the back-off or the probe interval happened to fall (with the
   * channel out a minute, back-offs had reached 30-60 s). 429s are not touched (Teams said when),
   * nor refusals; pacing still spaces what falls due.
   */
  async wakeBackedOff(recipient: string | null): Promise<number> {
    const rows = await this.db.query<{ id: string }>(
      `UPDATE outbox SET due_at = now()
       WHERE status = 'pending' AND recipient IS NOT DISTINCT FROM $1::text AND due_at > now() AND (lease_until IS NULL OR lease_until < now())
         AND (last_error ~ $2 OR last_error = $3) RETURNING id`,
      [recipient, SERVICE_DOWN_PATTERN, WAITING_FOR_SERVICE],
    );
    return rows.length;
  }

  /**
   * A chat became known: what was waiting for it is due now. An outcome Teams refused for good
   * in that chat (403: the bot blocked or removed; 404: the chat gone) is owed again, now that
   * the person talks to the bot: everything told after it (changes, the card's update, the
   * completion) points at that card, and NAS Operations were told to reach them another way.
   */
  async nudgeRecipient(recipient: string): Promise<number> {
    const rows = await this.db.query<{ id: string }>(`${wakeRecipientSql('$1', '$2')} RETURNING id`, [recipient, CHAT_REFUSED]);
    return rows.length;
  }

  /**
   * Whether a row of `kind` about the request, owed before row `id`, is still owed: news that
   * must reach the person in the order it happened waits for what came before it.
   */
  async earlierOwed(requestId: number, kind: DeliveryKind, id: number): Promise<boolean> {
    const [row] = await this.db.query<{ id: string }>(`SELECT id FROM outbox WHERE request_id = $1 AND kind = $2 AND id < $3 AND status = 'pending' LIMIT 1`, [
      requestId,
      kind,
      id,
    ]);
    return row !== undefined;
  }

  /**
   * The ops channel became known, changed, or came back: everything owed to it is due now.
   * That includes cards Teams refused in the old channel (403, 404) and updates and
   * reminders that were waiting for it; a request is never left unposted.
   */
  async nudgeOpsChannel(tx: SqlExecutor = this.db): Promise<number> {
    const rows = await tx.query<{ id: string }>(
      `UPDATE outbox SET status = 'pending', due_at = now(), attempts = 0
       WHERE (kind = 'ops.post' AND ((status IN ('undeliverable', 'failed') AND last_error IS DISTINCT FROM 'PAYLOAD_INVALID') OR (status = 'pending' AND due_at > now())))
          OR (kind LIKE 'ops.%' AND kind <> 'ops.delayed' AND status = 'pending' AND due_at > now() AND last_error IN ('NO_CONVERSATION', 'OPS_CHANNEL_UNREACHABLE'))
          OR (kind = 'ops.update' AND status = 'undeliverable' AND last_error = 'HTTP_403')
       RETURNING id`,
    );
    return rows.length;
  }

  /** The version of a row still owed, or undefined when it is not (none, or settled). */
  async pendingVersion(dedupeKey: string): Promise<number | undefined> {
    const [row] = await this.db.query<{ version: number }>(`SELECT version FROM outbox WHERE dedupe_key = $1 AND status = 'pending'`, [dedupeKey]);
    return row?.version;
  }

  /**
   * What a row owed was delivered by another message that carried the same state (an ops
   * card posted after the change its update reports): settled without a request to Teams,
   * unless a newer change re-armed it (its version moved on) or a worker holds it now.
   */
  static async coveredBy(tx: SqlExecutor, dedupeKey: string, version: number, by: string): Promise<void> {
    await tx.query(
      `UPDATE outbox SET status = 'delivered', delivered_at = now(), last_error = $3
       WHERE dedupe_key = $1 AND version = $2 AND status = 'pending' AND (lease_until IS NULL OR lease_until < now())`,
      [dedupeKey, version, by],
    );
  }

  /** A request's rows waiting for `why` (what they wait for has happened) fall due now. */
  static async dueNow(tx: SqlExecutor, requestId: number, why: string): Promise<void> {
    await tx.query(`UPDATE outbox SET due_at = now() WHERE request_id = $1 AND status = 'pending' AND last_error = $2 AND due_at > now()`, [requestId, why]);
  }

  /**
   * Seconds until a pending row falls due (0 when it is due now, or in a worker's hands);
   * undefined when none is owed. A row that failed for a reason rest can help is still owed
   * (rearmFailed gives it another round): `failedRetryInSeconds` is when to look again.
   */
  async pendingDueInSeconds(dedupeKey: string, failedRetryInSeconds?: number): Promise<number | undefined> {
    const [row] = await this.db.query<{ in_seconds: number | string; status: DeliveryStatus; last_error: string | null }>(
      `SELECT extract(epoch FROM due_at - clock_timestamp()) AS in_seconds, status, last_error FROM outbox WHERE dedupe_key = $1 AND status IN ('pending', 'failed')`,
      [dedupeKey],
    );
    if (!row) return undefined;
    if (row.status === 'pending') return Math.max(0, Math.ceil(Number(row.in_seconds)));
    const retried = failedRetryInSeconds !== undefined && !PERMANENT_FAILURES.includes(row.last_error ?? '');
    return retried ? failedRetryInSeconds : undefined;
  }

  async statusOf(dedupeKey: string): Promise<{ status: DeliveryStatus; lastError: string | null } | null> {
    const [row] = await this.db.query<{ status: DeliveryStatus; last_error: string | null }>('SELECT status, last_error FROM outbox WHERE dedupe_key = $1', [
      dedupeKey,
    ]);
    return row ? { status: row.status, lastError: row.last_error } : null;
  }

  /**
   * How long until the next row no worker holds falls due, if that is within `withinMs`
   * (0 when one is due now); undefined when none is.
   */
  async nextDueInMs(withinMs: number): Promise<number | undefined> {
    const [row] = await this.db.query<{ in_ms: number | string | null }>(
      // Not greatest(0, …): PostgreSQL's greatest ignores NULL, so "none due" would read as "due now".
      `SELECT extract(epoch FROM min(due_at) - clock_timestamp()) * 1000 AS in_ms FROM outbox
       WHERE status = 'pending' AND due_at <= clock_timestamp() + make_interval(secs => $1) AND (lease_until IS NULL OR lease_until < clock_timestamp())`,
      [withinMs / 1000],
    );
    return row?.in_ms === null || row?.in_ms === undefined ? undefined : Math.max(0, Math.ceil(Number(row.in_ms)));
  }
}
