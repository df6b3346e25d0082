import type { Logger } from '../core/log';
import { meets, REQUEST_CONDITIONS, requestAction } from './requests/lifecycle';
import { requestSql } from './requests/request-conditions';
import { RequestEnvelope, type WorkSignal } from './requests/request-envelope';
import type { SqlDatabase } from './store/database';
import { enqueue, owed } from './store/outbox';
import { claimQuestionChase, claimRequestChase } from './store/request-changes';
import { workingDaysElapsed } from './working-days';

const OPEN_SQL = requestSql(REQUEST_CONDITIONS.open);
/** Only questions on requests that can still be asked are read (the lifecycle's ask rule, compiled): a withdrawn or completed request's old question is never looked at again. */
const ASKABLE_SQL = requestSql(REQUEST_CONDITIONS.askable);
/** Reminders are the bot's own doing; the lifecycle is asked as for anyone. */
const BOT = { id: 'nas-transfer-bot' };

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
    /** Woken after a reminder is owed (the envelope's after-commit hook). */
    signal: WorkSignal,
  ) {
    this.envelope = new RequestEnvelope(db, signal);
  }

  private readonly envelope: RequestEnvelope;

  /** Flags what is due at `now`; returns how many requests were flagged. */
  async flagOverdue(now: Date = new Date()): Promise<number> {
    const open = await this.db.query<OpenRequestRow>(
      `SELECT r.id, r.created_at, r.last_chased_at, r.chase_count FROM transfer_requests r WHERE ${OPEN_SQL} ORDER BY r.id`,
    );
    let flagged = 0;
    for (const request of open) {
      const since = request.last_chased_at ?? request.created_at;
      const waited = workingDaysElapsed(since, now, this.holidays);
      if (waited < this.policy.afterWorkingDays) continue;
      const total = workingDaysElapsed(request.created_at, now, this.holidays);
      // Through the envelope: the request locked and still open (decided meanwhile: no reminder), compare-and-set on the count.
      const changed = await this.envelope.changeIfPresent(
        request.id,
        async (tx, locked) => {
          if (!meets(locked, 'open') || !(await claimRequestChase(tx, request.id, request.chase_count, now))) return false;
          await enqueue(tx, owed.opsChase(request.id, request.chase_count + 1, total));
          return true;
        },
        { cardUpdate: false },
      );
      if (changed.found && changed.result) flagged++;
    }
    const questionsChased = await this.chaseUnansweredQuestions(now);
    if (flagged + questionsChased > 0) this.logger.info('chase.flagged', { requests: flagged, questions: questionsChased });
    return flagged + questionsChased;
  }

  /** A question the requester has left unanswered for the same period is put to them once more; once only. */
  private async chaseUnansweredQuestions(now: Date): Promise<number> {
    const open = await this.db.query<{ id: number; request_id: number; asked_at: Date; requester_id: string }>(
      `SELECT q.id, q.request_id, q.asked_at, r.requester_id FROM request_questions q JOIN transfer_requests r ON r.id = q.request_id
       WHERE q.answered_at IS NULL AND q.chased_at IS NULL AND ${ASKABLE_SQL} ORDER BY q.id`,
    );
    let chased = 0;
    for (const question of open) {
      if (workingDaysElapsed(question.asked_at, now, this.holidays) < this.policy.afterWorkingDays) continue;
      // A question is put again only while NAS Operations could ask it (the lifecycle's own rule).
      const changed = await this.envelope.changeIfPresent(
        question.request_id,
        async (tx, request) => {
          if (!requestAction(request, 'ask', BOT).allowed || !(await claimQuestionChase(tx, question.id, now))) return false;
          await enqueue(tx, owed.questionChase(question.request_id, question.requester_id, question.id));
          return true;
        },
        { cardUpdate: false },
      );
      const claimed = changed.found && changed.result;
      if (claimed) chased++;
    }
    return chased;
  }
}
