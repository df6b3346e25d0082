import type { ConversationReference } from 'botbuilder';
import type { SqlDatabase } from './database';

/**
 * Where the bot may speak without being spoken to: each requester's personal chat and the
 * NAS Operations channel. Captured from inbound activities, kept in SQL so that any
 * instance can send the notification.
 */
export class ConversationReferences {
  constructor(private readonly db: SqlDatabase) {}

  static forUser(userId: string): string {
    return `user:${userId}`;
  }

  static readonly OPS_CHANNEL = 'ops-channel';

  async save(key: string, reference: Partial<ConversationReference>): Promise<void> {
    await this.db.query(
      `INSERT INTO conversation_references (key, reference) VALUES ($1, $2)
       ON CONFLICT (key) DO UPDATE SET reference = EXCLUDED.reference, updated_at = now()`,
      [key, JSON.stringify(reference)],
    );
  }

  async delete(key: string): Promise<void> {
    await this.db.query('DELETE FROM conversation_references WHERE key = $1', [key]);
  }

  async get(key: string): Promise<Partial<ConversationReference> | null> {
    const [row] = await this.db.query<{ reference: Partial<ConversationReference> }>('SELECT reference FROM conversation_references WHERE key = $1', [key]);
    return row?.reference ?? null;
  }
}
