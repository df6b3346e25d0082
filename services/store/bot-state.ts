import { AppError } from '../../core/errors';
import type { SqlDatabase } from './database';

/** A document as read, with its eTag. */
type StoredDocument = Record<string, unknown> & { eTag: string };
/** Documents by key: the shape of botbuilder's (and the Agents SDK's) StoreItems. */
type StoreItems = Record<string, unknown>;

/**
 * The bot's conversation state over SQL, so that any bot instance can take any turn and a
 * half-finished conversation survives a restart. It has the shape of botbuilder's Storage
 * (read, write, delete with eTags), so the bot uses it as one without the store knowing
 * botbuilder. eTags are row versions: a write that carries an out-of-date eTag is refused, as
 * botbuilder's own storages do.
 */
export class SqlStorage {
  constructor(private readonly db: SqlDatabase) {}

  async read(keys: string[]): Promise<Record<string, StoredDocument>> {
    if (keys.length === 0) return {};
    const rows = await this.db.query<{ key: string; document: Record<string, unknown>; etag: number }>(
      'SELECT key, document, etag FROM bot_state WHERE key = ANY($1::text[])',
      [keys],
    );
    const items: Record<string, StoredDocument> = {};
    for (const row of rows) items[row.key] = { ...row.document, eTag: String(row.etag) };
    return items;
  }

  async write(changes: StoreItems): Promise<void> {
    for (const [key, item] of Object.entries(changes)) {
      const { eTag, ...document } = (item ?? {}) as Record<string, unknown> & { eTag?: string };
      const newETag = eTag === undefined || eTag === '*' ? await this.upsert(key, document) : await this.replaceIfCurrent(key, document, eTag);
      if (item && typeof item === 'object') (item as { eTag?: string }).eTag = String(newETag);
    }
  }

  async delete(keys: string[]): Promise<void> {
    if (keys.length > 0) await this.db.query('DELETE FROM bot_state WHERE key = ANY($1::text[])', [keys]);
  }

  private async upsert(key: string, document: Record<string, unknown>): Promise<number> {
    const [row] = await this.db.query<{ etag: number }>(
      `INSERT INTO bot_state (key, document, etag) VALUES ($1, $2, 1)
       ON CONFLICT (key) DO UPDATE SET document = EXCLUDED.document, etag = bot_state.etag + 1, updated_at = now()
       RETURNING etag`,
      [key, JSON.stringify(document)],
    );
    return (row as { etag: number }).etag;
  }

  private async replaceIfCurrent(key: string, document: Record<string, unknown>, eTag: string): Promise<number> {
    const expected = Number(eTag);
    // Stored rows start at eTag 1, so an eTag below it ("not stored yet": DialogStateStore's 0) matches no row: the
    // write is the create alone, one round trip on a new chat's first turn instead of an UPDATE that finds nothing first.
    const [updated] =
      Number.isInteger(expected) && expected >= 1
        ? await this.db.query<{ etag: number }>(
            'UPDATE bot_state SET document = $2, etag = etag + 1, updated_at = now() WHERE key = $1 AND etag = $3 RETURNING etag',
            [key, JSON.stringify(document), expected],
          )
        : [];
    if (updated) return updated.etag;
    // A stale eTag for a key that no longer exists is a plain create, as in MemoryStorage.
    const [inserted] = await this.db.query<{ etag: number }>(
      'INSERT INTO bot_state (key, document, etag) VALUES ($1, $2, 1) ON CONFLICT (key) DO NOTHING RETURNING etag',
      [key, JSON.stringify(document)],
    );
    if (inserted) return inserted.etag;
    throw new AppError('STORAGE_CONFLICT');
  }
}
