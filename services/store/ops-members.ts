import type { SqlDatabase } from './database';

/**
 * Teams refreshes a card automatically for at most 60 users named in refresh.userIds (in a
 * channel of more than 60 members; in a smaller one, for everyone). The ops card names the
 * members of NAS Operations most recently seen acting.
 * https://learn.microsoft.com/microsoftteams/platform/task-modules-and-cards/cards/universal-actions-for-adaptive-cards/user-specific-views
 */
export { REFRESH_USER_LIMIT } from '../model';
import { REFRESH_USER_LIMIT } from '../model';

/** Recency only orders who is named; an hour's staleness changes nothing that matters. */
const RECORD_AGAIN_AFTER_MS = 60 * 60_000;

export class OpsMembersSeen {
  private cached: { ids: string[]; at: number } | undefined;
  /** When this process last recorded each member: a click is not worth a write every time. */
  private readonly recorded = new Map<string, number>();

  constructor(private readonly db: SqlDatabase) {}

  async record(teamsUserId: string, aadObjectId: string): Promise<void> {
    const last = this.recorded.get(teamsUserId);
    if (last !== undefined && Date.now() - last < RECORD_AGAIN_AFTER_MS) return;
    if (this.recorded.size >= 1000) this.recorded.clear();
    this.recorded.set(teamsUserId, Date.now());
    await this.db.query(
      `INSERT INTO ops_members_seen (teams_user_id, aad_object_id) VALUES ($1, $2)
       ON CONFLICT (teams_user_id) DO UPDATE SET seen_at = now(), aad_object_id = EXCLUDED.aad_object_id`,
      [teamsUserId, aadObjectId],
    );
    this.cached = undefined;
  }

  /** The Teams ids to name in refresh.userIds; read at most once a minute. */
  async refreshUserIds(): Promise<string[]> {
    if (this.cached && Date.now() - this.cached.at < 60_000) return this.cached.ids;
    const rows = await this.db.query<{ teams_user_id: string }>('SELECT teams_user_id FROM ops_members_seen ORDER BY seen_at DESC LIMIT $1', [
      REFRESH_USER_LIMIT,
    ]);
    this.cached = { ids: rows.map((row) => row.teams_user_id), at: Date.now() };
    return this.cached.ids;
  }
}
