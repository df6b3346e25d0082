import { createHash } from 'node:crypto';
import { CHAT_REFUSED, wakeRecipientSql } from './outbox';
import type { SqlDatabase, SqlExecutor } from './database';

/** Since when, and why, Teams has refused a chat. */
export interface Unreachable {
  since: Date;
  /** What Teams answered: 403 (bot removed or blocked) or 404 (conversation gone). */
  status: number;
}

/** Stores reference $2 under key $1 when it is new, different, or the chat was marked refused (the mark is cleared); no RETURNING. */
const SAVE_SQL = `INSERT INTO conversation_references (key, reference) VALUES ($1, $2)
       ON CONFLICT (key) DO UPDATE SET reference = EXCLUDED.reference, updated_at = now(), unreachable_since = NULL, unreachable_status = NULL
         WHERE conversation_references.reference IS DISTINCT FROM EXCLUDED.reference OR conversation_references.unreachable_since IS NOT NULL`;

/**
 * saveChat as a routine: (key, reference, recipient, refused errors) -> (changed, woken). A new
 * chat's first turn runs it, so under load it runs as often as chats begin: as one statement the
 * insert and the outbox's wake were planned afresh on every call (most of its cost on PGlite,
 * whose CPU is the bot's), where PL/pgSQL keeps each statement's plan for the session
 * (https://www.postgresql.org/docs/current/plpgsql-implementation.html#PLPGSQL-PLAN-CACHING).
 * Its statements are the ones above and the outbox's own (wakeRecipientSql): written once, in
 * TypeScript; migrate() creates it at every start.
 */
const saveUserChatRoutine = (name: string) => `CREATE OR REPLACE FUNCTION ${name}(text, jsonb, text, text[], OUT changed boolean, OUT woken integer)
LANGUAGE plpgsql AS $routine$
BEGIN
  ${SAVE_SQL};
  changed := FOUND;
  woken := 0;
  IF changed THEN
    ${wakeRecipientSql('$3', '$4')};
    GET DIAGNOSTICS woken = ROW_COUNT;
  END IF;
END
$routine$`;
/**
 * The routine's name ends with a hash of its definition: builds running side by side (a rolling
 * deploy, an older command line against the same database) each create and call their own, and
 * none replaces another's under it. A definition no build uses any more stays, unused.
 */
const SAVE_USER_CHAT = `save_user_chat_${createHash('sha256').update(saveUserChatRoutine('save_user_chat')).digest('hex').slice(0, 12)}`;
export const SAVE_USER_CHAT_ROUTINE = saveUserChatRoutine(SAVE_USER_CHAT);

/**
 * The conversation_references table: where the bot may speak without being spoken to, by key,
 * and whether Teams has refused the chat. SQL and mapping only; the reference itself is the
 * Bot Framework's JSON, stored as given.
 */
export class ConversationReferenceRecords {
  constructor(private readonly db: SqlDatabase) {}

  /**
   * Stores the reference; true when it was new, different from what was stored, or the chat was
   * marked unreachable (an activity in it shows it is back, so the mark is cleared).
   */
  async save(key: string, referenceJson: string): Promise<boolean> {
    const [row] = await this.db.query<{ changed: boolean }>(`${SAVE_SQL} RETURNING true AS changed`, [key, referenceJson]);
    return row?.changed === true;
  }

  /**
   * save for a person's chat, and in the same statement (SAVE_USER_CHAT_ROUTINE), when the reference was new, changed or
   * marked refused, what waited for the chat is woken (the outbox's own wake, wakeRecipientSql):
   * the chat can never be stored as back while a refused outcome stays given up. `woken`: how many.
   */
  async saveChat(key: string, referenceJson: string, recipient: string): Promise<{ changed: boolean; woken: number }> {
    const [row] = await this.db.query<{ changed: boolean; woken: number }>(
      `SELECT changed, woken FROM ${SAVE_USER_CHAT}($1::text, $2::jsonb, $3::text, $4::text[])`,
      [key, referenceJson, recipient, CHAT_REFUSED],
    );
    return { changed: row?.changed === true, woken: row?.woken ?? 0 };
  }

  /** Marks the chat refused; true only for the call that marked it (compare-and-set on the mark). */
  async markUnreachable(key: string, status: number): Promise<boolean> {
    const rows = await this.db.query<{ key: string }>(
      `UPDATE conversation_references SET unreachable_since = now(), unreachable_status = $2 WHERE key = $1 AND unreachable_since IS NULL RETURNING key`,
      [key, status],
    );
    return rows.length > 0;
  }

  /** Clears the mark, inside the transaction that records a message Teams accepted in the chat. */
  static async markReachable(tx: SqlExecutor, key: string): Promise<void> {
    await tx.query('UPDATE conversation_references SET unreachable_since = NULL, unreachable_status = NULL WHERE key = $1 AND unreachable_since IS NOT NULL', [
      key,
    ]);
  }

  /** The reference and the chat's mark, in one read. */
  async reach<R>(key: string): Promise<{ reference: R; unreachable: Unreachable | null } | null> {
    const [row] = await this.db.query<{ reference: R; unreachable_since: Date | null; unreachable_status: number | null }>(
      'SELECT reference, unreachable_since, unreachable_status FROM conversation_references WHERE key = $1',
      [key],
    );
    if (!row) return null;
    return { reference: row.reference, unreachable: unreachableOf(row) };
  }

  async unreachable(key: string): Promise<Unreachable | null> {
    const [row] = await this.db.query<{ unreachable_since: Date | null; unreachable_status: number | null }>(
      'SELECT unreachable_since, unreachable_status FROM conversation_references WHERE key = $1',
      [key],
    );
    return row ? unreachableOf(row) : null;
  }

  async get<R>(key: string): Promise<R | null> {
    const [row] = await this.db.query<{ reference: R }>('SELECT reference FROM conversation_references WHERE key = $1', [key]);
    return row?.reference ?? null;
  }

  async delete(key: string): Promise<void> {
    await this.db.query('DELETE FROM conversation_references WHERE key = $1', [key]);
  }
}

function unreachableOf(row: { unreachable_since: Date | null; unreachable_status: number | null }): Unreachable | null {
  return row.unreachable_since ? { since: new Date(row.unreachable_since), status: row.unreachable_status ?? 0 } : null;
}
