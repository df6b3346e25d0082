import { createHash } from 'node:crypto';
import { CHAT_REFUSED, wakeRecipientSql } from './outbox';
import type { SqlDatabase, SqlExecutor } from './database';

/** Since when, and why, Teams has refused a chat. */
export interface Unreachable {
  since: Date;
  /** What Teams answered: 403 (bot removed or blocked) or 404 (conversation gone). */
  status: number;
}

/** Stores `reference` under `key` when it is new, different, or the chat was marked refused (the mark is cleared); no RETURNING. */
const saveSql = (key: string, reference: string) => `INSERT INTO conversation_references (key, reference) VALUES (${key}, ${reference})
       ON CONFLICT (key) DO UPDATE SET reference = EXCLUDED.reference, updated_at = now(), unreachable_since = NULL, unreachable_status = NULL
         WHERE conversation_references.reference IS DISTINCT FROM EXCLUDED.reference OR conversation_references.unreachable_since IS NOT NULL`;

/**
 * saveChat for many chats as a routine: (keys, references as one JSON array, recipients, refused
 * errors) -> a row (n, changed, woken) for each, n counting from 1. Each chat is its own save and
 * wake, one after another in the order given; together they are one transaction. A routine because new
 * chats' first turns run it as often as chats begin: PL/pgSQL keeps each statement's plan for the
 * session (https://www.postgresql.org/docs/current/plpgsql-implementation.html#PLPGSQL-PLAN-CACHING),
 * where a statement sent on its own was planned afresh on every call (most of its cost on PGlite,
 * whose CPU is the bot's). Its statements are the ones above and the outbox's own
 * (wakeRecipientSql): written once, in TypeScript; migrate() creates it at every start.
 */
const saveUserChatsRoutine = (name: string) => `CREATE OR REPLACE FUNCTION ${name}(keys text[], refs jsonb, recipients text[], refused text[])
RETURNS TABLE (n integer, changed boolean, woken integer)
LANGUAGE plpgsql AS $routine$
BEGIN
  -- One reference for each chat, or none is saved (a reference that was not one JSON value would shift the rest).
  IF jsonb_array_length(refs) <> coalesce(array_length(keys, 1), 0) THEN
    RAISE EXCEPTION 'save_user_chats: % references for % chats', jsonb_array_length(refs), coalesce(array_length(keys, 1), 0);
  END IF;
  FOR i IN 1 .. coalesce(array_length(keys, 1), 0) LOOP
    n := i;
    ${saveSql('keys[i]', 'refs -> (i - 1)')};
    changed := FOUND;
    woken := 0;
    IF changed THEN
      ${wakeRecipientSql('recipients[i]', 'refused')};
      GET DIAGNOSTICS woken = ROW_COUNT;
    END IF;
    RETURN NEXT;
  END LOOP;
END
$routine$`;
/**
 * The routine's name ends with a hash of its definition: builds running side by side (a rolling
 * deploy, an older command line against the same database) each create and call their own, and
 * none replaces another's under it. A definition no build uses any more stays, unused.
 */
const SAVE_USER_CHATS = `save_user_chats_${createHash('sha256').update(saveUserChatsRoutine('save_user_chats')).digest('hex').slice(0, 12)}`;
export const SAVE_USER_CHATS_ROUTINE = saveUserChatsRoutine(SAVE_USER_CHATS);
/**
 * Chats saved in one statement at most. PGlite runs a statement on the bot's own thread, holding
 * every turn while it runs: 25 chats take about 3 ms there (0.13 ms each, against 0.5 ms for a
 * chat saved alone), 100 about 13 ms.
 */
const CHAT_SAVES_AT_ONCE = 25;

interface ChatSave {
  key: string;
  referenceJson: string;
  recipient: string;
  resolve(saved: { changed: boolean; woken: number }): void;
  reject(error: unknown): void;
}

/**
 * The conversation_references table: where the bot may speak without being spoken to, by key,
 * and whether Teams has refused the chat. SQL and mapping only; the reference itself is the
 * Bot Framework's JSON, stored as given.
 */
export class ConversationReferenceRecords {
  /** Chat saves waiting to be written: for the end of the event loop's turn, or for the statement in flight (saveChat). */
  private readonly chatSaves: ChatSave[] = [];
  /** A write of chatSaves is due (at the end of this turn of the event loop) or in flight: a save asked for now joins it. */
  private writingChats = false;

  constructor(private readonly db: SqlDatabase) {}

  /**
   * Stores the reference; true when it was new, different from what was stored, or the chat was
   * marked unreachable (an activity in it shows it is back, so the mark is cleared).
   */
  async save(key: string, referenceJson: string): Promise<boolean> {
    const [row] = await this.db.query<{ changed: boolean }>(`${saveSql('$1', '$2')} RETURNING true AS changed`, [key, referenceJson]);
    return row?.changed === true;
  }

  /**
   * save for a person's chat, and in the same statement (SAVE_USER_CHATS_ROUTINE), when the reference was new, changed or
   * marked refused, what waited for the chat is woken (the outbox's own wake, wakeRecipientSql):
   * the chat can never be stored as back while a refused outcome stays given up. `woken`: how many.
   *
   * Saves asked for in the same moment, or while one is being written, go together in one statement
   * (group commit): fifty chats beginning together cost a few round trips, not fifty (on PGlite,
   * each its own share of the one connection and of the bot's CPU). A first save waits only for
   * the end of the event loop's turn (setImmediate), where the other requests Teams sent in the
   * same moment have reached it: written at once instead, each went alone (600 statements for 600
   * chats beginning 200 at a time in the turn bench; 24 this way, a third of the database's time).
   */
  saveChat(key: string, referenceJson: string, recipient: string): Promise<{ changed: boolean; woken: number }> {
    return new Promise((resolve, reject) => {
      this.chatSaves.push({ key, referenceJson, recipient, resolve, reject });
      if (this.writingChats) return;
      this.writingChats = true;
      setImmediate(() => void this.writeChatSaves());
    });
  }

  private async writeChatSaves(): Promise<void> {
    try {
      while (this.chatSaves.length > 0) {
        const saves = this.chatSaves.splice(0, CHAT_SAVES_AT_ONCE);
        await this.writeTogether(saves).catch(async (error: unknown) => {
          if (saves.length === 1) return saves[0]!.reject(error);
          // One chat's reference the database refuses (or a deadlock) fails the statement: each chat is written again on
          // its own, so only that chat's turn fails, as when each was saved alone.
          for (const save of saves) await this.writeTogether([save]).catch((alone: unknown) => save.reject(alone));
        });
      }
    } finally {
      this.writingChats = false;
    }
  }

  /** One statement for `saves`, in key order (instances saving the same chats lock their rows in one order, never a deadlock). */
  private async writeTogether(saves: ChatSave[]): Promise<void> {
    const ordered = [...saves].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    const rows = await this.db.query<{ n: number; changed: boolean; woken: number }>(
      `SELECT n, changed, woken FROM ${SAVE_USER_CHATS}($1::text[], $2::jsonb, $3::text[], $4::text[])`,
      [ordered.map((save) => save.key), `[${ordered.map((save) => save.referenceJson).join(',')}]`, ordered.map((save) => save.recipient), CHAT_REFUSED],
    );
    const byPlace = new Map(rows.map((row) => [Number(row.n), row]));
    ordered.forEach((save, index) => {
      const row = byPlace.get(index + 1);
      if (row) save.resolve({ changed: row.changed === true, woken: Number(row.woken) });
      else save.reject(new Error('the chat save answered no row for this chat'));
    });
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
