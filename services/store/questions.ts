import { AppError } from '../../core/errors';
import type { Actor, RequestQuestion } from '../model';
import { appendAudit } from './audit';
import type { SqlDatabase } from './database';
import { dedupeKeys, enqueue } from './outbox';

export interface QuestionRow {
  id: number;
  asked_by_id: string;
  asked_by_name: string;
  question: string;
  asked_at: Date;
  answer: string | null;
  answered_at: Date | null;
}

/**
 * Questions NAS Operations put to the requester about a request, and the answers. Asking
 * owes the requester a message; answering owes the ops card its update and a reply in its
 * thread; both are audited.
 */
export class QuestionRepository {
  constructor(private readonly db: SqlDatabase) {}

  async ask(requestId: number, actor: Actor, question: string): Promise<number> {
    return this.db.transaction(async (tx) => {
      const [request] = await tx.query<{ requester_id: string; status: string }>('SELECT requester_id, status FROM transfer_requests WHERE id = $1 FOR UPDATE', [requestId]);
      if (!request) throw new AppError('REQUEST_NOT_FOUND');
      if (request.status === 'withdrawn' || request.status === 'completed') throw new AppError('INVALID_INPUT', `This request is ${request.status}: there is no one to ask.`);
      const [row] = await tx.query<{ id: number }>('INSERT INTO request_questions (request_id, asked_by_id, asked_by_name, question) VALUES ($1, $2, $3, $4) RETURNING id', [
        requestId,
        actor.id,
        actor.name,
        question,
      ]);
      const id = (row as { id: number }).id;
      await appendAudit(tx, actor, 'request.asked', requestId, null, { questionId: id, question });
      await enqueue(tx, { kind: 'question', dedupeKey: dedupeKeys.question(id), requestId, recipient: request.requester_id, payload: { questionId: id } });
      await enqueue(tx, { kind: 'ops.update', dedupeKey: dedupeKeys.opsUpdate(requestId), requestId });
      return id;
    });
  }

  /** The requester's answer to the oldest open question on their request. */
  async answer(requestId: number, requester: Actor, answer: string): Promise<RequestQuestion> {
    return this.db.transaction(async (tx) => {
      const [request] = await tx.query<{ requester_id: string }>('SELECT requester_id FROM transfer_requests WHERE id = $1 FOR UPDATE', [requestId]);
      if (!request) throw new AppError('REQUEST_NOT_FOUND');
      if (request.requester_id !== requester.id) throw new AppError('NOT_YOUR_REQUEST');
      const [open] = await tx.query<QuestionRow>(
        `UPDATE request_questions SET answer = $2, answered_at = now()
         WHERE id = (SELECT id FROM request_questions WHERE request_id = $1 AND answered_at IS NULL ORDER BY id LIMIT 1)
         RETURNING *`,
        [requestId, answer],
      );
      if (!open) throw new AppError('INVALID_INPUT', 'NAS Operations have no open question on that request.');
      await appendAudit(tx, requester, 'request.answered', requestId, null, { questionId: open.id, answer });
      await enqueue(tx, { kind: 'ops.update', dedupeKey: dedupeKeys.opsUpdate(requestId), requestId });
      // A card that changes in place is easy to miss: a reply in its thread tells NAS Operations.
      await enqueue(tx, { kind: 'ops.answer', dedupeKey: dedupeKeys.opsAnswer(open.id), requestId, payload: { questionId: open.id } });
      return toQuestion(open);
    });
  }

  async forRequest(requestId: number): Promise<RequestQuestion[]> {
    const rows = await this.db.query<QuestionRow>('SELECT * FROM request_questions WHERE request_id = $1 ORDER BY id', [requestId]);
    return rows.map(toQuestion);
  }

  async get(questionId: number): Promise<(RequestQuestion & { requestId: number }) | null> {
    const [row] = await this.db.query<QuestionRow & { request_id: number }>('SELECT * FROM request_questions WHERE id = $1', [questionId]);
    return row ? { ...toQuestion(row), requestId: row.request_id } : null;
  }
}

export function toQuestion(row: QuestionRow): RequestQuestion {
  return {
    id: row.id,
    askedBy: { id: row.asked_by_id, name: row.asked_by_name },
    question: row.question,
    askedAt: row.asked_at,
    answer: row.answer,
    answeredAt: row.answered_at,
  };
}
