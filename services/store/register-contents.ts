import type { RegisterLedger } from '../reference/registers';
import type { SqlDatabase } from './database';

/** What the database remembers of each register content (migration 015): first seen, last put in use. Shared by every instance. */
export class RegisterContents implements RegisterLedger {
  constructor(private readonly db: SqlDatabase) {}

  async seen(register: string, sha256: string, at: Date): Promise<{ firstSeenAt: Date; isNew: boolean }> {
    // Two instances seeing a new file at once: one insert wins, and both read the same first_seen_at.
    const inserted = await this.db.query<{ first_seen_at: Date }>(
      `INSERT INTO register_contents (register, sha256, first_seen_at) VALUES ($1, $2, $3)
       ON CONFLICT (register, sha256) DO NOTHING RETURNING first_seen_at`,
      [register, sha256, at],
    );
    if (inserted[0]) return { firstSeenAt: new Date(inserted[0].first_seen_at), isNew: true };
    const [row] = await this.db.query<{ first_seen_at: Date }>('SELECT first_seen_at FROM register_contents WHERE register = $1 AND sha256 = $2', [
      register,
      sha256,
    ]);
    return { firstSeenAt: new Date(row?.first_seen_at ?? at), isNew: false };
  }

  async accepted(register: string, sha256: string, counts: { rows: number; skipped: number }, at: Date): Promise<void> {
    await this.db.query(
      `INSERT INTO register_contents (register, sha256, first_seen_at, accepted_at, usable_rows, skipped_rows) VALUES ($1, $2, $3, $3, $4, $5)
       ON CONFLICT (register, sha256) DO UPDATE SET accepted_at = EXCLUDED.accepted_at, usable_rows = EXCLUDED.usable_rows, skipped_rows = EXCLUDED.skipped_rows`,
      [register, sha256, at, counts.rows, counts.skipped],
    );
  }

  async lastAccepted(register: string): Promise<{ sha256: string; rows: number } | undefined> {
    const [row] = await this.db.query<{ sha256: string; usable_rows: number }>(
      'SELECT sha256, usable_rows FROM register_contents WHERE register = $1 AND accepted_at IS NOT NULL ORDER BY accepted_at DESC LIMIT 1',
      [register],
    );
    return row ? { sha256: row.sha256, rows: row.usable_rows } : undefined;
  }
}
