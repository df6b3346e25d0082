import type { Logger } from '../core/log';
import { OPEN_STATUSES } from './model';
import type { SqlDatabase } from './store/database';
import { enqueue, owed } from './store/outbox';
import { workingDaysElapsed } from './working-days';

export interface ChasePolicy {
  /** Undecided this many whole working days after submission (or after the last reminder): flag it. */
  afterWorkingDays: number;
}

interface OpenRequestRow {
  id: number;
  created_at: Date;
  last_chased_at: Date | null;
  chase_count: number;
}

/**
 * Flags requests NAS Operations have left undecided: once after the configured number of
 * working days, and again only if still undecided after the same period again. Each flag is
 * compare-and-set on the request's chase count and owes one message to the ops channel, so
 * two instances running this at once flag a request once.
 */
export class ChaseScheduler {
  constructor(
    private readonly db: SqlDatabase,
    private readonly holidays: ReadonlySet<string>,
    private readonly policy: ChasePolicy,
    private readonly logger: Logger,
  ) {}

  /** Flags what is due at `now`; returns how many requests were flagged. */
  async flagOverdue(now: Date = new Date()): Promise<number> {
    const open = await this.db.query<OpenRequestRow>(
      'SELECT id, created_at, last_chased_at, chase_count FROM transfer_requests WHERE status = ANY($1::text[]) ORDER BY id',
      [OPEN_STATUSES],
    );
    let flagged = 0;
    for (const request of open) {
      const since = request.last_chased_at ?? request.created_at;
      const waited = workingDaysElapsed(since, now, this.holidays);
      if (waited < this.policy.afterWorkingDays) continue;
      const total = workingDaysElapsed(request.created_at, now, this.holidays);
      const claimed = await this.db.transaction(async (tx) => {
        const [row] = await tx.query<{ id: number }>(
          `UPDATE transfer_requests SET last_chased_at = $3, chase_count = chase_count + 1 WHERE id = $1 AND chase_count = $2 AND status = ANY($4::text[]) RETURNING id`,
          [request.id, request.chase_count, now, OPEN_STATUSES],
        );
        if (!row) return false;
        const number = request.chase_count + 1;
        await enqueue(tx, owed.opsChase(request.id, number, total));
        return true;
      });
      if (claimed) flagged++;
    }
    const questionsChased = await this.chaseUnansweredQuestions(now);
    if (flagged + questionsChased > 0) this.logger.info('chase.flagged', { requests: flagged, questions: questionsChased });
    return flagged + questionsChased;
  }

  /** A question the requester has left unanswered for the same period is put to them once more; once only. */
  private async chaseUnansweredQuestions(now: Date): Promise<number> {
    const open = await this.db.query<{ id: number; request_id: number; asked_at: Date; requester_id: string }>(
      `SELECT q.id, q.request_id, q.asked_at, r.requester_id FROM request_questions q JOIN transfer_requests r ON r.id = q.request_id
       WHERE q.answered_at IS NULL AND q.chased_at IS NULL AND r.status NOT IN ('withdrawn', 'completed') ORDER BY q.id`,
    );
    let chased = 0;
    for (const question of open) {
      if (workingDaysElapsed(question.asked_at, now, this.holidays) < this.policy.afterWorkingDays) continue;
      const claimed = await this.db.transaction(async (tx) => {
        const [row] = await tx.query<{ id: number }>(
          'UPDATE request_questions SET chased_at = $2 WHERE id = $1 AND chased_at IS NULL AND answered_at IS NULL RETURNING id',
          [question.id, now],
        );
        if (!row) return false;
        await enqueue(tx, owed.questionChase(question.request_id, question.requester_id, question.id));
        return true;
      });
      if (claimed) chased++;
    }
    return chased;
  }
}
