import type { ConversationReference } from 'botbuilder';
import type { SqlDatabase } from '../../services/store/database';

/**
 * Where the bot may speak without being spoken to: each requester's personal chat and the
 * NAS Operations channel. Captured from inbound activities and kept in SQL, so that any
 * instance can deliver. A reference that has not changed is not written again: most turns
 * cost no write at all.
 */
export class ConversationReferences {
  /** What this process last wrote or read per key, to skip identical writes. */
  private readonly known = new Map<string, string>();

  constructor(private readonly db: SqlDatabase) {}

  static forUser(userId: string): string {
    return `user:${userId}`;
  }

  static readonly OPS_CHANNEL = 'ops-channel';

  /** Saves the reference; true when it was new or different from what was stored. */
  async save(key: string, reference: Partial<ConversationReference>): Promise<boolean> {
    const json = JSON.stringify(reference);
    if (this.known.get(key) === json) return false;
    const [row] = await this.db.query<{ changed: boolean }>(
      `INSERT INTO conversation_references (key, reference) VALUES ($1, $2)
       ON CONFLICT (key) DO UPDATE SET reference = EXCLUDED.reference, updated_at = now()
         WHERE conversation_references.reference IS DISTINCT FROM EXCLUDED.reference
       RETURNING true AS changed`,
      [key, json],
    );
    this.remember(key, json);
    return row?.changed === true;
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
    this.known.set(key, json);
  }
}
