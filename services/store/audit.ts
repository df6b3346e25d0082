import type { Actor } from '../model';
import type { SqlDatabase, SqlExecutor } from './database';

export interface AuditEvent {
  action: string;
  actorId: string;
  actorName: string;
  requestId: number | null;
  accountId: number | null;
  occurredAt: Date;
  detail: Record<string, unknown>;
}

/** Appends one event, inside the caller's transaction when there is one. Actor and time always. */
export async function appendAudit(
  tx: SqlExecutor,
  actor: Actor,
  action: string,
  requestId: number | null,
  accountId: number | null,
  detail: Record<string, unknown> = {},
): Promise<number> {
  const [row] = await tx.query<{ id: string | number }>(
    'INSERT INTO audit_events (actor_id, actor_name, action, request_id, account_id, detail) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id',
    [actor.id, actor.name, action, requestId, accountId, JSON.stringify(detail)],
  );
  return Number(row!.id);
}

/**
 * The same event for each of `accountIds`, in that order, in one statement: a decision on many
 * accounts is written while the request's lock is held, and one round trip per account kept
 * the lock (and every click waiting for it) for as many trips as the request had accounts.
 */
export async function appendAccountAudits(
  tx: SqlExecutor,
  actor: Actor,
  action: string,
  requestId: number,
  accountIds: readonly number[],
  detail: Record<string, unknown> = {},
): Promise<void> {
  if (accountIds.length === 0) return;
  await tx.query(
    `INSERT INTO audit_events (actor_id, actor_name, action, request_id, account_id, detail)
     SELECT $1, $2, $3, $4, account.id, $6 FROM unnest($5::int[]) WITH ORDINALITY AS account (id, position) ORDER BY account.position`,
    [actor.id, actor.name, action, requestId, [...accountIds], JSON.stringify(detail)],
  );
}

/**
 * One event per account, each with its own detail, in one statement: a check that confirms 500
 * accounts writes one row each without 500 round trips inside its transaction (on the embedded
 * database every turn waits while a transaction holds its one connection).
 */
export async function appendAccountAuditsEach(
  tx: SqlExecutor,
  actor: Actor,
  action: string,
  requestId: number,
  events: ReadonlyArray<{ accountId: number; detail: Record<string, unknown> }>,
): Promise<void> {
  if (events.length === 0) return;
  await tx.query(
    `INSERT INTO audit_events (actor_id, actor_name, action, request_id, account_id, detail)
     SELECT $1, $2, $3, $4, (event.value ->> 'account_id')::int, event.value -> 'detail'
     FROM jsonb_array_elements($5::jsonb) WITH ORDINALITY AS event (value, position) ORDER BY event.position`,
    [actor.id, actor.name, action, requestId, JSON.stringify(events.map((event) => ({ account_id: event.accountId, detail: event.detail })))],
  );
}

/** Who did what, when: every submission, decision and refusal. */
export class AuditLog {
  constructor(private readonly db: SqlDatabase) {}

  async record(actor: Actor, action: string, requestId: number | null, detail: Record<string, unknown> = {}): Promise<void> {
    await appendAudit(this.db, actor, action, requestId, null, detail);
  }

  /** One event, by the id appendAudit returned (a message about a change names the change's event). */
  async event(id: number): Promise<AuditEvent | null> {
    const [event] = await this.select('WHERE id = $1', [id]);
    return event ?? null;
  }

  async forRequest(requestId: number): Promise<AuditEvent[]> {
    return this.select('WHERE request_id = $1', [requestId]);
  }

  private async select(where: string, params: unknown[]): Promise<AuditEvent[]> {
    const rows = await this.db.query<{
      action: string;
      actor_id: string;
      actor_name: string;
      request_id: number | null;
      account_id: number | null;
      occurred_at: Date;
      detail: Record<string, unknown>;
    }>(`SELECT action, actor_id, actor_name, request_id, account_id, occurred_at, detail FROM audit_events ${where} ORDER BY id`, params);
    return rows.map((row) => ({
      action: row.action,
      actorId: row.actor_id,
      actorName: row.actor_name,
      requestId: row.request_id,
      accountId: row.account_id,
      occurredAt: row.occurred_at,
      detail: row.detail,
    }));
  }
}
