import type { ConversationReference } from 'botbuilder';
import { formatTime } from '../../services/model';
import type { SqlDatabase, SqlExecutor } from '../../services/store/database';

/**
 * Where the bot may speak without being spoken to: each requester's personal chat and the
 * NAS Operations channel. Captured from inbound activities and kept in SQL, so that any
 * instance can deliver. A reference that has not changed is not written again: most turns
 * cost no write at all.
 */
export interface Unreachable {
  since: Date;
  /** What Teams answered: 403 (bot removed or blocked) or 404 (conversation gone). */
  status: number;
}

/**
 * How long this process trusts its memory that a reference is stored unchanged. Another
 * instance may mark the chat unreachable meanwhile; after this, the next activity in the chat
 * goes to the database again, and clears the mark.
 */
const KNOWN_FOR_MS = 60_000;

export class ConversationReferences {
  /** What this process last wrote or read per key, and when, to skip identical writes. */
  private readonly known = new Map<string, { json: string; at: number }>();

  constructor(
    private readonly db: SqlDatabase,
    private readonly now: () => number = Date.now,
  ) {}

  static forUser(userId: string): string {
    return `user:${userId}`;
  }

  static readonly OPS_CHANNEL = 'ops-channel';

  /**
   * Saves the reference; true when it was new, different from what was stored, or marked
   * unreachable (the chat is evidently back). `recheck` goes to the database even when this
   * process remembers the same reference: for the activity that says the bot was added again.
   */
  async save(key: string, reference: Partial<ConversationReference>, recheck = false): Promise<boolean> {
    const json = JSON.stringify(reference);
    const known = this.known.get(key);
    if (!recheck && known?.json === json && this.now() - known.at < KNOWN_FOR_MS) return false;
    const [row] = await this.db.query<{ changed: boolean }>(
      `INSERT INTO conversation_references (key, reference) VALUES ($1, $2)
       ON CONFLICT (key) DO UPDATE SET reference = EXCLUDED.reference, updated_at = now(), unreachable_since = NULL, unreachable_status = NULL
         WHERE conversation_references.reference IS DISTINCT FROM EXCLUDED.reference OR conversation_references.unreachable_since IS NOT NULL
       RETURNING true AS changed`,
      [key, json],
    );
    this.remember(key, json);
    return row?.changed === true;
  }

  /**
   * Teams refused the chat for good. The reference is kept (the same chat usually comes back
   * when the bot is added again); true only for the call that marked it, so the outage is
   * logged and told once.
   */
  async markUnreachable(key: string, status: number): Promise<boolean> {
    this.known.delete(key);
    const rows = await this.db.query<{ key: string }>(
      `UPDATE conversation_references SET unreachable_since = now(), unreachable_status = $2 WHERE key = $1 AND unreachable_since IS NULL RETURNING key`,
      [key, status],
    );
    return rows.length > 0;
  }

  /** The reference and whether Teams has refused the chat, in one read. */
  async reach(key: string): Promise<{ reference: Partial<ConversationReference>; unreachable: Unreachable | null } | null> {
    const [row] = await this.db.query<{ reference: Partial<ConversationReference>; unreachable_since: Date | null; unreachable_status: number | null }>(
      'SELECT reference, unreachable_since, unreachable_status FROM conversation_references WHERE key = $1',
      [key],
    );
    if (!row) return null;
    return {
      reference: row.reference,
      unreachable: row.unreachable_since ? { since: new Date(row.unreachable_since), status: row.unreachable_status ?? 0 } : null,
    };
  }

  /** Teams accepted a message in the chat (inside the settling transaction): whatever mark it had is stale. */
  static async markReachable(tx: SqlExecutor, key: string): Promise<void> {
    await tx.query('UPDATE conversation_references SET unreachable_since = NULL, unreachable_status = NULL WHERE key = $1 AND unreachable_since IS NOT NULL', [
      key,
    ]);
  }

  /** The ops channel's problem in words for NAS Operations (pending, /readyz), or null while Teams accepts it. */
  async opsChannelProblem(): Promise<string | null> {
    const unreachable = await this.unreachable(ConversationReferences.OPS_CHANNEL);
    if (!unreachable) return null;
    const why = unreachable.status === 404 ? 'the channel no longer exists' : 'the bot was removed from the team or blocked';
    return `Teams has refused the NAS Operations channel since ${formatTime(unreachable.since)} (${why}): new request cards are held and will be posted as soon as the bot is added back to the channel.`;
  }

  /** Since when, and why, Teams has refused the chat; null while it is reachable. */
  async unreachable(key: string): Promise<Unreachable | null> {
    const [row] = await this.db.query<{ unreachable_since: Date | null; unreachable_status: number | null }>(
      'SELECT unreachable_since, unreachable_status FROM conversation_references WHERE key = $1',
      [key],
    );
    return row?.unreachable_since ? { since: new Date(row.unreachable_since), status: row.unreachable_status ?? 0 } : null;
  }

  async delete(key: string): Promise<void> {
    this.known.delete(key);
    await this.db.query('DELETE FROM conversation_references WHERE key = $1', [key]);
  }

  async get(key: string): Promise<Partial<ConversationReference> | null> {
    const [row] = await this.db.query<{ reference: Partial<ConversationReference> }>('SELECT reference FROM conversation_references WHERE key = $1', [key]);
    return row?.reference ?? null;
  }

  private remember(key: string, json: string): void {
    // Bounded: a process meets many users over its life; forgetting one only costs a write.
    if (this.known.size >= 10_000) this.known.clear();
    this.known.set(key, { json, at: this.now() });
  }
}
